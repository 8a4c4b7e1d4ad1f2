/* SPDX-License-Identifier: MIT */
/* The prober (prober.h). One group per checked handler: its timer, its checks in flight
 * (one per address at most), and for check "file" the last good reading of the state file. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "fileid.h"
#include "hash.h"
#include "healthfile.h"
#include "macro.h"
#include "prober.h"

#define BODY_MAX  4096 /* bytes of an http body kept for its load */
#define BATCH_MS  20   /* between two batches of checks of a long list */
#define BATCH_ALL 256  /* a list up to this long is checked all at once */
/* sd-event's default accuracy (0) is 250 ms: the checks keep their interval and timeout */
#define TIMER_ACCURACY 1000 /* µs */
#define MIN(a, b)      ((a) < (b) ? (a) : (b))

struct group;

struct check {
	struct group *g;
	uint32_t i;
	uint64_t started; /* mono_usec() */
	int fd;		  /* tcp */
	sd_event_source *io, *timer;
	CURL *easy; /* http(s) */
	struct curl_slist *headers, *connect_to;
	char *body; /* BODY_MAX bytes once the body starts */
	size_t body_len;
	char error[CURL_ERROR_SIZE];
};

struct group {
	struct prober *p;
	uint32_t slot;
	const struct handler *h;	/* of the live snapshot */
	struct addrlist *list;		/* a reference: checks in flight format from it */
	const struct config_health *hc; /* the live config's */
	/* what decides whether the group goes on over a reload */
	struct config_health key;
	char *path, *host, *file_path; /* the key's strings, owned */
	sd_event_source *timer;
	sd_event_source *batch; /* the next batch of checks of a long list (start_batch()) */
	uint32_t cursor;	/* the next address to check in this round */
	struct check **running; /* per address, NULL when none runs */
	/* check "file" */
	struct health_verdict *verdicts; /* of the last good reading, or NULL */
	struct file_id fid;
	struct timespec read_at;
	char *file_problem; /* the problem said last, or NULL */
	bool taken;	    /* prober_apply(): it goes on */
	/* sharing (prober_import()) */
	uint64_t hkey;	 /* healthfile_handler_key() */
	bool seen;	 /* the last file read had records of it */
	uint32_t missed; /* file reads in a row without them */
	bool local;	 /* checked here although the prober is not active: the file lacks it */
};

struct prober {
	sd_event *event;
	struct health *state;
	prober_changed_fn changed;
	prober_file_fn file;
	void *userdata;
	struct group **groups;
	size_t n_groups;
	CURLM *multi;
	sd_event_source *curl_timer;
	sd_event_source *update; /* deferred: rebuilds the slots' up[] and order[] */
	bool active;		 /* the checks run (prober_set_active()) */
	prober_notify_fn notify;
	void *notify_data;
	/* prober_import(): the groups' addresses by handler key and address, open addressing,
	 * built on the first import after prober_apply() */
	struct slotref {
		uint32_t group; /* + 1; 0: empty */
		uint32_t i;
	} * index;
	size_t index_mask;
	bool index_stale;
};

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool same_health(const struct group *g, const struct config_health *b)
{
	const struct config_health *a = &g->key;

	return a->check == b->check && a->port == b->port && a->n_expect == b->n_expect &&
	       memcmp(a->expect, b->expect, sizeof(a->expect)) == 0 &&
	       a->tls_verify == b->tls_verify && a->interval_ms == b->interval_ms &&
	       a->timeout_ms == b->timeout_ms && same_str(g->path, b->path) &&
	       same_str(g->host, b->host) && same_str(g->file_path, b->file_path);
}

/* The state of the group's slot, or NULL when it does not fit (the state was not followed). */
static struct health_slot *slot_of(struct group *g)
{
	struct health *s = g->p->state;

	return (struct health_slot *)health_get(s, g->slot, g->list->n);
}

static void check_free(struct check *c)
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

static void schedule_update(struct prober *p)
{
	if (p->update)
		(void)sd_event_source_set_enabled(p->update, SD_EVENT_ONESHOT);
}

