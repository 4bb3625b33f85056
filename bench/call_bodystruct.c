/* The FETCH response data of an IMAP server (RFC 3501 section 7.4.2) read
 * as a tree of parenthesized lists, strings, literals, atoms and NIL, and
 * the body structure walk that finds the attachment to stream: the first
 * part whose media type is audio or video, with its section number.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bench/call.h"

#define SX_MAX_NODES	8192
#define SX_MAX_DEPTH	64

enum sx_kind {
	SX_LIST,
	SX_STRING,	/* quoted or literal; quoted escapes left as they are */
	SX_ATOM,	/* numbers and names */
	SX_NIL,
};

struct sx_node {
	enum sx_kind kind;
	const char *p;
	size_t n;
	int child;		/* first child of a list, -1 if none */
	int next;		/* next sibling, -1 at the end */
};

struct sx {
	const char *p;
	size_t n, pos;
	struct sx_node node[SX_MAX_NODES];
	int used;
};

static int sx_value(struct sx *x, int depth);

static int
sx_new(struct sx *x, enum sx_kind kind, const char *p, size_t n)
{
	struct sx_node *nd;

	if (x->used == SX_MAX_NODES)
		return -1;
	nd = &x->node[x->used];
	nd->kind = kind;
	nd->p = p;
	nd->n = n;
	nd->child = -1;
	nd->next = -1;
	return x->used++;
}

static void
sx_skip_space(struct sx *x)
{
	while (x->pos < x->n && (x->p[x->pos] == ' ' ||
				 x->p[x->pos] == '\r' || x->p[x->pos] == '\n'))
		x->pos++;
}

static int
sx_list(struct sx *x, int depth)
{
	int self, prev = -1, kid;

	if (depth >= SX_MAX_DEPTH)
		return -1;
	self = sx_new(x, SX_LIST, x->p + x->pos, 0);
	if (self < 0)
		return -1;
	x->pos++;
	for (;;) {
		sx_skip_space(x);
		if (x->pos >= x->n)
			return -1;
		if (x->p[x->pos] == ')')
			break;
		kid = sx_value(x, depth + 1);
		if (kid < 0)
			return -1;
		if (prev < 0)
			x->node[self].child = kid;
		else
			x->node[prev].next = kid;
		prev = kid;
	}
	x->pos++;
	return self;
}

static int
sx_quoted(struct sx *x)
{
	size_t start = ++x->pos;

	/* RFC 3501 section 9: only '"' and '\' are escaped inside quotes */
	while (x->pos < x->n && x->p[x->pos] != '"') {
		if (x->p[x->pos] == '\\')
			x->pos++;
		x->pos++;
	}
	if (x->pos >= x->n)
		return -1;
	x->pos++;
	return sx_new(x, SX_STRING, x->p + start, x->pos - 1 - start);
}

static int
sx_literal(struct sx *x)
{
	unsigned long long len = 0;
	size_t start;

	if (x->p[x->pos] == '~')	/* literal8 of RFC 3516 */
		x->pos++;
	x->pos++;
	while (x->pos < x->n && isdigit((unsigned char)x->p[x->pos])) {
		len = len * 10 + (unsigned)(x->p[x->pos++] - '0');
		if (len > x->n)
			return -1;
	}
	/* "{n}" CRLF, then exactly n bytes of anything */
	if (x->pos + 3 > x->n || memcmp(x->p + x->pos, "}\r\n", 3) != 0)
		return -1;
	start = x->pos + 3;
	if (len > x->n - start)
		return -1;
	x->pos = start + len;
	return sx_new(x, SX_STRING, x->p + start, len);
}

static int
sx_atom(struct sx *x)
{
	size_t start = x->pos;

	while (x->pos < x->n && !strchr(" ()\r\n\"{", x->p[x->pos]))
		x->pos++;
	if (x->pos == start)
		return -1;
	if (x->pos - start == 3 && strncasecmp(x->p + start, "NIL", 3) == 0)
		return sx_new(x, SX_NIL, x->p + start, 3);
	return sx_new(x, SX_ATOM, x->p + start, x->pos - start);
}

static int
sx_value(struct sx *x, int depth)
{
	char c;

	sx_skip_space(x);
	if (x->pos >= x->n)
		return -1;
	c = x->p[x->pos];
	if (c == '(')
		return sx_list(x, depth);
	if (c == '"')
		return sx_quoted(x);
	if (c == '{' || (c == '~' && x->pos + 1 < x->n &&
			 x->p[x->pos + 1] == '{'))
		return sx_literal(x);
	return sx_atom(x);
}

/* The n-th child of a list (0-based), or NULL. */
static const struct sx_node *
sx_nth(const struct sx *x, const struct sx_node *list, int n)
{
	int i = list->kind == SX_LIST ? list->child : -1;

	while (i >= 0 && n-- > 0)
		i = x->node[i].next;
	return i >= 0 ? &x->node[i] : NULL;
}

static int
sx_is_string(const struct sx_node *nd)
{
	return nd != NULL && (nd->kind == SX_STRING || nd->kind == SX_ATOM);
}

static void
sx_copy_lower(const struct sx_node *nd, char *out, size_t cap)
{
	size_t i, n = 0;

	if (sx_is_string(nd))
		n = nd->n < cap - 1 ? nd->n : cap - 1;
	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)nd->p[i]);
	out[n] = '\0';
}

