/* SPDX-License-Identifier: MIT */
/* The Prometheus text exposition format, version 0.0.4: metric families with their HELP and
 * TYPE lines, and samples that add up when the same series is given again (pdynctl metrics
 * sums what every copy counted). Nothing here knows pdyndns's metrics: see ctl/metrics.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "buf.h"

enum promtext_type {
	PROMTEXT_COUNTER,
	PROMTEXT_GAUGE,
	PROMTEXT_HISTOGRAM,
};

/* How a series given more than once is merged: added up, or the largest kept. */
enum promtext_merge {
	PROMTEXT_SUM,
	PROMTEXT_MAX,
};

struct promtext;

struct promtext *promtext_new(void);
struct promtext *promtext_free(struct promtext *p);

/* Declares a family: name (a valid metric name), its type, how its series merge and its
 * help text (escaped when written). Families are written in the order declared; declaring
 * one again changes nothing. Returns 0, -EINVAL (a bad name) or -ENOMEM. */
int promtext_family(struct promtext *p, const char *name, enum promtext_type type,
		    enum promtext_merge merge, const char *help);

/* Adds value to a series of family name (declared before): the sample is named name, or
 * name followed by suffix (a histogram's "_bucket", "_sum", "_count"); labels holds label
 * name and value pairs, then NULL (label values may hold any byte but NUL: they are escaped).
 * Series are written in the order first given. Returns 0, -EINVAL (an undeclared family, a
 * bad label name) or -ENOMEM. */
int promtext_add(struct promtext *p, const char *name, const char *suffix,
		 const char *const *labels, double value);

/* Adds every series of src to dst, merged as their family says (families dst lacks are
 * declared after its own). Returns 0 or -ENOMEM (then dst holds part of src). */
int promtext_merge(struct promtext *dst, const struct promtext *src);

/* Writes every family that has a series. Returns 0, -ENOMEM or -EIO. */
int promtext_write(const struct promtext *p, FILE *out);

/* Where a sliced write of a promtext stands; zeroed to begin. */
struct promtext_cursor {
	size_t fam, ser;
	bool in_family; /* the family's HELP and TYPE lines are written */
};
/* The same text as promtext_write(), in slices: appends to out from c on until at least want
 * bytes were appended (whole lines, at least one) or the text ends, and moves c. Returns
 * true once the text is complete; out out of memory (buf_ok() false) also ends it. p must not
 * change between the slices. */
bool promtext_write_some(const struct promtext *p, struct promtext_cursor *c, struct buf *out,
			 size_t want);

/* Appends the label value v escaped (backslash, double quote, line feed) to out, which has
 * room for size bytes; returns the length it would have (as snprintf). */
size_t promtext_escape(const char *v, char *out, size_t size);
