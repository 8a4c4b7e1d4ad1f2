/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

void diag_init(struct diag *d)
{
	*d = (struct diag){0};
}

static void at_free(struct diag_at *at)
{
	free((char *)at->file);
	free((char *)at->qname);
	free((char *)at->qtype);
}

void diag_clear(struct diag *d)
{
	for (size_t i = 0; i < d->n_msgs; i++) {
		free(d->msgs[i]);
		at_free(&d->at[i]);
	}
	free(d->msgs);
	free(d->at);
	*d = (struct diag){0};
}

/* A copy of at's strings (a field that cannot be copied is left out). */
static struct diag_at at_dup(const struct diag_at *at)
{
	if (!at)
		return (struct diag_at){0};
	return (struct diag_at){
	    .file = at->file ? strdup(at->file) : NULL,
	    .line = at->line,
	    .qname = at->qname ? strdup(at->qname) : NULL,
	    .qtype = at->qtype ? strdup(at->qtype) : NULL,
	};
}

/* Keeps m (malloc'd, taken) with a copy of at; beyond DIAG_MAX_KEPT, only counts it. */
static void keep(struct diag *d, const struct diag_at *at, char *m)
{
	struct diag_at *a;
	char **n;

	d->n_errors++;
	if (!m || d->n_msgs >= DIAG_MAX_KEPT) {
		free(m);
		return;
	}
	n = realloc(d->msgs, (d->n_msgs + 1) * sizeof(*n));
	if (!n) {
		free(m);
		return;
	}
	d->msgs = n;
	a = realloc(d->at, (d->n_msgs + 1) * sizeof(*a));
	if (!a) {
		free(m);
		return;
	}
	d->at = a;
	d->at[d->n_msgs] = at_dup(at);
	d->msgs[d->n_msgs++] = m;
}

void diag_addv_at(struct diag *d, const struct diag_at *at, const char *fmt, va_list ap)
{
	char *m;

	if (d->n_msgs >= DIAG_MAX_KEPT) {
		d->n_errors++;
		return;
	}
	keep(d, at, vasprintf(&m, fmt, ap) < 0 ? NULL : m);
}

void diag_addv(struct diag *d, const char *fmt, va_list ap)
{
	diag_addv_at(d, NULL, fmt, ap);
}

void diag_add(struct diag *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_addv_at(d, NULL, fmt, ap);
	va_end(ap);
}

void diag_add_at(struct diag *d, const char *file, size_t line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_addv_at(d, &(struct diag_at){.file = file, .line = line}, fmt, ap);
	va_end(ap);
}

void diag_add_handler(struct diag *d, const char *file, const char *qname, const char *qtype,
		      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_addv_at(d, &(struct diag_at){.file = file, .qname = qname, .qtype = qtype}, fmt, ap);
	va_end(ap);
}

void diag_move(struct diag *dst, struct diag *src)
{
	size_t extra = src->n_errors - src->n_msgs;

	for (size_t i = 0; i < src->n_msgs; i++)
		keep(dst, &src->at[i], strdup(src->msgs[i]));
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
