/* SPDX-License-Identifier: MIT */
/* One pipe-protocol conversation with PowerDNS: reads lines from in_fd, answers on out_fd
 * with one write per batch of complete answers. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#include "answer.h"
#include "buf.h"
#include "daemon.h"

#define SESSION_MAX_LINE (64 * 1024) /* longer lines are discarded and answered FAIL */

struct session {
	struct daemon *d;
	int in_fd, out_fd;
	int abi; /* 0 until HELO */
	char *rbuf;
	size_t rlen;
	bool discarding; /* inside an over-long line */
	bool eof;
	struct buf out;
	struct answer_memo memo;
	sd_event_source *io;
};

int session_new(struct daemon *d, int in_fd, int out_fd, struct session **ret);
struct session *session_free(struct session *s);

/* Starts reading on the daemon's event loop; the loop exits at EOF. When in_fd cannot be
 * polled (a regular file), returns -EPERM and the caller uses session_run_blocking(). */
int session_attach(struct session *s);
/* Serves until EOF without an event loop. Returns 0 or a negative errno. */
int session_run_blocking(struct session *s);

/* Handles every complete line in data (used by the two above and by tests). Answers go to
 * s->out; call session_flush() to write them. */
void session_feed(struct session *s, const char *data, size_t len);
int session_flush(struct session *s);
