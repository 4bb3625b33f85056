/* Sample conversions done once at ingest, so that a 16-bit PCM or G.711
 * attachment can be sent as whatever the caller offers: G.711 encoding
 * and decoding (ITU-T G.711), 16-bit byte order, stereo to mono, and
 * 16 kHz to 8 kHz behind a low-pass filter.  No DPDK: the probes' fuzz
 * targets and the unit tests link it alone.
 */
#ifndef ANNCD_CORE_MEDIA_PCM_H
#define ANNCD_CORE_MEDIA_PCM_H

#include <stddef.h>
#include <stdint.h>

#include "core/media.h"

/* The 16 kHz to 8 kHz filter: a Kaiser-windowed sinc, flat to 3.4 kHz,
 * -22 dB at 4 kHz and below -70 dB from 4.2 kHz, so that what folds back
 * onto the telephone band on decimation is inaudible.
 */
#define MEDIA_PCM_DEC2_TAPS	95
#define MEDIA_PCM_DEC2_RING	128	/* power of two above the taps */

uint8_t
media_pcm_ulaw_enc(int16_t s);
uint8_t
media_pcm_alaw_enc(int16_t s);
int16_t
media_pcm_ulaw_dec(uint8_t c);
int16_t
media_pcm_alaw_dec(uint8_t c);

/* One conversion from a payload as probed to a payload format.  in is
 * PCMU, PCMA, L16 or PCM16LE; out is PCMU, PCMA or L16.
 */
struct media_pcm_conv {
	enum media_codec in, out;
	uint8_t in_ch, out_ch;
	uint8_t decimate;		/* 16 kHz in, 8 kHz out */
	uint64_t n_in;			/* samples fed to the filter */
	uint64_t n_out;			/* samples it gave */
	uint32_t zn;			/* pushes into z, leading zeros
					 * included */
	float z[2 * MEDIA_PCM_DEC2_RING];	/* the filter's last inputs,
						 * each written twice so that
						 * the last taps' worth lies
						 * in one run */
};

/* 0, or -EINVAL when the conversion is not one of those above: stereo
 * out needs stereo in at the same rate; rates are 8000 or 16000 and may
 * only come down.
 */
int
media_pcm_conv_init(struct media_pcm_conv *cv, enum media_codec in,
		    uint32_t in_rate, uint8_t in_ch, enum media_codec out,
		    uint32_t out_rate, uint8_t out_ch);

/* Bytes of input per sample frame, and the most output bytes n input
 * bytes (plus a flush) can give.
 */
size_t
media_pcm_conv_frame(const struct media_pcm_conv *cv);
size_t
media_pcm_conv_max_out(const struct media_pcm_conv *cv, size_t n);

/* Converts n bytes, a whole number of input frames, into out; returns the
 * bytes written.
 */
size_t
media_pcm_conv_run(struct media_pcm_conv *cv, const uint8_t *in, size_t n,
		   uint8_t *out);

/* At the end of the input: the filter's last outputs, so that n input
 * samples at 16 kHz give ceil(n / 2) at 8 kHz.  Returns the bytes written.
 */
size_t
media_pcm_conv_flush(struct media_pcm_conv *cv, uint8_t *out);

#endif
