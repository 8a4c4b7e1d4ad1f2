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

#include <systemd/sd-event.h>

struct buf;
struct control;
struct status_stream;

/* What a request gets from the commands (ctlcmd.h): one reply line (taken over), or a stream
 * whose first line that is, filled slice by slice as the client takes it, or the number of
 * a reload to wait for (answered by control_reload_finished()). */
struct control_answer {
	char *line;
	struct status_stream *stream;
	uint64_t wait_reload;
};

struct control_ops {
	/* Answers req (whose strings it may take over), from a client allowed to make it. */
	void (*handle)(void *userdata, struct ctl_request *req, struct control_answer *a);
	/* Appends one slice of st to out; true once it is complete. */
	bool (*fill)(void *userdata, struct status_stream *st, struct buf *out);
	void (*drop)(struct status_stream *st);
	/* A client was turned away (no rights, or over its budget). */
	void (*refused)(void *userdata);
};

#define CONTROL_DEFAULT_DIR  CTL_DEFAULT_DIR
#define CONTROL_MAX_CLIENTS  64 /* root and the daemon's user */
#define CONTROL_MAX_READONLY 32 /* members of the control group */
#define CONTROL_FD_RESERVE   16 /* descriptors read-only clients leave for the rest */
#define CONTROL_TIMEOUT_USEC (5 * 1000 * 1000)
#define CONTROL_CHECK_USEC   (2 * 1000 * 1000) /* how often the socket's name is looked at */

/* Creates the directory if missing and binds the socket DIR/pdyndns.PID.sock, served on
 * event's loop with ops and userdata. Failing here is logged and leaves the daemon without
 * a control socket; it still answers PowerDNS. Returns 0 and *ret, or a negative errno.
 *
 * Every CONTROL_CHECK_USEC the socket's name is looked at (one lstat(2)): when it no longer
 * leads to this socket (removed, replaced, its directory removed or made again), that is
 * logged once and the socket is bound again the same way, the directory created if missing
 * (a file that is not a socket at its name is left alone: bound once it is gone). */
int control_new(sd_event *event, const char *dir, const char *group, const struct control_ops *ops,
		void *userdata, struct control **ret);
/* The same on a listening socket systemd passed (named "control"). Its name is systemd's:
 * when it is removed or replaced, that is logged once and nothing else is done. */
int control_new_fd(sd_event *event, int fd, const struct control_ops *ops, void *userdata,
		   struct control **ret);
/* Closes every client and the socket, and removes the socket's name if it still leads to
 * this socket (never systemd's); returns NULL. */
struct control *control_free(struct control *ctl);

/* Whether a client waits for the reload numbered seq (or an earlier one). */
bool control_waits_for(const struct control *ctl, uint64_t seq);
/* The reload numbered seq has finished: each client waiting for it (or an earlier one) gets
 * reply, a response line (NULL: out of memory, said as such). */
void control_reload_finished(struct control *ctl, uint64_t seq, const char *reply);
