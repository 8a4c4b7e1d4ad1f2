/* SPDX-License-Identifier: MIT */
/* What the question path reads and counts, shared by every pipe session: the live snapshot
 * and the state that goes with it, slot by slot. The hub replaces the snapshot (and carries
 * the rest over) on a swap; sessions answer from it and count. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "health.h"
#include "metrics.h"
#include "rotation.h"
#include "snapshot.h"

struct session;

struct serving {
	struct session *sessions; /* every pipe session: each links itself in (session.h) */
	struct snapshot *snap;	  /* live snapshot; NULL when the config never loaded */
	struct rotation rot;
	struct metrics metrics; /* counters for pdynctl metrics, per slot like rot */
	struct health health;	/* of the checked handlers' addresses (prober.h), by slot */
	uint64_t generation;
	uint64_t lookups;  /* Q lines answered, all sessions (PowerDNS asks several per question) */
	uint64_t stalls;   /* per question: lookups that began a question without its SOA
			    * lookups, and SOA walks cut short (answer.h), all sessions */
	bool stall_warned; /* the warning about it is logged once */
};
