/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "control.h"
#include "daemon.h"
#include "log.h"
#include "reaper.h"
#include "reload.h"
#include "session.h"
#include "sharedrot.h"
#include "watch.h"

struct job {
	/* in */
	const char *config_path;
	struct snapshot_opts opts;
	char **hold;
	enum reload_kind kind;
	struct watch_changes changes; /* what the watch saw change */
	const struct watchplan *plan; /* the watches armed now (read only) */
	bool degraded;                /* some directory is not watched: check every file */
	size_t sweep_from, sweep_n;   /* the poll's slice of the handlers */
	bool config_broken;           /* the config file as last read did not load */
	struct file_id config_id;     /* the config file as last read */
	struct timespec config_read_at;
	/* out */
	int r;
	bool config_failed;
	bool config_read;     /* the config was read (config_id, config_read_at are new) */
	bool nothing;         /* a poll that found nothing to read again */
	struct snapshot *snap;
	struct watchplan *new_plan; /* what to watch now, or NULL: the same */
	struct diag diag;
	struct diag warnings; /* snapshot_warnings() of snap */
	/* a snapshot built whole: its rotation, made ready off the loop (positions at 0), and
	 * prev's slot -> its slot + 1 (0: none), for the loop to carry the positions over */
	struct rotation rot;
	uint32_t *map;
	size_t n_map;
};

struct reloader {
	int efd;
	sd_event_source *src;
	pthread_t thread;
	bool busy;
	bool pending;
	enum reload_kind pending_kind;
	struct job job;
	uint64_t seq;       /* number of the last reload started */
	uint64_t started;   /* when the running build started (loop clock, usec) */
	unsigned discarded; /* builds in a row thrown away because files changed under them */
	bool reloading;     /* RELOADING=1 was sent for the running build */
	struct file_id config_id; /* the config file as last read, for the poll */
	struct timespec config_read_at;
	size_t sweep_next;  /* the poll's next slice */
};

#define MAX_DISCARDED 3

/* Reads the config and builds on it: every list is looked at (re-read for a forced reload). */
static void build_whole(struct job *j)
{
	struct config *c = NULL;

	j->config_read = true;
	file_id_clock(&j->config_read_at);
	if (file_id_get(j->config_path, &j->config_id) < 0)
		j->config_id = (struct file_id){0};
	j->r = config_load(j->config_path, &j->diag, &c);
	if (j->r < 0)
		j->config_failed = true;
	else
		j->r = snapshot_new(c, &j->opts, &j->diag, &j->snap);
	j->new_plan = watchplan_new(j->config_path, j->snap ? j->snap : j->opts.prev);
}

/* A snapshot like prev in which the files of paths (NULL: none) were looked at again. */
static void derive(struct job *j, char *const *paths)
{
	static char *const none[] = {NULL}; /* (snapshot_derive() takes NULL for every file) */

	j->r = snapshot_derive(j->opts.prev, &j->opts, paths ? paths : none, &j->diag, &j->snap);
}

/* The way to some files changed: watch anew, and read again every file (the view prefix
 * files too) that is not the one read. */
static void rescan(struct job *j)
{
	_cleanup_free_ const char **stale = NULL;
	size_t calls;

	j->new_plan = watchplan_new(j->config_path, j->opts.prev);
	stale = snapshot_stale(j->opts.prev, 0, j->opts.prev->n_handlers, &calls);
	derive(j, (char *const *)stale);
}

/* What the poll does: is the config or the way to a file not what was read or watched? Are
 * some lists (a slice of them each time, all while some directory is not watched)? */
static void poll_check(struct job *j)
{
	const struct snapshot *prev = j->opts.prev;
	struct file_id id;
	_cleanup_free_ const char **stale = NULL;
	size_t calls;

	if (file_id_get(j->config_path, &id) < 0)
		id = (struct file_id){0};
	if (!file_id_equal(&id, &j->config_id) || !file_id_settled(&id, &j->config_read_at))
		build_whole(j);
	else if (j->config_broken)
		j->nothing = true; /* lists wait for the config (see worker()) */
	else if (watchplan_moved(j->plan))
		rescan(j); /* a directory on the way is another one now */
	else if ((stale = snapshot_stale(prev, j->degraded ? 0 : j->sweep_from,
					  j->degraded ? prev->n_handlers : j->sweep_n, &calls)))
		derive(j, (char *const *)stale);
	else
		j->nothing = true;
}

/* What of the swap of a snapshot built whole does not need the live positions: a zeroed
 * rotation and the slot map, off the loop (a million slots take milliseconds to touch). A
 * failure leaves both NULL: swap() then makes them itself. */
