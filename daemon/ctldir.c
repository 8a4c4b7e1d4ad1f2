/* SPDX-License-Identifier: MIT */
/* The control directory (ctldir.h): the copies' sockets in it, stale ones swept, live ones
 * asked what they say of themselves. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "ctldir.h"
#include "ctlproto.h"
#include "log.h"
#include "macro.h"

/* Does nobody listen on the socket at path? A copy binds its socket under another name and
 * renames it into place once it listens (control_new()), so a refused connection means its
 * process is gone: killed (PowerDNS kills the copies it discards, e.g. after an AXFR, with
 * SIGKILL), or a zombie (PowerDNS 5 reaps them late), or its pid now another process's. */
static bool nobody_listens(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return false;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? errno : 0;
	close(fd);
	return r == ECONNREFUSED;
}

/* The pid in name if it is "PREFIX<pid>SUFFIX" exactly, else 0. */
static int name_pid(const char *name, const char *prefix, const char *suffix)
{
	size_t lp = strlen(prefix), ls = strlen(suffix), n = strlen(name);
	char *end;
	long pid;

	if (n <= lp + ls || strncmp(name, prefix, lp) != 0 || strcmp(name + n - ls, suffix) != 0)
		return 0;
	pid = strtol(name + lp, &end, 10);
	return end == name + n - ls && pid > 0 && pid <= INT_MAX ? (int)pid : 0;
}

void ctldir_sweep(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *e;

	if (!dp)
		return;
	while ((e = readdir(dp))) {
		int pid = name_pid(e->d_name, "pdyndns.", ".sock"),
		    setup = name_pid(e->d_name, ".pdyndns.", ".new");
		char path[4096];
		struct stat st;
		bool gone;

		if ((!pid && !setup) || pid == (int)getpid() || setup == (int)getpid())
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
			continue;
		if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
			continue;
		gone = kill(pid ? pid : setup, 0) < 0 && errno == ESRCH;
		/* one being set up has no listener yet: only its pid tells */
		if (!gone && pid)
			gone = nobody_listens(path);
		if (gone && unlink(path) == 0)
			log_debug("control: removed the stale socket %s", path);
	}
	closedir(dp);
}

/* One line of another copy's status summary, or NULL: connect, send, read one line, all
 * within about 500 ms (the copy answers between two of PowerDNS's questions). */
static json_object *ask_summary(const char *path)
{
	char *req = ctl_request_encode(&(struct ctl_request){.cmd = CTL_STATUS, .summary = true});
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_usec = 500000};
	char line[4096];
	size_t got = 0;
	uint64_t until = mono_usec() + 500000;
	json_object *res = NULL;
	char *err = NULL;
	bool ok = false, stream = false;
	int fd;

	if (!req || strlen(path) >= sizeof(sa.sun_path)) {
		free(req);
		return NULL;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		free(req);
		return NULL;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req))
		goto out;
	while (got < sizeof(line) && !memchr(line, '\n', got)) {
		/* the waker's signal interrupts the wait (waker.h): wait again, 500 ms in all */
		ssize_t n = recv(fd, line + got, sizeof(line) - got, 0);

		if (n < 0 && errno == EINTR && mono_usec() < until)
			continue;
		if (n <= 0)
			goto out;
		got += (size_t)n;
	}
	if (!memchr(line, '\n', got) ||
	    ctl_response_decode(line, (size_t)((char *)memchr(line, '\n', got) - line), &ok, &res,
				&err, &stream) < 0 ||
	    !ok) {
		json_object_put(res);
		res = NULL;
	}
out:
	free(req);
	free(err);
	close(fd);
	return res;
}

static long long member_int(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? (long long)json_object_get_int64(v) : -1;
}

size_t ctldir_describe_copies(const char *dir, struct buf *out)
{
	DIR *dp = dir ? opendir(dir) : NULL;
	struct dirent *e;
	size_t n = 0;

	if (!dp)
		return 0;
	while ((e = readdir(dp))) {
		int pid = name_pid(e->d_name, "pdyndns.", ".sock");
		char path[4096];
		json_object *res;

		if (!pid || pid == (int)getpid() ||
		    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
			continue;
		res = ask_summary(path);
		if (!res && nobody_listens(path))
			continue; /* a copy that is gone */
		n++;
		buf_puts(out, "  pid ");
		buf_puti(out, pid);
		if (res) {
			buf_puts(out, ": generation ");
			buf_puti(out, member_int(res, "generation"));
			buf_puts(out, ", up ");
			buf_puti(out, member_int(res, "uptime"));
			buf_puts(out, " s, ");
			buf_puti(out, member_int(res, "lookups"));
			buf_puts(out, member_int(res, "lookups") == 1 ? " lookup answered"
								      : " lookups answered");
			json_object_put(res);
		} else
			buf_puts(out, ": did not answer (busy, or not ours to ask)");
		buf_puts(out, " (");
		buf_puts(out, path);
		buf_puts(out, ")\n");
	}
	closedir(dp);
	return n;
}
