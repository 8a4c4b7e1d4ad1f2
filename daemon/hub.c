/* SPDX-License-Identifier: MIT */
/* The hub (hub.h): what to reload and when, and applying what a build made. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "ctlcmd.h"
#include "healthshare.h"
#include "hub.h"
#include "log.h"
#include "macro.h"
#include "pipeproto.h"
#include "prober.h"
#include "reaper.h"
#include "reload.h"
#include "session.h"
#include "sharedrot.h"
#include "status.h"
#include "watch.h"

#define MAX_DISCARDED 3 /* builds in a row thrown away because files changed under them */

/* The hub's own state. */
struct hub {
	struct reloader *reloader;
	struct reload_job job;
	bool pending;
	enum reload_kind pending_kind;
	uint64_t seq;		  /* number of the last reload started */
	uint64_t started;	  /* when the running build started (loop clock, usec) */
	uint64_t began;		  /* when the reload began (mono_usec()), for the metrics */
	unsigned discarded;	  /* builds in a row thrown away because files changed under them */
	bool reloading;		  /* RELOADING=1 was sent for the running build */
	struct file_id config_id; /* the config file as last read, for the poll */
	struct timespec config_read_at;
	size_t sweep_next;	   /* the poll's next slice */
	struct prober *prober;	   /* the health checks */
	struct healthshare *share; /* coprocess mode: one prober among the copies, or NULL */
};

void hub_notify(struct daemon *d, bool ok, const char *why)
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
	struct hub *rl = d->hub;
	size_t n = d->sv.snap ? d->sv.snap->n_handlers : 0;
	int r;

	free_strv(rl->job.hold);
	rl->job = (struct reload_job){
	    .config_path = d->config_path,
	    .opts = {.prev = d->sv.snap,
		     .reuse_unchanged = kind != RELOAD_FULL,
		     .keep_prev_on_error = true},
	    .kind = kind,
	    .plan = watch_plan(d->watch),
	    .degraded = watch_degraded(d->watch) || watch_take_check_all(d->watch),
	    .config_broken = d->config_error && d->sv.snap,
	    .config_id = rl->config_id,
	    .config_read_at = rl->config_read_at,
	};
	watch_take_changes(d->watch, &rl->job.changes);
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
	rl->job.hold = watch_held_paths(d->watch);
	rl->job.opts.hold_paths = rl->job.hold;
	diag_init(&rl->job.diag);
	diag_init(&rl->job.warnings);
	r = reloader_start(rl->reloader, &rl->job);
	if (r < 0) {
		log_error(
		    "reload: cannot start the worker thread: %s; will retry at the next change",
		    strerror(-r));
		watch_give_back(d->watch, &rl->job.changes);
		return;
	}
	rl->seq++;
	rl->started = watch_now(d->watch);
	if (!rl->discarded)
		rl->began =
		    mono_usec(); /* a build again after a discarded one is the same reload */
	if (kind != RELOAD_POLL && !rl->reloading && d->listener && d->sv.snap) {
		(void)sd_notify(0, "RELOADING=1");
		rl->reloading = true;
	}
}

bool hub_idle(const struct daemon *d)
{
	return !d->hub || (!reloader_busy(d->hub->reloader) && !d->hub->pending);
}

