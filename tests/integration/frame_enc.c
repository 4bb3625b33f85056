/* frame-enc: encodes 16-bit mono PCM into the speech codecs that Debian's
 * ffmpeg decodes but cannot encode, for the format tests' attachments:
 * G.729 with bcg729 (raw 10-byte frames, as audio/G729 carries them),
 * AMR with opencore-amrnb and AMR-WB with vo-amrwbenc (the RFC 4867
 * section 5 storage format).  A mode list changes the AMR mode every
 * second, so that one file holds frames of several sizes.
 *
 *   frame-enc g729|amr|amr-wb [-d] [-m MODE,...] IN.s16le OUT
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bcg729/encoder.h>
#include <opencore-amrnb/interf_enc.h>
#include <vo-amrwbenc/enc_if.h>

#define ENC_MAX_MODES		16
#define ENC_FRAMES_PER_MODE	50	/* 1 s of 20 ms frames */
#define ENC_MAX_SAMPLES		320	/* AMR-WB: 20 ms at 16 kHz */
#define ENC_MAX_FRAME		64

enum enc_codec { ENC_G729, ENC_AMR, ENC_AMR_WB };

struct enc {
	enum enc_codec codec;
	int dtx;
	int modes[ENC_MAX_MODES];
	unsigned int n_modes;
	void *st;
	unsigned long frames;
};

/* Samples per frame: 10 ms at 8 kHz, 20 ms at 8 or 16 kHz. */
static size_t
enc_samples(const struct enc *e)
{
	return e->codec == ENC_G729 ? 80 : e->codec == ENC_AMR ? 160 : 320;
}

static int
enc_open(struct enc *e, FILE *out)
{
	static const char amr[] = "#!AMR\n", wb[] = "#!AMR-WB\n";

	switch (e->codec) {
	case ENC_G729:
		e->st = initBcg729EncoderChannel((uint8_t)e->dtx);
		return e->st ? 0 : -ENOMEM;
	case ENC_AMR:
		e->st = Encoder_Interface_init(e->dtx);
		return e->st && fwrite(amr, 1, 6, out) == 6 ? 0 : -EIO;
	case ENC_AMR_WB:
		e->st = E_IF_init();
		return e->st && fwrite(wb, 1, 9, out) == 9 ? 0 : -EIO;
	}
	return -EINVAL;
}

static void
enc_close(struct enc *e)
{
	if (e->st == NULL)
		return;
	if (e->codec == ENC_G729)
		closeBcg729EncoderChannel(e->st);
	else if (e->codec == ENC_AMR)
		Encoder_Interface_exit(e->st);
	else
		E_IF_exit(e->st);
}

/* One frame; returns its bytes (0 for nothing sent, a G.729 DTX gap). */
static int
enc_frame(struct enc *e, const int16_t *pcm, uint8_t *out)
{
	int mode = e->modes[(e->frames / ENC_FRAMES_PER_MODE) % e->n_modes];
	uint8_t len = 0;

	e->frames++;
	switch (e->codec) {
	case ENC_G729:
		bcg729Encoder(e->st, pcm, out, &len);
		return len;
	case ENC_AMR:
		return Encoder_Interface_Encode(e->st, (enum Mode)mode, pcm,
						out, 0);
	case ENC_AMR_WB:
		return E_IF_encode(e->st, mode, pcm, out, e->dtx);
	}
	return -EINVAL;
}

static int
enc_run(struct enc *e, FILE *in, FILE *out)
{
	int16_t pcm[ENC_MAX_SAMPLES];
	uint8_t frame[ENC_MAX_FRAME];
	size_t n, want = enc_samples(e);
	int len;

	/* a short last frame is padded with silence, as a codec would */
	while ((n = fread(pcm, 2, want, in)) > 0) {
		memset(pcm + n, 0, (want - n) * 2);
		len = enc_frame(e, pcm, frame);
		if (len < 0 || (size_t)len > sizeof(frame))
			return -EINVAL;
		if (fwrite(frame, 1, (size_t)len, out) != (size_t)len)
			return -EIO;
	}
	return ferror(in) ? -EIO : 0;
}

static int
parse_modes(struct enc *e, char *list)
{
	char *tok, *save = NULL, *end;
	long v;

	e->n_modes = 0;
	for (tok = strtok_r(list, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		v = strtol(tok, &end, 10);
		/* AMR modes 0-7, AMR-WB modes 0-8 (RFC 4867 section 3.6) */
		if (*end != '\0' || v < 0 || v > (e->codec == ENC_AMR ? 7 : 8) ||
		    e->n_modes == ENC_MAX_MODES)
			return -EINVAL;
		e->modes[e->n_modes++] = (int)v;
	}
	return e->n_modes > 0 ? 0 : -EINVAL;
}

static int
parse_args(int argc, char **argv, struct enc *e)
{
	int c;

	if (argc < 2)
		return -EINVAL;
	if (strcmp(argv[1], "g729") == 0)
		e->codec = ENC_G729;
	else if (strcmp(argv[1], "amr") == 0)
		e->codec = ENC_AMR;
	else if (strcmp(argv[1], "amr-wb") == 0)
		e->codec = ENC_AMR_WB;
	else
		return -EINVAL;
	e->modes[0] = e->codec == ENC_AMR ? 7 : 8;	/* the highest rate */
	e->n_modes = 1;
	optind = 2;
	while ((c = getopt(argc, argv, "dm:")) != -1) {
		if (c == 'd')
			e->dtx = 1;
		else if (c != 'm' || e->codec == ENC_G729 ||
			 parse_modes(e, optarg) < 0)
			return -EINVAL;
	}
	return argc - optind == 2 ? 0 : -EINVAL;
}

int
main(int argc, char **argv)
{
	struct enc e = { 0 };
	FILE *in = NULL, *out = NULL;
	int rc;

	if (parse_args(argc, argv, &e) < 0) {
		fprintf(stderr, "usage: frame-enc g729|amr|amr-wb [-d] "
			"[-m MODE,...] IN.s16le OUT\n");
		return 2;
	}
	in = fopen(argv[optind], "rb");
	out = fopen(argv[optind + 1], "wb");
	rc = in && out ? enc_open(&e, out) : -errno;
	if (rc == 0)
		rc = enc_run(&e, in, out);
	enc_close(&e);
	if (in)
		fclose(in);
	if (out && fclose(out) != 0 && rc == 0)
		rc = -errno;
	if (rc < 0)
		fprintf(stderr, "frame-enc: %s\n", strerror(-rc));
	return rc < 0;
}
