/* SPDX-License-Identifier: MIT */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

static int max_level = LOG_INFO;
static int log_fd = STDERR_FILENO;
static bool log_socket;
static atomic_ullong dropped;
static atomic_ullong generation;

/* the journal's native socket, when stderr is the journal's stream */
static int journal_fd = -1;
static struct sockaddr_un journal_addr = {.sun_family = AF_UNIX};

/* Is stderr the stream JOURNAL_STREAM ("DEV:INODE") names? Then records go to the journal's
 * socket (PDYNDNS_JOURNAL_SOCKET overrides its path, for tests), without ever waiting. */
static void journal_init(const struct stat *st)
{
	const char *js = getenv("JOURNAL_STREAM"), *path = getenv("PDYNDNS_JOURNAL_SOCKET");
	unsigned long long dev, ino;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
	    dev != (unsigned long long)st->st_dev || ino != (unsigned long long)st->st_ino)
		return;
	if (!path)
		path = "/run/systemd/journal/socket";
	if (strlen(path) >= sizeof(journal_addr.sun_path))
		return;
	strcpy(journal_addr.sun_path, path);
	journal_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
}

void log_init(void)
{
	struct stat st;

	if (fstat(STDERR_FILENO, &st) < 0)
		return;
	journal_init(&st);
	if (S_ISFIFO(st.st_mode)) {
		/* A new open file description of the same pipe, so that O_NONBLOCK does not
		 * change the one PowerDNS and its other coprocesses share. */
		int fd = open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_CLOEXEC);

		if (fd >= 0)
			log_fd = fd;
	} else if (S_ISSOCK(st.st_mode))
		log_socket = true; /* e.g. the journal's stream */
}

unsigned long long log_dropped(void)
{
	return atomic_load(&dropped);
}

void log_set_level(int level)
{
	max_level = level;
}
void log_set_generation(unsigned long long g)
{
	atomic_store(&generation, g);
}
int log_get_level(void)
{
	return max_level;
}

static const char *level_name(int level)
{
	switch (level) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT: return "critical";
	case LOG_ERR: return "error";
	case LOG_WARNING: return "warning";
	case LOG_NOTICE:
	case LOG_INFO: return "info";
	default: return "debug";
	}
}

/* One record of the journal's native protocol, as iovecs: per field NAME=value\n, or, for a
 * value holding a newline, NAME\n, its length (64 bits, little endian), the value and \n.
 * Every part is bounded by what it points to: nothing is copied, nothing is cut.
 *
 * libsystemd's sd_journal_sendv() builds the same record, but is not used: it sends on a
 * blocking socket (a full journal stalls the caller, and the loop answers questions; its
 * journal_fd_nonblock() is internal), falls back to writing the record into a memfd when it
 * does not fit, and has the socket's path built in (tests use PDYNDNS_JOURNAL_SOCKET). */
struct record {
	struct iovec iov[48]; /* at most 8 fields of at most 3 parts: 6 iovecs each */
	uint64_t len[8];
	size_t n_iov, n_len, size;
};

static void record_add(struct record *r, const char *name, const struct iovec *parts, size_t n)
{
	size_t total = 0;
	bool nl = false;

	if (r->n_iov + n + 4 > ELEMENTSOF(r->iov) || r->n_len >= ELEMENTSOF(r->len))
		return; /* never: the fields are fixed below */
	for (size_t i = 0; i < n; i++) {
		total += parts[i].iov_len;
		nl = nl || memchr(parts[i].iov_base, '\n', parts[i].iov_len);
	}
	r->iov[r->n_iov++] = (struct iovec){(void *)name, strlen(name)};
	if (nl) {
		r->len[r->n_len] = htole64(total);
		r->iov[r->n_iov++] = (struct iovec){(void *)"\n", 1};
		r->iov[r->n_iov++] = (struct iovec){&r->len[r->n_len++], sizeof(uint64_t)};
		r->size += sizeof(uint64_t);
	} else
		r->iov[r->n_iov++] = (struct iovec){(void *)"=", 1};
	for (size_t i = 0; i < n; i++)
		r->iov[r->n_iov++] = parts[i];
	r->iov[r->n_iov++] = (struct iovec){(void *)"\n", 1};
	r->size += strlen(name) + 2 + total;
}

