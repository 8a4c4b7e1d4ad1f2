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
/* Joins the kept messages with sep into one malloc'd string (NULL on OOM). Appends a note
 * about messages that were counted but not kept. */
char *diag_join(const struct diag *d, const char *sep);
