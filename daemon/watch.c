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
#include "watchplan.h"

#define RETRY_PER_POLL 64 /* directories tried again per poll while inotify is exhausted */

/* Directories that could not be watched, for one warning: how many, the first and why. */
struct failures {
	size_t n;
	const char *example;
	int why;
};

/* A file being written: held at its previous list from its first write until it is closed,
 * renamed or deleted, or until WATCH_HOLD_MAX_USEC have passed (overdue: no longer held).
 * Which close is the writer's: a watch on the file itself counts who opens and closes it
 * while it is held; a close beyond those opened meanwhile (touch opens the file for writing
 * to set its times, a reader to read it) is of a descriptor opened before: the writer's. */
struct dirty {
	char *owner;
	uint64_t since;		/* the first write */
	uint64_t last_write;	/* the latest write */
	bool overdue;		/* held too long: served as it was; warned once */
	sd_event_source *opens; /* the watch on the file: IN_OPEN, IN_CLOSE_NOWRITE */
	unsigned n_opened;	/* opens seen while held */
	unsigned n_closed;	/* closes seen while held */
};

struct watch {
	sd_event *event;
	char *config_path;
	watch_changed_fn changed; /* asks the owner for a reload */
	void *userdata;
	bool armed_late; /* the first plan is armed after the first answers */
	struct watchplan *plan;
	sd_event_source *debounce;
	sd_event_source *poll;
	size_t n_failed;      /* directories of the plan that could not be watched */
	bool warned_failed;   /* one warning per episode of those */
	char *warned_problem; /* the last "cannot follow" warning: each is logged once */
	size_t retry_next;    /* where the next retry of failed directories starts */
	struct watch_changes changes;
	size_t changes_cap;
	bool check_all;	      /* the next reload looks at every file (watch_take_check_all) */
	struct dirty **dirty; /* files being written */
	size_t n_dirty;
	uint64_t last_event;
	/* a new plan armed in slices (arm_slice), then the old one's watches dropped in slices */
	sd_event_source *arm;
	struct watchplan *arming; /* being armed, up to arm_next */
	size_t arm_next;
	struct failures arm_failures;
	unsigned arm_slices;	    /* the loop iterations it took so far */
	size_t armed_after_first;   /* directories newly watched after the first iteration */
	struct watchplan *retiring; /* the plan before: its watches dropped up to retire_next */
	size_t retire_next;
};

static void free_plan(void *p)
{
	watchplan_free(p);
}

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
		if (strcmp(w->dirty[i]->owner, owner) == 0)
			return w->dirty[i];
	return NULL;
}

static int on_opens(sd_event_source *s, const struct inotify_event *ev, void *userdata)
{
	struct dirty *e = userdata;

	if (ev->mask & IN_OPEN)
		e->n_opened++;
	if (ev->mask & IN_CLOSE_NOWRITE)
		e->n_closed++;
	return 0;
}

/* Holds owner, the file at path, from now on; returns its entry, or NULL (then it is not
 * held: read at once, as without the hold). */
static struct dirty *set_dirty(struct watch *w, const char *owner, const char *path, uint64_t now)
{
	struct dirty *e = find_dirty(w, owner), **nd;

	if (e)
		return e;
	nd = realloc(w->dirty, (w->n_dirty + 1) * sizeof(*nd));
	if (!nd)
		return NULL;
	w->dirty = nd;
	e = calloc(1, sizeof(*e));
	if (!e || !(e->owner = strdup(owner))) {
		free(e);
		return NULL;
	}
	e->since = e->last_write = now;
	/* without this watch (inotify exhausted) any close ends the hold, as it used to */
	if (sd_event_add_inotify(w->event, &e->opens, path, IN_OPEN | IN_CLOSE_NOWRITE, on_opens,
				 e) < 0)
		e->opens = NULL;
	w->dirty[w->n_dirty++] = e;
	return e;
}

static void drop_opens(struct dirty *e)
{
	e->opens = sd_event_source_disable_unref(e->opens);
}

static void clear_dirty(struct watch *w, struct dirty *e)
{
	for (size_t i = 0; i < w->n_dirty; i++)
		if (w->dirty[i] == e) {
			w->dirty[i] = w->dirty[--w->n_dirty];
			break;
		}
	drop_opens(e);
	free(e->owner);
	free(e);
}

