/* What anncd-call heard: RTP packets as they arrived (RFC 3550 section
 * 5.1), the receiver statistics of RFC 3550 appendix A, the payload written
 * out as a Sun .au file and compared with the attachment, and the summary.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/call.h"

#define RTP_MAX_PACKETS	(1u << 24)
#define RTP_HDR		12

static int
grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : 1024;
	void *np;

	while (ncap < need)
		ncap *= 2;
	if (ncap == *cap)
		return 0;
	np = realloc(*p, ncap * elem);
	if (np == NULL)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Keeps one datagram if it is RTP version 2; CSRCs, the header extension
 * and padding are stripped so that only the payload is kept.
 */
int
rtp_store_add(struct rtp_store *s, const uint8_t *d, size_t n, double t)
{
	size_t hl, pad = 0;
	struct rtp_rec *r;

	if (n < RTP_HDR || d[0] >> 6 != 2 || s->n >= RTP_MAX_PACKETS)
		return -EINVAL;
	hl = RTP_HDR + 4u * (d[0] & 15);
	if (d[0] & 0x10) {
		if (n < hl + 4)
			return -EINVAL;
		hl += 4 + 4u * ((size_t)d[hl + 2] << 8 | d[hl + 3]);
	}
	if (d[0] & 0x20)
		pad = d[n - 1];
	if (hl + pad > n)
		return -EINVAL;
	if (grow((void **)&s->pkt, &s->cap, s->n + 1, sizeof(*r)) < 0 ||
	    grow((void **)&s->bytes, &s->bytes_cap, s->nbytes + n, 1) < 0)
		return -ENOMEM;
	r = &s->pkt[s->n++];
	r->t = t;
	r->marker = d[1] >> 7;
	r->pt = d[1] & 0x7f;
	r->seq = (uint16_t)(d[2] << 8 | d[3]);
	r->ts = be32(d + 4);
	r->ssrc = be32(d + 8);
	r->off = s->nbytes;
	r->len = n - hl - pad;
	memcpy(s->bytes + s->nbytes, d + hl, r->len);
	s->nbytes += r->len;
	return 0;
}

void
rtp_store_free(struct rtp_store *s)
{
	free(s->pkt);
	free(s->bytes);
	memset(s, 0, sizeof(*s));
}

struct rtp_stats {
	unsigned long packets, dups, seq_errors, ts_errors, ssrcs;
	long lost;
	size_t bytes;
	double jitter_ms, spacing_ms, duration_s;
	uint8_t *payload;		/* in sequence order, no duplicates */
	size_t payload_len;
	int pt;
};

/* RTP timestamp units per payload byte run, where the codec makes that
 * exact: G.711 and G.722 advance by one per byte, GSM by 160 per frame.
 */
static long
rtp_samples(uint8_t pt, size_t len)
{
	if (pt == 0 || pt == 8 || pt == 9)
		return (long)len;
	if (pt == 3 && len % 33 == 0)
		return (long)(len / 33 * 160);
	return -1;
}

static unsigned long
count_ssrcs(const struct rtp_store *s)
{
	uint32_t seen[64];
	unsigned long n = 0, k;
	size_t i;

	for (i = 0; i < s->n; i++) {
		for (k = 0; k < n && k < 64 && seen[k] != s->pkt[i].ssrc; k++)
			;
		if (k == n && n < 64)
			seen[n++] = s->pkt[i].ssrc;
	}
	return n;
}

/* Arrival-order checks: sequence and timestamp continuity, and the
 * interarrival jitter estimate of RFC 3550 appendix A.8.
 */
