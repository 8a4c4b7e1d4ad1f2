/* SPDX-License-Identifier: MIT */
/* The hub: wires the modules around the daemon's state. It asks the reload worker for a build
 * when the watch or a client says so (merging requests that come during one), applies what
 * the build made (swaps the snapshot and carries the rotation over, retires the old one,
 * re-arms the watch, answers waiting control clients, tells systemd), and moves the control
 * socket where the first good config says. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "daemon.h"
#include "reload.h"

/* Starts the reload worker and the watch, after the first load (d->sv.snap, d->config_id), on
 * d->event; asks for the first reload. */
int hub_start(struct daemon *d);
void hub_stop(struct daemon *d);
/* True when no build runs and none waits (tests wait for the first reload with it). */
bool hub_idle(const struct daemon *d);
/* Asks for a reload; returns at once, with the number of the reload that will cover the
 * request (control_reload_finished() reports it). */
uint64_t hub_reload(struct daemon *d, enum reload_kind kind, const char *why);
/* Socket mode under systemd: READY=1, with the state (or why the last reload failed) as
 * STATUS=. Does nothing in coprocess mode. */
void hub_notify(struct daemon *d, bool ok, const char *why);
/* Logs snapshot_warnings() for s: lists that are valid but serve nothing. */
void hub_log_warnings(const struct snapshot *s);
/* Coprocess mode: the copies of one PowerDNS elect one prober through dir and share its
 * findings (healthshare.h). Returns 0, or a negative errno, logged: this copy probes alone. */
int hub_share_health(struct daemon *d, const char *dir);
