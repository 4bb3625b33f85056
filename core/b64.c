/* Streaming base64 decoder: turns the encoded URLFETCH literal into
 * playable bytes chunk by chunk.  The scalar decoder is the reference; it
 * also takes whatever the vector loops leave: a quantum split across calls,
 * padding, a bad byte, the tail shorter than a vector.  On x86 an SSSE3 or
 * AVX2 loop, chosen once from the CPU flags, takes the bulk of the text,
 * MIME line breaks included.
 */
#include <string.h>

#include "core/b64.h"

#if defined(__x86_64__) || defined(__i386__)
#define B64_X86 1
#include <immintrin.h>
#endif

/* Table classes above the 6-bit sextet values: one lookup per byte says
 * both what the byte is worth and whether it needs the slow path.
 */
#define WS	0x80	/* ASCII white space, skipped (RFC 2045 6.8) */
#define PD	0x81	/* '=' padding */
#define XX	0xff	/* outside the alphabet */

static const uint8_t b64_table[256] = {
	XX, XX, XX, XX, XX, XX, XX, XX, XX, WS, WS, WS, WS, WS, XX, XX,	/* 0x00 */
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,	/* 0x10 */
	WS, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, 62, XX, XX, XX, 63,	/* 0x20 */
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, XX, XX, XX, PD, XX, XX,	/* 0x30 */
	XX,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,	/* 0x40 */
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, XX, XX, XX, XX, XX,	/* 0x50 */
	XX, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,	/* 0x60 */
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, XX, XX, XX, XX, XX,	/* 0x70 */
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,	/* 0x80 */
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,	/* 0x90 */
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,	/* 0xa0 */
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,	/* 0xb0 */
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,	/* 0xc0 */
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,	/* 0xd0 */
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,	/* 0xe0 */
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,	/* 0xf0 */
};

void
b64_init(struct b64_dec *d)
{
	memset(d, 0, sizeof(*d));
}

/* A '=' is valid only after two or three sextets of a quantum (RFC 4648
 * section 4): it completes the quantum, so the bytes it carries are
 * written at the first '='.  Bits left over in the last sextet are not
 * checked (RFC 4648 3.5 lets a MIME decoder accept them).
 */
static int
b64_pad(struct b64_dec *d, uint8_t **o)
{
	uint8_t *w = *o;

	if (d->nsext < 2 || d->nsext + d->npad >= 4)
		return -1;
	if (d->npad == 0 && d->nsext == 2) {
		*w++ = (uint8_t)(d->acc >> 4);
	} else if (d->npad == 0) {
		*w++ = (uint8_t)(d->acc >> 10);
		*w++ = (uint8_t)(d->acc >> 2);
	}
	d->npad++;
	*o = w;
	return 0;
}

/* One byte of the slow path: partial quanta, white space and padding. */
static int
b64_step(struct b64_dec *d, uint8_t c, uint8_t **o)
{
	uint8_t v = b64_table[c];
	uint8_t *w = *o;

	if (v == WS)
		return 0;
	if (v == PD)
		return b64_pad(d, o);
	if (v == XX || d->npad != 0)
		return -1;

	d->acc = d->acc << 6 | v;
	if (++d->nsext < 4)
		return 0;
	w[0] = (uint8_t)(d->acc >> 16);
	w[1] = (uint8_t)(d->acc >> 8);
	w[2] = (uint8_t)d->acc;
	*o = w + 3;
	d->acc = 0;
	d->nsext = 0;
	return 0;
}

/* Fast path: four alphabet bytes on a quantum boundary, which is all of a
 * MIME line but its CRLF.  Returns -1, writing nothing, for anything else.
 */
static inline int
b64_quantum(const uint8_t *p, uint8_t *o)
{
	uint32_t a = b64_table[p[0]], b = b64_table[p[1]];
	uint32_t c = b64_table[p[2]], e = b64_table[p[3]];
	uint32_t q;

	if ((a | b | c | e) & 0x80)
		return -1;
	q = a << 18 | b << 12 | c << 6 | e;
	o[0] = (uint8_t)(q >> 16);
	o[1] = (uint8_t)(q >> 8);
	o[2] = (uint8_t)q;
	return 0;
}

