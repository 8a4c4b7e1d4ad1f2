/* SPDX-License-Identifier: MIT */
/* What to watch (watch.h): every directory from the root down to each file, with the names
 * in it that matter (the files, and the directories and symlinks on the way), and each
 * directory's identity when the plan was made. Built off the loop from the paths alone;
 * the loop arms it (the loop's fields of struct wdir). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

struct snapshot;
struct watch;

/* The watch's safety poll period (a plan's problem says that the poll covers it). */
#define WATCH_POLL_USEC (2 * 1000 * 1000)

/* A name in a watched directory: a file the config names (owner: its path as the config
 * spells it), or a directory or symlink on the way to one (owner NULL). */
struct wname {
	char *name;
	char *owner;
};

struct wdir {
	char *path;
	dev_t dev;
	ino_t ino;
	bool exists;	     /* when the plan was made */
	struct wname *names; /* sorted by name */
	size_t n_names, cap;
	bool holds_files; /* some name has an owner: not only a directory on the way */
	/* armed by the loop */
	struct watch *w;
	sd_event_source *src; /* NULL: not watched (yet) */
	bool dead;	      /* its watch went away (deleted, moved, unmounted) */
};

/* Open addressing over strings: value index + 1, 0 = empty. */
struct strmap {
	char **keys;
	uint32_t *vals;
	size_t mask, n;
};

struct watchplan {
	struct wdir *dirs;
	size_t n_dirs, cap;
	struct strmap by_path;	/* dir path -> dirs index */
	struct strmap resolved; /* a directory as spelled -> its resolved path (index into dirs) */
	char *problem;		/* the first path that could not be followed */
};

/* What to watch for the config at config_path and the files of s (may be NULL). Looks at
 * the file system only (lstat, readlink): any thread may build one. Never NULL but for
 * lack of memory. */
struct watchplan *watchplan_new(const char *config_path, const struct snapshot *s);
struct watchplan *watchplan_free(struct watchplan *p);
/* True if a directory p watches is no longer the one at its path (any thread). */
bool watchplan_moved(const struct watchplan *p);
/* One line on what p could not follow (a symlink loop, a name too long), or NULL. */
const char *watchplan_problem(const struct watchplan *p);
/* The directory of p at path, or NULL. */
struct wdir *watchplan_dir(const struct watchplan *p, const char *path);
/* out = a + "/" + b (no double slash after the root); -ENAMETOOLONG if it does not fit. */
int path_join(char *out, size_t size, const char *a, const char *b);
