/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static int max_level = LOG_INFO;
static int log_fd = STDERR_FILENO;
static bool log_socket;
static atomic_ullong dropped;

void log_init(void)
{
	struct stat st;

	if (fstat(STDERR_FILENO, &st) < 0)
		return;
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

void log_msg(int level, const char *fmt, ...)
{
	char line[4096];
	va_list ap;
	int n, m;

	if (level > max_level)
		return;
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
