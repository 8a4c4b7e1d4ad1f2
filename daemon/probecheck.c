/* SPDX-License-Identifier: MIT */
/* The checks themselves (probe.h): a tcp connect, an http(s) GET through libcurl's multi
 * interface driven by the loop, a state file read again when it changed. Each ends in one
 * result for its address, recorded by the prober. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "fileid.h"
#include "macro.h"
#include "probe.h"

void probe_check_free(struct check *c)
{
	if (!c)
		return;
	sd_event_source_disable_unref(c->io);
	sd_event_source_disable_unref(c->timer);
	if (c->fd >= 0)
		close(c->fd);
	if (c->easy) {
		curl_multi_remove_handle(c->g->p->multi, c->easy);
		curl_easy_cleanup(c->easy);
	}
	curl_slist_free_all(c->headers);
	curl_slist_free_all(c->connect_to);
	free(c->body);
	free(c);
}

/* The check c ends with result r (c is freed). */
static void finish(struct check *c, struct health_result *r)
{
	struct group *g = c->g;

	r->latency_us = (uint32_t)MIN(mono_usec() - c->started, (uint64_t)UINT32_MAX);
	g->running[c->i] = NULL;
	g->p->record(g, c->i, r);
	probe_check_free(c);
}

static void finish_with(struct check *c, bool ok, const char *fmt, ...) _printf_(3, 4);
static void finish_with(struct check *c, bool ok, const char *fmt, ...)
{
	char reason[HEALTH_REASON_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	finish(c, &(struct health_result){.ok = ok, .reason = reason});
}

static int on_check_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct check *c = userdata;

	(void)s;
	(void)usec;
	finish_with(c, false, "timed out after %u ms", c->g->hc->timeout_ms);
	return 0;
}

/* --- tcp ------------------------------------------------------------------------------ */

static int on_tcp(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct check *c = userdata;
	int err = 0;
	socklen_t len = sizeof(err);

	(void)s;
	(void)revents;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err)
		finish_with(c, false, "connect: %s", strerror(err));
	else
		finish_with(c, true, "connected");
	return 0;
}

/* The socket address of address i of g's list at port. */
static socklen_t sockaddr_of(const struct group *g, uint32_t i, uint16_t port,
			     struct sockaddr_storage *ss)
{
	uint8_t a[16];

	addrlist_get(g->list, i, a);
	memset(ss, 0, sizeof(*ss));
	if (g->list->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	memcpy(&sin6->sin6_addr, a, 16);
	return sizeof(*sin6);
}

static void start_tcp(struct check *c)
{
	struct group *g = c->g;
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(g, c->i, g->hc->port, &ss);

	c->fd = socket(g->list->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		finish_with(c, false, "socket: %s", strerror(errno));
		return;
	}
	if (connect(c->fd, (struct sockaddr *)&ss, len) == 0) {
		finish_with(c, true, "connected");
		return;
	}
	if (errno != EINPROGRESS) {
		finish_with(c, false, "connect: %s", strerror(errno));
		return;
	}
	/* edge-triggered: a socket whose connect ended stays ready until its turn comes, and
	 * with hundreds in flight each epoll_wait() of the loop would report them all again */
	if (sd_event_add_io(g->p->event, &c->io, c->fd, EPOLLOUT | EPOLLET, on_tcp, c) < 0 ||
	    sd_event_add_time_relative(g->p->event, &c->timer, CLOCK_MONOTONIC,
				       (uint64_t)g->hc->timeout_ms * 1000, TIMER_ACCURACY,
				       on_check_timeout, c) < 0)
		finish_with(c, false, "out of memory");
}

/* --- http and https: libcurl's multi interface on the loop ----------------------------- */

static size_t on_body(char *data, size_t size, size_t n, void *userdata)
{
	struct check *c = userdata;
	size_t len = size * n, room;

	if (!c->body && !(c->body = malloc(BODY_MAX)))
		return 0; /* curl ends the transfer: a bad check */
	room = BODY_MAX - c->body_len;

	memcpy(c->body + c->body_len, data, MIN(len, room));
	c->body_len += MIN(len, room);
	return len; /* the rest is read and dropped: the load is at the start */
}

/* Every transfer that ended: its result. */
static void curl_drain(struct prober *p)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(p->multi, &left))) {
		struct check *c = NULL;
		long code = 0;
		struct health_result r = {0};
		char reason[HEALTH_REASON_SIZE];
		CURLcode res;

		if (m->msg != CURLMSG_DONE)
			continue;
		res = m->data.result;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
		if (!c)
			continue;
		if (res == CURLE_OK) {
			curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &code);
			for (uint8_t k = 0; k < c->g->hc->n_expect; k++)
				r.ok = r.ok || code == c->g->hc->expect[k];
			r.has_load = c->body && health_body_load(c->body, c->body_len, &r.load);
			snprintf(reason, sizeof(reason), "HTTP %ld", code);
		} else if (res == CURLE_OPERATION_TIMEDOUT)
			snprintf(reason, sizeof(reason), "timed out after %u ms",
				 c->g->hc->timeout_ms);
		else
			snprintf(reason, sizeof(reason), "%.60s",
				 c->error[0] ? c->error : curl_easy_strerror(res));
		r.reason = reason;
		finish(c, &r);
	}
}