static void
stats_arrival(const struct rtp_store *s, struct rtp_stats *st)
{
	double j = 0, transit, prev_transit = 0;
	const struct rtp_rec *p, *q;
	unsigned int clock = 8000;
	long adv;
	size_t i;

	for (i = 0; i < s->n; i++) {
		p = &s->pkt[i];
		if (call_codec_name(p->pt, &clock) == NULL)
			clock = 8000;
		transit = p->t * clock - p->ts;
		if (i == 0) {
			prev_transit = transit;
			continue;
		}
		q = &s->pkt[i - 1];
		if (p->seq != (uint16_t)(q->seq + 1))
			st->seq_errors++;
		adv = rtp_samples(q->pt, q->len);
		if (adv >= 0 && p->ts != (uint32_t)(q->ts + (uint32_t)adv))
			st->ts_errors++;
		j += (fabs(transit - prev_transit) - j) / 16.0;
		prev_transit = transit;
	}
	st->jitter_ms = j * 1000.0 / clock;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median_spacing_ms(const struct rtp_store *s)
{
	double *d, med;
	size_t i;

	if (s->n < 2 || (d = malloc((s->n - 1) * sizeof(*d))) == NULL)
		return 0;
	for (i = 1; i < s->n; i++)
		d[i - 1] = (s->pkt[i].t - s->pkt[i - 1].t) * 1000.0;
	qsort(d, s->n - 1, sizeof(*d), cmp_double);
	med = (d[(s->n - 2) / 2] + d[(s->n - 1) / 2]) / 2;
	free(d);
	return med;
}

struct seq_key {
	int64_t ext;			/* extended sequence number */
	size_t idx;			/* arrival index */
};

static int
cmp_seq(const void *a, const void *b)
{
	const struct seq_key *x = a, *y = b;

	if (x->ext != y->ext)
		return x->ext < y->ext ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Extends each 16-bit sequence number against the highest seen so far
 * (RFC 3550 appendix A.1), so that wrap and reordering both sort right.
 */
static struct seq_key *
seq_order(const struct rtp_store *s)
{
	struct seq_key *k = malloc((s->n ? s->n : 1) * sizeof(*k));
	int64_t high = 0;
	size_t i;

	if (k == NULL)
		return NULL;
	for (i = 0; i < s->n; i++) {
		k[i].idx = i;
		k[i].ext = i == 0 ? s->pkt[0].seq :
			   high + (int16_t)(s->pkt[i].seq - (uint16_t)high);
		if (i == 0 || k[i].ext > high)
			high = k[i].ext;
	}
	qsort(k, s->n, sizeof(*k), cmp_seq);
	return k;
}

/* Loss (appendix A.3: expected minus received) and the payload bytes in
 * sequence order, each sequence number once.
 */
static int
stats_sequence(const struct rtp_store *s, struct rtp_stats *st)
{
	struct seq_key *k = seq_order(s);
	const struct rtp_rec *p;
	size_t i;

	st->payload = malloc(s->nbytes ? s->nbytes : 1);
	if (k == NULL || st->payload == NULL) {
		free(k);
		return -ENOMEM;
	}
	for (i = 0; i < s->n; i++) {
		if (i > 0 && k[i].ext == k[i - 1].ext) {
			st->dups++;
			continue;
		}
		p = &s->pkt[k[i].idx];
		memcpy(st->payload + st->payload_len, s->bytes + p->off,
		       p->len);
		st->payload_len += p->len;
	}
	if (s->n > 0)
		st->lost = (long)(k[s->n - 1].ext - k[0].ext + 1) -
			   (long)(s->n - st->dups);
	free(k);
	return 0;
}

static int
stats_compute(const struct rtp_store *s, struct rtp_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->packets = s->n;
	st->bytes = s->nbytes;
	st->pt = s->n ? s->pkt[0].pt : -1;
	st->ssrcs = count_ssrcs(s);
	if (s->n > 1)
		st->duration_s = s->pkt[s->n - 1].t - s->pkt[0].t;
	stats_arrival(s, st);
	st->spacing_ms = median_spacing_ms(s);
	return stats_sequence(s, st);
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A Sun audio file: ".snd", data offset, size, encoding (1 mu-law,
 * 27 A-law), sample rate, channels, all big-endian, then the samples.
 */
static int
write_au(const char *path, const struct rtp_stats *st)
{
	uint8_t h[24];
	FILE *f;
	int rc = 0;

	put_be32(h, 0x2e736e64);
	put_be32(h + 4, sizeof(h));
	put_be32(h + 8, (uint32_t)st->payload_len);
	put_be32(h + 12, st->pt == 8 ? 27 : 1);
	put_be32(h + 16, 8000);
	put_be32(h + 20, 1);
	f = fopen(path, "wb");
	if (f == NULL)
		return -errno;
	if (fwrite(h, 1, sizeof(h), f) != sizeof(h) ||
	    fwrite(st->payload, 1, st->payload_len, f) != st->payload_len)
		rc = -EIO;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

/* "yes", "no" or "unknown": the payload heard against the attachment's. */
static const char *
compare_payload(const struct call_media *m, const struct rtp_stats *st)
{
	const uint8_t *ref = m->decoded + m->ref_off;
	size_t i, n;

	if (!m->have_ref)
		return "unknown";
	n = st->payload_len < m->ref_len ? st->payload_len : m->ref_len;
	for (i = 0; i < n && st->payload[i] == ref[i]; i++)
		;
	if (i == n && st->payload_len == m->ref_len) {
		printf("payload: %zu bytes, identical to the attachment\n", n);
		return "yes";
	}
	printf("payload: %zu bytes heard, %zu in the attachment, "
	       "first difference at byte %zu\n", st->payload_len,
	       m->ref_len, i);
	return "no";
}

static void
print_summary(const struct rtp_store *s, const struct call_result *r,
	      const struct rtp_stats *st)
{
	if (r->server[0] == '\0')
		printf("call: not placed: %s", r->reason);
	else
		printf("call: %s answered %d %s", r->server, r->status,
		       r->reason);
	if (r->status >= 200 && r->status < 300)
		printf(" in %.1f ms, media from %s pt %d", r->setup_ms,
		       r->remote_media, r->answer_pt);
	printf("\nrtp: %lu packets, %zu bytes, %ld lost, %lu duplicate, "
	       "%lu sequence and %lu timestamp errors, %lu SSRC\n",
	       st->packets, st->bytes, st->lost, st->dups, st->seq_errors,
	       st->ts_errors, st->ssrcs);
	printf("timing: %.3f s first to last, jitter %.3f ms, median "
	       "spacing %.3f ms\n", st->duration_s, st->jitter_ms,
	       st->spacing_ms);
	printf("other: %lu RTCP packets, %lu datagrams not RTP\n", s->rtcp,
	       s->bad);
	if (r->bye)
		printf("end: BYE from the media server, %lu RTP packets "
		       "after it\n", s->after_bye);
	else if (r->timed_out)
		printf("end: timeout, no BYE from the media server\n");
}

static void
print_result(const struct rtp_store *s, const struct call_result *r,
	     const struct rtp_stats *st, const char *identical)
{
	char reason[sizeof(r->reason)];
	int after_last;
	size_t i;

	/* the phrase goes inside quotes: keep it one token for parsers */
	for (i = 0; r->reason[i] != '\0'; i++)
		reason[i] = r->reason[i] == '"' ? '\'' : r->reason[i];
	reason[i] = '\0';
	after_last = r->bye && s->n > 0 && s->after_bye == 0 &&
		     r->bye_t >= s->pkt[s->n - 1].t;
	printf("result=%d reason=\"%s\" setup_ms=%.1f packets=%lu bytes=%zu "
	       "lost=%ld seq_errors=%lu ts_errors=%lu ssrcs=%lu "
	       "marker_first=%s jitter_ms=%.3f spacing_ms=%.3f bye=%s "
	       "bye_after_last=%s rtp_after_bye=%lu identical=%s "
	       "ok_copies=%u rtcp=%lu rtcp_sr=%lu rtcp_bye=%lu\n",
	       r->status, reason, r->setup_ms, st->packets, st->bytes,
	       st->lost, st->seq_errors, st->ts_errors, st->ssrcs,
	       s->n > 0 && s->pkt[0].marker ? "yes" : "no", st->jitter_ms,
	       st->spacing_ms, r->bye ? "yes" : "no",
	       after_last ? "yes" : "no", s->after_bye, identical,
	       r->ok_copies, s->rtcp, s->rtcp_sr, s->rtcp_bye);
}

int
call_report(const struct call_opts *o, const struct call_media *m,
	    const struct rtp_store *s, const struct call_result *r)
{
	struct rtp_stats st;
	const char *identical = "unknown";
	int rc, answered = r->status >= 200 && r->status < 300;

	rc = stats_compute(s, &st);
	if (rc < 0) {
		fprintf(stderr, "stats: %s\n", strerror(-rc));
		return 1;
	}
	print_summary(s, r, &st);
	if (answered)
		identical = compare_payload(m, &st);
	if (o->out != NULL && (rc = write_au(o->out, &st)) < 0)
		fprintf(stderr, "write %s: %s\n", o->out, strerror(-rc));
	print_result(s, r, &st, identical);
	free(st.payload);
	if (answered && r->bye && strcmp(identical, "no") != 0 && rc == 0)
		return 0;
	return r->status >= 300 ? 2 : 1;
}
