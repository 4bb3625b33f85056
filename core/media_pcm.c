/* Sample conversions at ingest: G.711 mu-law and A-law from the segment
 * rules of ITU-T G.711 (tables 1a and 2a), the 16 kHz to 8 kHz decimator
 * and the loop that reads one payload's samples and writes another's.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "core/media_pcm.h"

#define DEC2_HALF	((MEDIA_PCM_DEC2_TAPS - 1) / 2)
#define DEC2_MASK	(MEDIA_PCM_DEC2_RING - 1)
#define DEC2_CUTOFF	3800.0	/* Hz, at 16 kHz */
#define DEC2_BETA	7.0	/* Kaiser window: about -70 dB sidelobes */

#define ULAW_BIAS	33	/* G.711 mu-law: 14-bit magnitude + 33 */
#define ULAW_CLIP	8158	/* largest 14-bit magnitude coded */
#define ALAW_MAX	4095	/* largest 13-bit magnitude */

_Static_assert(MEDIA_PCM_DEC2_TAPS <= MEDIA_PCM_DEC2_RING &&
	       (MEDIA_PCM_DEC2_RING & DEC2_MASK) == 0,
	       "the filter's inputs fit its ring");

/* Position of the highest set bit of v > 0. */
static int
pcm_log2(unsigned int v)
{
	return 31 - __builtin_clz(v);
}

/* mu-law codes a 14-bit sample: the magnitude plus 33 lies in a segment
 * [32 << s, 64 << s) cut into 16 steps; the code is sign, segment, step,
 * all bits inverted (so +0 is 0xff).
 */
/* The magnitude of a 16-bit sample in the top bits of its sign-magnitude
 * form: a negative sample's ones' complement, as the ITU-T G.191 reference
 * code of G.711 takes it, so that -1 and 0 share the smallest step.
 */
static unsigned int
pcm_magnitude(int16_t s, unsigned int shift)
{
	return (unsigned int)(s < 0 ? ~s : s) >> shift;
}

uint8_t
media_pcm_ulaw_enc(int16_t s)
{
	unsigned int mask = s < 0 ? 0x7f : 0xff;
	unsigned int m = pcm_magnitude(s, 2), seg;

	if (m > ULAW_CLIP)
		m = ULAW_CLIP;
	m += ULAW_BIAS;
	seg = (unsigned int)pcm_log2(m) - 5;
	return (uint8_t)((seg << 4 | ((m >> (seg + 1)) & 0xf)) ^ mask);
}

/* The middle of the code's step, on the 16-bit scale. */
int16_t
media_pcm_ulaw_dec(uint8_t c)
{
	unsigned int u = (uint8_t)~c, seg = (u >> 4) & 7, q = u & 0xf;
	int m = (int)(((2 * q + ULAW_BIAS) << seg) - ULAW_BIAS);

	return (int16_t)((u & 0x80 ? -m : m) * 4);
}

/* A-law codes a 13-bit sample: segment 0 is [0, 32) in steps of 2,
 * segment s >= 1 is [16 << s, 32 << s) in 16 steps; the code is sign
 * (1: positive), segment, step, with the even bits inverted (xor 0x55).
 */
uint8_t
media_pcm_alaw_enc(int16_t s)
{
	unsigned int sign = s < 0 ? 0x00 : 0x80;
	unsigned int m = pcm_magnitude(s, 3), seg, q;

	if (m > ALAW_MAX)
		m = ALAW_MAX;
	if (m < 32) {
		seg = 0;
		q = m >> 1;
	} else {
		seg = (unsigned int)pcm_log2(m) - 4;
		q = (m >> seg) & 0xf;
	}
	return (uint8_t)((sign | seg << 4 | q) ^ 0x55);
}

int16_t
media_pcm_alaw_dec(uint8_t c)
{
	unsigned int u = c ^ 0x55u, seg = (u >> 4) & 7, q = u & 0xf;
	int m = seg == 0 ? (int)(2 * q + 1) :
			   (int)((2 * q + 33) << (seg - 1));

	return (int16_t)((u & 0x80 ? m : -m) * 8);
}

