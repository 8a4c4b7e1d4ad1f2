/* SPDX-License-Identifier: MIT */
/* One handler's state as every report shows it: pdynctl status (JSON), PowerDNS's CMD
 * status (text), and counters to come. Built from a snapshot and the rotation, never moving
 * either; the reports only render it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "health.h"
#include "rotation.h"
#include "snapshot.h"

struct hstatus {
	const struct handler *h;
	const char *qname;
	const char *kind; /* "addresses", or the kind's name */
	uint16_t qtype;
	const char *serves; /* a kind: what it answers (in the caller's buffer) */
	/* an address list */
	const char *view;	 /* a view of another handler: its name, else NULL */
	const char *prefix_file; /* ... and its prefix file, or NULL */
	size_t inline_prefixes;	 /* ... and the prefixes in the config */
	uint16_t n_views;	 /* a handler with views: how many */
	const char *match;	 /* ... matched by "resolver" or "subnet" */
	uint32_t prefixes;	 /* ... every prefix they hold */
	const char *views_error; /* ... the problem with their prefix files, or NULL */
	const char *file;
	const char *policy;
	uint32_t count;	      /* addresses per answer */
	uint32_t n_addresses; /* 0: serving nothing */
	bool weighted;
	uint64_t total_weight; /* weighted: the sum of the weights */
	uint32_t drained;      /* weighted: addresses of weight 0 */
	bool rotates;	       /* round-robin, or weighted with some weight: next_index and
				* answers say where the rotation is */
	uint32_t next_index;
	uint64_t answers;  /* answers given since the list was (re)loaded */
	uint64_t pos;	   /* the rotation counter */
	const char *error; /* the problem with the file at the last attempt, or NULL */
	/* a checked list ("health"): its settings, and its state once it follows the snapshot */
	const struct config_health *check;
	const struct health_slot *health; /* NULL: not checked (yet) */
};

/* The state of handler h of snapshot s; serves (size bytes) holds a kind's description. */
void hstatus_get(const struct snapshot *s, const struct rotation *rot, const struct handler *h,
		 char *serves, size_t size, struct hstatus *st);
/* Adds the health of st's handler from h (hstatus_get() first). */
void hstatus_health(struct hstatus *st, const struct snapshot *s, const struct health *h);
/* How many answers address i had, derivable under strict rotation (round-robin without
 * health checks, which skip the down ones) only: UINT64_MAX otherwise. */
uint64_t hstatus_served(const struct hstatus *st, uint32_t i);
