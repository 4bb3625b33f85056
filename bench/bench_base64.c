/* bench-base64: how fast core/b64.c turns a URLFETCH literal into content.
 * It decodes 64 KiB and 4 MiB of MIME base64 (76-column lines ended by
 * CRLF, random binary content) with the best vector implementation the
 * CPU has, the scalar one and OpenSSL's EVP_DecodeUpdate(), and copies the
 * same text with memcpy() as the ceiling the memory sets.  Rounds run the
 * four in turn, so that a noisy neighbour on the VM slows all of them
 * alike; each figure is the median over the rounds, in bytes of encoded
 * text per second of the thread's CPU time.  The last line, and --json
 * FILE, give the 4 MiB figures in Gbit/s.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "core/b64.h"

#define LINE_BIN	57	/* bytes per MIME line: 76 characters */
#define LINE_ENC	78	/* 76 characters and CRLF */
#define SAMPLE_BYTES	(1u << 20)	/* small buffers repeat to this */
#define MIN_ROUNDS	15
#define MAX_ROUNDS	301
#define BUDGET_NS	1500000000ull	/* per buffer size */

enum method {
	M_SIMD,
	M_SCALAR,
	M_OPENSSL,
	M_MEMCPY,
	M_COUNT
};

static const char *const method_names[M_COUNT] = {
	"simd", "scalar", "openssl", "memcpy",
};

struct buffer {
	uint8_t *bin;		/* what was encoded */
	size_t bin_len;
	char *enc;		/* MIME text */
	size_t enc_len;
	uint8_t *out;		/* decoded, or copied, here */
	unsigned int reps;	/* runs per sample */
};

struct figures {
	double gbps[M_COUNT];	/* Gbit/s of encoded text, median */
	double median_ns[M_COUNT];	/* one run */
	unsigned int rounds;
};

static enum b64_impl simd_impl;

static uint64_t
now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* Whole MIME lines of random bytes, about enc_target bytes of text. */
static int
buffer_make(struct buffer *b, size_t enc_target)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t lines = enc_target / LINE_ENC, i, o = 0;

	b->bin_len = lines * LINE_BIN;
	b->enc_len = lines * LINE_ENC;
	b->bin = malloc(b->bin_len);
	b->enc = malloc(b->enc_len);
	/* room for OpenSSL, which may hold back one line until the end */
	b->out = malloc(b->enc_len + 128);
	if (b->bin == NULL || b->enc == NULL || b->out == NULL)
		return -ENOMEM;
	for (i = 0; i < b->bin_len; i++)
		b->bin[i] = (uint8_t)(rng() >> 56);
	for (i = 0; i < b->bin_len; i += 3) {
		uint32_t q = (uint32_t)b->bin[i] << 16 |
			(uint32_t)b->bin[i + 1] << 8 | b->bin[i + 2];

		b->enc[o++] = alpha[q >> 18 & 63];
		b->enc[o++] = alpha[q >> 12 & 63];
		b->enc[o++] = alpha[q >> 6 & 63];
		b->enc[o++] = alpha[q & 63];
		if ((i + 3) % LINE_BIN == 0) {
			b->enc[o++] = '\r';
			b->enc[o++] = '\n';
		}
	}
	memset(b->out, 0, b->enc_len + 128);
	b->reps = b->enc_len >= SAMPLE_BYTES ? 1 :
		(unsigned int)(SAMPLE_BYTES / b->enc_len);
	return 0;
}

static void
buffer_free(struct buffer *b)
{
	free(b->bin);
	free(b->enc);
	free(b->out);
}

static ssize_t
run_b64(enum b64_impl impl, const struct buffer *b)
{
	struct b64_dec d;
	ssize_t n;

	b64_init(&d);
	n = b64_decode_impl(impl, &d, b->enc, b->enc_len, b->out);
	return n < 0 || b64_finish(&d) != 0 ? -1 : n;
}

static ssize_t
run_openssl(EVP_ENCODE_CTX *ctx, const struct buffer *b)
{
	int n = 0, fin = 0;

	EVP_DecodeInit(ctx);
	if (EVP_DecodeUpdate(ctx, b->out, &n, (const unsigned char *)b->enc,
			     (int)b->enc_len) < 0 ||
	    EVP_DecodeFinal(ctx, b->out + n, &fin) != 1)
		return -1;
	return (ssize_t)n + fin;
}

/* One run of method m; returns the bytes it wrote. */
static ssize_t
run(enum method m, EVP_ENCODE_CTX *ctx, const struct buffer *b)
{
	switch (m) {
	case M_SIMD:
		return run_b64(simd_impl, b);
	case M_SCALAR:
		return run_b64(B64_IMPL_SCALAR, b);
	case M_OPENSSL:
		return run_openssl(ctx, b);
	default:
		memcpy(b->out, b->enc, b->enc_len);
		/* the copy is the result: keep the compiler from dropping it */
		__asm__ volatile("" : : "r"(b->out) : "memory");
		return (ssize_t)b->enc_len;
	}
}

