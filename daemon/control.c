/* SPDX-License-Identifier: MIT */
/* The control socket (control.h): transport, rights and client budgets; the commands are
 * ctlcmd.c's. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "acceptor.h"
#include "buf.h"
#include "control.h"
#include "ctldir.h"
#include "ctlproto.h"
#include "log.h"

struct client {
	struct control *ctl;
	int fd;
	sd_event_source *io;
	sd_event_source *timer;
	char *in;
	size_t in_len;
	struct buf out;
	size_t out_off;
	bool full_rights;
	bool busy;	      /* a request is being handled: further input is ignored */
	bool eof;	      /* the client shut its side: reading is over, the reply still goes */
	bool done;	      /* the reply is complete: close once it is sent */
	uint64_t wait_reload; /* waiting for this reload to finish, or 0 */
	uint64_t last_active; /* CLOCK_MONOTONIC usec of the connect or its last input */
	struct status_stream *stream;
	struct client *next;
};

struct control {
	sd_event *event;
	const struct control_ops *ops;
	void *userdata;
	char *path;	    /* DIR/pdyndns.PID.sock; NULL: systemd's socket */
	char *dir;	    /* where it is bound (NULL: systemd's socket) */
	char *tmp;	    /* DIR/.pdyndns.PID.new: the name it is bound under until it listens */
	char *group_name;   /* control_group, or NULL */
	char *systemd_path; /* the name of systemd's socket, when it has one */
	int fd;
	gid_t group;
	/* the socket's file as bound (or as systemd made it) and its directory: the kernel
	 * holds that inode while the socket is open, so no other file has the same number */
	dev_t dev, dir_dev;
	ino_t ino, dir_ino;
	sd_event_source *check; /* the timer that looks at the socket's name */
	bool lost;		/* the name no longer leads here: said once, bound again */
	bool failure_said;	/* binding again failed: said once, tried at every check */
	struct acceptor acc;
	struct client *clients;
	size_t n_full, n_readonly; /* clients of each kind: two budgets */
	rlim_t fd_limit;	   /* RLIMIT_NOFILE when it started listening */
};

static void client_free(struct client *c)
{
	struct client **p;

	for (p = &c->ctl->clients; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	if (c->full_rights)
		c->ctl->n_full--;
	else
		c->ctl->n_readonly--;
	sd_event_source_disable_unref(c->io);
	sd_event_source_disable_unref(c->timer);
	close(c->fd);
	free(c->in);
	buf_free(&c->out);
	if (c->stream)
		c->ctl->ops->drop(c->stream);
	free(c);
}

static void stream_slice(struct client *c);

/* What epoll should tell about this client now. EPOLLOUT is level-triggered: while a
 * status is being built, the next slice comes at the next loop iteration, after whatever
 * else (a question) is pending. */
static void client_events(struct client *c)
{
	uint32_t ev = 0;

	if (!c->busy || !c->eof)
		ev |= EPOLLIN; /* a request, or the hang-up while it is handled */
	if (c->out_off < c->out.len || c->stream)
		ev |= EPOLLOUT;
	sd_event_source_set_io_events(c->io, ev);
}

/* Writes what can be written now and builds one more slice of a status when the client
 * has taken the rest; what cannot be written waits for EPOLLOUT. Closes when the reply is
 * complete and sent. Returns false when the client was freed. */
static bool client_pump(struct client *c)
{
	bool built = false;

	for (;;) {
		while (c->out_off < c->out.len) {
			ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
					 MSG_NOSIGNAL | MSG_DONTWAIT);

			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN)
					break;
				client_free(c); /* the client went away */
				return false;
			}
			c->out_off += (size_t)n;
		}
		if (c->out_off < c->out.len)
			break; /* the socket is full */
		c->out.len = c->out_off = 0;
		if (!c->stream || built)
			break;
		stream_slice(c);
		built = true;
	}
	if (c->done && !c->stream && c->out_off == c->out.len) {
		client_free(c);
		return false;
	}
	/* A client that does not take its reply is dropped in time, too. (The socket may stop
	 * being writable well before a send would fail: the wait starts at every pause.) */
	sd_event_source_set_time_relative(c->timer, CONTROL_TIMEOUT_USEC);
	sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
	client_events(c);
	return true;
}

