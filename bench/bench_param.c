/* The SIP URI parameter escaping of the bench callers: an IMAP URL in the
 * play= parameter of an announcement Request-URI (RFC 4240 section 3).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bench/bench_param.h"

/* RFC 3261 section 25.1: a URI parameter value holds unreserved and
 * param-unreserved characters; everything else, the ';' '=' '@' '?' '%'
 * of an IMAP URL among them, travels as %HH.
 */
int
bench_param_escape(char *out, size_t cap, const char *s, int raw)
{
	static const char keep[] = "-_.!~*'()[]/:&+$";
	size_t k = 0;

	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (k + 4 > cap)
			return -ENAMETOOLONG;
		if (raw || isalnum(ch) || strchr(keep, ch))
			out[k++] = (char)ch;
		else
			k += (size_t)snprintf(out + k, 4, "%%%02X", ch);
	}
	out[k] = '\0';
	return 0;
}
