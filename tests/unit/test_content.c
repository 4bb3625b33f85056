/* Unit test of chunked content: raw bytes appended with the split at every
 * offset around each chunk boundary, base64 appended in any slicing equal
 * to a one-shot decode, peek and span at the boundaries, the header probe
 * against the whole length, the allocation limits, and chunk-by-chunk
 * release as mbufs on each chunk are freed, one of them on another lcore.
 * Exit 77 only when the EAL cannot start.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "core/b64.h"
#include "core/content.h"
#include "tests/unit/check.h"
#include "tests/unit/bytes.h"

#define CHUNK		CONTENT_CHUNK_SIZE
#define DATA_LEN	(3 * CHUNK + 1001)
#define WINDOW		300	/* split offsets tried each side of a boundary */
#define MAX_CONTENTS	4
#define MAX_BYTES	(2 * CHUNK)	/* budget: 4 * (2 + 1) = 12 chunks */
/* Encoded: 4 per 3 bytes, and a CRLF per 57 bytes (a 76-column line). */
#define ENC_MAX		((DATA_LEN + 2) / 3 * 4 + (DATA_LEN / 57 + 1) * 2)

static const char b64_alpha[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static uint8_t data[DATA_LEN];
static const struct media_ctype au_type = { .type = MEDIA_TYPE_AUDIO_BASIC };
static const struct media_ctype pcma_type = { .type = MEDIA_TYPE_AUDIO_PCMA };
static uint8_t out[DATA_LEN];

static void
fill_data(void)
{
	uint32_t x = 0x9e3779b9u;
	size_t i;

	/* xorshift: no period that lines up with a chunk or a quantum */
	for (i = 0; i < DATA_LEN; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		data[i] = (uint8_t)x;
	}
}

/* MIME base64 with 76-column lines, each ended by CRLF. */
static size_t
enc_mime(const uint8_t *in, size_t n, char *o)
{
	size_t i, k, len = 0, col = 0;
	uint32_t q;

	for (i = 0; i < n; i += 3) {
		k = n - i < 3 ? n - i : 3;
		q = (uint32_t)in[i] << 16;
		if (k > 1)
			q |= (uint32_t)in[i + 1] << 8;
		if (k > 2)
			q |= in[i + 2];
		o[len++] = b64_alpha[q >> 18 & 63];
		o[len++] = b64_alpha[q >> 12 & 63];
		o[len++] = k > 1 ? b64_alpha[q >> 6 & 63] : '=';
		o[len++] = k > 2 ? b64_alpha[q & 63] : '=';
		col += 4;
		if (col == 76 || i + 3 >= n) {
			o[len++] = '\r';
			o[len++] = '\n';
			col = 0;
		}
	}
	return len;
}

/* The content holds exactly want[0..n), every chunk but the last full. */
static int
content_is(const struct content *c, const uint8_t *want, size_t n)
{
	if (c->len != n || c->nchunks != (n + CHUNK - 1) / CHUNK)
		return 0;
	memset(out, 0, n);
	return content_peek(c, 0, out, n) == n && memcmp(out, want, n) == 0;
}

static void
test_empty(void)
{
	struct content *c = content_new(0);
	const uint8_t *p;
	size_t n;

	CHECK(c != NULL);
	if (c == NULL)
		return;
	CHECK_INT(content_span(c, 0, &p, &n), -ERANGE);
	CHECK_INT(content_peek(c, 0, out, 10), 0);
	CHECK_INT(content_append(c, data, 0), 0);
	CHECK_INT(c->nchunks, 0);
	content_put(c);
	CHECK_INT(content_live(), 0);
}

static void
append_split(size_t k)
{
	struct content *c = content_new(k);	/* a short hint: the table grows */

	CHECK(c != NULL);
	if (c == NULL)
		return;
	CHECK_INT(content_append(c, data, k), 0);
	CHECK_INT(content_append(c, data + k, DATA_LEN - k), 0);
	if (!content_is(c, data, DATA_LEN)) {
		fprintf(stderr, "append split at %zu differs\n", k);
		CHECK(0);
	}
	content_put(c);
}

static void
append_pieces(size_t piece)
{
	struct content *c = content_new(DATA_LEN);
	size_t off;

	CHECK(c != NULL);
	if (c == NULL)
		return;
	for (off = 0; off < DATA_LEN; off += piece)
		CHECK_INT(content_append(c, data + off,
					 RTE_MIN(piece, DATA_LEN - off)), 0);
	if (!content_is(c, data, DATA_LEN)) {
		fprintf(stderr, "append in pieces of %zu differs\n", piece);
		CHECK(0);
	}
	content_put(c);
}

static void
test_append(void)
{
	static const size_t pieces[] = { 1, 3, 159, 160, 161, 4095,
					 CHUNK - 1, CHUNK, CHUNK + 1 };
	size_t b, k, i;

	for (k = 0; k <= WINDOW; k++)
		append_split(k);
	for (b = CHUNK; b < DATA_LEN; b += CHUNK)
		for (k = b - WINDOW; k <= b + WINDOW && k <= DATA_LEN; k++)
			append_split(k);
	append_split(DATA_LEN);
	for (i = 0; i < RTE_DIM(pieces); i++)
		append_pieces(pieces[i]);
	CHECK_INT(content_live(), 0);
	CHECK_INT(content_chunks_live(), 0);
}

/* Feeds enc in slices of the given size, or split once at split. */
static int
b64_feed(const char *enc, size_t n, size_t slice, size_t split)
{
	struct content *c = content_new(n);
	struct b64_dec d;
	size_t off, k;
	int ok = 1;

	if (c == NULL)
		return 0;
	b64_init(&d);
	for (off = 0; off < n && ok; off += k) {
		k = slice ? RTE_MIN(slice, n - off) :
			    off < split ? split : n - off;
		ok = content_append_b64(c, &d, enc + off, k) == 0;
	}
	ok = ok && b64_finish(&d) == 0 && content_is(c, data, DATA_LEN);
	content_put(c);
	return ok;
}

static void
test_b64(void)
{
	static const size_t slices[] = { 1, 2, 3, 4, 5, 7, 76, 78, 1000,
					 4093, CHUNK, 0 };
	char *enc = malloc(ENC_MAX);
	uint8_t *flat = malloc(b64_decoded_max(ENC_MAX));
	struct b64_dec d;
	size_t n, i, b, k;
	ssize_t got;

	CHECK(enc != NULL && flat != NULL);
	if (enc == NULL || flat == NULL)
		goto out;
	n = enc_mime(data, DATA_LEN, enc);

	/* The reference: one call into one flat buffer. */
	b64_init(&d);
	got = b64_decode(&d, enc, n, flat);
	CHECK_INT(got, DATA_LEN);
	CHECK(got == DATA_LEN && memcmp(flat, data, DATA_LEN) == 0);

	for (i = 0; i < RTE_DIM(slices); i++)
		if (!b64_feed(enc, n, slices[i] ? slices[i] : n, 0)) {
			fprintf(stderr, "b64 in slices of %zu differs\n",
				slices[i]);
			CHECK(0);
		}
	/* Splits where the decoded output meets each chunk boundary. */
	for (b = CHUNK; b < DATA_LEN; b += CHUNK) {
		size_t at = b / 57 * 78 + b % 57 * 4 / 3;

		for (k = at - WINDOW; k <= at + WINDOW; k++)
			if (!b64_feed(enc, n, 0, k)) {
				fprintf(stderr, "b64 split at %zu differs\n",
					k);
				CHECK(0);
			}
	}
out:
	free(enc);
	free(flat);
}

static void
test_b64_bad(void)
{
	static const char bad[] = "QUJD\r\nRE*G";
	struct content *c = content_new(0);
	struct b64_dec d;

	CHECK(c != NULL);
	if (c == NULL)
		return;
	b64_init(&d);
	CHECK_INT(content_append_b64(c, &d, bad, sizeof(bad) - 1), -EILSEQ);
	CHECK_INT(d.err_offset, 8);
	CHECK_INT(d.err_byte, '*');
	content_put(c);
	CHECK_INT(content_live(), 0);
}

static void
test_span_peek(void)
{
	struct content *c = content_new(DATA_LEN);
	const uint8_t *p;
	size_t n, b;

	CHECK(c != NULL);
	if (c == NULL || content_append(c, data, DATA_LEN) != 0)
		goto out;
	for (b = CHUNK; b < DATA_LEN; b += CHUNK) {
		CHECK_INT(content_span(c, b - 1, &p, &n), 0);
		CHECK_INT(n, 1);
		CHECK(p == c->chunks[b / CHUNK - 1]->data + CHUNK - 1);
		CHECK_INT(*p, data[b - 1]);
		CHECK_INT(content_span(c, b, &p, &n), 0);
		CHECK_INT(n, RTE_MIN(CHUNK, DATA_LEN - b));
		CHECK(p == c->chunks[b / CHUNK]->data);
		CHECK_INT(content_peek(c, b - 5, out, 10), 10);
		CHECK(memcmp(out, data + b - 5, 10) == 0);
	}
	CHECK_INT(content_span(c, DATA_LEN - 1, &p, &n), 0);
	CHECK_INT(n, 1);
	CHECK_INT(content_span(c, DATA_LEN, &p, &n), -ERANGE);
	CHECK_INT(content_peek(c, DATA_LEN - 3, out, 10), 3);
	CHECK_INT(content_peek(c, DATA_LEN + 5, out, 10), 0);
out:
	content_put(c);
}

/* An .au file of DATA_LEN bytes whose header says size; probes it. */
static int
probe_au(uint32_t size, size_t len, struct media_info *mi, const char **why)
{
	struct content *c = content_new(len);
	uint8_t hdr[24];
	int rc = -2;

	put_be32(hdr, 0x2e736e64u);
	put_be32(hdr + 4, 24);
	put_be32(hdr + 8, size);
	put_be32(hdr + 12, 1);		/* mu-law */
	put_be32(hdr + 16, 8000);
	put_be32(hdr + 20, 1);
	if (c != NULL && content_append(c, hdr, RTE_MIN(len, sizeof(hdr))) ==
	    0 && (len <= 24 || content_append(c, data, len - 24) == 0)) {
		rc = content_probe(c, &au_type, why);
		*mi = c->mi;
	}
	content_put(c);
	return rc;
}

static void
test_probe(void)
{
	struct media_info mi;
	const char *why = NULL;
	struct content *c;

	CHECK_INT(probe_au(0xffffffffu, DATA_LEN, &mi, &why), 0);
	CHECK_INT(mi.data_offset, 24);
	CHECK_INT(mi.data_len, DATA_LEN - 24);
	CHECK_INT(mi.codec, MEDIA_CODEC_PCMU);
	CHECK_INT(probe_au(2 * CHUNK, DATA_LEN, &mi, &why), 0);
	CHECK_INT(mi.data_len, 2 * CHUNK);
	CHECK_INT(probe_au(DATA_LEN - 24, DATA_LEN, &mi, &why), 0);
	CHECK_INT(probe_au(DATA_LEN - 23, DATA_LEN, &mi, &why), -1);
	CHECK(why != NULL && strstr(why, "exceeds") != NULL);
	CHECK_INT(probe_au(100, 20, &mi, &why), -1);
	CHECK(why != NULL && strstr(why, "truncated") != NULL);

	c = content_new(0);
	CHECK(c != NULL);
	if (c == NULL)
		return;
	CHECK_INT(content_probe(c, &pcma_type, &why), -1);
	CHECK_INT(content_append(c, data, DATA_LEN), 0);
	CHECK_INT(content_probe(c, &pcma_type, &why), 0);
	CHECK_INT(c->mi.data_offset, 0);
	CHECK_INT(c->mi.data_len, DATA_LEN);
	content_put(c);
	CHECK_INT(content_live(), 0);
}

/* MAX_CONTENTS contents; 12 chunks in all, the 13th refused. */
static void
test_limits(void)
{
	struct content *c[MAX_CONTENTS];
	unsigned int i;

	for (i = 0; i < MAX_CONTENTS; i++) {
		c[i] = content_new(0);
		CHECK(c[i] != NULL);
		if (c[i] == NULL)
			return;
	}
	CHECK(content_new(0) == NULL);
	CHECK_INT(content_append(c[0], data, DATA_LEN), 0);	/* 4 */
	CHECK_INT(content_append(c[1], data, DATA_LEN), 0);	/* 8 */
	CHECK_INT(content_append(c[2], data, 3 * CHUNK + 1), 0); /* 12 */
	CHECK_INT(content_chunks_live(), 12);
	CHECK_INT(content_append(c[3], data, 1), -ENOMEM);
	content_put(c[2]);
	CHECK_INT(content_append(c[3], data, 1), 0);
	for (i = 0; i < MAX_CONTENTS; i++)
		if (i != 2)
			content_put(c[i]);
	CHECK_INT(content_live(), 0);
	CHECK_INT(content_chunks_live(), 0);
}

/* Every chunk up front: appends fill them in order, chunk by chunk, in
 * pieces that straddle the boundaries, and fail past the last with
 * -ENOSPC and no allocation; the trim returns the chunks not written.
 */
static void
test_reserved(void)
{
	struct content *c = content_new_reserved(DATA_LEN);
	char *enc = malloc(ENC_MAX);
	struct b64_dec d;
	size_t off, k, n;

	CHECK(c != NULL && enc != NULL);
	if (c == NULL || enc == NULL)
		goto out;
	CHECK_INT(c->nchunks, 4);
	CHECK_INT(content_chunks_live(), 4);
	for (off = 0; off < DATA_LEN; off += k) {
		k = RTE_MIN((size_t)999, DATA_LEN - off);
		CHECK_INT(content_append(c, data + off, k), 0);
	}
	CHECK(content_is(c, data, DATA_LEN));
	/* The last chunk's room, and not a byte more. */
	CHECK_INT(content_append(c, data, 4 * CHUNK - DATA_LEN), 0);
	CHECK_INT(content_append(c, data, 1), -ENOSPC);
	CHECK_INT(c->len, 4 * CHUNK);
	CHECK_INT(content_chunks_live(), 4);
	content_put(c);

	/* base64 in slices of 5 into room for all of it, then a trim. */
	n = enc_mime(data, DATA_LEN, enc);
	c = content_new_reserved(DATA_LEN + 2 * CHUNK);
	CHECK(c != NULL && c->nchunks == 6);
	b64_init(&d);
	for (off = 0; c != NULL && off < n; off += k) {
		k = RTE_MIN((size_t)5, n - off);
		CHECK_INT(content_append_b64(c, &d, enc + off, k), 0);
	}
	if (c != NULL) {
		content_trim(c);
		CHECK(content_is(c, data, DATA_LEN));
		CHECK_INT(content_chunks_live(), 4);
	}
	content_put(c);
	/* More than the budget's 12 chunks: refused, nothing kept. */
	CHECK(content_new_reserved(13 * CHUNK) == NULL);
	CHECK_INT(content_chunks_live(), 0);
out:
	free(enc);
	CHECK_INT(content_live(), 0);
}

static struct rte_mbuf *
attach(struct rte_mempool *mp, struct content *c, size_t off, uint16_t len)
{
	struct content_chunk *k = content_chunk_at(c, off);
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	size_t in = off & CONTENT_CHUNK_MASK;

	if (m == NULL)
		return NULL;
	rte_mbuf_ext_refcnt_update(&k->shinfo, 1);
	rte_pktmbuf_attach_extbuf(m, k->data + in, k->iova == RTE_BAD_IOVA ?
				  RTE_BAD_IOVA : k->iova + in, len, &k->shinfo);
	m->data_len = len;
	m->pkt_len = len;
	return m;
}

static int
free_remote(void *arg)
{
	rte_pktmbuf_free(arg);
	return 0;
}

/* The owner lets go first; each chunk goes when its own mbufs do, and the
 * content with the last.  One mbuf is freed on the worker lcore, as a
 * transmit completion would be.
 */
static void
test_refs(struct rte_mempool *mp)
{
	struct content *c = content_new(DATA_LEN);
	struct rte_mbuf *m0a, *m0b, *m3;
	unsigned int lc = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);

	CHECK(c != NULL);
	if (c == NULL || content_append(c, data, DATA_LEN) != 0)
		return;
	m0a = attach(mp, c, 10, 160);
	m0b = attach(mp, c, CHUNK - 80, 80);
	m3 = attach(mp, c, 3 * CHUNK + 500, 160);
	CHECK(m0a != NULL && m0b != NULL && m3 != NULL);
	CHECK_INT(rte_mbuf_ext_refcnt_read(&c->chunks[0]->shinfo), 3);

	content_put(c);				/* chunks 1 and 2 go now */
	CHECK_INT(content_chunks_live(), 2);
	CHECK_INT(content_live(), 1);
	rte_pktmbuf_free(m0a);
	CHECK_INT(content_reap(), 0);
	rte_pktmbuf_free(m0b);
	CHECK_INT(content_reap(), 1);
	CHECK_INT(content_chunks_live(), 1);
	CHECK_INT(content_live(), 1);

	CHECK_INT(rte_eal_remote_launch(free_remote, m3, lc), 0);
	CHECK_INT(rte_eal_wait_lcore(lc), 0);
	CHECK_INT(content_reap(), 1);
	CHECK_INT(content_chunks_live(), 0);
	CHECK_INT(content_live(), 0);
}