/* Queues one response line (taken over). */
static void client_queue(struct client *c, char *line)
{
	ctl_put_line(&c->out, line);
}

/* One more slice of the status the client asked for. */
static void stream_slice(struct client *c)
{
	if (c->ctl->ops->fill(c->ctl->userdata, c->stream, &c->out)) {
		c->ctl->ops->drop(c->stream);
		c->stream = NULL;
		c->done = true;
	}
}

/* Queues the last response line (taken over) and sends it; one request per connection. */
static void client_reply(struct client *c, char *line)
{
	client_queue(c, line);
	c->done = true;
	client_pump(c);
}

static void handle_request(struct client *c, const char *line, size_t len)
{
	struct control *ctl = c->ctl;
	struct control_answer a = {0};
	struct ctl_request req;
	const char *why;

	c->busy = true;
	sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
	if (ctl_request_decode(line, len, &req, &why) < 0) {
		client_reply(c, ctl_response_error(why));
		return;
	}
	if (ctl_cmd_mutating(req.cmd) && !c->full_rights) {
		log_warning("control: refused %s from a read-only client", ctl_cmd_name(req.cmd));
		ctl_request_done(&req);
		client_reply(c, ctl_response_error("permission denied"));
		return;
	}
	ctl->ops->handle(ctl->userdata, &req, &a);
	ctl_request_done(&req);
	if (a.wait_reload) { /* answered by control_reload_finished() */
		c->wait_reload = a.wait_reload;
		client_events(c);
	} else if (a.stream) {
		c->stream = a.stream;
		client_queue(c, a.line);
		client_pump(c);
	} else
		client_reply(c, a.line);
}

bool control_waits_for(const struct control *ctl, uint64_t seq)
{
	for (const struct client *c = ctl ? ctl->clients : NULL; c; c = c->next)
		if (c->wait_reload && c->wait_reload <= seq)
			return true;
	return false;
}

void control_reload_finished(struct control *ctl, uint64_t seq, const char *reply)
{
	struct client *c, *next;

	for (c = ctl ? ctl->clients : NULL; c; c = next) {
		next = c->next;
		if (!c->wait_reload || c->wait_reload > seq)
			continue;
		c->wait_reload = 0; /* answered once: a later reload is not this client's */
		client_reply(c, reply ? strdup(reply) : NULL);
	}
}

static int on_client_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct client *c = userdata;

	log_debug(
	    "control: dropping a client that sent no complete request or took no reply in time");
	client_free(c);
	return 0;
}

static int on_client_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct client *c = userdata;
	char *nl;
	ssize_t n;

	if (revents & (EPOLLHUP | EPOLLERR)) {
		client_free(c); /* gone both ways: nobody to answer */
		return 0;
	}
	if ((revents & EPOLLOUT) && !client_pump(c))
		return 0;
	if (!(revents & EPOLLIN))
		return 0;
	if (c->busy) {
		/* only the end of input matters now; the reply comes later, also after a
		 * shutdown(SHUT_WR) */
		char sink[512];

		n = recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (n == 0) {
			c->eof = true;
			client_events(c);
		} else if (n < 0 && errno != EAGAIN && errno != EINTR)
			client_free(c);
		return 0;
	}
	n = recv(c->fd, c->in + c->in_len, CTL_MAX_LINE + 1 - c->in_len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		client_free(c); /* gone before a whole request */
		return 0;
	}
	c->last_active = mono_usec();
	c->in_len += (size_t)n;
	nl = memchr(c->in, '\n', c->in_len);
	if (nl) {
		handle_request(c, c->in, (size_t)(nl - c->in));
		return 0;
	}
	if (c->in_len > CTL_MAX_LINE) {
		log_warning("control: dropping a request longer than %d bytes", CTL_MAX_LINE);
		c->busy = true;
		client_reply(c, ctl_response_error("request too long"));
	}
	return 0;
}

/* May the peer on fd use the socket? 2: everything, 1: read only, 0: no. The groups come
 * from the socket itself (SO_PEERCRED, SO_PEERGROUPS: what the peer had when it connected),
 * not from /proc/PID/status, which ProtectProc= hides and which names no process when the
 * peer is in another pid namespace. */
