/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "fileid.h"
#include "macro.h"

int file_id_get(const char *path, struct file_id *id)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	file_id_from_stat(&st, id);
	return 0;
}

void file_id_from_stat(const struct stat *st, struct file_id *id)
{
	*id = (struct file_id){
	    .dev = st->st_dev,
	    .ino = st->st_ino,
	    .size = st->st_size,
	    .mtime = st->st_mtim,
	    .ctime = st->st_ctim,
	};
}

void file_id_clock(struct timespec *now)
{
	clock_gettime(CLOCK_REALTIME_COARSE, now);
}

static bool before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

bool file_id_settled(const struct file_id *id, const struct timespec *read_at)
{
	if (id->mtime.tv_nsec == 0 && id->ctime.tv_nsec == 0)
		/* whole seconds (ext4 with 128-byte inodes, ext3) or two (vfat): a write in
		 * the same second or two after the read leaves the times as they are */
		return read_at->tv_sec - FILE_ID_COARSE_SEC >= id->mtime.tv_sec &&
		       read_at->tv_sec - FILE_ID_COARSE_SEC >= id->ctime.tv_sec;
	return before(&id->mtime, read_at) && before(&id->ctime, read_at);
}

bool file_id_equal(const struct file_id *a, const struct file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

const char *file_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return "a regular file";
	case S_IFDIR: return "a directory";
	case S_IFIFO: return "a FIFO";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	case S_IFSOCK: return "a socket";
	case S_IFLNK: return "a symbolic link";
	}
	return "of an unknown type";
}

int file_open_regular(const char *path, size_t max, struct diag *d, struct stat *st)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	int r;

	if (fd < 0) {
		r = -errno;
		/* a socket cannot be opened (ENXIO): say what it is */
		if (r == -ENXIO && stat(path, st) == 0 && !S_ISREG(st->st_mode)) {
			diag_add_at(d, path, 0, "%s: error: not a regular file (%s)", path,
				    file_kind(st->st_mode));
			return -EINVAL;
		}
		diag_add_at(d, path, 0, "%s: error: cannot open: %s", path, strerror(-r));
		return r;
	}
	if (fstat(fd, st) < 0) {
		r = -errno;
		diag_add_at(d, path, 0, "%s: error: cannot stat: %s", path, strerror(-r));
		return r;
	}
	if (!S_ISREG(st->st_mode)) {
		diag_add_at(d, path, 0, "%s: error: not a regular file (%s)", path,
			    file_kind(st->st_mode));
		return -EINVAL;
	}
	if (st->st_size > (off_t)max) {
		diag_add_at(d, path, 0, "%s: error: larger than %zu bytes", path, max);
		return -EFBIG;
	}
	return TAKE_FD(fd);
}

int file_read_all(const char *path, size_t max, struct diag *d, char **text, size_t *len,
		  struct stat *st)
{
	_cleanup_close_ int fd = file_open_regular(path, max, d, st);
	_cleanup_free_ char *buf = NULL;
	size_t have = 0;
	int r;

	if (fd < 0)
		return fd;
	buf = malloc((size_t)st->st_size + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(fd, buf + have, (size_t)st->st_size + 1 - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			diag_add_at(d, path, 0, "%s: error: read failed: %s", path,
				    strerror(errno));
			return r;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		if (have > (size_t)st->st_size) {
			diag_add_at(d, path, 0,
				    "%s: error: the file grew while it was read; try again", path);
			return -EAGAIN;
		}
	}
	buf[have] = 0;
	*len = have;
	*text = TAKE_PTR(buf);
	return 0;
}
