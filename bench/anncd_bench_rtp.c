/* anncd-bench: what each RTP stream is checked for as it arrives (RFC 3550
 * appendix A): one SSRC, sequence numbers that step by one, timestamps
 * that step by the samples of a packet, the interarrival jitter, and the
 * spacing of consecutive packets for the histogram.  Also the percentile
 * samples the report is made of.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "bench/anncd_bench.h"

#define RTP_HDR		12
#define RTP_VERSION	2

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void
stream_first(struct bench_stream *s, uint32_t ssrc, uint16_t seq,
	     uint32_t ts, int marker, int64_t t_ns)
{
	s->have = 1;
	s->ssrc = ssrc;
	s->base_seq = seq;
	s->max_ext = seq;
	s->last_seq = seq;
	s->first_ts = s->last_ts = ts;
	s->first_ns = s->last_ns = t_ns;
	s->marker_first = (uint8_t)marker;
	s->received = 1;
}

/* RFC 3550 appendix A.8: the transit time in RTP units relative to the
 * first packet (its constant offset cancels in the difference), and J
 * moved a sixteenth of the way towards |D|.
 */
static void
stream_jitter(struct bench_stream *s, uint32_t ts, int64_t t_ns,
	      unsigned int clock_hz)
{
	double arrival = (double)(t_ns - s->first_ns) * clock_hz / 1e9;
	double transit = arrival - (double)(int32_t)(ts - s->first_ts);
	double d = fabs(transit - s->transit);

	if (s->received > 1)
		s->jitter += (d - s->jitter) / 16.0;
	s->transit = transit;
}

static void
hist_add(struct bench_hist *h, int64_t gap_ns)
{
	int64_t b = gap_ns / BENCH_HIST_BIN_NS;

	h->n++;
	if (b < 0)
		b = 0;
	if (b >= BENCH_HIST_BINS)
		h->over++;
	else
		h->bin[b]++;
}

void
bench_stream_add(struct bench_stream *s, const uint8_t *d, size_t n,
		 int64_t t_ns, unsigned int clock_hz, unsigned int spp,
		 struct bench_hist *h)
{
	uint16_t seq, step;
	uint32_t ts, ssrc;

	if (n < RTP_HDR || d[0] >> 6 != RTP_VERSION) {
		s->foreign++;
		return;
	}
	seq = be16(d + 2);
	ts = be32(d + 4);
	ssrc = be32(d + 8);
	if (!s->have) {
		stream_first(s, ssrc, seq, ts, d[1] >> 7, t_ns);
		return;
	}
	if (ssrc != s->ssrc) {
		/* The first packet (marker set, RFC 3551 section 4.1) of
		 * another SSRC: what came before was the previous stream of
		 * this port, still in flight.  Start again from this one. */
		if (d[1] >> 7) {
			s->foreign += s->received;
			stream_first(s, ssrc, seq, ts, 1, t_ns);
			return;
		}
		s->foreign++;
		return;
	}
	s->received++;
	step = (uint16_t)(seq - s->last_seq);
	/* a step of half the space or more is a packet from the past */
	if (step == 0 || step >= 0x8000) {
		s->seq_errors++;
		return;
	}
	if (step != 1)
		s->seq_errors++;
	else if (h != NULL)
		hist_add(h, t_ns - s->last_ns);
	if (ts - s->last_ts != (uint32_t)step * spp)
		s->ts_errors++;
	s->max_ext += step;
	s->last_seq = seq;
	s->last_ts = ts;
	s->last_ns = t_ns;
	stream_jitter(s, ts, t_ns, clock_hz);
}

uint32_t
bench_stream_expected(const struct bench_stream *s)
{
	return s->have ? s->max_ext - s->base_seq + 1 : 0;
}

long
bench_stream_lost(const struct bench_stream *s)
{
	return (long)bench_stream_expected(s) - (long)s->received;
}

int
bench_sample_add(struct bench_sample *s, double v)
{
	double *nv;
	size_t cap;

	if (s->n == s->cap) {
		cap = s->cap ? 2 * s->cap : 1024;
		nv = realloc(s->v, cap * sizeof(*nv));
		if (nv == NULL)
			return -ENOMEM;
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = v;
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void
bench_sample_sort(struct bench_sample *s)
{
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), cmp_double);
}

/* Nearest rank: the smallest value with at least p % of them at or below
 * it; NAN for an empty sample.
 */
double
bench_sample_pct(const struct bench_sample *s, double p)
{
	size_t rank;

	if (s->n == 0)
		return NAN;
	rank = (size_t)ceil(p / 100.0 * (double)s->n);
	if (rank < 1)
		rank = 1;
	if (rank > s->n)
		rank = s->n;
	return s->v[rank - 1];
}

void
bench_sample_free(struct bench_sample *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}
