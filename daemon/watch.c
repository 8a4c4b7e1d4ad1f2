/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "reload.h"
#include "watch.h"

#define MAX_SYMLINK_HOPS 40

/* A name we care about in a watched directory. owner is the path as the config spells it
 * (the config file's, or a handler's), so that a file being written can be held. */
struct wname {
	char *name;
	char *owner;
	bool is_final;    /* the file itself, not a symlink on the way to it */
	uint64_t dirty_since; /* modified or created and not yet closed: when (usec), or 0 */
	uint64_t last_event;  /* when anything last happened to it (usec) */
};

struct wdir {
	char *path;
	sd_event_source *src; /* NULL when the directory could not be watched */
	struct wname *names;
	size_t n_names;
};

struct watch {
	struct wdir *dirs;
	size_t n_dirs;
	sd_event_source *debounce;
	sd_event_source *poll;
	bool missing; /* some directory could not be watched: the poll covers it */
	char *warned; /* the last "cannot follow" warning: each is logged once, not at every poll */
};

/* out = a + sep + b; -ENAMETOOLONG if it does not fit. */
static int join3(char *out, size_t size, const char *a, const char *sep, const char *b)
{
	int n = snprintf(out, size, "%s%s%s", a, sep, b);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static uint64_t now_usec(struct daemon *d)
{
	uint64_t t = 0;

	sd_event_now(d->event, CLOCK_MONOTONIC, &t);
	return t;
}

static int on_debounce(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;

	sd_event_source_set_enabled(s, SD_EVENT_OFF);
	reload_request(d, RELOAD_CHANGED, "file change");
	return 0;
}

/* Asks for a reload after delay usec, or joins one already due (moving it later when a
 * file just went away: editors and "rm; write" put the new file right after). */
static void schedule(struct daemon *d, uint64_t delay)
{
	struct watch *w = d->watch;
	int enabled = SD_EVENT_OFF;
	uint64_t due = now_usec(d) + delay, cur = 0;

	sd_event_source_get_enabled(w->debounce, &enabled);
	if (enabled != SD_EVENT_OFF) {
		sd_event_source_get_time(w->debounce, &cur);
		if (due > cur)
			sd_event_source_set_time(w->debounce, due);
		return;
	}
	sd_event_source_set_time(w->debounce, due);
	sd_event_source_set_enabled(w->debounce, SD_EVENT_ONESHOT);
}

static int on_poll(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;

	sd_event_source_set_time(s, usec + WATCH_POLL_USEC);
	if (d->watch->missing)
		watch_update(d, d->snap); /* try the missing watches again */
	reload_request(d, RELOAD_POLL, "poll");
	return 0;
}

static int on_inotify(sd_event_source *s, const struct inotify_event *ev, void *userdata)
{
	struct daemon *d = userdata;
	struct watch *w = d->watch;
	struct wdir *dir = NULL;

	if (ev->mask & (IN_Q_OVERFLOW | IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT)) {
		log_debug("watch: %s; full rescan", ev->mask & IN_Q_OVERFLOW ? "event queue overflow"
										   : "a watched directory went away");
		schedule(d, WATCH_DEBOUNCE_USEC);
		return 0;
	}
	if (!ev->len)
		return 0;
	for (size_t i = 0; i < w->n_dirs; i++)
		if (w->dirs[i].src == s)
			dir = &w->dirs[i];
	if (!dir)
		return 0;
	for (size_t i = 0; i < dir->n_names; i++) {
		struct wname *n = &dir->names[i];
		struct stat st;

		if (strcmp(n->name, ev->name) != 0)
			continue;
		n->last_event = now_usec(d);
		if (ev->mask & IN_MODIFY) {
			/* being written: hold its previous list until it is closed */
			if (!n->dirty_since)
				n->dirty_since = now_usec(d);
			continue;
		}
		if ((ev->mask & IN_CREATE) && n->is_final) {
			char p[PATH_MAX];

			if (join3(p, sizeof(p), dir->path, "/", n->name) == 0 && lstat(p, &st) == 0 && S_ISREG(st.st_mode)) {
				/* a new file: it is read once it is closed */
				n->dirty_since = now_usec(d);
				continue;
			}
		}
		n->dirty_since = 0;
		log_debug("watch: %s/%s changed (mask 0x%x)", dir->path, n->name, ev->mask);
		schedule(d, ev->mask & (IN_DELETE | IN_MOVED_FROM) ? WATCH_GONE_DEBOUNCE_USEC : WATCH_DEBOUNCE_USEC);
	}
	return 0;
}

static void wdir_free(struct wdir *dir)
{
	for (size_t i = 0; i < dir->n_names; i++) {
		free(dir->names[i].name);
		free(dir->names[i].owner);
	}
	free(dir->names);
	free(dir->path);
	sd_event_source_disable_unref(dir->src);
}

static struct wdir *find_dir(struct wdir *dirs, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(dirs[i].path, path) == 0)
			return &dirs[i];
	return NULL;
}

