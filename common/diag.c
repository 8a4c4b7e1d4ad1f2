/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

void diag_init(struct diag *d) { *d = (struct diag){0}; }

void diag_clear(struct diag *d)
{
	for (size_t i = 0; i < d->n_msgs; i++)
		free(d->msgs[i]);
	free(d->msgs);
	*d = (struct diag){0};
}

void diag_addv(struct diag *d, const char *fmt, va_list ap)
{
	char *m;
	char **n;

	d->n_errors++;
	if (d->n_msgs >= DIAG_MAX_KEPT)
		return;
	if (vasprintf(&m, fmt, ap) < 0)
		return;
	n = realloc(d->msgs, (d->n_msgs + 1) * sizeof(*n));
	if (!n) {
		free(m);
		return;
	}
	d->msgs = n;
	d->msgs[d->n_msgs++] = m;
}

void diag_add(struct diag *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_addv(d, fmt, ap);
	va_end(ap);
}

void diag_move(struct diag *dst, struct diag *src)
{
	size_t extra = src->n_errors - src->n_msgs;

	for (size_t i = 0; i < src->n_msgs; i++)
		diag_add(dst, "%s", src->msgs[i]);
	dst->n_errors += extra;
	diag_clear(src);
}

char *diag_quote(char *out, const char *s, size_t len, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	out[o++] = '"';
	for (size_t i = 0; i < len && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c >= 0x20 && c < 0x7f)
			out[o++] = (char)c;
		else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (len > max) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o++] = '"';
	out[o] = 0;
	return out;
}

char *diag_join(const struct diag *d, const char *sep)
{
	size_t len = 1, seplen = strlen(sep);
	size_t more = d->n_errors - d->n_msgs;
	char *s, *p;

	for (size_t i = 0; i < d->n_msgs; i++)
		len += strlen(d->msgs[i]) + seplen;
	len += 64;
	s = p = malloc(len);
	if (!s)
		return NULL;
	*p = 0;
	for (size_t i = 0; i < d->n_msgs; i++)
		p += sprintf(p, "%s%s", i ? sep : "", d->msgs[i]);
	if (more)
		sprintf(p, "%s(%zu more not shown)", d->n_msgs ? sep : "", more);
	return s;
}
