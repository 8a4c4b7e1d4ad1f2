/* SPDX-License-Identifier: MIT */
/* One handler of a snapshot (handler.h): its address list and its views' prefixes, loaded
 * from their files or carried over from the previous snapshot's handler. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "handler.h"
#include "hash.h"
#include "prefixfile.h"

static bool is_held(const struct snapshot_opts *o, const char *path)
{
	for (char *const *p = o->hold_paths; p && *p; p++)
		if (strcmp(*p, path) == 0)
			return true;
	return false;
}

/* Does old's list (or its lack of one) fit h's policy? A weighted list has weights, any
 * other has none; a file read for one is read again for the other. */
static bool fits(const struct handler *old, const struct config_handler *h)
{
	return !old->list || !old->list->cum == (h->policy != CONFIG_POLICY_WEIGHTED);
}

int handler_load_list(struct handler *h, const struct handler *old, int64_t old_slot,
		      const struct snapshot_opts *o, struct diag *d)
{
	int family = h->cfg->qtype == 1 ? AF_INET : AF_INET6;
	unsigned flags = h->cfg->policy == CONFIG_POLICY_WEIGHTED ? ADDRLIST_WEIGHTS : 0;
	struct addrlist *list = NULL;
	struct file_id id;
	struct diag mine;
	int r;

	h->carry_from = -1;
	if (h->cfg->kind)
		return 0; /* it answers from its config: no file */
	/* A file that did not change since the last attempt has the same outcome, and one that
	 * is being written is not read yet. */
	if (old && strcmp(old->cfg->path, h->cfg->path) == 0 && fits(old, h->cfg) &&
	    (!old->error || old->cfg->policy == h->cfg->policy) &&
	    ((o->reuse_unchanged && old->file_id.ino && file_id_get(h->cfg->path, &id) == 0 &&
	      file_id_equal(&old->file_id, &id) && file_id_settled(&id, &old->read_at)) ||
	     (is_held(o, h->cfg->path) && (id = old->file_id, true)))) {
		h->file_id = id;
		h->read_at = old->read_at;
		h->list = addrlist_ref(old->list);
		h->carry_from = old->list ? old_slot : -1;
		if (old->error && !(h->error = strdup(old->error)))
			return -ENOMEM;
		return 0;
	}

	diag_init(&mine);
	file_id_clock(&h->read_at);
	r = addrlist_load_id(h->cfg->path, family, flags, &mine, &h->file_id, &list);
	if (r == -ENOMEM) {
		diag_clear(&mine);
		return r;
	}
	if (r >= 0) {
		if (old && old->list && addrlist_equal(old->list, list)) {
			/* same addresses: share the old list, and the rotation goes on */
			addrlist_unref(list);
			list = addrlist_ref(old->list);
			h->carry_from = old_slot;
		}
		h->list = list;
		return 0;
	}

	if (o->keep_prev_on_error && old && old->list && fits(old, h->cfg)) {
		h->list = addrlist_ref(old->list);
		h->carry_from = old_slot;
		diag_add_handler(
		    &mine, h->cfg->path, h->cfg->qname, family == AF_INET ? "A" : "AAAA",
		    "%s: keeping the previous list for %s %s (%u addresses)", h->cfg->path,
		    h->cfg->qname, family == AF_INET ? "A" : "AAAA", old->list->n);
	} else if (o->prev)
		diag_add_handler(&mine, h->cfg->path, h->cfg->qname,
				 family == AF_INET ? "A" : "AAAA",
				 "%s: %s %s serves nothing until the file is fixed", h->cfg->path,
				 h->cfg->qname, family == AF_INET ? "A" : "AAAA");
	h->error = diag_join(&mine, "; ");
	if (!h->error) {
		diag_clear(&mine);
		return -ENOMEM;
	}
	/* Report a problem once, not at every reload while it lasts. */
	if (old && streq_ptr(old->error, h->error))
		diag_clear(&mine);
	else
		diag_move(d, &mine);
	return 0;
}

struct viewset *viewset_ref(struct viewset *v)
{
	if (v)
		__atomic_add_fetch(&v->refs, 1, __ATOMIC_RELAXED);
	return v;
}

struct viewset *viewset_unref(struct viewset *v)
{
	if (v && __atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		prefixtrie_done(&v->trie);
		free(v);
	}
	return NULL;
}

uint64_t handler_views_key(const struct handler *h, const struct timespec *read_at, bool *settled)
{
	uint64_t key = FNV_OFFSET;

	*settled = read_at != NULL;
	for (uint16_t k = 1; k <= h->cfg->n_views; k++) {
		const struct config_handler *w = h[k].cfg;
		struct file_id id = {0};

		key = fnv1a(key, &k, sizeof(k));
		key = fnv1a(key, w->prefixes, w->n_prefixes * sizeof(*w->prefixes));
		if (w->prefix_path) {
			if (file_id_get(w->prefix_path, &id) < 0 || !read_at ||
			    !file_id_settled(&id, read_at))
				*settled = false;
			key = fnv1a(key, w->prefix_path, strlen(w->prefix_path) + 1);
			key = fnv1a(key, &id.dev, sizeof(id.dev));
			key = fnv1a(key, &id.ino, sizeof(id.ino));
			key = fnv1a(key, &id.size, sizeof(id.size));
			key = fnv1a(key, &id.mtime, sizeof(id.mtime));
			key = fnv1a(key, &id.ctime, sizeof(id.ctime));
		}
	}
	return key;
}