uint64_t hub_reload(struct daemon *d, enum reload_kind kind, const char *why)
{
	struct hub *rl = d->hub;

	if (kind != RELOAD_POLL)
		log_debug("reload requested: %s", why);
	if (reloader_busy(rl->reloader)) {
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

static void free_snapshot(void *p)
{
	snapshot_free(p);
}

/* Frees a retired snapshot away from the loop; returns NULL. Also a built one not applied:
 * a snapshot derived from a live one of 100,000 handlers costs about 1.8 ms to free. */
static struct snapshot *retire(struct snapshot *old)
{
	reap(free_snapshot, old);
	return NULL;
}

/* The health state and the checks follow the live snapshot, which replaced old (or NULL). */
static void follow_health(struct daemon *d, const struct snapshot *old)
{
	if (health_follow(&d->sv.health, old, d->sv.snap, time(NULL)) < 0)
		log_error(
		    "health: out of memory; some handlers go unchecked and serve every address");
	if (d->hub->prober && prober_apply(d->hub->prober, d->sv.snap) < 0)
		log_error(
		    "health: out of memory; some handlers go unchecked and serve every address");
	if (d->hub->share)
		healthshare_apply(d->hub->share, d->sv.snap && d->sv.snap->config->n_health > 0);
}

/* Which copy probes (daemon.health_prober). */
static uint32_t health_prober(const struct daemon *d, const char **role)
{
	const struct hub *h = d->hub;

	if (!h || !h->share) {
		*role = "single"; /* socket mode: the one process probes */
		return (uint32_t)getpid();
	}
	*role = healthshare_role(h->share);
	return healthshare_prober(h->share);
}

int hub_share_health(struct daemon *d, const char *dir)
{
	struct hub *h = d->hub;
	int r;

	if (!h || !h->prober || h->share)
		return 0;
	r = healthshare_new(d->event, dir, h->prober, &h->share);
	if (r < 0) {
		log_warning("health: cannot share the checks through %s: %s; this copy checks its "
			    "addresses itself",
			    dir, strerror(-r));
		return r;
	}
	healthshare_apply(h->share, d->sv.snap && d->sv.snap->config->n_health > 0);
	return 0;
}

/* An address changed state (prober_changed_fn): said once, with its handler and why. */
static void on_health_changed(void *userdata, const struct handler *h, const char *addr, bool up,
			      const struct health_addr *a, const struct health_slot *s,
			      bool flapping, uint32_t quiet)
{
	const char *type = pp_type_name(h->cfg->qtype);
	uint32_t n_up = s->n - s->n_down;
	char before[64] = "";

	(void)userdata;
	if (quiet)
		snprintf(before, sizeof(before), " (after %u changes not logged)", quiet);
	log_at(
	    up ? LOG_NOTICE : LOG_WARNING, &(struct diag_at){.qname = h->cfg->qname, .qtype = type},
	    "health: %s %s %s is %s%s: %s (%u %s check%s in a row); %u of %u up%s%s", h->cfg->qname,
	    type, addr, up ? "up" : "down", before, a->reason, up ? a->good : a->bad,
	    up ? "good" : "bad", (up ? a->good : a->bad) == 1 ? "" : "s", n_up, s->n,
	    n_up			    ? ""
	    : h->cfg->health->all_down_none ? "; all down: answering none"
					    : "; all down: answering all of them",
	    flapping ? "; it flaps: its next changes this minute are not logged" : "");
}

/* A state file's problem, or its end (prober_file_fn). */
static void on_state_file(void *userdata, const struct handler *h, const char *path,
			  const struct diag *d)
{
	const char *type = pp_type_name(h->cfg->qtype);
	const struct diag_at at = {.file = path, .qname = h->cfg->qname, .qtype = type};

	(void)userdata;
	if (!d) {
		log_at(LOG_NOTICE, &at, "health: %s: state file taken again for %s %s", path,
		       h->cfg->qname, type);
		return;
	}
	log_diag(LOG_ERR, d);
	log_at(LOG_ERR, &at, "health: %s: state file not taken; %s %s keeps the states it had",
	       path, h->cfg->qname, type);
}

/* Makes snap live: rotation carries over for unchanged lists, restarts for changed ones. A
 * snapshot derived from the live one keeps every slot, so only the handlers it looked at
 * again are touched. */
static int swap(struct daemon *d, struct snapshot *snap, struct reload_job *j)
{
	struct rotation rot;
	struct metrics_slot *slots;
	_cleanup_free_ uint32_t *map = NULL; /* old slot -> new slot + 1 */
	size_t n_old = d->sv.snap ? d->sv.snap->n_handlers : 0;
	struct snapshot *old = d->sv.snap;

	if (old && snap->checked && snap->base == old->base) {
		for (size_t k = 0; k < snap->n_checked; k++) {
			uint32_t i = snap->checked[k];

			if (snap->handlers[i].carry_from >= 0)
				continue;
			d->sv.rot.next[i] = 0; /* a new list starts at its first address */
			/* (out of memory, the slot counts no address: nothing is half applied) */
			(void)metrics_slot_reset(&d->sv.metrics, snap, i);
			for (struct session *s = d->sv.sessions; s; s = s->next)
				answer_memo_forget(&s->memo, i);
		}
		/* the handlers looked at again, and only they, find their counters again */
		if (d->sharedrot)
			sharedrot_attach_slots(d->sharedrot, snap, &d->sv.rot, old, snap->checked,
					       snap->n_checked);
	} else {
		if (j && j->map && j->n_map == n_old && j->rot.n == snap->n_handlers) {
			/* prepared by the worker: only the positions are the loop's */
			rot = j->rot;
			j->rot = (struct rotation){0};
			map = TAKE_PTR(j->map);
			rot.rng = d->sv.rot.rng ? d->sv.rot.rng : rot.rng;
			for (size_t k = 0; k < n_old && k < d->sv.rot.n; k++)
				if (map[k])
					rot.next[map[k] - 1] = d->sv.rot.next[k];
		} else {
			map = calloc(n_old ? n_old : 1, sizeof(*map));
			if (!map || snapshot_rotation(snap, &d->sv.rot, n_old, &rot, map) < 0)
				return -ENOMEM;
		}
		if (j && j->metrics_slots &&
		    metrics_shape_equal(j->metrics_shape, metrics_shape(&d->sv.metrics))) {
			slots = TAKE_PTR(j->metrics_slots); /* prepared by the worker */
		} else if (metrics_prepare(metrics_shape(&d->sv.metrics), snap, map, n_old,
					   &slots) < 0) {
			rotation_done(&rot);
			return -ENOMEM;
		}
		if (d->sharedrot && sharedrot_attach_carried(d->sharedrot, snap, &rot, &d->sv.rot,
							     map, n_old) < 0) {
			metrics_slots_free(slots, snap->n_handlers);
			rotation_done(&rot);
			return -ENOMEM;
		}
		metrics_carry(&d->sv.metrics, snap, slots, map, n_old);
		for (struct session *s = d->sv.sessions; s; s = s->next)
			answer_memo_remap(&s->memo, map, n_old);
		rotation_done(&d->sv.rot);
		d->sv.rot = rot;
	}
	d->sv.snap = snap;
	d->sv.generation++;
	log_set_generation(d->sv.generation);
	follow_health(d, old);
	retire(old);
	return 0;
}

void hub_log_warnings(const struct snapshot *s)
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
		     (unsigned long long)d->sv.generation, s->config->domain, counts,
		     (unsigned long long)s->n_addresses, s->n_new, s->n_kept,
		     s->n_failed + s->n_drained,
		     /* " (N with every weight 0)" (%.0zu prints nothing for 0) */
		     s->n_drained ? " (" : "", s->n_drained,
		     s->n_drained ? " with every weight 0)" : "") < 0)
		return NULL;
	return line;
}