/* One result for address i of g. */
static void record(struct group *g, uint32_t i, const struct health_result *r)
{
	struct health_slot *s = slot_of(g);
	enum health_change c;
	char text[ADDR_TEXT_MAX];

	if (!s)
		return;
	c = health_record(s, i, r, g->hc->rise, g->hc->fall, time(NULL));
	if (s->dirty)
		schedule_update(g->p);
	if (g->p->notify)
		g->p->notify(g->p->notify_data, c != HEALTH_SAME || s->dirty);
	if (c != HEALTH_SAME && g->p->changed) {
		uint32_t quiet;
		enum health_log l = health_log_change(&s->a[i], mono_usec() / 1000000, &quiet);

		if (l == HEALTH_LOG_QUIET)
			return;
		addrlist_format(g->list, i, text);
		g->p->changed(g->p->userdata, g->h, text, c == HEALTH_CAME_UP, &s->a[i], s,
			      l == HEALTH_LOG_FLAPPING, quiet);
	}
}

/* The check c ends with result r (c is freed). */
static void finish(struct check *c, struct health_result *r)
{
	struct group *g = c->g;

	r->latency_us = (uint32_t)MIN(mono_usec() - c->started, (uint64_t)UINT32_MAX);
	g->running[c->i] = NULL;
	record(g, c->i, r);
	check_free(c);
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

	if (d ? same_str(why, g->file_problem) : !g->file_problem)
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

static void check_file(struct group *g)
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
			record(g, i, &r);
	}
}

/* --- groups --------------------------------------------------------------------------- */

static void start_check(struct group *g, uint32_t i)
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

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Notes when g's addresses are checked next (0: not here), for pdynctl health. */
static void mark_next(struct group *g)
{
	struct health_slot *s = slot_of(g);
	uint64_t at = 0, now;
	int64_t next = 0;

	if (!s)
		return;
	if ((g->p->active || g->local) && sd_event_source_get_time(g->timer, &at) >= 0 &&
	    sd_event_now(g->p->event, CLOCK_MONOTONIC, &now) >= 0)
		next = wall_ms() + (int64_t)(at > now ? (at - now) / 1000 : 0);
	for (uint32_t i = 0; i < s->n; i++)
		s->a[i].next_ms = next;
}

/* Starts the next batch of g's checks: all of a short list at once; a long one spread over
 * the first half of its interval, BATCH_MS apart, so that a few hundred checks are in flight
 * at a time rather than all of them (a burst of connections, and thousands of sockets ready
 * at once for the loop to go through). A check still running (it cannot outlive its
 * timeout, at most the interval) is not doubled. */
static void start_batch(struct group *g)
{
	uint32_t n = g->list->n, slices = g->hc->interval_ms / 2 / BATCH_MS, per, end;

	per = n <= BATCH_ALL || slices <= 1 ? n : (n + slices - 1) / slices;
	end = g->cursor + per < n ? g->cursor + per : n;
	for (; g->cursor < end; g->cursor++)
		if (!g->running[g->cursor])
			start_check(g, g->cursor);
	if (g->cursor < n && g->batch) {
		(void)sd_event_source_set_time_relative(g->batch, BATCH_MS * 1000ull);
		(void)sd_event_source_set_enabled(g->batch, SD_EVENT_ONESHOT);
	}
}

static int on_batch(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct group *g = userdata;

	(void)s;
	(void)usec;
	if (g->p->active || g->local)
		start_batch(g);
	return 0;
}

static int on_group_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct group *g = userdata;

	if (!g->p->active && !g->local)
		return sd_event_source_set_enabled(s, SD_EVENT_OFF);

	(void)sd_event_source_set_time(s, usec + (uint64_t)g->hc->interval_ms * 1000);
	(void)sd_event_source_set_enabled(s, SD_EVENT_ON);
	mark_next(g);
	if (g->hc->check == CONFIG_CHECK_FILE) {
		check_file(g);
		return 0;
	}
	g->cursor = 0;
	start_batch(g);
	return 0;
}

static struct group *group_free(struct group *g)
{
	if (!g)
		return NULL;
	for (uint32_t i = 0; g->running && i < g->list->n; i++)
		check_free(g->running[i]);
	free(g->running);
	sd_event_source_disable_unref(g->timer);
	sd_event_source_disable_unref(g->batch);
	addrlist_unref(g->list);
	free(g->path);
	free(g->host);
	free(g->file_path);
	free(g->verdicts);
	free(g->file_problem);
	free(g);
	return NULL;
}

