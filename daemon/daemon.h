/* SPDX-License-Identifier: MIT */
/* Process-wide state of pdyndns: the live snapshot, rotation, counters. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "fileid.h"
#include "serving.h"

struct session;
struct hub;
struct watch;
struct control;
struct listener;
struct sharedrot;
struct buf;

struct daemon {
	sd_event *event;
	struct listener *listener;   /* socket mode, or NULL */
	struct sharedrot *sharedrot; /* coprocess mode, unless --no-shared-rotation; or NULL */
	struct hub *hub;	     /* the reloads' coordination (hub.h) */
	struct watch *watch;
	struct control *control;
	/* coprocess mode: appends a line for each other copy in the control directory and
	 * returns how many (ctldir_describe_copies()), for CMD status; NULL otherwise */
	size_t (*describe_copies)(const char *dir, struct buf *out);
	/* the pid of the copy that runs the health checks for this one, and this copy's role
	 * ("elected", "follower", "alone"); set by the hub */
	uint32_t (*health_prober)(const struct daemon *d, const char **role);
	char *control_dir;	 /* the control socket's directory in use */
	bool control_dir_forced; /* given by --control-dir: the config cannot change it */
	bool control_activated;	 /* the control socket came from systemd */
	char *control_group;	 /* the socket group in use, or NULL */
	char *config_path;
	struct file_id config_id; /* the config file as the first load read it */
	struct timespec config_read_at;
	char *startup_error; /* why sv.snap is NULL, one line */
	struct serving sv;   /* what the question path reads and counts (serving.h) */
	time_t started;

	/* the last reload, for status */
	time_t last_reload;
	bool last_reload_ok;
	char *last_reload_result; /* one line */
	char *config_error;	  /* the config's current problem (reported once), or NULL */

	/* Asks for a full reload (pdynctl reload) and returns its number, which
	 * control_reload_finished() reports; set by the hub. */
	uint64_t (*request_reload)(struct daemon *d, const char *why);
};

/* How the copy rotates, for status and metrics: "one" (socket mode: one daemon for every
 * PowerDNS thread), "shared" (coprocess mode: counters shared with the other copies), "own"
 * (this copy's own counters), NULL without a config. */
static inline const char *daemon_rotation(const struct daemon *d)
{
	return !d->sv.snap ? NULL : d->listener ? "one" : d->sv.rot.shared ? "shared" : "own";
}
