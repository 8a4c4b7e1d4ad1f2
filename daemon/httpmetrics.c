/* SPDX-License-Identifier: MIT */
/* The HTTP endpoint (httpmetrics.h). libmicrohttpd in "external epoll" mode: its epoll fd is
 * an io source and its timeout a timer of the loop, and MHD_run() does the work when either
 * fires. A request for /metrics is suspended while a build of the figures runs, one step per
 * timer tick, and resumed once they are complete; the body is then written from them in
 * slices, as the socket takes it. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "httpmetrics.h"
#include "log.h"
#include "macro.h"
#include "promtext.h"

/* The pause between two steps of a build, and after a round of MHD_run() that left work
 * (a socket still writable): long enough that the loop goes back to the pipe sessions in
 * between, so that a scrape never holds a question up by more than one step. */
#define STEP_GAP_USEC 200

/* The figures of one build, shared by the requests that waited for it. */
struct result {
	struct promtext *p;
	unsigned refs;
};

enum req_state {
	REQ_NEW,     /* its headers came */
	REQ_WAITING, /* suspended, for the build in progress */
	REQ_READY,   /* resumed: res holds the figures (NULL: the build failed) */
	REQ_SENDING, /* the response is queued */
};

struct request {
	struct httpmetrics *h;
	struct MHD_Connection *conn;
	enum req_state state;
	struct result *res;
	struct promtext_cursor cur;
	bool written;	/* promtext_write_some() reached the end */
	struct buf out; /* a slice of the text not yet handed to libmicrohttpd */
	size_t off;
	struct request *next; /* in h->waiting */
};

/* A connection, for the deadline of its request's headers (libmicrohttpd's own timeout is
 * one of inactivity: a byte a second would hold a connection for ever). */
struct conn {
	struct httpmetrics *h;
	struct MHD_Connection *conn;
	uint64_t since; /* when it began to wait for a request (loop clock) */
	bool in_request;
	bool cut; /* shut down for being too slow */
	struct conn *prev, *next;
};

struct httpmetrics {
	sd_event *event;
	int fd; /* the listening socket until libmicrohttpd takes it */
	struct httpmetrics_source src;
	void *userdata;
	struct MHD_Daemon *mhd;
	sd_event_source *io, *timer, *step, *reaper;
	struct conn *conns;
	void *building;		 /* the source's build in progress, or NULL */
	struct request *waiting; /* the requests suspended for it */
};

int httpmetrics_bind(const char *addr_port, char why[HTTPMETRICS_WHY_MAX])
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(addr_port, ':'), *port_s;
	char *end;
	unsigned long port;
	size_t hl;
	int fd, one = 1;

	if (!colon) {
		snprintf(why, HTTPMETRICS_WHY_MAX,
			 "\"%s\" is not ADDR:PORT (127.0.0.1:%d or [::1]:%d)", addr_port,
			 HTTPMETRICS_DEFAULT_PORT, HTTPMETRICS_DEFAULT_PORT);
		return -EINVAL;
	}
	port_s = colon + 1;
	errno = 0;
	port = strtoul(port_s, &end, 10);
	if (!*port_s || *end || *port_s == '-' || *port_s == '+' || errno || port == 0 ||
	    port > 65535) {
		snprintf(why, HTTPMETRICS_WHY_MAX, "\"%s\": \"%s\" is not a port (1 to 65535)",
			 addr_port, port_s);
		return -EINVAL;
	}
	hl = (size_t)(colon - addr_port);
	if (hl >= sizeof(host)) {
		snprintf(why, HTTPMETRICS_WHY_MAX, "\"%s\": the address is too long", addr_port);
		return -EINVAL;
	}
	memcpy(host, addr_port, hl);
	host[hl] = 0;
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		host[hl - 1] = 0;
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1) {
			snprintf(why, HTTPMETRICS_WHY_MAX, "\"%s\": \"%s\" is not an IPv6 address",
				 addr_port, host + 1);
			return -EINVAL;
		}
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1) {
			snprintf(why, HTTPMETRICS_WHY_MAX,
				 "\"%s\": \"%s\" is not an IPv4 address (an IPv6 address goes in "
				 "brackets: [::1]:%lu)",
				 addr_port, host, port);
			return -EINVAL;
		}
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		len = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int r = -errno;

		snprintf(why, HTTPMETRICS_WHY_MAX, "%s: cannot make a socket: %s", addr_port,
			 strerror(-r));
		return r;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 64) < 0) {
		int r = -errno;

		snprintf(why, HTTPMETRICS_WHY_MAX, "cannot listen on %s: %s", addr_port,
			 strerror(-r));
		close(fd);
		return r;
	}
	return fd;
}

