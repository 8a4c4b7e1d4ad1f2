/* SPDX-License-Identifier: MIT */
/* The walk of the config's JSON document along the schema (configwalk.h): the root, each
 * zone, each handler (a kind's own keys through kind.h, "health" through confighealth.c) and
 * its views, with the toolkit of configcheck.c. */
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "configcheck.h"
#include "confighealth.h"
#include "configwalk.h"
#include "kind.h"

#define NAMESERVERS_MAX	    64
#define HANDLERS_MAX	    100000
#define ZONES_MAX	    1000   /* in "zones" */
#define VIEWS_TOTAL_MAX	    100000 /* views of all handlers */
#define CONFIG_PREFIXES_MAX 100000 /* inline prefixes per view (more: prefix_file) */
#define TTL_MAX		    2147483647

static const char *const loglevel_names[] = {"critical", "error", "warning", "info", "debug"};
static const enum config_loglevel loglevel_values[] = {
    CONFIG_LOG_CRIT, CONFIG_LOG_ERR, CONFIG_LOG_WARNING, CONFIG_LOG_INFO, CONFIG_LOG_DEBUG};
static const char *const advance_names[] = {"per-question", "per-lookup"}; /* by enum value */
#define VIEW_POLICIES 4 /* a view has no health checks: no least-loaded */

static void check_qname(struct cc *v, json_object *o, struct config_handler *h)
{
	json_object *x;

	if (json_object_object_get_ex(o, "qname", &x)) {
		size_t old = cc_push(v, "qname");
		const char *s = cc_qname(v, x);

		if (s) {
			h->qname = strdup(s);
			dname_parse(s, strlen(s), &h->name);
		}
		cc_pop(v, old);
	}
}

/* A handler of a kind of kind.h: its keys, its name, then the kind's own checks. */
static void check_kind_handler(struct cc *v, json_object *o, struct config *c,
			       struct config_handler *h, const struct kind *k)
{
	h->kind = k;
	cc_keys(v, o, k->keys, k->n_keys, k->required, k->n_required);
	if (!k->own_qname)
		check_qname(v, o, h);
	k->parse(v, o, c, h);
}

/* How many views the handler object o has, for the room they need (0 when "views" is not an
 * array of objects of acceptable size: check_views() says why). */
static size_t views_of(json_object *o)
{
	json_object *x;
	size_t n;

	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "views", &x) || !json_object_is_type(x, json_type_array))
		return 0;
	n = json_object_array_length(x);
	return n <= CONFIG_VIEWS_MAX ? n : 0;
}

static void check_prefix(struct cc *v, json_object *o, struct config_prefix *p)
{
	const char *s = cc_string(v, o, 1, 60);
	char q[DIAG_QUOTE_SIZE(60)], why[128];

	if (s && config_prefix_parse(s, (size_t)json_object_get_string_len(o), p, why,
				     sizeof(why)) < 0) {
		cc_error(v, "%s %s", cc_quoted(o, q, 60), why);
		p->family = 0;
	}
}

static void check_policy_count(struct cc *v, json_object *o, struct config_handler *h,
			       size_t n_policies);

/* The views of handler h, into the handlers at views[0 .. n). */
static void check_views(struct cc *v, json_object *arr, struct config *c, struct config_handler *h,
			struct config_handler *views)
{
	static const char *const keys[] = {"name", "prefixes", "prefix_file",
					   "file", "policy",   "count"};
	static const char *const required[] = {"file"};
	size_t n;

