/* Guard-page inputs for parser tests: the bytes are placed so that the
 * last one ends a readable page and the next page is inaccessible, so a
 * parser that reads one byte too far crashes the test instead of passing.
 */
#ifndef ANNCD_TESTS_GUARD_H
#define ANNCD_TESTS_GUARD_H

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct guard_buf {
	void *map;
	size_t map_len;
	char *p;	/* the copy, ending at the guard page */
};

static inline char *
guard_copy(struct guard_buf *g, const void *data, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t pages = (len + page - 1) / page + 1;

	g->map_len = (pages + 1) * page;
	g->map = mmap(NULL, g->map_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->map == MAP_FAILED)
		abort();
	if (mprotect((char *)g->map + pages * page, page, PROT_NONE) != 0)
		abort();
	g->p = (char *)g->map + pages * page - len;
	memcpy(g->p, data, len);
	return g->p;
}

static inline void
guard_free(struct guard_buf *g)
{
	munmap(g->map, g->map_len);
}

#endif
