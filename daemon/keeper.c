/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "keeper.h"
#include "log.h"

/* pdyndns -> keeper: one datagram per message, PUT with the descriptor. */
enum { KEEPER_PUT = 1, KEEPER_DROP = 2 };
struct keeper_msg {
	uint32_t op;
	uint32_t slot;
};

/* keeper -> the next pdyndns: one datagram per connection, with its descriptor. */
struct keeper_handover {
	uint32_t slot;
	struct keeper_slot state;
};

static struct keeper_slot *slots; /* KEEPER_SLOTS of them, shared with the keeper */
static struct keeper_slot dummy;
static int keeper_fd = -1; /* pdyndns's end of the socket pair, -1 without a keeper */

static int rendezvous_addr(const char *path, struct sockaddr_un *sa)
{
	*sa = (struct sockaddr_un){.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

static int send_fd(int sock, const void *data, size_t len, int fd, int flags)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (fd >= 0) {
		struct cmsghdr *cm;

		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(fd));
	}
	return sendmsg(sock, &mh, flags | MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* Returns the datagram's length (0 at EOF) or -errno; *fd is the descriptor it carried or -1. */
static ssize_t recv_fd(int sock, void *data, size_t len, int *fd, int flags)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = data, .iov_len = len};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cm;
	ssize_t r = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);

	*fd = -1;
	if (r < 0)
		return -errno;
	cm = CMSG_FIRSTHDR(&mh);
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
		memcpy(fd, CMSG_DATA(cm), sizeof(*fd));
	return r;
}

/* --- the keeper process: system calls and snprintf only (it is forked from a threaded
 * process; in the C locale strerror() returns fixed strings) --- */

static void say(const char *fmt, ...)
{
	char line[512];
	int n = snprintf(line, sizeof(line), "pdyndns-keeper[%d]: ", (int)getpid());
	va_list ap;

	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

static int held[KEEPER_SLOTS];

static unsigned count_held(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < KEEPER_SLOTS; i++)
		n += held[i] >= 0;
	return n;
}

static void drop(unsigned i)
{
	if (held[i] >= 0)
		close(held[i]);
	held[i] = -1;
}

/* Binds the rendezvous socket, unless another keeper waits there. */
static int rendezvous_listen(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), probe;

	if (fd < 0)
		return -1;
	probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (const struct sockaddr *)sa, sizeof(*sa)) == 0) {
		close(probe);
		close(fd);
		return -1; /* an older keeper offers its own: try again later */
	}
	if (probe >= 0)
		close(probe);
	(void)unlink(sa->sun_path);
	if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 || listen(fd, 4) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Gives every held connection to the pdyndns on peer; they are its own from now on. */
static unsigned hand_over(int peer)
{
	static struct keeper_handover h;
	unsigned n = 0;

	for (unsigned i = 0; i < KEEPER_SLOTS; i++) {
		if (held[i] < 0)
			continue;
		h.slot = i;
		memcpy(&h.state, &slots[i], sizeof(h.state));
		if (send_fd(peer, &h, sizeof(h), held[i], 0) == 0)
			n++;
		drop(i);
	}
	return n;
}

