/* SPDX-License-Identifier: MIT */
/* File identity: enough to tell that a file was replaced or rewritten without reading it. */
#pragma once

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

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

/* What a file of this mode is, for messages: "a FIFO", "a directory", ... */
const char *file_kind(mode_t mode);