static int on_curl_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct prober *p = userdata;
	int flags = 0, running;

	(void)s;
	if (revents & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (revents & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (revents & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(p->multi, fd, flags, &running);
	curl_drain(p);
	return 0;
}

static int on_curl_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct prober *p = userdata;
	int running;

	(void)s;
	(void)usec;
	curl_multi_socket_action(p->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	curl_drain(p);
	return 0;
}

/* CURLMOPT_SOCKETFUNCTION: watch fd for what curl wants, on the loop. */
static int curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct prober *p = userp;
	sd_event_source *s = socketp;
	uint32_t events = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		sd_event_source_disable_unref(s);
		curl_multi_assign(p->multi, fd, NULL);
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		events |= EPOLLOUT;
	if (s)
		return sd_event_source_set_io_events(s, events) < 0 ? -1 : 0;
	if (sd_event_add_io(p->event, &s, fd, events, on_curl_io, p) < 0)
		return -1;
	curl_multi_assign(p->multi, fd, s);
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: when curl wants to be called for its timeouts. */
static int curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct prober *p = userp;

	(void)multi;
	if (timeout_ms < 0)
		return sd_event_source_set_enabled(p->curl_timer, SD_EVENT_OFF) < 0 ? -1 : 0;
	if (sd_event_source_set_time_relative(p->curl_timer, (uint64_t)timeout_ms * 1000) < 0 ||
	    sd_event_source_set_enabled(p->curl_timer, SD_EVENT_ONESHOT) < 0)
		return -1;
	return 0;
}

static void start_http(struct check *c)
{
	struct group *g = c->g;
	const struct config_health *hc = g->hc;
	bool tls = hc->check == CONFIG_CHECK_HTTPS;
	uint16_t port = hc->port ? hc->port : tls ? 443 : 80;
	char addr[ADDR_TEXT_MAX], url[1400], to[128], *host = g->host;
	size_t n = addrlist_format(g->list, c->i, addr);

	addr[n] = 0;
	/* the name in the URL (Host, SNI and the certificate's name), the connection to the
	 * address itself */
	snprintf(url, sizeof(url), "%s://%s:%u%s", tls ? "https" : "http", host, port,
		 hc->path ? hc->path : "/");
	snprintf(to, sizeof(to), g->list->family == AF_INET6 ? "%s:%u:[%s]:%u" : "%s:%u:%s:%u",
		 host, port, addr, port);
	c->connect_to = curl_slist_append(NULL, to);
	c->easy = curl_easy_init();
	if (!c->easy || !c->connect_to) {
		finish_with(c, false, "out of memory");
		return;
	}
	curl_easy_setopt(c->easy, CURLOPT_URL, url);
	curl_easy_setopt(c->easy, CURLOPT_CONNECT_TO, c->connect_to);
	curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
	curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, c->error);
	curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, (long)hc->timeout_ms);
	curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->easy, CURLOPT_FORBID_REUSE, 1L); /* one connection per check */
	curl_easy_setopt(c->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->easy, CURLOPT_USERAGENT, "pdyndns-health/" PACKAGE_VERSION);
	curl_easy_setopt(c->easy, CURLOPT_SSL_VERIFYPEER, hc->tls_verify ? 1L : 0L);
	curl_easy_setopt(c->easy, CURLOPT_SSL_VERIFYHOST, hc->tls_verify ? 2L : 0L);
	curl_easy_setopt(c->easy, CURLOPT_PROXY,
			 ""); /* never through a proxy from the environment */
	if (curl_multi_add_handle(g->p->multi, c->easy) != CURLM_OK) {
		curl_easy_cleanup(c->easy);
		c->easy = NULL;
		finish_with(c, false, "cannot start the transfer");
	}
}

