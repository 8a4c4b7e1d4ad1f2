/* SPDX-License-Identifier: MIT */
/* Process-wide state of pdyndns: the live snapshot, rotation, counters. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "fileid.h"
#include "health.h"
#include "metrics.h"
#include "rotation.h"
#include "snapshot.h"

struct session;
struct hub;
struct watch;
struct control;
struct listener;
struct sharedrot;
struct buf;

struct daemon {
	sd_event *event;
	struct session *session; /* the pipe sessions: stdin/stdout, or one per socket connection */
	struct listener *listener;   /* socket mode, or NULL */
	struct sharedrot *sharedrot; /* --shared-rotation (coprocess mode), or NULL */
	struct hub *hub;	     /* the reloads' coordination (hub.h) */
	struct watch *watch;
	struct control *control;
	/* coprocess mode: appends a line for each other copy in the control directory and
	 * returns how many (control_describe_copies()), for CMD status; NULL otherwise */
	size_t (*describe_copies)(const struct daemon *d, struct buf *out);
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
	struct snapshot *snap; /* live snapshot; NULL when the config never loaded */
	char *startup_error;   /* why snap is NULL, one line */
	struct rotation rot;
	struct metrics metrics; /* counters for pdynctl metrics, per slot like rot */
	struct health health;	/* of the checked handlers' addresses (prober.h), by slot */
	uint64_t generation;
	time_t started;
	uint64_t lookups;  /* Q lines answered, all sessions (PowerDNS asks several per question) */
	uint64_t stalls;   /* per question: lookups that began a question without its SOA
			    * lookups, and SOA walks cut short (answer.h), all sessions */
	bool stall_warned; /* the warning about it is logged once */

	/* the last reload, for status */
	time_t last_reload;
	bool last_reload_ok;
	char *last_reload_result; /* one line */
	char *config_error;	  /* the config's current problem (reported once), or NULL */

	/* Asks for a full reload (pdynctl reload) and returns its number, which
	 * control_reload_finished() reports; set by the hub. */
	uint64_t (*request_reload)(struct daemon *d, const char *why);
};