/* The host name of h's checks: its "host", or its qname without the trailing dot. */
static char *host_of(const struct handler *h)
{
	const char *s = h->cfg->health->host ? h->cfg->health->host : h->cfg->qname;
	size_t n = strlen(s);

	if (n && s[n - 1] == '.')
		n--;
	return strndup(s, n);
}

static struct group *group_new(struct prober *p, const struct snapshot *s, const struct handler *h)
{
	struct group *g = calloc(1, sizeof(*g));
	const struct config_health *hc = h->cfg->health;

	if (!g)
		return NULL;
	g->p = p;
	g->slot = snapshot_slot(s, h);
	g->h = h;
	g->hc = hc;
	g->key = *hc;
	g->list = addrlist_ref(h->list);
	g->running = calloc(h->list->n, sizeof(*g->running));
	g->host = host_of(h);
	g->path = hc->path ? strdup(hc->path) : NULL;
	g->file_path = hc->file_path ? strdup(hc->file_path) : NULL;
	/* the first checks at once: a new list is up until they say otherwise */
	g->hkey = healthfile_handler_key(h->cfg->qname, h->cfg->qtype, h->cfg->view);
	if (!g->running || !g->host || (hc->path && !g->path) || (hc->file_path && !g->file_path) ||
	    sd_event_add_time_relative(p->event, &g->timer, CLOCK_MONOTONIC, 0, TIMER_ACCURACY,
				       on_group_timer, g) < 0 ||
	    sd_event_add_time_relative(p->event, &g->batch, CLOCK_MONOTONIC, 0, TIMER_ACCURACY,
				       on_batch, g) < 0 ||
	    sd_event_source_set_enabled(g->batch, SD_EVENT_OFF) < 0)
		return group_free(g);
	if (!p->active)
		(void)sd_event_source_set_enabled(g->timer, SD_EVENT_OFF);
	return g;
}

static int by_list(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)(*(struct group *const *)a)->list,
		  y = (uintptr_t)(*(struct group *const *)b)->list;

	return (x > y) - (x < y);
}

/* An old group of the same list, name, type and settings as h, not yet taken, or NULL. old
 * is sorted by list. */
static struct group *find_old(struct group **old, size_t n, const struct handler *h)
{
	size_t lo = 0, hi = n;

	while (lo < hi) { /* the first of h->list, or where it would be */
		size_t mid = (lo + hi) / 2;

		if ((uintptr_t)old[mid]->list < (uintptr_t)h->list)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t k = lo; k < n && old[k]->list == h->list; k++) {
		struct group *g = old[k];

		if (!g->taken && same_health(g, h->cfg->health) &&
		    g->h->cfg->qtype == h->cfg->qtype &&
		    strcmp(g->h->cfg->qname, h->cfg->qname) == 0)
			return g;
	}
	return NULL;
}

int prober_apply(struct prober *p, const struct snapshot *s)
{
	struct group **old = p->groups, **groups;
	size_t n_old = p->n_groups, n = 0;
	int r = 0;

	if (!s->config->n_health && !n_old)
		return 0; /* nothing to check, nothing checked: no walk over the handlers */
	groups = calloc(s->n_handlers ? s->n_handlers : 1, sizeof(*groups));
	if (!groups)
		return -ENOMEM;
	if (n_old)
		qsort(old, n_old, sizeof(*old), by_list);
	for (size_t i = 0; i < s->n_handlers; i++) {
		const struct handler *h = &s->handlers[i];
		struct group *g;

		if (!h->cfg->health || !h->list || !health_get(p->state, i, h->list->n))
			continue;
		g = find_old(old, n_old, h);
		if (g) {
			/* the same checks of the same list: they go on */
			g->taken = true;
			g->slot = (uint32_t)i;
			g->h = h;
			g->hc = h->cfg->health;
			groups[n++] = g;
		} else if ((groups[n] = group_new(p, s, h)))
			n++;
		else
			r = -ENOMEM;
	}
	for (size_t k = 0; k < n_old; k++)
		if (!old[k]->taken)
			group_free(old[k]);
	for (size_t k = 0; k < n; k++)
		groups[k]->taken = false;
	free(old);
	p->groups = groups;
	p->n_groups = n;
	p->index_stale = true;
	return r;
}