static int peer_rights(struct control *ctl, int fd, const struct ucred *cred)
{
	gid_t small[64], *groups = small;
	socklen_t len = sizeof(small);
	int rights = 0;

	if (cred->uid == 0 || cred->uid == geteuid())
		return 2;
	if (cred->gid == ctl->group)
		return 1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
		if (errno != ERANGE)
			return 0;
		/* more than 64 groups: len says how much room they need */
		groups = malloc(len);
		if (!groups || getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
			free(groups);
			return 0;
		}
	}
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == ctl->group)
			rights = 1;
	if (groups != small)
		free(groups);
	return rights;
}

/* Closes the read-only client that has been idle longest: one without a request under way
 * (any, when busy_too). Read-only clients share a budget of their own, so that they never
 * keep root or the daemon's user out. */
static bool evict_readonly(struct control *ctl, bool busy_too)
{
	static const char msg[] =
	    "{\"v\":1,\"ok\":false,\"error\":\"closed: too many read-only clients, "
	    "this one idle longest\"}\n";
	struct client *victim = NULL;

	for (struct client *c = ctl->clients; c; c = c->next)
		if (!c->full_rights && (busy_too || !c->busy) &&
		    (!victim || c->last_active < victim->last_active))
			victim = c;
	if (!victim)
		return false;
	log_debug("control: closing the read-only client idle longest to make room");
	if (!victim->busy)
		(void)!send(victim->fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT);
	client_free(victim);
	return true;
}

/* Out of descriptors: a read-only client makes room, idle ones first. */
static bool make_room(void *userdata)
{
	struct control *ctl = userdata;

	return evict_readonly(ctl, false) || evict_readonly(ctl, true);
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct control *ctl = userdata;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct client *c;
	int cfd, rights;
	bool full;

	cfd = acceptor_accept(&ctl->acc);
	if (cfd < 0)
		return 0;
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		close(cfd);
		return 0;
	}
	rights = peer_rights(ctl, cfd, &cred);
	/* A read-only client takes the place of the one idle longest when the budget is full,
	 * and also when the descriptors left would not do for a reload (the lowest free one
	 * is always the next: a high one means few are left). */
	full = ctl->n_readonly >= CONTROL_MAX_READONLY ||
	       (rlim_t)cfd + CONTROL_FD_RESERVE >= ctl->fd_limit;
	if (rights == 1 && full && evict_readonly(ctl, false)) {
		/* into the descriptor just freed, lower: a high one would leave a hole that the
		 * next client fills, and read-only clients would creep over the reserve */
		int low = fcntl(cfd, F_DUPFD_CLOEXEC, 0);

		if (low >= 0 && low < cfd) {
			close(cfd);
			cfd = low;
		} else if (low >= 0)
			close(low);
		full = false;
	}
	if (!rights || (rights == 2 && ctl->n_full >= CONTROL_MAX_CLIENTS) ||
	    (rights == 1 && full)) {
		const char *msg = rights
				      ? "{\"v\":1,\"ok\":false,\"error\":\"too many clients\"}\n"
				      : "{\"v\":1,\"ok\":false,\"error\":\"permission denied\"}\n";

		ctl->ops->refused(ctl->userdata);
		if (!rights)
			log_warning("control: refused a client: uid %u, pid %d", (unsigned)cred.uid,
				    (int)cred.pid);
		(void)!send(cfd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT);
		close(cfd);
		return 0;
	}
	c = calloc(1, sizeof(*c));
	if (!c || !(c->in = malloc(CTL_MAX_LINE + 1))) {
		free(c);
		close(cfd);
		return 0;
	}
	c->ctl = ctl;
	c->fd = cfd;
	c->full_rights = rights == 2;
	c->last_active = mono_usec();
	buf_init(&c->out);
	c->next = ctl->clients;
	ctl->clients = c;
	if (c->full_rights)
		ctl->n_full++;
	else
		ctl->n_readonly++;
	if (sd_event_add_io(ctl->event, &c->io, cfd, EPOLLIN, on_client_io, c) < 0 ||
	    sd_event_add_time_relative(ctl->event, &c->timer, CLOCK_MONOTONIC, CONTROL_TIMEOUT_USEC,
				       0, on_client_timeout, c) < 0)
		client_free(c);
	return 0;
}

