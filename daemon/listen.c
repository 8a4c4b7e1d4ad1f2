/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <linux/sockios.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "acceptor.h"
#include "keeper.h"
#include "listen.h"
#include "log.h"
#include "session.h"

struct listener {
	sd_event *event;
	struct serving *sv; /* what the sessions answer from */
	const struct session_ops *ops;
	void *userdata;
	int fd;
	char *path; /* bound here by pdyndns (removed at the end), or NULL */
	char
	    *rendezvous; /* where a keeper offers connections: the pipe socket's path + ".keeper" */
	struct acceptor acc;
	int ep; /* the connections' epoll, with sd-event's fd in it (listen_run) */
	struct conn *conns;
	unsigned n_conns;
	bool slot_used[LISTEN_MAX_CONNS]; /* the keeper knows each connection by its slot */
};

struct conn {
	struct conn *next;
	struct listener *l;
	struct session *s;
	uint32_t events; /* what ep waits for: EPOLLIN, or EPOLLOUT while answers wait */
	unsigned slot;
};

/* ended: PowerDNS closed it, so the keeper lets it go too; not when pdyndns stops, when the
 * keeper must keep it open */
static void conn_free(struct conn *c, bool ended)
{
	for (struct conn **p = &c->l->conns; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	(void)epoll_ctl(c->l->ep, EPOLL_CTL_DEL, c->s->in_fd, NULL);
	close(c->s->in_fd);
	session_free(c->s);
	if (ended)
		keeper_release(c->slot);
	c->l->slot_used[c->slot] = false;
	c->l->n_conns--;
	free(c);
}

static void conn_wait_for(struct conn *c, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = c};

	if (c->events != events && epoll_ctl(c->l->ep, EPOLL_CTL_MOD, c->s->in_fd, &ev) == 0)
		c->events = events;
}

static void on_conn(struct conn *c, uint32_t revents)
{
	int r;

	if (revents & EPOLLOUT)
		r = session_continue(c->s);
	else if (revents & EPOLLIN)
		r = session_read(c->s);
	else
		r = 1; /* EPOLLHUP or EPOLLERR alone */
	if (r == -EAGAIN) {
		/* PowerDNS is not reading: read nothing more until the answers are out */
		conn_wait_for(c, EPOLLOUT);
		return;
	}
	if (r != 0) {
		if (r < 0)
			log_warning("pipe connection closed: %s", strerror(-r));
		conn_free(c, true);
		return;
	}
	conn_wait_for(c, EPOLLIN);
}

/* A new session on connection cfd (which is then the listener's, whatever happens). */
static struct conn *conn_add(struct listener *l, int cfd)
{
	struct conn *c;

	if (l->n_conns >= LISTEN_MAX_CONNS) {
		log_warning("pipe socket: %d connections open; refusing another", LISTEN_MAX_CONNS);
		close(cfd);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c || session_new(l->sv, l->ops, l->userdata, cfd, cfd, &c->s) < 0) {
		free(c);
		close(cfd);
		return NULL;
	}
	c->l = l;
	while (l->slot_used[c->slot])
		c->slot++; /* n_conns < LISTEN_MAX_CONNS: there is a free one */
	c->events = EPOLLIN;
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, cfd,
		      &(struct epoll_event){.events = EPOLLIN, .data.ptr = c}) < 0) {
		session_free(c->s);
		free(c);
		close(cfd);
		return NULL;
	}
	c->s->ks = keeper_slot(c->slot);
	c->s->ks->busy = 0;
	c->next = l->conns;
	l->conns = c;
	l->n_conns++;
	l->slot_used[c->slot] = true;
	return c;
}

