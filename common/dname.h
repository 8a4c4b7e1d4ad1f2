/* SPDX-License-Identifier: MIT */
/* Domain names: presentation form (as PowerDNS sends them and as configs spell them) to a
 * lowercased wire form that compares with memcmp, plus label-boundary suffix tests. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNAME_MAXLEN  255  /* octets in wire form, root label included */
#define DNAME_MAXTEXT 1024 /* presentation form, with every octet as \DDD */

/* A name in lowercased wire form: length-prefixed labels ending with the root label. */
struct dname {
	uint8_t len;
	uint8_t labels; /* number of labels, root excluded */
	uint8_t wire[DNAME_MAXLEN];
};

/* Parses a presentation-form name of len bytes: labels separated by '.', an optional
 * trailing '.', escapes "\X" and "\DDD". "." alone is the root. ASCII letters are lowered.
 * Returns 0, or -EINVAL for an empty label, a label over 63 octets, a name over 255
 * octets, a bad escape or an empty string. *out is written only on success. */
int dname_parse(const char *text, size_t len, struct dname *out);

/* Writes the presentation form of name (no trailing dot, "." for the root) into out, which
 * must hold DNAME_MAXTEXT + 1 bytes; letters come out lowercase. Returns the length. */
size_t dname_format(const struct dname *name, char *out);

static inline bool dname_equal(const struct dname *a, const struct dname *b)
{
	return a->len == b->len && __builtin_memcmp(a->wire, b->wire, a->len) == 0;
}

/* True if name equals parent or lies below it, on a label boundary. */
bool dname_is_below_or_at(const struct dname *name, const struct dname *parent);

/* A hash of the wire form, for tables. */
uint64_t dname_hash(const struct dname *name);
