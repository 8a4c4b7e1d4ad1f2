/* SPDX-License-Identifier: MIT */
/* The snapshot (snapshot.h): built whole, its handlers loaded by a few threads (handler.c),
 * or derived from the last one; its name table, and what a reload asks of it. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "kind.h"
#include "macro.h"
#include "snapshot.h"

struct snapshot_base {
	struct config *config;
	char ***ns;
	struct node *nodes;
	uint32_t *table;
	/* handlers by address file or prefix file: open addressing over path hashes, each
	 * entry a handler index + 1 whose path (or prefix path) it is; 0 = empty */
	uint32_t *by_path;
	size_t by_path_mask;
	unsigned refs; /* atomic */
};

static void base_unref(struct snapshot_base *b)
{
	if (!b || __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (size_t z = 0; b->ns && z <= b->config->n_zones; z++) {
		for (size_t i = 0; b->ns[z] && b->ns[z][i]; i++)
			free(b->ns[z][i]);
		free(b->ns[z]);
	}
	free(b->ns);
	free(b->nodes);
	free(b->table);
	free(b->by_path);
	config_free(b->config);
	free(b);
}

/* The file of handler h that is path: its list's, or (a view) its prefix file. */
static bool has_path(const struct config_handler *c, const char *path)
{
	return (c->path && strcmp(c->path, path) == 0) ||
	       (c->prefix_path && strcmp(c->prefix_path, path) == 0);
}

static int index_paths(struct snapshot_base *b, const struct handler *hs, size_t n)
{
	size_t size = 4;

	while (size < 2 * n)
		size *= 2;
	b->by_path = calloc(size, sizeof(*b->by_path));
	if (!b->by_path)
		return -ENOMEM;
	b->by_path_mask = size - 1;
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < 2; k++) {
			const char *p = k ? hs[i].cfg->prefix_path : hs[i].cfg->path;
			size_t j;

			if (!p)
				continue;
			j = fnv1a_str(p) & b->by_path_mask;
			while (b->by_path[j])
				j = (j + 1) & b->by_path_mask;
			b->by_path[j] = (uint32_t)i + 1;
		}
	return 0;
}

static bool covering(const struct handler *h)
{
	return h->cfg->kind && h->cfg->kind->covers;
}

static int handler_order(const void *a, const void *b)
{
	const struct handler *x = a, *y = b;
	int c = covering(x) - covering(y); /* those that answer sets of names last */

	if (c)
		return c;
	c = (x->cfg->name.len > y->cfg->name.len) - (x->cfg->name.len < y->cfg->name.len);

	if (!c)
		c = memcmp(x->cfg->name.wire, y->cfg->name.wire, x->cfg->name.len);
	if (!c)
		c = (x->cfg->qtype > y->cfg->qtype) - (x->cfg->qtype < y->cfg->qtype);
	if (!c) /* a handler, then its views in order */
		c = (x->cfg->view > y->cfg->view) - (x->cfg->view < y->cfg->view);
	return c;
}

static const struct handler *prev_handler(const struct snapshot *prev,
					  const struct config_handler *h)
{
	const struct node *n;

	if (!prev)
		return NULL;
	n = snapshot_find(prev, &h->name);
	if (!n)
		return NULL;
	for (uint32_t i = n->first; i < n->first + n->count; i++)
		if (!prev->handlers[i].cfg->kind && prev->handlers[i].cfg->qtype == h->qtype &&
		    prev->handlers[i].cfg->view == h->view)
			return &prev->handlers[i];
	return NULL;
}

/* Loading the lists: parsing is CPU work, so the files are shared out between up to
 * LOAD_THREADS threads. Each handler's messages are kept apart and added to d in handler
 * order afterwards, so the output does not depend on the threads. */
#define LOAD_THREADS 4

struct loader {
	struct snapshot *s;
	const struct snapshot_opts *o;
	struct diag *diags; /* one per handler */
	size_t next;	    /* atomic: the next handler to load */
	int error;	    /* atomic: the first failure (-ENOMEM) */
};