static _Noreturn void keeper_main(int ctl, pid_t owner, const struct sockaddr_un *sa)
{
	static struct pollfd pfd[KEEPER_SLOTS + 2];
	static unsigned at[KEEPER_SLOTS + 2]; /* pfd index -> slot */
	int lfd = -1;
	time_t orphaned = 0; /* when pdyndns went away */

	for (unsigned i = 0; i < KEEPER_SLOTS; i++)
		held[i] = -1;
	for (;;) {
		nfds_t n = 0, first;
		int timeout = -1;

		if (ctl >= 0)
			pfd[n++] = (struct pollfd){.fd = ctl, .events = POLLIN};
		else if (lfd >= 0)
			pfd[n++] = (struct pollfd){.fd = lfd, .events = POLLIN};
		else
			timeout = 1000; /* bind the rendezvous socket again in a second */
		first = n;
		for (unsigned i = 0; i < KEEPER_SLOTS; i++)
			if (held[i] >= 0) {
				at[n] = i;
				/* only hang-ups: what PowerDNS writes waits for the next pdyndns */
				pfd[n++] = (struct pollfd){.fd = held[i], .events = 0};
			}
		if (ctl < 0) {
			if (n == first) {
				say("PowerDNS closed every connection it had to pdyndns (pid %d); exiting",
				    (int)owner);
				break;
			}
			if (time(NULL) - orphaned >= KEEPER_WAIT_S) {
				say("no pdyndns took over %u PowerDNS connection(s) in %d s; closing them "
				    "and exiting",
				    (unsigned)(n - first), KEEPER_WAIT_S);
				break;
			}
			if (timeout < 0)
				timeout = 1000;
		}
		if (poll(pfd, n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			say("poll: %s", strerror(errno));
			break;
		}
		for (nfds_t k = first; k < n; k++)
			if (pfd[k].revents)
				drop(at[k]);
		if (ctl < 0) {
			if (lfd < 0) {
				lfd = rendezvous_listen(sa);
			} else if (pfd[0].revents) {
				int peer = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
				unsigned given;

				if (peer < 0)
					continue;
				given = hand_over(peer);
				close(peer);
				say("handed %u PowerDNS connection%s of pdyndns (pid %d) to the next pdyndns",
				    given, given == 1 ? "" : "s", (int)owner);
				break;
			}
			continue;
		}
		if (!pfd[0].revents)
			continue;
		for (;;) {
			struct keeper_msg m;
			int fd;
			ssize_t r = recv_fd(ctl, &m, sizeof(m), &fd, MSG_DONTWAIT);

			if (r == -EAGAIN || r == -EINTR)
				break;
			if (r <= 0) {
				/* pdyndns stopped or died: wait for the next one */
				close(ctl);
				ctl = -1;
				orphaned = time(NULL);
				lfd = rendezvous_listen(sa);
				say("pdyndns (pid %d) is gone: holding %u PowerDNS connection%s for the next "
				    "pdyndns (for up to %d s)",
				    (int)owner, count_held(), count_held() == 1 ? "" : "s",
				    KEEPER_WAIT_S);
				break;
			}
			if (r != sizeof(m) || m.slot >= KEEPER_SLOTS) {
				if (fd >= 0)
					close(fd);
				continue;
			}
			drop(m.slot);
			if (m.op == KEEPER_PUT && fd >= 0)
				held[m.slot] = fd;
			else if (fd >= 0)
				close(fd);
		}
	}
	if (lfd >= 0) {
		close(lfd);
		(void)unlink(sa->sun_path);
	}
	_exit(0);
}

/* --- pdyndns's side --- */

static int map_slots(void)
{
	void *p;

	if (slots)
		return 0;
	p = mmap(NULL, KEEPER_SLOTS * sizeof(*slots), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	slots = p;
	return 0;
}

struct keeper_slot *keeper_slot(unsigned slot)
{
	return slots && slot < KEEPER_SLOTS ? &slots[slot] : &dummy;
}

int keeper_start(const char *rendezvous)
{
	struct sockaddr_un sa;
	int sp[2], status, r;
	pid_t child, owner = getpid();

	r = rendezvous_addr(rendezvous, &sa);
	if (r == 0)
		r = map_slots();
	if (r == 0 && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		r = -errno;
	if (r < 0) {
		log_warning(
		    "connection keeper: %s; a restart of pdyndns will leave PowerDNS threads "
		    "failing until pdns restarts",
		    strerror(-r));
		return r;
	}
	/* Forked twice, so that the keeper is nobody's child here (no zombie to reap). */
	child = fork();
	if (child < 0) {
		r = -errno;
		log_warning("connection keeper: fork: %s; a restart of pdyndns will leave PowerDNS "
			    "threads failing until pdns restarts",
			    strerror(-r));
		close(sp[0]);
		close(sp[1]);
		return r;
	}
	if (child == 0) {
		sigset_t none;
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (fork() != 0)
			_exit(0);
		(void)setsid();
		/* so that ps, top and the tests tell it from pdyndns (its argv is pdyndns's) */
		(void)prctl(PR_SET_NAME, "pdyndns-keeper", 0, 0, 0);
		(void)umask(077);
		sigemptyset(&none);
		(void)sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_IGN);
		signal(SIGURG, SIG_DFL);
		signal(SIGHUP, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		if (null >= 0) { /* it writes to stderr only */
			(void)dup2(null, STDIN_FILENO);
			(void)dup2(null, STDOUT_FILENO);
		}
		/* nothing of pdyndns's stays open here: not the listening socket (PowerDNS would
		 * connect to it and wait for ever), not the control socket, not the files */
		if (dup2(sp[1], 3) < 0)
			_exit(1);
		(void)close_range(4, ~0U, 0);
		keeper_main(3, owner, &sa);
	}
	close(sp[1]);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (keeper_fd >= 0)
		close(keeper_fd);
	keeper_fd = sp[0];
	return 0;
}

int keeper_hold(unsigned slot, int fd)
{
	struct keeper_msg m = {.op = KEEPER_PUT, .slot = slot};
	int r = keeper_fd < 0 ? -ENOTCONN : send_fd(keeper_fd, &m, sizeof(m), fd, 0);

	if (r < 0 && keeper_fd >= 0) {
		log_warning("connection keeper: %s", strerror(-r));
		close(keeper_fd);
		keeper_fd = -1;
	}
	return r;
}

void keeper_release(unsigned slot)
{
	struct keeper_msg m = {.op = KEEPER_DROP, .slot = slot};

	if (keeper_fd >= 0)
		(void)send_fd(keeper_fd, &m, sizeof(m), -1, 0);
}

void keeper_done(void)
{
	if (keeper_fd >= 0)
		close(keeper_fd);
	keeper_fd = -1;
}

int keeper_take_over(const char *rendezvous, keeper_adopt_fn adopt, void *userdata)
{
	static struct keeper_handover h;
	struct timeval tv = {.tv_sec = 2};
	struct sockaddr_un sa;
	int sock, r, n = 0;

	r = rendezvous_addr(rendezvous, &sa);
	if (r < 0)
		return r;
	r = map_slots();
	if (r < 0)
		return r;
	sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return -errno;
	if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(sock);
		return 0; /* no keeper waits */
	}
	(void)setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (;;) {
		int fd;
		ssize_t len = recv_fd(sock, &h, sizeof(h), &fd, 0);

		if (len <= 0) {
			if (len < 0)
				log_warning("connection keeper: taking over: %s",
					    strerror((int)-len));
			break;
		}
		if (fd < 0)
			continue;
		if (len != sizeof(h) || h.slot >= KEEPER_SLOTS || h.state.len > KEEPER_LINE_MAX) {
			close(fd);
			continue;
		}
		adopt(fd, &h.state, userdata);
		n++;
	}
	close(sock);
	return n;
}
