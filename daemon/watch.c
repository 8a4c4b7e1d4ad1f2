/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "log.h"
#include "macro.h"
#include "reaper.h"
#include "snapshot.h"
#include "watch.h"

#define MAX_SYMLINK_HOPS 40
#define RETRY_PER_POLL 64 /* directories tried again per poll while inotify is exhausted */

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
	bool exists;             /* when the plan was made */
	struct wname *names;     /* sorted by name */
	size_t n_names, cap;
	/* armed by the loop */
	struct watch *w;
	sd_event_source *src;    /* NULL: not watched (yet) */
	bool dead;               /* its watch went away (deleted, moved, unmounted) */
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
	struct strmap by_path;   /* dir path -> dirs index */
	struct strmap resolved;  /* a directory as spelled -> its resolved path (index into dirs) */
	char *problem;           /* the first path that could not be followed */
};

/* Directories that could not be watched, for one warning: how many, the first and why. */
struct failures {
	size_t n;
	const char *example;
	int why;
};

struct dirty {
	char *owner;
	uint64_t since;
};

struct watch {
	sd_event *event;
	char *config_path;
	watch_changed_fn changed; /* asks the owner for a reload */
	void *userdata;
	bool armed_late;       /* the first plan is armed after the first answers */
	struct watchplan *plan;
	sd_event_source *debounce;
	sd_event_source *poll;
	size_t n_failed;       /* directories of the plan that could not be watched */
	bool warned_failed;    /* one warning per episode of those */
	char *warned_problem;  /* the last "cannot follow" warning: each is logged once */
	size_t retry_next;     /* where the next retry of failed directories starts */
	struct watch_changes changes;
	size_t changes_cap;
	bool check_all;        /* the next reload looks at every file (watch_take_check_all) */
	struct dirty *dirty;   /* files being written */
	size_t n_dirty;
	uint64_t last_event;
	/* a new plan armed in slices (arm_slice), then the old one's watches dropped in slices */
	sd_event_source *arm;
	struct watchplan *arming;   /* being armed, up to arm_next */
	size_t arm_next;
	struct failures arm_failures;
	unsigned arm_slices;        /* the loop iterations it took so far */
	size_t armed_after_first;   /* directories newly watched after the first iteration */
	struct watchplan *retiring; /* the plan before: its watches dropped up to retire_next */
	size_t retire_next;
};

/* --- strings ----------------------------------------------------------------------------- */

