/* Random bytes and hex tokens for SIP tags, branches, SSRCs and RTP
 * bases: see rand.h.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#include "core/log.h"
#include "core/rand.h"

#define RANDOM_POOL_BYTES	4096	/* getrandom() read at once */

/* Read from the kernel's CSPRNG RANDOM_POOL_BYTES at a time rather than
 * with a system call each.  Every byte is handed out once and wiped as it is, so a tag is as unguessable
 * as a getrandom() call of its own would make it (RFC 3261 section 19.3
 * wants tags cryptographically random, section 8.1.1.7 branches unique);
 * what stays in the pool is never sent. */
static uint8_t random_pool[RANDOM_POOL_BYTES];
static size_t random_left;

static int
random_refill(void)
{
	ssize_t got = getrandom(random_pool, sizeof(random_pool), 0);

	if (got != (ssize_t)sizeof(random_pool)) {
		LOG_AT(LOGL_ERR, "rand", "getrandom(%zu) failed: %s",
		       sizeof(random_pool), got < 0 ? strerror(errno)
						    : "short read");
		return -EIO;
	}
	random_left = sizeof(random_pool);
	return 0;
}

void
rand_bytes(void *p, size_t n)
{
	uint8_t *out = p, *from;
	size_t k;

	while (n > 0) {
		if (random_left == 0 && random_refill() < 0)
			return;
		k = n < random_left ? n : random_left;
		from = random_pool + sizeof(random_pool) - random_left;
		memcpy(out, from, k);
		explicit_bzero(from, k);
		random_left -= k;
		out += k;
		n -= k;
	}
}

/* cap - 1 hex digits of fresh randomness (16 in a 17-byte tag: 64 bits,
 * twice the 32 that RFC 3261 section 19.3 asks for). */
void
rand_token(char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t r[16];
	size_t i, digits = cap > 0 ? cap - 1 : 0;

	if (digits > 2 * sizeof(r))
		digits = 2 * sizeof(r);
	rand_bytes(r, (digits + 1) / 2);
	for (i = 0; i < digits; i++)
		out[i] = hex[(r[i / 2] >> (4 * (i & 1))) & 15];
	if (cap > 0)
		out[i] = '\0';
}