static void record_add_str(struct record *r, const char *name, const char *value)
{
	record_add(r, name, &(struct iovec){(void *)value, strlen(value)}, 1);
}

/* Sends one record without waiting. Returns false if the journal did not take it. */
static bool journal_send(int level, const char *msg, size_t len, const struct diag_at *at)
{
	char prio[12], pid[12], gen[24], line[24];
	struct record r = {.n_iov = 0};
	struct msghdr mh = {.msg_name = &journal_addr, .msg_namelen = sizeof(journal_addr)};

	snprintf(prio, sizeof(prio), "%d", level);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	snprintf(gen, sizeof(gen), "%llu", (unsigned long long)atomic_load(&generation));
	record_add_str(&r, "PRIORITY", prio);
	record_add_str(&r, "SYSLOG_IDENTIFIER", "pdyndns");
	record_add_str(&r, "SYSLOG_PID", pid);
	record_add_str(&r, "PDYNDNS_GENERATION", gen);
	record_add(&r, "MESSAGE", &(struct iovec){(void *)msg, len}, 1);
	if (at && at->file)
		record_add_str(&r, "PDYNDNS_FILE", at->file);
	if (at && at->line) {
		snprintf(line, sizeof(line), "%zu", at->line);
		record_add_str(&r, "PDYNDNS_LINE", line);
	}
	if (at && at->qname)
		record_add(&r, "PDYNDNS_HANDLER",
			   (struct iovec[]){{(void *)at->qname, strlen(at->qname)},
					    {(void *)" ", at->qtype ? 1 : 0},
					    {(void *)(at->qtype ? at->qtype : ""),
					     at->qtype ? strlen(at->qtype) : 0}},
			   3);
	mh.msg_iov = r.iov;
	mh.msg_iovlen = r.n_iov;
	return sendmsg(journal_fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)r.size;
}

void log_atv(int level, const struct diag_at *at, const char *fmt, va_list ap)
{
	char line[4096];
	_cleanup_free_ char *big = NULL;
	va_list aq;
	int n, m;

	if (level > max_level)
		return;
	if (journal_fd >= 0) {
		/* the whole message: a datagram is taken whole or not at all */
		va_copy(aq, ap);
		m = vsnprintf(line, sizeof(line), fmt, aq);
		va_end(aq);
		if (m >= (int)sizeof(line) && vasprintf(&big, fmt, ap) < 0) {
			big = NULL;
			m = (int)sizeof(line) - 1; /* no memory: the message cut */
		}
		if (m < 0 || !journal_send(level, big ? big : line, (size_t)m, at))
			atomic_fetch_add(&dropped, 1);
		return;
	}
	n = snprintf(line, sizeof(line), "pdyndns[%d]: %s: ", (int)getpid(), level_name(level));
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* one write, so that lines of several processes do not interleave; again if the
	 * waker's signal interrupted it before anything was written */
	for (;;) {
		ssize_t w = log_socket ? send(log_fd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL)
				       : write(log_fd, line, (size_t)n);

		if (w >= 0 || errno != EINTR) {
			if (w < n) /* full (EAGAIN), gone (EPIPE), or cut short */
				atomic_fetch_add(&dropped, 1);
			break;
		}
	}
}

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_atv(level, NULL, fmt, ap);
	va_end(ap);
}

void log_at(int level, const struct diag_at *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_atv(level, at, fmt, ap);
	va_end(ap);
}

void log_diag(int level, const struct diag *d)
{
	for (size_t i = 0; i < d->n_msgs; i++)
		log_at(level, &d->at[i], "%s", d->msgs[i]);
}