/* Records the bad byte p[i] and the bytes the call consumed before it. */
static ssize_t
b64_fail(struct b64_dec *d, const uint8_t *p, size_t i)
{
	d->err_offset = d->offset + i;
	d->err_byte = p[i];
	d->offset += i;
	return -1;
}

/* The scalar decoder over p[i, len), writing from o; out is where the
 * call's output began.  Ends the call: returns its result.
 */
static ssize_t
b64_scalar(struct b64_dec *d, const uint8_t *p, size_t i, size_t len,
	   uint8_t *out, uint8_t *o)
{
	while (i < len) {
		if (d->nsext == 0 && d->npad == 0 && len - i >= 4 &&
		    b64_quantum(p + i, o) == 0) {
			o += 3;
			i += 4;
			continue;
		}
		if (b64_step(d, p[i], &o) != 0)
			return b64_fail(d, p, i);
		i++;
	}

	d->offset += len;
	return o - out;
}

#ifdef B64_X86
/* Takes sextets that a vector loop checked and translated but that do not
 * fill a vector block: their whole quanta are written, and what is left of
 * the last one stays in the state for the bytes that follow.
 */
static void
b64_sextets(struct b64_dec *d, const uint8_t *s, size_t n, uint8_t **o)
{
	uint8_t *w = *o;
	size_t k;

	for (k = 0; k < n; k++) {
		d->acc = d->acc << 6 | s[k];
		if (++d->nsext < 4)
			continue;
		w[0] = (uint8_t)(d->acc >> 16);
		w[1] = (uint8_t)(d->acc >> 8);
		w[2] = (uint8_t)d->acc;
		w += 3;
		d->acc = 0;
		d->nsext = 0;
	}
	*o = w;
}

/* Both vector loops work in two stages through a buffer on the stack.
 * The first classifies each byte of a block by its two nibbles, turns the
 * alphabet into sextets and, when the block holds white space (MIME has a
 * line break every 78 bytes), squeezes it out eight bytes at a time with
 * the shuffle that the group's keep mask picks.  The second packs the
 * buffered sextets four to three bytes.  A block holding any other byte
 * ('=' or a bad one) ends the loop; the scalar decoder takes over at the
 * start of that block, so it alone reports errors and padding.
 */
#define B64_STAGE	2048	/* sextets buffered before they are packed */
#define B64_STAGE_ROOM	(B64_STAGE + 64)	/* a block past it, and a
						 * vector read past that */
#define B64_HIGH_GROUP	0x0808080808080808ull	/* indices of bytes 8..15 */

/* Per keep mask of an 8-byte group: the shuffle that gathers the kept
 * bytes at its front, and how many there are.  Filled at start-up.
 */
static uint64_t b64_keep_shuf[256];
static uint8_t b64_keep_len[256];

/* The class of a byte is b64_class_lo[low nibble] & b64_class_hi[high
 * nibble]: each bit stands for a rectangle of the nibble plane.  Bits 0
 * and 1 cover exactly the white space (0x09-0x0d, 0x20), bits 2 to 7
 * every other byte outside the alphabet; class 0 is the alphabet.
 */
#define B64_CLASS_WS	0x03

static const uint8_t b64_class_lo[16] __attribute__((aligned(16))) = {
	0x86, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14,
	0x14, 0x19, 0x59, 0x29, 0x39, 0x39, 0x34, 0x24,
};
static const uint8_t b64_class_hi[16] __attribute__((aligned(16))) = {
	0x05, 0x0c, 0x12, 0x60, 0x80, 0x20, 0x80, 0x20,
	0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c,
};

/* What to add to an alphabet byte to get its sextet, by high nibble; '/'
 * shares its nibble with '+' and is looked up one entry lower.
 */
static const int8_t b64_shift[16] __attribute__((aligned(16))) = {
	0, 63 - '/', 62 - '+', 52 - '0',
	-'A', -'A', 26 - 'a', 26 - 'a',
	0, 0, 0, 0, 0, 0, 0, 0,
};

static void
b64_keep_init(void)
{
	unsigned int k, b, n;
	uint64_t shuf;

	for (k = 0; k < 256; k++) {
		shuf = 0;
		n = 0;
		for (b = 0; b < 8; b++)
			if (k >> b & 1)
				shuf |= (uint64_t)b << (8 * n++);
		b64_keep_shuf[k] = shuf;
		b64_keep_len[k] = (uint8_t)n;
	}
}