static struct result *result_unref(struct result *res)
{
	if (res && !--res->refs) {
		promtext_free(res->p);
		free(res);
	}
	return NULL;
}

static void arm_after(struct httpmetrics *h, uint64_t usec)
{
	(void)sd_event_source_set_time_relative(h->timer, usec);
	(void)sd_event_source_set_enabled(h->timer, SD_EVENT_ONESHOT);
}

/* Runs libmicrohttpd and sets the timer to when it wants to run again. */
static void run_mhd(struct httpmetrics *h)
{
	MHD_UNSIGNED_LONG_LONG ms;

	(void)MHD_run(h->mhd);
	if (MHD_get_timeout(h->mhd, &ms) != MHD_YES)
		(void)sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
	else
		arm_after(h, ms ? ms * 1000 : STEP_GAP_USEC);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	run_mhd(userdata);
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	run_mhd(userdata);
	return 0;
}

/* One step of the build; once it is over, the waiting requests get its figures. */
static int on_step(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct httpmetrics *h = userdata;
	struct promtext *p = NULL;
	struct result *res = NULL;
	int r = h->src.step(h->userdata, h->building, &p);

	if (r == 0) {
		(void)sd_event_source_set_time_relative(h->step, STEP_GAP_USEC);
		(void)sd_event_source_set_enabled(h->step, SD_EVENT_ONESHOT);
		return 0;
	}
	h->src.end(h->userdata, h->building);
	h->building = NULL;
	if (r > 0) {
		res = calloc(1, sizeof(*res));
		if (res)
			res->p = p;
		else
			promtext_free(p);
	} else
		log_warning("metrics: cannot build the figures for a scrape: %s; answering 503",
			    strerror(-r));
	for (struct request *q = h->waiting, *next; q; q = next) {
		next = q->next;
		q->next = NULL;
		q->state = REQ_READY;
		if (res) {
			q->res = res;
			res->refs++;
		}
		MHD_resume_connection(q->conn);
	}
	h->waiting = NULL;
	if (res && !res->refs) { /* nobody waited */
		promtext_free(res->p);
		free(res);
	}
	run_mhd(h);
	return 0;
}

static uint64_t now_usec(const struct httpmetrics *h)
{
	uint64_t t = 0;

	(void)sd_event_now(h->event, CLOCK_MONOTONIC, &t);
	return t;
}

static struct conn *conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct httpmetrics *h = cls;
	struct conn *c = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return; /* then it goes without the deadline, the other bounds hold */
		*c = (struct conn){.h = h, .conn = conn, .since = now_usec(h), .next = h->conns};
		if (h->conns)
			h->conns->prev = c;
		h->conns = c;
		*socket_context = c;
		if (sd_event_source_get_enabled(h->reaper, NULL) == 0) {
			(void)sd_event_source_set_time_relative(h->reaper, 1000 * 1000);
			(void)sd_event_source_set_enabled(h->reaper, SD_EVENT_ON);
		}
		return;
	}
	if (!c)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
	*socket_context = NULL;
}

/* Every second while there are connections: a connection whose request has not come whole
 * within HTTPMETRICS_TIMEOUT_SEC is shut down; libmicrohttpd then sees its end and closes it. */