static void prepare_rotation(struct job *j)
{
	const struct snapshot *s = j->snap, *prev = j->opts.prev;

	j->n_map = prev ? prev->n_handlers : 0;
	j->map = calloc(j->n_map ? j->n_map : 1, sizeof(*j->map));
	if (!j->map || rotation_resize(&j->rot, s->n_handlers) < 0) {
		j->map = mfree(j->map);
		rotation_done(&j->rot);
		return;
	}
	for (size_t i = 0; i < s->n_handlers; i++) {
		int64_t k = s->handlers[i].carry_from;

		if (k >= 0 && (size_t)k < j->n_map)
			j->map[k] = (uint32_t)i + 1;
	}
}

/* What a finished build leaves that the swap did not take. */
static void job_clear(struct job *j)
{
	j->new_plan = watchplan_free(j->new_plan);
	diag_clear(&j->diag);
	diag_clear(&j->warnings);
	rotation_done(&j->rot);
	j->map = mfree(j->map);
}

static void *worker(void *arg)
{
	struct reloader *rl = arg;
	struct job *j = &rl->job;
	const struct snapshot *prev = j->opts.prev;
	uint64_t one = 1;

	/* Lowest CPU weight: on a busy machine the loop, which answers questions, goes first
	 * (Linux applies a thread id given to setpriority() to that thread alone). */
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), 19);
	if (!prev || j->kind == RELOAD_FULL || j->changes.config)
		build_whole(j);
	else if ((j->kind == RELOAD_POLL || j->degraded) && !j->changes.rescan && !j->changes.replan &&
		 !j->changes.n)
		poll_check(j);
	else if (j->config_broken)
		/* While the config file does not load, lists changed beside it are not applied on
		 * their own (a deploy writes both; the lists may be meant for the new config): the
		 * build that reads the config once it loads again reads every changed list. */
		j->nothing = true;
	else if (j->changes.rescan)
		rescan(j);
	else {
		if (j->changes.replan)
			j->new_plan = watchplan_new(j->config_path, prev);
		derive(j, j->changes.paths);
	}
	if (j->config_read || j->new_plan)
		/* a config's parse tree or a plan's lookups were freed: sort the freed blocks into
		 * the allocator's bins here, not in the loop's next mallocs (a status's) */
		(void)malloc_trim(0);
	if (j->snap) {
		snapshot_warnings(j->snap, &j->warnings);
		if (!j->snap->checked || !prev || j->snap->base != prev->base)
			prepare_rotation(j);
	}
	/* eventfd write: the loop's read of it orders our writes before its reads */
	if (write(rl->efd, &one, sizeof(one)) < 0) {
		/* cannot fail for an eventfd counter this small */
	}
	return NULL;
}

void reload_notify(struct daemon *d, bool ok, const char *why)
{
	_cleanup_free_ char *line = NULL;

	if (!d->listener)
		return; /* socket mode only: a coprocess is not a service of its own */
	line = daemon_status_line(d);
	if (ok)
		(void)sd_notifyf(0, "READY=1\nSTATUS=%s", line ? line : "serving");
	else
		(void)sd_notifyf(0, "READY=1\nSTATUS=reload failed: %s; %s", why ? why : "error",
				 line ? line : "");
}