static void strmap_done(struct strmap *m)
{
	for (size_t i = 0; m->keys && i <= m->mask; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
	*m = (struct strmap){0};
}

/* The value for key, or 0. */
static uint32_t strmap_get(const struct strmap *m, const char *key)
{
	if (!m->keys)
		return 0;
	for (size_t i = fnv1a_str(key) & m->mask; m->keys[i]; i = (i + 1) & m->mask)
		if (strcmp(m->keys[i], key) == 0)
			return m->vals[i];
	return 0;
}

static int strmap_put(struct strmap *m, const char *key, uint32_t val)
{
	size_t i;

	if (!m->keys || 2 * (m->n + 1) > m->mask + 1) {
		struct strmap g = {.mask = m->keys ? 2 * m->mask + 1 : 63};

		g.keys = calloc(g.mask + 1, sizeof(*g.keys));
		g.vals = calloc(g.mask + 1, sizeof(*g.vals));
		if (!g.keys || !g.vals) {
			free(g.keys);
			free(g.vals);
			return -ENOMEM;
		}
		for (size_t k = 0; m->keys && k <= m->mask; k++)
			if (m->keys[k]) {
				for (i = fnv1a_str(m->keys[k]) & g.mask; g.keys[i]; i = (i + 1) & g.mask)
					;
				g.keys[i] = m->keys[k];
				g.vals[i] = m->vals[k];
			}
		g.n = m->n;
		free(m->keys);
		free(m->vals);
		*m = g;
	}
	for (i = fnv1a_str(key) & m->mask; m->keys[i]; i = (i + 1) & m->mask)
		if (strcmp(m->keys[i], key) == 0) {
			m->vals[i] = val;
			return 0;
		}
	m->keys[i] = strdup(key);
	if (!m->keys[i])
		return -ENOMEM;
	m->vals[i] = val;
	m->n++;
	return 0;
}

/* out = a + "/" + b (no double slash after the root); -ENAMETOOLONG if it does not fit. */
static int join(char *out, size_t size, const char *a, const char *b)
{
	int n = snprintf(out, size, "%s%s%s", a, strcmp(a, "/") == 0 ? "" : "/", b);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* --- the plan: worked out from the paths, off the loop --------------------------------- */

static struct wdir *plan_dir(struct watchplan *p, const char *path)
{
	uint32_t k = strmap_get(&p->by_path, path);

	if (k)
		return &p->dirs[k - 1];
	if (p->n_dirs == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 16;
		struct wdir *nd = realloc(p->dirs, cap * sizeof(*nd));

		if (!nd)
			return NULL;
		p->dirs = nd;
		p->cap = cap;
	}
	p->dirs[p->n_dirs] = (struct wdir){.path = strdup(path)};
	if (!p->dirs[p->n_dirs].path || strmap_put(&p->by_path, path, (uint32_t)p->n_dirs + 1) < 0) {
		free(p->dirs[p->n_dirs].path);
		return NULL;
	}
	return &p->dirs[p->n_dirs++];
}

/* Adds name (with owner, or NULL for a name on the way) to the directory at dirpath. */
static int plan_name(struct watchplan *p, const char *dirpath, const char *name, const char *owner)
{
	struct wdir *dir = plan_dir(p, dirpath);
	struct wname *e;

	if (!dir)
		return -ENOMEM;
	if (dir->n_names == dir->cap) {
		size_t cap = dir->cap ? 2 * dir->cap : 4;
		struct wname *nn = realloc(dir->names, cap * sizeof(*nn));

		if (!nn)
			return -ENOMEM;
		dir->names = nn;
		dir->cap = cap;
	}
	e = &dir->names[dir->n_names];
	*e = (struct wname){.name = strdup(name), .owner = owner ? strdup(owner) : NULL};
	if (!e->name || (owner && !e->owner)) {
		free(e->name);
		free(e->owner);
		return -ENOMEM;
	}
	dir->n_names++;
	return 0;
}

/* Walks the directory path dir (absolute) from the root, adding each directory and symlink
 * on the way to the plan, and puts the resolved directory in out. A component that is
 * missing is watched for in its parent, and the walk stops there (-ENOENT). */
static int walk_dir(struct watchplan *p, const char *dir, char *out, size_t size, int *hops)
{
	char cur[PATH_MAX] = "/", rest[PATH_MAX];
	int r;

	if (snprintf(rest, sizeof(rest), "%s", dir) >= (int)sizeof(rest))
		return -ENAMETOOLONG;
	for (;;) {
		char *c = rest, comp[NAME_MAX + 1], next[PATH_MAX], target[PATH_MAX], tmp[PATH_MAX];
		size_t len;
		struct stat st;
		ssize_t n;

		while (*c == '/')
			c++;
		if (!*c)
			break;
		len = strcspn(c, "/");
		if (len > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(comp, c, len);
		comp[len] = 0;
		memmove(rest, c + len, strlen(c + len) + 1);
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			char *last = strrchr(cur, '/');

			if (last && last != cur)
				*last = 0;
			else
				strcpy(cur, "/");
			continue;
		}
		if ((r = join(next, sizeof(next), cur, comp)) < 0)
			return r;
		if ((r = plan_name(p, cur, comp, NULL)) < 0)
			return r;
		if (lstat(next, &st) < 0)
			return -errno;
		if (S_ISLNK(st.st_mode)) {
			if (++*hops > MAX_SYMLINK_HOPS)
				return -ELOOP;
			n = readlink(next, target, sizeof(target) - 1);
			if (n < 0)
				return -errno;
			target[n] = 0;
			if (snprintf(tmp, sizeof(tmp), "%s/%s", target, rest) >= (int)sizeof(tmp))
				return -ENAMETOOLONG;
			memcpy(rest, tmp, sizeof(rest));
			if (target[0] == '/')
				strcpy(cur, "/");
			continue;
		}
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
		memcpy(cur, next, sizeof(cur));
	}
	if (snprintf(out, size, "%s", cur) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}

/* Adds what leads to the file at path (absolute) for owner. Directories are walked once per
 * plan however many files they hold. */
static int plan_file(struct watchplan *p, const char *path, const char *owner, int hops)
{
	char dir[PATH_MAX], full[PATH_MAX], target[PATH_MAX];
	const char *slash = strrchr(path, '/'), *base = slash + 1;
	struct stat st;
	uint32_t k;
	ssize_t n;
	int r;

	if ((size_t)(slash - path) >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = 0;
	if (!*dir)
		strcpy(dir, "/");
	k = strmap_get(&p->resolved, dir);
	if (!k) {
		char res[PATH_MAX];

		r = walk_dir(p, dir, res, sizeof(res), &hops);
		if (r == -ENOMEM)
			return r;
		/* a directory that cannot be walked is remembered as UINT32_MAX */
		if (r >= 0 && !plan_dir(p, res))
			return -ENOMEM;
		if (strmap_put(&p->resolved, dir, r < 0 ? UINT32_MAX : strmap_get(&p->by_path, res)) < 0)
			return -ENOMEM;
		if (r < 0)
			return r == -ENOENT || r == -ENOTDIR ? 0 : r; /* its parent watches for it */
		k = strmap_get(&p->by_path, res);
	} else if (k == UINT32_MAX)
		return 0;
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return -EINVAL;
	if ((r = join(full, sizeof(full), p->dirs[k - 1].path, base)) < 0)
		return r;
	if (lstat(full, &st) == 0 && S_ISLNK(st.st_mode)) {
		/* a symlink to the file: watch it on the way, and the file it leads to */
		if (++hops > MAX_SYMLINK_HOPS)
			return -ELOOP;
		r = plan_name(p, p->dirs[k - 1].path, base, NULL);
		if (r < 0)
			return r;
		n = readlink(full, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = 0;
		if (target[0] == '/')
			return plan_file(p, target, owner, hops);
		if ((r = join(full, sizeof(full), p->dirs[k - 1].path, target)) < 0)
			return r;
		return plan_file(p, full, owner, hops);
	}
	return plan_name(p, p->dirs[k - 1].path, base, owner);
}

static int plan_path(struct watchplan *p, const char *path)
{
	char abs[PATH_MAX], cwd[PATH_MAX];
	int r;

	if (path[0] == '/')
		r = snprintf(abs, sizeof(abs), "%s", path) >= (int)sizeof(abs) ? -ENAMETOOLONG : 0;
	else if (!getcwd(cwd, sizeof(cwd)))
		r = -errno;
	else
		r = join(abs, sizeof(abs), cwd, path);
	if (r >= 0)
		r = plan_file(p, abs, path, 0);
	if (r < 0 && r != -ENOMEM && !p->problem &&
	    asprintf(&p->problem, "watch: cannot follow %s (%s); the %llu s poll covers it", path,
		     strerror(-r), (unsigned long long)(WATCH_POLL_USEC / 1000000)) < 0)
		p->problem = NULL;
	return r == -ENOMEM ? r : 0;
}

static int wname_order(const void *a, const void *b)
{
	const struct wname *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (!c) /* owners NULL first */
		c = (x->owner != NULL) - (y->owner != NULL);
	if (!c && x->owner)
		c = strcmp(x->owner, y->owner);
	return c;
}

static void wdir_clear(struct wdir *dir)
{
	for (size_t i = 0; i < dir->n_names; i++) {
		free(dir->names[i].name);
		free(dir->names[i].owner);
	}
	free(dir->names);
	free(dir->path);
	sd_event_source_disable_unref(dir->src);
}

struct watchplan *watchplan_free(struct watchplan *p)
{
	if (!p)
		return NULL;
	for (size_t i = 0; i < p->n_dirs; i++)
		wdir_clear(&p->dirs[i]);
	free(p->dirs);
	strmap_done(&p->by_path);
	strmap_done(&p->resolved);
	free(p->problem);
	free(p);
	return NULL;
}

struct watchplan *watchplan_new(const char *config_path, const struct snapshot *s)
{
	struct watchplan *p = calloc(1, sizeof(*p));
	int r = p ? plan_path(p, config_path) : -ENOMEM;

	for (size_t i = 0; r >= 0 && s && i < s->n_handlers; i++) {
		const struct config_handler *c = s->handlers[i].cfg;

		if (c->path)
			r = plan_path(p, c->path);
		if (r >= 0 && c->prefix_path)
			r = plan_path(p, c->prefix_path);
	}
	if (r < 0)
		return watchplan_free(p);
	for (size_t i = 0; i < p->n_dirs; i++) {
		struct wdir *dir = &p->dirs[i];
		struct stat st;
		size_t k = 0;

		qsort(dir->names, dir->n_names, sizeof(*dir->names), wname_order);
		for (size_t j = 0; j < dir->n_names; j++) /* the same name for the same owner once */
			if (k && wname_order(&dir->names[k - 1], &dir->names[j]) == 0) {
				free(dir->names[j].name);
				free(dir->names[j].owner);
			} else
				dir->names[k++] = dir->names[j];
		dir->n_names = k;
		if (stat(dir->path, &st) == 0 && S_ISDIR(st.st_mode)) {
			dir->exists = true;
			dir->dev = st.st_dev;
			dir->ino = st.st_ino;
		}
	}
	strmap_done(&p->resolved); /* only needed while it was built */
	return p;
}

bool watchplan_moved(const struct watchplan *p)
{
	for (size_t i = 0; p && i < p->n_dirs; i++) {
		const struct wdir *dir = &p->dirs[i];
		struct stat st;
		bool now = stat(dir->path, &st) == 0 && S_ISDIR(st.st_mode);

		if (now != dir->exists || (now && (st.st_dev != dir->dev || st.st_ino != dir->ino)))
			return true;
	}
	return false;
}

static void free_plan(void *p) { watchplan_free(p); }

const char *watchplan_problem(const struct watchplan *p) { return p ? p->problem : NULL; }

/* --- what changed ------------------------------------------------------------------------- */

void watch_changes_clear(struct watch_changes *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->paths[i]);
	free(c->paths);
	*c = (struct watch_changes){0};
}

static void changed_path(struct watch *w, const char *path)
{
	struct watch_changes *c = &w->changes;
	char *copy;

	if (c->rescan)
		return; /* every file is looked at anyway */
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->paths[i], path) == 0)
			return;
	if (c->n >= WATCH_MAX_CHANGED) {
		watch_changes_clear(c);
		c->rescan = true;
		w->changes_cap = 0;
		return;
	}
	if (c->n + 2 > w->changes_cap) {
		size_t cap = w->changes_cap ? 2 * w->changes_cap : 8;
		char **np = realloc(c->paths, cap * sizeof(*np));

		if (!np) {
			c->rescan = true; /* the safe way out */
			return;
		}
		c->paths = np;
		w->changes_cap = cap;
	}
	copy = strdup(path);
	if (!copy) {
		c->rescan = true;
		return;
	}
	c->paths[c->n++] = copy;
	c->paths[c->n] = NULL;
}

static void changed_owner(struct watch *w, const char *owner)
{
	if (strcmp(owner, w->config_path) == 0)
		w->changes.config = true;
	else
		changed_path(w, owner);
}

static struct dirty *find_dirty(struct watch *w, const char *owner)
{
	for (size_t i = 0; i < w->n_dirty; i++)
		if (strcmp(w->dirty[i].owner, owner) == 0)
			return &w->dirty[i];
	return NULL;
}

static void set_dirty(struct watch *w, const char *owner, uint64_t now)
{
	struct dirty *nd;

	if (find_dirty(w, owner))
		return;
	nd = realloc(w->dirty, (w->n_dirty + 1) * sizeof(*nd));
	if (!nd)
		return; /* not held: read at once, as without the hold */
	w->dirty = nd;
	nd[w->n_dirty] = (struct dirty){.owner = strdup(owner), .since = now};
	if (nd[w->n_dirty].owner)
		w->n_dirty++;
}

static void clear_dirty(struct watch *w, struct dirty *e)
{
	free(e->owner);
	*e = w->dirty[--w->n_dirty];
}

void watch_take_changes(struct watch *w, struct watch_changes *c)
{
	uint64_t now = watch_now(w);

	/* written for too long: read it as it is */
	for (size_t i = 0; i < w->n_dirty;)
		if (now - w->dirty[i].since > WATCH_HOLD_MAX_USEC) {
			changed_owner(w, w->dirty[i].owner);
			clear_dirty(w, &w->dirty[i]);
		} else
			i++;
	*c = w->changes;
	w->changes = (struct watch_changes){0};
	w->changes_cap = 0;
}

void watch_give_back(struct watch *w, struct watch_changes *c)
{

	w->changes.config |= c->config;
	w->changes.replan |= c->replan;
	if (c->rescan) {
		watch_changes_clear(&w->changes);
		w->changes.rescan = true;
		w->changes.config |= c->config;
		w->changes_cap = 0;
	}
	for (size_t i = 0; i < c->n; i++)
		changed_path(w, c->paths[i]);
	watch_changes_clear(c);
}

char **watch_held_paths(struct watch *w)
{
	char **v;
	size_t n = 0;

	if (!w || !w->n_dirty)
		return NULL;
	v = calloc(w->n_dirty + 1, sizeof(*v));
	for (size_t i = 0; v && i < w->n_dirty; i++)
		if ((v[n] = strdup(w->dirty[i].owner)))
			n++;
	return v;
}

bool watch_take_check_all(struct watch *w)
{
	bool c = w && w->check_all;

	if (c)
		w->check_all = false;
	return c;
}

uint64_t watch_last_event(const struct watch *w) { return w ? w->last_event : 0; }

uint64_t watch_now(struct watch *w)
{
	uint64_t t = 0;

	sd_event_now(w->event, CLOCK_MONOTONIC, &t);
	return t;
}

/* --- the loop's side: events, timers ------------------------------------------------------- */

static int on_debounce(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct watch *w = userdata;

	sd_event_source_set_enabled(s, SD_EVENT_OFF);
	w->changed(w->userdata, false, "file change");
	return 0;
}

/* Asks for a reload after delay usec, or joins one already due (moving it later when a
 * file just went away: editors and "rm; write" put the new file right after). */
static void schedule(struct watch *w, uint64_t delay)
{
	int enabled = SD_EVENT_OFF;
	uint64_t due = watch_now(w) + delay, cur = 0;

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

static void rescan(struct watch *w, const char *why)
{
	log_debug("watch: %s; looking at every file again", why);
	w->changes.rescan = true;
	w->last_event = watch_now(w);
	schedule(w, WATCH_GONE_DEBOUNCE_USEC);
}

static int on_poll(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct watch *w = userdata;

	sd_event_source_set_time(s, usec + WATCH_POLL_USEC);
	if (w->n_failed)
		watch_apply(w, NULL); /* inotify may have room again */
	w->changed(w->userdata, true, "poll");
	return 0;
}

static int on_inotify(sd_event_source *s, const struct inotify_event *ev, void *userdata)
{
	struct wdir *dir = userdata;
	struct watch *w = dir->w;
	uint64_t now = watch_now(w);
	size_t lo = 0, hi = dir->n_names;

	if (ev->mask & IN_Q_OVERFLOW) {
		rescan(w, "event queue overflow");
		return 0;
	}
	if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT)) {
		dir->dead = true;
		rescan(w, "a watched directory went away");
		return 0;
	}
	if (!ev->len)
		return 0;
	while (lo < hi) { /* the first entry of this name */
		size_t mid = (lo + hi) / 2;

		if (strcmp(dir->names[mid].name, ev->name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < dir->n_names && strcmp(dir->names[lo].name, ev->name) == 0; lo++) {
		const struct wname *n = &dir->names[lo];
		struct dirty *e;

		if (!n->owner) {
			/* a directory or symlink on the way: what it leads to may be new */
			if (ev->mask & (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB)) {
				log_debug("watch: %s/%s changed on the way to files (mask 0x%x)", dir->path,
					  ev->name, ev->mask);
				rescan(w, "a directory or symlink on the way to a file changed");
			}
			continue;
		}
		w->last_event = now;
		if (ev->mask & IN_MODIFY) {
			/* being written: hold its previous list until it is closed */
			set_dirty(w, n->owner, now);
			continue;
		}
		if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
			char p[PATH_MAX];
			struct stat st;

			if (join(p, sizeof(p), dir->path, n->name) == 0 && lstat(p, &st) == 0) {
				if (S_ISLNK(st.st_mode))
					w->changes.replan = true; /* what it leads to must be watched */
				else if (S_ISREG(st.st_mode) && (ev->mask & IN_CREATE)) {
					/* a new file: it is read once it is closed */
					set_dirty(w, n->owner, now);
					continue;
				}
			}
		}
		if ((e = find_dirty(w, n->owner)))
			clear_dirty(w, e);
		log_debug("watch: %s/%s changed (mask 0x%x)", dir->path, n->name, ev->mask);
		changed_owner(w, n->owner);
		schedule(w, ev->mask & (IN_DELETE | IN_MOVED_FROM) ? WATCH_GONE_DEBOUNCE_USEC : WATCH_DEBOUNCE_USEC);
	}
	return 0;
}

#define WATCH_MASK                                                                                  \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB | IN_MODIFY | \
	 IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK)

/* Watches dir; returns 0 or a negative errno (inotify exhausted, a directory gone). */
static int arm(struct watch *w, struct wdir *dir)
{
	int r;

	dir->w = w;
	if (!dir->exists)
		return 0; /* its parent watches for it to appear */
	r = sd_event_add_inotify(w->event, &dir->src, dir->path, WATCH_MASK, on_inotify, dir);
	if (r < 0) {
		dir->src = NULL;
		return r;
	}
	dir->dead = false;
	return 0;
}

static void note_failures(struct watch *w, size_t failed, int why, const char *example)
{

	w->n_failed = failed;
	if (failed && !w->warned_failed) {
		log_warning("watch: cannot watch %zu director%s (first %s: %s%s); until it can, the %llu s "
			    "poll looks at every file", failed, failed == 1 ? "y" : "ies", example, strerror(-why),
			    why == -ENOSPC ? ", the inotify watch limit fs.inotify.max_user_watches"
			    : why == -EMFILE ? ", the inotify instance limit fs.inotify.max_user_instances"
			    : "", (unsigned long long)(WATCH_POLL_USEC / 1000000));
		w->warned_failed = true;
	} else if (!failed && w->warned_failed) {
		log_info("watch: every directory is watched again");
		w->warned_failed = false;
	}
}

static void arm_counted(struct watch *w, struct wdir *dir, struct failures *f)
{
	int r = arm(w, dir);

	if (r < 0 && !f->example) {
		f->example = dir->path;
		f->why = r;
	}
	f->n += r < 0;
}

/* A new plan is armed on the loop in slices of at most this long (at least one directory
 * each), between questions: arming 1,000 directories of 100 files costs about 18 ms. */
#define ARM_SLICE_USEC 1000

static void arm_step(struct watch *w, struct watchplan *old, struct wdir *dir)
{
	uint32_t k = old ? strmap_get(&old->by_path, dir->path) : 0;
	struct wdir *was = k ? &old->dirs[k - 1] : NULL;

	dir->w = w;
	if (was && was->src && !was->dead && was->exists && dir->exists && was->dev == dir->dev &&
	    was->ino == dir->ino) {
		/* the same directory: its watch goes on */
		dir->src = TAKE_PTR(was->src);
		sd_event_source_set_userdata(dir->src, dir);
		return;
	}
	arm_counted(w, dir, &w->arm_failures);
	w->armed_after_first += w->arm_slices > 1;
}

/* The plan being armed is complete: it becomes the plan, and the old one's watches are
 * dropped in slices (dropping a watch costs about as much as adding one). */
static void arm_complete(struct watch *w)
{
	struct watchplan *p = TAKE_PTR(w->arming), *old = w->plan;
	struct failures f = w->arm_failures;

	if (p->problem && (!w->warned_problem || strcmp(p->problem, w->warned_problem) != 0)) {
		log_warning("%s", p->problem);
		free(w->warned_problem);
		w->warned_problem = strdup(p->problem);
	} else if (!p->problem)
		w->warned_problem = mfree(w->warned_problem);
	if (w->arm_slices > 1)
		log_debug("watch: %zu directories armed over %u loop iterations", p->n_dirs, w->arm_slices);
	if (!old && w->armed_late) {
		/* armed after the first answers: look at every file once more */
		w->check_all = true;
		schedule(w, WATCH_DEBOUNCE_USEC);
	} else if (w->armed_after_first) {
		/* a file in a directory watched only some iterations after the plan was made may
		 * have changed unseen: look at every file once more, after the grace a deploy
		 * that is still moving directories gets */
		w->check_all = true;
		schedule(w, WATCH_GONE_DEBOUNCE_USEC);
	}
	w->plan = p;
	w->retiring = old;
	w->retire_next = 0;
	note_failures(w, f.n, f.why, f.example ? f.example : "?");
}

/* One slice of the work: arm directories of the new plan, then drop the old plan's watches
 * (the loop's to drop) and hand the old plan to a thread to free. True when all is done. */
static bool arm_slice(struct watch *w, bool all)
{
	uint64_t t0 = mono_usec();
	unsigned done = 0;

	if (w->arming)
		w->arm_slices++;
	while (w->arming && w->arm_next < w->arming->n_dirs) {
		if (!all && done++ && mono_usec() - t0 >= ARM_SLICE_USEC)
			return false;
		arm_step(w, w->plan, &w->arming->dirs[w->arm_next++]);
	}
	if (w->arming)
		arm_complete(w);
	while (w->retiring && w->retire_next < w->retiring->n_dirs) {
		if (!all && done++ && mono_usec() - t0 >= ARM_SLICE_USEC)
			return false;
		w->retiring->dirs[w->retire_next].src = sd_event_source_disable_unref(w->retiring->dirs[w->retire_next].src);
		w->retire_next++;
	}
	reap(free_plan, TAKE_PTR(w->retiring));
	return true;
}

static int on_arm(sd_event_source *s, void *userdata)
{
	if (arm_slice(userdata, false))
		sd_event_source_set_enabled(s, SD_EVENT_OFF);
	return 0;
}

void watch_apply(struct watch *w, struct watchplan *p)
{

	if (!p) {
		/* try again some of the directories that could not be watched */
		struct watchplan *cur = w->plan;
		struct failures f = {0};
		size_t tried = 0, n = cur ? cur->n_dirs : 0;

		if (w->arming || w->retiring)
			return; /* a plan is being armed: the next poll tries */
		for (size_t k = 0; k < n; k++) {
			struct wdir *dir = &cur->dirs[(w->retry_next + k) % n];

			if (!dir->exists || (dir->src && !dir->dead))
				continue;
			if (tried++ >= RETRY_PER_POLL) {
				f.n++; /* not tried this time */
				continue;
			}
			dir->src = sd_event_source_disable_unref(dir->src);
			arm_counted(w, dir, &f);
		}
		w->retry_next += RETRY_PER_POLL;
		note_failures(w, f.n, f.why, f.example ? f.example : "?");
		return;
	}
	/* a plan still being armed or retired (two plans within milliseconds): finish it now */
	(void)arm_slice(w, true);
	w->arming = p;
	w->arm_next = 0;
	w->arm_failures = (struct failures){0};
	w->arm_slices = 0;
	w->armed_after_first = 0;
	if (!arm_slice(w, false))
		sd_event_source_set_enabled(w->arm, SD_EVENT_ON);
}

/* The newest plan, also while it is being armed: a job started now never holds the plan that
 * is being retired. */
const struct watchplan *watch_plan(const struct watch *w)
{
	return !w ? NULL : w->arming ? w->arming : w->plan;
}

bool watch_degraded(const struct watch *w) { return w && (w->n_failed || (w->plan && w->plan->problem)); }

struct watch *watch_free(struct watch *w)
{
	if (!w)
		return NULL;
	w->plan = watchplan_free(w->plan);
	w->arming = watchplan_free(w->arming);
	w->retiring = watchplan_free(w->retiring);
	sd_event_source_disable_unref(w->arm);
	sd_event_source_disable_unref(w->debounce);
	sd_event_source_disable_unref(w->poll);
	free(w->warned_problem);
	watch_changes_clear(&w->changes);
	for (size_t i = 0; i < w->n_dirty; i++)
		free(w->dirty[i].owner);
	free(w->dirty);
	free(w->config_path);
	free(w);
	return NULL;
}

int watch_new(sd_event *event, const char *config_path, watch_changed_fn changed, void *userdata,
	      struct watch **ret)
{
	struct watch *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	w->event = event;
	w->changed = changed;
	w->userdata = userdata;
	w->config_path = strdup(config_path);
	r = w->config_path ? 0 : -ENOMEM;
	if (r >= 0)
		r = sd_event_add_time(event, &w->debounce, CLOCK_MONOTONIC, 0, 500, on_debounce, w);
	/* events first: a file being written must be marked before a timer starts a reload */
	if (r >= 0)
		r = sd_event_source_set_priority(w->debounce, SD_EVENT_PRIORITY_NORMAL + 10);
	if (r >= 0)
		r = sd_event_source_set_enabled(w->debounce, SD_EVENT_OFF);
	if (r >= 0)
		r = sd_event_add_time_relative(event, &w->poll, CLOCK_MONOTONIC, WATCH_POLL_USEC,
					       100 * 1000, on_poll, w);
	if (r >= 0)
		r = sd_event_source_set_priority(w->poll, SD_EVENT_PRIORITY_NORMAL + 10);
	if (r >= 0)
		r = sd_event_source_set_enabled(w->poll, SD_EVENT_ON);
	/* slices of arming come after whatever else is pending (questions first) */
	if (r >= 0)
		r = sd_event_add_defer(event, &w->arm, on_arm, w);
	if (r >= 0)
		r = sd_event_source_set_priority(w->arm, SD_EVENT_PRIORITY_NORMAL + 10);
	if (r >= 0)
		r = sd_event_source_set_enabled(w->arm, SD_EVENT_OFF);
	if (r < 0) {
		watch_free(w);
		return r;
	}
	*ret = w;
	return 0;
}

void watch_start(struct watch *w, const struct snapshot *s)
{
	/* A small config is watched before the first answer (its plan takes a millisecond or
	 * two). A large one answers first: its plan (a lookup of every file, 200 ms for 100,000)
	 * is made by the first reload, and once it is armed every file is looked at again
	 * (check_all), for what changed before. Either way the first reload looks at every file
	 * again, for what changed between the first load and the watches. */
	if (!s || s->n_handlers <= WATCH_SWEEP_MIN)
		watch_apply(w, watchplan_new(w->config_path, s));
	else
		w->armed_late = true;
	w->changes.rescan = true;
	w->changed(w->userdata, false, "start");
}
