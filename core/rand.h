/* Random bytes and hex tokens from the kernel's CSPRNG, for SIP tags
 * and branches (RFC 3261 sections 19.3 and 8.1.1.7), SSRCs and RTP
 * bases, without a system call for each.  Control thread only: the pool
 * is not shared between threads.
 */
#ifndef ANNCD_CORE_RAND_H
#define ANNCD_CORE_RAND_H

#include <stddef.h>

/* n fresh bytes into p; on a getrandom() failure (logged) p keeps what
 * it had. */
void
rand_bytes(void *p, size_t n);

/* cap - 1 hex digits of fresh randomness, at most 32, NUL-terminated. */
void
rand_token(char *out, size_t cap);

#endif
