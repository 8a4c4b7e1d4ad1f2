/* SPDX-License-Identifier: MIT */
/* Process-wide state of pdyndns: the live snapshot, rotation, counters. */
#pragma once

#include <stdint.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "rotation.h"
#include "snapshot.h"

struct daemon {
	sd_event *event;
	char *config_path;
	struct snapshot *snap;  /* live snapshot; NULL when the config never loaded */
	char *startup_error;    /* why snap is NULL, one line */
	struct rotation rot;
	uint64_t generation;
	time_t started;
	uint64_t questions;     /* Q lines answered, all sessions */
};

/* One line describing the state, for the HELO banner and CMD status (malloc'd). */
char *daemon_status_line(const struct daemon *d);
