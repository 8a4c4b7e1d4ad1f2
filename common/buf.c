/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdlib.h>

#include "buf.h"

void buf_init(struct buf *b)
{
	*b = (struct buf){0};
}

void buf_free(struct buf *b)
{
	free(b->data);
	*b = (struct buf){0};
}

bool buf_reserve(struct buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 256;
	char *p;

	if (b->oom)
		return false;
	if (b->cap - b->len >= n)
		return true;
	while (cap - b->len < n) {
		if (cap > SIZE_MAX / 2)
			goto oom;
		cap *= 2;
	}
	p = realloc(b->data, cap);
	if (!p)
		goto oom;
	b->data = p;
	b->cap = cap;
	return true;
oom:
	b->oom = true;
	return false;
}

void buf_putu(struct buf *b, unsigned long long v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	if (v < 10) { /* TTL 0, id 1, scope 0: most numbers in answers */
		buf_putc(b, (char)('0' + v));
		return;
	}
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	buf_put(b, tmp + i, sizeof(tmp) - i);
}

void buf_puti(struct buf *b, long long v)
{
	if (v < 0) {
		buf_putc(b, '-');
		buf_putu(b, 0ULL - (unsigned long long)v);
	} else
		buf_putu(b, (unsigned long long)v);
}
