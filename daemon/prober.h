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
#include "snapshot.h"

struct prober;

/* Address addr (text) of handler h went up or down (a's reason says why); the slot s says
 * how many are up now. Called for the changes to log (health_log_change()): flapping says
 * that the next ones of the address in this window are not, quiet how many of the window
 * before were not. */
typedef void (*prober_changed_fn)(void *userdata, const struct handler *h, const char *addr,
				  bool up, const struct health_addr *a, const struct health_slot *s,
				  bool flapping, uint32_t quiet);
/* The state file of handler h could not be taken (why in d; the previous states are kept),
 * or, with d NULL, is taken again after such a problem. */
typedef void (*prober_file_fn)(void *userdata, const struct handler *h, const char *path,
			       const struct diag *d);

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