/* Is one of the prefix files of h's views being written, while old's views are the same
 * ones (so that old's trie means the same views)? */
static bool views_held(const struct handler *h, const struct handler *old,
		       const struct snapshot_opts *o)
{
	bool held = false;

	if (old->cfg->n_views != h->cfg->n_views)
		return false;
	for (uint16_t k = 1; k <= h->cfg->n_views; k++) {
		const struct config_handler *a = h[k].cfg, *b = old[k].cfg;

		if (!streq_ptr(a->prefix_path, b->prefix_path) || a->n_prefixes != b->n_prefixes ||
		    (a->n_prefixes &&
		     memcmp(a->prefixes, b->prefixes, a->n_prefixes * sizeof(*a->prefixes)) != 0))
			return false;
		held |= a->prefix_path && is_held(o, a->prefix_path);
	}
	return held;
}

/* Adds the inline prefixes of h's views to t (value k - 1 for view k). Returns 0 or -ENOMEM. */
static int add_inline(struct prefixtrie *t, const struct handler *h)
{
	for (uint16_t k = 1; k <= h->cfg->n_views; k++) {
		const struct config_handler *w = h[k].cfg;

		for (size_t i = 0; i < w->n_prefixes; i++) {
			int r = prefixtrie_add(t, w->prefixes[i].family, w->prefixes[i].addr,
					       w->prefixes[i].len, k - 1u);

			if (r == -ENOMEM)
				return r; /* -EEXIST cannot be: config_parse() refuses a prefix in
					     two views */
		}
	}
	return 0;
}

int handler_load_views(struct handler *h, const struct handler *old, const struct snapshot_opts *o,
		       struct diag *d)
{
	const char *names[CONFIG_VIEWS_MAX];
	struct viewset *v;
	struct diag mine;
	bool settled, kept = false;
	uint64_t key =
	    handler_views_key(h, old && old->views ? &old->views->read_at : NULL, &settled);
	int r;

	if (old && old->views &&
	    ((o->reuse_unchanged && old->views->key == key && settled) || views_held(h, old, o))) {
		/* unchanged, or a prefix file is being written: the previous prefixes */
		h->views = viewset_ref(old->views);
		if (old->views_error && !(h->views_error = strdup(old->views_error)))
			return -ENOMEM;
		return 0;
	}
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->refs = 1;
	v->key = key;
	prefixtrie_init(&v->trie);
	file_id_clock(&v->read_at);
	diag_init(&mine);
	for (uint16_t k = 1; k <= h->cfg->n_views; k++)
		names[k - 1] = h[k].cfg->view_name ? h[k].cfg->view_name : "?";
	r = add_inline(&v->trie, h);
	for (uint16_t k = 1; k <= h->cfg->n_views && r >= 0; k++)
		if (h[k].cfg->prefix_path)
			r = prefixfile_load(&v->trie, h[k].cfg->prefix_path, h[k].cfg->view - 1u,
					    names, &mine);
	if (r == -EINVAL) {
		/* a bad prefix file: the previous prefixes, or the inline ones alone */
		if (o->keep_prev_on_error && old && old->views) {
			viewset_unref(v);
			v = viewset_ref(old->views);
			kept = true;
			r = 0;
			diag_add_handler(
			    &mine, NULL, h->cfg->qname, h->cfg->qtype == 1 ? "A" : "AAAA",
			    "%s %s: keeping the previous prefixes of its views (%u)", h->cfg->qname,
			    h->cfg->qtype == 1 ? "A" : "AAAA", v->trie.prefixes);
		} else {
			prefixtrie_done(&v->trie);
			prefixtrie_init(&v->trie);
			r = add_inline(&v->trie, h);
			diag_add_handler(
			    &mine, NULL, h->cfg->qname, h->cfg->qtype == 1 ? "A" : "AAAA",
			    "%s %s: its views get the clients of their inline prefixes only until the "
			    "prefix files are fixed (%u prefixes)",
			    h->cfg->qname, h->cfg->qtype == 1 ? "A" : "AAAA", v->trie.prefixes);
			v->key = 0; /* read the files again next time */
		}
		if (r >= 0 && !(h->views_error = diag_join(&mine, "; ")))
			r = -ENOMEM;
	}
	if (r < 0) {
		diag_clear(&mine);
		viewset_unref(v);
		return r;
	}
	if (old && streq_ptr(old->views_error, h->views_error))
		diag_clear(&mine); /* said already */
	else
		diag_move(d, &mine);
	if (!kept) /* the previous snapshot's is in use, and frozen already */
		(void)prefixtrie_freeze(&v->trie);
	h->views = v;
	return 0;
}
