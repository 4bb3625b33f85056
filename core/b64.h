/* Streaming base64 decoder (RFC 2045 section 6.8 as MIME writes it): fed
 * the encoded literal piece by piece as it arrives from the IMAP server,
 * it skips CRLF and other ASCII white space, accepts '=' padding only at
 * the end, and rejects any other byte with its offset in the whole input.
 * The bulk goes through the widest vector implementation the CPU has; all
 * implementations give the same bytes, state and errors.
 */
#ifndef ANNCD_CORE_B64_H
#define ANNCD_CORE_B64_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct b64_dec {
	uint32_t acc;		/* sextets of the quantum being assembled */
	unsigned int nsext;	/* how many sextets are in acc (0..3) */
	unsigned int npad;	/* '=' seen so far (0..2); after one, only
				 * '=' and white space may follow */
	uint64_t offset;	/* input bytes consumed over all calls */
	uint64_t err_offset;	/* offset of the offending byte */
	uint8_t err_byte;
};

/* The implementations, narrowest first.  b64_decode() uses the best one
 * the CPU has; tests and benchmarks name one with b64_decode_impl().
 */
enum b64_impl {
	B64_IMPL_SCALAR,
	B64_IMPL_SSSE3,
	B64_IMPL_AVX2,
	B64_IMPL_COUNT
};

void
b64_init(struct b64_dec *d);

/* Decodes len bytes of in into out, which must hold b64_decoded_max(len)
 * bytes.  Returns the number of bytes written, or -1 on an invalid byte
 * (d->err_offset and d->err_byte say which).
 */
ssize_t
b64_decode(struct b64_dec *d, const char *in, size_t len, uint8_t *out);

/* b64_decode() with the given implementation; one the CPU lacks decodes
 * with the scalar one instead.
 */
ssize_t
b64_decode_impl(enum b64_impl impl, struct b64_dec *d, const char *in,
		size_t len, uint8_t *out);

/* Whether this CPU can run impl. */
int
b64_impl_supported(enum b64_impl impl);

/* The implementation b64_decode() uses on this CPU. */
enum b64_impl
b64_impl_best(void);

/* "scalar", "ssse3", "avx2"; NULL for a value outside the enum. */
const char *
b64_impl_name(enum b64_impl impl);

/* Ends the input: 0 when it stopped on a whole quantum (or properly padded),
 * -1 when it was cut inside a quantum.
 */
int
b64_finish(struct b64_dec *d);

static inline size_t
b64_decoded_max(size_t enc_len)
{
	return (enc_len + 3) / 4 * 3 + 3;
}

#endif
