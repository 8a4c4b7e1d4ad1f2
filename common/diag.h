/* SPDX-License-Identifier: MIT */
/* A list of human-readable diagnostics that library code fills and callers print.
 * Library functions never log: they add lines here ("FILE:LINE: error: ...") and return an
 * error code; the caller decides where the lines go. */
#pragma once

#include <stdarg.h>
#include <stddef.h>

#include "macro.h"

#define DIAG_MAX_KEPT 50

/* What a message is about, for whoever logs it with structured fields (the journal's
 * PDYNDNS_FILE, PDYNDNS_LINE, PDYNDNS_HANDLER): every field may be absent. The text of the
 * message says the same for people; these are never parsed back out of it. */
struct diag_at {
	const char *file;  /* the file the message is about, or NULL */
	size_t line;	   /* its line, from 1; 0: none */
	const char *qname; /* the handler it is about, or NULL ... */
	const char *qtype; /* ... and its type ("A", "AAAA"), or NULL */
};

struct diag {
	char **msgs;	    /* kept messages, in the order added */
	struct diag_at *at; /* for each kept message, what it is about (strings owned here) */
	size_t n_msgs;	    /* how many are kept (at most DIAG_MAX_KEPT) */
	size_t n_errors;    /* how many were added in total, kept or not */
};

void diag_init(struct diag *d);
/* Frees every message; the diag can be reused. */
void diag_clear(struct diag *d);
/* Adds one message. Beyond DIAG_MAX_KEPT, messages are only counted. */
void diag_add(struct diag *d, const char *fmt, ...) _printf_(2, 3);
void diag_addv(struct diag *d, const char *fmt, va_list ap);
/* Adds one message about file (and its line, if not 0). */
void diag_add_at(struct diag *d, const char *file, size_t line, const char *fmt, ...)
    _printf_(4, 5);
/* Adds one message about a handler (qname, qtype), and the file it reads (or NULL). */
void diag_add_handler(struct diag *d, const char *file, const char *qname, const char *qtype,
		      const char *fmt, ...) _printf_(5, 6);
/* Adds one message about what at says (copied; at may be NULL). */
void diag_addv_at(struct diag *d, const struct diag_at *at, const char *fmt, va_list ap);
/* Moves every message of src, with what it is about, to the end of dst and clears src. */
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
