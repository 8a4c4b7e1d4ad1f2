/* SPDX-License-Identifier: MIT */
/* LD_PRELOAD shim for tests/integration/frozen-times.sh: stat() and fstat() of a file whose
 * path holds "frozen" report the same mtime and ctime whatever is written, as a filesystem
 * whose attributes are cached (NFS) or not kept can. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void freeze(const char *path, struct stat *st)
{
	if (path && strstr(path, "frozen")) {
		st->st_mtim = (struct timespec){1000000000, 500000000};
		st->st_ctim = st->st_mtim;
	}
}

int stat(const char *path, struct stat *st)
{
	static int (*real)(const char *, struct stat *);
	int r;

	if (!real)
		real = (int (*)(const char *, struct stat *))dlsym(RTLD_NEXT, "stat");
	r = real(path, st);
	if (r == 0)
		freeze(path, st);
	return r;
}

int fstat(int fd, struct stat *st)
{
	static int (*real)(int, struct stat *);
	char link[64], path[4096];
	ssize_t n;
	int r;

	if (!real)
		real = (int (*)(int, struct stat *))dlsym(RTLD_NEXT, "fstat");
	r = real(fd, st);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if (r == 0 && (n = readlink(link, path, sizeof(path) - 1)) > 0) {
		path[n] = 0;
		freeze(path, st);
	}
	return r;
}
