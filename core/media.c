/* Media formats at ingest: the content-type named in the INVITE with its
 * parameters, the container or raw payload each type holds (Sun .au,
 * raw G.711, L16, G.729, G.722 here; WAV in media_wav.c), and the codec
 * that payload is.  The result tells the packet planner where the payload
 * lies and how fast it plays.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/media.h"
#include "core/media_framed.h"
#include "core/media_priv.h"
#include "core/strnum.h"

/* Sun/NeXT audio file header: six big-endian 32-bit words. */
#define AU_MAGIC		0x2e736e64u	/* ".snd" */
#define AU_HDR_LEN		24
#define AU_SIZE_UNKNOWN		0xffffffffu
#define AU_ENC_MULAW_8		1
#define AU_ENC_ALAW_8		27


static _Thread_local char media_why_buf[112];

int
media_why(const char **why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(media_why_buf, sizeof(media_why_buf), fmt, ap);
	va_end(ap);
	*why = media_why_buf;
	return -1;
}

/* Every name a media type goes by (RFC 2046, RFC 4856, RFC 2586; the WAV
 * names in use, none registered but audio/vnd.wave's RFC 2361 family).
 */
static const struct {
	const char *name;
	enum media_type type;
} media_types[] = {
	{ "audio/basic", MEDIA_TYPE_AUDIO_BASIC },
	{ "audio/pcmu", MEDIA_TYPE_AUDIO_PCMU },
	{ "audio/pcma", MEDIA_TYPE_AUDIO_PCMA },
	{ "audio/l16", MEDIA_TYPE_AUDIO_L16 },
	{ "audio/wav", MEDIA_TYPE_AUDIO_WAV },
	{ "audio/x-wav", MEDIA_TYPE_AUDIO_WAV },
	{ "audio/wave", MEDIA_TYPE_AUDIO_WAV },
	{ "audio/vnd.wave", MEDIA_TYPE_AUDIO_WAV },
	{ "audio/g729", MEDIA_TYPE_AUDIO_G729 },
	{ "audio/g722", MEDIA_TYPE_AUDIO_G722 },
	{ "audio/amr", MEDIA_TYPE_AUDIO_AMR },
	{ "audio/amr-wb", MEDIA_TYPE_AUDIO_AMR_WB },
	{ "audio/mpeg", MEDIA_TYPE_AUDIO_MPEG },
	{ "video/mpeg", MEDIA_TYPE_VIDEO_MPEG },
};

/* Codec facts that do not depend on the content (RFC 3551 tables 4, 5). */
static const struct {
	const char *name;	/* rtpmap encoding name; NULL: not on wire */
	int16_t static_pt;	/* -1: dynamic */
} media_codecs[MEDIA_CODEC_MPV + 1] = {
	[MEDIA_CODEC_PCMU] = { "PCMU", 0 },
	[MEDIA_CODEC_PCMA] = { "PCMA", 8 },
	[MEDIA_CODEC_L16] = { "L16", -1 },
	[MEDIA_CODEC_G729] = { "G729", 18 },
	[MEDIA_CODEC_G722] = { "G722", 9 },
	[MEDIA_CODEC_AMR] = { "AMR", -1 },
	[MEDIA_CODEC_AMR_WB] = { "AMR-WB", -1 },
	[MEDIA_CODEC_MPA] = { "MPA", 14 },
	[MEDIA_CODEC_MPV] = { "MPV", 32 },
};