	if (!cc_array(v, arr, 1, CONFIG_VIEWS_MAX) || !views)
		return;
	n = json_object_array_length(arr);
	h->n_views = (uint16_t)n;
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i), *x;
		struct config_handler *w = &views[i];
		size_t old = cc_push_index(v, i);

		w->view = (uint16_t)(i + 1);
		w->qtype = h->qtype;
		w->types[0] = h->qtype;
		w->n_types = 1;
		w->name = h->name;
		w->qname = h->qname ? strdup(h->qname) : NULL;
		w->count = 1;
		if (!json_object_is_type(o, json_type_object)) {
			cc_error(v, "expected an object, got %s", cc_type_name(o));
			cc_pop(v, old);
			continue;
		}
		cc_keys(v, o, keys, ELEMENTSOF(keys), required, ELEMENTSOF(required));
		if (!json_object_object_get_ex(o, "prefixes", NULL) &&
		    !json_object_object_get_ex(o, "prefix_file", NULL))
			cc_error(v, "needs \"prefixes\" or \"prefix_file\": the clients it is for");
		if (json_object_object_get_ex(o, "name", &x)) {
			size_t o2 = cc_push(v, "name");
			const char *s = cc_string(v, x, 1, 64);

			if (s)
				w->view_name = strdup(s);
			cc_pop(v, o2);
		} else if (asprintf(&w->view_name, "view %zu", i + 1) < 0)
			w->view_name = NULL;
		if (json_object_object_get_ex(o, "prefixes", &x)) {
			size_t o2 = cc_push(v, "prefixes");

			if (cc_array(v, x, 1, CONFIG_PREFIXES_MAX)) {
				size_t np = json_object_array_length(x);

				w->prefixes = calloc(np, sizeof(*w->prefixes));
				for (size_t k = 0; w->prefixes && k < np; k++) {
					size_t o3 = cc_push_index(v, k);

					check_prefix(v, json_object_array_get_idx(x, k),
						     &w->prefixes[k]);
					if (w->prefixes[k].family)
						w->n_prefixes++;
					cc_pop(v, o3);
				}
			}
			cc_pop(v, o2);
		}
		if (json_object_object_get_ex(o, "prefix_file", &x)) {
			size_t o2 = cc_push(v, "prefix_file");
			const char *s = cc_string(v, x, 1, CC_FILE_MAXLEN);

			if (s) {
				w->prefix_file = strdup(s);
				w->prefix_path = cc_resolve(c->dir, s);
			}
			cc_pop(v, o2);
		}
		cc_file(v, o, c->dir, &w->file, &w->path);
		check_policy_count(v, o, w, VIEW_POLICIES);
		cc_pop(v, old);
	}
}

static void check_handler(struct cc *v, json_object *o, struct config *c, struct config_handler *h,
			  struct config_handler *views)
{
	static const char *const keys[] = {"qname", "qtype", "file",  "policy", "count",
					   "kind",  "views", "match", "health", "choices"};
	static const char *const match_names[] = {"subnet", "resolver"};
	json_object *x;
	size_t old;
	int r;

	if (!json_object_is_type(o, json_type_object)) {
		cc_error(v, "expected an object, got %s", cc_type_name(o));
		return;
	}
	if (json_object_object_get_ex(o, "kind", &x)) {
		const char *s;
		const struct kind *k = NULL;
		bool addresses;

		old = cc_push(v, "kind");
		s = cc_string(v, x, 0, SIZE_MAX);
		addresses = s && strcmp(s, "addresses") == 0;
		if (s && !addresses && !(k = kind_find(s))) {
			char q[DIAG_QUOTE_SIZE(40)], names[256];

			cc_error(v, "expected one of %s, got %s", kind_names(names, sizeof(names)),
				 cc_quoted(x, q, 40));
		}
		cc_pop(v, old);
		if (k)
			check_kind_handler(v, o, c, h, k);
		if (!addresses)
			return; /* another kind, or no kind at all */
	}
	cc_keys(v, o, keys, ELEMENTSOF(keys), keys, 3);
	check_qname(v, o, h);
	if (json_object_object_get_ex(o, "qtype", &x)) {
		char q[DIAG_QUOTE_SIZE(40)];
		const char *s;

		old = cc_push(v, "qtype");
		s = cc_string(v, x, 0, SIZE_MAX);
		if (s && strcmp(s, "A") == 0)
			h->qtype = 1;
		else if (s && strcmp(s, "AAAA") == 0)
			h->qtype = 28;
		else if (s)
			cc_error(v, "expected \"A\" or \"AAAA\", got %s", cc_quoted(x, q, 40));
		cc_pop(v, old);
	}
	cc_file(v, o, c->dir, &h->file, &h->path);
	check_policy_count(v, o, h, ELEMENTSOF(config_policy_names));
	if (json_object_object_get_ex(o, "health", &x)) {
		old = cc_push(v, "health");
		config_check_health(v, x, c, h);
		cc_pop(v, old);
	}
	config_check_least_loaded(v, o, h);
	if (json_object_object_get_ex(o, "match", &x)) {
		old = cc_push(v, "match");
		r = cc_enum(v, x, match_names, ELEMENTSOF(match_names));
		if (r >= 0)
			h->match = (enum config_match)r;
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(o, "views", &x)) {
		old = cc_push(v, "views");
		check_views(v, x, c, h, views);
		cc_pop(v, old);
	}
	h->types[0] = h->qtype;
	h->n_types = 1;
}