/* --- the state file ------------------------------------------------------------------- */

/* Says a problem of the state file once (or that it is over: d NULL). */
static void file_problem(struct group *g, const struct diag *d)
{
	_cleanup_free_ char *why = d ? diag_join(d, "; ") : NULL;

	if (d ? probe_same_str(why, g->file_problem) : !g->file_problem)
		return;
	free(g->file_problem);
	g->file_problem = TAKE_PTR(why);
	if (g->p->file)
		g->p->file(g->p->userdata, g->h, g->hc->file_path, d);
}

/* Reads the state file again when it may have changed; its last good reading stays. */
static void read_state(struct group *g)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ struct health_verdict *v = NULL;
	struct file_id id;
	struct timespec at;
	struct stat st;
	struct diag d;
	size_t len;

	if (g->verdicts && file_id_get(g->hc->file_path, &id) == 0 && file_id_equal(&id, &g->fid) &&
	    file_id_settled(&g->fid, &g->read_at))
		return;
	diag_init(&d);
	file_id_clock(&at);
	v = malloc(g->list->n * sizeof(*v));
	if (!v)
		diag_add(&d, "%s: out of memory", g->hc->file_path);
	else if (file_read_all(g->hc->file_path, HEALTH_STATE_MAX, &d, &text, &len, &st) == 0 &&
		 health_parse_state(text, len, g->list, g->hc->file_path, &d, v) == 0) {
		free(g->verdicts);
		g->verdicts = TAKE_PTR(v);
		file_id_from_stat(&st, &g->fid);
		g->read_at = at;
		file_problem(g, NULL);
	}
	if (d.n_msgs || d.n_errors)
		file_problem(g, &d);
	diag_clear(&d);
}

void probe_check_file(struct group *g)
{
	uint64_t t0 = mono_usec();

	read_state(g);
	if (!g->verdicts)
		return; /* never read: no word on any address */
	for (uint32_t i = 0; i < g->list->n; i++) {
		const struct health_verdict *v = &g->verdicts[i];
		struct health_result r = {
		    .ok = v->state == 1,
		    .has_load = v->has_load,
		    .load = v->load,
		    .reason = v->state == 1 ? "state file: up" : "state file: down",
		    .latency_us = (uint32_t)MIN(mono_usec() - t0, (uint64_t)UINT32_MAX)};

		if (v->state >= 0)
			g->p->record(g, i, &r);
	}
}

void probe_start_check(struct group *g, uint32_t i)
{
	struct check *c = calloc(1, sizeof(*c));

	if (!c)
		return;
	c->g = g;
	c->i = i;
	c->fd = -1;
	c->started = mono_usec();
	g->running[i] = c;
	if (g->hc->check == CONFIG_CHECK_TCP)
		start_tcp(c);
	else
		start_http(c);
}

int probe_curl_new(struct prober *p)
{
	p->multi = curl_multi_init();
	if (!p->multi ||
	    sd_event_add_time_relative(p->event, &p->curl_timer, CLOCK_MONOTONIC, UINT64_MAX / 2, 0,
				       on_curl_timer, p) < 0 ||
	    sd_event_source_set_enabled(p->curl_timer, SD_EVENT_OFF) < 0)
		return -ENOMEM;
	curl_multi_setopt(p->multi, CURLMOPT_SOCKETFUNCTION, curl_socket);
	curl_multi_setopt(p->multi, CURLMOPT_SOCKETDATA, p);
	curl_multi_setopt(p->multi, CURLMOPT_TIMERFUNCTION, curl_timer);
	curl_multi_setopt(p->multi, CURLMOPT_TIMERDATA, p);
	return 0;
}

void probe_curl_free(struct prober *p)
{
	if (p->multi)
		curl_multi_cleanup(p->multi);
	p->multi = NULL;
	p->curl_timer = sd_event_source_disable_unref(p->curl_timer);
}
