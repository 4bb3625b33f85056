/* Unit tests for core/rand.c: tokens of the length asked, hex only, and
 * fresh bytes on each side of a pool refill.
 */
#include <stdint.h>
#include <string.h>

#include "core/rand.h"
#include "tests/unit/check.h"

static int
all_hex(const char *s)
{
	return s[strspn(s, "0123456789abcdef")] == '\0';
}

static void
test_token(void)
{
	char a[17], b[17], odd[6], big[40], none[1] = { 'x' };

	rand_token(a, sizeof(a));
	rand_token(b, sizeof(b));
	CHECK_INT(strlen(a), 16);
	CHECK(all_hex(a) && all_hex(b));
	CHECK(strcmp(a, b) != 0);
	rand_token(odd, sizeof(odd));
	CHECK_INT(strlen(odd), 5);
	CHECK(all_hex(odd));
	/* At most 32 digits, whatever the room. */
	rand_token(big, sizeof(big));
	CHECK_INT(strlen(big), 32);
	rand_token(none, sizeof(none));
	CHECK_INT(none[0], '\0');
}

/* 4096 bytes are read at once: draw across two refills and check that
 * no 16-byte block repeats and no block is all zero (a wiped byte handed
 * out again would be).
 */
static void
test_refill(void)
{
	static uint8_t blk[600][16];
	const uint8_t zero[16] = { 0 };
	unsigned int i, j, repeats = 0, zeros = 0;

	for (i = 0; i < 600; i++)
		rand_bytes(blk[i], sizeof(blk[i]));
	for (i = 0; i < 600; i++) {
		zeros += memcmp(blk[i], zero, sizeof(zero)) == 0;
		for (j = i + 1; j < 600; j++)
			repeats += memcmp(blk[i], blk[j], sizeof(blk[i])) == 0;
	}
	CHECK_INT(zeros, 0);
	CHECK_INT(repeats, 0);
}

int
main(void)
{
	test_token();
	test_refill();
	return CHECK_DONE();
}
