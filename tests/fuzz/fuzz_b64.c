/* libFuzzer target for the streaming base64 decoder (core/b64.c), a
 * differential check: the first input byte picks where the rest is split
 * in two, as two reads from the IMAP server would split it, and every
 * implementation the CPU has, fed the two pieces in turn or the whole in
 * one call, must give exactly what the scalar decoder gives in one call:
 * the same bytes and the same ending, or the same offending byte at the
 * same offset.
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
feed(struct result *r, enum b64_impl impl, const char *in, size_t n)
{
	size_t cap = b64_decoded_max(n);
	uint8_t *o = malloc(cap);
	ssize_t got;

	FUZZ_CHECK(o != NULL);
	got = b64_decode_impl(impl, &r->d, in, n, o);
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
decode(struct result *r, enum b64_impl impl, const char *in, size_t n,
       size_t split)
{
	memset(r, 0, sizeof(*r));
	b64_init(&r->d);
	if (feed(r, impl, in, split) != 0 ||
	    feed(r, impl, in + split, n - split) != 0)
		r->rc = -1;
	else
		r->rc = b64_finish(&r->d);
}

/* Aborts unless got, decoded by impl split at split, is what want (the
 * scalar decoder in one call) is.
 */
static void
compare(const struct result *want, const struct result *got,
	enum b64_impl impl, size_t n, size_t split)
{
	FUZZ_CHECK(want->rc == got->rc);
	if (want->rc == -1) {
		/* what came before the bad byte is not compared: the first
		 * piece's bytes were already handed over */
		if (want->d.err_offset != got->d.err_offset ||
		    want->d.err_byte != got->d.err_byte) {
			fprintf(stderr, "%s, split at %zu of %zu: bad byte "
				"0x%02x at %llu, scalar 0x%02x at %llu\n",
				b64_impl_name(impl), split, n,
				got->d.err_byte,
				(unsigned long long)got->d.err_offset,
				want->d.err_byte,
				(unsigned long long)want->d.err_offset);
			abort();
		}
	} else if (want->len != got->len ||
		   (want->len && memcmp(want->out, got->out, want->len))) {
		fprintf(stderr, "%s, split at %zu of %zu: %zu bytes, scalar "
			"%zu\n", b64_impl_name(impl), split, n, got->len,
			want->len);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct result whole, other;
	char *in;
	size_t n, split;
	int impl;

	if (size == 0)
		return 0;
	n = size - 1;
	split = data[0] % (n + 1);
	in = fuzz_copy(data + 1, n);

	decode(&whole, B64_IMPL_SCALAR, in, n, n);
	for (impl = 0; impl < B64_IMPL_COUNT; impl++) {
		if (!b64_impl_supported(impl))
			continue;
		decode(&other, impl, in, n, split);
		compare(&whole, &other, impl, n, split);
		free(other.out);
		decode(&other, impl, in, n, n);
		compare(&whole, &other, impl, n, n);
		free(other.out);
	}
	/* whole quanta and at most two bytes from a padded one */
	FUZZ_CHECK(whole.len <= n / 4 * 3 + 2);
	free(whole.out);
	free(in);
	return 0;
}