/* Zeroth-order modified Bessel function of the first kind, by its power
 * series; the terms fall fast for the window's arguments (<= beta).
 */
static double
pcm_bessel_i0(double x)
{
	double sum = 1.0, term = 1.0;
	int k;

	for (k = 1; k < 40; k++) {
		term *= (x / (2.0 * k)) * (x / (2.0 * k));
		sum += term;
	}
	return sum;
}

static float dec2_h[MEDIA_PCM_DEC2_TAPS];
static int dec2_ready;

/* The filter taps, computed once: a sinc at the cut-off under a Kaiser
 * window, scaled to unit gain at 0 Hz.  Ingest runs on one thread.
 */
static void
pcm_dec2_taps(void)
{
	double h[MEDIA_PCM_DEC2_TAPS], sum = 0.0, fc = DEC2_CUTOFF / 16000.0;
	int i;

	for (i = 0; i < MEDIA_PCM_DEC2_TAPS; i++) {
		double n = i - DEC2_HALF, r = n / DEC2_HALF;
		double sinc = n == 0 ? 2.0 * fc :
			      sin(2.0 * M_PI * fc * n) / (M_PI * n);

		h[i] = sinc * pcm_bessel_i0(DEC2_BETA * sqrt(1.0 - r * r)) /
		       pcm_bessel_i0(DEC2_BETA);
		sum += h[i];
	}
	for (i = 0; i < MEDIA_PCM_DEC2_TAPS; i++)
		dec2_h[i] = (float)(h[i] / sum);
	dec2_ready = 1;
}

int
media_pcm_conv_init(struct media_pcm_conv *cv, enum media_codec in,
		    uint32_t in_rate, uint8_t in_ch, enum media_codec out,
		    uint32_t out_rate, uint8_t out_ch)
{
	int in_ok = in == MEDIA_CODEC_PCMU || in == MEDIA_CODEC_PCMA ||
		    in == MEDIA_CODEC_L16 || in == MEDIA_CODEC_PCM16LE;
	int out_ok = out == MEDIA_CODEC_PCMU || out == MEDIA_CODEC_PCMA ||
		     out == MEDIA_CODEC_L16;

	memset(cv, 0, sizeof(*cv));
	if (!in_ok || !out_ok || in_ch < 1 || in_ch > 2 || out_ch < 1 ||
	    out_ch > in_ch || (in_rate != 8000 && in_rate != 16000) ||
	    (out_rate != 8000 && out_rate != in_rate) ||
	    (out_ch == 2 && out_rate != in_rate))
		return -EINVAL;
	cv->in = in;
	cv->out = out;
	cv->in_ch = in_ch;
	cv->out_ch = out_ch;
	cv->decimate = in_rate != out_rate;
	if (cv->decimate && !dec2_ready)
		pcm_dec2_taps();
	/* The filter is centred: output m is input 2m, with as many zeros
	 * before the first input as taps after the centre.
	 */
	cv->zn = DEC2_HALF;
	return 0;
}

static size_t
pcm_in_bytes(enum media_codec c)
{
	return c == MEDIA_CODEC_L16 || c == MEDIA_CODEC_PCM16LE ? 2 : 1;
}

size_t
media_pcm_conv_frame(const struct media_pcm_conv *cv)
{
	return pcm_in_bytes(cv->in) * cv->in_ch;
}

size_t
media_pcm_conv_max_out(const struct media_pcm_conv *cv, size_t n)
{
	size_t frames = n / media_pcm_conv_frame(cv) + DEC2_HALF + 1;

	return frames * cv->out_ch * pcm_in_bytes(cv->out);
}

static int
pcm_read(enum media_codec c, const uint8_t *p)
{
	switch (c) {
	case MEDIA_CODEC_PCMU:
		return media_pcm_ulaw_dec(p[0]);
	case MEDIA_CODEC_PCMA:
		return media_pcm_alaw_dec(p[0]);
	case MEDIA_CODEC_L16:
		return (int16_t)(p[0] << 8 | p[1]);
	default:
		return (int16_t)(p[1] << 8 | p[0]);
	}
}