void watch_take_changes(struct watch *w, struct watch_changes *c)
{
	uint64_t now = watch_now(w);

	for (size_t i = 0; i < w->n_dirty;) {
		struct dirty *e = w->dirty[i];

		if (!e->overdue && now - e->since > WATCH_HOLD_MAX_USEC) {
			/* written for too long: read it as it is, once; its close reads it again */
			log_warning(
			    "%s: still being written after %llu s; serving it as it is now, "
			    "and again once it is closed",
			    e->owner, (unsigned long long)(WATCH_HOLD_MAX_USEC / 1000000));
			e->overdue = true;
			drop_opens(e);
			changed_owner(w, e->owner);
		} else if (e->overdue && now - e->last_write > WATCH_HOLD_MAX_USEC) {
			/* no write for as long: that writer is done or gone (a file no longer
			 * watched too); a new write holds it again */
			changed_owner(w, e->owner);
			clear_dirty(w, e);
			continue;
		}
		i++;
	}
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
		if (!w->dirty[i]->overdue && (v[n] = strdup(w->dirty[i]->owner)))
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

uint64_t watch_last_event(const struct watch *w)
{
	return w ? w->last_event : 0;
}

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
		char p[PATH_MAX];
		struct dirty *e;

		if (!n->owner) {
			/* a directory or symlink on the way: what it leads to may be new */
			if (ev->mask &
			    (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB)) {
				log_debug("watch: %s/%s changed on the way to files (mask 0x%x)",
					  dir->path, ev->name, ev->mask);
				rescan(w, "a directory or symlink on the way to a file changed");
			}
			continue;
		}
		w->last_event = now;
		e = find_dirty(w, n->owner);
		if (path_join(p, sizeof(p), dir->path, n->name) < 0)
			p[0] = 0;
		if (ev->mask & IN_MODIFY) {
			/* being written: hold its previous list until it is closed */
			if (!e)
				e = set_dirty(w, n->owner, p, now);
			if (e)
				e->last_write = now;
			continue;
		}
		if (e && !e->overdue && (ev->mask & IN_ATTRIB))
			continue; /* a chmod, chown or touch while it is written: still held */
		if (e && !e->overdue && e->opens && (ev->mask & IN_CLOSE_WRITE) &&
		    ++e->n_closed <= e->n_opened)
			continue; /* opened while held (touch): not the writer's close */
		if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
			struct stat st;

			if (p[0] && lstat(p, &st) == 0) {
				if (S_ISLNK(st.st_mode))
					w->changes.replan =
					    true; /* what it leads to must be watched */
				else if (S_ISREG(st.st_mode) && (ev->mask & IN_CREATE) &&
					 st.st_size == 0 && st.st_nlink == 1) {
					/* a new file, empty: it is read once it is closed. One
					 * that arrives with content or a second name came from
					 * link() (ln, cp -l, tar), with no close to wait for;
					 * a writer that got there first holds it with its
					 * writes, whose events come next */
					set_dirty(w, n->owner, p, now);
					continue;
				}
			}
		}
		if (e)
			clear_dirty(w, e);
		log_debug("watch: %s/%s changed (mask 0x%x)", dir->path, n->name, ev->mask);
		changed_owner(w, n->owner);
		schedule(w, ev->mask & (IN_DELETE | IN_MOVED_FROM) ? WATCH_GONE_DEBOUNCE_USEC
								   : WATCH_DEBOUNCE_USEC);
	}
	return 0;
}

#define WATCH_MASK                                                                                 \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB |        \
	 IN_MODIFY | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK)
/* A directory that holds no watched file, only names on the way to one: no event about its
 * children's content or attributes. With one of those in the mask, the kernel marks every
 * child dentry it has cached when the watch is added, and a directory on the way such as
 * /tmp or a releases directory can have hundreds of thousands (6.8 ms for one /tmp here, in
 * one piece on the loop). A chmod of a directory on the way is then seen by the poll. */
#define WAY_MASK                                                                                   \
	(IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF |     \
	 IN_ONLYDIR | IN_EXCL_UNLINK)

/* Watches dir; returns 0 or a negative errno (inotify exhausted, a directory gone). */
static int arm(struct watch *w, struct wdir *dir)
{
	int r;

	dir->w = w;
	if (!dir->exists)
		return 0; /* its parent watches for it to appear */
	r = sd_event_add_inotify(w->event, &dir->src, dir->path,
				 dir->holds_files ? WATCH_MASK : WAY_MASK, on_inotify, dir);
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
		log_warning(
		    "watch: cannot watch %zu director%s (first %s: %s%s); until it can, the %llu s "
		    "poll looks at every file",
		    failed, failed == 1 ? "y" : "ies", example, strerror(-why),
		    why == -ENOSPC   ? ", the inotify watch limit fs.inotify.max_user_watches"
		    : why == -EMFILE ? ", the inotify instance limit fs.inotify.max_user_instances"
				     : "",
		    (unsigned long long)(WATCH_POLL_USEC / 1000000));
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
	struct wdir *was = old ? watchplan_dir(old, dir->path) : NULL;

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
		log_debug("watch: %zu directories armed over %u loop iterations", p->n_dirs,
			  w->arm_slices);
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
		w->retiring->dirs[w->retire_next].src =
		    sd_event_source_disable_unref(w->retiring->dirs[w->retire_next].src);
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

bool watch_degraded(const struct watch *w)
{
	return w && (w->n_failed || (w->plan && w->plan->problem));
}

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
	while (w->n_dirty)
		clear_dirty(w, w->dirty[0]);
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
