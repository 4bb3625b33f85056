/* Unit test of the base64 decoder's implementations: one named on the
 * command line (scalar, ssse3, avx2; all the CPU has when none is named)
 * must decode random data of every length up to 4096, encoded with every
 * line-break style and fed in random pieces, to the bytes that were
 * encoded and that OpenSSL's decoder gives; and must stop on a bad byte at
 * the offset the scalar decoder reports.  Exits 77 when the CPU lacks the
 * implementation named.
 */
#include <stdint.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "core/b64.h"
#include "tests/unit/check.h"
#include "tests/unit/guard.h"

#define MAX_LEN		4096
#define MAX_PIECES	8

enum style {
	STYLE_NONE,		/* one line */
	STYLE_MIME,		/* 76 columns, CRLF (RFC 2045 6.8) */
	STYLE_PEM,		/* 64 columns, LF (RFC 7468) */
	STYLE_SPACES,		/* spaces and tabs anywhere, quanta too */
	STYLE_COUNT
};

static const char *const style_names[STYLE_COUNT] = {
	"none", "crlf76", "lf64", "spaces",
};

static const char b64_alpha[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* xorshift64*: the same sequence on every run, so a failure repeats */
static uint32_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

/* Appends one encoded character, then what the style puts after it. */
static size_t
put(char *out, size_t o, char c, enum style st, size_t *col)
{
	out[o++] = c;
	(*col)++;
	if (st == STYLE_MIME && *col == 76) {
		out[o++] = '\r';
		out[o++] = '\n';
		*col = 0;
	} else if (st == STYLE_PEM && *col == 64) {
		out[o++] = '\n';
		*col = 0;
	} else if (st == STYLE_SPACES) {
		while (rng() % 8 == 0)
			out[o++] = rng() & 1 ? ' ' : '\t';
	}
	return o;
}

/* Encodes in[0, n) in the given style; out holds enc_max(n) bytes. */
static size_t
encode(const uint8_t *in, size_t n, char *out, enum style st)
{
	size_t i, o = 0, col = 0;

	for (i = 0; i < n; i += 3) {
		size_t k = n - i < 3 ? n - i : 3;
		uint32_t q = (uint32_t)in[i] << 16;

		if (k > 1)
			q |= (uint32_t)in[i + 1] << 8;
		if (k > 2)
			q |= in[i + 2];
		o = put(out, o, b64_alpha[q >> 18 & 63], st, &col);
		o = put(out, o, b64_alpha[q >> 12 & 63], st, &col);
		o = put(out, o, k > 1 ? b64_alpha[q >> 6 & 63] : '=', st, &col);
		o = put(out, o, k > 2 ? b64_alpha[q & 63] : '=', st, &col);
	}
	if ((st == STYLE_MIME || st == STYLE_PEM) && col != 0) {
		if (st == STYLE_MIME)
			out[o++] = '\r';
		out[o++] = '\n';
	}
	return o;
}

/* Room for the longest encoding: spaces average 1/7 per character */
static size_t
enc_max(size_t n)
{
	return (n + 2) / 3 * 4 * 4 + 16;
}

struct result {
	size_t len;
	int rc;			/* -1 bad byte, -2 bad end, 0 fine */
	struct b64_dec d;
};

/* Decodes enc in up to MAX_PIECES random pieces, each in a heap block of
 * its exact size, into blocks of exactly the room b64_decoded_max()
 * promises, so that AddressSanitizer catches a read or write past either.
 */
static void
decode_pieces(enum b64_impl impl, const char *enc, size_t n, uint8_t *out,
	      struct result *r)
{
	size_t at = 0, pieces = 1 + rng() % MAX_PIECES;
	ssize_t got;

	memset(r, 0, sizeof(*r));
	b64_init(&r->d);
	for (; pieces > 0; pieces--) {
		size_t k = pieces <= 1 ? n - at : rng() % (n - at + 1);
		char *in = malloc(k ? k : 1);
		uint8_t *o = malloc(b64_decoded_max(k));

		memcpy(in, enc + at, k);
		got = b64_decode_impl(impl, &r->d, in, k, o);
		if (got > 0)
			memcpy(out + r->len, o, (size_t)got);
		free(in);
		free(o);
		if (got < 0) {
			r->rc = -1;
			return;
		}
		r->len += (size_t)got;
		at += k;
	}
	r->rc = b64_finish(&r->d) == 0 ? 0 : -2;
}

/* OpenSSL's decoder on the same text, in one piece. */
static int
decode_openssl(const char *enc, size_t n, uint8_t *out, size_t *len)
{
	EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
	int a = 0, b = 0, rc = -1;

	if (ctx == NULL)
		abort();
	EVP_DecodeInit(ctx);
	if (EVP_DecodeUpdate(ctx, out, &a, (const unsigned char *)enc,
			     (int)n) >= 0 &&
	    EVP_DecodeFinal(ctx, out + a, &b) == 1)
		rc = 0;
	EVP_ENCODE_CTX_free(ctx);
	*len = (size_t)a + (size_t)b;
	return rc;
}

/* The whole text in one call from the end of a guard page: a vector load
 * past the input would fault.
 */
static void
check_guarded(enum b64_impl impl, const char *enc, size_t n,
	      const uint8_t *src, size_t len, uint8_t *out)
{
	struct guard_buf g;
	struct b64_dec d;
	ssize_t got;

	b64_init(&d);
	got = b64_decode_impl(impl, &d, guard_copy(&g, enc, n), n, out);
	guard_free(&g);
	CHECK_INT(got, len);
	CHECK(got < 0 || memcmp(out, src, len) == 0);
	CHECK_INT(b64_finish(&d), 0);
}

static void
check_valid(enum b64_impl impl, const uint8_t *src, size_t len,
	    enum style st, char *enc, uint8_t *out)
{
	size_t n = encode(src, len, enc, st), olen;
	struct result r;

	if (decode_openssl(enc, n, out, &olen) != 0 || olen != len ||
	    memcmp(out, src, len) != 0) {
		fprintf(stderr, "openssl: length %zu, %s: differs\n", len,
			style_names[st]);
		check_failures++;
	}
	decode_pieces(impl, enc, n, out, &r);
	if (r.rc != 0 || r.len != len || memcmp(out, src, len) != 0 ||
	    r.d.offset != n) {
		fprintf(stderr, "%s: length %zu, %s: rc %d, %zu bytes\n",
			b64_impl_name(impl), len, style_names[st], r.rc,
			r.len);
		check_failures++;
	}
	if (len % 512 == 0 || len < 64)
		check_guarded(impl, enc, n, src, len, out);
}

/* Bytes that are neither alphabet nor white space, '=' too. */
static uint8_t
bad_byte(void)
{
	static const char some[] = "=!-_.:*\"\\@[`{~\x7f";
	uint8_t c;

	if (rng() % 2)
		return (uint8_t)some[rng() % (sizeof(some) - 1)];
	do
		c = (uint8_t)rng();
	while (c == ' ' || (c >= 0x09 && c <= 0x0d) ||
	       (c != 0 && strchr(b64_alpha, c) != NULL));
	return c;
}

/* One bad byte put anywhere: the implementation, fed in pieces, must stop
 * where the scalar decoder stops in one call, or end as it ends (a '='
 * may land where padding is legal).
 */
static void
check_invalid(enum b64_impl impl, const uint8_t *src, size_t len,
	      enum style st, char *enc, uint8_t *out)
{
	size_t n = encode(src, len, enc, st);
	struct result want, got;

	if (n == 0)
		return;
	enc[rng() % n] = (char)bad_byte();
	decode_pieces(B64_IMPL_SCALAR, enc, n, out, &want);
	decode_pieces(impl, enc, n, out, &got);
	if (got.rc != want.rc || (want.rc == -1 &&
	    (got.d.err_offset != want.d.err_offset ||
	     got.d.err_byte != want.d.err_byte))) {
		fprintf(stderr, "%s: length %zu, %s: rc %d at %llu, "
			"scalar rc %d at %llu\n", b64_impl_name(impl), len,
			style_names[st], got.rc,
			(unsigned long long)got.d.err_offset, want.rc,
			(unsigned long long)want.d.err_offset);
		check_failures++;
	}
}

static void
test_impl(enum b64_impl impl)
{
	uint8_t *src = malloc(MAX_LEN), *out = malloc(MAX_LEN + 64);
	char *enc = malloc(enc_max(MAX_LEN));
	size_t len, i;
	int st;

	for (i = 0; i < MAX_LEN; i++)
		src[i] = (uint8_t)rng();
	for (len = 0; len <= MAX_LEN; len++) {
		for (st = 0; st < STYLE_COUNT; st++) {
			check_valid(impl, src, len, st, enc, out);
			check_invalid(impl, src, len, st, enc, out);
		}
	}
	free(src);
	free(out);
	free(enc);
}

int
main(int argc, char **argv)
{
	int i, named = -1;

	for (i = 0; argc > 1 && i < B64_IMPL_COUNT; i++)
		if (strcmp(argv[1], b64_impl_name(i)) == 0)
			named = i;
	if (argc > 1 && named < 0) {
		fprintf(stderr, "usage: %s [scalar|ssse3|avx2]\n", argv[0]);
		return 1;
	}
	if (named >= 0 && !b64_impl_supported(named)) {
		printf("%s: not on this CPU\n", argv[1]);
		return 77;
	}

	for (i = 0; i < B64_IMPL_COUNT; i++) {
		if ((named >= 0 && i != named) || !b64_impl_supported(i))
			continue;
		printf("%s\n", b64_impl_name(i));
		test_impl(i);
	}
	return CHECK_DONE();
}
