/* SPDX-License-Identifier: MIT */
/* Socket mode: the pipe protocol on a unix stream socket. PowerDNS opens one connection per
 * backend thread (shared/pipe-protocol.md §1); each is a session of its own (HELO, ABI, the
 * per-question memory) while the rotation is the daemon's, shared by all. Everything runs on
 * one thread and nothing on it blocks: PowerDNS applies no timeout on this path. */
#pragma once

#include "daemon.h"

#define LISTEN_MAX_CONNS 1024

/* Serves on fd if it is >= 0 (a socket systemd passed), else binds path (a stale socket
 * there, one nobody accepts on, is replaced; anything else is an error). Returns 0 or a
 * negative errno, with the reason logged. */
int listen_init(struct daemon *d, const char *path, int fd);

/* The loop of socket mode, until SIGTERM or SIGINT: the connections are read straight from an
 * epoll of their own, which holds sd-event's fd too, so that a lookup costs one epoll_wait,
 * one read and one write, and sd-event runs only when it has something to do. */
int listen_run(struct daemon *d);

/* Closes every connection and the socket; removes the path if pdyndns bound it. */
void listen_done(struct daemon *d);