#define B64_SSSE3	__attribute__((target("ssse3")))
#define B64_AVX2	__attribute__((target("avx2")))

/* Sextets of the 16 bytes of v, valid where *cls is 0. */
B64_SSSE3 static inline __m128i
b64_ssse3_sextets(__m128i v, __m128i *cls)
{
	const __m128i nib = _mm_set1_epi8(0x0f);
	__m128i hi = _mm_and_si128(_mm_srli_epi32(v, 4), nib);
	__m128i lo = _mm_and_si128(v, nib);
	__m128i slash = _mm_cmpeq_epi8(v, _mm_set1_epi8('/'));
	__m128i lut;

	lut = _mm_load_si128((const __m128i *)b64_class_lo);
	*cls = _mm_shuffle_epi8(lut, lo);
	lut = _mm_load_si128((const __m128i *)b64_class_hi);
	*cls = _mm_and_si128(*cls, _mm_shuffle_epi8(lut, hi));
	lut = _mm_load_si128((const __m128i *)b64_shift);
	return _mm_add_epi8(v, _mm_shuffle_epi8(lut, _mm_add_epi8(hi, slash)));
}

/* 16 sextets to 12 bytes, at the front of the result. */
B64_SSSE3 static inline __m128i
b64_ssse3_pack(__m128i s)
{
	const __m128i order = _mm_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8,
					    14, 13, 12, -1, -1, -1, -1);
	__m128i t;

	/* s0 << 6 | s1 in each 16 bits, then << 12 | (s2 << 6 | s3) in
	 * each 32: one quantum's 24 bits, little-endian */
	t = _mm_maddubs_epi16(s, _mm_set1_epi32(0x01400140));
	t = _mm_madd_epi16(t, _mm_set1_epi32(0x00011000));
	return _mm_shuffle_epi8(t, order);
}

/* Writes the kept sextets of s (bits of keep) to w; returns how many. */
B64_SSSE3 static inline size_t
b64_ssse3_squeeze(uint8_t *w, __m128i s, unsigned int keep)
{
	unsigned int k0 = keep & 0xff, k1 = keep >> 8;
	__m128i ctl = _mm_set_epi64x(
		(long long)(b64_keep_shuf[k1] + B64_HIGH_GROUP),
		(long long)b64_keep_shuf[k0]);
	__m128i r = _mm_shuffle_epi8(s, ctl);

	_mm_storel_epi64((__m128i *)w, r);
	_mm_storeh_pi((__m64 *)(w + b64_keep_len[k0]), _mm_castsi128_ps(r));
	return (size_t)b64_keep_len[k0] + b64_keep_len[k1];
}

/* Packs the whole blocks of the n buffered sextets to *o and moves the
 * rest to the front of the buffer; returns how many that is.  Each block
 * but the last is stored 16 bytes wide, its 4 spare bytes overwritten by
 * the next; the last writes its 12 exactly, so no byte lands past what
 * b64_decoded_max() promised.
 */
B64_SSSE3 static size_t
b64_ssse3_flush(uint8_t *stage, size_t n, uint8_t **o)
{
	size_t k, blocks = n / 16;
	uint8_t *w = *o;
	uint32_t last;
	__m128i r;

	if (blocks == 0)
		return n;
	for (k = 0; k + 1 < blocks; k++, w += 12) {
		r = b64_ssse3_pack(_mm_load_si128((__m128i *)(stage + 16 * k)));
		_mm_storeu_si128((__m128i *)w, r);
	}
	r = b64_ssse3_pack(_mm_load_si128((__m128i *)(stage + 16 * k)));
	_mm_storel_epi64((__m128i *)w, r);
	last = (uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(r, 8));
	memcpy(w + 8, &last, 4);
	*o = w + 12;

	r = _mm_load_si128((__m128i *)(stage + 16 * blocks));
	_mm_store_si128((__m128i *)stage, r);
	return n % 16;
}

/* Decodes from p, on a quantum boundary, while 16 bytes of alphabet and
 * white space remain; returns how many bytes it consumed.
 */