static void free_strv(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

static void start(struct daemon *d, enum reload_kind kind)
{
	struct reloader *rl = d->reloader;
	size_t n = d->snap ? d->snap->n_handlers : 0;
	int r;

	free_strv(rl->job.hold);
	rl->job = (struct job){
		.config_path = d->config_path,
		.opts = {.prev = d->snap, .reuse_unchanged = kind != RELOAD_FULL, .keep_prev_on_error = true},
		.kind = kind,
		.plan = watch_plan(d),
		.degraded = watch_degraded(d) || watch_take_check_all(d),
		.config_broken = d->config_error && d->snap,
		.config_id = rl->config_id,
		.config_read_at = rl->config_read_at,
	};
	watch_take_changes(d, &rl->job.changes);
	if (kind == RELOAD_POLL) {
		/* a slice of the lists each time, so that all are looked at every few polls */
		rl->job.sweep_n = (n + WATCH_SWEEP_POLLS - 1) / WATCH_SWEEP_POLLS;
		if (rl->job.sweep_n < WATCH_SWEEP_MIN)
			rl->job.sweep_n = n < WATCH_SWEEP_MIN ? n : WATCH_SWEEP_MIN;
		if (rl->sweep_next >= n)
			rl->sweep_next = 0;
		rl->job.sweep_from = rl->sweep_next;
		rl->sweep_next += rl->job.sweep_n;
	}
	/* Files being written keep their lists in every kind of reload, a forced one too: their
	 * closing starts another reload. */
	rl->job.hold = watch_held_paths(d);
	rl->job.opts.hold_paths = rl->job.hold;
	diag_init(&rl->job.diag);
	diag_init(&rl->job.warnings);
	r = pthread_create(&rl->thread, NULL, worker, rl);
	if (r != 0) {
		log_error("reload: cannot start the worker thread: %s; will retry at the next change",
			  strerror(r));
		watch_give_back(d, &rl->job.changes);
		return;
	}
	rl->busy = true;
	rl->seq++;
	rl->started = watch_now(d);
	if (kind != RELOAD_POLL && !rl->reloading && d->listener && d->snap) {
		(void)sd_notify(0, "RELOADING=1");
		rl->reloading = true;
	}
}

void reload_config_read(struct daemon *d, const struct file_id *id, const struct timespec *read_at)
{
	d->reloader->config_id = *id;
	d->reloader->config_read_at = *read_at;
}

uint64_t reload_request(struct daemon *d, enum reload_kind kind, const char *why)
{
	struct reloader *rl = d->reloader;

	if (kind != RELOAD_POLL)
		log_debug("reload requested: %s", why);
	if (rl->busy) {
		if (!rl->pending || kind == RELOAD_FULL || rl->pending_kind == RELOAD_POLL)
			rl->pending_kind = kind;
		rl->pending = true;
		return rl->seq + 1;
	}
	start(d, kind);
	return rl->seq;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void set_result(struct daemon *d, bool ok, char *line)
{
	d->last_reload = time(NULL);
	d->last_reload_ok = ok;
	free(d->last_reload_result);
	d->last_reload_result = line;
}

static void free_snapshot(void *p) { snapshot_free(p); }

/* Frees a retired snapshot away from the loop. */
static void retire(struct snapshot *old) { reap(free_snapshot, old); }

/* Makes snap live: rotation carries over for unchanged lists, restarts for changed ones. A
 * snapshot derived from the live one keeps every slot, so only the handlers it looked at
 * again are touched. */
static int swap(struct daemon *d, struct snapshot *snap, struct job *j)
{
	struct rotation rot;
	_cleanup_free_ uint32_t *map = NULL; /* old slot -> new slot + 1 */
	size_t n_old = d->snap ? d->snap->n_handlers : 0;
	struct snapshot *old = d->snap;

	if (old && snap->checked && snap->base == old->base) {
		for (size_t k = 0; k < snap->n_checked; k++) {
			uint32_t i = snap->checked[k];

			if (snap->handlers[i].carry_from >= 0)
				continue;
			d->rot.next[i] = 0; /* a new list starts at its first address */
			for (struct session *s = d->session; s; s = s->next)
				answer_memo_forget(&s->memo, i);
		}
		if (d->sharedrot && sharedrot_attach(d->sharedrot, snap, &d->rot) < 0)
			return -ENOMEM;
	} else {
		if (j && j->map && j->n_map == n_old && j->rot.n == snap->n_handlers) {
			/* prepared by the worker: only the positions are the loop's */
			rot = j->rot;
			j->rot = (struct rotation){0};
			map = TAKE_PTR(j->map);
			rot.rng = d->rot.rng ? d->rot.rng : rot.rng;
			for (size_t k = 0; k < n_old && k < d->rot.n; k++)
				if (map[k])
					rot.next[map[k] - 1] = d->rot.next[k];
		} else {
			map = calloc(n_old ? n_old : 1, sizeof(*map));
			if (!map || snapshot_rotation(snap, &d->rot, n_old, &rot, map) < 0)
				return -ENOMEM;
		}
		if (d->sharedrot && sharedrot_attach(d->sharedrot, snap, &rot) < 0) {
			rotation_done(&rot);
			return -ENOMEM;
		}
		for (struct session *s = d->session; s; s = s->next)
			answer_memo_remap(&s->memo, map, n_old);
		rotation_done(&d->rot);
		d->rot = rot;
	}
	d->snap = snap;
	d->generation++;
	log_set_generation(d->generation);
	retire(old);
	return 0;
}

void reload_log_warnings(const struct snapshot *s)
{
	struct diag w;

	diag_init(&w);
	snapshot_warnings(s, &w);
	log_diag(LOG_WARNING, &w);
	diag_clear(&w);
}

static char *describe(const struct daemon *d, const struct snapshot *s)
{
	char *line, counts[CONFIG_COUNTS_MAX];

	config_counts(s->config, counts);
	if (asprintf(&line,
		     "generation %llu applied: zone %s, %s, %llu addresses; %zu lists new or "
		     "changed, %zu kept after an error, %zu serving nothing%s%.0zu%s",
		     (unsigned long long)d->generation, s->config->domain, counts,
		     (unsigned long long)s->n_addresses, s->n_new, s->n_kept, s->n_failed + s->n_drained,
		     /* " (N with every weight 0)" (%.0zu prints nothing for 0) */
		     s->n_drained ? " (" : "", s->n_drained, s->n_drained ? " with every weight 0)" : "") < 0)
		return NULL;
	return line;
}

/* A change that cannot be applied live, or NULL. */
static char *needs_restart(const struct daemon *d, const struct config *c)
{
	const char *want = c->control_dir ? c->control_dir : CONTROL_DEFAULT_DIR;
	char *why = NULL;

	if (!d->snap)
		return NULL; /* nothing served yet: the control socket moves with the first config */
	if (!d->control_dir_forced && d->control_dir && strcmp(want, d->control_dir) != 0) {
		if (asprintf(&why, "%s: control_dir: changed from %s to %s; that needs a restart",
			     d->config_path, d->control_dir, want) < 0)
			why = NULL;
	} else if (!same_str(c->control_group, d->control_group)) {
		if (asprintf(&why, "%s: control_group: changed from %s to %s; that needs a restart",
			     d->config_path, d->control_group ? d->control_group : "(none)",
			     c->control_group ? c->control_group : "(none)") < 0)
			why = NULL;
	}
	return why;
}

/* The first config that loads (after a broken one at start) decides the control socket. */
static void control_follow_config(struct daemon *d)
{
	const struct config *c = d->snap->config;
	const char *dir = d->control_dir_forced ? d->control_dir : c->control_dir ? c->control_dir : CONTROL_DEFAULT_DIR;

	if (d->control_activated ||
	    (d->control && strcmp(dir, d->control_dir) == 0 && same_str(c->control_group, d->control_group)))
		return;
	control_done(d);
	free(d->control_group);
	d->control_group = c->control_group ? strdup(c->control_group) : NULL;
	if (dir != d->control_dir) {
		free(d->control_dir);
		d->control_dir = strdup(dir);
	}
	(void)control_init(d, d->control_dir, d->control_group);
}

static void finish(struct daemon *d)
{
	struct reloader *rl = d->reloader;
	struct job *j = &rl->job;
	enum reload_kind kind = j->kind;
	_cleanup_free_ char *restart = NULL;
	bool applied = false;

	pthread_join(rl->thread, NULL);
	rl->busy = false;
	if (rl->discarded < MAX_DISCARDED && !j->nothing && (j->r >= 0 || j->config_failed) &&
	    watch_last_event(d) > rl->started) {
		/* A file this build may have read changed while it was read: throw it away quietly
		 * and build again (what it was to look at too), a bounded number of times in a row. */
		log_debug("reload: a file changed while it was read; building again");
		rl->discarded++;
		j->snap = snapshot_free(j->snap);
		job_clear(j);
		watch_give_back(d, &j->changes);
		rl->pending = false;
		start(d, kind == RELOAD_FULL || rl->pending_kind == RELOAD_FULL ? RELOAD_FULL : RELOAD_CHANGED);
		return;
	}
	rl->discarded = 0;
	watch_changes_clear(&j->changes);
	if (j->config_read) {
		rl->config_id = j->config_id;
		rl->config_read_at = j->config_read_at;
	}
	if (j->new_plan)
		watch_apply(d, TAKE_PTR(j->new_plan));
	if (!j->nothing && !j->config_failed && j->r >= 0 && (restart = needs_restart(d, j->snap->config))) {
		diag_clear(&j->diag);
		diag_add(&j->diag, "%s", restart);
		j->snap = snapshot_free(j->snap);
		j->config_failed = true;
	}

	if (j->nothing) {
		control_reload_finished(d, rl->seq, true, "no change", NULL);
	} else if (j->config_failed) {
		_cleanup_free_ char *why = diag_join(&j->diag, "; ");

		if (!why || !d->config_error || strcmp(why, d->config_error) != 0) {
			log_diag(LOG_ERR, &j->diag);
			if (d->snap) {
				char counts[CONFIG_COUNTS_MAX];

				config_counts(d->snap->config, counts);
				log_at(LOG_ERR, &(struct diag_at){.file = d->config_path},
				       "%s: config not applied; keeping generation %llu (%s, "
					  "%llu addresses)", d->config_path,
					  (unsigned long long)d->generation, counts,
					  (unsigned long long)d->snap->n_addresses);
			} else
				log_at(LOG_ERR, &(struct diag_at){.file = d->config_path},
				       "%s: config not applied; still serving nothing", d->config_path);
			free(d->config_error);
			d->config_error = TAKE_PTR(why);
			set_result(d, false, strdup(d->config_error ? d->config_error : "config error"));
		}
		control_reload_finished(d, rl->seq, false, d->config_error, NULL);
	} else if (j->r < 0) {
		log_error("reload failed: %s; keeping generation %llu", strerror(-j->r),
			  (unsigned long long)d->generation);
		set_result(d, false, strdup(strerror(-j->r)));
		control_reload_finished(d, rl->seq, false, d->last_reload_result, NULL);
	} else if (kind != RELOAD_FULL && j->snap->same && (!j->config_read || !d->config_error)) {
		/* (after a config error, the same config back is applied and said so) */
		j->snap = snapshot_free(j->snap); /* nothing changed */
		control_reload_finished(d, rl->seq, true, "no change", NULL);
	} else {
		log_diag(LOG_ERR, &j->diag);
		bool first = !d->snap;

		if (swap(d, j->snap, j) < 0) {
			log_error("reload: out of memory; keeping generation %llu",
				  (unsigned long long)d->generation);
			j->snap = snapshot_free(j->snap);
			control_reload_finished(d, rl->seq, false, "out of memory", NULL);
		} else {
			char *line = describe(d, j->snap);

			j->snap = NULL;
			if (j->config_read) { /* the config file is good again */
				d->config_error = mfree(d->config_error);
				d->startup_error = mfree(d->startup_error);
				log_set_level((int)d->snap->config->loglevel);
			}
			for (size_t i = 0; i < j->warnings.n_msgs; i++)
				log_warning("%s", j->warnings.msgs[i]);
			log_info("%s", line ? line : "reload applied");
			set_result(d, true, line);
			control_reload_finished(d, rl->seq, true, line, &j->diag);
			if (first)
				control_follow_config(d);
			applied = true;
		}
	}
	if (d->snap && (rl->reloading || applied)) {
		/* the first snapshot makes the service ready; later ones end a reload */
		reload_notify(d, !j->config_failed && j->r >= 0,
			      j->config_failed ? d->config_error : d->last_reload_result);
		rl->reloading = false;
	}
	job_clear(j);
	if (rl->pending) {
		rl->pending = false;
		start(d, rl->pending_kind);
	}
}

static int on_done(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct daemon *d = userdata;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return 0;
	if (d->reloader->busy) {
		struct timespec a, b, ca, cb;

		clock_gettime(CLOCK_MONOTONIC, &a);
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ca);
		finish(d);
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cb);
		clock_gettime(CLOCK_MONOTONIC, &b);
		log_debug("reload: %ld us on the loop to finish (%ld us of its CPU)",
			  (long)((b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000),
			  (long)((cb.tv_sec - ca.tv_sec) * 1000000 + (cb.tv_nsec - ca.tv_nsec) / 1000));
	}
	return 0;
}

int reload_init(struct daemon *d)
{
	struct reloader *rl = calloc(1, sizeof(*rl));
	int r;

	if (!rl)
		return -ENOMEM;
	rl->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (rl->efd < 0) {
		r = -errno;
		free(rl);
		return r;
	}
	r = sd_event_add_io(d->event, &rl->src, rl->efd, EPOLLIN, on_done, d);
	/* After the inotify sources: a write that overlapped the build (its events queued
	 * before the build ended) is known when finish() decides whether to keep it. */
	if (r >= 0)
		r = sd_event_source_set_priority(rl->src, SD_EVENT_PRIORITY_NORMAL + 5);
	if (r < 0) {
		sd_event_source_disable_unref(rl->src);
		close(rl->efd);
		free(rl);
		return r;
	}
	d->reloader = rl;
	return 0;
}

void reload_done(struct daemon *d)
{
	struct reloader *rl = d->reloader;

	if (!rl)
		return;
	if (rl->busy) {
		pthread_join(rl->thread, NULL);
		rl->job.snap = snapshot_free(rl->job.snap);
	}
	job_clear(&rl->job);
	watch_changes_clear(&rl->job.changes);
	free_strv(rl->job.hold);
	sd_event_source_disable_unref(rl->src);
	close(rl->efd);
	free(rl);
	d->reloader = NULL;
}