static int on_reaper(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct httpmetrics *h = userdata;
	uint64_t now = now_usec(h);
	bool cut = false;

	for (struct conn *c = h->conns; c; c = c->next) {
		const union MHD_ConnectionInfo *ci;

		if (c->in_request || c->cut ||
		    now - c->since < HTTPMETRICS_TIMEOUT_SEC * 1000000ULL)
			continue;
		ci = MHD_get_connection_info(c->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci && ci->connect_fd >= 0) {
			(void)shutdown(ci->connect_fd, SHUT_RDWR);
			c->cut = cut = true;
		}
	}
	if (h->conns) {
		(void)sd_event_source_set_time_relative(h->reaper, 1000 * 1000);
		(void)sd_event_source_set_enabled(h->reaper, SD_EVENT_ON);
	} else
		(void)sd_event_source_set_enabled(h->reaper, SD_EVENT_OFF);
	if (cut)
		run_mhd(h);
	return 0;
}

/* A short reply with the connection closed after it. */
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *text,
			     const char *allow)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result r;

	if (!resp)
		return MHD_NO;
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				      "text/plain; charset=utf-8");
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	if (allow)
		(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	r = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return r;
}

/* The body: a slice of the text each time libmicrohttpd has room for more. */
static ssize_t body(void *cls, uint64_t pos, char *dst, size_t max)
{
	struct request *q = cls;
	size_t n;

	(void)pos;
	if (q->off == q->out.len) {
		q->out.len = q->off = 0;
		if (q->written)
			return MHD_CONTENT_READER_END_OF_STREAM;
		q->written = promtext_write_some(q->res->p, &q->cur, &q->out, max);
		if (!buf_ok(&q->out))
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (!q->out.len)
			return MHD_CONTENT_READER_END_OF_STREAM;
	}
	n = q->out.len - q->off < max ? q->out.len - q->off : max;
	memcpy(dst, q->out.data + q->off, n);
	q->off += n;
	return (ssize_t)n;
}

static int join_build(struct httpmetrics *h, struct request *q)
{
	if (!h->building) {
		h->building = h->src.begin(h->userdata);
		if (!h->building)
			return -ENOMEM;
		(void)sd_event_source_set_time_relative(h->step, 0);
		(void)sd_event_source_set_enabled(h->step, SD_EVENT_ONESHOT);
	}
	q->next = h->waiting;
	h->waiting = q;
	return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct httpmetrics *h = cls;
	struct request *q = *req_cls;
	struct MHD_Response *resp;
	enum MHD_Result r;

	if (!q) {
		struct conn *c = conn_of(conn);

		if (c)
			c->in_request = true;
		/* the headers came: refuse what is not GET /metrics at once */
		if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
			return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				     "405 method not allowed: only GET /metrics\n", "GET, HEAD");
		if (strcmp(url, "/metrics"))
			return reply(conn, MHD_HTTP_NOT_FOUND,
				     "404 not found: only /metrics is served here\n", NULL);
		q = calloc(1, sizeof(*q));
		if (!q)
			return MHD_NO;
		q->h = h;
		q->conn = conn;
		buf_init(&q->out);
		*req_cls = q;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0; /* a body on a GET: nothing to do with it */
		return MHD_YES;
	}
	switch (q->state) {
	case REQ_NEW:
		if (join_build(h, q) < 0)
			return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "503 out of memory\n",
				     NULL);
		q->state = REQ_WAITING;
		MHD_suspend_connection(conn);
		return MHD_YES;
	case REQ_READY:
		if (!q->res)
			return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				     "503 the figures could not be built (see the daemon's log)\n",
				     NULL);
		resp =
		    MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, body, q, NULL);
		if (!resp)
			return MHD_NO;
		(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					      HTTPMETRICS_CONTENT_TYPE);
		r = MHD_queue_response(conn, MHD_HTTP_OK, resp);
		MHD_destroy_response(resp);
		q->state = REQ_SENDING;
		return r;
	case REQ_WAITING:
	case REQ_SENDING: break;
	}
	return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct request *q = *req_cls;
	struct conn *c = conn_of(conn);

	if (c) { /* the next request's headers have their time from now */
		c->in_request = false;
		c->since = now_usec(c->h);
	}
	if (!q)
		return;
	if (q->state == REQ_WAITING) /* only when the endpoint stops */
		for (struct request **pp = &q->h->waiting; *pp; pp = &(*pp)->next)
			if (*pp == q) {
				*pp = q->next;
				break;
			}
	result_unref(q->res);
	buf_free(&q->out);
	free(q);
	*req_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	/* per connection ("over the limit", "timed out"): worth a debug line, no more */
	if (log_get_level() >= LOG_DEBUG)
		log_atv(LOG_DEBUG, NULL, fmt, ap);
}

