/* WAV files (RIFF WAVE): the chunk walk to the `fmt ` and `data` chunks
 * and the formats anncd plays from them, 16-bit PCM, mu-law and A-law at
 * 8 or 16 kHz, mono or stereo.  Conversion to a payload format happens in
 * the packet planner (core/media_plan.c); here only where the samples lie
 * and what they are.
 */
#include <string.h>

#include "core/media.h"
#include "core/media_priv.h"

#define WAV_HDR_LEN		12	/* "RIFF" size "WAVE" */
#define WAV_CHUNK_HDR		8	/* id, little-endian size */
#define WAV_FMT_MIN		16	/* WAVEFORMAT + wBitsPerSample */
#define WAV_FMT_EXT_LEN		40	/* WAVEFORMATEXTENSIBLE */
#define WAV_EXT_CB_SIZE		22	/* its cbSize */
/* A data size a streaming writer leaves when it cannot seek back. */
#define WAV_SIZE_STREAMED	0xffffffffu

#define WAV_TAG_PCM		0x0001
#define WAV_TAG_ALAW		0x0006
#define WAV_TAG_MULAW		0x0007
#define WAV_TAG_EXTENSIBLE	0xfffe

/* The KSDATAFORMAT SubFormat GUIDs of the plain tags are the tag as the
 * first field and this fixed tail: {0000tttt-0000-0010-8000-00aa00389b71}
 * in the GUID's little-endian storage.
 */
static const uint8_t wav_guid_tail[14] = {
	0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00,
	0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71,
};

struct wav_fmt {
	uint16_t tag;			/* as in the chunk */
	uint16_t eff;			/* EXTENSIBLE: the SubFormat's */
	uint16_t channels;
	uint32_t rate;
	uint16_t block_align;
	uint16_t bits;
};

/* WAVEFORMATEX is 18 bytes and its cbSize may say 0; EXTENSIBLE must
 * carry the 22 bytes that hold the SubFormat.
 */
static int
wav_fmt_read(const uint8_t *p, uint32_t size, struct wav_fmt *f,
	     const char **why)
{
	if (size < WAV_FMT_MIN)
		return media_why(why, "wav: fmt chunk of %u bytes, under 16",
				 size);
	f->tag = media_le16(p);
	f->channels = media_le16(p + 2);
	f->rate = media_le32(p + 4);
	f->block_align = media_le16(p + 12);
	f->bits = media_le16(p + 14);
	f->eff = f->tag;
	if (f->tag != WAV_TAG_EXTENSIBLE)
		return 0;
	if (size < WAV_FMT_EXT_LEN || media_le16(p + 16) < WAV_EXT_CB_SIZE)
		return media_why(why, "wav: EXTENSIBLE fmt chunk of %u bytes, "
				 "under 40", size);
	if (memcmp(p + 26, wav_guid_tail, sizeof(wav_guid_tail)) != 0)
		return media_why(why, "wav: EXTENSIBLE SubFormat GUID is not "
				 "a format tag's");
	f->eff = media_le16(p + 24);
	return 0;
}

static enum media_codec
wav_codec(uint16_t tag)
{
	switch (tag) {
	case WAV_TAG_PCM:
		return MEDIA_CODEC_PCM16LE;
	case WAV_TAG_ALAW:
		return MEDIA_CODEC_PCMA;
	case WAV_TAG_MULAW:
		return MEDIA_CODEC_PCMU;
	default:
		return MEDIA_CODEC_NONE;
	}
}

/* What anncd converts at ingest: 16-bit PCM or 8-bit G.711, 8 or 16 kHz,
 * one or two channels; each refusal names the value.
 */
