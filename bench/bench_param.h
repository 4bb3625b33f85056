/* The SIP URI parameter escaping that both bench callers use to carry an
 * IMAP URL in a Request-URI (RFC 3261 section 25.1, RFC 4240 section 3).
 */
#ifndef ANNCD_BENCH_BENCH_PARAM_H
#define ANNCD_BENCH_BENCH_PARAM_H

#include <stddef.h>

/* Writes s into out with every character that a URI parameter value may
 * not hold as %HH, or s as it is when raw.  Returns 0 or -ENAMETOOLONG.
 */
int
bench_param_escape(char *out, size_t cap, const char *s, int raw);

#endif