/* Starts or stops g's checks as it must run or not. */
static void group_run(struct group *g, bool run)
{
	int on = SD_EVENT_OFF;

	(void)sd_event_source_get_enabled(g->timer, &on);
	if (run && on == SD_EVENT_OFF) {
		/* at once: the state it goes on from is what the file said */
		(void)sd_event_source_set_time_relative(g->timer, 0);
		(void)sd_event_source_set_enabled(g->timer, SD_EVENT_ON);
	} else if (!run && on != SD_EVENT_OFF) {
		(void)sd_event_source_set_enabled(g->timer, SD_EVENT_OFF);
		(void)sd_event_source_set_enabled(g->batch, SD_EVENT_OFF);
		for (uint32_t i = 0; i < g->list->n; i++)
			g->running[i] = (check_free(g->running[i]), NULL);
		mark_next(g);
	}
}

void prober_set_active(struct prober *p, bool active)
{
	if (p->active == active)
		return;
	p->active = active;
	for (size_t k = 0; k < p->n_groups; k++)
		group_run(p->groups[k], active || p->groups[k]->local);
}

bool prober_active(const struct prober *p)
{
	return p->active;
}

void prober_set_notify(struct prober *p, prober_notify_fn notify, void *userdata)
{
	p->notify = notify;
	p->notify_data = userdata;
}

int prober_export(const struct prober *p, uint64_t generation, uint32_t pid, void **buf,
		  size_t *len)
{
	struct healthfile_record *r;
	size_t n = 0, k = 0, size;
	void *b;

	for (size_t j = 0; j < p->n_groups; j++)
		if (slot_of(p->groups[j]))
			n += p->groups[j]->list->n;
	if (n > HEALTHFILE_MAX)
		return -E2BIG;
	size = healthfile_size((uint32_t)n);
	b = calloc(1, size);
	if (!b)
		return -ENOMEM;
	r = (struct healthfile_record *)((struct healthfile_header *)b + 1);
	for (size_t j = 0; j < p->n_groups; j++) {
		struct group *g = p->groups[j];
		const struct health_slot *s = slot_of(g);
		uint8_t a[16];

		for (uint32_t i = 0; s && i < s->n; i++) {
			addrlist_get(g->list, i, a);
			healthfile_put(&r[k++], g->hkey, g->list->family == AF_INET ? 4 : 6, a,
				       &s->a[i]);
		}
	}
	healthfile_seal(b, size, generation, wall_ms(), pid);
	*buf = b;
	*len = size;
	return 0;
}

static uint64_t ref_hash(uint64_t key, uint8_t family, const uint8_t a[16])
{
	uint64_t h = fnv1a(FNV_OFFSET, &key, sizeof(key));

	h = fnv1a(h, &family, 1);
	return fnv1a(h, a, 16);
}