/* Adds (dir, name) to the new set; keeps the dirty state of an existing entry. */
static int add_name(struct watch *w, struct wdir **dirs, size_t *n_dirs, const char *dirpath,
		    const char *name, const char *owner, bool is_final)
{
	struct wdir *dir = find_dir(*dirs, *n_dirs, dirpath), *old;
	struct wname *names;

	if (!dir) {
		struct wdir *nd = realloc(*dirs, (*n_dirs + 1) * sizeof(*nd));

		if (!nd)
			return -ENOMEM;
		*dirs = nd;
		dir = &nd[(*n_dirs)++];
		*dir = (struct wdir){.path = strdup(dirpath)};
		if (!dir->path)
			return -ENOMEM;
	}
	for (size_t i = 0; i < dir->n_names; i++)
		if (strcmp(dir->names[i].name, name) == 0 && strcmp(dir->names[i].owner, owner) == 0)
			return 0;
	names = realloc(dir->names, (dir->n_names + 1) * sizeof(*names));
	if (!names)
		return -ENOMEM;
	dir->names = names;
	names[dir->n_names] = (struct wname){.name = strdup(name), .owner = strdup(owner), .is_final = is_final};
	if (!names[dir->n_names].name || !names[dir->n_names].owner)
		return -ENOMEM;
	old = find_dir(w->dirs, w->n_dirs, dirpath);
	for (size_t i = 0; old && i < old->n_names; i++)
		if (strcmp(old->names[i].name, name) == 0 && strcmp(old->names[i].owner, owner) == 0) {
			names[dir->n_names].dirty_since = old->names[i].dirty_since;
			names[dir->n_names].last_event = old->names[i].last_event;
		}
	dir->n_names++;
	return 0;
}

/* Records the directory entries that lead to path: every symlink on the way, and the
 * file itself. */
static int add_path(struct watch *w, struct wdir **dirs, size_t *n_dirs, const char *path)
{
	char cur[PATH_MAX], rest[PATH_MAX];
	int hops = 0, r;

	if (path[0] == '/')
		snprintf(rest, sizeof(rest), "%s", path);
	else {
		char cwd[PATH_MAX];

		if (!getcwd(cwd, sizeof(cwd)))
			return -errno;
		if (join3(rest, sizeof(rest), cwd, "/", path) < 0)
			return -ENAMETOOLONG;
	}
	strcpy(cur, "");
	for (;;) {
		char *p = rest, *slash, comp[NAME_MAX + 1], next[PATH_MAX], target[PATH_MAX];
		struct stat st;
		ssize_t n;

		while (*p == '/')
			p++;
		if (!*p)
			return 0;
		slash = strchr(p, '/');
		snprintf(comp, sizeof(comp), "%.*s", slash ? (int)(slash - p) : (int)strlen(p), p);
		memmove(rest, slash ? slash : p + strlen(p), strlen(slash ? slash : p + strlen(p)) + 1);
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			char *last = strrchr(cur, '/');

			if (last)
				*last = 0;
			continue;
		}
		if (join3(next, sizeof(next), cur, "/", comp) < 0)
			return -ENAMETOOLONG;
		if (lstat(next, &st) == 0 && S_ISLNK(st.st_mode)) {
			if (++hops > MAX_SYMLINK_HOPS)
				return -ELOOP;
			r = add_name(w, dirs, n_dirs, *cur ? cur : "/", comp, path, false);
			if (r < 0)
				return r;
			n = readlink(next, target, sizeof(target) - 1);
			if (n < 0)
				return -errno;
			target[n] = 0;
			{
				char tmp[PATH_MAX];

				if (join3(tmp, sizeof(tmp), target, *rest ? "/" : "", rest) < 0)
					return -ENAMETOOLONG;
				memcpy(rest, tmp, sizeof(rest));
			}
			if (target[0] == '/')
				strcpy(cur, "");
			continue;
		}
		if (!*rest || strspn(rest, "/") == strlen(rest))
			return add_name(w, dirs, n_dirs, *cur ? cur : "/", comp, path, true);
		memcpy(cur, next, sizeof(cur));
	}
}

