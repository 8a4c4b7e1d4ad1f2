/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hash.h"
#include "macro.h"
#include "promtext.h"

#define NONE SIZE_MAX

struct family {
	char *name, *help;
	enum promtext_type type;
	enum promtext_merge merge;
	size_t first, last; /* its series, in the order given (series.next) */
};

struct series {
	size_t family;
	char *sample; /* the sample's name with its labels: what precedes the value */
	uint64_t hash;
	double value;
	size_t next;
};

struct promtext {
	struct family *fam;
	size_t n_fam, cap_fam;
	struct series *ser;
	size_t n_ser, cap_ser;
	size_t *table; /* open addressing: series index + 1, 0 = empty */
	size_t mask;
};

struct promtext *promtext_new(void)
{
	return calloc(1, sizeof(struct promtext));
}

struct promtext *promtext_free(struct promtext *p)
{
	if (!p)
		return NULL;
	for (size_t i = 0; i < p->n_fam; i++) {
		free(p->fam[i].name);
		free(p->fam[i].help);
	}
	for (size_t i = 0; i < p->n_ser; i++)
		free(p->ser[i].sample);
	free(p->fam);
	free(p->ser);
	free(p->table);
	free(p);
	return NULL;
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* for metric names; label names take no colon. */
static bool valid_name(const char *s, bool colon)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || (colon && *s == ':')))
			return false;
	return true;
}

static size_t find_family(const struct promtext *p, const char *name)
{
	for (size_t i = 0; i < p->n_fam; i++)
		if (strcmp(p->fam[i].name, name) == 0)
			return i;
	return NONE;
}

int promtext_family(struct promtext *p, const char *name, enum promtext_type type,
		    enum promtext_merge merge, const char *help)
{
	struct family *f;

	if (!valid_name(name, true))
		return -EINVAL;
	if (find_family(p, name) != NONE)
		return 0;
	if (p->n_fam == p->cap_fam) {
		size_t cap = p->cap_fam ? p->cap_fam * 2 : 16;
		struct family *n = realloc(p->fam, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->fam = n;
		p->cap_fam = cap;
	}
	f = &p->fam[p->n_fam];
	*f = (struct family){.name = strdup(name),
			     .help = strdup(help),
			     .type = type,
			     .merge = merge,
			     .first = NONE,
			     .last = NONE};
	if (!f->name || !f->help) {
		free(f->name);
		free(f->help);
		return -ENOMEM;
	}
	p->n_fam++;
	return 0;
}

size_t promtext_escape(const char *v, char *out, size_t size)
{
	size_t n = 0;

	for (; *v; v++) {
		const char *e = *v == '\\'   ? "\\\\"
				: *v == '"'  ? "\\\""
				: *v == '\n' ? "\\n"
					     : NULL;
		size_t k = e ? 2 : 1;

		for (size_t i = 0; i < k; i++, n++)
			if (n + 1 < size)
				out[n] = e ? e[i] : *v;
	}
	if (size)
		out[n < size ? n : size - 1] = 0;
	return n;
}

static void put_escaped(struct buf *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			buf_puts(b, "\\\\");
		else if (*v == '"')
			buf_puts(b, "\\\"");
		else if (*v == '\n')
			buf_puts(b, "\\n");
		else
			buf_putc(b, *v);
	}
}

static int grow_table(struct promtext *p)
{
	size_t size = p->table ? (p->mask + 1) * 2 : 1024;
	size_t *t = calloc(size, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_ser; i++) {
		size_t j = p->ser[i].hash & (size - 1);

		while (t[j])
			j = (j + 1) & (size - 1);
		t[j] = i + 1;
	}
	free(p->table);
	p->table = t;
	p->mask = size - 1;
	return 0;
}

/* Adds value to the series sample (malloc'd, taken over) of family fi. */
static int add_sample(struct promtext *p, size_t fi, char *sample, double value)
{
	struct family *f = &p->fam[fi];
	uint64_t h = fnv1a(fnv1a_str(sample), &fi, sizeof(fi));
	struct series *s;
	size_t j;

	for (j = p->table ? h & p->mask : 0; p->table && p->table[j]; j = (j + 1) & p->mask) {
		s = &p->ser[p->table[j] - 1];
		if (s->hash == h && s->family == fi && strcmp(s->sample, sample) == 0) {
			free(sample);
			if (f->merge == PROMTEXT_SUM)
				s->value += value;
			else if (value > s->value)
				s->value = value;
			return 0;
		}
	}
	if ((p->n_ser + 1) * 2 > (p->table ? p->mask + 1 : 0) && grow_table(p) < 0) {
		free(sample);
		return -ENOMEM;
	}
	if (p->n_ser == p->cap_ser) {
		size_t cap = p->cap_ser ? p->cap_ser * 2 : 64;
		struct series *n = realloc(p->ser, cap * sizeof(*n));

		if (!n) {
			free(sample);
			return -ENOMEM;
		}
		p->ser = n;
		p->cap_ser = cap;
	}
	s = &p->ser[p->n_ser];
	*s = (struct series){
	    .family = fi, .sample = sample, .hash = h, .value = value, .next = NONE};
	if (f->last == NONE)
		f->first = p->n_ser;
	else
		p->ser[f->last].next = p->n_ser;
	f->last = p->n_ser;
	for (j = h & p->mask; p->table[j]; j = (j + 1) & p->mask)
		;
	p->table[j] = ++p->n_ser;
	return 0;
}

