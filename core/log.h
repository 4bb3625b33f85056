/* Logging for the control plane: one line per event, on stderr, with a
 * module tag.  The dataplane never calls these on its packet path; it
 * counts instead (see dataplane/dp.h).
 */
#ifndef ANNCD_CORE_LOG_H
#define ANNCD_CORE_LOG_H

#include <stdarg.h>

enum log_level {
	LOGL_ERR = 0,	/* our own failures */
	LOGL_WARN,
	LOGL_INFO,	/* start-up, call outcomes, a peer's mistakes */
	LOGL_DEBUG,
};

extern enum log_level log_max_level;

void
log_write(enum log_level lvl, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Parses "error", "warn", "info" or "debug"; returns -1 on anything else. */
int
log_level_parse(const char *name);

#define LOG_AT(lvl, tag, ...) do {					\
	if ((lvl) <= log_max_level)					\
		log_write((lvl), (tag), __VA_ARGS__);			\
} while (0)

#endif