void watch_update(struct daemon *d, const struct snapshot *s)
{
	struct watch *w = d->watch;
	struct wdir *dirs = NULL;
	size_t n_dirs = 0;
	bool missing = false;
	char *why = NULL;
	int r;

	/* Every path is followed, so that one that cannot be (a symlink loop) leaves the others
	 * watched; what could not be followed is logged once, not at every poll. */
	for (size_t i = 0; i <= (s ? s->n_handlers : 0); i++) {
		const char *path = i == 0 ? d->config_path : s->handlers[i - 1].cfg->path;

		if (i > 0 && s->handlers[i - 1].cfg->prefix_path &&
		    add_path(w, &dirs, &n_dirs, s->handlers[i - 1].cfg->prefix_path) < 0)
			missing = true; /* the poll covers it */
		if (!path) /* a handler kind without a file */
			continue;
		r = add_path(w, &dirs, &n_dirs, path);
		if (r < 0) {
			missing = true;
			if (!why && asprintf(&why, "watch: cannot follow %s (%s); the %llu s poll covers it", path,
					     strerror(-r), (unsigned long long)(WATCH_POLL_USEC / 1000000)) < 0)
				why = NULL;
		}
	}
	if (why && (!w->warned || strcmp(why, w->warned) != 0))
		log_warning("%s", why);
	free(w->warned);
	w->warned = why;
	for (size_t i = 0; i < n_dirs; i++) {
		struct wdir *old = find_dir(w->dirs, w->n_dirs, dirs[i].path);

		if (old && old->src) {
			dirs[i].src = TAKE_PTR(old->src);
			continue;
		}
		r = sd_event_add_inotify(d->event, &dirs[i].src, dirs[i].path,
					 IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
						 IN_ATTRIB | IN_MODIFY | IN_DELETE_SELF | IN_MOVE_SELF |
						 IN_ONLYDIR | IN_EXCL_UNLINK,
					 on_inotify, d);
		if (r < 0) {
			log_warning("watch: cannot watch %s: %s; the poll covers it", dirs[i].path,
				    strerror(-r));
			dirs[i].src = NULL;
			missing = true;
		}
	}
	for (size_t i = 0; i < w->n_dirs; i++)
		wdir_free(&w->dirs[i]);
	free(w->dirs);
	w->dirs = dirs;
	w->n_dirs = n_dirs;
	w->missing = missing;
}

char **watch_held_paths(struct daemon *d)
{
	struct watch *w = d->watch;
	uint64_t now = now_usec(d);
	char **v = NULL;
	size_t n = 0;

	for (size_t i = 0; w && i < w->n_dirs; i++)
		for (size_t k = 0; k < w->dirs[i].n_names; k++) {
			struct wname *nm = &w->dirs[i].names[k];
			char **nv;

			if (!nm->dirty_since || !nm->is_final)
				continue;
			if (now - nm->dirty_since > WATCH_HOLD_MAX_USEC) {
				nm->dirty_since = 0; /* written for too long: read it as it is */
				continue;
			}
			nv = realloc(v, (n + 2) * sizeof(*v));
			if (!nv)
				break;
			v = nv;
			v[n] = strdup(nm->owner);
			if (v[n])
				n++;
			v[n] = NULL;
		}
	return v;
}

bool watch_touched_since(struct daemon *d, const char *path, uint64_t since)
{
	struct watch *w = d->watch;

	for (size_t i = 0; w && i < w->n_dirs; i++)
		for (size_t k = 0; k < w->dirs[i].n_names; k++) {
			const struct wname *nm = &w->dirs[i].names[k];

			if (nm->last_event > since && strcmp(nm->owner, path) == 0)
				return true;
		}
	return false;
}

uint64_t watch_now(struct daemon *d) { return now_usec(d); }

int watch_init(struct daemon *d)
{
	struct watch *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	d->watch = w;
	r = sd_event_add_time(d->event, &w->debounce, CLOCK_MONOTONIC, 0, 500, on_debounce, d);
	/* events first: a file being written must be marked before a timer starts a reload */
	if (r >= 0)
		r = sd_event_source_set_priority(w->debounce, SD_EVENT_PRIORITY_NORMAL + 10);
	if (r >= 0)
		r = sd_event_source_set_enabled(w->debounce, SD_EVENT_OFF);
	if (r >= 0)
		r = sd_event_add_time_relative(d->event, &w->poll, CLOCK_MONOTONIC, WATCH_POLL_USEC,
					       100 * 1000, on_poll, d);
	if (r >= 0)
		r = sd_event_source_set_priority(w->poll, SD_EVENT_PRIORITY_NORMAL + 10);
	if (r >= 0)
		r = sd_event_source_set_enabled(w->poll, SD_EVENT_ON);
	if (r < 0)
		return r;
	watch_update(d, d->snap);
	return 0;
}

void watch_done(struct daemon *d)
{
	struct watch *w = d->watch;

	if (!w)
		return;
	for (size_t i = 0; i < w->n_dirs; i++)
		wdir_free(&w->dirs[i]);
	free(w->dirs);
	sd_event_source_disable_unref(w->debounce);
	sd_event_source_disable_unref(w->poll);
	free(w->warned);
	free(w);
	d->watch = NULL;
}
