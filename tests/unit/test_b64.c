/* Unit test of the streaming base64 decoder: RFC 4648 section 10 vectors,
 * MIME-formatted input split at every byte, padding rules, and the offset
 * reported for a bad byte.  Inputs sit at the end of a guard page.
 */
#include <stdint.h>
#include <stdlib.h>

#include "core/b64.h"
#include "tests/unit/check.h"
#include "tests/unit/guard.h"

static const char b64_alpha[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Reference encoder, as MIME writes it: 76-column lines, each ended by
 * CRLF, the last one too (RFC 2045 section 6.8).
 */
static size_t
enc_mime(const uint8_t *in, size_t n, char *out)
{
	size_t i, o = 0, col = 0;

	for (i = 0; i < n; i += 3) {
		uint32_t q = (uint32_t)in[i] << 16;
		size_t k = n - i < 3 ? n - i : 3;

		if (k > 1)
			q |= (uint32_t)in[i + 1] << 8;
		if (k > 2)
			q |= in[i + 2];
		out[o++] = b64_alpha[q >> 18 & 63];
		out[o++] = b64_alpha[q >> 12 & 63];
		out[o++] = k > 1 ? b64_alpha[q >> 6 & 63] : '=';
		out[o++] = k > 2 ? b64_alpha[q & 63] : '=';
		col += 4;
		if (col == 76 || i + 3 >= n) {
			out[o++] = '\r';
			out[o++] = '\n';
			col = 0;
		}
	}
	return o;
}

/* Decodes s in one call from a guard page; returns the decoder's verdict
 * (-1 bad byte, -2 bad ending) and the bytes through out/outlen.
 */
static int
dec_all(const char *s, size_t n, uint8_t *out, size_t *outlen,
	struct b64_dec *d)
{
	struct guard_buf g;
	ssize_t r;

	b64_init(d);
	r = b64_decode(d, guard_copy(&g, s, n), n, out);
	guard_free(&g);
	if (r < 0)
		return -1;
	*outlen = (size_t)r;
	return b64_finish(d) == 0 ? 0 : -2;
}

static void
check_dec(const char *s, const char *want)
{
	uint8_t out[256];
	struct b64_dec d;
	size_t n = 0;

	CHECK_INT(dec_all(s, strlen(s), out, &n, &d), 0);
	CHECK_STRN((const char *)out, n, want);
}

static void
check_bad(const char *s, int want, uint64_t off)
{
	uint8_t out[256];
	struct b64_dec d;
	size_t n;

	CHECK_INT(dec_all(s, strlen(s), out, &n, &d), want);
	if (want == -1) {
		CHECK_INT(d.err_offset, off);
		CHECK_INT(d.err_byte, (uint8_t)s[off]);
	}
}

static void
test_rfc4648_vectors(void)
{
	check_dec("", "");
	check_dec("Zg==", "f");
	check_dec("Zm8=", "fo");
	check_dec("Zm9v", "foo");
	check_dec("Zm9vYg==", "foob");
	check_dec("Zm9vYmE=", "fooba");
	check_dec("Zm9vYmFy", "foobar");
}

static void
test_padding(void)
{
	check_dec("Zg==\r\n", "f");
	check_dec("Zg= =", "f");
	check_dec("Zg=\r\n=\r\n", "f");
	check_dec(" \tZm\v9v\fYg == ", "foob");
	check_dec("Zh==", "f");		/* stray pad bits: MIME leniency */
	check_bad("Zg=", -2, 0);
	check_bad("Zg", -2, 0);
	check_bad("Zm9vY", -2, 0);
	check_bad("Zm9vYmE", -2, 0);
	check_bad("=", -1, 0);
	check_bad("Zm9v=", -1, 4);
	check_bad("Z===", -1, 1);
	check_bad("Zm8==", -1, 4);
	check_bad("Zg===", -1, 4);
	check_bad("AB=C", -1, 3);
	check_bad("Zg==Zg==", -1, 4);
	check_bad("Zg== \r\nZ", -1, 7);
}

static void
test_bad_bytes(void)
{
	uint8_t out[64];
	struct b64_dec d;
	size_t n;
	ssize_t r;

	check_bad("Zm9v!Zm9v", -1, 4);
	check_bad("Zm9vYm\xc3\xa9", -1, 6);
	check_bad("Zm9v-_", -1, 4);	/* base64url is not MIME */
	CHECK_INT(dec_all("Zm\0v", 4, out, &n, &d), -1);
	CHECK_INT(d.err_offset, 2);

	/* The offset counts every byte of every earlier call. */
	b64_init(&d);
	r = b64_decode(&d, "Zm9vY", 5, out);
	CHECK_INT(r, 3);
	r = b64_decode(&d, "mF\r\ny*", 6, out);
	CHECK_INT(r, -1);
	CHECK_INT(d.err_offset, 10);
	CHECK_INT(d.err_byte, '*');
}

/* Every split point of a MIME body decodes to the same bytes as one call;
 * each length mod 3 gives a different final quantum.
 */
static void
test_splits(size_t n)
{
	uint8_t *src = malloc(n), *out = malloc(n + 16);
	char *enc = malloc(n * 2 + 8);
	size_t elen, k, i;

	for (i = 0; i < n; i++)
		src[i] = (uint8_t)(i * 131 + (i >> 5) * 7 + 3);
	elen = enc_mime(src, n, enc);

	for (k = 0; k <= elen; k++) {
		struct guard_buf g1, g2;
		struct b64_dec d;
		ssize_t r1, r2;

		b64_init(&d);
		r1 = b64_decode(&d, guard_copy(&g1, enc, k), k, out);
		r2 = b64_decode(&d, guard_copy(&g2, enc + k, elen - k),
				elen - k, out + (r1 > 0 ? r1 : 0));
		guard_free(&g1);
		guard_free(&g2);
		if (r1 < 0 || r2 < 0 || (size_t)(r1 + r2) != n ||
		    b64_finish(&d) != 0 || memcmp(out, src, n) != 0) {
			fprintf(stderr, "split %zu of %zu (n %zu) differs\n",
				k, elen, n);
			check_failures++;
			break;
		}
		CHECK_INT(d.offset, elen);
	}
	free(src);
	free(out);
	free(enc);
}

/* One byte per call: the quantum is carried through every state. */
static void
test_bytewise(void)
{
	static const char enc[] = "Zm9v\r\nYmFy\r\nYg=\r\n=\r\n";
	uint8_t out[32];
	struct b64_dec d;
	size_t i, o = 0;
	ssize_t r;

	b64_init(&d);
	for (i = 0; i < sizeof(enc) - 1; i++) {
		CHECK(o + b64_decoded_max(1) <= sizeof(out));
		r = b64_decode(&d, enc + i, 1, out + o);
		CHECK(r >= 0);
		o += (size_t)(r > 0 ? r : 0);
	}
	CHECK_INT(b64_finish(&d), 0);
	CHECK_STRN((const char *)out, o, "foobarb");
}

int
main(void)
{
	test_rfc4648_vectors();
	test_padding();
	test_bad_bytes();
	test_splits(1000);
	test_splits(1001);
	test_splits(1002);
	test_splits(57);	/* exactly one 76-column line */
	test_bytewise();
	return CHECK_DONE();
}