int httpmetrics_new(sd_event *e, int fd, const struct httpmetrics_source *src, void *userdata,
		    struct httpmetrics **out)
{
	struct httpmetrics *h = calloc(1, sizeof(*h));

	if (!h) {
		close(fd);
		return -ENOMEM;
	}
	h->event = e;
	h->fd = fd;
	h->src = *src;
	h->userdata = userdata;
	*out = h;
	return 0;
}

int httpmetrics_start(struct httpmetrics *h)
{
	const union MHD_DaemonInfo *info;
	int r, fl = fcntl(h->fd, F_GETFL);

	if (fl >= 0)
		(void)fcntl(h->fd, F_SETFL, fl | O_NONBLOCK);
	(void)fcntl(h->fd, F_SETFD, FD_CLOEXEC);
	h->mhd = MHD_start_daemon(
	    MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request,
	    h, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)h->fd, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)HTTPMETRICS_MAX_CONNS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned)HTTPMETRICS_MAX_CONNS_PER_IP, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)HTTPMETRICS_TIMEOUT_SEC, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)HTTPMETRICS_CONN_MEMORY, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
	    h, MHD_OPTION_END);
	if (!h->mhd) {
		log_error("metrics: cannot start the HTTP endpoint (libmicrohttpd refused it)");
		return -EINVAL;
	}
	h->fd = -1; /* libmicrohttpd's now */
	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info) {
		log_error("metrics: libmicrohttpd has no epoll descriptor");
		return -EINVAL;
	}
	r = sd_event_add_io(h->event, &h->io, info->epoll_fd, EPOLLIN, on_io, h);
	if (r >= 0)
		r = sd_event_add_time_relative(h->event, &h->timer, CLOCK_MONOTONIC, 0, 1, on_timer,
					       h);
	if (r >= 0)
		r = sd_event_add_time_relative(h->event, &h->step, CLOCK_MONOTONIC, 0, 1, on_step,
					       h);
	if (r >= 0)
		r = sd_event_add_time_relative(h->event, &h->reaper, CLOCK_MONOTONIC, 1000 * 1000,
					       100 * 1000, on_reaper, h);
	if (r < 0) {
		log_error("metrics: cannot watch the HTTP endpoint: %s", strerror(-r));
		return r;
	}
	(void)sd_event_source_set_enabled(h->step, SD_EVENT_OFF);
	(void)sd_event_source_set_enabled(h->reaper, SD_EVENT_OFF);
	return 0;
}

struct httpmetrics *httpmetrics_free(struct httpmetrics *h)
{
	if (!h)
		return NULL;
	if (h->building) {
		h->src.end(h->userdata, h->building);
		h->building = NULL;
	}
	/* libmicrohttpd stops only with no connection suspended */
	for (struct request *q = h->waiting, *next; q; q = next) {
		next = q->next;
		q->next = NULL;
		q->state = REQ_READY;
		MHD_resume_connection(q->conn);
	}
	h->waiting = NULL;
	h->io = sd_event_source_disable_unref(h->io);
	h->timer = sd_event_source_disable_unref(h->timer);
	h->step = sd_event_source_disable_unref(h->step);
	h->reaper = sd_event_source_disable_unref(h->reaper);
	if (h->mhd)
		MHD_stop_daemon(h->mhd);
	if (h->fd >= 0)
		close(h->fd);
	free(h);
	return NULL;
}
