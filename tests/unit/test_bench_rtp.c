/* anncd-bench's stream checks (bench/anncd_bench_rtp.c): sequence and
 * timestamp steps, the RFC 3550 A.8 jitter against values worked out by
 * hand, the restart on another SSRC's first packet, and nearest-rank
 * percentiles.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "bench/anncd_bench.h"
#include "tests/unit/check.h"

#define CLOCK	8000
#define SPP	160		/* 20 ms at 8 kHz */
#define MS	1000000LL	/* ns */

static void
rtp(uint8_t *p, int marker, uint16_t seq, uint32_t ts, uint32_t ssrc)
{
	memset(p, 0, 12);
	p[0] = 0x80;
	p[1] = (uint8_t)(marker << 7);
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[4] = (uint8_t)(ts >> 24);
	p[5] = (uint8_t)(ts >> 16);
	p[6] = (uint8_t)(ts >> 8);
	p[7] = (uint8_t)ts;
	p[8] = (uint8_t)(ssrc >> 24);
	p[9] = (uint8_t)(ssrc >> 16);
	p[10] = (uint8_t)(ssrc >> 8);
	p[11] = (uint8_t)ssrc;
}

static void
add(struct bench_stream *s, struct bench_hist *h, int marker, uint16_t seq,
    uint32_t ts, uint32_t ssrc, int64_t t_ns)
{
	uint8_t p[172];

	rtp(p, marker, seq, ts, ssrc);
	bench_stream_add(s, p, sizeof(p), t_ns, CLOCK, SPP, h);
}

/* Ten packets on time across a sequence wrap: nothing wrong, no jitter,
 * nine gaps of 20 ms in the histogram.
 */
static void
test_clean(void)
{
	struct bench_stream s = { 0 };
	static struct bench_hist h;
	int i;

	for (i = 0; i < 10; i++)
		add(&s, &h, i == 0, (uint16_t)(65530 + i),
		    4294967000u + (uint32_t)i * SPP, 7, i * 20 * MS);
	CHECK_INT(s.received, 10);
	CHECK_INT(bench_stream_expected(&s), 10);
	CHECK_INT(bench_stream_lost(&s), 0);
	CHECK_INT(s.seq_errors, 0);
	CHECK_INT(s.ts_errors, 0);
	CHECK_INT(s.marker_first, 1);
	CHECK(s.jitter == 0);
	CHECK_INT(h.n, 9);
	CHECK_INT(h.bin[20 * MS / BENCH_HIST_BIN_NS], 9);
}

/* A.8 by hand: packet 2 arrives 8 ms late (D = 64 units, J = 64/16 = 4),
 * packet 3 on time (D = 64, J = 4 + (64 - 4)/16 = 7.75).
 */
static void
test_jitter(void)
{
	struct bench_stream s = { 0 };

	add(&s, NULL, 1, 100, 0, 9, 0);
	add(&s, NULL, 0, 101, SPP, 9, 28 * MS);
	CHECK(fabs(s.jitter - 4.0) < 1e-9);
	add(&s, NULL, 0, 102, 2 * SPP, 9, 40 * MS);
	CHECK(fabs(s.jitter - 7.75) < 1e-9);
}

/* A lost packet, a duplicate, a timestamp off its step, a stranger. */
static void
test_errors(void)
{
	struct bench_stream s = { 0 };

	add(&s, NULL, 1, 1, 0, 5, 0);
	add(&s, NULL, 0, 3, 2 * SPP, 5, 40 * MS);	/* 2 lost */
	add(&s, NULL, 0, 3, 2 * SPP, 5, 41 * MS);	/* duplicate */
	add(&s, NULL, 0, 4, 3 * SPP + 1, 5, 60 * MS);	/* ts off */
	add(&s, NULL, 0, 5, 4 * SPP, 6, 80 * MS);	/* other SSRC */
	CHECK_INT(s.received, 4);
	CHECK_INT(bench_stream_expected(&s), 4);
	CHECK_INT(bench_stream_lost(&s), 0);
	CHECK_INT(s.seq_errors, 2);
	CHECK_INT(s.ts_errors, 1);
	CHECK_INT(s.foreign, 1);
}

/* The previous stream of the port first, then the call's own: its first
 * packet (marker) starts the count again.
 */
static void
test_restart(void)
{
	struct bench_stream s = { 0 };
	uint8_t junk[4] = { 0x40, 0, 0, 0 };

	add(&s, NULL, 0, 900, 5000, 1, 0);
	add(&s, NULL, 0, 901, 5000 + SPP, 1, 20 * MS);
	add(&s, NULL, 1, 10, 0, 2, 25 * MS);
	add(&s, NULL, 0, 11, SPP, 2, 45 * MS);
	bench_stream_add(&s, junk, sizeof(junk), 50 * MS, CLOCK, SPP, NULL);
	CHECK_INT(s.ssrc, 2);
	CHECK_INT(s.received, 2);
	CHECK_INT(s.foreign, 3);
	CHECK_INT(bench_stream_lost(&s), 0);
}

static void
test_percentiles(void)
{
	struct bench_sample x = { 0 };
	int i;

	CHECK(isnan(bench_sample_pct(&x, 50)));
	for (i = 100; i >= 1; i--)
		CHECK_INT(bench_sample_add(&x, i), 0);
	bench_sample_sort(&x);
	CHECK(bench_sample_pct(&x, 50) == 50);
	CHECK(bench_sample_pct(&x, 99) == 99);
	CHECK(bench_sample_pct(&x, 99.5) == 100);
	CHECK(bench_sample_pct(&x, 0) == 1);
	CHECK(bench_sample_pct(&x, 100) == 100);
	bench_sample_free(&x);
}

int
main(void)
{
	test_clean();
	test_jitter();
	test_errors();
	test_restart();
	test_percentiles();
	return check_failures ? 1 : 0;
}
