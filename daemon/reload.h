/* SPDX-License-Identifier: MIT */
/* Reloads, the worker's side: a thread builds a complete new snapshot (the config and the
 * lists a job names, or every one) while the loop keeps answering. The hub (hub.h) says
 * what to build and swaps the result in between two questions. One build at a time. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "diag.h"
#include "fileid.h"
#include "metrics.h"
#include "rotation.h"
#include "snapshot.h"
#include "watch.h"

enum reload_kind {
	RELOAD_CHANGED, /* something changed (inotify): re-read what changed */
	RELOAD_POLL,	/* safety poll: the same, silently when nothing changed */
	RELOAD_FULL,	/* SIGHUP: re-read every file */
};

/* One build: what it starts from (in), what it made (out). */
struct reload_job {
	/* in */
	const char *config_path;
	struct snapshot_opts opts;
	char **hold;
	enum reload_kind kind;
	struct watch_changes changes; /* what the watch saw change */
	const struct watchplan *plan; /* the watches armed now (read only) */
	bool degraded;		      /* some directory is not watched: check every file */
	size_t sweep_from, sweep_n;   /* the poll's slice of the handlers */
	bool config_broken;	      /* the config file as last read did not load */
	struct file_id config_id;     /* the config file as last read */
	struct timespec config_read_at;
	/* out */
	int r;
	bool config_failed;
	bool config_read; /* the config was read (config_id, config_read_at are new) */
	bool nothing;	  /* a poll that found nothing to read again */
	struct snapshot *snap;
	struct watchplan *new_plan; /* what to watch now, or NULL: the same */
	struct diag diag;
	struct diag warnings; /* snapshot_warnings() of snap */
	/* a snapshot built whole: its rotation, made ready off the loop (positions at 0), and
	 * prev's slot -> its slot + 1 (0: none), for the loop to carry the positions over */
	struct rotation rot;
	uint32_t *map;
	size_t n_map;
	/* ... and the counters' slots (metrics_prepare()) for counters of metrics_shape, or NULL */
	struct metrics_slot *metrics_slots;
	size_t n_metrics_slots;
	struct metrics_shape metrics_shape;
};

/* Frees what a finished job holds and nobody took (not the snapshot). */
void reload_job_clear(struct reload_job *j);

struct reloader;
/* Called on the loop once a build is done (the thread has ended). */
typedef void (*reloader_done_fn)(void *userdata);
int reloader_new(sd_event *event, reloader_done_fn done, void *userdata, struct reloader **ret);
/* Waits for a build under way; its job is then the caller's to clear. */
struct reloader *reloader_free(struct reloader *rl);
/* Builds j on a thread of its own; j must stay where it is until done() is called. Returns
 * 0, or a negative errno when no thread could start. */
int reloader_start(struct reloader *rl, struct reload_job *j);
bool reloader_busy(const struct reloader *rl);