int promtext_add(struct promtext *p, const char *name, const char *suffix,
		 const char *const *labels, double value)
{
	size_t fi = find_family(p, name);
	struct buf b;

	if (fi == NONE)
		return -EINVAL;
	buf_init(&b);
	buf_puts(&b, name);
	if (suffix)
		buf_puts(&b, suffix);
	for (size_t i = 0; labels && labels[i]; i += 2) {
		if (!valid_name(labels[i], false) || !labels[i + 1]) {
			buf_free(&b);
			return -EINVAL;
		}
		buf_putc(&b, i ? ',' : '{');
		buf_puts(&b, labels[i]);
		buf_puts(&b, "=\"");
		put_escaped(&b, labels[i + 1]);
		buf_putc(&b, '"');
	}
	if (labels && labels[0])
		buf_putc(&b, '}');
	buf_putc(&b, 0);
	if (!buf_ok(&b)) {
		buf_free(&b);
		return -ENOMEM;
	}
	return add_sample(p, fi, b.data, value);
}

int promtext_merge(struct promtext *dst, const struct promtext *src)
{
	for (size_t i = 0; i < src->n_fam; i++) {
		const struct family *f = &src->fam[i];
		size_t fi;
		int r = promtext_family(dst, f->name, f->type, f->merge, f->help);

		if (r < 0)
			return r;
		fi = find_family(dst, f->name);
		for (size_t k = f->first; k != NONE; k = src->ser[k].next) {
			char *sample = strdup(src->ser[k].sample);

			if (!sample || (r = add_sample(dst, fi, sample, src->ser[k].value)) < 0)
				return sample ? r : -ENOMEM;
		}
	}
	return 0;
}

static void put_help(struct buf *b, const char *help)
{
	for (; *help; help++) {
		if (*help == '\\')
			buf_puts(b, "\\\\");
		else if (*help == '\n')
			buf_puts(b, "\\n");
		else
			buf_putc(b, *help);
	}
}

static void put_value(struct buf *b, double v)
{
	char s[40];

	if (isnan(v))
		buf_puts(b, "NaN");
	else if (isinf(v))
		buf_puts(b, v > 0 ? "+Inf" : "-Inf");
	else {
		if (v == floor(v) && fabs(v) < 9007199254740992.0)
			snprintf(s, sizeof(s), "%.0f", v);
		else
			snprintf(s, sizeof(s), "%.17g", v);
		buf_puts(b, s);
	}
}

bool promtext_write_some(const struct promtext *p, struct promtext_cursor *c, struct buf *out,
			 size_t want)
{
	static const char *const types[] = {"counter", "gauge", "histogram"};
	size_t start = out->len;

	for (; c->fam < p->n_fam; c->fam++, c->in_family = false) {
		const struct family *f = &p->fam[c->fam];

		if (f->first == NONE)
			continue;
		if (!c->in_family) {
			buf_puts(out, "# HELP ");
			buf_puts(out, f->name);
			buf_putc(out, ' ');
			put_help(out, f->help);
			buf_puts(out, "\n# TYPE ");
			buf_puts(out, f->name);
			buf_putc(out, ' ');
			buf_puts(out, types[f->type]);
			buf_putc(out, '\n');
			c->in_family = true;
			c->ser = f->first;
		}
		for (; c->ser != NONE; c->ser = p->ser[c->ser].next) {
			if (!buf_ok(out))
				return true;
			if (out->len > start && out->len - start >= want)
				return false;
			buf_puts(out, p->ser[c->ser].sample);
			buf_putc(out, ' ');
			put_value(out, p->ser[c->ser].value);
			buf_putc(out, '\n');
		}
	}
	return true;
}

int promtext_write(const struct promtext *p, FILE *out)
{
	struct promtext_cursor c = {0};
	struct buf b;
	bool done;

	buf_init(&b);
	do {
		done = promtext_write_some(p, &c, &b, 64 * 1024);
		if (!buf_ok(&b)) {
			buf_free(&b);
			return -ENOMEM;
		}
		if (b.len && fwrite(b.data, 1, b.len, out) != b.len)
			break;
		b.len = 0;
	} while (!done);
	buf_free(&b);
	return ferror(out) ? -EIO : 0;
}
