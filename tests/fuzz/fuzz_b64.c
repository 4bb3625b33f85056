/* libFuzzer target for the streaming base64 decoder (core/b64.c), a
 * differential check: the first input byte picks where the rest is split
 * in two, as two reads from the IMAP server would split it, and decoding
 * the two pieces in turn must give exactly what decoding it in one call
 * gives: the same bytes and the same ending, or the same offending byte
 * at the same offset.
 */
#include "core/b64.h"
#include "tests/fuzz/fuzz.h"

struct result {
	uint8_t *out;
	size_t len;		/* bytes decoded */
	int rc;			/* -1 on a bad byte, else b64_finish() */
	struct b64_dec d;
};

/* Decodes in[0, n) in one piece, into a block of exactly the room
 * b64_decoded_max() promises is enough; appends to r->out.
 */
static int
feed(struct result *r, const char *in, size_t n)
{
	size_t cap = b64_decoded_max(n);
	uint8_t *o = malloc(cap);
	ssize_t got;

	FUZZ_CHECK(o != NULL);
	got = b64_decode(&r->d, in, n, o);
	if (got >= 0) {
		FUZZ_CHECK((size_t)got <= cap);
		r->out = realloc(r->out, r->len + (size_t)got + 1);
		FUZZ_CHECK(r->out != NULL);
		memcpy(r->out + r->len, o, (size_t)got);
		r->len += (size_t)got;
	}
	free(o);
	return got < 0 ? -1 : 0;
}

static void
decode(struct result *r, const char *in, size_t n, size_t split)
{
	memset(r, 0, sizeof(*r));
	b64_init(&r->d);
	if (feed(r, in, split) != 0 || feed(r, in + split, n - split) != 0)
		r->rc = -1;
	else
		r->rc = b64_finish(&r->d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct result whole, parts;
	char *in;
	size_t n, split;

	if (size == 0)
		return 0;
	n = size - 1;
	split = data[0] % (n + 1);
	in = fuzz_copy(data + 1, n);

	decode(&whole, in, n, n);
	decode(&parts, in, n, split);
	FUZZ_CHECK(whole.rc == parts.rc);
	if (whole.rc == -1) {
		/* what came before the bad byte is not compared: the first
		 * piece's bytes were already handed over */
		if (whole.d.err_offset != parts.d.err_offset ||
		    whole.d.err_byte != parts.d.err_byte) {
			fprintf(stderr, "split at %zu of %zu: bad byte 0x%02x "
				"at %llu, then 0x%02x at %llu\n", split, n,
				whole.d.err_byte,
				(unsigned long long)whole.d.err_offset,
				parts.d.err_byte,
				(unsigned long long)parts.d.err_offset);
			abort();
		}
	} else if (whole.len != parts.len ||
		   (whole.len && memcmp(whole.out, parts.out, whole.len))) {
		fprintf(stderr, "split at %zu of %zu: %zu bytes, then %zu\n",
			split, n, whole.len, parts.len);
		abort();
	}
	/* whole quanta and at most two bytes from a padded one */
	FUZZ_CHECK(whole.len <= n / 4 * 3 + 2);
	free(whole.out);
	free(parts.out);
	free(in);
	return 0;
}