static uint8_t *
pcm_write(enum media_codec c, int s, uint8_t *o)
{
	if (s > INT16_MAX)
		s = INT16_MAX;
	else if (s < INT16_MIN)
		s = INT16_MIN;
	switch (c) {
	case MEDIA_CODEC_PCMU:
		*o++ = media_pcm_ulaw_enc((int16_t)s);
		break;
	case MEDIA_CODEC_PCMA:
		*o++ = media_pcm_alaw_enc((int16_t)s);
		break;
	default:
		/* L16 is network byte order (RFC 3551 section 4.5.11). */
		*o++ = (uint8_t)((unsigned int)s >> 8);
		*o++ = (uint8_t)s;
		break;
	}
	return o;
}

/* One sample into the filter; every second one (counted from the
 * centred start) completes an output.  Returns 1 and *y when it does.
 * The taps are symmetric, so each pair of inputs the same distance from
 * the centre is summed before its one multiplication; four running sums
 * keep the additions independent.
 */
static int
pcm_dec2_push(struct media_pcm_conv *cv, float s, int *y)
{
	uint32_t at = cv->zn++ & DEC2_MASK;
	const float *w, *h = dec2_h;
	float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
	const int last = MEDIA_PCM_DEC2_TAPS - 1;
	int k;

	cv->z[at] = s;
	cv->z[at + MEDIA_PCM_DEC2_RING] = s;
	if (cv->zn < MEDIA_PCM_DEC2_TAPS ||
	    ((cv->zn - MEDIA_PCM_DEC2_TAPS) & 1) != 0)
		return 0;
	w = &cv->z[(cv->zn - MEDIA_PCM_DEC2_TAPS) & DEC2_MASK];
	for (k = 0; k + 4 <= DEC2_HALF; k += 4) {
		a0 += h[k] * (w[k] + w[last - k]);
		a1 += h[k + 1] * (w[k + 1] + w[last - k - 1]);
		a2 += h[k + 2] * (w[k + 2] + w[last - k - 2]);
		a3 += h[k + 3] * (w[k + 3] + w[last - k - 3]);
	}
	for (; k < DEC2_HALF; k++)
		a0 += h[k] * (w[k] + w[last - k]);
	a1 += h[DEC2_HALF] * w[DEC2_HALF];
	*y = (int)lrintf((a0 + a1) + (a2 + a3));
	cv->n_out++;
	return 1;
}

size_t
media_pcm_conv_run(struct media_pcm_conv *cv, const uint8_t *in, size_t n,
		   uint8_t *out)
{
	size_t step = pcm_in_bytes(cv->in), frame = step * cv->in_ch;
	uint8_t *o = out;
	size_t i;
	int s, r, y;

	for (i = 0; i + frame <= n; i += frame) {
		s = pcm_read(cv->in, in + i);
		if (cv->in_ch == 2) {
			r = pcm_read(cv->in, in + i + step);
			if (cv->out_ch == 2) {
				o = pcm_write(cv->out, s, o);
				o = pcm_write(cv->out, r, o);
				continue;
			}
			/* The mean, not the sum: a downmix never clips. */
			s = (s + r) / 2;
		}
		if (!cv->decimate) {
			o = pcm_write(cv->out, s, o);
			continue;
		}
		cv->n_in++;
		if (pcm_dec2_push(cv, (float)s, &y))
			o = pcm_write(cv->out, y, o);
	}
	return (size_t)(o - out);
}

size_t
media_pcm_conv_flush(struct media_pcm_conv *cv, uint8_t *out)
{
	uint8_t *o = out;
	int y;

	if (!cv->decimate)
		return 0;
	while (cv->n_out < (cv->n_in + 1) / 2) {
		if (pcm_dec2_push(cv, 0.0f, &y))
			o = pcm_write(cv->out, y, o);
	}
	return (size_t)(o - out);
}
