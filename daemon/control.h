/* SPDX-License-Identifier: MIT */
/* The control socket: a unix stream socket DIR/pdyndns.PID.sock that pdynctl talks to (see
 * common/ctlproto.h). Mode 0660; root and the daemon's own uid may do everything, members of
 * the socket's group may read status, everyone else is refused. Requests are capped in size,
 * idle clients are dropped, and nothing here ever blocks the loop: a status of any size is
 * built in slices between questions, as the client takes it.
 *
 * Clients with full rights and read-only ones have budgets of their own, so read-only ones
 * never keep root out: a read-only client beyond its budget closes the read-only client
 * idle longest (or is refused when every one has a request under way), also when fewer
 * than CONTROL_FD_RESERVE descriptors would be left; and when the process is out of
 * descriptors a read-only client is closed to let the next one in. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "ctlproto.h"

struct daemon;
struct diag;

#define CONTROL_DEFAULT_DIR  CTL_DEFAULT_DIR
#define CONTROL_MAX_CLIENTS  64 /* root and the daemon's user */
#define CONTROL_MAX_READONLY 32 /* members of the control group */
#define CONTROL_FD_RESERVE   16 /* descriptors read-only clients leave for the rest */
#define CONTROL_TIMEOUT_USEC (5 * 1000 * 1000)

/* Creates the directory if missing and binds the socket. Failing here is logged and leaves
 * the daemon without a control socket; it still answers PowerDNS. */
int control_init(struct daemon *d, const char *dir, const char *group);
/* The same on a listening socket systemd passed (named "control"). */
int control_init_fd(struct daemon *d, int fd);
void control_done(struct daemon *d);

struct buf;
/* For a copy that serves no question (pdnsutil backend-cmd starts one for its commands):
 * appends to out one line for each other copy with a live control socket in d's control
 * directory, with what it says of itself (generation, lookups, uptime), asked over its
 * socket with a short timeout, and returns how many there are. */
size_t control_describe_copies(const struct daemon *d, struct buf *out);

/* Called by the reloader when the reload numbered seq has finished: applied or not, its
 * one-line result, and the problems it found (may be NULL), which the reply carries line
 * by line. */
void control_reload_finished(struct daemon *d, uint64_t seq, bool applied, const char *result,
			     const struct diag *errors);
