/* SPDX-License-Identifier: MIT */
/* A list of human-readable diagnostics that library code fills and callers print.
 * Library functions never log: they add lines here ("FILE:LINE: error: ...") and return an
 * error code; the caller decides where the lines go. */
#pragma once

#include <stdarg.h>
#include <stddef.h>

#include "macro.h"

#define DIAG_MAX_KEPT 50

struct diag {
	char **msgs;     /* kept messages, in the order added */
	size_t n_msgs;   /* how many are kept (at most DIAG_MAX_KEPT) */
	size_t n_errors; /* how many were added in total, kept or not */
};

void diag_init(struct diag *d);
/* Frees every message; the diag can be reused. */
void diag_clear(struct diag *d);
/* Adds one message. Beyond DIAG_MAX_KEPT, messages are only counted. */
void diag_add(struct diag *d, const char *fmt, ...) _printf_(2, 3);
void diag_addv(struct diag *d, const char *fmt, va_list ap);
/* Moves every message of src to the end of dst and clears src. */
void diag_move(struct diag *dst, struct diag *src);
/* Room diag_quote() needs to show at most max bytes. */
#define DIAG_QUOTE_SIZE(max) (4 * (max) + 6)
/* Writes s (len bytes) into out (DIAG_QUOTE_SIZE(max) bytes) the way a
 * message shows a value it did not accept: between double quotes, printable ASCII as it is,
 * '"' and '\\' escaped with a backslash, every other byte as \xNN; at most max bytes of s,
 * with "..." before the closing quote when s is longer. A message stays one line of
 * printable text whatever the file held. Returns out. */
char *diag_quote(char *out, const char *s, size_t len, size_t max);
/* Joins the kept messages with sep into one malloc'd string (NULL on OOM). Appends a note
 * about messages that were counted but not kept. */
char *diag_join(const struct diag *d, const char *sep);
