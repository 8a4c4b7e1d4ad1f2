/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || dev != (unsigned long long)st->st_dev ||
	    ino != (unsigned long long)st->st_ino)
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

unsigned long long log_dropped(void) { return atomic_load(&dropped); }

void log_set_level(int level) { max_level = level; }
void log_set_generation(unsigned long long g) { atomic_store(&generation, g); }
int log_get_level(void) { return max_level; }

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

/* One journal record: the message and the fields it names ("FILE:LINE: ..." at its start,
 * "... for NAME TYPE (...") inside). Returns false if the journal did not take it. */
static bool journal_send(int level, const char *msg)
{
	char rec[4608], *o = rec, *end = rec + sizeof(rec);
	const char *p, *q;

	o += snprintf(o, (size_t)(end - o), "PRIORITY=%d\nSYSLOG_IDENTIFIER=pdyndns\nSYSLOG_PID=%d\n"
		      "PDYNDNS_GENERATION=%llu\nMESSAGE=%s\n", level, (int)getpid(),
		      (unsigned long long)atomic_load(&generation), msg);
	if (msg[0] == '/' && (p = strchr(msg, ':'))) {
		o += snprintf(o, (size_t)(end - o), "PDYNDNS_FILE=%.*s\n", (int)(p - msg), msg);
		if (p[1] >= '0' && p[1] <= '9' && (q = p + 1 + strspn(p + 1, "0123456789"))[0] == ':')
			o += snprintf(o, (size_t)(end - o), "PDYNDNS_LINE=%.*s\n", (int)(q - p - 1), p + 1);
	}
	if ((p = strstr(msg, " for ")) && (q = strstr(p, " (")) && q - p < 300 && !memchr(p + 5, ':', (size_t)(q - p - 5)))
		o += snprintf(o, (size_t)(end - o), "PDYNDNS_HANDLER=%.*s\n", (int)(q - p - 5), p + 5);
	if (o >= end)
		o = end - 1; /* cut: the last field loses its end */
	return sendto(journal_fd, rec, (size_t)(o - rec), MSG_DONTWAIT | MSG_NOSIGNAL,
		      (struct sockaddr *)&journal_addr, sizeof(journal_addr)) == o - rec;
}

void log_msg(int level, const char *fmt, ...)
{
	char line[4096];
	va_list ap;
	int n, m;

	if (level > max_level)
		return;
	if (journal_fd >= 0) {
		va_start(ap, fmt);
		m = vsnprintf(line, sizeof(line), fmt, ap);
		va_end(ap);
		if (m < 0)
			return;
		for (char *c = line; *c; c++)
			if (*c == '\n')
				*c = ' '; /* one line per MESSAGE= field */
		if (!journal_send(level, line))
			atomic_fetch_add(&dropped, 1);
		return;
	}
	n = snprintf(line, sizeof(line), "pdyndns[%d]: %s: ", (int)getpid(), level_name(level));
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
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
