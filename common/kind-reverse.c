/* SPDX-License-Identifier: MIT */
/* Kind "reverse": a PTR record for every address of a prefix, and the forward record it
 * names, both made up from the name asked, nothing stored per address.
 *
 *   {"qname": "ip-*.dyn.example.test", "kind": "reverse", "prefix": "192.0.2.0/24"}
 *
 * 3.2.0.192.in-addr.arpa PTR ip-192-0-2-3.dyn.example.test, and that name A 192.0.2.3. The
 * "*" of the first label stands for the address with '-' for '.' (IPv4) or for ':' (IPv6, in
 * its short form: 2001-db8--5; a leading or trailing "--" gets a 0, as 0--1 for ::1). Only
 * that one spelling of an address exists; every other name is NXDOMAIN. The reverse names
 * must lie in one of the config's zones ("zones": in-addr.arpa or ip6.arpa zones), and the
 * forward names are in the zone of the pattern's parent. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "configtypes.h"
#include "kind.h"
#include "pipeproto.h"

#define ZONE_TTL UINT32_MAX /* no "ttl": the zone's */

/* A zone below the prefix's reverse name: the reverse names under its apex are in it. */
struct reverse_sub {
	struct dname apex;
	uint16_t zone;
	uint32_t ttl;
};

struct reverse {
	struct config_prefix prefix;
	char head[64], tail[64]; /* the first label around its '*', lowercased */
	size_t head_len, tail_len;
	const char *parent;    /* the pattern after its first label, as written */
	struct dname rev_root; /* the reverse name of the prefix (whole octets or nibbles) */
	uint16_t rev_zone;     /* the zone of the reverse names */
	uint32_t rev_ttl;      /* its ttl */
	uint32_t ttl;
	struct reverse_sub *subs; /* the zones below rev_root, e.g. 2.0.192.in-addr.arpa for
				   * 192.0.0.0/16 in 0.192.in-addr.arpa */
	size_t n_subs;
};

static void reverse_free(void *data)
{
	struct reverse *r = data;

	if (r)
		free(r->subs);
	free(r);
}

/* The reverse name of the first len bits of a (family's), on octet (IPv4) or nibble (IPv6)
 * boundaries, as text. */
static void reverse_root(const struct config_prefix *p, char *out, size_t size)
{
	size_t n = 0;

	if (p->family == AF_INET)
		for (int i = p->len / 8 - 1; i >= 0; i--)
			n += (size_t)snprintf(out + n, size - n, "%u.", p->addr[i]);
	else
		for (int i = p->len / 4 - 1; i >= 0; i--)
			n += (size_t)snprintf(out + n, size - n, "%x.",
					      (p->addr[i / 2] >> (i % 2 ? 0 : 4)) & 15);
	snprintf(out + n, size - n, "%s", p->family == AF_INET ? "in-addr.arpa" : "ip6.arpa");
}

static bool in_prefix(const struct config_prefix *p, const uint8_t *a)
{
	for (unsigned bit = 0; bit < p->len; bit++)
		if ((a[bit / 8] ^ p->addr[bit / 8]) & (0x80 >> (bit % 8)))
			return false;
	return true;
}

/* An IPv6 address in its short form, hex groups only: the longest run of two or more zero
 * groups (the first of equal ones) as "::", as inet_ntop(), but never with the last 32 bits
 * as a dotted quad (inet_ntop writes ::ffff:192.0.2.1 and ::1:0 as ::0.1.0.0, whose '.'
 * would become '-' and spell another address). */
static void ipv6_text(const uint8_t *a, char *out, size_t size)
{
	int best = -1, best_len = 1, run = 0;
	size_t n = 0;

	for (int i = 0; i < 8; i++) {
		run = a[2 * i] || a[2 * i + 1] ? 0 : run + 1;
		if (run > best_len) {
			best_len = run;
			best = i - run + 1;
		}
	}
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			n += (size_t)snprintf(out + n, size - n, i == 0 ? "::" : ":");
			i += best_len - 1;
			continue;
		}
		n += (size_t)snprintf(out + n, size - n, "%x%s",
				      (unsigned)(a[2 * i] << 8 | a[2 * i + 1]), i < 7 ? ":" : "");
	}
}

