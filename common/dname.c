/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "dname.h"

static inline uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

/* The common case, no escapes and nothing wrong, in one tight pass; returns false for
 * anything else, which the full parser below then handles. */
static bool parse_plain(const char *text, size_t len, struct dname *out)
{
	size_t pos = 1, labstart = 0;
	uint8_t labels = 0;

	if (len >= DNAME_MAXLEN - 1)
		return false;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)text[i];

		if (c == '.') {
			size_t l = pos - labstart - 1;

			if (l == 0 || l > 63)
				return false;
			out->wire[labstart] = (uint8_t)l;
			labels++;
			labstart = pos++;
		} else if (c == '\\')
			return false;
		else
			out->wire[pos++] = lower(c);
	}
	if (pos - labstart - 1 > 63)
		return false;
	if (pos - labstart > 1) { /* no trailing dot: end the last label */
		out->wire[labstart] = (uint8_t)(pos - labstart - 1);
		labels++;
		labstart = pos++;
	}
	out->wire[labstart] = 0;
	out->len = (uint8_t)pos;
	out->labels = labels;
	return true;
}

int dname_parse(const char *text, size_t len, struct dname *out)
{
	struct dname n;
	size_t i = 0, pos = 1, lablen = 0, labstart = 0;

	if (len == 0)
		return -EINVAL;
	if (len == 1 && text[0] == '.') {
		out->len = 1;
		out->labels = 0;
		out->wire[0] = 0;
		return 0;
	}
	if (parse_plain(text, len, out))
		return 0;
	n.labels = 0;
	while (i < len) {
		uint8_t c = (uint8_t)text[i++];

		if (c == '.') {
			if (lablen == 0)
				return -EINVAL;
			n.wire[labstart] = (uint8_t)lablen;
			n.labels++;
			labstart = pos++;
			lablen = 0;
			if (i == len) /* trailing dot */
				break;
			continue;
		}
		if (c == '\\') {
			if (i >= len)
				return -EINVAL;
			c = (uint8_t)text[i];
			if (c >= '0' && c <= '9') {
				unsigned v;

				if (i + 3 > len)
					return -EINVAL;
				for (size_t k = 0; k < 3; k++)
					if (text[i + k] < '0' || text[i + k] > '9')
						return -EINVAL;
				v = (unsigned)(text[i] - '0') * 100 +
				    (unsigned)(text[i + 1] - '0') * 10 +
				    (unsigned)(text[i + 2] - '0');
				if (v > 255)
					return -EINVAL;
				c = (uint8_t)v;
				i += 3;
			} else
				i++;
		}
		if (lablen == 63 || pos >= DNAME_MAXLEN - 1)
			return -EINVAL;
		n.wire[pos++] = lower(c);
		lablen++;
	}
	if (lablen > 0) {
		n.wire[labstart] = (uint8_t)lablen;
		n.labels++;
		labstart = pos++;
	}
	if (pos > DNAME_MAXLEN)
		return -EINVAL;
	n.wire[labstart] = 0;
	n.len = (uint8_t)pos;
	memcpy(out, &n, offsetof(struct dname, wire) + pos);
	return 0;
}

size_t dname_format(const struct dname *name, char *out)
{
	size_t o = 0, p = 0;

	if (name->len <= 1) {
		out[0] = '.';
		out[1] = 0;
		return 1;
	}
	while (name->wire[p]) {
		uint8_t l = name->wire[p++];

		if (o)
			out[o++] = '.';
		for (uint8_t k = 0; k < l; k++) {
			uint8_t c = name->wire[p++];

			if (c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' || c == ';' ||
			    c == '@' || c == '$') {
				out[o++] = '\\';
				out[o++] = (char)c;
			} else if (c <= ' ' || c >= 0x7f) {
				out[o++] = '\\';
				out[o++] = (char)('0' + c / 100);
				out[o++] = (char)('0' + c / 10 % 10);
				out[o++] = (char)('0' + c % 10);
			} else
				out[o++] = (char)c;
		}
	}
	out[o] = 0;
	return o;
}

bool dname_is_below_or_at(const struct dname *name, const struct dname *parent)
{
	size_t p = 0, skip;

	if (name->labels < parent->labels)
		return false;
	skip = (size_t)(name->labels - parent->labels);
	while (skip--)
		p += (size_t)name->wire[p] + 1;
	return name->len - p == parent->len &&
	       memcmp(name->wire + p, parent->wire, parent->len) == 0;
}

uint64_t dname_hash(const struct dname *name)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (size_t i = 0; i < name->len; i++) {
		h ^= name->wire[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}