static int prepare_dir(const char *dir, gid_t group, bool have_group)
{
	struct stat st;

	if (mkdir(dir, 0750) == 0) {
		if (have_group && chown(dir, (uid_t)-1, group) < 0)
			log_warning("control: cannot give %s to the group: %s", dir,
				    strerror(errno));
		return 0;
	}
	if (errno != EEXIST)
		return -errno;
	if (lstat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR; /* a symlink or a file: not followed, not touched */
	return 0;
}

static bool same_file(const struct stat *st, dev_t dev, ino_t ino)
{
	return st->st_dev == dev && st->st_ino == ino;
}

/* Binds a new socket as ctl->tmp, makes it listen and renames it to ctl->path, creating the
 * directory when it is missing; records the inodes of both. Bound under another name and
 * renamed into place once it listens: a socket under the name pdynctl looks for refuses
 * connections only when its copy is gone, so neither pdynctl nor another copy's sweep
 * (ctldir.h) ever takes it for a stale one and removes it. With sweep (at start; not when
 * binding again, which may be tried every few seconds), other copies' stale sockets are
 * removed first. Returns the listening descriptor, or a negative errno with why (a phrase)
 * set. */
static int bind_socket(struct control *ctl, bool sweep, char *why, size_t why_size)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	mode_t old;
	int fd = -1, r;

	r = prepare_dir(ctl->dir, ctl->group, ctl->group_name != NULL);
	if (r < 0) {
		snprintf(why, why_size, "cannot use %s: %s", ctl->dir,
			 r == -ENOTDIR ? "not a directory (symlinks are not followed)"
				       : strerror(-r));
		return r;
	}
	if (sweep)
		ctldir_sweep(ctl->dir);
	if (lstat(ctl->path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		snprintf(why, why_size, "%s exists and is not a socket; not touching it",
			 ctl->path);
		return -EEXIST;
	}
	if (lstat(ctl->tmp, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(why, why_size, "%s exists and is not a socket; not touching it",
				 ctl->tmp);
			return -EEXIST;
		}
		unlink(ctl->tmp); /* of an earlier process with our pid */
	}
	strcpy(sa.sun_path, ctl->tmp);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		goto fail;
	}
	/* created 0660 at once: no moment where it is wider */
	old = umask(0117);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0) {
		r = -errno;
		goto fail;
	}
	if (listen(fd, 64) < 0 || lstat(ctl->tmp, &st) < 0) {
		r = -errno;
		goto fail_bound;
	}
	ctl->dev = st.st_dev;
	ctl->ino = st.st_ino;
	if (ctl->group_name && chown(ctl->tmp, (uid_t)-1, ctl->group) < 0)
		log_warning("control: cannot give %s to group %s: %s", ctl->path, ctl->group_name,
			    strerror(errno));
	if (rename(ctl->tmp, ctl->path) < 0) {
		r = -errno;
		goto fail_bound;
	}
	if (lstat(ctl->dir, &st) == 0) {
		ctl->dir_dev = st.st_dev;
		ctl->dir_ino = st.st_ino;
	}
	return fd;
fail_bound:
	unlink(ctl->tmp);
fail:
	snprintf(why, why_size, "cannot listen on %s: %s", ctl->path, strerror(-r));
	if (fd >= 0)
		close(fd);
	return r;
}

/* Removes the socket's name if it still leads to the socket we bound. */
static void unlink_own(struct control *ctl)
{
	struct stat st;

	if (ctl->path && lstat(ctl->path, &st) == 0 && same_file(&st, ctl->dev, ctl->ino))
		unlink(ctl->path);
}

static int start_listening(struct control *ctl)
{
	int r = acceptor_init(&ctl->acc, ctl->event, ctl->fd, "control", on_accept, ctl);

	if (r >= 0) {
		struct rlimit rl;

		ctl->fd_limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 1024;
		acceptor_set_make_room(&ctl->acc, make_room, ctl);
	}
	return r;
}

/* The socket's name was lost (the check below): what happened, once. A file in the way
 * that is not ours to touch is said here, and binding again stays quiet about it. */
