/* SPDX-License-Identifier: MIT */
/* The health of the addresses of checked handlers ("health" in the config): per handler slot
 * and address, up or down with its history and its load. Like struct rotation it lives
 * outside snapshots, so that a reload carries it over (health_follow()); the daemon's loop
 * alone writes it, between two questions, and answers (answer.c) only read it.
 *
 * The question path stays O(1) per answer: each slot keeps the indexes of its up addresses
 * (up[]) and, for least-loaded, the up addresses ordered by load with their groups of equal
 * loads, rebuilt by health_slot_update() after a batch of results, never per question. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

#define HEALTH_REASON_SIZE 64

struct health_addr {
	bool up;	     /* every address starts up */
	bool checked;	     /* a check has ended since it started */
	bool last_ok;	     /* the last check's verdict */
	bool has_load;	     /* load holds a reported load */
	uint32_t good, bad;  /* good and bad checks in a row */
	int64_t since;	     /* wall clock (seconds) of the last change of up, or of its start */
	uint32_t latency_us; /* of the last check */
	double load;	     /* the last reported load; without one it counts as the highest */
	char reason[HEALTH_REASON_SIZE]; /* the last result: "connected", "HTTP 503", "timed out" */
	int64_t next_ms; /* wall clock (milliseconds) of the next check; 0: none planned here */
	/* the rate limit of its log lines (health_log_change()) */
	int64_t log_window; /* when the current window began */
	uint32_t logged;    /* changes logged in it */
	uint32_t quiet;	    /* changes not logged in it */
};

struct health_slot {
	struct health_addr *a; /* n entries; NULL: the slot is not checked */
	uint32_t n;
	uint32_t n_down;
	uint32_t *up; /* the up addresses' indexes, in list order (n_up of them) */
	uint32_t n_up;
	uint32_t *order;     /* least-loaded: the up addresses by load, then index (n_up) */
	uint32_t *group_end; /* order[group_end[g-1] .. group_end[g]) share one load */
	uint32_t n_groups;
	bool dirty;	      /* up[] and order[] wait for health_slot_update() */
	uint64_t transitions; /* ups and downs its checks made here (not those taken from the
			       * prober's file), for the metrics; carried over reloads */
};

struct health {
	struct health_slot *slots; /* by handler slot (snapshot_slot()) */
	size_t n;
};

/* What one check found. */
struct health_result {
	bool ok;
	uint32_t latency_us;
	bool has_load;
	double load;
	const char *reason; /* copied (truncated to HEALTH_REASON_SIZE - 1) */
};

/* What a result did to its address. */
enum health_change {
	HEALTH_SAME,
	HEALTH_WENT_DOWN,
	HEALTH_CAME_UP,
};

/* The rise/fall state machine: counts ok in a's run of good or bad checks, and turns a
 * down after fall bad ones in a row, up after rise good ones. Pure: touches only a's
 * up, last_ok, good and bad. */
enum health_change health_step(struct health_addr *a, bool ok, uint32_t rise, uint32_t fall);

#define HEALTH_LOG_WINDOW 60 /* seconds */
#define HEALTH_LOG_MAX	  4  /* changes of one address logged per window */

enum health_log {
	HEALTH_LOG_QUIET,    /* not logged: the address flaps */
	HEALTH_LOG,	     /* logged */
	HEALTH_LOG_FLAPPING, /* logged, the last one of the window: say that it flaps */
};

/* Whether a change of address a at now (seconds) is logged: the first HEALTH_LOG_MAX in a
 * window of HEALTH_LOG_WINDOW seconds, the last of them saying that it flaps. *quiet gets
 * how many changes the window before kept quiet (to say with this one), or 0. */
enum health_log health_log_change(struct health_addr *a, int64_t now, uint32_t *quiet);

/* Gives slot s n addresses, all up since now, and its up[] (every one). Returns 0 or
 * -ENOMEM (s is then left empty). */
int health_slot_init(struct health_slot *s, uint32_t n, int64_t now);
void health_slot_clear(struct health_slot *s);

/* Records result r of address i of slot s (under rise and fall) at now: the state machine,
 * the latency, the load and the reason; marks s dirty when up[] or order[] must change. */
enum health_change health_record(struct health_slot *s, uint32_t i, const struct health_result *r,
				 uint32_t rise, uint32_t fall, int64_t now);

/* Rebuilds up[], and order[] when least_loaded, of a dirty slot. Returns 0 or -ENOMEM (the
 * slot stays dirty and its answers as they were). */
int health_slot_update(struct health_slot *s, bool least_loaded);

/* The checked slot of handler slot i that fits a list of n addresses, or NULL. */
static inline const struct health_slot *health_get(const struct health *h, size_t i, uint32_t n)
{
	if (!h || i >= h->n || !h->slots[i].a || h->slots[i].n != n)
		return NULL;
	return &h->slots[i];
}

/* The health for snapshot s once it replaces old (NULL at start), from h, the health of
 * old: a checked handler whose list carries over (carry_from) keeps its slot; one whose
 * list changed keeps the state of each address that the previous list of the same name,
 * type and view had; a new address starts up since now. Handlers without "health" or
 * without a list get no slot. A snapshot derived from old costs its checked handlers only.
 * Returns 0, or -ENOMEM when a handler could not be followed: it goes unchecked. */
int health_follow(struct health *h, const struct snapshot *old, const struct snapshot *s,
		  int64_t now);

void health_done(struct health *h);

/* The load an http(s) check reports: the first decimal number of its body ("12", "0.75"),
 * true and *load; false when the body has none. */
bool health_body_load(const char *body, size_t n, double *load);

/* A state file's word on one address (check "file"). */
struct health_verdict {
	int8_t state; /* 1 up, 0 down, -1 the file does not name it: no check */
	bool has_load;
	double load;
};

#define HEALTH_STATE_MAX (1u << 20) /* bytes of a state file */

/* Parses len bytes of a state file (name for messages) for the addresses of l: lines of
 * "ADDRESS up|down [load N]" (N a decimal, 0 or more), blank lines and "#" comments; into
 * v[0 .. l->n). Returns 0, or -EINVAL with every bad line added to d ("NAME:LINE: error:
 * ..."): not a line of that form, an address of the other family, an address not in the
 * list, an address named twice; or -ENOMEM. v is written only on success. */
int health_parse_state(const char *text, size_t len, const struct addrlist *l, const char *name,
		       struct diag *d, struct health_verdict *v);