B64_SSSE3 static size_t
b64_ssse3_run(struct b64_dec *d, const uint8_t *p, size_t len, uint8_t **o)
{
	uint8_t stage[B64_STAGE_ROOM] __attribute__((aligned(32)));
	const __m128i zero = _mm_setzero_si128();
	const __m128i other = _mm_set1_epi8((char)~B64_CLASS_WS);
	size_t i, n = 0;
	__m128i s, cls;
	unsigned int keep;

	for (i = 0; len - i >= 16; i += 16) {
		s = b64_ssse3_sextets(_mm_loadu_si128((const __m128i *)(p + i)),
				      &cls);
		keep = (unsigned int)_mm_movemask_epi8(_mm_cmpeq_epi8(cls,
								       zero));
		if (keep == 0xffff) {
			_mm_storeu_si128((__m128i *)(stage + n), s);
			n += 16;
		} else if (_mm_movemask_epi8(_mm_cmpeq_epi8(
				_mm_and_si128(cls, other), zero)) == 0xffff) {
			n += b64_ssse3_squeeze(stage + n, s, keep);
		} else {
			break;
		}
		if (n >= B64_STAGE)
			n = b64_ssse3_flush(stage, n, o);
	}
	n = b64_ssse3_flush(stage, n, o);
	b64_sextets(d, stage, n, o);
	return i;
}

/* The same four steps on 32 bytes: each 128-bit lane as above. */
B64_AVX2 static inline __m256i
b64_avx2_sextets(__m256i v, __m256i *cls)
{
	const __m256i nib = _mm256_set1_epi8(0x0f);
	__m256i hi = _mm256_and_si256(_mm256_srli_epi32(v, 4), nib);
	__m256i lo = _mm256_and_si256(v, nib);
	__m256i slash = _mm256_cmpeq_epi8(v, _mm256_set1_epi8('/'));
	__m256i lut;

	lut = _mm256_broadcastsi128_si256(
		_mm_load_si128((const __m128i *)b64_class_lo));
	*cls = _mm256_shuffle_epi8(lut, lo);
	lut = _mm256_broadcastsi128_si256(
		_mm_load_si128((const __m128i *)b64_class_hi));
	*cls = _mm256_and_si256(*cls, _mm256_shuffle_epi8(lut, hi));
	lut = _mm256_broadcastsi128_si256(
		_mm_load_si128((const __m128i *)b64_shift));
	return _mm256_add_epi8(v, _mm256_shuffle_epi8(lut,
						      _mm256_add_epi8(hi, slash)));
}

/* 32 sextets to 24 bytes, at the front of the result. */
B64_AVX2 static inline __m256i
b64_avx2_pack(__m256i s)
{
	const __m256i order = _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8,
		14, 13, 12, -1, -1, -1, -1, 2, 1, 0, 6, 5, 4, 10, 9, 8,
		14, 13, 12, -1, -1, -1, -1);
	__m256i t;

	t = _mm256_maddubs_epi16(s, _mm256_set1_epi32(0x01400140));
	t = _mm256_madd_epi16(t, _mm256_set1_epi32(0x00011000));
	t = _mm256_shuffle_epi8(t, order);
	/* each lane's 12 bytes side by side */
	return _mm256_permutevar8x32_epi32(t, _mm256_setr_epi32(0, 1, 2, 4,
								 5, 6, 7, 7));
}

B64_AVX2 static inline size_t
b64_avx2_squeeze(uint8_t *w, __m256i s, uint32_t keep)
{
	unsigned int k0 = keep & 0xff, k1 = keep >> 8 & 0xff;
	unsigned int k2 = keep >> 16 & 0xff, k3 = keep >> 24;
	__m256i ctl = _mm256_set_epi64x(
		(long long)(b64_keep_shuf[k3] + B64_HIGH_GROUP),
		(long long)b64_keep_shuf[k2],
		(long long)(b64_keep_shuf[k1] + B64_HIGH_GROUP),
		(long long)b64_keep_shuf[k0]);
	__m256i r = _mm256_shuffle_epi8(s, ctl);
	__m128i lo = _mm256_castsi256_si128(r);
	__m128i hi = _mm256_extracti128_si256(r, 1);
	uint8_t *start = w;

	_mm_storel_epi64((__m128i *)w, lo);
	w += b64_keep_len[k0];
	_mm_storeh_pi((__m64 *)w, _mm_castsi128_ps(lo));
	w += b64_keep_len[k1];
	_mm_storel_epi64((__m128i *)w, hi);
	w += b64_keep_len[k2];
	_mm_storeh_pi((__m64 *)w, _mm_castsi128_ps(hi));
	w += b64_keep_len[k3];
	return (size_t)(w - start);
}

