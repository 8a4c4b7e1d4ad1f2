/* SPDX-License-Identifier: MIT */
/* A listening socket on the loop (the control socket, the pipe socket of socket mode).
 * Out of descriptors or memory, it stops accepting for 100 ms instead of spinning on a
 * readable socket it cannot accept from, says so once per episode and again when it accepts
 * again. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

struct acceptor {
	const char *what; /* for messages: "control", "pipe socket" */
	int fd;
	sd_event_source *src;
	sd_event_source *backoff;
	unsigned failures; /* accepts in a row that failed for want of descriptors or memory */
	uint64_t failed_since;
	bool (*make_room)(void *userdata); /* see acceptor_set_make_room() */
	void *room_userdata;
};

/* Watches the listening socket fd (made non-blocking) and calls on_ready when a client
 * waits; on_ready calls acceptor_accept(). Returns 0 or a negative errno, with nothing
 * left behind. */
int acceptor_init(struct acceptor *a, sd_event *e, int fd, const char *what,
		  sd_event_io_handler_t on_ready, void *userdata);
/* A new client's descriptor (non-blocking, close-on-exec), or -1 when there is none to take
 * now (then the pause, if any, is already set up). */
int acceptor_accept(struct acceptor *a);
/* Out of descriptors, make_room is asked to close one of the caller's own (a client that
 * may go) before the pause: when it returns true, the accept is tried again at once. */
void acceptor_set_make_room(struct acceptor *a, bool (*make_room)(void *userdata), void *userdata);
/* Stops watching; the socket itself is the caller's. */
void acceptor_done(struct acceptor *a);
