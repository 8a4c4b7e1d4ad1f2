/* SPDX-License-Identifier: MIT */
/* The control socket: a unix stream socket DIR/pdyndns.PID.sock that pdynctl talks to (see
 * common/ctlproto.h). Mode 0660; root and the daemon's own uid may do everything, members of
 * the socket's group may read status, everyone else is refused. Requests are capped in size,
 * idle clients are dropped, the number of clients is capped, and nothing here ever blocks
 * the loop. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct daemon;

#define CONTROL_DEFAULT_DIR "/run/pdyndns"
#define CONTROL_MAX_CLIENTS 64
#define CONTROL_TIMEOUT_USEC (5 * 1000 * 1000)

/* Creates the directory if missing and binds the socket. Failing here is logged and leaves
 * the daemon without a control socket; it still answers PowerDNS. */
int control_init(struct daemon *d, const char *dir, const char *group);
/* The same on a listening socket systemd passed (named "control"). */
int control_init_fd(struct daemon *d, int fd);
void control_done(struct daemon *d);

/* Called by the reloader when the reload numbered seq has finished. */
void control_reload_finished(struct daemon *d, uint64_t seq, bool applied, const char *result);