int
main(int argc, char **argv)
{
	char prefix[64], run_dir[256];
	char *eal[] = { argv[0], "--no-huge", "-m", "128", "--no-shconf",
			"--no-pci", "--no-telemetry", "-l", "0,1", prefix,
			NULL };
	struct rte_mempool *mp;

	(void)argc;
	snprintf(prefix, sizeof(prefix), "--file-prefix=anncd-test-ct-%d",
		 (int)getpid());
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0) {
		fprintf(stderr, "rte_eal_init failed: %s\n",
			rte_strerror(rte_errno));
		return 77;
	}
	CHECK(content_new(0) == NULL);		/* before content_sys_init */
	CHECK_INT(content_sys_init(MAX_CONTENTS, MAX_BYTES), 0);
	CHECK_INT(content_sys_init(MAX_CONTENTS, MAX_BYTES), -EALREADY);
	mp = rte_pktmbuf_pool_create("t_ext", 63, 0, 0, 0,
				     (int)rte_socket_id());
	CHECK(mp != NULL);
	fill_data();

	test_empty();
	test_append();
	test_b64();
	test_b64_bad();
	test_span_peek();
	test_probe();
	test_limits();
	test_reserved();
	if (mp != NULL)
		test_refs(mp);

	snprintf(run_dir, sizeof(run_dir), "%s", rte_eal_get_runtime_dir());
	rte_mempool_free(mp);
	rte_eal_cleanup();
	rmdir(run_dir);
	return CHECK_DONE();
}
