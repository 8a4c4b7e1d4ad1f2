/* SPDX-License-Identifier: MIT */
/* A growable byte buffer for building protocol output. Appends never fail silently: on
 * allocation failure the buffer is marked and buf_ok() turns false. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
	bool oom;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
/* Makes room for n more bytes; returns false (and marks the buffer) on OOM. */
bool buf_reserve(struct buf *b, size_t n);
static inline bool buf_ok(const struct buf *b)
{
	return !b->oom;
}

static inline void buf_put(struct buf *b, const void *p, size_t n)
{
	if (b->cap - b->len < n && !buf_reserve(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}
static inline void buf_puts(struct buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}
static inline void buf_putc(struct buf *b, char c)
{
	buf_put(b, &c, 1);
}
/* Appends the decimal form of v. */
void buf_putu(struct buf *b, unsigned long long v);
void buf_puti(struct buf *b, long long v);
/* Drops everything after len (len must not exceed the current length). */
static inline void buf_truncate(struct buf *b, size_t len)
{
	b->len = len;
}
