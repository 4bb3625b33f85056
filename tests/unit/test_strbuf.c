/* The output cursor of core/strbuf.c: decimal numbers without a format,
 * literals, and the buffer marked full by the first piece that does not
 * leave room for the NUL, never written past.
 */
#include <stdint.h>
#include <string.h>

#include "core/strbuf.h"
#include "tests/unit/check.h"

static void
test_putu(void)
{
	char buf[64];
	struct strbuf o;

	strbuf_init(&o, buf, sizeof(buf));
	strbuf_putu(&o, 0);
	strbuf_putl(&o, " ");
	strbuf_putu(&o, 9);
	strbuf_putl(&o, " ");
	strbuf_putu(&o, 10);
	strbuf_putl(&o, " ");
	strbuf_putu(&o, 65535);
	strbuf_putl(&o, " ");
	strbuf_putu(&o, UINT64_MAX);
	CHECK_INT(strbuf_result(&o), (long long)strlen(buf));
	CHECK_STRN(buf, strlen(buf), "0 9 10 65535 18446744073709551615");
}

/* "12345" needs 6 bytes with its NUL: 6 fits, 5 is full. */
static void
test_edge(void)
{
	char buf[8];
	struct strbuf o;

	memset(buf, 'x', sizeof(buf));
	strbuf_init(&o, buf, 6);
	strbuf_putu(&o, 12345);
	CHECK_INT(strbuf_result(&o), 5);
	CHECK_STRN(buf, 5, "12345");
	CHECK_INT(buf[5], '\0');
	memset(buf, 'x', sizeof(buf));
	strbuf_init(&o, buf, 5);
	strbuf_putu(&o, 12345);
	CHECK_INT(strbuf_result(&o), -1);
	CHECK_INT(buf[0], 'x');
	/* once full, later pieces that would fit are not taken either */
	strbuf_putl(&o, "a");
	CHECK_INT(strbuf_result(&o), -1);
	CHECK_INT(buf[0], 'x');
}

int
main(void)
{
	test_putu();
	test_edge();
	return CHECK_DONE();
}
