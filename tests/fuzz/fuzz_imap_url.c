/* libFuzzer target for IMAP URLs with URLAUTH (control/imap_url.c): a play
 * URL either parses into views that stay inside it, with a port and an
 * access identifier that policy can rely on, or is refused with a reason.
 */
#include "control/imap_url.h"
#include "tests/fuzz/fuzz.h"

static void
check_url(const struct imap_url *u, const char *s, size_t n)
{
	const struct imap_str *v[] = {
		&u->user, &u->auth, &u->host, &u->mailbox, &u->uidvalidity,
		&u->uid, &u->section, &u->partial, &u->access_name, &u->mech,
		&u->token,
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		FUZZ_CHECK(fuzz_within(v[i]->p, v[i]->n, s, n));
	FUZZ_CHECK(u->host.n > 0 && u->mailbox.n > 0 && u->uid.n > 0);
	FUZZ_CHECK(u->port != 0 && (u->has_port || u->port == 143));
	FUZZ_CHECK(u->access >= IMAP_ACCESS_NONE &&
		   u->access <= IMAP_ACCESS_SUBMIT);
	/* a URLAUTH always names its mechanism and carries its token */
	if (u->access != IMAP_ACCESS_NONE)
		FUZZ_CHECK(u->mech.n > 0 && u->token.n > 0);
	if (u->access == IMAP_ACCESS_USER || u->access == IMAP_ACCESS_SUBMIT)
		FUZZ_CHECK(u->access_name.n > 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_copy(data, size);
	struct imap_url u;
	const char *why = NULL;

	if (imap_url_parse(s, size, &u, &why) == 0)
		check_url(&u, s, size);
	else
		FUZZ_CHECK(why != NULL);
	free(s);
	return 0;
}
