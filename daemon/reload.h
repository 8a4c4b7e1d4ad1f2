/* SPDX-License-Identifier: MIT */
/* Reloads: a worker thread builds a complete new snapshot (config plus every address list)
 * while the loop keeps answering; the loop then swaps one pointer between two questions.
 * One build runs at a time; requests during a build are merged into one more build. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct daemon;

enum reload_kind {
	RELOAD_CHANGED, /* something changed (inotify): re-read what changed */
	RELOAD_POLL,    /* safety poll: the same, silently when nothing changed */
	RELOAD_FULL,    /* SIGHUP: re-read every file */
};

int reload_init(struct daemon *d);
void reload_done(struct daemon *d);
/* The config file as the first load read it (the poll reads it again once it changed). */
struct file_id;
struct timespec;
void reload_config_read(struct daemon *d, const struct file_id *id, const struct timespec *read_at);
/* Asks for a reload; returns at once, with the number of the reload that will cover the
 * request (control_reload_finished() reports it). */
uint64_t reload_request(struct daemon *d, enum reload_kind kind, const char *why);
/* Socket mode under systemd: READY=1, with the state (or why the last reload failed) as
 * STATUS=. Does nothing in coprocess mode. */
void reload_notify(struct daemon *d, bool ok, const char *why);
/* Logs snapshot_warnings() for s: lists that are valid but serve nothing. */
void reload_log_warnings(const struct snapshot *s);
