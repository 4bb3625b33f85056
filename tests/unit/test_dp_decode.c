/* Unit test of the dataplane's base64 decode jobs.  Stepped by hand: slices
 * of 1 byte, 3 bytes and larger up to the limit give what a one-shot
 * decode gives, with MIME lines, other white space and padding; invalid
 * bytes are named by their offset in the text, also at a chunk boundary;
 * a cut quantum and an empty text.  Then through a worker on net_ring: a
 * job decodes while streams keep sending (their packets are counted as
 * they come off the ring), a cancel, and the submit limits.  Nothing
 * asserts on timing.  Exit 77 only when the EAL cannot start.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "core/clock.h"
#include "core/content.h"
#include "dataplane/dp.h"
#include "dataplane/dp_decode.h"
#include "tests/unit/check.h"

#define CHUNK		CONTENT_CHUNK_SIZE
/* Decoded, three chunks and a part, a whole number of quanta; encoded,
 * four chunks and a part.
 */
#define DATA_LEN	(3 * CHUNK + 1002)
#define TEXT_MAX	(DATA_LEN * 2 + 4096)
#define MIME_CR		(1681 * 78 + 76)	/* a CR past chunk 2 */
#define WAIT_MS		20000
#define STREAMS		4
#define STREAM_PAYLOAD	160u

