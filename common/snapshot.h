/* SPDX-License-Identifier: MIT */
/* An immutable view of everything pdyndns answers from: the config and every address list,
 * with a name table for lookups. Built whole, then only read; owns all its memory. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addrlist.h"
#include "config.h"
#include "diag.h"
#include "dname.h"
#include "handler.h"
#include "prefixtrie.h"
#include "rotation.h"

#define SNAPSHOT_ZONE_ID 1 /* the id of the config's own zone; zone k of config.zones has k + 1 */

struct node {
	const struct dname *name; /* points into the config; the node's name is its wire form
				   * without the first skip bytes */
	uint8_t skip;	/* > 0: an ancestor of a handler's name (config.empty_non_terminals) */
	bool apex;	/* of zone */
	uint16_t zone;	/* the zone the name is in (config.zones; its id is zone + 1) */
	uint32_t first; /* handlers at this name: handlers[first .. first+count) */
	uint32_t count; /* 0 and not apex: an empty non-terminal */
};

/* The config and what is built from it alone (NS contents, the name table, an index of the
 * handlers by file): shared by the snapshots derived from one another (snapshot_derive()),
 * freed with the last of them. */
struct snapshot_base;

struct snapshot {
	uint64_t generation;
	struct snapshot_base *base; /* owns config, ns, nodes and table below */
	struct config *config;
	char ***ns;		  /* per zone (config.zones, then the catch-all): its NS contents,
				   * with a trailing dot */
	struct handler *handlers; /* sorted by name, then type; those of kinds that cover sets
				   * of names (kind.h: covers) last, from first_covering on */
	size_t n_handlers;
	size_t first_covering;
	size_t n_failed;  /* handlers without a list */
	size_t n_drained; /* handlers with a weighted list whose weights are all 0: they
			   * answer no address either */
	uint64_t n_addresses;
	struct node *nodes;
	size_t n_nodes;
	uint32_t *table; /* open addressing: node index + 1, 0 = empty */
	size_t table_mask;

	/* what the build that made it did, against the snapshot it was built from */
	size_t n_kept; /* handlers that kept a previous list or prefixes after an error */
	size_t n_new;  /* address lists new or changed (carry_from < 0) */
	bool same;     /* it answers exactly as that snapshot does (snapshot_same()) */
	/* derived snapshots (snapshot_derive()): the handlers whose files were looked at again,
	 * in order; every other handler is the previous snapshot's, at the same slot. NULL with
	 * n_checked == 0 for a whole build. */
	uint32_t *checked;
	size_t n_checked;
	/* the handlers with a problem (error or views_error), in order: a status or a reload
	 * reply lists them without walking every handler */
	uint32_t *with_error;
	size_t n_with_error;
};

/* Builds a snapshot from config c (taken over in every case) and the address files it
 * names. With opts->prev: a list whose addresses equal the previous one for the same name
 * and type is shared, and its rotation carries over (carry_from); problems that prev
 * already had for the same handler are not reported again. A bad or missing file leaves
 * its handler without a list, or with prev's (keep_prev_on_error), and its problems and
 * what was kept go to d. opts may be NULL (a first load). Returns 0, or -ENOMEM. */
int snapshot_new(struct config *c, const struct snapshot_opts *opts, struct diag *d,
		 struct snapshot **ret);

/* A snapshot like prev, from the same config (not read again), in which the handlers whose
 * address file or view prefix file is one of paths (NULL-terminated, spelled as the config's
 * resolved paths) are looked at again as snapshot_new() does with opts (opts->prev must be
 * prev); with paths NULL every handler is. Costs in proportion to those handlers, plus a
 * copy of the handler table. Handlers keep their slots: a rotation goes on unless its list
 * changed. Returns 0, or -ENOMEM. */
int snapshot_derive(const struct snapshot *prev, const struct snapshot_opts *opts,
		    char *const *paths, struct diag *d, struct snapshot **ret);

/* The address files and prefix files of handlers [from, from + n) of s that may have
 * changed since they were read (another identity, or a change within the clock tick of the
 * read, or a file that could not be read): a NULL-terminated malloc'd array of borrowed
 * paths (they live as long as s's config), or NULL when none did or memory ran out.
 * *stat_calls gets how many files were looked at. */
const char **snapshot_stale(const struct snapshot *s, size_t from, size_t n, size_t *stat_calls);

/* Adds a warning to w for every handler with a new weighted list whose addresses all have
 * weight 0 (a valid list that serves nothing), and for every new list under policy "all"
 * longer than CONFIG_ALL_MAX (its answers carry the first ones). */
void snapshot_warnings(const struct snapshot *s, struct diag *w);

/* True if s would answer exactly as prev does: same config text and the same lists. O(1)
 * for a snapshot derived from prev. */
bool snapshot_same(const struct snapshot *s, const struct snapshot *prev);

/* The rotation for s once it replaces a snapshot of n_old handlers whose rotation is old:
 * a handler that carries over (carry_from) keeps its position, any other starts at 0.
 * map (n_old entries, or NULL) gets old slot -> new slot + 1, or 0 for none. Returns 0 or
 * -ENOMEM. */
int snapshot_rotation(const struct snapshot *s, const struct rotation *old, size_t n_old,
		      struct rotation *ret, uint32_t *map);

struct snapshot *snapshot_free(struct snapshot *s);
DEFINE_FREE_FUNC(struct snapshot, snapshot_free)

/* A handler's rotation slot: its index in the snapshot. */
static inline uint32_t snapshot_slot(const struct snapshot *s, const struct handler *h)
{
	return (uint32_t)(h - s->handlers);
}

/* The node for a name, or NULL. */
const struct node *snapshot_find(const struct snapshot *s, const struct dname *name);