/* Parses the whole FETCH data list: "(UID 5 BODYSTRUCTURE (...))". */
static int
sx_parse_fetch(struct sx *x, const char *p, size_t n)
{
	x->p = p;
	x->n = n;
	x->pos = 0;
	x->used = 0;
	sx_skip_space(x);
	if (x->pos >= n || p[x->pos] != '(')
		return -EBADMSG;
	return sx_list(x, 0) < 0 ? -EBADMSG : 0;
}

/* The value that follows the item name starting with prefix. */
static const struct sx_node *
sx_item(const struct sx *x, const char *prefix)
{
	const struct sx_node *name, *val;
	size_t plen = strlen(prefix);
	int i;

	for (i = x->node[0].child; i >= 0; i = val->next) {
		name = &x->node[i];
		if (name->next < 0)
			return NULL;
		val = &x->node[name->next];
		if (name->kind == SX_ATOM && name->n >= plen &&
		    strncasecmp(name->p, prefix, plen) == 0)
			return val;
	}
	return NULL;
}

static int bs_walk(const struct sx *x, const struct sx_node *b,
		   const char *num, int msg_top, struct bs_found *f, int depth);

static int
bs_section(char *out, size_t cap, const char *prefix, unsigned int i)
{
	int k;

	if (prefix[0] == '\0')
		k = snprintf(out, cap, "%u", i);
	else
		k = snprintf(out, cap, "%s.%u", prefix, i);
	return k < 0 || (size_t)k >= cap ? -EBADMSG : 0;
}

/* RFC 3501 section 6.4.5: the parts of a multipart are numbered from 1
 * under the number of the multipart itself (none at the top).
 */
static int
bs_multipart(const struct sx *x, const struct sx_node *b, const char *num,
	     struct bs_found *f, int depth)
{
	char sub[sizeof(f->section)];
	const struct sx_node *kid;
	unsigned int i;
	int rc;

	for (i = 0; (kid = sx_nth(x, b, (int)i)) != NULL; i++) {
		if (kid->kind != SX_LIST)
			break;		/* the subtype: parts are over */
		if (bs_section(sub, sizeof(sub), num, i + 1) < 0)
			return -EBADMSG;
		rc = bs_walk(x, kid, sub, 0, f, depth + 1);
		if (rc != -ENOENT)
			return rc;
	}
	return -ENOENT;
}

/* A single part: type, subtype, parameters, id, description, encoding,
 * size; a message/rfc822 part goes on with envelope, body and lines.
 */
static int
bs_single(const struct sx *x, const struct sx_node *b, const char *num,
	  struct bs_found *f, int depth)
{
	const struct sx_node *inner;

	if (!sx_is_string(sx_nth(x, b, 0)) || !sx_is_string(sx_nth(x, b, 1)))
		return -EBADMSG;
	sx_copy_lower(sx_nth(x, b, 0), f->type, sizeof(f->type));
	sx_copy_lower(sx_nth(x, b, 1), f->subtype, sizeof(f->subtype));
	if (strcmp(f->type, "audio") == 0 || strcmp(f->type, "video") == 0) {
		sx_copy_lower(sx_nth(x, b, 5), f->encoding,
			      sizeof(f->encoding));
		snprintf(f->section, sizeof(f->section), "%s", num);
		return 0;
	}
	if (strcmp(f->type, "message") == 0 &&
	    strcmp(f->subtype, "rfc822") == 0) {
		inner = sx_nth(x, b, 8);
		if (inner != NULL && inner->kind == SX_LIST)
			return bs_walk(x, inner, num, 1, f, depth + 1);
	}
	return -ENOENT;
}

/* num is the part number of b, or, when b is the body of a message
 * (msg_top), the number of that message: a non-multipart body of a
 * message is its part 1 (RFC 3501 section 6.4.5).
 */
static int
bs_walk(const struct sx *x, const struct sx_node *b, const char *num,
	int msg_top, struct bs_found *f, int depth)
{
	char own[sizeof(f->section)];
	const struct sx_node *first = sx_nth(x, b, 0);

	if (depth > SX_MAX_DEPTH || first == NULL)
		return -EBADMSG;
	if (first->kind == SX_LIST)
		return bs_multipart(x, b, num, f, depth);
	if (!msg_top)
		return bs_single(x, b, num, f, depth);
	if (bs_section(own, sizeof(own), num, 1) < 0)
		return -EBADMSG;
	return bs_single(x, b, own, f, depth);
}

static struct sx sx_pool;	/* too big for the stack; one parse at once */

int
bs_find_media(const char *p, size_t n, struct bs_found *f)
{
	const struct sx_node *bs;

	memset(f, 0, sizeof(*f));
	if (sx_parse_fetch(&sx_pool, p, n) < 0)
		return -EBADMSG;
	bs = sx_item(&sx_pool, "BODYSTRUCTURE");
	if (bs == NULL)
		return -ENODATA;	/* another FETCH, such as FLAGS */
	if (bs->kind != SX_LIST)
		return -EBADMSG;
	return bs_walk(&sx_pool, bs, "", 1, f, 0);
}

int
bs_find_item(const char *p, size_t n, const char *prefix,
	     const char **v, size_t *vn)
{
	const struct sx_node *val;

	if (sx_parse_fetch(&sx_pool, p, n) < 0)
		return -EBADMSG;
	val = sx_item(&sx_pool, prefix);
	if (val == NULL || val->kind == SX_NIL)
		return -ENOENT;
	if (!sx_is_string(val))
		return -EBADMSG;
	*v = val->p;
	*vn = val->n;
	return 0;
}
