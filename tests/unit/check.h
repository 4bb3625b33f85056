/* Minimal assertions for the unit test programs: each failed check prints
 * its location and expression, and the program exits 1 at the end if any
 * failed.
 */
#ifndef ANNCD_TESTS_CHECK_H
#define ANNCD_TESTS_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n",		\
			__FILE__, __LINE__, #cond);			\
		check_failures++;					\
	}								\
} while (0)

#define CHECK_INT(got, want) do {					\
	long long g_ = (long long)(got), w_ = (long long)(want);	\
	if (g_ != w_) {							\
		fprintf(stderr, "%s:%d: %s is %lld, want %lld\n",	\
			__FILE__, __LINE__, #got, g_, w_);		\
		check_failures++;					\
	}								\
} while (0)

/* Compares a (pointer, length) view with a C string. */
#define CHECK_STRN(p, n, want) do {					\
	const char *w_ = (want);					\
	size_t n_ = (n);						\
	if (n_ != strlen(w_) || memcmp((p), w_, n_) != 0) {		\
		fprintf(stderr, "%s:%d: %s is \"%.*s\", want \"%s\"\n",	\
			__FILE__, __LINE__, #p, (int)n_,		\
			(const char *)(p), w_);				\
		check_failures++;					\
	}								\
} while (0)

#define CHECK_DONE() (check_failures ? 1 : 0)

#endif