static void *load_some(void *arg)
{
	struct loader *l = arg;
	size_t i;

	while ((i = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED)) < l->s->n_handlers) {
		struct handler *h = &l->s->handlers[i];
		const struct handler *old = prev_handler(l->o->prev, h->cfg);
		int r = handler_load_list(h, old, old ? old - l->o->prev->handlers : -1, l->o,
					  &l->diags[i]);

		if (r >= 0 && h->cfg->n_views)
			r = handler_load_views(h, old, l->o, &l->diags[i]);

		if (r < 0) {
			int none = 0;

			__atomic_compare_exchange_n(&l->error, &none, r, false, __ATOMIC_RELAXED,
						    __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

static int load_all(struct snapshot *s, const struct snapshot_opts *o, struct diag *d)
{
	struct loader l = {.s = s, .o = o};
	pthread_t threads[LOAD_THREADS - 1];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = cpus > 1 ? (size_t)cpus : 1, started = 0;

	if (n > LOAD_THREADS)
		n = LOAD_THREADS;
	if (n > s->n_handlers)
		n = s->n_handlers ? s->n_handlers : 1;
	l.diags = calloc(s->n_handlers ? s->n_handlers : 1, sizeof(*l.diags));
	if (!l.diags)
		return -ENOMEM;
	/* this thread is one of the loaders; a thread that cannot start is just not there */
	for (size_t t = 0; t + 1 < n; t++)
		if (pthread_create(&threads[started], NULL, load_some, &l) == 0)
			started++;
	load_some(&l);
	for (size_t t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
	for (size_t i = 0; i < s->n_handlers; i++)
		diag_move(d, &l.diags[i]);
	free(l.diags);
	return l.error;
}

/* Whether node n is name. */
static bool node_is(const struct node *n, const struct dname *name)
{
	return n->name->len - n->skip == name->len &&
	       memcmp(n->name->wire + n->skip, name->wire, name->len) == 0;
}

/* Adds name (the ancestor of name0 whose wire form skips skip bytes, or name0 itself), or
 * merges it into the node it has already. */
static void add_node(struct snapshot *s, const struct dname *name0, uint8_t skip, bool apex,
		     uint16_t zone, uint32_t first, uint32_t count)
{
	struct dname name;
	size_t i;

	name.len = (uint8_t)(name0->len - skip);
	memcpy(name.wire, name0->wire + skip, name.len);
	i = dname_hash(&name) & s->table_mask;
	while (s->table[i]) {
		struct node *n = &s->nodes[s->table[i] - 1];

		if (node_is(n, &name)) {
			n->apex |= apex;
			if (count) { /* handlers at an apex: the zone is the apex's already */
				n->first = first;
				n->count = count;
			}
			return;
		}
		i = (i + 1) & s->table_mask;
	}
	s->nodes[s->n_nodes] = (struct node){.name = name0,
					     .skip = skip,
					     .apex = apex,
					     .zone = zone,
					     .first = first,
					     .count = count};
	s->table[i] = (uint32_t)++s->n_nodes;
}

static bool has_problem(const struct handler *h)
{
	return h->error || h->views_error;
}

/* s->with_error: from scratch (prev NULL), or merged from prev's and what s checked (both in
 * order: an index in both is s's to decide). */
static int list_problems(struct snapshot *s, const struct snapshot *prev)
{
	size_t n = 0, k = 0, cap = prev ? prev->n_with_error + s->n_checked : 0;

	if (!prev)
		for (size_t i = 0; i < s->n_handlers; i++)
			cap += has_problem(&s->handlers[i]);
	s->with_error = malloc((cap ? cap : 1) * sizeof(*s->with_error));
	if (!s->with_error)
		return -ENOMEM;
	if (!prev) {
		for (size_t i = 0; i < s->n_handlers; i++)
			if (has_problem(&s->handlers[i]))
				s->with_error[n++] = (uint32_t)i;
	} else
		for (size_t a = 0; a < prev->n_with_error || k < s->n_checked;) {
			uint32_t i;

			if (k >= s->n_checked ||
			    (a < prev->n_with_error && prev->with_error[a] < s->checked[k]))
				i = prev->with_error[a++];
			else {
				i = s->checked[k++];
				if (a < prev->n_with_error && prev->with_error[a] == i)
					a++;
				if (!has_problem(&s->handlers[i]))
					continue;
			}
			s->with_error[n++] = i;
		}
	s->n_with_error = n;
	return 0;
}

/* A weighted list whose every weight is 0: valid, and it answers no address. */
static bool drained(const struct handler *h)
{
	return h->list && h->list->cum && h->list->total == 0;
}

int snapshot_new(struct config *c, const struct snapshot_opts *opts, struct diag *d,
		 struct snapshot **ret)
{
	static const struct snapshot_opts first_load = {0};
	_cleanup_(snapshot_freep) struct snapshot *s = NULL;
	size_t size = 4, n_nodes;
	int r;

	s = calloc(1, sizeof(*s));
	if (s)
		s->base = calloc(1, sizeof(*s->base));
	if (!s || !s->base) {
		free(s);
		config_free(c);
		return -ENOMEM;
	}
	s->base->refs = 1;
	s->base->config = s->config = c;
	s->base->ns = s->ns = calloc(c->n_zones + 1, sizeof(*s->ns));
	s->handlers = calloc(c->n_handlers ? c->n_handlers : 1, sizeof(*s->handlers));
	if (!s->ns || !s->handlers)
		return -ENOMEM;
	for (size_t z = 0; z < c->n_zones + !!c->catch_all; z++) {
		const struct config_zone *zc = z < c->n_zones ? &c->zones[z] : c->catch_all;

		s->ns[z] = calloc(zc->n_nameservers + 1, sizeof(char *));
		if (!s->ns[z])
			return -ENOMEM;
		for (size_t i = 0; i < zc->n_nameservers; i++) {
			const char *n = zc->nameservers[i];
			size_t l = strlen(n);

			if (asprintf(&s->ns[z][i], "%s%s", n, l && n[l - 1] == '.' ? "" : ".") < 0)
				return -ENOMEM;
		}
	}
	s->n_handlers = c->n_handlers;
	for (size_t i = 0; i < c->n_handlers; i++)
		s->handlers[i].cfg = &c->handlers[i];
	qsort(s->handlers, s->n_handlers, sizeof(*s->handlers), handler_order);
	r = load_all(s, opts ? opts : &first_load, d);
	if (r < 0)
		return r;
	for (size_t i = 0; i < s->n_handlers; i++) {
		const struct handler *h = &s->handlers[i];

		if (h->list)
			s->n_addresses += h->list->n;
		else if (!h->cfg->kind)
			s->n_failed++;
		s->n_drained += drained(h);
		if (!h->cfg->kind && h->carry_from < 0)
			s->n_new++;
		if ((h->error && h->list) || (h->views_error && h->views && h->views->key))
			s->n_kept++;
	}

	s->first_covering = s->n_handlers;
	while (s->first_covering && covering(&s->handlers[s->first_covering - 1]))
		s->first_covering--;
	n_nodes = s->n_handlers + c->n_zones;
	for (size_t i = 0; c->empty_non_terminals && i < s->first_covering; i++)
		n_nodes += (size_t)(s->handlers[i].cfg->name.labels -
				    c->zones[s->handlers[i].cfg->zone].apex.labels);
	while (size < 2 * n_nodes)
		size *= 2;
	s->base->table = s->table = calloc(size, sizeof(*s->table));
	s->base->nodes = s->nodes = calloc(n_nodes, sizeof(*s->nodes));
	if (!s->table || !s->nodes || index_paths(s->base, s->handlers, s->n_handlers) < 0)
		return -ENOMEM;
	s->table_mask = size - 1;
	for (size_t z = 0; z < c->n_zones; z++)
		add_node(s, &c->zones[z].apex, 0, true, (uint16_t)z, 0, 0);
	for (size_t i = 0; i < s->first_covering;) {
		size_t j = i + 1;

		while (j < s->first_covering &&
		       dname_equal(&s->handlers[j].cfg->name, &s->handlers[i].cfg->name))
			j++;
		add_node(s, &s->handlers[i].cfg->name, 0, false, s->handlers[i].cfg->zone,
			 (uint32_t)i, (uint32_t)(j - i));
		i = j;
	}
	/* the names between each handler's name and its zone's apex exist too (after the
	 * handlers' own nodes, which they must not replace) */
	for (size_t i = 0; c->empty_non_terminals && i < s->first_covering; i++) {
		const struct dname *name = &s->handlers[i].cfg->name;
		uint16_t zone = s->handlers[i].cfg->zone;
		unsigned above = (unsigned)(name->labels - c->zones[zone].apex.labels);
		uint8_t skip = 0;

		for (unsigned k = 1; k < above; k++) {
			skip = (uint8_t)(skip + name->wire[skip] + 1);
			add_node(s, name, skip, false, zone, 0, 0);
		}
	}
	s->same = opts && snapshot_same(s, opts->prev);
	if (list_problems(s, NULL) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(s);
	return 0;
}

/* Would h answer exactly as old (the same slot of the snapshot it was derived from) does? */
static bool same_handler(const struct handler *h, const struct handler *old)
{
	return h->cfg->kind ||
	       (h->list == old->list && h->views == old->views && streq_ptr(h->error, old->error) &&
		streq_ptr(h->views_error, old->views_error));
}

/* Marks handler i (and, for a view's prefix file, the handler its views belong to) to be
 * looked at again. */
static void mark(const struct snapshot *s, size_t i, const char *path, uint8_t *want)
{
	const struct config_handler *c = s->handlers[i].cfg;

	if (c->path && strcmp(c->path, path) == 0)
		want[i] |= 1;
	if (c->prefix_path && strcmp(c->prefix_path, path) == 0 && c->view && i >= c->view)
		want[i - c->view] |= 2;
}

int snapshot_derive(const struct snapshot *prev, const struct snapshot_opts *opts,
		    char *const *paths, struct diag *d, struct snapshot **ret)
{
	_cleanup_(snapshot_freep) struct snapshot *s = NULL;
	_cleanup_free_ uint8_t *want = NULL; /* per handler: 1 its list, 2 its views */
	size_t n = prev->n_handlers;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*s = (struct snapshot){
	    .base = prev->base,
	    .config = prev->config,
	    .ns = prev->ns,
	    .n_handlers = n,
	    .first_covering = prev->first_covering,
	    .n_failed = prev->n_failed,
	    .n_drained = prev->n_drained,
	    .n_addresses = prev->n_addresses,
	    .nodes = prev->nodes,
	    .n_nodes = prev->n_nodes,
	    .table = prev->table,
	    .table_mask = prev->table_mask,
	    .n_kept = prev->n_kept,
	    .same = true,
	};
	__atomic_add_fetch(&s->base->refs, 1, __ATOMIC_ACQ_REL);
	want = calloc(n ? n : 1, 1);
	s->handlers = malloc((n ? n : 1) * sizeof(*s->handlers));
	if (!want || !s->handlers) {
		s->n_handlers = 0;
		return -ENOMEM;
	}
	memcpy(s->handlers, prev->handlers, n * sizeof(*s->handlers));
	for (size_t i = 0; i < n; i++) {
		struct handler *h = &s->handlers[i];

		h->carry_from = h->list ? (int64_t)i : -1;
		addrlist_ref(h->list);
		if (h->views)
			viewset_ref(h->views);
		h->error = h->views_error = NULL; /* copied below: prev's are not ours to free */
	}
	for (size_t i = 0; i < n; i++) {
		struct handler *h = &s->handlers[i];
		const struct handler *old = &prev->handlers[i];

		if ((old->error && !(h->error = strdup(old->error))) ||
		    (old->views_error && !(h->views_error = strdup(old->views_error))))
			return -ENOMEM;
	}
	if (!paths)
		memset(want, 3, n);
	else
		for (char *const *p = paths; *p; p++)
			for (size_t j = fnv1a_str(*p) & s->base->by_path_mask; s->base->by_path[j];
			     j = (j + 1) & s->base->by_path_mask)
				if (has_path(s->handlers[s->base->by_path[j] - 1].cfg, *p))
					mark(s, s->base->by_path[j] - 1, *p, want);
	for (size_t i = 0; i < n; i++)
		if (want[i] && !s->handlers[i].cfg->kind)
			s->n_checked++;
	s->checked = calloc(s->n_checked ? s->n_checked : 1, sizeof(*s->checked));
	if (!s->checked)
		return -ENOMEM;
	s->n_checked = 0;
	for (size_t i = 0; i < n; i++) {
		struct handler *h = &s->handlers[i];
		const struct handler *old = &prev->handlers[i];
		struct diag mine;
		int r = 0;

		if (!want[i] || h->cfg->kind)
			continue;
		s->checked[s->n_checked++] = (uint32_t)i;
		diag_init(&mine);
		if (want[i] & 1) {
			const struct handler *was = prev_handler(opts->prev, h->cfg);

			h->list = addrlist_unref(h->list);
			h->error = mfree(h->error);
			r = handler_load_list(h, was, was ? was - opts->prev->handlers : -1, opts,
					      &mine);
		}
		if (r >= 0 && (want[i] & 2) && h->cfg->n_views) {
			h->views = viewset_unref(h->views);
			h->views_error = mfree(h->views_error);
			r = handler_load_views(h, prev_handler(opts->prev, h->cfg), opts, &mine);
		}
		diag_move(d, &mine);
		if (r < 0)
			return r;
		s->n_addresses =
		    s->n_addresses - (old->list ? old->list->n : 0) + (h->list ? h->list->n : 0);
		s->n_failed += (size_t)!h->list - (size_t)!old->list;
		s->n_drained += (size_t)drained(h) - (size_t)drained(old);
		s->n_kept += (size_t)((h->error && h->list) ||
				      (h->views_error && h->views && h->views->key)) -
			     (size_t)((old->error && old->list) ||
				      (old->views_error && old->views && old->views->key));
		if (h->carry_from < 0)
			s->n_new++;
		if (!same_handler(h, old))
			s->same = false;
	}
	if (list_problems(s, prev) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(s);
	return 0;
}

const char **snapshot_stale(const struct snapshot *s, size_t from, size_t n, size_t *stat_calls)
{
	const char **v = NULL;
	size_t k = 0, cap = 0, calls = 0;

	for (size_t i = from; i < from + n && i < s->n_handlers; i++) {
		const struct handler *h = &s->handlers[i];
		const char *p = NULL;

		if (h->cfg->kind)
			continue;
		if (h->cfg->path) {
			struct file_id id;

			calls++;
			if (!h->file_id.ino || file_id_get(h->cfg->path, &id) < 0 ||
			    !file_id_equal(&id, &h->file_id) || !file_id_settled(&id, &h->read_at))
				p = h->cfg->path;
			/* a file that is missing now and was missing then: the same outcome */
			if (p && !h->file_id.ino && access(h->cfg->path, F_OK) < 0)
				p = NULL;
		}
		if (!p && h->cfg->n_views && h->views) {
			bool settled;

			calls += h->cfg->n_views;
			if (handler_views_key(h, &h->views->read_at, &settled) != h->views->key ||
			    !settled)
				for (uint16_t k2 = 1; k2 <= h->cfg->n_views && !p; k2++)
					p = h[k2].cfg->prefix_path;
		}
		if (!p)
			continue;
		if (k + 2 > cap) {
			const char **nv = realloc(v, (cap = cap ? 2 * cap : 16) * sizeof(*v));

			if (!nv) {
				free(v);
				return NULL;
			}
			v = nv;
		}
		v[k++] = p;
		v[k] = NULL;
	}
	*stat_calls = calls;
	return v;
}

bool snapshot_same(const struct snapshot *s, const struct snapshot *prev)
{
	if (prev && s->checked && s->base == prev->base)
		return s->same;
	if (!prev || s->config->text_hash != prev->config->text_hash ||
	    strcmp(s->config->path, prev->config->path) != 0 || s->n_handlers != prev->n_handlers)
		return false;
	for (size_t i = 0; i < s->n_handlers; i++) {
		const struct handler *a = &s->handlers[i], *b = &prev->handlers[i];

		if (a->cfg->kind) /* answers from the config, whose text is the same */
			continue;
		if (a->views != b->views || !streq_ptr(a->views_error, b->views_error) ||
		    a->list != b->list || (a->list && a->carry_from != (int64_t)i) ||
		    !streq_ptr(a->error, b->error))
			return false;
	}
	return true;
}

int snapshot_rotation(const struct snapshot *s, const struct rotation *old, size_t n_old,
		      struct rotation *ret, uint32_t *map)
{
	*ret = (struct rotation){.rng = old ? old->rng : 0};
	if (rotation_resize(ret, s->n_handlers) < 0)
		return -ENOMEM;
	if (map)
		memset(map, 0, n_old * sizeof(*map));
	for (size_t i = 0; i < s->n_handlers; i++) {
		int64_t j = s->handlers[i].carry_from;

		if (j >= 0 && (size_t)j < n_old && (size_t)j < old->n) {
			ret->next[i] = old->next[j];
			if (map)
				map[j] = (uint32_t)i + 1;
		}
	}
	return 0;
}

void snapshot_warnings(const struct snapshot *s, struct diag *w)
{
	size_t n = s->checked ? s->n_checked : s->n_handlers;

	for (size_t k = 0; k < n; k++) {
		const struct handler *h = &s->handlers[s->checked ? s->checked[k] : k];

		if (h->list && h->list->cum && h->list->total == 0 && h->carry_from < 0)
			diag_add_handler(
			    w, h->cfg->path, h->cfg->qname, h->cfg->qtype == 1 ? "A" : "AAAA",
			    "%s: warning: every address has weight 0: %s %s serves nothing",
			    h->cfg->path, h->cfg->qname, h->cfg->qtype == 1 ? "A" : "AAAA");
		if (h->list && h->cfg->policy == CONFIG_POLICY_ALL && h->list->n > CONFIG_ALL_MAX &&
		    h->carry_from < 0)
			diag_add_handler(
			    w, h->cfg->path, h->cfg->qname, h->cfg->qtype == 1 ? "A" : "AAAA",
			    "%s: warning: %u addresses under policy \"all\": %s %s answers the first %d "
			    "(what a DNS message holds)",
			    h->cfg->path, h->list->n, h->cfg->qname,
			    h->cfg->qtype == 1 ? "A" : "AAAA", CONFIG_ALL_MAX);
		if (h->list && h->cfg->health && h->list->n > HEALTH_ADDRESSES_MAX &&
		    h->carry_from < 0)
			diag_add_handler(
			    w, h->cfg->path, h->cfg->qname, h->cfg->qtype == 1 ? "A" : "AAAA",
			    "%s: warning: %u addresses, more than the %u health checks take: %s %s serves "
			    "them all unchecked",
			    h->cfg->path, h->list->n, HEALTH_ADDRESSES_MAX, h->cfg->qname,
			    h->cfg->qtype == 1 ? "A" : "AAAA");
	}
}

const struct node *snapshot_find(const struct snapshot *s, const struct dname *name)
{
	size_t i = dname_hash(name) & s->table_mask;

	while (s->table[i]) {
		const struct node *n = &s->nodes[s->table[i] - 1];

		if (node_is(n, name))
			return n;
		i = (i + 1) & s->table_mask;
	}
	return NULL;
}

struct snapshot *snapshot_free(struct snapshot *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n_handlers; i++) {
		addrlist_unref(s->handlers[i].list);
		viewset_unref(s->handlers[i].views);
		free(s->handlers[i].views_error);
		free(s->handlers[i].error);
	}
	free(s->handlers);
	free(s->checked);
	free(s->with_error);
	base_unref(s->base);
	free(s);
	return NULL;
}