/* "policy" and "count" of an address list (a handler's, or a view's: the first n_policies
 * names). */
static void check_policy_count(struct cc *v, json_object *o, struct config_handler *h,
			       size_t n_policies)
{
	json_object *x;
	size_t old;
	int r;

	h->count = 1;
	if (json_object_object_get_ex(o, "policy", &x)) {
		old = cc_push(v, "policy");
		r = cc_enum(v, x, config_policy_names, n_policies);
		if (r >= 0)
			h->policy = (enum config_policy)r;
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(o, "count", &x)) {
		int64_t n;

		old = cc_push(v, "count");
		if (cc_integer(v, x, 1, CONFIG_COUNT_MAX, &n))
			h->count = (uint32_t)n;
		cc_pop(v, old);
	}
}

/* The keys of a zone: "domain", "soa", "nameservers", "ttl" (the config's own, or one of
 * "zones"), into z. */
static void check_zone(struct cc *v, json_object *o, struct config_zone *z)
{
	json_object *x;
	size_t old;

	if (json_object_object_get_ex(o, "domain", &x)) {
		const char *s;

		old = cc_push(v, "domain");
		s = cc_hostname(v, x);
		if (s) {
			z->domain = strdup(s);
			dname_parse(s, strlen(s), &z->apex);
		}
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(o, "soa", &x)) {
		char q[DIAG_QUOTE_SIZE(120)];
		const char *s;

		old = cc_push(v, "soa");
		s = cc_string(v, x, 0, SIZE_MAX);
		if (s && !cc_matches(&v->re_soa, x))
			cc_error(v,
				 "%s is not \"MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM\" "
				 "(host names and decimal numbers, single spaces)",
				 cc_quoted(x, q, 120));
		else if (s)
			z->soa = strdup(s);
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(o, "nameservers", &x)) {
		old = cc_push(v, "nameservers");
		if (cc_array(v, x, 1, NAMESERVERS_MAX)) {
			size_t n = json_object_array_length(x);

			z->nameservers = calloc(n, sizeof(char *));
			for (size_t i = 0; z->nameservers && i < n; i++) {
				size_t o2 = cc_push_index(v, i);
				const char *s = cc_hostname(v, json_object_array_get_idx(x, i));

				if (s)
					z->nameservers[z->n_nameservers++] = strdup(s);
				cc_pop(v, o2);
			}
		}
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(o, "ttl", &x)) {
		int64_t t;

		old = cc_push(v, "ttl");
		if (cc_integer(v, x, 0, TTL_MAX, &t))
			z->ttl = (uint32_t)t;
		cc_pop(v, old);
	}
}

