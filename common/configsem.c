/* SPDX-License-Identifier: MIT */
/* The checks across handlers, once each handler is valid on its own (configcheck.h): two
 * handlers claiming one name and type, a name both static and dynamic, a view's prefix in
 * another view of the same handler, a name under a zone it does not belong to. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "configcheck.h"
#include "configtypes.h"
#include "kind.h"
#include "pipeproto.h"

/* One record type of one handler, for the checks across handlers. */
struct claim {
	const struct config_handler *h;
	uint16_t type;
};

static int claim_cmp(const void *a, const void *b)
{
	const struct claim *x = a, *y = b;
	int c = (x->h->name.len > y->h->name.len) - (x->h->name.len < y->h->name.len);

	if (!c)
		c = memcmp(x->h->name.wire, y->h->name.wire, x->h->name.len);
	if (!c)
		c = (x->type > y->type) - (x->type < y->type);
	return c ? c : (x->h > y->h) - (x->h < y->h);
}

/* True when the claims surely hold no name and type twice and no CNAME at all: a set of
 * (name hash, type) keys finds no key twice. Otherwise (or without memory) the claims are
 * sorted and compared in full. */
static bool claims_surely_clean(const struct claim *claims, size_t n)
{
	_cleanup_free_ uint64_t *keys = malloc((n ? n : 1) * sizeof(*keys));

	if (!keys)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (claims[i].type == PP_TYPE_CNAME)
			return false;
		keys[i] = dname_hash(&claims[i].h->name) << 16 | claims[i].type;
	}
	return cc_all_distinct(keys, n);
}

static void handler_error(struct cc *v, const struct config *c, const struct config_handler *h,
			  const char *fmt, ...) _printf_(4, 5);
static void handler_error(struct cc *v, const struct config *c, const struct config_handler *h,
			  const char *fmt, ...)
{
	size_t old = cc_push_index(v, (size_t)(h - c->handlers));
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cc_error(v, "%s", msg);
	cc_pop(v, old);
}

struct owned_prefix {
	const struct config_prefix *p;
	const struct config_handler *view;
};

/* p as the trie keys it: 128 bits, IPv4 as ::ffff:a.b.c.d, so that 10.0.0.0/8 and
 * ::ffff:10.0.0.0/104 are one prefix here as they are there (and in a prefix file) */
static unsigned prefix_key(const struct config_prefix *p, uint8_t key[16])
{
	if (p->family == AF_INET6) {
		memcpy(key, p->addr, 16);
		return p->len;
	}
	memset(key, 0, 10);
	key[10] = key[11] = 0xff;
	memcpy(key + 12, p->addr, 4);
	return 96u + p->len;
}

static int prefix_cmp(const void *a, const void *b)
{
	const struct owned_prefix *x = a, *y = b;
	uint8_t kx[16], ky[16];
	unsigned lx = prefix_key(x->p, kx), ly = prefix_key(y->p, ky);
	int c = (lx > ly) - (lx < ly);

	if (!c)
		c = memcmp(kx, ky, 16);
	return c ? c : (x->view > y->view) - (x->view < y->view);
}

/* A prefix in two views of one handler: which should answer would be a guess. */
static void check_view_prefixes(struct cc *v, struct config *c)
{
	for (size_t i = 0, first = 0; i < c->n_handlers; i++) {
		const struct config_handler *h = &c->handlers[i];
		_cleanup_free_ struct owned_prefix *all = NULL;
		size_t n = 0;

		if (h->view)
			continue;
		if (!h->n_views)
			continue;
		/* its views: the next n_views handlers after those of the handlers before it */
		while (first < c->n_handlers && !c->handlers[first].view)
			first++;
		for (size_t k = 0; k < h->n_views; k++)
			n += c->handlers[first + k].n_prefixes;
		all = calloc(n ? n : 1, sizeof(*all));
		if (!all) {
			cc_error(v, "out of memory");
			return;
		}
		n = 0;
		for (size_t k = 0; k < h->n_views; k++) {
			const struct config_handler *w = &c->handlers[first + k];

			for (size_t j = 0; j < w->n_prefixes; j++)
				all[n++] = (struct owned_prefix){.p = &w->prefixes[j], .view = w};
		}
		first += h->n_views;
		qsort(all, n, sizeof(*all), prefix_cmp);
		for (size_t j = 1; j < n; j++)
			if (prefix_cmp(&(struct owned_prefix){all[j - 1].p, NULL},
				       &(struct owned_prefix){all[j].p, NULL}) == 0) {
				char text[INET6_ADDRSTRLEN];

				/* as the first of the two views writes it */
				inet_ntop(all[j - 1].p->family, all[j - 1].p->addr, text,
					  sizeof(text));
				handler_error(v, c, h, "%s/%u is in two views, \"%s\" and \"%s\"",
					      text, all[j - 1].p->len, all[j - 1].view->view_name,
					      all[j].view->view_name);
			}
	}
}