/* The address as the forward label spells it. */
static size_t addr_label(int family, const uint8_t *a, char *out)
{
	char text[INET6_ADDRSTRLEN + 2];
	size_t n, k = 0;

	if (family == AF_INET)
		inet_ntop(family, a, text, sizeof(text));
	else
		ipv6_text(a, text, sizeof(text));
	n = strlen(text);
	if (text[0] == ':')
		out[k++] = '0';
	for (size_t i = 0; i < n; i++)
		out[k++] = text[i] == '.' || text[i] == ':' ? '-' : text[i];
	if (text[n - 1] == ':')
		out[k++] = '0';
	out[k] = 0;
	return k;
}

static void reverse_parse(struct cc *v, json_object *o, const struct config *c,
			  struct config_handler *h)
{
	json_object *x;
	struct reverse *r;
	const char *qname = NULL, *star, *dot;
	char why[128], q[DIAG_QUOTE_SIZE(100)], root[80];
	int64_t ttl = -1;
	bool ok_prefix = false;
	int zone = -1;

	r = calloc(1, sizeof(*r));
	if (!r) {
		cc_error(v, "out of memory");
		return;
	}
	h->data = r;
	if (json_object_object_get_ex(o, "qname", &x)) {
		size_t old = cc_push(v, "qname");
		const char *s = cc_string(v, x, 1, 253);

		/* one '*' in the first label, a host name after it */
		if (s) {
			star = strchr(s, '*');
			dot = strchr(s, '.');
			if (!star || !dot || star > dot || strchr(star + 1, '*') ||
			    !cc_is_hostname(v, dot + 1) ||
			    dname_parse(dot + 1, strlen(dot + 1), &h->name) < 0 ||
			    (size_t)(star - s) >= sizeof(r->head) ||
			    (size_t)(dot - star - 1) >= sizeof(r->tail))
				cc_error(v,
					 "%s is not a pattern such as \"ip-*.example.test\" (one "
					 "'*' in the first "
					 "label, for the address)",
					 cc_quoted(x, q, 100));
			else {
				for (const char *p = s; p < dot; p++)
					if (p != star &&
					    !((*p >= 'a' && *p <= 'z') ||
					      (*p >= 'A' && *p <= 'Z') ||
					      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_')) {
						cc_error(v,
							 "%s is not a pattern: the first label has "
							 "letters, digits, "
							 "'-', '_' and its '*' only",
							 cc_quoted(x, q, 100));
						break;
					}
				qname = s;
			}
		}
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(o, "prefix", &x)) {
		size_t old = cc_push(v, "prefix");
		const char *s = cc_string(v, x, 1, 60);

		if (s && config_prefix_parse(s, strlen(s), &r->prefix, why, sizeof(why)) < 0)
			cc_error(v, "%s %s", cc_quoted(x, q, 60), why);
		else if (s)
			ok_prefix = true;
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(o, "ttl", &x)) {
		size_t old = cc_push(v, "ttl");

		if (!cc_integer(v, x, 0, 2147483647, &ttl))
			ttl = -1;
		cc_pop(v, old);
	}
	r->ttl = ttl < 0 ? ZONE_TTL : (uint32_t)ttl;
	if (!qname || !ok_prefix)
		return;
	if (!(h->qname = strdup(qname))) {
		cc_error(v, "out of memory");
		return;
	}
	dot = strchr(h->qname, '.');
	star = strchr(h->qname, '*');
	r->parent = dot + 1;
	r->head_len = (size_t)(star - h->qname);
	r->tail_len = (size_t)(dot - star - 1);
	for (size_t i = 0; i < r->head_len; i++)
		r->head[i] = (char)(h->qname[i] >= 'A' && h->qname[i] <= 'Z' ? h->qname[i] + 32
									     : h->qname[i]);
	for (size_t i = 0; i < r->tail_len; i++)
		r->tail[i] = (char)(star[1 + i] >= 'A' && star[1 + i] <= 'Z' ? star[1 + i] + 32
									     : star[1 + i]);
	/* the longest label an address gives: 15 characters (IPv4), 39 (IPv6) */
	if (r->head_len + r->tail_len + (r->prefix.family == AF_INET ? 15 : 39) > 63) {
		cc_error(v,
			 "the first label of \"%s\" would be longer than 63 characters for some "
			 "addresses",
			 qname);
		return;
	}
	/* the reverse names need a zone of their own */
	reverse_root(&r->prefix, root, sizeof(root));
	dname_parse(root, strlen(root), &r->rev_root);
	for (size_t z = 0; z < c->n_zones; z++)
		if (dname_is_below_or_at(&r->rev_root, &c->zones[z].apex) &&
		    (zone < 0 || c->zones[z].apex.len > c->zones[zone].apex.len))
			zone = (int)z;
	if (zone < 0) {
		size_t old = cc_push(v, "prefix");

		cc_error(v,
			 "the reverse names of the prefix (%s) are in none of the zones: add a "
			 "zone for them "
			 "to \"zones\"",
			 root);
		cc_pop(v, old);
		return;
	}
	r->rev_zone = (uint16_t)zone;
	r->rev_ttl = c->zones[zone].ttl;
	/* zones below the prefix's reverse name take the names under their apex */
	for (size_t z = 0; z < c->n_zones; z++)
		if (c->zones[z].apex.len > r->rev_root.len &&
		    dname_is_below_or_at(&c->zones[z].apex, &r->rev_root))
			r->n_subs++;
	if (r->n_subs && !(r->subs = calloc(r->n_subs, sizeof(*r->subs)))) {
		cc_error(v, "out of memory");
		return;
	}
	r->n_subs = 0;
	for (size_t z = 0; z < c->n_zones; z++)
		if (c->zones[z].apex.len > r->rev_root.len &&
		    dname_is_below_or_at(&c->zones[z].apex, &r->rev_root))
			r->subs[r->n_subs++] = (struct reverse_sub){
			    .apex = c->zones[z].apex, .zone = (uint16_t)z, .ttl = c->zones[z].ttl};
	h->types[0] = r->prefix.family == AF_INET ? PP_TYPE_A : PP_TYPE_AAAA;
	h->types[1] = PP_TYPE_PTR;
	h->n_types = 2;
	h->qtype = h->types[0];
}

/* The address of a reverse name (exactly 4 decimal or 32 hex labels), or 0. */
static int parse_reverse(const struct dname *n, uint8_t a[16])
{
	static const uint8_t v4[] = "\7in-addr\4arpa", v6[] = "\3ip6\4arpa";
	const uint8_t *w = n->wire;

	memset(a, 0, 16);
	if (n->labels == 6 && n->len > sizeof(v4) &&
	    memcmp(w + n->len - sizeof(v4), v4, sizeof(v4)) == 0) {
		const uint8_t *p = w;

		for (int i = 3; i >= 0; i--) {
			unsigned v = 0, l = *p++;

			if (l == 0 || l > 3 || (l > 1 && p[0] == '0'))
				return 0;
			for (unsigned k = 0; k < l; k++) {
				if (p[k] < '0' || p[k] > '9')
					return 0;
				v = v * 10 + (unsigned)(p[k] - '0');
			}
			if (v > 255)
				return 0;
			a[i] = (uint8_t)v;
			p += l;
		}
		return AF_INET;
	}
	if (n->labels == 34 && n->len > sizeof(v6) &&
	    memcmp(w + n->len - sizeof(v6), v6, sizeof(v6)) == 0) {
		const uint8_t *p = w;

		for (int i = 31; i >= 0; i--) {
			unsigned v;

			if (p[0] != 1)
				return 0;
			if (p[1] >= '0' && p[1] <= '9')
				v = p[1] - '0';
			else if (p[1] >= 'a' && p[1] <= 'f')
				v = p[1] - 'a' + 10u;
			else
				return 0;
			a[i / 2] |= (uint8_t)(i % 2 ? v : v << 4);
			p += 2;
		}
		return AF_INET6;
	}
	return 0;
}

/* The address of a forward name under r's pattern, in its one spelling, or 0. */
static int parse_forward(const struct reverse *r, const struct config_handler *h,
			 const struct dname *n, uint8_t a[16])
{
	const uint8_t *w = n->wire;
	unsigned l = w[0];
	char text[64], canon[64];
	size_t k = 0;

	if (n->len != h->name.len + l + 1 || memcmp(w + 1 + l, h->name.wire, h->name.len) != 0 ||
	    l <= r->head_len + r->tail_len || memcmp(w + 1, r->head, r->head_len) != 0 ||
	    memcmp(w + 1 + l - r->tail_len, r->tail, r->tail_len) != 0)
		return 0;
	for (size_t i = 1 + r->head_len; i < 1 + l - r->tail_len; i++)
		text[k++] = (char)(w[i] == '-' ? (r->prefix.family == AF_INET ? '.' : ':') : w[i]);
	text[k] = 0;
	if (inet_pton(r->prefix.family, text, a) != 1)
		return 0;
	addr_label(r->prefix.family, a, canon);
	if (strlen(canon) != k || memcmp(canon, w + 1 + r->head_len, k) != 0)
		return 0; /* another spelling of it */
	return r->prefix.family;
}

static bool reverse_covers(const struct config_handler *h, const struct dname *n)
{
	const struct reverse *r = h->data;
	uint8_t a[16];

	return ((parse_reverse(n, a) == r->prefix.family || parse_forward(r, h, n, a)) &&
		in_prefix(&r->prefix, a));
}

static void reverse_answer(const struct config_handler *h, const struct kind_question *q,
			   struct buf *out)
{
	const struct reverse *r = h->data;
	uint32_t ttl = r->ttl == ZONE_TTL ? q->zone_ttl : r->ttl;
	uint8_t a[16];
	char text[320];