static int on_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct listener *l = userdata;
	int cfd = acceptor_accept(&l->acc);
	struct conn *c;

	if (cfd < 0)
		return 0;
	c = conn_add(l, cfd);
	if (!c)
		return 0;
	c->s->ks->abi = 0;
	if (keeper_hold(c->slot, cfd) < 0 && l->rendezvous && keeper_start(l->rendezvous) == 0) {
		/* the keeper was killed: a new one gets every connection */
		log_warning("connection keeper: started again");
		for (struct conn *k = l->conns; k; k = k->next)
			(void)keeper_hold(k->slot, k->s->in_fd);
	}
	return 0;
}

/* A connection the previous pdyndns left (daemon/keeper.h): the conversation goes on where it
 * was, and the line it was answering is answered now, unless PowerDNS has its answer already
 * (unread in the socket) or has asked something else since. Nothing is ever written that
 * PowerDNS did not ask for. */
/* The first line the last read brought (in state->raw), without its newline: true and *len. */
static bool raw_line(const struct keeper_slot *state, size_t *len)
{
	const char *nl = memchr(state->raw, '\n', sizeof(state->raw));

	if (!state->raw[0] || !nl || memchr(state->raw, 0, (size_t)(nl - state->raw)))
		return false;
	*len = (size_t)(nl - state->raw);
	return true;
}

static void on_adopt(int fd, const struct keeper_slot *state, void *userdata)
{
	struct listener *l = userdata;
	struct conn *c = conn_add(l, fd);
	int unread = 0, asked = 0;
	size_t len = 0;
	bool raw;

	if (!c)
		return;
	c->s->abi = c->s->ks->abi = state->abi;
	if (state->busy && (ioctl(fd, SIOCOUTQ, &unread) < 0 || ioctl(fd, SIOCINQ, &asked) < 0))
		unread = 1; /* cannot tell: let it be */
	raw = !state->len && raw_line(state, &len);
	log_debug("took over a connection (ABI %d): %s%.*s", state->abi,
		  !state->busy ? "idle"
		  : unread     ? "its answer is on the way"
		  : asked      ? "asked anew"
		  : state->len ? "answering again: "
		  : raw	       ? "answering the line read: "
			       : "nothing read yet",
		  state->busy && !unread && !asked ? (int)(state->len ? state->len : len) : 0,
		  state->len ? state->line : state->raw);
	if (!state->busy || unread || asked)
		return;
	if (state->len) {
		session_feed(c->s, state->line, state->len);
		session_feed(c->s, "\n", 1);
	} else if (raw) {
		/* read but not noted yet: the read left it in the shared memory */
		session_feed(c->s, state->raw, len + 1);
	}
	/* else the read took nothing, or part of a line whose rest is still to come (and will
	 * be answered FAIL as a line of its own): PowerDNS waits for nothing yet */
	(void)session_flush(c->s);
}

/* Binds path, replacing a socket nobody listens on. */
static int bind_path(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_error("--listen %s: the path is too long for a unix socket", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		r = -errno;
		log_error("--listen %s: cannot make a socket: %s", path, strerror(-r));
		return r;
	}
	if (lstat(path, &st) == 0) {
		int probe;

		if (!S_ISSOCK(st.st_mode)) {
			log_error("--listen %s: exists and is not a socket; not touching it", path);
			close(fd);
			return -EEXIST;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			log_error("--listen %s: another process serves on it", path);
			close(probe);
			close(fd);
			return -EADDRINUSE;
		}
		if (probe >= 0)
			close(probe);
		(void)unlink(path); /* stale: its process is gone */
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 128) < 0) {
		r = -errno;
		log_error("--listen %s: %s", path, strerror(-r));
		close(fd);
		return r;
	}
	return fd;
}

/* The listening socket's path + KEEPER_SUFFIX (malloc'd), or NULL when it has none or that
 * would be too long for a socket path. */