static const char *
media_trim(const char *b, const char **e)
{
	while (b < *e && (*b == ' ' || *b == '\t'))
		b++;
	while (*e > b && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
	return b;
}

/* The end of the parameter starting at p: the next ';' outside a quoted
 * string (RFC 822 quoted-string, with its backslash quoting).
 */
static const char *
media_param_end(const char *p, const char *end)
{
	int q = 0;

	for (; p < end; p++) {
		if (q && *p == '\\' && p + 1 < end)
			p++;
		else if (*p == '"')
			q = !q;
		else if (!q && *p == ';')
			break;
	}
	return p;
}

/* A parameter's value, quotes removed, as a number in base (10 for rate
 * and channels, 16 for RFC 2361's codec).  -1 when it is not one.
 */
static int
media_param_num(const char *v, const char *e, int base, unsigned long *out)
{
	size_t i, n = (size_t)(e - v);
	unsigned long x = 0;
	int d;

	if (n >= 2 && v[0] == '"' && e[-1] == '"') {
		v++;
		n -= 2;
	}
	if (base == 10)
		return strnum_parse(v, n, 0xffffffffu, out);
	if (n == 0 || n > 4)
		return -1;
	for (i = 0; i < n; i++) {
		d = v[i] >= '0' && v[i] <= '9' ? v[i] - '0' :
		    v[i] >= 'a' && v[i] <= 'f' ? v[i] - 'a' + 10 :
		    v[i] >= 'A' && v[i] <= 'F' ? v[i] - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		x = x << 4 | (unsigned long)d;
	}
	*out = x;
	return 0;
}

/* The WAV format tags a ;codec= may name: those media_wav.c plays, and
 * EXTENSIBLE, whose SubFormat then says which.
 */
static int
media_wav_codec_ok(unsigned long tag)
{
	return tag == 1 || tag == 6 || tag == 7 || tag == 0xfffe;
}

/* One parameter.  Those that change how the bytes are read must hold a
 * value anncd plays (RFC 2586 rate and channels; RFC 2361 codec, in
 * hexadecimal); any other parameter is ignored (RFC 2045 section 5.1).
 */
static int
media_param_apply(struct media_ctype *mt, const char *name, size_t n,
		  const char *v, const char *ve)
{
	unsigned long x;

	if (mt->type == MEDIA_TYPE_AUDIO_L16 && n == 4 &&
	    strncasecmp(name, "rate", 4) == 0) {
		if (media_param_num(v, ve, 10, &x) < 0 ||
		    (x != 8000 && x != 16000))
			return -1;
		mt->rate = (uint32_t)x;
	} else if (mt->type == MEDIA_TYPE_AUDIO_L16 && n == 8 &&
		   strncasecmp(name, "channels", 8) == 0) {
		if (media_param_num(v, ve, 10, &x) < 0 || x < 1 || x > 2)
			return -1;
		mt->channels = (uint8_t)x;
	} else if (mt->type == MEDIA_TYPE_AUDIO_WAV && n == 5 &&
		   strncasecmp(name, "codec", 5) == 0) {
		if (media_param_num(v, ve, 16, &x) < 0 ||
		    !media_wav_codec_ok(x))
			return -1;
		mt->codec = (uint16_t)x;
	}
	return 0;
}

/* ";" attribute "=" value, repeated, from p (at a ';') to end; an empty
 * parameter (a trailing ';') is let pass.
 */
static int
media_params(struct media_ctype *mt, const char *p, const char *end)
{
	const char *e, *eq, *nb, *ne, *vb, *ve;

	while (p < end) {
		p++;
		e = media_param_end(p, end);
		eq = memchr(p, '=', (size_t)(e - p));
		ne = eq != NULL ? eq : e;
		nb = media_trim(p, &ne);
		if (eq == NULL && nb == ne) {
			p = e;
			continue;
		}
		if (eq == NULL || nb == ne)
			return -1;
		ve = e;
		vb = media_trim(eq + 1, &ve);
		if (vb == ve ||
		    media_param_apply(mt, nb, (size_t)(ne - nb), vb, ve) < 0)
			return -1;
		p = e;
	}
	return 0;
}

enum media_type
media_type_parse(const char *ct, size_t len, struct media_ctype *mt)
{
	const char *end = ct + len, *semi = media_param_end(ct, end);
	const char *e = semi, *b = media_trim(ct, &e);
	size_t i, n = (size_t)(e - b);

	memset(mt, 0, sizeof(*mt));
	for (i = 0; i < sizeof(media_types) / sizeof(media_types[0]); i++) {
		if (n == strlen(media_types[i].name) &&
		    strncasecmp(b, media_types[i].name, n) == 0) {
			mt->type = media_types[i].type;
			break;
		}
	}
	if (mt->type != MEDIA_TYPE_UNSUPPORTED &&
	    media_params(mt, semi, end) < 0)
		memset(mt, 0, sizeof(*mt));
	if (mt->type == MEDIA_TYPE_AUDIO_L16) {
		/* RFC 2586 section 3: 8000 Hz and one channel by default. */
		mt->rate = mt->rate ? mt->rate : MEDIA_G711_RATE;
		mt->channels = mt->channels ? mt->channels : 1;
	}
	return mt->type;
}

uint32_t
media_ctype_form(const struct media_ctype *mt)
{
	uint32_t rate = mt->rate / 8000, ch = mt->channels;

	if (mt->type == MEDIA_TYPE_AUDIO_L16) {
		rate = rate ? rate : 1;
		ch = ch ? ch : 1;
	}
	return ((uint32_t)mt->type & 0x1f) | (rate & 3) << 5 | (ch & 3) << 7 |
	       (uint32_t)mt->codec << 9;
}

void
media_info_set(struct media_info *mi, enum media_codec c, size_t off,
	       size_t n, uint32_t sample_rate, uint8_t channels)
{
	memset(mi, 0, sizeof(*mi));
	mi->codec = c;
	mi->data_offset = off;
	mi->data_len = n;
	mi->sample_rate = sample_rate;
	mi->channels = channels;
	mi->clock_rate = sample_rate;
	switch (c) {
	case MEDIA_CODEC_PCMU:
	case MEDIA_CODEC_PCMA:
		mi->bits = 8;
		mi->bytes_per_ms = sample_rate / 1000 * channels;
		break;
	case MEDIA_CODEC_L16:
	case MEDIA_CODEC_PCM16LE:
		mi->bits = 16;
		mi->bytes_per_ms = sample_rate / 1000 * 2 * channels;
		break;
	case MEDIA_CODEC_G722:
		/* RFC 3551 section 4.5.2: 16 kHz audio, an 8000 Hz clock,
		 * 64 kbit/s. */
		mi->clock_rate = 8000;
		mi->bytes_per_ms = 8;
		break;
	case MEDIA_CODEC_G729:
		mi->bytes_per_ms = MEDIA_G729_FRAME / 10;
		break;
	default:
		break;
	}
}

/* Where the audio lies: the header's data offset, and a data size that is
 * either exact or "unknown" (the rest of the file, as a writer that
 * streams its output leaves it).  Trailing bytes past the size (some tools
 * append an info chunk) are ignored; a size beyond the end is refused
 * rather than clipped, since the file was evidently cut short.
 */
static int
media_au_extent(const uint8_t *data, size_t len, size_t *off, size_t *n,
		const char **why)
{
	uint32_t hoff = media_be32(data + 4), hsize = media_be32(data + 8);

	if (hoff < AU_HDR_LEN || hoff > len)
		return media_why(why, "au: data offset %u outside file of "
				 "%zu bytes", hoff, len);
	*off = hoff;
	*n = hsize == AU_SIZE_UNKNOWN ? len - hoff : hsize;
	if (*n > len - hoff)
		return media_why(why, "au: data size %u exceeds file (%zu "
				 "bytes of data)", hsize, len - hoff);
	return 0;
}

/* The format fields: only what plays as G.711 without transcoding. */
static int
media_au_format(const uint8_t *data, enum media_codec *c, const char **why)
{
	uint32_t enc = media_be32(data + 12);
	uint32_t rate = media_be32(data + 16);
	uint32_t chans = media_be32(data + 20);

	if (enc == AU_ENC_MULAW_8)
		*c = MEDIA_CODEC_PCMU;
	else if (enc == AU_ENC_ALAW_8)
		*c = MEDIA_CODEC_PCMA;
	else
		return media_why(why, "au: encoding %u not supported", enc);
	if (rate != MEDIA_G711_RATE)
		return media_why(why, "au: sample rate %u not supported "
				 "(8000 only)", rate);
	if (chans != 1)
		return media_why(why, "au: channels %u not supported (mono "
				 "only)", chans);
	return 0;
}

static int
media_au_probe(const struct media_ctype *mt, const uint8_t *data,
	       size_t avail, size_t len, struct media_info *mi,
	       const char **why)
{
	enum media_codec c = MEDIA_CODEC_NONE;
	size_t off = 0, n = 0;

	(void)mt;
	if (avail < AU_HDR_LEN)
		return media_why(why, "au: header truncated (%zu bytes)",
				 avail);
	if (media_be32(data) != AU_MAGIC) {
		*why = "au: magic is not .snd";
		return -1;
	}
	if (media_au_extent(data, len, &off, &n, why) != 0 ||
	    media_au_format(data, &c, why) != 0)
		return -1;
	if (n == 0) {
		*why = "au: data size 0";
		return -1;
	}

	media_info_set(mi, c, off, n, MEDIA_G711_RATE, 1);
	return 0;
}

/* RFC 4856 raw G.711: no header, every byte is a sample. */
static int
media_g711_probe(const struct media_ctype *mt, const uint8_t *data,
		 size_t avail, size_t len, struct media_info *mi,
		 const char **why)
{
	(void)data;
	(void)avail;
	if (len == 0) {
		*why = "raw g711: empty content";
		return -1;
	}
	media_info_set(mi, mt->type == MEDIA_TYPE_AUDIO_PCMU ?
		       MEDIA_CODEC_PCMU : MEDIA_CODEC_PCMA, 0, len,
		       MEDIA_G711_RATE, 1);
	return 0;
}

/* RFC 2586: big-endian 16-bit samples, channels interleaved.  A last
 * sample frame cut short is dropped: the file was evidently truncated
 * mid-write, and what precedes it is sound.
 */
static int
media_l16_probe(const struct media_ctype *mt, const uint8_t *data,
		size_t avail, size_t len, struct media_info *mi,
		const char **why)
{
	uint32_t rate = mt->rate ? mt->rate : MEDIA_G711_RATE;
	uint8_t ch = mt->channels ? mt->channels : 1;
	size_t frame = 2u * ch;

	(void)data;
	(void)avail;
	if (len < frame)
		return media_why(why, "l16: %zu bytes hold no sample frame "
				 "of %zu bytes", len, frame);
	media_info_set(mi, MEDIA_CODEC_L16, 0, len - len % frame, rate, ch);
	return 0;
}

int
media_g192_frame(const uint8_t *p, size_t n, size_t *flen, uint8_t *out,
		 size_t *out_len)
{
	uint16_t sync, bits;
	size_t i;

	if (n < MEDIA_G192_HDR)
		return -1;
	sync = media_le16(p);
	bits = media_le16(p + 2);
	if ((sync != MEDIA_G192_SYNC && sync != MEDIA_G192_SYNC_BAD) ||
	    (bits != 0 && bits != 15 && bits != 16 && bits != 80))
		return -1;
	if (n - MEDIA_G192_HDR < 2u * bits)
		return -2;
	*flen = MEDIA_G192_HDR + 2u * bits;
	memset(out, 0, MEDIA_G729_FRAME);
	for (i = 0; i < bits; i++) {
		uint16_t w = media_le16(p + MEDIA_G192_HDR + 2 * i);

		if (w != MEDIA_G192_BIT1 && w != MEDIA_G192_BIT0)
			return -1;
		if (w == MEDIA_G192_BIT1)
			out[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	}
	/* An erased frame sends nothing, as an untransmitted one. */
	*out_len = sync == MEDIA_G192_SYNC_BAD || bits == 0 ? 0 :
		   bits == 80 ? MEDIA_G729_FRAME : MEDIA_G729_SID;
	return 0;
}

/* A file that opens with a G.192 frame header is G.192: 1 when its
 * frames in the bytes at hand all read as G.729 (the planner reads the
 * rest), -1 with *why when one does not, 0 for a file that does not open
 * so.
 */
static int
media_g729_g192(const uint8_t *data, size_t avail, size_t len,
		const char **why)
{
	uint8_t frame[MEDIA_G729_FRAME];
	size_t off = 0, flen, n;
	int r;

	if (media_g192_frame(data, avail < MEDIA_G192_HDR ? avail :
			     MEDIA_G192_HDR, &flen, frame, &n) == -1)
		return 0;
	while (off < avail) {
		r = media_g192_frame(data + off, avail - off, &flen, frame, &n);
		if (r == -2 && avail < len)
			return 1;
		if (r < 0)
			return media_why(why, "g729: G.192 frame at offset %zu "
					 "%s", off, r == -2 ? "cut short" :
					 "is not a G.729 frame");
		off += flen;
	}
	return 1;
}

/* Raw G.729 comes two ways.  A plain concatenation of 10-byte frames:
 * a 2-byte SID frame cannot be told from the start of a speech frame by
 * its bytes, so, as in an RTP payload (RFC 3551 section 4.5.6), one may
 * only end the file (a length of 10n + 2).  Or the ITU-T G.192 serial
 * bitstream the G.729 reference coder writes (little-endian words),
 * whose frame headers tell speech, SID and untransmitted frames apart
 * anywhere in the file.
 */
static int
media_g729_probe(const struct media_ctype *mt, const uint8_t *data,
		 size_t avail, size_t len, struct media_info *mi,
		 const char **why)
{
	size_t rem = len % MEDIA_G729_FRAME;
	int g192;

	(void)mt;
	g192 = media_g729_g192(data, avail, len, why);
	if (g192 < 0)
		return -1;
	if (g192 == 1) {
		media_info_set(mi, MEDIA_CODEC_G729, 0, len, MEDIA_G711_RATE,
			       1);
		mi->framing = MEDIA_FRAMING_G192;
		return 0;
	}
	if (rem != 0 && rem != MEDIA_G729_SID)
		return media_why(why, "g729: %zu bytes are not 10-byte frames "
				 "with at most one 2-byte SID frame at the "
				 "end", len);
	if (len < MEDIA_G729_FRAME)
		return media_why(why, "g729: %zu bytes hold no speech frame",
				 len);
	media_info_set(mi, MEDIA_CODEC_G729, 0, len, MEDIA_G711_RATE, 1);
	mi->sid_bytes = (uint8_t)rem;
	return 0;
}

/* Raw G.722 octets: 64 kbit/s, any whole number of bytes. */
static int
media_g722_probe(const struct media_ctype *mt, const uint8_t *data,
		 size_t avail, size_t len, struct media_info *mi,
		 const char **why)
{
	(void)mt;
	(void)data;
	(void)avail;
	if (len == 0) {
		*why = "g722: empty content";
		return -1;
	}
	media_info_set(mi, MEDIA_CODEC_G722, 0, len, 16000, 1);
	return 0;
}

/* One probe per media type; a new container adds its line here. */
static media_probe_fn *const media_probes[MEDIA_TYPE_VIDEO_MPEG + 1] = {
	[MEDIA_TYPE_AUDIO_BASIC] = media_au_probe,
	[MEDIA_TYPE_AUDIO_PCMU] = media_g711_probe,
	[MEDIA_TYPE_AUDIO_PCMA] = media_g711_probe,
	[MEDIA_TYPE_AUDIO_L16] = media_l16_probe,
	[MEDIA_TYPE_AUDIO_WAV] = media_wav_probe,
	[MEDIA_TYPE_AUDIO_G729] = media_g729_probe,
	[MEDIA_TYPE_AUDIO_G722] = media_g722_probe,
	[MEDIA_TYPE_AUDIO_AMR] = media_framed_probe,
	[MEDIA_TYPE_AUDIO_AMR_WB] = media_framed_probe,
	[MEDIA_TYPE_AUDIO_MPEG] = media_framed_probe,
	[MEDIA_TYPE_VIDEO_MPEG] = media_framed_probe,
};

int
media_probe(const struct media_ctype *mt, const uint8_t *data, size_t len,
	    struct media_info *mi, const char **why)
{
	return media_probe_prefix(mt, data, len, len, mi, why);
}

int
media_probe_prefix(const struct media_ctype *mt, const uint8_t *data,
		   size_t avail, size_t len, struct media_info *mi,
		   const char **why)
{
	size_t t = (size_t)mt->type;

	if (t >= sizeof(media_probes) / sizeof(media_probes[0]) ||
	    media_probes[t] == NULL) {
		*why = "unsupported media type";
		return -1;
	}
	return media_probes[t](mt, data, avail < len ? avail : len, len, mi,
			       why);
}

int
media_codec_static_pt(enum media_codec c)
{
	if ((size_t)c >= sizeof(media_codecs) / sizeof(media_codecs[0]) ||
	    media_codecs[c].name == NULL)
		return -1;
	return media_codecs[c].static_pt;
}

const char *
media_codec_name(enum media_codec c)
{
	if ((size_t)c >= sizeof(media_codecs) / sizeof(media_codecs[0]))
		return NULL;
	return media_codecs[c].name;
}
