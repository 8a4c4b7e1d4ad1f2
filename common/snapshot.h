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

#define SNAPSHOT_ZONE_ID 1 /* the id PowerDNS gets in the SOA line and passes back */

struct handler {
	const struct config_handler *cfg; /* points into the snapshot's config */
	struct addrlist *list;            /* NULL when the file never loaded */
	char *error;                      /* the first problem with the file, or NULL */
	uint32_t slot;                    /* index into the rotation state */
};

struct node {
	const struct dname *name; /* points into the config */
	bool apex;
	uint32_t first; /* handlers at this name: handlers[first .. first+count) */
	uint32_t count;
};

struct snapshot {
	uint64_t generation;
	struct config *config;
	char *soa;           /* SOA content */
	uint32_t neg_ttl;    /* min(ttl, SOA minimum): what negative answers carry */
	char **ns;           /* NS contents, with a trailing dot */
	struct handler *handlers; /* sorted by name, then type */
	size_t n_handlers;
	size_t n_failed;     /* handlers without a list */
	uint64_t n_addresses;
	struct node *nodes;
	size_t n_nodes;
	uint32_t *table;     /* open addressing: node index + 1, 0 = empty */
	size_t table_mask;
};

/* Builds a snapshot from config c (taken over in every case) and the address files it
 * names. A file that is identical (same identity, size and times) to one in prev (may be
 * NULL) is not read again: its list is shared. A bad or missing file leaves that handler
 * without a list (its problems go to d); unless keep_prev_on_error is set, in which case
 * the handler keeps prev's list for the same name and type if there is one. Returns 0, or
 * -ENOMEM. */
int snapshot_new(struct config *c, const struct snapshot *prev, bool keep_prev_on_error,
		 struct diag *d, struct snapshot **ret);

struct snapshot *snapshot_free(struct snapshot *s);
DEFINE_FREE_FUNC(struct snapshot, snapshot_free)

/* The node for a name, or NULL. */
const struct node *snapshot_find(const struct snapshot *s, const struct dname *name);