/* The index of the groups' addresses, for prober_import(). */
static int index_build(struct prober *p)
{
	size_t n = 0, size = 16;
	struct slotref *t;

	for (size_t j = 0; j < p->n_groups; j++)
		n += p->groups[j]->list->n;
	while (size < 2 * n)
		size *= 2;
	t = calloc(size, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (size_t j = 0; j < p->n_groups; j++) {
		struct group *g = p->groups[j];
		uint8_t fam = g->list->family == AF_INET ? 4 : 6;

		for (uint32_t i = 0; i < g->list->n; i++) {
			uint8_t a[16] = {0};
			size_t h;

			addrlist_get(g->list, i, a);
			h = ref_hash(g->hkey, fam, a) & (size - 1);
			while (t[h].group)
				h = (h + 1) & (size - 1);
			t[h] = (struct slotref){.group = (uint32_t)j + 1, .i = i};
		}
	}
	free(p->index);
	p->index = t;
	p->index_mask = size - 1;
	p->index_stale = false;
	return 0;
}

/* The group and address of record r, or NULL. */
static struct group *index_find(struct prober *p, const struct healthfile_record *r, uint32_t *i)
{
	size_t h = ref_hash(r->handler, r->family, r->addr) & p->index_mask;
	uint8_t fam, a[16];

	for (; p->index[h].group; h = (h + 1) & p->index_mask) {
		struct group *g = p->groups[p->index[h].group - 1];

		fam = g->list->family == AF_INET ? 4 : 6;
		memset(a, 0, sizeof(a));
		addrlist_get(g->list, p->index[h].i, a);
		if (g->hkey == r->handler && fam == r->family && memcmp(a, r->addr, 16) == 0) {
			*i = p->index[h].i;
			return g;
		}
	}
	return NULL;
}

int prober_import(struct prober *p, const struct healthfile_header *h)
{
	const struct healthfile_record *r = healthfile_records(h);
	int ret = 0;

	if (p->index_stale && index_build(p) < 0)
		return -ENOMEM;
	for (size_t j = 0; j < p->n_groups; j++)
		p->groups[j]->seen = false;
	for (uint32_t k = 0; k < h->n_records; k++) {
		uint32_t i;
		struct group *g = index_find(p, &r[k], &i);
		struct health_slot *s = g ? slot_of(g) : NULL;
		bool was_up;

		if (!s || g->local)
			continue; /* not a handler of this config, or checked here */
		g->seen = true;
		was_up = s->a[i].up;
		if (healthfile_get(&r[k], &s->a[i])) {
			if (was_up != s->a[i].up)
				s->n_down += was_up ? 1 : -1;
			s->dirty = true;
			schedule_update(p);
		}
	}
	for (size_t j = 0; j < p->n_groups; j++) {
		struct group *g = p->groups[j];

		g->missed = g->seen || g->local ? 0 : g->missed + 1;
		if (!g->local && g->missed >= PROBER_MISSED_MAX) {
			g->local = true; /* the prober does not check it: this copy does */
			group_run(g, true);
			ret++;
		}
	}
	return ret;
}
static int on_update(sd_event_source *s, void *userdata)
{
	struct prober *p = userdata;

	(void)s;
	for (size_t k = 0; k < p->n_groups; k++) {
		struct group *g = p->groups[k];
		struct health_slot *slot = slot_of(g);

		if (slot && slot->dirty &&
		    health_slot_update(slot, g->h->cfg->policy == CONFIG_POLICY_LEAST_LOADED) < 0)
			schedule_update(p); /* again, later */
	}
	return 0;
}

int prober_new(sd_event *event, struct health *state, prober_changed_fn changed,
	       prober_file_fn file, void *userdata, struct prober **ret)
{
	struct prober *p;
	static bool curl_ready;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return -ENOMEM;
		curl_ready = true;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	*p = (struct prober){.event = sd_event_ref(event),
			     .state = state,
			     .changed = changed,
			     .file = file,
			     .userdata = userdata};
	p->multi = curl_multi_init();
	if (!p->multi ||
	    sd_event_add_time_relative(event, &p->curl_timer, CLOCK_MONOTONIC, UINT64_MAX / 2, 0,
				       on_curl_timer, p) < 0 ||
	    sd_event_source_set_enabled(p->curl_timer, SD_EVENT_OFF) < 0 ||
	    sd_event_add_defer(event, &p->update, on_update, p) < 0 ||
	    sd_event_source_set_enabled(p->update, SD_EVENT_OFF) < 0) {
		prober_free(p);
		return -ENOMEM;
	}
	curl_multi_setopt(p->multi, CURLMOPT_SOCKETFUNCTION, curl_socket);
	curl_multi_setopt(p->multi, CURLMOPT_SOCKETDATA, p);
	curl_multi_setopt(p->multi, CURLMOPT_TIMERFUNCTION, curl_timer);
	curl_multi_setopt(p->multi, CURLMOPT_TIMERDATA, p);
	*ret = p;
	return 0;
}

struct prober *prober_free(struct prober *p)
{
	if (!p)
		return NULL;
	for (size_t k = 0; k < p->n_groups; k++)
		group_free(p->groups[k]);
	free(p->groups);
	free(p->index);
	if (p->multi)
		curl_multi_cleanup(p->multi);
	sd_event_source_disable_unref(p->curl_timer);
	sd_event_source_disable_unref(p->update);
	sd_event_unref(p->event);
	free(p);
	return NULL;
}