/* A change that cannot be applied live, or NULL. */
static char *needs_restart(const struct daemon *d, const struct config *c)
{
	const char *want = c->control_dir ? c->control_dir : CONTROL_DEFAULT_DIR;
	char *why = NULL;

	if (!d->sv.snap)
		return NULL; /* nothing served yet: the control socket moves with the first config
			      */
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

/* Answers the pdynctl clients waiting for this reload. */
static void answer_reload(struct daemon *d, bool applied, const char *result,
			  const struct diag *errors)
{
	_cleanup_free_ char *reply = NULL;

	if (!control_waits_for(d->control, d->hub->seq))
		return;
	reply = ctlcmd_reload_reply(d, applied, result, errors);
	control_reload_finished(d->control, d->hub->seq, reply);
}

/* The first config that loads (after a broken one at start) decides the control socket. */
static void control_follow_config(struct daemon *d)
{
	const struct config *c = d->sv.snap->config;
	const char *dir = d->control_dir_forced ? d->control_dir
			  : c->control_dir	? c->control_dir
						: CONTROL_DEFAULT_DIR;

	if (d->control_activated || (d->control && strcmp(dir, d->control_dir) == 0 &&
				     same_str(c->control_group, d->control_group)))
		return;
	d->control = control_free(d->control);
	free(d->control_group);
	d->control_group = c->control_group ? strdup(c->control_group) : NULL;
	if (dir != d->control_dir) {
		free(d->control_dir);
		d->control_dir = strdup(dir);
	}
	(void)control_new(d->event, d->control_dir, d->control_group, &ctlcmd_ops, d, &d->control);
}

static void finish(struct daemon *d)
{
	struct hub *rl = d->hub;
	struct reload_job *j = &rl->job;
	enum reload_kind kind = j->kind;
	_cleanup_free_ char *restart = NULL;
	bool applied = false;
	enum metrics_reload result = METRICS_RELOAD_KEPT;

	if (rl->discarded < MAX_DISCARDED && !j->nothing && (j->r >= 0 || j->config_failed) &&
	    watch_last_event(d->watch) > rl->started) {
		/* A file this build may have read changed while it was read: throw it away quietly
		 * and build again (what it was to look at too), a bounded number of times in a row.
		 */
		log_debug("reload: a file changed while it was read; building again");
		rl->discarded++;
		j->snap = retire(j->snap);
		reload_job_clear(j);
		watch_give_back(d->watch, &j->changes);
		rl->pending = false;
		start(d, kind == RELOAD_FULL || rl->pending_kind == RELOAD_FULL ? RELOAD_FULL
										: RELOAD_CHANGED);
		return;
	}
	rl->discarded = 0;
	watch_changes_clear(&j->changes);
	if (j->config_read) {
		rl->config_id = j->config_id;
		rl->config_read_at = j->config_read_at;
	}
	if (j->new_plan)
		watch_apply(d->watch, TAKE_PTR(j->new_plan));
	if (!j->nothing && !j->config_failed && j->r >= 0 &&
	    (restart = needs_restart(d, j->snap->config))) {
		diag_clear(&j->diag);
		diag_add(&j->diag, "%s", restart);
		j->snap = retire(j->snap);
		j->config_failed = true;
	}

	if (j->nothing) {
		answer_reload(d, true, "no change", NULL);
	} else if (j->config_failed) {
		result = METRICS_RELOAD_REFUSED;
		_cleanup_free_ char *why = diag_join(&j->diag, "; ");

		if (!why || !d->config_error || strcmp(why, d->config_error) != 0) {
			log_diag(LOG_ERR, &j->diag);
			if (d->sv.snap) {
				char counts[CONFIG_COUNTS_MAX];

				config_counts(d->sv.snap->config, counts);
				log_at(LOG_ERR, &(struct diag_at){.file = d->config_path},
				       "%s: config not applied; keeping generation %llu (%s, "
				       "%llu addresses)",
				       d->config_path, (unsigned long long)d->sv.generation, counts,
				       (unsigned long long)d->sv.snap->n_addresses);
			} else
				log_at(LOG_ERR, &(struct diag_at){.file = d->config_path},
				       "%s: config not applied; still serving nothing",
				       d->config_path);
			free(d->config_error);
			d->config_error = TAKE_PTR(why);
			set_result(d, false,
				   strdup(d->config_error ? d->config_error : "config error"));
		}
		answer_reload(d, false, d->config_error, NULL);
	} else if (j->r < 0) {
		result = METRICS_RELOAD_REFUSED;
		log_error("reload failed: %s; keeping generation %llu", strerror(-j->r),
			  (unsigned long long)d->sv.generation);
		set_result(d, false, strdup(strerror(-j->r)));
		answer_reload(d, false, d->last_reload_result, NULL);
	} else if (kind != RELOAD_FULL && j->snap->same && (!j->config_read || !d->config_error)) {
		/* (after a config error, the same config back is applied and said so) */
		j->snap = retire(j->snap); /* nothing changed */
		answer_reload(d, true, "no change", NULL);
	} else {
		log_diag(LOG_ERR, &j->diag);
		bool first = !d->sv.snap;

		if (swap(d, j->snap, j) < 0) {
			log_error("reload: out of memory; keeping generation %llu",
				  (unsigned long long)d->sv.generation);
			j->snap = retire(j->snap);
			result = METRICS_RELOAD_REFUSED;
			answer_reload(d, false, "out of memory", NULL);
		} else {
			char *line = describe(d, j->snap);

			j->snap = NULL;
			if (j->config_read) { /* the config file is good again */
				d->config_error = mfree(d->config_error);
				d->startup_error = mfree(d->startup_error);
				log_set_level((int)d->sv.snap->config->loglevel);
			}
			for (size_t i = 0; i < j->warnings.n_msgs; i++)
				log_warning("%s", j->warnings.msgs[i]);
			log_info("%s", line ? line : "reload applied");
			set_result(d, true, line);
			answer_reload(d, true, line, &j->diag);
			if (first)
				control_follow_config(d);
			applied = true;
			result = METRICS_RELOAD_APPLIED;
		}
	}
	/* a poll counts only when it applied something: it runs whether or not anything changed */
	if (kind != RELOAD_POLL || applied)
		metrics_reload(&d->sv.metrics, result, mono_usec() - rl->began);
	if (d->sv.snap && (rl->reloading || applied)) {
		/* the first snapshot makes the service ready; later ones end a reload */
		hub_notify(d, !j->config_failed && j->r >= 0,
			   j->config_failed ? d->config_error : d->last_reload_result);
		rl->reloading = false;
	}
	reload_job_clear(j);
	if (rl->pending) {
		rl->pending = false;
		start(d, rl->pending_kind);
	}
}

/* The worker is done: apply what it built (reloader_done_fn). */
static void on_built(void *userdata)
{
	struct daemon *d = userdata;
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

/* The watch asks for a reload (watch_changed_fn). */
static void on_changed(void *userdata, bool poll, const char *why)
{
	(void)hub_reload(userdata, poll ? RELOAD_POLL : RELOAD_CHANGED, why);
}

static uint64_t on_control_reload(struct daemon *d, const char *why)
{
	return hub_reload(d, RELOAD_FULL, why);
}

int hub_start(struct daemon *d)
{
	struct hub *h = calloc(1, sizeof(*h));
	int r;

	if (!h)
		return -ENOMEM;
	d->hub = h;
	d->request_reload = on_control_reload;
	h->config_id = d->config_id;
	h->config_read_at = d->config_read_at;
	r = reloader_new(d->event, on_built, d, &h->reloader);
	if (r >= 0)
		r = watch_new(d->event, d->config_path, on_changed, d, &d->watch);
	if (r >= 0)
		r = prober_new(d->event, &d->sv.health, on_health_changed, on_state_file, d,
			       &h->prober);
	if (r < 0)
		return r;
	d->health_prober = health_prober;
	prober_set_active(h->prober, true); /* until hub_share_health() */
	if (d->sv.snap)
		follow_health(d, NULL);
	watch_start(d->watch, d->sv.snap);
	return 0;
}

void hub_stop(struct daemon *d)
{
	struct hub *h = d->hub;

	if (!h)
		return;
	d->watch = watch_free(d->watch);
	h->share = healthshare_free(h->share);
	h->prober = prober_free(h->prober);
	/* a build under way is waited for, and what it made is dropped */
	h->reloader = reloader_free(h->reloader);
	h->job.snap = snapshot_free(h->job.snap);
	reload_job_clear(&h->job);
	watch_changes_clear(&h->job.changes);
	free_strv(h->job.hold);
	free(h);
	d->hub = NULL;
}