static void say_lost(struct control *ctl)
{
	const char *pre = "", *name = ctl->path, *post,
		   *tail = "pdynctl cannot reach this copy: binding its socket again";
	struct stat st;

	if (lstat(ctl->dir, &st) < 0) {
		pre = "the control directory ";
		name = ctl->dir;
		post = "was removed";
	} else if (!S_ISDIR(st.st_mode)) {
		pre = "the control directory ";
		name = ctl->dir;
		post = "was replaced by something that is not a directory; not following it";
		tail = "pdynctl cannot reach this copy until a directory is there again";
		ctl->failure_said = true;
	} else if (!same_file(&st, ctl->dir_dev, ctl->dir_ino)) {
		pre = "the control directory ";
		name = ctl->dir;
		post = "was replaced (removed and made again, or renamed over)";
	} else if (lstat(ctl->path, &st) < 0)
		post = "was removed";
	else if (S_ISSOCK(st.st_mode))
		post = "was replaced by another socket";
	else {
		post = "was replaced by a file that is not a socket; not touching it";
		tail = "pdynctl cannot reach this copy until that file is gone";
		ctl->failure_said = true;
	}
	log_warning("control: %s%s %s; %s", pre, name, post, tail);
}

/* Binds the socket again in place of the lost one; says so when it works, and once when
 * it does not (tried again at every check). Clients already connected stay. */
static void bind_again(struct control *ctl)
{
	char why[PATH_MAX + 128];
	int fd = bind_socket(ctl, false, why, sizeof(why)), r = fd;

	if (fd >= 0) {
		acceptor_done(&ctl->acc);
		if (ctl->fd >= 0)
			close(ctl->fd);
		ctl->fd = fd;
		r = start_listening(ctl);
		if (r < 0) {
			snprintf(why, sizeof(why), "cannot listen on %s: %s", ctl->path,
				 strerror(-r));
			unlink_own(ctl);
			close(ctl->fd);
			ctl->fd = -1;
		}
	}
	if (r < 0) {
		if (!ctl->failure_said)
			log_warning("control: %s; trying again every %d s", why,
				    (int)(CONTROL_CHECK_USEC / 1000000));
		ctl->failure_said = true;
		return;
	}
	ctl->lost = ctl->failure_said = false;
	log_msg(LOG_NOTICE, "control: listening on %s again; pdynctl reaches this copy", ctl->path);
}

/* Every CONTROL_CHECK_USEC: does the socket's name still lead to this copy's socket? One
 * lstat(2) while it does; nothing on the question path, nothing per handler. */
static int on_check(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct control *ctl = userdata;
	struct stat st;

	if (!ctl->path) { /* systemd's socket: its name is systemd's to make again */
		if (lstat(ctl->systemd_path, &st) == 0 && same_file(&st, ctl->dev, ctl->ino))
			goto again;
		log_warning("control: %s, the socket systemd passed, was removed or replaced; "
			    "systemd owns it and this copy does not make it again: pdynctl "
			    "cannot reach this copy until pdyndns-control.socket and pdyndns "
			    "are restarted",
			    ctl->systemd_path);
		return 0; /* said once: the timer stays off */
	}
	if (!ctl->lost) {
		if (lstat(ctl->path, &st) == 0 && same_file(&st, ctl->dev, ctl->ino))
			goto again;
		say_lost(ctl);
		ctl->lost = true;
	}
	bind_again(ctl);
again:
	sd_event_source_set_time_relative(s, CONTROL_CHECK_USEC);
	sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

/* Starts the check of the socket's name (its inode in ctl->dev and ctl->ino). */
static int start_check(struct control *ctl)
{
	/* half a second of slack: the wake-up can share the loop's other timers' */
	return sd_event_add_time_relative(ctl->event, &ctl->check, CLOCK_MONOTONIC,
					  CONTROL_CHECK_USEC, 500 * 1000, on_check, ctl);
}

static struct control *control_alloc(sd_event *event, const struct control_ops *ops, void *userdata)
{
	struct control *ctl = calloc(1, sizeof(*ctl));

	if (ctl) {
		ctl->event = event;
		ctl->ops = ops;
		ctl->userdata = userdata;
		ctl->fd = -1;
	}
	return ctl;
}

int control_new_fd(sd_event *event, int fd, const struct control_ops *ops, void *userdata,
		   struct control **ret)
{
	struct control *ctl = control_alloc(event, ops, userdata);
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	struct stat st;
	int r;

	if (!ctl)
		return -ENOMEM;
	ctl->fd = fd;
	ctl->group = getegid(); /* who may connect is the socket unit's business (SocketMode=) */
	r = start_listening(ctl);
	if (r < 0) {
		log_error("control: cannot use the socket from systemd: %s; no control socket",
			  strerror(-r));
		close(fd);
		free(ctl);
		return r;
	}
	/* its name is watched too, to say when it is lost (not to make it again: systemd's) */
	if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0 && sa.sun_family == AF_UNIX &&
	    len > offsetof(struct sockaddr_un, sun_path) && sa.sun_path[0] && len <= sizeof(sa)) {
		((char *)&sa)[len < sizeof(sa) ? len : sizeof(sa) - 1] = 0;
		if (lstat(sa.sun_path, &st) == 0 && S_ISSOCK(st.st_mode) &&
		    (ctl->systemd_path = strdup(sa.sun_path))) {
			ctl->dev = st.st_dev;
			ctl->ino = st.st_ino;
			if (start_check(ctl) < 0)
				log_warning("control: cannot watch %s; its loss would go unnoticed",
					    ctl->systemd_path);
		}
	}
	log_debug("control: listening on the socket from systemd");
	*ret = ctl;
	return 0;
}

