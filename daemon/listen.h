/* SPDX-License-Identifier: MIT */
/* Socket mode: the pipe protocol on a unix stream socket. PowerDNS opens one connection per
 * backend thread (shared/pipe-protocol.md §1); each is a session of its own (HELO, ABI, the
 * per-question memory) while the rotation is the daemon's, shared by all. Everything runs on
 * one thread and nothing on it blocks: PowerDNS applies no timeout on this path. */
#pragma once

#include <systemd/sd-event.h>

#include "keeper.h"
#include "serving.h"
#include "session.h"

#define LISTEN_MAX_CONNS KEEPER_SLOTS

struct listener;

/* Serves on fd if it is >= 0 (a socket systemd passed), else binds path (a stale socket
 * there, one nobody accepts on, is replaced; anything else is an error), on event's loop.
 * Each connection is a session answering from sv, asking ops with userdata (session.h).
 * Returns 0 and *ret, or a negative errno with the reason logged. */
int listener_new(sd_event *event, const char *path, int fd, struct serving *sv,
		 const struct session_ops *ops, void *userdata, struct listener **ret);

/* The loop of socket mode, until SIGTERM or SIGINT: the connections are read straight from an
 * epoll of their own, which holds sd-event's fd too, so that a lookup costs one epoll_wait,
 * one read and one write, and sd-event runs only when it has something to do. */
int listener_run(struct listener *l);

/* Closes every connection and the socket; removes the path if pdyndns bound it. Returns
 * NULL. */
struct listener *listener_free(struct listener *l);