static int
wav_fmt_check(const struct wav_fmt *f, const struct media_ctype *mt,
	      const char **why)
{
	unsigned int want_bits = f->eff == WAV_TAG_PCM ? 16 : 8;

	if (wav_codec(f->eff) == MEDIA_CODEC_NONE)
		return media_why(why, "wav: format tag %u not supported",
				 f->eff);
	if (mt->codec != 0 && mt->codec != f->tag && mt->codec != f->eff)
		return media_why(why, "wav: content-type codec=%x but format "
				 "tag %u", mt->codec, f->eff);
	if (f->bits != want_bits)
		return media_why(why, "wav: %u bits per sample not supported "
				 "for format tag %u", f->bits, f->eff);
	if (f->rate != 8000 && f->rate != 16000)
		return media_why(why, "wav: %u Hz not supported", f->rate);
	if (f->channels != 1 && f->channels != 2)
		return media_why(why, "wav: %u channels not supported",
				 f->channels);
	if (f->block_align != f->channels * want_bits / 8)
		return media_why(why, "wav: block align %u for %u channels of "
				 "%u bits", f->block_align, f->channels,
				 f->bits);
	return 0;
}

/* The data chunk's extent.  Size 0 or 0xffffffff is a writer that could
 * not seek back (a pipe): the data runs to the end of the file.  A size
 * past the end is a file cut short: what arrived is played, down to a
 * whole sample frame.
 */
static int
wav_data(const struct wav_fmt *f, size_t off, uint32_t size, size_t len,
	 struct media_info *mi, const char **why)
{
	size_t n = len - off;

	if (size != 0 && size != WAV_SIZE_STREAMED && size < n)
		n = size;
	n -= n % f->block_align;
	if (n == 0)
		return media_why(why, "wav: data chunk holds no sample frame "
				 "(%zu bytes)", len - off);
	media_info_set(mi, wav_codec(f->eff), off, n, f->rate,
		       (uint8_t)f->channels);
	mi->format_tag = f->eff;
	return 0;
}

/* A chunk id fit for a log line: anything but printable ASCII is '.'. */
static const char *
wav_id(const uint8_t *p, char *out)
{
	int i;

	for (i = 0; i < 4; i++)
		out[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
	out[4] = '\0';
	return out;
}

/* Walks the chunks after the RIFF header: `fmt ` must come before `data`;
 * any other chunk (fact, LIST, JUNK, bext...) is skipped with its pad
 * byte (RIFF chunks start at even offsets).  Chunk headers must lie in
 * the avail bytes at hand.
 */
static int
wav_walk(const struct media_ctype *mt, const uint8_t *data, size_t avail,
	 size_t len, struct media_info *mi, const char **why)
{
	struct wav_fmt f = { 0 };
	char id[5];
	size_t off = WAV_HDR_LEN;
	int have_fmt = 0;
	uint32_t size;

	for (;;) {
		if (off + WAV_CHUNK_HDR > len)
			return media_why(why, "wav: no data chunk in %zu bytes",
					 len);
		if (off + WAV_CHUNK_HDR > avail)
			return media_why(why, "wav: chunk at offset %zu past "
					 "the first %zu bytes", off, avail);
		size = media_le32(data + off + 4);
		if (memcmp(data + off, "data", 4) == 0) {
			if (!have_fmt)
				return media_why(why, "wav: data chunk before "
						 "fmt chunk");
			return wav_data(&f, off + WAV_CHUNK_HDR, size, len,
					mi, why);
		}
		if (size > len - off - WAV_CHUNK_HDR)
			return media_why(why, "wav: chunk '%s' of %u bytes at "
					 "offset %zu exceeds the file",
					 wav_id(data + off, id), size, off);
		if (memcmp(data + off, "fmt ", 4) == 0 && !have_fmt) {
			if (size > avail - off - WAV_CHUNK_HDR)
				return media_why(why, "wav: fmt chunk past "
						 "the first %zu bytes", avail);
			if (wav_fmt_read(data + off + WAV_CHUNK_HDR, size, &f,
					 why) < 0 ||
			    wav_fmt_check(&f, mt, why) < 0)
				return -1;
			have_fmt = 1;
		}
		off += WAV_CHUNK_HDR + (size_t)size + (size & 1);
	}
}

int
media_wav_probe(const struct media_ctype *mt, const uint8_t *data,
		size_t avail, size_t len, struct media_info *mi,
		const char **why)
{
	if (avail < WAV_HDR_LEN)
		return media_why(why, "wav: header truncated (%zu bytes)",
				 avail);
	if (memcmp(data, "RIFF", 4) != 0 || memcmp(data + 8, "WAVE", 4) != 0)
		return media_why(why, "wav: not a RIFF WAVE file");
	return wav_walk(mt, data, avail, len, mi, why);
}
