/* SPDX-License-Identifier: MIT */
/* The prober: the health checks of every checked handler ("health" in the config), run on
 * the sd-event loop and never on the question path. tcp is a non-blocking connect with its
 * own timer; http and https go through libcurl's multi interface driven by the loop
 * (CURLMOPT_SOCKETFUNCTION, CURLMOPT_TIMERFUNCTION); a state file is read again at each
 * interval when its identity changed (a poll: it is not in the inotify watch). A check that
 * hangs costs only its own timeout. Results go into the struct health the owner keeps (its
 * slots follow the snapshot: health_follow() before prober_apply()). */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "diag.h"
#include "health.h"
#include "healthfile.h"
#include "probertypes.h"
#include "snapshot.h"

struct prober;

/* A prober on event writing into state; nothing is checked before prober_apply(). Returns 0,
 * or a negative errno (libcurl could not start: -ENOMEM). */
int prober_new(sd_event *event, struct health *state, prober_changed_fn changed,
	       prober_file_fn file, void *userdata, struct prober **ret);
/* Stops every check. NULL is a no-op; returns NULL. */
struct prober *prober_free(struct prober *p);

/* Checks the handlers of s (the live snapshot until the next call): a handler whose list and
 * health settings are unchanged goes on where it was (its checks in flight, its next time),
 * any other starts at once; the checks of handlers gone are stopped. Returns 0 or -ENOMEM
 * (the handlers it could not set up go unchecked until the next call). */
int prober_apply(struct prober *p, const struct snapshot *s);

void prober_set_notify(struct prober *p, prober_notify_fn notify, void *userdata);

/* Whether the checks run. A new prober is not active: the owner decides (socket mode at
 * once; in coprocess mode, the copy that holds the health lock, healthshare.h). Activated,
 * every group checks at once, from the state it has; deactivated, the checks in flight are
 * dropped. */
void prober_set_active(struct prober *p, bool active);
bool prober_active(const struct prober *p);

/* The state of every checked address, as a health file (healthfile.h) in *buf (malloc'd,
 * *len bytes). Returns 0, -E2BIG (more than HEALTHFILE_MAX addresses) or -ENOMEM. */
int prober_export(const struct prober *p, uint64_t generation, uint32_t pid, void **buf,
		  size_t *len);

#define PROBER_MISSED_MAX 3 /* file reads without a handler's records before it is checked here */

/* Takes the states of the addresses of a health file h (healthfile_parse() accepted it) into
 * the state, by handler key and address: records of handlers or addresses this copy does not
 * have are skipped. A handler that PROBER_MISSED_MAX files in a row lacked (the prober's
 * config does not have it) is then checked by this copy even while it is not active.
 * Returns how many handlers that made local, or -ENOMEM (nothing taken). */
int prober_import(struct prober *p, const struct healthfile_header *h);
