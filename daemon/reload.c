/* SPDX-License-Identifier: MIT */
/* The reload worker (reload.h). */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "macro.h"
#include "reload.h"

struct reloader {
	int efd;
	sd_event_source *src;
	pthread_t thread;
	bool busy;
	struct reload_job *job;
	reloader_done_fn done;
	void *userdata;
};

/* Reads the config and builds on it: every list is looked at (re-read for a forced reload). */
static void build_whole(struct reload_job *j)
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
static void derive(struct reload_job *j, char *const *paths)
{
	static char *const none[] = {NULL}; /* (snapshot_derive() takes NULL for every file) */

	j->r = snapshot_derive(j->opts.prev, &j->opts, paths ? paths : none, &j->diag, &j->snap);
}

/* The way to some files changed: watch anew, and read again every file (the view prefix
 * files too) that is not the one read. */
static void rescan(struct reload_job *j)
{
	_cleanup_free_ const char **stale = NULL;
	size_t calls;

	j->new_plan = watchplan_new(j->config_path, j->opts.prev);
	stale = snapshot_stale(j->opts.prev, 0, j->opts.prev->n_handlers, &calls);
	derive(j, (char *const *)stale);
}

/* What the poll does: is the config or the way to a file not what was read or watched? Are
 * some lists (a slice of them each time, all while some directory is not watched)? */
static void poll_check(struct reload_job *j)
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
static void prepare_rotation(struct reload_job *j)
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
	/* the counters as they are while prev is live; a failure leaves it to swap() */
	j->metrics_shape = metrics_shape_of(prev);
	if (metrics_prepare(j->metrics_shape, s, j->map, j->n_map, &j->metrics_slots) < 0)
		j->metrics_slots = NULL;
	else
		j->n_metrics_slots = s->n_handlers;
}

void reload_job_clear(struct reload_job *j)
{
	j->new_plan = watchplan_free(j->new_plan);
	diag_clear(&j->diag);
	diag_clear(&j->warnings);
	rotation_done(&j->rot);
	metrics_slots_free(j->metrics_slots, j->n_metrics_slots);
	j->metrics_slots = NULL;
	j->n_metrics_slots = 0;
	j->map = mfree(j->map);
}

static void *worker(void *arg)
{
	struct reloader *rl = arg;
	struct reload_job *j = rl->job;
	const struct snapshot *prev = j->opts.prev;
	uint64_t one = 1;

	/* Lowest CPU weight: on a busy machine the loop, which answers questions, goes first
	 * (Linux applies a thread id given to setpriority() to that thread alone). */
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), 19);
	if (!prev || j->kind == RELOAD_FULL || j->changes.config)
		build_whole(j);
	else if ((j->kind == RELOAD_POLL || j->degraded) && !j->changes.rescan &&
		 !j->changes.replan && !j->changes.n)
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
		/* an event named these files: read them again even when their identity looks
		 * the same (a same-size rewrite within a filesystem's timestamp granularity) */
		j->opts.reuse_unchanged = false;
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

static int on_done(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct reloader *rl = userdata;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return 0;
	if (!rl->busy)
		return 0;
	pthread_join(rl->thread, NULL);
	rl->busy = false;
	rl->done(rl->userdata);
	return 0;
}

int reloader_new(sd_event *event, reloader_done_fn done, void *userdata, struct reloader **ret)
{
	struct reloader *rl = calloc(1, sizeof(*rl));
	int r;

	if (!rl)
		return -ENOMEM;
	rl->done = done;
	rl->userdata = userdata;
	rl->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (rl->efd < 0) {
		r = -errno;
		free(rl);
		return r;
	}
	r = sd_event_add_io(event, &rl->src, rl->efd, EPOLLIN, on_done, rl);
	/* After the inotify sources: a write that overlapped the build (its events queued
	 * before the build ended) is known when the hub decides whether to keep it. */
	if (r >= 0)
		r = sd_event_source_set_priority(rl->src, SD_EVENT_PRIORITY_NORMAL + 5);
	if (r < 0) {
		sd_event_source_disable_unref(rl->src);
		close(rl->efd);
		free(rl);
		return r;
	}
	*ret = rl;
	return 0;
}

struct reloader *reloader_free(struct reloader *rl)
{
	if (!rl)
		return NULL;
	if (rl->busy)
		pthread_join(rl->thread, NULL);
	sd_event_source_disable_unref(rl->src);
	close(rl->efd);
	free(rl);
	return NULL;
}

int reloader_start(struct reloader *rl, struct reload_job *j)
{
	int r;

	rl->job = j;
	r = pthread_create(&rl->thread, NULL, worker, rl);
	if (r != 0)
		return -r;
	rl->busy = true;
	return 0;
}

bool reloader_busy(const struct reloader *rl)
{
	return rl && rl->busy;
}
