/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "jsonscan.h"
#include "macro.h"

struct key {
	const char *s; /* the decoded key: in the text itself when it has no escape */
	char *owned;   /* or a decoded copy (s points to it) */
	size_t len;
	const char *at; /* where the key starts in the text */
};

struct scan {
	const char *p, *start, *end;
	struct jsonscan_error *err;
	int depth;
	bool failed;
	bool oom;
};

static void fail_at(struct scan *s, const char *at, const char *fmt, ...) _printf_(3, 4);

static void fail_at(struct scan *s, const char *at, const char *fmt, ...)
{
	va_list ap;
	size_t line = 1, col = 1;

	if (s->failed)
		return;
	s->failed = true;
	for (const char *c = s->start; c < at && c < s->end; c++) {
		if (*c == '\n') {
			line++;
			col = 1;
		} else
			col++;
	}
	s->err->line = line;
	s->err->col = col;
	va_start(ap, fmt);
	vsnprintf(s->err->msg, sizeof(s->err->msg), fmt, ap);
	va_end(ap);
}

static void skip_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static const char *describe(struct scan *s)
{
	static const char *const names[] = {"end of input", "'/' (comments are not JSON)",
					    "a single quote (JSON strings use double quotes)"};
	if (s->p >= s->end)
		return names[0];
	if (*s->p == '/')
		return names[1];
	if (*s->p == '\'')
		return names[2];
	return NULL;
}

static void unexpected(struct scan *s, const char *wanted)
{
	const char *what = describe(s);
	unsigned char c = s->p < s->end ? (unsigned char)*s->p : 0;

	if (what)
		fail_at(s, s->p, "expected %s, got %s", wanted, what);
	else if (c >= 0x21 && c < 0x7f)
		fail_at(s, s->p, "expected %s, got '%c'", wanted, c);
	else
		fail_at(s, s->p, "expected %s, got byte 0x%02x", wanted, c);
}

/* Length of the UTF-8 sequence at p (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool read_hex4(struct scan *s, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		int h = s->p < s->end ? hexval(*s->p) : -1;

		if (h < 0) {
			fail_at(s, s->p, "bad \\u escape: expected 4 hex digits");
			return false;
		}
		*v = *v * 16 + (unsigned)h;
		s->p++;
	}
	return true;
}

static void put_utf8(char *out, size_t *o, uint32_t cp)
{
	if (cp < 0x80)
		out[(*o)++] = (char)cp;
	else if (cp < 0x800) {
		out[(*o)++] = (char)(0xc0 | (cp >> 6));
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		out[(*o)++] = (char)(0xe0 | (cp >> 12));
		out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	} else {
		out[(*o)++] = (char)(0xf0 | (cp >> 18));
		out[(*o)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	}
}

/* Scans a string starting at the opening quote. With key != NULL, the decoded text is
 * returned in key (malloc'd) for duplicate detection. */
