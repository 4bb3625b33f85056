/* IMAP URLs (RFC 5092) with URLAUTH authorization (RFC 4467): parsed into
 * views of their parts, so that policy can be applied before any
 * connection.  The URL itself is always sent to the server exactly as
 * received; nothing here rewrites it.
 */
#ifndef ANNCD_CONTROL_IMAP_URL_H
#define ANNCD_CONTROL_IMAP_URL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct imap_str {
	const char *p;
	size_t n;
};

enum imap_access {
	IMAP_ACCESS_NONE = 0,	/* no ;URLAUTH= */
	IMAP_ACCESS_ANONYMOUS,	/* "anonymous" */
	IMAP_ACCESS_AUTHUSER,	/* "authuser" */
	IMAP_ACCESS_USER,	/* "user+NAME" */
	IMAP_ACCESS_SUBMIT,	/* "submit+NAME" */
};

struct imap_url {
	struct imap_str user;		/* iuserinfo user, may be empty */
	struct imap_str auth;		/* ;AUTH= value, may be empty */
	struct imap_str host;		/* without [] for IPv6 literals */
	uint16_t port;			/* 143 when absent */
	int has_port;
	struct imap_str mailbox;	/* still %-encoded */
	struct imap_str uidvalidity;
	struct imap_str uid;
	struct imap_str section;
	struct imap_str partial;
	int has_expire;
	time_t expire;			/* UTC seconds */
	enum imap_access access;
	struct imap_str access_name;	/* NAME of user+NAME / submit+NAME */
	struct imap_str mech;		/* "internal", ... */
	struct imap_str token;		/* the pawn-ticket secret */
};

/* Parses an imap:// URL; scheme and parameter names are case-insensitive.
 * Returns 0 or -1 with *why ("not an imap URL", "bad port",
 * "bad expire").
 */
int
imap_url_parse(const char *s, size_t n, struct imap_url *u, const char **why);

#endif