void config_check_root(struct cc *v, json_object *root, struct config *c)
{
	static const char *const allowed[] = {"domain",
					      "soa",
					      "nameservers",
					      "ttl",
					      "loglevel",
					      "advance",
					      "handlers",
					      "control_dir",
					      "control_group",
					      "zones",
					      "catch_all",
					      "empty_non_terminals",
					      "metrics_max_addresses"};
	static const char *const required[] = {"domain", "soa", "nameservers", "ttl", "handlers"};
	json_object *x;
	size_t old;
	int r;

	if (!json_object_is_type(root, json_type_object)) {
		cc_error(v, "expected an object, got %s", cc_type_name(root));
		return;
	}
	cc_keys(v, root, allowed, ELEMENTSOF(allowed), required, ELEMENTSOF(required));

	/* the config's own zone is the first; "zones" adds more */
	if (json_object_object_get_ex(root, "zones", &x)) {
		old = cc_push(v, "zones");
		if (cc_array(v, x, 1, ZONES_MAX))
			c->n_zones = 1 + json_object_array_length(x);
		cc_pop(v, old);
	}
	if (!c->n_zones)
		c->n_zones = 1;
	c->zones = calloc(c->n_zones, sizeof(*c->zones));
	if (!c->zones) {
		cc_error(v, "out of memory");
		c->n_zones = 0;
		return;
	}
	check_zone(v, root, &c->zones[0]);
	c->domain = c->zones[0].domain;
	c->apex = c->zones[0].apex;
	c->soa = c->zones[0].soa;
	c->nameservers = c->zones[0].nameservers;
	c->n_nameservers = c->zones[0].n_nameservers;
	c->ttl = c->zones[0].ttl;
	if (c->n_zones > 1) {
		static const char *const keys[] = {"domain", "soa", "nameservers", "ttl"};

		old = cc_push(v, "zones");
		for (size_t i = 1; i < c->n_zones; i++) {
			json_object *o = json_object_array_get_idx(x, i - 1);
			size_t o2 = cc_push_index(v, i - 1);

			c->zones[i].ttl = c->ttl;
			if (!json_object_is_type(o, json_type_object))
				cc_error(v, "expected an object, got %s", cc_type_name(o));
			else {
				cc_keys(v, o, keys, ELEMENTSOF(keys), keys, 3);
				check_zone(v, o, &c->zones[i]);
			}
			cc_pop(v, o2);
		}
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(root, "catch_all", &x)) {
		static const char *const keys[] = {"soa", "nameservers", "ttl"};

		old = cc_push(v, "catch_all");
		c->catch_all = calloc(1, sizeof(*c->catch_all));
		if (!c->catch_all)
			cc_error(v, "out of memory");
		else if (!json_object_is_type(x, json_type_object))
			cc_error(v, "expected an object, got %s", cc_type_name(x));
		else {
			c->catch_all->ttl = c->ttl;
			cc_keys(v, x, keys, ELEMENTSOF(keys), keys, 2);
			check_zone(v, x, c->catch_all);
		}
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(root, "loglevel", &x)) {
		old = cc_push(v, "loglevel");
		r = cc_enum(v, x, loglevel_names, ELEMENTSOF(loglevel_names));
		if (r >= 0)
			c->loglevel = loglevel_values[r];
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(root, "advance", &x)) {
		old = cc_push(v, "advance");
		r = cc_enum(v, x, advance_names, ELEMENTSOF(advance_names));
		if (r >= 0)
			c->advance = (enum config_advance)r;
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(root, "empty_non_terminals", &x)) {
		old = cc_push(v, "empty_non_terminals");
		if (json_object_is_type(x, json_type_boolean))
			c->empty_non_terminals = json_object_get_boolean(x);
		else
			cc_error(v, "expected true or false, got %s", cc_type_name(x));
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(root, "metrics_max_addresses", &x)) {
		int64_t n;

		old = cc_push(v, "metrics_max_addresses");
		if (cc_integer(v, x, 0, METRICS_MAX_ADDRESSES_MAX, &n))
			c->metrics_max_addresses = (uint32_t)n;
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(root, "control_dir", &x)) {
		const char *s;

		old = cc_push(v, "control_dir");
		s = cc_string(v, x, 1, 200);
		if (s && strlen(s) != (size_t)json_object_get_string_len(x))
			cc_error(v, "contains a NUL character");
		else if (s)
			c->control_dir = strdup(s);
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(root, "control_group", &x)) {
		char q[DIAG_QUOTE_SIZE(40)];
		const char *s;

		old = cc_push(v, "control_group");
		s = cc_string(v, x, 0, 32);
		if (s && !cc_matches(&v->re_group, x))
			cc_error(v, "%s is not a group name", cc_quoted(x, q, 40));
		else if (s)
			c->control_group = strdup(s);
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(root, "handlers", &x)) {
		old = cc_push(v, "handlers");
		size_t nv;

		/* the views go after the handlers: counted first, in the walk for uniqueness */
		if (cc_array_counted(v, x, 0, HANDLERS_MAX, views_of, &nv)) {
			size_t n = json_object_array_length(x), next;

			if (nv > VIEWS_TOTAL_MAX) {
				cc_error(v, "%zu views in all, at most %d are allowed", nv,
					 VIEWS_TOTAL_MAX);
				nv = 0;
			}
			c->handlers = calloc(n + nv ? n + nv : 1, sizeof(*c->handlers));
			if (!c->handlers)
				cc_error(v, "out of memory");
			next = n;
			for (size_t i = 0; c->handlers && i < n; i++) {
				json_object *o = json_object_array_get_idx(x, i);
				size_t o2 = cc_push_index(v, i), k = views_of(o);

				check_handler(v, o, c, &c->handlers[i],
					      k && nv ? &c->handlers[next] : NULL);
				/* Nothing refers to its tree any more: freed while it is in the
				 * cache (and its memory taken again by the next handlers), not in a
				 * last walk over the whole cold tree. */
				json_object_array_put_idx(x, i, NULL);
				if (k && nv)
					next += k;
				c->n_handlers++;
				cc_pop(v, o2);
			}
			if (c->handlers) {
				c->n_handlers = next;
				c->n_views = next - n;
			}
		}
		cc_pop(v, old);
	}
}