static bool scan_string(struct scan *s, struct key *key)
{
	const char *q = s->p;
	char *out = NULL;
	size_t o = 0;

	s->p++;
	if (key) {
		/* decoded text is never longer than the source */
		const char *e = s->p;
		bool escaped = false;

		while (e < s->end && *e != '"') {
			if (*e == '\\' && e + 1 < s->end)
				e++, escaped = true;
			e++;
		}
		*key = (struct key){.at = key->at};
		if (!escaped) {
			/* the text is the key (once checked below): no copy */
			key->s = s->p;
			key->len = (size_t)(e - s->p);
			key = NULL;
		} else {
			out = malloc((size_t)(e - s->p) + 1);
			if (!out) {
				s->oom = true;
				s->failed = true;
				return false;
			}
		}
	}
	for (;;) {
		const char *run = s->p;
		unsigned char c;

		/* a run of printable ASCII other than '"' and '\\' needs no other check */
		while (run < s->end && (unsigned char)*run >= 0x20 && (unsigned char)*run < 0x80 &&
		       *run != '"' && *run != '\\')
			run++;
		if (out)
			memcpy(out + o, s->p, (size_t)(run - s->p)), o += (size_t)(run - s->p);
		s->p = run;
		if (s->p >= s->end) {
			fail_at(s, q, "unterminated string");
			goto bad;
		}
		c = (unsigned char)*s->p;
		if (c == '"') {
			s->p++;
			break;
		}
		if (c < 0x20) {
			fail_at(s, s->p, "control character 0x%02x in a string (escape it)", c);
			goto bad;
		}
		if (c == '\\') {
			uint32_t cp;
			unsigned v, lo;

			s->p++;
			if (s->p >= s->end) {
				fail_at(s, q, "unterminated string");
				goto bad;
			}
			switch (*s->p++) {
			case '"': cp = '"'; break;
			case '\\': cp = '\\'; break;
			case '/': cp = '/'; break;
			case 'b': cp = '\b'; break;
			case 'f': cp = '\f'; break;
			case 'n': cp = '\n'; break;
			case 'r': cp = '\r'; break;
			case 't': cp = '\t'; break;
			case 'u':
				if (!read_hex4(s, &v))
					goto bad;
				if (v == 0) {
					/* json-c's strings end at a NUL: a key would compare as
					 * another, and a value would be cut there */
					fail_at(s, s->p - 6,
						"\\u0000 in a string (a NUL is not allowed)");
					goto bad;
				}
				cp = v;
				if (v >= 0xd800 && v <= 0xdbff) {
					if (s->end - s->p < 2 || s->p[0] != '\\' ||
					    s->p[1] != 'u') {
						fail_at(s, s->p,
							"unpaired UTF-16 surrogate in \\u escape");
						goto bad;
					}
					s->p += 2;
					if (!read_hex4(s, &lo))
						goto bad;
					if (lo < 0xdc00 || lo > 0xdfff) {
						fail_at(s, s->p - 6,
							"unpaired UTF-16 surrogate in \\u escape");
						goto bad;
					}
					cp = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
				} else if (v >= 0xdc00 && v <= 0xdfff) {
					fail_at(s, s->p - 6,
						"unpaired UTF-16 surrogate in \\u escape");
					goto bad;
				}
				break;
			default:
				fail_at(s, s->p - 2, "bad escape '\\%c' in a string", s->p[-1]);
				goto bad;
			}
			if (out)
				put_utf8(out, &o, cp);
			continue;
		}
		{
			size_t n =
			    utf8_len((const unsigned char *)s->p, (const unsigned char *)s->end);

			if (!n) {
				fail_at(s, s->p, "invalid UTF-8 in a string");
				goto bad;
			}
			if (out)
				memcpy(out + o, s->p, n), o += n;
			s->p += n;
		}
	}
	if (key) {
		out[o] = 0;
		key->s = key->owned = out;
		key->len = o;
	}
	return true;
bad:
	free(out);
	return false;
}

static bool scan_number(struct scan *s)
{
	const char *q = s->p;

	if (*s->p == '-')
		s->p++;
	if (s->p >= s->end || *s->p < '0' || *s->p > '9') {
		if (s->p < s->end && (*s->p == 'I' || *s->p == 'N'))
			fail_at(s, q, "NaN and Infinity are not JSON numbers");
		else
			fail_at(s, q, "bad number");
		return false;
	}
	if (*s->p == '0' && s->p + 1 < s->end && s->p[1] >= '0' && s->p[1] <= '9') {
		fail_at(s, q, "number with a leading zero");
		return false;
	}
	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (s->p >= s->end || *s->p < '0' || *s->p > '9') {
			fail_at(s, q, "bad number: digits must follow '.'");
			return false;
		}
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			s->p++;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (s->p >= s->end || *s->p < '0' || *s->p > '9') {
			fail_at(s, q, "bad number: digits must follow the exponent");
			return false;
		}
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			s->p++;
	}
	return true;
}

static bool scan_literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0) {
		unexpected(s, "a JSON value");
		return false;
	}
	s->p += n;
	return true;
}

static int keycmp(const struct key *x, const struct key *y)
{
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->s, y->s, n);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* By text, then by place: equal keys in the order they were written. */
static int keyorder(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	int c = keycmp(x, y);

	return c ? c : (x->at > y->at) - (x->at < y->at);
}

static bool scan_value(struct scan *s);