static char *rendezvous_of(int fd)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	char *r;

	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0 ||
	    len <= offsetof(struct sockaddr_un, sun_path) || sa.sun_path[0] == 0)
		return NULL; /* unnamed, or abstract */
	sa.sun_path[len - offsetof(struct sockaddr_un, sun_path) < sizeof(sa.sun_path)
			? len - offsetof(struct sockaddr_un, sun_path)
			: sizeof(sa.sun_path) - 1] = 0;
	if (strlen(sa.sun_path) + strlen(KEEPER_SUFFIX) >= sizeof(sa.sun_path) ||
	    asprintf(&r, "%s%s", sa.sun_path, KEEPER_SUFFIX) < 0)
		return NULL;
	return r;
}

int listener_new(sd_event *event, const char *path, int fd, struct serving *sv,
		 const struct session_ops *ops, void *userdata, struct listener **ret)
{
	struct listener *l = calloc(1, sizeof(*l));
	int r;

	if (!l)
		return -ENOMEM;
	l->event = event;
	l->sv = sv;
	l->ops = ops;
	l->userdata = userdata;
	if (fd < 0) {
		fd = bind_path(path);
		if (fd < 0) {
			free(l);
			return fd;
		}
		l->path = strdup(path);
	}
	l->fd = fd;
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	r = l->ep < 0 ? -errno : 0;
	if (r == 0 && epoll_ctl(l->ep, EPOLL_CTL_ADD, sd_event_get_fd(event),
				&(struct epoll_event){.events = EPOLLIN, .data.ptr = NULL}) < 0)
		r = -errno;
	if (r == 0)
		r = acceptor_init(&l->acc, event, fd, "pipe socket", on_accept, l);
	if (r < 0) {
		log_error("pipe socket: %s", strerror(-r));
		listener_free(l);
		return r;
	}
	*ret = l;
	l->rendezvous = rendezvous_of(fd);
	if (!l->rendezvous)
		log_warning(
		    "pipe socket: it has no path (or one too long for a keeper's next to it): "
		    "a restart of pdyndns will leave PowerDNS threads failing until pdns restarts");
	r = l->rendezvous ? keeper_take_over(l->rendezvous, on_adopt, l) : 0;
	if (r > 0)
		log_info("took over %d PowerDNS connection%s from the previous pdyndns", r,
			 r == 1 ? "" : "s");
	if (l->rendezvous && keeper_start(l->rendezvous) == 0)
		for (struct conn *k = l->conns; k; k = k->next)
			(void)keeper_hold(k->slot, k->s->in_fd);
	log_info("serving the pipe protocol on %s", path ? path : "a socket from systemd");
	return 0;
}

struct listener *listener_free(struct listener *l)
{
	if (!l)
		return NULL;
	while (l->conns)
		conn_free(l->conns, false);
	keeper_done();
	acceptor_done(&l->acc);
	if (l->ep >= 0)
		close(l->ep);
	close(l->fd);
	if (l->path)
		(void)unlink(l->path);
	free(l->path);
	free(l->rendezvous);
	free(l);
	return NULL;
}

int listener_run(struct listener *l)
{
	struct epoll_event ev[64];
	bool dispatch = true; /* at first: arms sd-event's timers and runs what is due */
	int r = 0;

	for (;;) {
		int n;

		if (dispatch) {
			/* sd-event's own work: accepting, reloads, watches, control clients,
			 * signals, timers. Run until nothing is left, which also arms its timers
			 * again. */
			while ((r = sd_event_run(l->event, 0)) > 0 &&
			       sd_event_get_state(l->event) != SD_EVENT_FINISHED)
				;
			if (r < 0 || sd_event_get_state(l->event) == SD_EVENT_FINISHED)
				break;
			dispatch = false;
		}
		n = epoll_wait(l->ep, ev, (int)(sizeof(ev) / sizeof(ev[0])), -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		/* connections first, then sd-event: a connection freed by a callback is not
		 * looked at again in the same round */
		for (int i = 0; i < n; i++)
			if (ev[i].data.ptr)
				on_conn(ev[i].data.ptr, ev[i].events);
			else
				dispatch = true;
	}
	return r < 0 ? r : 0;
}
