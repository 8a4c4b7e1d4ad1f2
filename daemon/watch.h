/* SPDX-License-Identifier: MIT */
/* Watches the config file and every address file and prefix file: the directory of each
 * (never the file: a watch on a file dies at the first rename over it), and every directory
 * and symlink on the way to it, from the root down. So a file that is written, renamed over
 * or deleted is seen, and so is a directory or symlink anywhere on its path that is renamed
 * over, deleted and made again, or pointed elsewhere (release-style deploys): the watches
 * then follow the new directories at once. A file being written (modified, not yet closed)
 * is held at its previous list until it is closed, renamed or deleted (a chmod, chown or touch
 * meanwhile does not end it), or until WATCH_HOLD_MAX_USEC, when it is read as it is, with
 * a warning. A new file is held while empty; one put in place by link() is not.
 *
 * What to watch is worked out off the loop (a struct watchplan, built by the reload worker
 * from the config and the snapshot); the loop only arms it, in proportion to the number of
 * directories. Events collect what changed (the files, the config, or "the way to some
 * files moved") for the next reload, which then looks at just that. A slow poll covers
 * what inotify cannot see: it checks a slice of the files each time, all of them while
 * some directory cannot be watched (inotify exhausted, with one warning per episode). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "watchplan.h"

struct snapshot;
struct watch;

/* Asks the watch's owner for a reload: poll true for the safety poll (a reload that says
 * nothing when nothing changed), false when something changed; why is for the debug log. */
typedef void (*watch_changed_fn)(void *userdata, bool poll, const char *why);

#define WATCH_DEBOUNCE_USEC	 (3 * 1000)  /* a burst of events → one reload 3 ms later */
#define WATCH_GONE_DEBOUNCE_USEC (20 * 1000) /* after a file went away: time to put the new one */
#define WATCH_SWEEP_POLLS	 15	     /* a poll checks 1/15 of the files: all in 30 s, */
#define WATCH_SWEEP_MIN		 1024	     /* and at least this many (all of a small config) */
#define WATCH_HOLD_MAX_USEC	 (5 * 1000 * 1000) /* longest a file being written is held */
#define WATCH_MAX_CHANGED	 256		   /* more changed files than this: look at all */

/* A watch on event for the config at config_path; changed() is called on the loop when a
 * reload is due. Nothing is watched before watch_start(). */
int watch_new(sd_event *event, const char *config_path, watch_changed_fn changed, void *userdata,
	      struct watch **ret);
struct watch *watch_free(struct watch *w);
/* Starts watching what snapshot s (NULL: none loaded) reads, and asks for the first reload. */
void watch_start(struct watch *w, const struct snapshot *s);
/* Arms plan p (taken over) in place of the current one, keeping the watches of directories
 * that are still the same; many directories are armed in slices between questions. With p
 * NULL, tries again the directories that could not be watched. */
void watch_apply(struct watch *w, struct watchplan *p);
/* The newest plan, also while it is being armed (the reload worker reads it while it runs),
 * or NULL. */
const struct watchplan *watch_plan(const struct watch *w);
/* True while some directory cannot be watched: the poll then checks every file. */
bool watch_degraded(const struct watch *w);

/* What changed since the last take: files (as the config spells them), the config file,
 * or the way to some file (then every file is looked at again, and a new plan made). */
struct watch_changes {
	char **paths; /* NULL-terminated, malloc'd; NULL for none */
	size_t n;
	bool config;
	bool rescan;
	bool replan; /* a file became a symlink: watch anew, look at the files that changed */
};
/* Moves what changed into c (files held too long included); the watch starts afresh. */
void watch_take_changes(struct watch *w, struct watch_changes *c);
/* Puts c back (a build that was thrown away), and frees what c held. */
void watch_give_back(struct watch *w, struct watch_changes *c);
void watch_changes_clear(struct watch_changes *c);

/* True once after the first plan of a large config was armed, or a plan armed over several
 * loop iterations: the next reload compares every file with what was read. */
bool watch_take_check_all(struct watch *w);
/* When anything a build reads last changed (loop clock, usec), or 0. */
uint64_t watch_last_event(const struct watch *w);
/* The loop's clock (usec). */
uint64_t watch_now(struct watch *w);

/* Paths (as in the config) of address and prefix files being written right now: a reload
 * keeps their previous lists and prefixes. Returns a NULL-terminated malloc'd array of
 * malloc'd strings, or NULL. */
char **watch_held_paths(struct watch *w);
