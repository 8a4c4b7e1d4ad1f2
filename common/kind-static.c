/* SPDX-License-Identifier: MIT */
/* Kind "static": fixed records of one type at a name, from the config.
 *
 *   {"qname": "mail.dyn.example.test", "kind": "static", "qtype": "MX",
 *    "content": ["10 mx1.example.test", "20 mx2.example.test"], "ttl": 300}
 *
 * Each content string is checked for its type here, so that PowerDNS never gets a record it
 * cannot parse (which would cost the question a SERVFAIL), and turned into the form the pipe
 * protocol wants (shared/pipe-protocol.md §6): MX and SRV carry the priority in a field of
 * its own, names end with a dot, TXT text is quoted and split into strings of 255 bytes, and
 * TXT and CAA text is escaped, so that what PowerDNS serves is the text as written. */
#include <arpa/inet.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "configtypes.h"
#include "decimal.h"
#include "kind.h"
#include "pipeproto.h"

#define CONTENT_MAX 256	       /* records per handler */
#define CONTENT_LEN 4000       /* characters per record as written */
#define TXT_STRING  255	       /* bytes per TXT character-string */
#define ZONE_TTL    UINT32_MAX /* no "ttl": the zone's */

struct record {
	char *text; /* as a DATA line carries it */
	size_t len;
};

struct static_data {
	uint16_t type;
	uint32_t ttl;
	size_t n;
	struct record rec[];
};

static const char *const type_names[] = {"A",	"AAAA", "CNAME", "MX", "NS",
					 "PTR", "SRV",	"TXT",	 "CAA"};
static const uint16_t type_values[] = {PP_TYPE_A,   PP_TYPE_AAAA, PP_TYPE_CNAME,
				       PP_TYPE_MX,  PP_TYPE_NS,	  PP_TYPE_PTR,
				       PP_TYPE_SRV, PP_TYPE_TXT,  PP_TYPE_CAA};

/* A host name as the config spells them (config_pattern_hostname), or "." when root_ok. */
static bool hostname(struct cc *v, const char *s, size_t len, bool root_ok)
{
	char name[256];

	if (len == 1 && s[0] == '.')
		return root_ok;
	if (len == 0 || len > 253)
		return false;
	memcpy(name, s, len);
	name[len] = 0;
	return cc_is_hostname(v, name);
}

/* Appends the name with its trailing dot. */
static void put_name(struct buf *b, const char *s, size_t len)
{
	buf_put(b, s, len);
	if (s[len - 1] != '.')
		buf_putc(b, '.');
}

/* Appends s as one or more quoted character-strings: '"' and '\' escaped, bytes outside
 * printable ASCII as \DDD, a new string every TXT_STRING bytes of text. */
static void put_quoted(struct buf *b, const char *s, size_t len)
{
	for (size_t i = 0; i < len || i == 0; i += TXT_STRING) {
		if (i)
			buf_putc(b, ' ');
		buf_putc(b, '"');
		for (size_t k = i; k < len && k < i + TXT_STRING; k++) {
			unsigned char c = (unsigned char)s[k];

			if (c == '"' || c == '\\') {
				buf_putc(b, '\\');
				buf_putc(b, (char)c);
			} else if (c < 0x20 || c >= 0x7f) {
				char esc[5];

				snprintf(esc, sizeof(esc), "\\%03u", c);
				buf_put(b, esc, 4);
			} else
				buf_putc(b, (char)c);
		}
		buf_putc(b, '"');
	}
}

/* Up to n space-separated fields of s (the last one takes the rest); returns how many. */
static size_t fields(const char *s, size_t len, size_t n, const char **f, size_t *flen)
{
	size_t k = 0, i = 0;

	while (k < n && i <= len) {
		size_t j = i;

		if (k + 1 < n)
			while (j < len && s[j] != ' ')
				j++;
		else
			j = len;
		f[k] = s + i;
		flen[k++] = j - i;
		i = j + 1;
	}
	return k;
}

/* Checks content string s of type t and appends its DATA form to b; returns NULL or what
 * is wrong with it. */