static bool scan_object(struct scan *s)
{
	struct key small[8], *keys = small;
	size_t n = 0, cap = ELEMENTSOF(small);
	bool ok = false;

	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return true;
	}
	for (;;) {
		skip_ws(s);
		if (s->p >= s->end || *s->p != '"') {
			unexpected(s, "a string key");
			goto out;
		}
		if (n == cap) {
			size_t nc = cap * 2;
			struct key *nk = realloc(keys == small ? NULL : keys, nc * sizeof(*nk));

			if (!nk) {
				s->oom = s->failed = true;
				goto out;
			}
			if (keys == small)
				memcpy(nk, small, sizeof(small));
			keys = nk;
			cap = nc;
		}
		keys[n].at = s->p;
		if (!scan_string(s, &keys[n]))
			goto out;
		n++;
		skip_ws(s);
		if (s->p >= s->end || *s->p != ':') {
			unexpected(s, "':'");
			goto out;
		}
		s->p++;
		if (!scan_value(s))
			goto out;
		skip_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			skip_ws(s);
			if (s->p < s->end && *s->p == '}') {
				fail_at(s, s->p, "trailing comma before '}'");
				goto out;
			}
			continue;
		}
		if (s->p < s->end && *s->p == '}') {
			s->p++;
			break;
		}
		unexpected(s, "',' or '}'");
		goto out;
	}
	/* Duplicate keys: sort and compare neighbours (keys compare decoded, so "a" and
	 * "\u0061" collide). Report the first repeat in the text. A few keys are compared
	 * each with those before it, which finds the same first repeat without a sort. */
	if (n <= ELEMENTSOF(small)) {
		for (size_t j = 1; j < n; j++)
			for (size_t i = 0; i < j; i++)
				if (keycmp(&keys[i], &keys[j]) == 0) {
					char q[DIAG_QUOTE_SIZE(80)];

					fail_at(s, keys[j].at, "duplicate key %s",
						diag_quote(q, keys[j].s, keys[j].len, 80));
					goto out;
				}
		ok = true;
		goto out;
	}
	qsort(keys, n, sizeof(*keys), keyorder);
	{
		const struct key *first = NULL;
		char q[DIAG_QUOTE_SIZE(80)];

		for (size_t i = 1; i < n; i++)
			if (keycmp(&keys[i - 1], &keys[i]) == 0 &&
			    (!first || keys[i].at < first->at))
				first = &keys[i];
		if (first) {
			fail_at(s, first->at, "duplicate key %s",
				diag_quote(q, first->s, first->len, 80));
			goto out;
		}
	}
	ok = true;
out:
	for (size_t i = 0; i < n; i++)
		free(keys[i].owned);
	if (keys != small)
		free(keys);
	return ok;
}

static bool scan_array(struct scan *s)
{
	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return true;
	}
	for (;;) {
		if (!scan_value(s))
			return false;
		skip_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			skip_ws(s);
			if (s->p < s->end && *s->p == ']') {
				fail_at(s, s->p, "trailing comma before ']'");
				return false;
			}
			continue;
		}
		if (s->p < s->end && *s->p == ']') {
			s->p++;
			return true;
		}
		unexpected(s, "',' or ']'");
		return false;
	}
}

static bool scan_value(struct scan *s)
{
	bool ok;

	skip_ws(s);
	if (s->p >= s->end) {
		unexpected(s, "a JSON value");
		return false;
	}
	switch (*s->p) {
	case '{':
	case '[':
		if (++s->depth > JSONSCAN_MAX_DEPTH) {
			fail_at(s, s->p, "nested deeper than %d levels", JSONSCAN_MAX_DEPTH);
			return false;
		}
		ok = *s->p == '{' ? scan_object(s) : scan_array(s);
		s->depth--;
		return ok;
	case '"': return scan_string(s, NULL);
	case 't': return scan_literal(s, "true");
	case 'f': return scan_literal(s, "false");
	case 'n': return scan_literal(s, "null");
	case 'N':
	case 'I': fail_at(s, s->p, "NaN and Infinity are not JSON numbers"); return false;
	default:
		if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
			return scan_number(s);
		unexpected(s, "a JSON value");
		return false;
	}
}

int jsonscan_check(const char *text, size_t len, struct jsonscan_error *err)
{
	struct scan s = {.p = text, .start = text, .end = text + len, .err = err};

	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		fail_at(&s, text, "byte-order mark before the JSON text");
		return -EINVAL;
	}
	if (scan_value(&s)) {
		skip_ws(&s);
		if (s.p < s.end)
			unexpected(&s, "end of input after the JSON value");
	}
	if (s.oom)
		return -ENOMEM;
	return s.failed ? -EINVAL : 0;
}
