/* SPDX-License-Identifier: MIT */
/* Rotation shared by the coprocesses of one PowerDNS (the default; --no-shared-rotation): a file of
 * counters in the control directory, mapped by every copy and advanced with atomic adds. A
 * handler's counter is found by its name, its type and the hash of its addresses, so copies
 * agree without talking to each other: a list that did not change keeps its position across
 * reloads in every copy, and a changed one starts at its first address in all of them.
 *
 * Nothing in or done to that file can crash a copy: every field read from it is checked
 * before use (the table's size is the one validated when it was mapped, never read back),
 * a bus error from a mapping the file no longer covers is caught (see sharedrot.c), and a
 * copy checks the file every few seconds. A file truncated, removed or replaced is taken up
 * again (restored, created anew or followed); one that cannot be used leaves the copy
 * rotating with its own counters until it can. Each such event is one warning per copy. */
#pragma once

#include <systemd/sd-event.h>

#include "serving.h"

#define SHAREDROT_FILE	"rotation.counters"
#define SHAREDROT_SLOTS 65536u /* counters in a new file: handlers × list versions alive */

struct sharedrot;

/* Sets up the counters of DIR/rotation.counters (creating the file if needed) on event's
 * loop, for sv, whose rotation it keeps attached to them from then on (after a bus error, a
 * replaced file...).
 * When the file cannot be used, that is logged and the copy rotates alone until it can
 * (checked every few seconds); this still returns 0. Returns -ENOMEM or the negative errno
 * of setting up the event sources otherwise, logged. */
int sharedrot_new(sd_event *event, const char *dir, struct serving *sv, struct sharedrot **ret);
struct sharedrot *sharedrot_free(struct sharedrot *t);

/* Points r's slots (sized for s) at the shared counters of s's handlers, claiming counters
 * for new lists. A handler without room in the file keeps its own counter (warned once);
 * without a usable file, r keeps its own counters (r->shared NULL). Returns 0 or -ENOMEM. */
int sharedrot_attach(struct sharedrot *t, const struct snapshot *s, struct rotation *r);

/* The same for a rotation r built from old, the live rotation, whose slot k went on as
 * slot map[k] - 1 of r (0: none; n_old of them, as snapshot_rotation() makes it): a slot
 * carried on keeps old's shared counter, and only the others are looked up: a reload costs
 * in proportion to what changed. The counters of old's lists that nothing carries on start
 * over (such a list, if it comes back, starts at its first address). Returns 0 or -ENOMEM. */
int sharedrot_attach_carried(struct sharedrot *t, const struct snapshot *s, struct rotation *r,
			     const struct rotation *old, const uint32_t *map, size_t n_old);

/* For a snapshot s derived from old_s, the live one (same slots, r the live rotation): those
 * of the n slots given (the ones it looked at again) whose lists changed find their counters
 * again. */
void sharedrot_attach_slots(struct sharedrot *t, const struct snapshot *s, struct rotation *r,
			    const struct snapshot *old_s, const uint32_t *slots, size_t n);

/* For tests: checks the file now, as the periodic check does (taking up a changed file,
 * warning once). Returns true if the copy then shares its rotation through the file. */
bool sharedrot_check(struct sharedrot *t);