static const char b64_alpha[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static uint8_t data[DATA_LEN];
static uint8_t out[DATA_LEN];
static char text[TEXT_MAX];

static void
fill_data(void)
{
	uint32_t x = 0x2545f491u;
	size_t i;

	for (i = 0; i < DATA_LEN; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		data[i] = (uint8_t)x;
	}
}

/* Base64 of in[0..n) with sep after every line of cols characters and at
 * the end (sep may be empty, cols 0 for one line).
 */
static size_t
encode(const uint8_t *in, size_t n, unsigned int cols, const char *sep,
       char *o)
{
	size_t i, k, len = 0, col = 0, sl = strlen(sep);
	uint32_t q;

	for (i = 0; i < n; i += 3) {
		k = n - i < 3 ? n - i : 3;
		q = (uint32_t)in[i] << 16;
		q |= k > 1 ? (uint32_t)in[i + 1] << 8 : 0;
		q |= k > 2 ? in[i + 2] : 0;
		o[len++] = b64_alpha[q >> 18 & 63];
		o[len++] = b64_alpha[q >> 12 & 63];
		o[len++] = k > 1 ? b64_alpha[q >> 6 & 63] : '=';
		o[len++] = k > 2 ? b64_alpha[q & 63] : '=';
		col += 4;
		if ((cols != 0 && col >= cols) || i + 3 >= n) {
			memcpy(o + len, sep, sl);
			len += sl;
			col = 0;
		}
	}
	return len;
}

static struct content *
text_content(const char *t, size_t n)
{
	struct content *c = content_new(n);

	if (c != NULL && content_append(c, t, n) != 0) {
		content_put(c);
		return NULL;
	}
	return c;
}

/* A job over t[0..n), ready for dp_decode_step() or dp_decode_submit(). */
static int
job_init(struct dp_decode_job *j, const char *t, size_t n, uint32_t slice)
{
	memset(j, 0, sizeof(*j));
	j->text = text_content(t, n);
	j->out = content_new_reserved(dp_decode_out_max(n));
	j->slice = slice;
	b64_init(&j->dec);
	return j->text != NULL && j->out != NULL ? 0 : -1;
}

static void
job_free(struct dp_decode_job *j)
{
	content_put(j->text);
	content_put(j->out);
}

/* Steps the job to its end; returns the steps taken. */
static uint64_t
job_run(struct dp_decode_job *j)
{
	uint64_t steps = 1;

	while (dp_decode_step(j, j->slice) == 0)
		steps++;
	return steps;
}

/* What b64_decode() gives for the text in one call into one buffer. */
static ssize_t
one_shot(const char *t, size_t n, uint8_t *o, struct b64_dec *d)
{
	b64_init(d);
	return b64_decode(d, t, n, o);
}

static int
out_is(const struct content *c, const uint8_t *want, size_t n)
{
	if (c->len != n)
		return 0;
	memset(out, 0, n);
	return content_peek(c, 0, out, n) == n && memcmp(out, want, n) == 0;
}

/* The whole text in slices of `slice`: the decoded content, the steps,
 * and the chunks left after the trim.
 */
static void
check_slices(const char *t, size_t n, size_t want_len, uint32_t slice)
{
	struct dp_decode_job j;
	uint64_t steps;

	if (job_init(&j, t, n, slice) != 0) {
		CHECK(0);
		job_free(&j);
		return;
	}
	steps = job_run(&j);
	CHECK_INT(j.status, 0);
	CHECK_INT(steps, n == 0 ? 1 : (n + slice - 1) / slice);
	if (!out_is(j.out, data, want_len)) {
		fprintf(stderr, "text of %zu in slices of %u differs: "
			"%zu bytes out, %zu text bytes read\n", n, slice,
			j.out->len, j.text_off);
		CHECK(0);
	}
	content_trim(j.out);
	CHECK_INT(j.out->nchunks, (want_len + CHUNK - 1) / CHUNK);
	CHECK(out_is(j.out, data, want_len));
	job_free(&j);
}

static void
test_slices(void)
{
	static const uint32_t slices[] = { 1, 3, 4, 76, 78, 4093, 16384,
					   CHUNK, CHUNK + 1, DP_DECODE_SLICE_MAX };
	uint8_t *flat = malloc(b64_decoded_max(TEXT_MAX));
	struct b64_dec d;
	size_t n, i;

	CHECK(flat != NULL);
	if (flat == NULL)
		return;
	/* MIME: 76 columns and CRLF.  The reference is the one-shot decode. */
	n = encode(data, DATA_LEN, 76, "\r\n", text);
	CHECK(n > 4 * CHUNK);
	CHECK_INT(one_shot(text, n, flat, &d), DATA_LEN);
	CHECK(memcmp(flat, data, DATA_LEN) == 0);
	for (i = 0; i < RTE_DIM(slices); i++)
		check_slices(text, n, DATA_LEN, slices[i]);
	free(flat);
}

/* Lines of other lengths and other white space (RFC 2045 section 6.8
 * ignores it); one and two '=' of padding.
 */
static void
test_whitespace_padding(void)
{
	static const struct { unsigned int cols; const char *sep; } w[] = {
		{ 64, "\n" }, { 4, " " }, { 72, "\t \r\n" }, { 0, "" },
		{ 8, "\r\n\r\n" },
	};
	size_t i, n;

	for (i = 0; i < RTE_DIM(w); i++) {
		n = encode(data, DATA_LEN, w[i].cols, w[i].sep, text);
		check_slices(text, n, DATA_LEN, 3);
		check_slices(text, n, DATA_LEN, 16384);
	}
	/* DATA_LEN - 1 and - 2 end in "==" and "=". */
	CHECK_INT(DATA_LEN % 3, 0);
	n = encode(data, DATA_LEN - 1, 76, "\r\n", text);
	CHECK(memcmp(text + n - 3, "=\r\n", 3) == 0);
	check_slices(text, n, DATA_LEN - 1, 1);
	check_slices(text, n, DATA_LEN - 1, 5);
	n = encode(data, DATA_LEN - 2, 76, "\r\n", text);
	CHECK(memcmp(text + n - 4, "==\r\n", 4) == 0);
	check_slices(text, n, DATA_LEN - 2, 1);
	check_slices(text, n, DATA_LEN - 2, 7);
}

/* A bad byte at off of a MIME text: the job stops there in any slicing,
 * naming the byte and its offset, with what came before decoded.
 */
static void
check_bad_at(size_t off, char bad, uint32_t slice)
{
	struct dp_decode_job j;
	size_t n = encode(data, DATA_LEN, 76, "\r\n", text);
	char keep = text[off];

	text[off] = bad;
	if (job_init(&j, text, n, slice) == 0) {
		job_run(&j);
		CHECK_INT(j.status, -EILSEQ);
		CHECK_INT(j.err_offset, off);
		CHECK_INT(j.err_byte, (uint8_t)bad);
		CHECK(j.out->len <= off / 4 * 3);
		CHECK(j.text_off <= off);
	} else {
		CHECK(0);
	}
	job_free(&j);
	text[off] = keep;
}

static void
test_invalid(void)
{
	static const uint32_t slices[] = { 1, 3, 4096, DP_DECODE_SLICE_MAX };
	size_t i;

	for (i = 0; i < RTE_DIM(slices); i++) {
		check_bad_at(0, '*', slices[i]);
		check_bad_at(30002, '*', slices[i]);
		check_bad_at(CHUNK, '-', slices[i]);	/* first of chunk 1 */
		check_bad_at(CHUNK - 1, '\x80', slices[i]);
		check_bad_at(MIME_CR, '.', slices[i]);
	}
}

/* A '=' inside the text ends the data: the next alphabet byte is the
 * error.  A text cut inside a quantum is truncated; an empty one is an
 * empty attachment.
 */
static void
test_pad_cut_empty(void)
{
	static const char mid[] = "QUJD\r\nRA==\r\nRUZH";
	static const char cut[] = "QUJD\r\nREVG\r\nRw";
	struct dp_decode_job j;

	if (job_init(&j, mid, sizeof(mid) - 1, 3) == 0) {
		job_run(&j);
		CHECK_INT(j.status, -EILSEQ);
		CHECK_INT(j.err_offset, 12);
		CHECK_INT(j.err_byte, 'R');
	}
	job_free(&j);
	if (job_init(&j, cut, sizeof(cut) - 1, 1) == 0) {
		job_run(&j);
		CHECK_INT(j.status, -EBADMSG);
		CHECK_INT(j.out->len, 6);
	}
	job_free(&j);
	if (job_init(&j, "", 0, 1) == 0) {
		CHECK_INT(job_run(&j), 1);
		CHECK_INT(j.status, 0);
		CHECK_INT(j.out->len, 0);
		CHECK_INT(j.out->nchunks, 0);
	}
	job_free(&j);
}

/* ---- through the worker ---- */

static struct rte_ring *ring_in, *ring_out;
static unsigned int stream_events;

static int
ring_port(void)
{
	ring_in = rte_ring_create("t_in", 1024, (int)rte_socket_id(),
				  RING_F_SP_ENQ | RING_F_SC_DEQ);
	ring_out = rte_ring_create("t_out", 4096, (int)rte_socket_id(),
				   RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (ring_in == NULL || ring_out == NULL)
		return -1;
	return rte_eth_from_rings("net_ring_d", &ring_in, 1, &ring_out, 1,
				  rte_socket_id());
}

/* Frees what the worker sent; returns how many frames that was. */
static unsigned int
drain(void)
{
	void *m[64];
	unsigned int i, n, total = 0;

	do {
		n = rte_ring_dequeue_burst(ring_out, m, RTE_DIM(m), NULL);
		for (i = 0; i < n; i++)
			rte_pktmbuf_free(m[i]);
		total += n;
	} while (n == RTE_DIM(m));
	return total;
}

/* Polls events, draining the port, until the job's comes; *frames counts
 * what the port carried meanwhile.  NULL when it never came.
 */
static struct dp_decode_job *
wait_decoded(const struct dp_decode_job *j, uint64_t *frames)
{
	struct dp_event ev;
	unsigned int ms;

	for (ms = 0; ms < WAIT_MS; ms++) {
		*frames += drain();
		while (dp_poll_events(&ev, 1) == 1) {
			if (ev.type != DP_EV_DECODED) {
				stream_events++;
			} else if (ev.job == j) {
				CHECK_INT(ev.bytes, j->out->len);
				return ev.job;
			}
		}
		rte_delay_us_sleep(1000);
	}
	return NULL;
}

static struct content *
stream_content(void)
{
	struct content *c = content_new(DATA_LEN);

	if (c == NULL || content_append(c, data, DATA_LEN) != 0) {
		content_put(c);
		return NULL;
	}
	c->mi.data_offset = 0;
	c->mi.data_len = DATA_LEN;
	return c;
}

/* A uniform plan of STREAM_PAYLOAD bytes a packet on a 160 kHz clock:
 * a packet a millisecond.
 */
static void
streams_start(struct content *c)
{
	static struct media_plan pl;
	struct dp_stream_params p;
	uint32_t i;

	memset(&pl, 0, sizeof(pl));
	pl.content = c;
	pl.clock_rate = STREAM_PAYLOAD * 1000;
	pl.uni_off = 0;
	pl.uni_total = DATA_LEN;
	pl.uni_len = STREAM_PAYLOAD;
	pl.uni_ts = STREAM_PAYLOAD;
	pl.npkts = (DATA_LEN + STREAM_PAYLOAD - 1) / STREAM_PAYLOAD;
	pl.span_ts = DATA_LEN;
	for (i = 0; i < STREAMS; i++) {
		memset(&p, 0, sizeof(p));
		p.handle = i + 1;
		p.dst_ip = rte_cpu_to_be_32(0xc6120002);
		p.dst_port = (uint16_t)(50000 + 2 * i);
		p.src_port = (uint16_t)(40000 + 2 * i);
		p.ssrc = 0x5eed0000u + i;
		p.plan = &pl;
		p.repeat = 1;
		CHECK_INT(dp_stream_start(&p), 0);
	}
}

/* Every stream's event comes after its last packet (its RTCP BYE too):
 * then nothing more reaches the ring, and the pools may go.
 */
static void
streams_stop(void)
{
	struct dp_event ev;
	unsigned int i, ms;

	for (i = 0; i < STREAMS; i++)
		CHECK_INT(dp_stream_stop(i + 1), 0);
	for (ms = 0; ms < WAIT_MS && stream_events < STREAMS; ms++) {
		drain();
		while (dp_poll_events(&ev, 1) == 1)
			stream_events += ev.type != DP_EV_DECODED;
		rte_delay_us_sleep(1000);
	}
	CHECK_INT(stream_events, STREAMS);
}

/* A slice of one byte makes the job take one round per text byte: the
 * pacer's rounds come in between, so packets are due and sent while it
 * runs, and the job's rounds are exactly the text's length.
 */
static void
worker_decode(void)
{
	struct dp_decode_job j;
	struct dp_stats s0, s1;
	uint64_t frames = 0, before = 0;
	size_t n = encode(data, DATA_LEN, 76, "\r\n", text);
	unsigned int ms;

	for (ms = 0; ms < WAIT_MS && before < STREAMS; ms++) {
		before += drain();
		rte_delay_us_sleep(1000);
	}
	CHECK(before >= STREAMS);	/* the streams run */
	if (job_init(&j, text, n, 1) != 0) {
		CHECK(0);
		job_free(&j);
		return;
	}
	dp_get_stats(&s0);
	CHECK_INT(dp_decode_submit(&j), 0);
	CHECK(wait_decoded(&j, &frames) == &j);
	dp_get_stats(&s1);
	CHECK_INT(j.status, 0);
	CHECK_INT(j.rounds, n);
	CHECK(out_is(j.out, data, DATA_LEN));
	CHECK(s1.tx_packets > s0.tx_packets);
	CHECK(frames > 0);
	printf("worker: %zu bytes of text in %" PRIu64 " rounds, %" PRIu64
	       " packets sent meanwhile, %.1f us decoding\n", n, j.rounds,
	       s1.tx_packets - s0.tx_packets,
	       (double)clock_tsc_to_ns(j.busy_tsc) / 1e3);
	job_free(&j);

	/* A slice larger than the text: one round. */
	if (job_init(&j, text, n, DP_DECODE_SLICE_MAX) == 0) {
		CHECK_INT(dp_decode_submit(&j), 0);
		CHECK(wait_decoded(&j, &frames) == &j);
		CHECK_INT(j.status, 0);
		CHECK_INT(j.rounds, 1);
		CHECK(out_is(j.out, data, DATA_LEN));
	}
	job_free(&j);
}

/* Cancelled a byte a round into a text of 270,000: its event says
 * cancelled, or, had the worker finished first, the whole output.
 */
static void
worker_cancel(void)
{
	struct dp_decode_job j;
	uint64_t frames = 0;
	size_t n = encode(data, DATA_LEN, 76, "\r\n", text);

	if (job_init(&j, text, n, 1) != 0) {
		CHECK(0);
		job_free(&j);
		return;
	}
	CHECK_INT(dp_decode_submit(&j), 0);
	CHECK_INT(dp_decode_cancel(&j), 0);
	CHECK(wait_decoded(&j, &frames) == &j);
	if (j.status == -ECANCELED)
		CHECK(j.rounds < n);
	else
		CHECK(j.status == 0 && out_is(j.out, data, DATA_LEN));
	printf("cancel: status %d after %" PRIu64 " rounds\n", j.status,
	       j.rounds);
	job_free(&j);

	/* A cancel for a job the worker no longer has is ignored. */
	CHECK_INT(dp_decode_cancel(&j), 0);
}

/* The slice limits and the output the job needs, at their edges. */
static void
worker_limits(void)
{
	struct dp_decode_job j;
	struct content *small;
	uint64_t frames = 0;
	size_t n = encode(data, 3 * 1000, 76, "\r\n", text);

	if (job_init(&j, text, n, 0) != 0) {
		CHECK(0);
		job_free(&j);
		return;
	}
	CHECK_INT(dp_decode_submit(&j), -EINVAL);
	j.slice = DP_DECODE_SLICE_MAX + 1;
	CHECK_INT(dp_decode_submit(&j), -EINVAL);
	j.slice = DP_DECODE_SLICE_MIN;
	small = j.out;
	j.out = content_new(0);			/* not reserved */
	CHECK_INT(dp_decode_submit(&j), -EINVAL);
	content_put(j.out);
	j.out = content_new_reserved(0);	/* too small for the text */
	CHECK_INT(dp_decode_submit(&j), -EINVAL);
	content_put(j.out);
	j.out = small;
	CHECK_INT(dp_decode_submit(&j), 0);
	CHECK(wait_decoded(&j, &frames) == &j);
	CHECK_INT(j.status, 0);
	CHECK(out_is(j.out, data, 3 * 1000));
	job_free(&j);
}

static void
test_worker(void)
{
	struct dp_config cfg = {
		.media_ip = rte_cpu_to_be_32(0xc6120001), .has_nexthop = 1,
		.nexthop_mac = { .addr_bytes = { 2, 0, 0x5e, 0, 0, 2 } },
		.max_streams = 16, .nb_mbufs = 2047,
		.lcore_id = rte_get_next_lcore(-1, 1, 0),
	};
	struct dp_decode_job j = { 0 };
	struct content *c = stream_content();
	int port = ring_port();

	CHECK_INT(dp_decode_submit(&j), -EINVAL);
	CHECK(port >= 0 && c != NULL);
	if (port < 0 || c == NULL)
		return;
	cfg.port_id = (uint16_t)port;
	CHECK_INT(dp_start(&cfg), 0);
	streams_start(c);
	worker_decode();
	worker_cancel();
	worker_limits();
	streams_stop();
	drain();
	dp_stop();
	/* Stopped: a cancel says nobody holds the job any more. */
	CHECK_INT(dp_decode_cancel(&j), -ENODEV);
	content_put(c);
	content_reap();
	CHECK_INT(content_live(), 0);
}

int
main(int argc, char **argv)
{
	char prefix[64], run_dir[256];
	char *eal[] = { argv[0], "--no-huge", "-m", "256", "--no-shconf",
			"--no-pci", "--no-telemetry", "-l", "0,1", prefix,
			NULL };

	(void)argc;
	snprintf(prefix, sizeof(prefix), "--file-prefix=anncd-test-dec-%d",
		 (int)getpid());
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0) {
		fprintf(stderr, "rte_eal_init failed: %s\n",
			rte_strerror(rte_errno));
		return 77;
	}
	clock_calibrate(100);
	CHECK_INT(content_sys_init(16, 2 * TEXT_MAX), 0);
	fill_data();
	test_slices();
	test_whitespace_padding();
	test_invalid();
	test_pad_cut_empty();
	CHECK_INT(content_live(), 0);
	test_worker();

	snprintf(run_dir, sizeof(run_dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(run_dir);
	return CHECK_DONE();
}
