/* Shared by the libFuzzer targets, one per parser: the input copied into a
 * heap block of exactly its size, so that AddressSanitizer stops a parser
 * that reads one byte past it, and a check that aborts, so that libFuzzer
 * keeps the input that broke an invariant.
 */
#ifndef ANNCD_TESTS_FUZZ_H
#define ANNCD_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The entry point libFuzzer calls with each input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant broken: %s\n",	\
			__FILE__, __LINE__, #cond);			\
		abort();						\
	}								\
} while (0)

/* malloc(0) gives a block of no usable bytes under ASan, so an empty input
 * is guarded too.
 */
static inline char *
fuzz_copy(const void *data, size_t size)
{
	char *p = malloc(size);

	if (p == NULL && size != 0)
		abort();
	if (size != 0)
		memcpy(p, data, size);
	return p;
}

/* Whether the view [p, p + n) lies inside [base, base + len); an empty
 * view may point anywhere.  Compared as integers: the pointers may belong
 * to different objects when a parser goes wrong.
 */
static inline int
fuzz_within(const void *p, size_t n, const void *base, size_t len)
{
	uintptr_t v = (uintptr_t)p, b = (uintptr_t)base;

	if (n == 0)
		return 1;
	return v >= b && v <= b + len && n <= b + len - v;
}

#endif