B64_AVX2 static size_t
b64_avx2_flush(uint8_t *stage, size_t n, uint8_t **o)
{
	size_t k, blocks = n / 32;
	uint8_t *w = *o;
	__m256i r;

	if (blocks == 0)
		return n;
	for (k = 0; k + 1 < blocks; k++, w += 24) {
		r = b64_avx2_pack(_mm256_load_si256((__m256i *)(stage + 32 * k)));
		_mm256_storeu_si256((__m256i *)w, r);
	}
	r = b64_avx2_pack(_mm256_load_si256((__m256i *)(stage + 32 * k)));
	_mm_storeu_si128((__m128i *)w, _mm256_castsi256_si128(r));
	_mm_storel_epi64((__m128i *)(w + 16), _mm256_extracti128_si256(r, 1));
	*o = w + 24;

	r = _mm256_load_si256((__m256i *)(stage + 32 * blocks));
	_mm256_store_si256((__m256i *)stage, r);
	return n % 32;
}

/* A MIME line (RFC 2045 6.8: 76 characters, then CRLF) decoded straight
 * to w, without the buffer: two 32-byte blocks, then a 16-byte one over
 * the last 16 characters, whose first 4 the second block decoded too.
 * Returns -1, having written nothing, for anything else.
 */
B64_AVX2 static inline int
b64_avx2_line(const uint8_t *p, uint8_t *w)
{
	__m256i c0, c1, s0, s1;
	__m128i c2, s2, r;
	uint32_t last;

	if (p[76] != '\r' || p[77] != '\n')
		return -1;
	s0 = b64_avx2_sextets(_mm256_loadu_si256((const __m256i *)p), &c0);
	s1 = b64_avx2_sextets(_mm256_loadu_si256((const __m256i *)(p + 32)),
			      &c1);
	s2 = b64_ssse3_sextets(_mm_loadu_si128((const __m128i *)(p + 60)),
			       &c2);
	c0 = _mm256_or_si256(c0, c1);
	if (!_mm256_testz_si256(c0, c0) || !_mm_testz_si128(c2, c2))
		return -1;

	/* each store's spare bytes are overwritten by the next, and the
	 * last writes its 12 exactly: nothing lands past the line's 57 */
	_mm256_storeu_si256((__m256i *)w, b64_avx2_pack(s0));
	_mm256_storeu_si256((__m256i *)(w + 24), b64_avx2_pack(s1));
	r = b64_ssse3_pack(s2);
	_mm_storel_epi64((__m128i *)(w + 45), r);
	last = (uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(r, 8));
	memcpy(w + 53, &last, 4);
	return 0;
}

/* Tries a MIME line at p.  The buffered sextets go out first, which is
 * possible only when they end on a quantum boundary, as the line starts.
 */
B64_AVX2 static inline int
b64_avx2_try_line(struct b64_dec *d, uint8_t *stage, size_t *n,
		  const uint8_t *p, uint8_t **o)
{
	if (*n % 4 != 0 || p[76] != '\r')
		return -1;
	if (*n != 0) {
		*n = b64_avx2_flush(stage, *n, o);
		b64_sextets(d, stage, *n, o);
		*n = 0;
	}
	if (b64_avx2_line(p, *o) != 0)
		return -1;
	*o += 57;
	return 0;
}

/* Decodes from p, on a quantum boundary, while 32 bytes of alphabet and
 * white space remain; returns how many bytes it consumed.  A block with
 * white space is taken only up to its last white space byte, so that the
 * next block starts a MIME line when that was a line break.
 */
