/* SPDX-License-Identifier: MIT */
/* One prober per machine in coprocess mode: PowerDNS starts a copy of pdyndns per
 * distributor thread, and each would check every address. The copies elect one: the copy
 * that holds an exclusive flock() on DIR/health.lock probes; the others try the lock every
 * HEALTHSHARE_TICK_MS, so that when its holder dies (SIGKILL too: the kernel drops the lock)
 * another takes over within a tick. The prober writes what its checks found to
 * DIR/health.state (healthfile.h: written whole, renamed into place) when an answer may
 * change and every second; the other copies read it when it changed, on their loop, into
 * their own health state, which their answers read as before: the question path neither
 * reads the file nor waits for anything.
 *
 * A file that cannot be used (damaged, truncated, of another version, not a file, or not
 * written again for 3 s: its prober is stopped, stuck or cannot write) is warned about once
 * per problem; until it is good again the copy checks its addresses itself. A
 * handler that the file never names (the prober's config lacks it) is checked by the copy. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "prober.h"

#define HEALTHSHARE_LOCK       "health.lock"
#define HEALTHSHARE_STATE      "health.state"
#define HEALTHSHARE_TICK_MS    50   /* the lock tried, the file looked at */
#define HEALTHSHARE_REFRESH_MS 1000 /* the prober writes the file at least this often */
#define HEALTHSHARE_URGENT_MS  20   /* ... and at most this often */

struct healthshare;

/* Shares p's checks with the other copies through dir. p's activity is the share's from
 * then on. Returns 0 or a negative errno (nothing is shared: the caller lets p probe alone). */
int healthshare_new(sd_event *event, const char *dir, struct prober *p, struct healthshare **ret);
/* Stops sharing (the lock goes with the process); NULL is a no-op; returns NULL. */
struct healthshare *healthshare_free(struct healthshare *hs);

/* The config has checks (any == true) or none: the election and the file run only then. */
void healthshare_apply(struct healthshare *hs, bool any);

/* The pid of the copy that probes for this one (its own when it probes, alone or for all),
 * or 0 when unknown. */
uint32_t healthshare_prober(const struct healthshare *hs);
/* "elected" (this copy holds the lock), "follower" (it reads the file), "alone" (the file
 * cannot be used: it checks itself). */
const char *healthshare_role(const struct healthshare *hs);

/* For tests: one tick now. */
void healthshare_tick(struct healthshare *hs);