	if (parse_reverse(q->name, a) == r->prefix.family) {
		uint16_t zone = r->rev_zone;
		uint32_t zone_ttl = r->rev_ttl;
		size_t n, best = 0;

		if (q->qtype != PP_TYPE_ANY && q->qtype != PP_TYPE_PTR)
			return;
		/* the zone of the name: the longest apex at or above it */
		for (size_t i = 0; i < r->n_subs; i++)
			if (r->subs[i].apex.len > best &&
			    dname_is_below_or_at(q->name, &r->subs[i].apex)) {
				best = r->subs[i].apex.len;
				zone = r->subs[i].zone;
				zone_ttl = r->subs[i].ttl;
			}
		memcpy(text, r->head, r->head_len);
		n = r->head_len + addr_label(r->prefix.family, a, text + r->head_len);
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%.*s.%s", (int)r->tail_len,
				      r->tail, r->parent);
		if (text[n - 1] != '.')
			text[n++] = '.';
		pp_data(out, q->abi, q->owner, q->owner_len, PP_TYPE_PTR,
			r->ttl == ZONE_TTL ? zone_ttl : r->ttl, zone + 1, 0, text, n);
	} else if (parse_forward(r, h, q->name, a)) {
		if (q->qtype != PP_TYPE_ANY && q->qtype != h->types[0])
			return;
		inet_ntop(r->prefix.family, a, text, sizeof(text));
		pp_data(out, q->abi, q->owner, q->owner_len, h->types[0], ttl, q->zone_id, 0, text,
			strlen(text));
	}
}

static void reverse_describe(const struct config_handler *h, uint32_t zone_ttl, char *out,
			     size_t size)
{
	const struct reverse *r = h->data;
	char net[INET6_ADDRSTRLEN], root[80];

	inet_ntop(r->prefix.family, r->prefix.addr, net, sizeof(net));
	reverse_root(&r->prefix, root, sizeof(root));
	snprintf(out, size,
		 "PTR for every address of %s/%u under %s, and %s for the names it gives, ttl %u",
		 net, r->prefix.len, root, r->prefix.family == AF_INET ? "A" : "AAAA",
		 r->ttl == ZONE_TTL ? zone_ttl : r->ttl);
}

static const char *const keys[] = {"qname", "kind", "prefix", "ttl"};

const struct kind kind_reverse = {
    .name = "reverse",
    .keys = keys,
    .n_keys = ELEMENTSOF(keys),
    .required = keys,
    .n_required = 3,
    .own_qname = true,
    .parse = reverse_parse,
    .free_data = reverse_free,
    .answer = reverse_answer,
    .list = NULL, /* every address of a prefix: too many to list */
    .describe = reverse_describe,
    .covers = reverse_covers,
};
