/* SPDX-License-Identifier: MIT */
/* One handler of a snapshot (snapshot.h): what it serves from its files, its address list and
 * its views' prefixes, each loaded anew or carried over from the previous snapshot's handler
 * of the same name, type and view (handler.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "addrlist.h"
#include "configtypes.h"
#include "diag.h"
#include "fileid.h"
#include "prefixtrie.h"

struct snapshot;

/* The prefixes of a handler's views in one trie, whose value k - 1 means view k. Built from
 * the views' inline prefixes and prefix files; shared by the next snapshot (refs) while
 * none of those changed. */
struct viewset {
	struct prefixtrie trie;
	uint64_t key; /* of the sources: inline prefixes, prefix files and their identities */
	struct timespec read_at; /* when the prefix files were read */
	unsigned refs;		 /* atomic */
};

struct handler {
	const struct config_handler *cfg; /* points into the snapshot's config */
	struct viewset *views;		  /* a handler with views (cfg->n_views): who gets which;
					   * its views are the cfg->n_views handlers after it */
	char *views_error;	/* the problem with its prefix files at the last attempt, or NULL */
	struct addrlist *list;	/* NULL when the file never loaded */
	char *error;		/* the problem with the file at the last attempt, or NULL */
	struct file_id file_id; /* of the file at the last attempt (zero if it did not open) */
	struct timespec read_at; /* when that attempt began (file_id_clock) */
	int64_t carry_from;	 /* index of the handler in the previous snapshot whose rotation
				  * continues here (same name, type and addresses), or -1 */
};

/* How snapshot_new() and snapshot_derive() build (snapshot.h), and so how each handler loads. */
struct snapshot_opts {
	const struct snapshot *prev; /* the live snapshot, or NULL */
	bool reuse_unchanged;	     /* don't re-read a file whose identity matches prev's */
	bool keep_prev_on_error;     /* a bad file keeps prev's list for the same name and type */
	char *const *hold_paths;     /* NULL-terminated: files being written (address or prefix
				      * files); they keep prev's list or prefixes */
};

struct viewset *viewset_ref(struct viewset *v);
/* Drops a reference to v (may be NULL); returns NULL. */
struct viewset *viewset_unref(struct viewset *v);

/* The key of h's views' sources: their inline prefixes, prefix files and the files'
 * identities. *settled: every prefix file is older than the clock tick of read_at (NULL:
 * nothing read before), so that an equal identity means equal contents. */
uint64_t handler_views_key(const struct handler *h, const struct timespec *read_at, bool *settled);

/* Loads the address list of h (none for a handler of a kind) as o says, against old, the
 * handler of o->prev with the same name, type and view (NULL: none) at slot old_slot: its
 * list is shared when the file did not change, or (keep_prev_on_error) kept when the file is
 * bad; h->carry_from, h->error (reported to d once, not at every attempt while it lasts).
 * Returns 0, or -ENOMEM. */
int handler_load_list(struct handler *h, const struct handler *old, int64_t old_slot,
		      const struct snapshot_opts *o, struct diag *d);

/* Builds (or takes over from old, as for handler_load_list()) the trie of handler h, whose
 * views are the handlers after it: h->views, h->views_error. Returns 0, or -ENOMEM. */
int handler_load_views(struct handler *h, const struct handler *old, const struct snapshot_opts *o,
		       struct diag *d);
