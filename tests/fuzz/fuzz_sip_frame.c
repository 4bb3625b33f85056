/* libFuzzer target for the SIP stream framer (control/sip_frame.c): the
 * input, after a first byte that picks the message limit, is framed from
 * start to end as a connection would read it.  Every frame lies inside
 * the input and within the limit, and is found again, the same, in the
 * input cut right after it: what follows a message never changes it.
 * A Content-Length fault names a header section within the input and a
 * value a reason phrase can quote.
 */
#include <string.h>

#include "control/sip_frame.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_frame f, g;
	const char *why;
	size_t max, off = 0, cut;
	char *buf, *part;
	int rc;

	if (size < 1)
		return 0;
	max = 16 + (size_t)data[0] * 4;
	buf = fuzz_copy(data + 1, size - 1);
	size--;
	while ((rc = sip_frame_next(buf + off, size - off, max, &f,
				    &why)) == 1) {
		FUZZ_CHECK(f.len > 0 && f.len <= max);
		FUZZ_CHECK(f.skip + f.len <= size - off);
		cut = f.skip + f.len;
		part = fuzz_copy(buf + off, cut);
		FUZZ_CHECK(sip_frame_next(part, cut, max, &g, &why) == 1);
		FUZZ_CHECK(g.skip == f.skip && g.len == f.len &&
			   g.pings == f.pings);
		free(part);
		off += cut;
	}
	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(rc == -1 || f.skip <= size - off);
	FUZZ_CHECK(rc == 0 || why != NULL);
	/* A fault that may be answered gives a header section inside the
	 * input and a printable value that fits. */
	FUZZ_CHECK(rc != -1 || f.hlen <= size - off - f.skip);
	FUZZ_CHECK(strlen(f.detail) < SIP_FRAME_DETAIL);
	for (cut = 0; f.detail[cut] != '\0'; cut++)
		FUZZ_CHECK(f.detail[cut] >= 0x20 && f.detail[cut] < 0x7f);
	free(buf);
	return 0;
}
