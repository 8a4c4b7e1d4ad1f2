/* SPDX-License-Identifier: MIT */
/* What one copy of pdyndns counted, for pdynctl metrics. Like struct rotation, the counters
 * live outside the snapshots, one entry per handler slot, and a reload carries a slot's
 * entry over when its list is unchanged (the rotation's slot map). The question path only
 * increments: no allocation, no lock (one thread answers). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

/* Lookups by the type PowerDNS asked. */
enum metrics_qtype {
	METRICS_Q_SOA,
	METRICS_Q_ANY,
	METRICS_Q_A,
	METRICS_Q_AAAA,
	METRICS_Q_NS,
	METRICS_Q_OTHER,
	METRICS_N_QTYPES,
};

/* What a question got, as far as the backend can tell from the lookup that begins it (the
 * first one after the SOA walk that is not an NS probe): records (NOERROR), none at a name
 * that exists (NODATA), none at all (NXDOMAIN). */
enum metrics_rcode {
	METRICS_NOERROR,
	METRICS_NODATA,
	METRICS_NXDOMAIN,
	METRICS_N_RCODES,
};

/* Reloads by result: a new generation; the previous one kept after an error; nothing to change. */
enum metrics_reload {
	METRICS_RELOAD_APPLIED,
	METRICS_RELOAD_REFUSED,
	METRICS_RELOAD_KEPT,
	METRICS_N_RELOADS,
};

/* The upper bounds (seconds) of the reload duration histogram's buckets, +Inf aside. */
#define METRICS_RELOAD_BUCKETS 10
extern const double metrics_reload_bounds[METRICS_RELOAD_BUCKETS];

struct metrics_slot {
	uint64_t answers;      /* answers drawn from its list: once per question (or per lookup) */
	uint64_t questions[2]; /* questions at its name that it answered: NOERROR, or NODATA (no
				  addresses) */
	uint64_t view_hits;    /* a view: questions whose client its prefixes matched */
	uint64_t *served;      /* per address: answers that held it; NULL for a list longer than
				* max_addresses (or none) */
	uint32_t n_served;
};

struct metrics {
	struct metrics_slot *slot;
	size_t n;
	uint32_t max_addresses; /* lists up to this long count each address */
	uint64_t lookups[METRICS_N_QTYPES];
	uint64_t questions[METRICS_N_RCODES];
	uint64_t reloads[METRICS_N_RELOADS];
	uint64_t reload_buckets[METRICS_RELOAD_BUCKETS]; /* not cumulative: bucket i alone */
	uint64_t reload_inf;				 /* slower than the last bound */
	double reload_seconds;				 /* the durations' sum */
	uint64_t control_refused; /* control clients refused: no rights, or too many */
};

/* What of the live counters metrics_prepare() depends on, so that the reload worker can
 * prepare the slots of a snapshot from the previous snapshot alone: whether there are
 * counters, for how many slots, and per address up to which list length. */
struct metrics_shape {
	bool live;
	size_t n;
	uint32_t max_addresses;
};

static inline struct metrics_shape metrics_shape(const struct metrics *m)
{
	return (struct metrics_shape){m->slot != NULL, m->n, m->max_addresses};
}

/* The shape of the counters while snapshot s is live (NULL: before the first). */
struct metrics_shape metrics_shape_of(const struct snapshot *s);
static inline bool metrics_shape_equal(struct metrics_shape a, struct metrics_shape b)
{
	return a.live == b.live && a.n == b.n && a.max_addresses == b.max_addresses;
}

/* The type index of a lookup type (pp_qtype() value). */
enum metrics_qtype metrics_qtype_index(uint16_t qtype);
const char *metrics_qtype_name(enum metrics_qtype q);
const char *metrics_rcode_name(enum metrics_rcode r);
const char *metrics_reload_name(enum metrics_reload r);

/* Counts a reload that took usec microseconds. */
void metrics_reload(struct metrics *m, enum metrics_reload result, uint64_t usec);

/* A slot for every handler of snapshot s, for metrics_carry(): map[old slot] is the new slot
 * + 1, or 0 when the handler is gone or its list changed (the rotation's map,
 * snapshot_rotation()). The slots that will not be carried over start at 0 (all of them when
 * s changes "metrics_max_addresses"). m is the shape of the counters it will be carried into.
 * Reads nothing but its arguments (the reload worker calls it). Returns 0 and *ret
 * (malloc'd), or -ENOMEM. */
int metrics_prepare(struct metrics_shape m, const struct snapshot *s, const uint32_t *map,
		    size_t n_old, struct metrics_slot **ret);
/* Makes slots (metrics_prepare() for the same s and map) m's table: the slots mapped keep
 * their counters, the others are dropped. Cannot fail. */
void metrics_carry(struct metrics *m, const struct snapshot *s, struct metrics_slot *slots,
		   const uint32_t *map, size_t n_old);
/* Slot i starts again at 0 (its list changed in place in snapshot s). Returns 0, or -ENOMEM
 * when its per-address counters could not be made (the slot then has none). */
int metrics_slot_reset(struct metrics *m, const struct snapshot *s, size_t i);
/* Frees slots from metrics_prepare() that were not carried. */
void metrics_slots_free(struct metrics_slot *slots, size_t n);
/* Frees the slot table; the process-wide counters stay. */
void metrics_done(struct metrics *m);
