/* Reads a file as a framed media type, cuts it into RTP payloads as the
 * plan would, and prints one line per frame or picture that the payloads
 * carry, rebuilt from their payload headers, then a summary line.  The
 * shell test compares these lines with what ffprobe reports.
 *
 *   framed_dump TYPE FMT_INDEX FILE
 *
 * TYPE is a content-type (audio/amr, audio/mpeg, video/mpeg...), FMT_INDEX
 * the index in the list of formats the content can be sent as.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/media_framed.h"

#define DUMP_MAX_FMTS	4

static uint8_t *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b = NULL;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (b = malloc((size_t)n + 1)) == NULL ||
	    fread(b, 1, (size_t)n, f) != (size_t)n) {
		perror(path);
		exit(2);
	}
	fclose(f);
	*len = (size_t)n;
	return b;
}

static void
dump_pkts(const struct media_out *o, const struct media_fmt *fmt)
{
	uint32_t i, frames = 0;

	for (i = 0; i < o->npkts; i++) {
		const struct media_pkt *p = &o->pkt[i];
		const uint8_t *b = o->buf + p->off;

		printf("pkt %u len %u ts %u m %u", i, p->len, p->ts,
		       p->flags & MEDIA_PKT_MARKER);
		if (fmt->codec == MEDIA_CODEC_MPA)
			printf(" frag %u", b[2] << 8 | b[3]);
		if (fmt->codec == MEDIA_CODEC_MPV)
			printf(" tr %u type %u sbe %u%u%u",
			       (b[0] & 3) << 8 | b[1], b[2] & 7,
			       b[2] >> 5 & 1, b[2] >> 4 & 1, b[2] >> 3 & 1);
		if (fmt->codec == MEDIA_CODEC_AMR ||
		    fmt->codec == MEDIA_CODEC_AMR_WB) {
			uint32_t k = 1;

			if (fmt->flags & MEDIA_FMT_AMR_OCTET)
				while (b[k] & 0x80)
					k++;
			frames += k;
		}
		printf("\n");
	}
	printf("summary packets=%u bytes=%zu span_ts=%u amr_frames=%u\n",
	       o->npkts, o->len, o->span_ts, frames);
}

int
main(int argc, char **argv)
{
	struct media_fmt fmts[DUMP_MAX_FMTS];
	struct media_out o = { 0 };
	struct media_info mi;
	struct media_ctype mt;
	const char *why = "";
	unsigned int nf, idx;
	size_t len;
	uint8_t *d;
	int r;

	if (argc != 4) {
		fprintf(stderr, "usage: framed_dump TYPE FMT_INDEX FILE\n");
		return 2;
	}
	d = read_file(argv[3], &len);
	media_type_parse(argv[1], strlen(argv[1]), &mt);
	if (media_probe(&mt, d, len, &mi, &why) != 0) {
		printf("refused %s\n", why);
		return 1;
	}
	nf = media_framed_fmts(&mi, fmts, DUMP_MAX_FMTS);
	idx = (unsigned int)atoi(argv[2]);
	if (idx >= nf) {
		printf("refused format %u of %u\n", idx, nf);
		return 1;
	}
	if (mi.flags & MEDIA_INFO_MPEG_PS) {
		struct media_ps_es es = { 0 };
		uint8_t sid = fmts[idx].codec == MEDIA_CODEC_MPV ?
			      MEDIA_PS_VIDEO : MEDIA_PS_AUDIO;

		r = media_ps_demux(d, len, sid, &es, &why);
		if (r == 0)
			r = sid == MEDIA_PS_VIDEO ?
			    media_mpv_packetize(es.buf, es.len,
				(uint32_t)(es.first_pts - es.origin_pts),
				&o, &why) :
			    media_mpa_packetize(es.buf, es.len,
				(uint32_t)(es.first_pts - es.origin_pts),
				&o, &why);
		free(es.buf);
	} else if (fmts[idx].codec == MEDIA_CODEC_MPA) {
		r = media_mpa_packetize(d + mi.data_offset, mi.data_len, 0,
					&o, &why);
	} else if (fmts[idx].codec == MEDIA_CODEC_MPV) {
		r = media_mpv_packetize(d + mi.data_offset, mi.data_len, 0,
					&o, &why);
	} else {
		r = media_amr_packetize(d + mi.data_offset, mi.data_len, &mi,
					&fmts[idx], 20, 0, &o, &why);
	}
	if (r != 0) {
		printf("refused %s\n", why);
		return 1;
	}
	dump_pkts(&o, &fmts[idx]);
	media_out_free(&o);
	free(d);
	return 0;
}
