/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "acceptor.h"
#include "listen.h"
#include "log.h"
#include "session.h"

struct listener {
	struct daemon *d;
	int fd;
	char *path;   /* bound here by pdyndns (removed at the end), or NULL */
	struct acceptor acc;
	struct conn *conns;
	unsigned n_conns;
};

struct conn {
	struct conn *next;
	struct listener *l;
	struct session *s;
	sd_event_source *io;
};

static void unlink_session(struct daemon *d, struct session *s)
{
	for (struct session **p = &d->session; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			return;
		}
}

static void conn_free(struct conn *c)
{
	for (struct conn **p = &c->l->conns; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	unlink_session(c->l->d, c->s);
	sd_event_source_disable_unref(c->io);
	close(c->s->in_fd);
	session_free(c->s);
	c->l->n_conns--;
	free(c);
}

static int on_conn(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct conn *c = userdata;
	int r;

	if (revents & EPOLLOUT)
		r = session_continue(c->s);
	else if (revents & EPOLLIN)
		r = session_read(c->s);
	else
		r = 1; /* EPOLLHUP or EPOLLERR alone */
	if (r == -EAGAIN) {
		/* PowerDNS is not reading: read nothing more until the answers are out */
		sd_event_source_set_io_events(src, EPOLLOUT);
		return 0;
	}
	if (r != 0) {
		if (r < 0)
			log_warning("pipe connection closed: %s", strerror(-r));
		conn_free(c);
		return 0;
	}
	if (revents & EPOLLOUT)
		sd_event_source_set_io_events(src, EPOLLIN);
	return 0;
}

static int on_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct listener *l = userdata;
	struct conn *c;
	int cfd = acceptor_accept(&l->acc), r;

	if (cfd < 0)
		return 0;
	if (l->n_conns >= LISTEN_MAX_CONNS) {
		log_warning("pipe socket: %d connections open; refusing another", LISTEN_MAX_CONNS);
		close(cfd);
		return 0;
	}
	c = calloc(1, sizeof(*c));
	if (!c || session_new(l->d, cfd, cfd, &c->s) < 0) {
		free(c);
		close(cfd);
		return 0;
	}
	c->l = l;
	r = sd_event_add_io(l->d->event, &c->io, cfd, EPOLLIN, on_conn, c);
	if (r < 0) {
		session_free(c->s);
		free(c);
		close(cfd);
		return 0;
	}
	c->s->next = l->d->session;
	l->d->session = c->s;
	c->next = l->conns;
	l->conns = c;
	l->n_conns++;
	return 0;
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
	if (fd < 0)
		return -errno;
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

int listen_init(struct daemon *d, const char *path, int fd)
{
	struct listener *l = calloc(1, sizeof(*l));
	int r;

	if (!l)
		return -ENOMEM;
	l->d = d;
	if (fd < 0) {
		fd = bind_path(path);
		if (fd < 0) {
			free(l);
			return fd;
		}
		l->path = strdup(path);
	}
	l->fd = fd;
	r = acceptor_init(&l->acc, d->event, fd, "pipe socket", on_accept, l);
	if (r < 0) {
		log_error("pipe socket: %s", strerror(-r));
		d->listener = l;
		listen_done(d);
		return r;
	}
	d->listener = l;
	log_info("serving the pipe protocol on %s", path ? path : "a socket from systemd");
	return 0;
}

void listen_done(struct daemon *d)
{
	struct listener *l = d->listener;

	if (!l)
		return;
	while (l->conns)
		conn_free(l->conns);
	acceptor_done(&l->acc);
	close(l->fd);
	if (l->path)
		(void)unlink(l->path);
	free(l->path);
	free(l);
	d->listener = NULL;
}
