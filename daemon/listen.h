/* SPDX-License-Identifier: MIT */
/* Socket mode: the pipe protocol on a unix stream socket. PowerDNS opens one connection per
 * backend thread (shared/pipe-protocol.md §1); each is a session of its own (HELO, ABI, the
 * per-question memory) while the rotation is the daemon's, shared by all. Everything runs on
 * the sd-event loop and nothing on it blocks: PowerDNS applies no timeout on this path. */
#pragma once

#include "daemon.h"

#define LISTEN_MAX_CONNS 1024

/* Serves on fd if it is >= 0 (a socket systemd passed), else binds path (a stale socket
 * there, one nobody accepts on, is replaced; anything else is an error). Returns 0 or a
 * negative errno, with the reason logged. */
int listen_init(struct daemon *d, const char *path, int fd);

/* Closes every connection and the socket; removes the path if pdyndns bound it. */
void listen_done(struct daemon *d);
