/* SPDX-License-Identifier: MIT */
/* Watches the directories of the config file and of every address file (never the files:
 * a watch on a file dies at the first rename over it), and the symlinks on the way to them.
 * Close-after-write, moves, creations and deletions of those names request a reload after a
 * short debounce; a file being written (modified, not yet closed) is held at its previous
 * list until it is closed. A slow poll covers file systems where inotify says nothing. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct daemon;
struct snapshot;

#define WATCH_DEBOUNCE_USEC (3 * 1000)        /* a burst of events → one reload 3 ms later */
#define WATCH_GONE_DEBOUNCE_USEC (20 * 1000)  /* after a file went away: time to put the new one */
#define WATCH_POLL_USEC (2 * 1000 * 1000)     /* safety poll period */
#define WATCH_HOLD_MAX_USEC (5 * 1000 * 1000) /* longest a file being written is held */

int watch_init(struct daemon *d);
void watch_done(struct daemon *d);
/* Recomputes what is watched from the config path and s (may be NULL). */
void watch_update(struct daemon *d, const struct snapshot *s);
/* True if anything happened to the file at path (as the config spells it) after since. */
bool watch_touched_since(struct daemon *d, const char *path, uint64_t since);
/* The loop's clock (usec), for watch_touched_since(). */
uint64_t watch_now(struct daemon *d);

/* Paths (as in the config) of address files being written right now: a reload keeps their
 * previous lists. Returns a NULL-terminated malloc'd array of malloc'd strings, or NULL. */
char **watch_held_paths(struct daemon *d);