int control_new(sd_event *event, const char *dir, const char *group, const struct control_ops *ops,
		void *userdata, struct control **ret)
{
	struct sockaddr_un sa;
	struct control *ctl;
	char why[PATH_MAX + 128];
	int r;

	ctl = control_alloc(event, ops, userdata);
	if (!ctl)
		return -ENOMEM;
	ctl->group = getegid();
	if (group) {
		struct group *g = getgrnam(group);

		if (!g) {
			log_error("control: no group \"%s\"; no control socket", group);
			free(ctl);
			return -ENOENT;
		}
		ctl->group = g->gr_gid;
		ctl->group_name = strdup(group);
		if (!ctl->group_name) {
			free(ctl);
			return -ENOMEM;
		}
	}
	if (!(ctl->dir = strdup(dir))) {
		r = -ENOMEM;
		goto fail;
	}
	if (asprintf(&ctl->path, "%s/pdyndns.%d.sock", dir, (int)getpid()) < 0 ||
	    asprintf(&ctl->tmp, "%s/.pdyndns.%d.new", dir, (int)getpid()) < 0 ||
	    strlen(ctl->path) >= sizeof(sa.sun_path) || strlen(ctl->tmp) >= sizeof(sa.sun_path)) {
		log_error("control: socket path too long in %s; no control socket", dir);
		r = -ENAMETOOLONG;
		goto fail;
	}
	r = bind_socket(ctl, true, why, sizeof(why));
	if (r < 0) {
		log_error("control: %s; no control socket (pdynctl will not see this copy)", why);
		goto fail;
	}
	ctl->fd = r;
	r = start_listening(ctl);
	if (r < 0) {
		log_error("control: cannot listen on %s: %s; no control socket", ctl->path,
			  strerror(-r));
		unlink_own(ctl);
		goto fail;
	}
	/* a copy whose socket is removed ("cleaning stale sockets") or whose directory is
	 * made again binds it again, instead of being out of pdynctl's reach for good */
	if (start_check(ctl) < 0)
		log_warning("control: cannot watch %s; if it is removed, this copy is not bound "
			    "again",
			    ctl->path);
	log_debug("control: listening on %s", ctl->path);
	*ret = ctl;
	return 0;
fail:
	if (ctl->fd >= 0) {
		acceptor_done(&ctl->acc);
		close(ctl->fd);
	}
	free(ctl->path);
	free(ctl->tmp);
	free(ctl->dir);
	free(ctl->group_name);
	free(ctl);
	return r;
}

struct control *control_free(struct control *ctl)
{
	if (!ctl)
		return NULL;
	while (ctl->clients)
		client_free(ctl->clients);
	sd_event_source_disable_unref(ctl->check);
	acceptor_done(&ctl->acc);
	if (ctl->fd >= 0)
		close(ctl->fd);
	unlink_own(ctl); /* ours only: systemd's stays, and so does a file put in its place */
	free(ctl->path);
	free(ctl->tmp);
	free(ctl->dir);
	free(ctl->group_name);
	free(ctl->systemd_path);
	free(ctl);
	return NULL;
}
