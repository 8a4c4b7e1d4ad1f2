/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "fileid.h"

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