B64_AVX2 static size_t
b64_avx2_run(struct b64_dec *d, const uint8_t *p, size_t len, uint8_t **o)
{
	uint8_t stage[B64_STAGE_ROOM] __attribute__((aligned(32)));
	const __m256i zero = _mm256_setzero_si256();
	const __m256i other = _mm256_set1_epi8((char)~B64_CLASS_WS);
	size_t i = 0, n = 0, step;
	__m256i s, cls;
	uint32_t keep;

	while (len - i >= 32) {
		if (len - i >= 78 &&
		    b64_avx2_try_line(d, stage, &n, p + i, o) == 0) {
			i += 78;
			continue;
		}
		s = b64_avx2_sextets(_mm256_loadu_si256((const __m256i *)(p + i)),
				     &cls);
		keep = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(cls,
									 zero));
		if (keep == UINT32_MAX) {
			_mm256_storeu_si256((__m256i *)(stage + n), s);
			n += 32;
			step = 32;
		} else if (_mm256_testz_si256(cls, other)) {
			step = 32 - (size_t)__builtin_clz(~keep);
			if (step < 32)
				keep &= (1u << step) - 1;
			n += b64_avx2_squeeze(stage + n, s, keep);
		} else {
			break;
		}
		i += step;
		if (n >= B64_STAGE)
			n = b64_avx2_flush(stage, n, o);
	}
	n = b64_avx2_flush(stage, n, o);
	b64_sextets(d, stage, n, o);
	return i;
}
#endif /* B64_X86 */

/* The vector loop of each implementation; the scalar one has none. */
static size_t (*const b64_runs[B64_IMPL_COUNT])(struct b64_dec *,
		const uint8_t *, size_t, uint8_t **) = {
#ifdef B64_X86
	[B64_IMPL_SSSE3] = b64_ssse3_run,
	[B64_IMPL_AVX2] = b64_avx2_run,
#endif
};

static const char *const b64_names[B64_IMPL_COUNT] = {
	[B64_IMPL_SCALAR] = "scalar",
	[B64_IMPL_SSSE3] = "ssse3",
	[B64_IMPL_AVX2] = "avx2",
};

static int b64_has[B64_IMPL_COUNT] = { [B64_IMPL_SCALAR] = 1 };
static enum b64_impl b64_best = B64_IMPL_SCALAR;

/* Runs before main(), so that b64_decode() needs no check or lock to know
 * which loop to use and its tables are ready.
 */
static void __attribute__((constructor))
b64_setup(void)
{
	int i;

#ifdef B64_X86
	__builtin_cpu_init();
	b64_keep_init();
	b64_has[B64_IMPL_SSSE3] = __builtin_cpu_supports("ssse3") != 0;
	b64_has[B64_IMPL_AVX2] = __builtin_cpu_supports("avx2") != 0;
#endif
	for (i = 0; i < B64_IMPL_COUNT; i++)
		if (b64_has[i])
			b64_best = (enum b64_impl)i;
}

int
b64_impl_supported(enum b64_impl impl)
{
	return (unsigned int)impl < B64_IMPL_COUNT && b64_has[impl];
}

enum b64_impl
b64_impl_best(void)
{
	return b64_best;
}

const char *
b64_impl_name(enum b64_impl impl)
{
	return (unsigned int)impl < B64_IMPL_COUNT ? b64_names[impl] : NULL;
}

ssize_t
b64_decode_impl(enum b64_impl impl, struct b64_dec *d, const char *in,
		size_t len, uint8_t *out)
{
	const uint8_t *p = (const uint8_t *)in;
	uint8_t *o = out;
	size_t i = 0;

	if (!b64_impl_supported(impl))
		impl = B64_IMPL_SCALAR;
	/* the vector loops start on a quantum boundary: first finish the
	 * quantum an earlier call left open */
	while (i < len && d->nsext != 0 && d->npad == 0) {
		if (b64_step(d, p[i], &o) != 0)
			return b64_fail(d, p, i);
		i++;
	}
	if (b64_runs[impl] != NULL && d->nsext == 0 && d->npad == 0)
		i += b64_runs[impl](d, p + i, len - i, &o);
	return b64_scalar(d, p, i, len, out, o);
}

ssize_t
b64_decode(struct b64_dec *d, const char *in, size_t len, uint8_t *out)
{
	return b64_decode_impl(b64_best, d, in, len, out);
}

int
b64_finish(struct b64_dec *d)
{
	if (d->npad == 0)
		return d->nsext == 0 ? 0 : -1;
	return d->nsext + d->npad == 4 ? 0 : -1;
}
