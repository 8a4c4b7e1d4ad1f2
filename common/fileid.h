/* SPDX-License-Identifier: MIT */
/* File identity: enough to tell that a file was replaced or rewritten without reading it. */
#pragma once

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

struct diag;

#define FILE_ID_COARSE_SEC 2 /* the coarsest timestamps a filesystem keeps (vfat) */

/* What identifies the file a list was read from, to skip re-parsing an unchanged file. */
struct file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct timespec ctime;
};

/* Identity of the file at path (following symlinks). Returns 0 or a negative errno. */
int file_id_get(const char *path, struct file_id *id);
void file_id_from_stat(const struct stat *st, struct file_id *id);
bool file_id_equal(const struct file_id *a, const struct file_id *b);

/* The clock file timestamps are taken from (coarse wall time): read it before reading a file. */
void file_id_clock(struct timespec *now);

/* True if the file cannot have changed unseen since it was read at read_at: its last change
 * lies in an earlier clock tick. Timestamps are only as fine as that tick (a few ms), so a
 * same-size rewrite within the tick of the read leaves an equal identity; such a file must
 * be read again to know. A file whose mtime and ctime both have zero nanoseconds is on a
 * filesystem with coarse times (whole seconds, or two for vfat): it is settled only once
 * read_at is FILE_ID_COARSE_SEC seconds past both. */
bool file_id_settled(const struct file_id *id, const struct timespec *read_at);

/* Opens the file at path for reading, never waiting on it (O_NONBLOCK: a FIFO without a
 * writer, a device), and checks that it is a regular file of at most max bytes before a
 * byte is read. Returns the descriptor (*st: what it is), or a negative errno after adding
 * "PATH: error: ..." to d: it cannot be opened or stat'ed, it is not a regular file
 * (-EINVAL, also for a socket, which cannot be opened), or it is larger than max (-EFBIG).
 * *st is also written when the file was opened but refused. A file can still grow after the
 * check: a reader counts what it reads against max too. */
int file_open_regular(const char *path, size_t max, struct diag *d, struct stat *st);

/* Reads the whole regular file at path, of at most max bytes, into *text (NUL terminated,
 * malloc'd, *len bytes before the NUL); *st gets what it was read from. Returns 0, or a
 * negative errno after adding "PATH: error: ..." to d: the file cannot be opened or read,
 * is not a regular file (-EINVAL), is larger than max (-EFBIG), or grew while it was read
 * (-EAGAIN). */
int file_read_all(const char *path, size_t max, struct diag *d, char **text, size_t *len,
		  struct stat *st);

/* What a file of this mode is, for messages: "a FIFO", "a directory", ... */
const char *file_kind(mode_t mode);