/* What the schema cannot say: handler names inside the zone; one handler per name and
 * type; a CNAME alone at its name and not at the apex; the apex NS set only from
 * "nameservers". */
void config_check_semantics(struct cc *v, struct config *c)
{
	_cleanup_free_ struct claim *claims = NULL;
	size_t n = 0, top = cc_push(v, "handlers");

	for (size_t i = 0; i < c->n_handlers; i++) {
		struct config_handler *h = &c->handlers[i];
		int zone = -1;

		for (size_t z = 0; z < c->n_zones; z++)
			if (dname_is_below_or_at(&h->name, &c->zones[z].apex) &&
			    (zone < 0 || c->zones[z].apex.len > c->zones[zone].apex.len))
				zone = (int)z;
		if (zone >= 0)
			h->zone = (uint16_t)zone;
		else if (!h->view) {
			size_t old = cc_push_index(v, i);
			size_t o2 = cc_push(v, "qname");

			if (c->n_zones == 1)
				cc_error(v, "\"%s\" is not at or below the domain \"%s\"", h->qname,
					 c->domain);
			else
				cc_error(
				    v,
				    "\"%s\" is in none of the zones (the domain \"%s\" and the %zu of "
				    "\"zones\")",
				    h->qname, c->domain, c->n_zones - 1);
			cc_pop(v, o2);
			cc_pop(v, old);
		}
	}
	claims = calloc(c->n_handlers * KIND_TYPES_MAX + 1, sizeof(*claims));
	if (!claims) {
		cc_error(v, "out of memory");
		cc_pop(v, top);
		return;
	}
	for (size_t i = 0; i < c->n_handlers; i++) {
		const struct config_handler *h = &c->handlers[i];
		bool apex = dname_equal(&h->name, &c->zones[h->zone].apex);

		for (uint8_t t = 0; !h->view && !(h->kind && h->kind->covers) && t < h->n_types;
		     t++) {
			claims[n++] = (struct claim){.h = h, .type = h->types[t]};
			if (apex && h->types[t] == PP_TYPE_NS)
				handler_error(v, c, h,
					      "NS records at the apex come from \"nameservers\"");
			if (apex && h->types[t] == PP_TYPE_CNAME)
				handler_error(
				    v, c, h,
				    "a CNAME cannot be at the apex (it has SOA and NS records)");
		}
	}
	if (claims_surely_clean(claims, n))
		n = 0; /* nothing to report: no sort */
	qsort(claims, n, sizeof(*claims), claim_cmp);
	for (size_t i = 1; i < n; i++) {
		const struct claim *a = &claims[i - 1], *b = &claims[i];

		if (dname_equal(&a->h->name, &b->h->name) && a->type == b->type)
			handler_error(
			    v, c, b->h,
			    "duplicate handler: %s %s is already handled by /handlers/%zu",
			    b->h->qname, pp_type_name(b->type), (size_t)(a->h - c->handlers));
	}
	/* per name: a CNAME and any other handler there */
	for (size_t i = 0, j; i < n; i = j) {
		const struct claim *cn = NULL;

		for (j = i; j < n && dname_equal(&claims[j].h->name, &claims[i].h->name); j++)
			if (claims[j].type == PP_TYPE_CNAME && !cn)
				cn = &claims[j];
		for (size_t k = i, seen; cn && k < j; k++) {
			for (seen = i; seen < k && claims[seen].h != claims[k].h; seen++)
				;
			if (claims[k].h != cn->h && seen == k) /* once per handler */
				handler_error(v, c, claims[k].h,
					      "%s has a CNAME (/handlers/%zu): a CNAME must be "
					      "alone at its name",
					      cn->h->qname, (size_t)(cn->h - c->handlers));
		}
	}
	check_view_prefixes(v, c);
	cc_pop(v, top);
	/* one zone per apex */
	for (size_t z = 1; z < c->n_zones; z++)
		for (size_t y = 0; y < z; y++)
			if (dname_equal(&c->zones[z].apex, &c->zones[y].apex)) {
				size_t o1 = cc_push(v, "zones"), o2 = cc_push_index(v, z - 1),
				       o3 = cc_push(v, "domain");
				char where[32];

				if (y)
					snprintf(where, sizeof(where), "/zones/%zu", y - 1);
				cc_error(v, "\"%s\" is already a zone (%s)", c->zones[z].domain,
					 y ? where : "the domain");
				cc_pop(v, o3);
				cc_pop(v, o2);
				cc_pop(v, o1);
				break;
			}
}