/* Every decoder must give back the encoded bytes before it is timed. */
static int
verify(EVP_ENCODE_CTX *ctx, const struct buffer *b)
{
	int m;

	for (m = 0; m < M_MEMCPY; m++) {
		memset(b->out, 0, b->bin_len);
		if (run(m, ctx, b) != (ssize_t)b->bin_len ||
		    memcmp(b->out, b->bin, b->bin_len) != 0) {
			fprintf(stderr, "bench-base64: %s decodes wrong\n",
				method_names[m]);
			return -1;
		}
	}
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Rounds of every method in turn, the first one rotating, until the time
 * budget is spent; then the median of each method's samples.  A sample is
 * the thread's CPU time: on a VM of two vCPUs that other work shares, a
 * slow decoder's long runs would otherwise count the time slices others
 * took in the middle of them, and a fast one's short runs would not.
 */
static void
measure(EVP_ENCODE_CTX *ctx, const struct buffer *b, struct figures *f)
{
	static uint64_t samples[M_COUNT][MAX_ROUNDS];
	uint64_t start = now_ns(CLOCK_MONOTONIC), t;
	unsigned int r, k, i;
	int m;

	for (r = 0; r < MAX_ROUNDS; r++) {
		if (r >= MIN_ROUNDS &&
		    now_ns(CLOCK_MONOTONIC) - start > BUDGET_NS)
			break;
		for (i = 0; i < M_COUNT; i++) {
			m = (int)((r + i) % M_COUNT);
			t = now_ns(CLOCK_THREAD_CPUTIME_ID);
			for (k = 0; k < b->reps; k++)
				run(m, ctx, b);
			samples[m][r] = now_ns(CLOCK_THREAD_CPUTIME_ID) - t;
		}
	}
	f->rounds = r;
	for (m = 0; m < M_COUNT; m++) {
		qsort(samples[m], r, sizeof(samples[m][0]), cmp_u64);
		t = r % 2 ? samples[m][r / 2] :
			(samples[m][r / 2 - 1] + samples[m][r / 2]) / 2;
		f->median_ns[m] = (double)t / b->reps;
		f->gbps[m] = (double)b->enc_len * 8 / f->median_ns[m];
	}
}

static void
print_table(const struct buffer *b, const struct figures *f)
{
	int m;

	printf("\n%zu bytes of MIME text (%zu decoded), %u rounds of %u "
	       "run(s), medians:\n", b->enc_len, b->bin_len, f->rounds,
	       b->reps);
	printf("  %-8s %12s %9s %9s %11s %10s\n", "method", "ns/run",
	       "GB/s", "Gbit/s", "x openssl", "x memcpy");
	for (m = 0; m < M_COUNT; m++)
		printf("  %-8s %12.0f %9.2f %9.2f %11.2f %10.3f\n",
		       m == M_SIMD ? b64_impl_name(simd_impl) : method_names[m],
		       f->median_ns[m], f->gbps[m] / 8, f->gbps[m],
		       f->gbps[m] / f->gbps[M_OPENSSL],
		       f->gbps[m] / f->gbps[M_MEMCPY]);
}

static int
write_json(const char *path, const struct buffer *b, const struct figures *f)
{
	FILE *fp = fopen(path, "w");
	int m;

	if (fp == NULL) {
		fprintf(stderr, "bench-base64: fopen(%s) failed: %s\n", path,
			strerror(errno));
		return -1;
	}
	fprintf(fp, "{\n  \"bench\": \"base64\",\n  \"simd_impl\": \"%s\",\n"
		"  \"enc_bytes\": %zu,\n  \"rounds\": %u,\n",
		b64_impl_name(simd_impl), b->enc_len, f->rounds);
	for (m = 0; m < M_COUNT; m++)
		fprintf(fp, "  \"%s_gbps\": %.3f,\n", method_names[m],
			f->gbps[m]);
	fprintf(fp, "  \"ratio_vs_openssl\": %.3f,\n"
		"  \"ratio_vs_memcpy\": %.3f\n}\n",
		f->gbps[M_SIMD] / f->gbps[M_OPENSSL],
		f->gbps[M_SIMD] / f->gbps[M_MEMCPY]);
	return fclose(fp) == 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	static const size_t sizes[] = { 64 << 10, 4 << 20 };
	const char *json = NULL;
	EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
	struct figures f;
	struct buffer b;
	size_t s;

	if (argc == 3 && strcmp(argv[1], "--json") == 0) {
		json = argv[2];
	} else if (argc != 1) {
		fprintf(stderr, "usage: %s [--json FILE]\n", argv[0]);
		return 2;
	}
	if (ctx == NULL)
		return 1;
	simd_impl = b64_impl_best();
	printf("base64 decode, simd = %s (best on this CPU)\n",
	       b64_impl_name(simd_impl));

	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		if (buffer_make(&b, sizes[s]) != 0 || verify(ctx, &b) != 0)
			return 1;
		measure(ctx, &b, &f);
		print_table(&b, &f);
		if (s + 1 < sizeof(sizes) / sizeof(sizes[0]))
			buffer_free(&b);
	}

	/* the 4 MiB figures, for scripts */
	printf("simd_gbps=%.2f scalar_gbps=%.2f openssl_gbps=%.2f "
	       "memcpy_gbps=%.2f ratio_vs_openssl=%.2f ratio_vs_memcpy=%.3f\n",
	       f.gbps[M_SIMD], f.gbps[M_SCALAR], f.gbps[M_OPENSSL],
	       f.gbps[M_MEMCPY], f.gbps[M_SIMD] / f.gbps[M_OPENSSL],
	       f.gbps[M_SIMD] / f.gbps[M_MEMCPY]);
	if (json != NULL && write_json(json, &b, &f) != 0)
		return 1;
	buffer_free(&b);
	EVP_ENCODE_CTX_free(ctx);
	return 0;
}