static const char *convert(struct cc *v, uint16_t t, const char *s, size_t len, struct buf *b)
{
	const char *f[4];
	size_t fl[4], n;
	uint32_t a, w, p;

	for (size_t i = 0; t != PP_TYPE_TXT && i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return "has a control character or a byte outside printable ASCII";
	if (t == PP_TYPE_TXT) {
		for (size_t i = 0; i < len; i++)
			if (s[i] == 0)
				return "has a NUL character";
		put_quoted(b, s, len);
		return NULL;
	}
	switch (t) {
	case PP_TYPE_A:
	case PP_TYPE_AAAA: {
		int family = t == PP_TYPE_A ? AF_INET : AF_INET6;
		unsigned char addr[16];
		char text[INET6_ADDRSTRLEN], copy[INET6_ADDRSTRLEN + 1];

		if (len >= sizeof(copy))
			return family == AF_INET ? "is not an IPv4 address"
						 : "is not an IPv6 address";
		memcpy(copy, s, len);
		copy[len] = 0;
		if (inet_pton(family, copy, addr) != 1)
			return family == AF_INET ? "is not an IPv4 address"
						 : "is not an IPv6 address";
		inet_ntop(family, addr, text, sizeof(text));
		buf_puts(b, text);
		return NULL;
	}
	case PP_TYPE_CNAME:
	case PP_TYPE_NS:
	case PP_TYPE_PTR:
		if (!hostname(v, s, len, false))
			return "is not a host name (letters, digits, '-' and '_' in labels of 1 to "
			       "63 "
			       "characters, separated by dots)";
		put_name(b, s, len);
		return NULL;
	case PP_TYPE_MX:
		n = fields(s, len, 2, f, fl);
		if (n != 2 || !decimal_parse(f[0], fl[0], 65535, &a) ||
		    !hostname(v, f[1], fl[1], true))
			return "is not \"PREFERENCE EXCHANGE\" (a number from 0 to 65535, one "
			       "space, "
			       "a host name or \".\")";
		buf_put(b, f[0], fl[0]);
		buf_putc(b, '\t'); /* PowerDNS wants the preference in a field of its own */
		put_name(b, f[1], fl[1]);
		return NULL;
	case PP_TYPE_SRV:
		n = fields(s, len, 4, f, fl);
		if (n != 4 || !decimal_parse(f[0], fl[0], 65535, &a) ||
		    !decimal_parse(f[1], fl[1], 65535, &w) ||
		    !decimal_parse(f[2], fl[2], 65535, &p) || !hostname(v, f[3], fl[3], true))
			return "is not \"PRIORITY WEIGHT PORT TARGET\" (three numbers from 0 to "
			       "65535 "
			       "and a host name or \".\", single spaces)";
		buf_put(b, f[0], fl[0]);
		buf_putc(b, '\t'); /* the priority in a field of its own, the rest in one */
		buf_put(b, f[1], fl[1] + 1 + fl[2] + 1);
		put_name(b, f[3], fl[3]);
		return NULL;
	case PP_TYPE_CAA: {
		n = fields(s, len, 3, f, fl);
		if (n != 3 || !decimal_parse(f[0], fl[0], 255, &a) || fl[1] == 0 || fl[1] > 15 ||
		    fl[2] == 0)
			return "is not \"FLAGS TAG VALUE\" (a number from 0 to 255, a tag of 1 to "
			       "15 "
			       "letters and digits, a value; single spaces)";
		for (size_t i = 0; i < fl[1]; i++)
			if (!((f[1][i] >= 'a' && f[1][i] <= 'z') ||
			      (f[1][i] >= 'A' && f[1][i] <= 'Z') ||
			      (f[1][i] >= '0' && f[1][i] <= '9')))
				return "is not \"FLAGS TAG VALUE\": the tag has letters and digits "
				       "only";
		/* the value as written, or inside the quotes it was written with */
		if (fl[2] >= 2 && f[2][0] == '"' && f[2][fl[2] - 1] == '"') {
			f[2]++;
			fl[2] -= 2;
		}
		for (size_t i = 0; i < fl[2]; i++)
			if (f[2][i] == '"')
				return "is not \"FLAGS TAG VALUE\": the value has a '\"' inside";
		buf_put(b, f[0], fl[0] + 1 + fl[1] + 1);
		buf_putc(b, '"');
		/* the value is text as written: PowerDNS reads \DDD and \X in quotes as escapes,
		 * so a backslash goes escaped ('"' is refused above, other bytes are printable) */
		for (size_t i = 0; i < fl[2]; i++) {
			if (f[2][i] == '\\')
				buf_putc(b, '\\');
			buf_putc(b, f[2][i]);
		}
		buf_putc(b, '"');
		return NULL;
	}
	}
	return "has a type this kind does not serve";
}

static void static_free(void *data)
{
	struct static_data *d = data;

	for (size_t i = 0; d && i < d->n; i++)
		free(d->rec[i].text);
	free(d);
}

static void static_parse(struct cc *v, json_object *o, const struct config *c,
			 struct config_handler *h)
{
	json_object *x, *content = NULL;
	struct static_data *d;
	int64_t ttl = -1; /* the zone's */
	uint16_t t = 0;
	size_t old, n;
	int r;

	if (json_object_object_get_ex(o, "qtype", &x)) {
		old = cc_push(v, "qtype");
		r = cc_enum(v, x, type_names, ELEMENTSOF(type_names));
		if (r >= 0)
			t = type_values[r];
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(o, "ttl", &x)) {
		old = cc_push(v, "ttl");
		if (!cc_integer(v, x, 0, 2147483647, &ttl))
			ttl = -1;
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(o, "content", &x)) {
		old = cc_push(v, "content");
		content = cc_array(v, x, 1, CONTENT_MAX);
		if (content && t == PP_TYPE_CNAME && json_object_array_length(content) > 1) {
			cc_error(v, "a CNAME has one target, not %zu",
				 json_object_array_length(content));
			content = NULL;
		}
		cc_pop(v, old);
	}
	if (!t || !content)
		return;
	n = json_object_array_length(content);
	d = calloc(1, sizeof(*d) + n * sizeof(d->rec[0]));
	if (!d) {
		cc_error(v, "out of memory");
		return;
	}
	d->type = t;
	d->ttl = ttl < 0 ? ZONE_TTL : (uint32_t)ttl;
	old = cc_push(v, "content");
	for (size_t i = 0; i < n; i++) {
		json_object *item = json_object_array_get_idx(content, i);
		size_t o2 = cc_push_index(v, i);
		const char *s = cc_string(v, item, 1, CONTENT_LEN), *why;
		struct buf b;

		if (s) {
			buf_init(&b);
			why = convert(v, t, s, (size_t)json_object_get_string_len(item), &b);
			if (why) {
				char q[DIAG_QUOTE_SIZE(100)];

				cc_error(v, "%s %s", cc_quoted(item, q, 100), why);
				buf_free(&b);
			} else if (!buf_ok(&b)) {
				cc_error(v, "out of memory");
				buf_free(&b);
			} else {
				d->rec[d->n].len = b.len;
				buf_putc(&b, 0);
				d->rec[d->n++].text = b.data;
			}
		}
		cc_pop(v, o2);
	}
	cc_pop(v, old);
	h->qtype = t;
	h->types[0] = t;
	h->n_types = 1;
	h->data = d;
}

static void static_answer(const struct config_handler *h, const struct kind_question *q,
			  struct buf *out)
{
	const struct static_data *d = h->data;
	uint32_t ttl = d->ttl == ZONE_TTL ? q->zone_ttl : d->ttl;

	for (size_t i = 0; i < d->n; i++)
		pp_data(out, q->abi, q->owner, q->owner_len, d->type, ttl, q->zone_id, 0,
			d->rec[i].text, d->rec[i].len);
}

static void static_list(const struct config_handler *h, int abi, int64_t zone_id, uint32_t zone_ttl,
			struct buf *out)
{
	const struct static_data *d = h->data;
	uint32_t ttl = d->ttl == ZONE_TTL ? zone_ttl : d->ttl;

	for (size_t i = 0; i < d->n; i++)
		pp_data(out, abi, h->qname, strlen(h->qname), d->type, ttl, zone_id, 0,
			d->rec[i].text, d->rec[i].len);
}

static void static_describe(const struct config_handler *h, uint32_t zone_ttl, char *out,
			    size_t size)
{
	const struct static_data *d = h->data;
	uint32_t ttl = d->ttl == ZONE_TTL ? zone_ttl : d->ttl;
	int w;

	w = snprintf(out, size, "%zu record%s, ttl %u:", d->n, d->n == 1 ? "" : "s", ttl);
	size_t n = w < 0 ? 0 : (size_t)w < size ? (size_t)w : size - 1;

	/* the records as they go to PowerDNS, with a space for the tab of MX and SRV */
	for (size_t i = 0; i < d->n && n + 1 < size; i++) {
		out[n++] = ' ';
		for (size_t k = 0; k < d->rec[i].len && n + 1 < size; k++)
			out[n++] = d->rec[i].text[k] == '\t' ? ' ' : d->rec[i].text[k];
		out[n] = 0;
	}
}

static const char *const keys[] = {"qname", "kind", "qtype", "content", "ttl"};

const struct kind kind_static = {
    .name = "static",
    .keys = keys,
    .n_keys = ELEMENTSOF(keys),
    .required = keys,
    .n_required = 4,
    .parse = static_parse,
    .free_data = static_free,
    .answer = static_answer,
    .list = static_list,
    .describe = static_describe,
};
