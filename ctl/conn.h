/* SPDX-License-Identifier: MIT */
/* pdynctl's conversation with one copy over its control socket: connect and send a request,
 * then read the reply line by line, each piece within the timeout; what went wrong is kept
 * in an outcome, which decides the exit status. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_NO_DAEMON = 3,
	EXIT_DENIED = 4,
	EXIT_TIMEOUT = 5,
};

/* One copy being asked. */
struct conn {
	const char *path;
	int fd;
	char *buf;
	size_t start, len, cap; /* unread bytes: buf[start..len) */
	int timeout_ms;		/* --timeout: the longest wait for each piece */
	long long deadline;	/* ms: timeout_ms after the last byte received */
};

/* What one copy answered, as far as the exit status goes. */
struct outcome {
	int pid;
	int code;	   /* EXIT_* */
	char *error;	   /* why, when code != 0 */
	bool printed;	   /* the error was said already */
	int connect_errno; /* why connect() failed, or 0 */
};

/* Connects and sends the request. A full listen backlog (EAGAIN) is waited out until the
 * deadline: a daemon busy with other clients still takes this one in its turn. Returns 0,
 * or a negative errno with o set. */
int conn_open(struct conn *c, const char *path, const char *request, int timeout_ms,
	      struct outcome *o);
void conn_close(struct conn *c);

/* The next line of the reply, without its '\n': *line points into the connection's buffer
 * until the next call. Waits at most the timeout for each piece. Returns 0, or a negative
 * errno with o set: -ETIMEDOUT, -EMSGSIZE (a line over CTL_MAX_REPLY), -EPIPE (the reply
 * ended before its end). */
int conn_line(struct conn *c, char **line, size_t *n, struct outcome *o);

/* The next line of a stream (what: "status", "metrics", for the message): 0 with *item or
 * *end set (new references), or a negative errno with o set: the line could not be read, is
 * not a stream line, or is the daemon's error. */
int conn_item(struct conn *c, struct outcome *o, const char *what, json_object **item,
	      json_object **end);

/* o fails as EXIT_FAILED with the message (o->code is the caller's to set). */
_printf_(2, 3) void set_error(struct outcome *o, const char *fmt, ...);
/* o fails: the reply from path makes no sense (why). */
void malformed(struct outcome *o, const char *path, const char *why);
