/* SPDX-License-Identifier: MIT */
/* One copy being asked (conn.h). */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "ctlproto.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, short events, long long deadline_ms)
{
	struct pollfd p = {.fd = fd, .events = events};
	long long now = now_ms();
	int r;

	if (now >= deadline_ms)
		return -ETIMEDOUT;
	r = poll(&p, 1, (int)(deadline_ms - now));
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	return r == 0 ? -ETIMEDOUT : 0;
}

void set_error(struct outcome *o, const char *fmt, ...)
{
	va_list ap;

	free(o->error);
	va_start(ap, fmt);
	if (vasprintf(&o->error, fmt, ap) < 0)
		o->error = NULL;
	va_end(ap);
}

void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->buf = mfree(c->buf);
}

int conn_open(struct conn *c, const char *path, const char *request, int timeout_ms,
	      struct outcome *o)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t off = 0, reqlen = strlen(request);
	int r = 0;

	*c = (struct conn){
	    .path = path, .fd = -1, .timeout_ms = timeout_ms, .deadline = now_ms() + timeout_ms};
	if (strlen(path) >= sizeof(sa.sun_path)) {
		set_error(o, "%s: socket path too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	for (;;) {
		c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (c->fd < 0) {
			r = errno;
			break;
		}
		if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		r = errno;
		close(c->fd);
		c->fd = -1;
		if (r != EAGAIN || now_ms() >= c->deadline)
			break;
		usleep(2000);
		r = 0;
	}
	if (c->fd < 0) {
		o->connect_errno = r;
		o->code = r == EACCES || r == EPERM ? EXIT_DENIED
			  : r == EAGAIN		    ? EXIT_TIMEOUT
						    : EXIT_NO_DAEMON;
		set_error(o, "%s: %s", path,
			  r == ECONNREFUSED ? "nobody listens (a stale socket: its copy is gone)"
			  : r == EAGAIN	    ? "no room in its queue of new clients in time"
					    : strerror(r));
		return -r;
	}
	while (off < reqlen) {
		ssize_t n;

		if ((r = wait_fd(c->fd, POLLOUT, c->deadline)) < 0)
			goto fail;
		n = send(c->fd, request + off, reqlen - off, MSG_NOSIGNAL);
		/* a daemon that refuses at once ("too many clients") may have closed before the
		 * request went out: its reason is still there to be read */
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			break;
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			r = -errno;
			goto fail;
		}
		off += n > 0 ? (size_t)n : 0;
	}
	c->deadline = now_ms() + c->timeout_ms;
	return 0;
fail:
	o->code = r == -ETIMEDOUT ? EXIT_TIMEOUT : EXIT_FAILED;
	set_error(o, "%s: %s", path, r == -ETIMEDOUT ? "no reply in time" : strerror(-r));
	return r;
}

int conn_line(struct conn *c, char **line, size_t *n, struct outcome *o)
{
	for (;;) {
		char *nl =
		    c->len > c->start ? memchr(c->buf + c->start, '\n', c->len - c->start) : NULL;
		ssize_t got;
		int r;

		if (nl) {
			*line = c->buf + c->start;
			*n = (size_t)(nl - *line);
			c->start = (size_t)(nl - c->buf) + 1;
			return 0;
		}
		if (c->start) {
			memmove(c->buf, c->buf + c->start, c->len - c->start);
			c->len -= c->start;
			c->start = 0;
		}
		if (c->len > CTL_MAX_REPLY) {
			o->code = EXIT_FAILED;
			set_error(o, "%s: reply line longer than %d bytes", c->path, CTL_MAX_REPLY);
			return -EMSGSIZE;
		}
		if (c->cap - c->len < 65536) {
			size_t cap = c->cap ? c->cap * 2 : 131072;
			char *p;

			if (cap > CTL_MAX_REPLY + 65537)
				cap = CTL_MAX_REPLY + 65537;
			p = realloc(c->buf, cap);
			if (!p) {
				o->code = EXIT_FAILED;
				set_error(o, "%s: out of memory", c->path);
				return -ENOMEM;
			}
			c->buf = p;
			c->cap = cap;
		}
		if ((r = wait_fd(c->fd, POLLIN, c->deadline)) < 0) {
			o->code = r == -ETIMEDOUT ? EXIT_TIMEOUT : EXIT_FAILED;
			set_error(o, "%s: %s", c->path,
				  r == -ETIMEDOUT ? "no reply in time" : strerror(-r));
			return r;
		}
		got = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (got < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (got <= 0) {
			o->code = EXIT_FAILED;
			if (got < 0 && errno != ECONNRESET)
				set_error(o, "%s: %s", c->path, strerror(errno));
			else
				set_error(o, "%s: the reply ended %s", c->path,
					  c->len ? "in the middle of a line" : "early");
			return -EPIPE;
		}
		c->len += (size_t)got;
		c->deadline = now_ms() + c->timeout_ms;
	}
}

void malformed(struct outcome *o, const char *path, const char *why)
{
	o->code = EXIT_FAILED;
	set_error(o, "malformed reply from %s: %s", path, why);
}

int conn_item(struct conn *c, struct outcome *o, const char *what, json_object **item,
	      json_object **end)
{
	char *line, *err = NULL, why[128];
	size_t n;
	int r;

	*item = *end = NULL;
	if ((r = conn_line(c, &line, &n, o)) < 0)
		return r;
	if (ctl_stream_decode(line, n, item, end, &err) < 0) {
		snprintf(why, sizeof(why),
			 "a line of the %s stream is not an item, its end or an error", what);
		malformed(o, c->path, why);
		return -EBADMSG;
	}
	if (err) {
		o->code = EXIT_FAILED;
		set_error(o, "%s", err);
		free(err);
		return -EREMOTEIO;
	}
	return 0;
}
