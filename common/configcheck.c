/* SPDX-License-Identifier: MIT */
/* The config validator's toolkit (configcheck.h): JSON pointers in messages, the checks of
 * single values (strings, names, integers, enums), and arrays whose items must be unique. */
#include <json-c/json.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "configcheck.h"

#define HOSTNAME_MAXLEN 253 /* a name as the config spells it: 253 characters at most */

void cc_error(struct cc *v, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_add_at(v->d, v->path, 0, "%s: error: %s: %s", v->path, v->ptrlen ? v->ptr : "/", msg);
	v->failed = true;
}

/* Appends n bytes to the pointer, or "..." when they do not fit (nothing more is added then,
 * until the token that did not fit is popped). */
static bool ptr_put(struct cc *v, size_t *o, const char *e, size_t n)
{
	if (*o + n > sizeof(v->ptr) - 4) {
		memcpy(v->ptr + *o, "...", 3);
		*o += 3;
		v->ptr_cut = true;
		return false;
	}
	memcpy(v->ptr + *o, e, n);
	*o += n;
	return true;
}

/* Pushes a JSON pointer token (RFC 6901 escaping); returns the old length to pop to. As in
 * diag_quote(), '\\' is doubled and a byte that is not printable ASCII shows as \xNN. */
size_t cc_push(struct cc *v, const char *tok)
{
	static const char hex[] = "0123456789abcdef";
	size_t old = v->ptrlen, o = old;

	if (v->ptr_cut)
		return old;
	if (ptr_put(v, &o, "/", 1))
		for (const char *c = tok; *c; c++) {
			unsigned char ch = (unsigned char)*c;
			char e[4] = {'\\', (char)ch};
			size_t n = 2;

			if (ch == '~' || ch == '/') {
				e[0] = '~';
				e[1] = ch == '~' ? '0' : '1';
			} else if (ch >= 0x20 && ch < 0x7f && ch != '\\')
				e[0] = (char)ch, n = 1;
			else if (ch != '\\') {
				e[1] = 'x';
				e[2] = hex[ch >> 4];
				e[3] = hex[ch & 15];
				n = 4;
			}
			if (!ptr_put(v, &o, e, n))
				break;
		}
	v->ptr[o] = 0;
	v->ptrlen = o;
	return old;
}

size_t cc_push_index(struct cc *v, size_t i)
{
	char tmp[24], *p = tmp + sizeof(tmp) - 1;

	*p = 0;
	do
		*--p = (char)('0' + i % 10);
	while (i /= 10);
	return cc_push(v, p);
}

void cc_pop(struct cc *v, size_t old)
{
	if (old != v->ptrlen)
		v->ptr_cut = false; /* the token that was cut short goes */
	v->ptrlen = old;
	v->ptr[old] = 0;
}

const char *cc_type_name(json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null: return "null";
	case json_type_boolean: return "a boolean";
	case json_type_double: return "a number";
	case json_type_int: return "an integer";
	case json_type_object: return "an object";
	case json_type_array: return "an array";
	case json_type_string: return "a string";
	}
	return "?";
}

/* Number of Unicode code points in a valid UTF-8 string (what JSON Schema lengths count). */
static size_t utf8_count(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

/* The string o as a message shows it (diag_quote()); q has DIAG_QUOTE_SIZE(max) bytes. */
const char *cc_quoted(json_object *o, char *q, size_t max)
{
	return diag_quote(q, json_object_get_string(o), (size_t)json_object_get_string_len(o), max);
}

const char *cc_string(struct cc *v, json_object *o, size_t minlen, size_t maxlen)
{
	const char *s;
	size_t n;

	if (!json_object_is_type(o, json_type_string)) {
		cc_error(v, "expected a string, got %s", cc_type_name(o));
		return NULL;
	}
	s = json_object_get_string(o);
	n = utf8_count(s, (size_t)json_object_get_string_len(o));
	if (n < minlen) {
		cc_error(v, minlen == 1 ? "must not be empty" : "shorter than %zu characters",
			 minlen);
		return NULL;
	}
	if (n > maxlen) {
		cc_error(v, "longer than %zu characters", maxlen);
		return NULL;
	}
	return s;
}

/* Returns the index of the string o in names, or -1 after an error. */
int cc_enum(struct cc *v, json_object *o, const char *const *names, size_t n)
{
	const char *s = cc_string(v, o, 0, SIZE_MAX);
	char list[256], q[DIAG_QUOTE_SIZE(40)];
	size_t len = 0;

	if (!s)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(s, names[i]) == 0)
			return (int)i;
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s\"%s\"", i ? ", " : "",
					names[i]);
	}
	cc_error(v, "expected one of %s, got %s", list, cc_quoted(o, q, 40));
	return -1;
}

bool cc_matches(regex_t *re, json_object *o)
{
	const char *s = json_object_get_string(o);

	/* a string with an embedded NUL never matches */
	return strlen(s) == (size_t)json_object_get_string_len(o) &&
	       regexec(re, s, 0, NULL, 0) == 0;
}

bool config_hostname_fast(const char *s, size_t n, bool wildcard)
{
	size_t i = 0;

	if (wildcard && n >= 2 && s[0] == '*' && s[1] == '.')
		i = 2;
	for (;;) {
		size_t start = i;

		while (i < n && s[i] != '.') {
			char c = s[i];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '_' || c == '-'))
				return false;
			i++;
		}
		if (i == start || i - start > 63 || s[start] == '-' || s[i - 1] == '-')
			return false;
		if (i == n || i + 1 == n) /* the end, or a trailing dot */
			return true;
		i++;
	}
}

bool cc_is_hostname(struct cc *v, const char *s)
{
	return config_hostname_fast(s, strlen(s), false) ||
	       regexec(&v->re_host, s, 0, NULL, 0) == 0;
}

/* What the fast check cannot accept goes to the pattern: it has the last word. */
static bool is_name(regex_t *re, json_object *o, bool wildcard)
{
	return config_hostname_fast(json_object_get_string(o),
				    (size_t)json_object_get_string_len(o), wildcard) ||
	       cc_matches(re, o);
}

const char *cc_qname(struct cc *v, json_object *o)
{
	const char *s = cc_string(v, o, 1, HOSTNAME_MAXLEN);
	char q[DIAG_QUOTE_SIZE(100)];

	if (s && !is_name(&v->re_qname, o, true)) {
		cc_error(
		    v,
		    "%s is not a host name (letters, digits, '-' and '_' in labels of "
		    "1 to 63 characters, separated by dots), nor one after \"*.\" (a wildcard)",
		    cc_quoted(o, q, 100));
		return NULL;
	}
	return s;
}

const char *cc_hostname(struct cc *v, json_object *o)
{
	const char *s = cc_string(v, o, 1, HOSTNAME_MAXLEN);
	char q[DIAG_QUOTE_SIZE(100)];

	if (s && !is_name(&v->re_host, o, false)) {
		cc_error(v,
			 "%s is not a host name (letters, digits, '-' and '_' in labels of "
			 "1 to 63 characters, separated by dots)",
			 cc_quoted(o, q, 100));
		return NULL;
	}
	return s;
}

bool cc_integer(struct cc *v, json_object *o, int64_t min, int64_t max, int64_t *out)
{
	int64_t x;

	if (json_object_is_type(o, json_type_int)) {
		x = json_object_get_int64(o);
		if (x == INT64_MAX || x == INT64_MIN) {
			/* json-c saturates what does not fit in 64 bits */
			cc_error(v, "a number beyond 64 bits is out of range (%lld to %lld)",
				 (long long)min, (long long)max);
			return false;
		}
	} else if (json_object_is_type(o, json_type_double)) {
		double d = json_object_get_double(o);

		/* JSON Schema: a number with a zero fractional part is an integer */
		if (!isfinite(d) || d != floor(d)) {
			cc_error(v, "expected an integer, got %s",
				 isfinite(d) ? "a fraction" : "a number out of range");
			return false;
		}
		if (d < (double)min || d > (double)max) {
			cc_error(v, "%.17g is out of range (%lld to %lld)", d, (long long)min,
				 (long long)max);
			return false;
		}
		x = (int64_t)d;
	} else {
		cc_error(v, "expected an integer, got %s", cc_type_name(o));
		return false;
	}
	if (x < min || x > max) {
		cc_error(v, "%lld is out of range (%lld to %lld)", (long long)x, (long long)min,
			 (long long)max);
		return false;
	}
	*out = x;
	return true;
}

/* A canonical text form of a JSON value (object keys sorted, integral numbers as integers)
 * so that uniqueItems compares values as JSON Schema does. */
static int keysort(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void canon(json_object *o, struct buf *b)
{
	switch (json_object_get_type(o)) {
	case json_type_object: {
		size_t n = (size_t)json_object_object_length(o), i = 0;
		const char **keys = calloc(n ? n : 1, sizeof(*keys));

		if (!keys) {
			b->oom = true;
			return;
		}
		json_object_object_foreach(o, k, val)
		{
			(void)val;
			keys[i++] = k;
		}
		qsort(keys, n, sizeof(*keys), keysort);
		buf_putc(b, '{');
		for (i = 0; i < n; i++) {
			json_object *ks = json_object_new_string(keys[i]);

			if (!ks) {
				b->oom = true;
				break;
			}
			buf_puts(b, json_object_to_json_string_ext(ks, JSON_C_TO_STRING_PLAIN));
			json_object_put(ks);
			buf_putc(b, ':');
			canon(json_object_object_get(o, keys[i]), b);
			buf_putc(b, ',');
		}
		buf_putc(b, '}');
		free(keys);
		break;
	}
	case json_type_array:
		buf_putc(b, '[');
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			canon(json_object_array_get_idx(o, i), b);
			buf_putc(b, ',');
		}
		buf_putc(b, ']');
		break;
	case json_type_double: {
		double d = json_object_get_double(o);
		char tmp[64];

		if (isfinite(d) && d == floor(d) && fabs(d) < 1e18)
			snprintf(tmp, sizeof(tmp), "%lld", (long long)d);
		else
			snprintf(tmp, sizeof(tmp), "%.17g", d);
		buf_puts(b, tmp);
		break;
	}
	default: buf_puts(b, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	}
}

struct canon_item {
	char *text;
	size_t index;
};

static int canon_cmp(const void *a, const void *b)
{
	const struct canon_item *x = a, *y = b;
	int c = strcmp(x->text, y->text);

	return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* A hash of canon(o) without building it: values with equal canonical forms hash alike
 * (object members are combined in any order, an integral double hashes as the integer it
 * writes as), so items whose hashes all differ are unique. */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9u;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebu;
	return x ^ (x >> 31);
}

static uint64_t hash_bytes(uint64_t h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 0x100000001b3u;
	return mix(h ^ n);
}

static uint64_t canon_hash(json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_object: {
		uint64_t sum = 0;
		size_t n = 0;

		json_object_object_foreach(o, k, val)
		{
			sum += mix(hash_bytes(1, k, strlen(k)) +
				   0x9e3779b97f4a7c15u * canon_hash(val));
			n++;
		}
		return mix(sum ^ mix(2 + n));
	}
	case json_type_array: {
		size_t n = json_object_array_length(o);
		uint64_t h = mix(3 + n);

		for (size_t i = 0; i < n; i++)
			h = mix(h ^ canon_hash(json_object_array_get_idx(o, i)));
		return h;
	}
	case json_type_double: {
		double d = json_object_get_double(o);
		char tmp[64];

		if (isfinite(d) && d == floor(d) && fabs(d) < 1e18)
			return mix((uint64_t)(long long)d ^ 0x494e54u);
		snprintf(tmp, sizeof(tmp), "%.17g", d);
		return hash_bytes(4, tmp, strlen(tmp));
	}
	case json_type_int:
		/* saturated beyond int64: values that differ may collide, which is only slower */
		return mix((uint64_t)json_object_get_int64(o) ^ 0x494e54u);
	case json_type_string:
		return hash_bytes(5, json_object_get_string(o),
				  (size_t)json_object_get_string_len(o));
	case json_type_boolean: return mix(6 + (uint64_t)json_object_get_boolean(o));
	case json_type_null: return mix(8);
	}
	return 0;
}

/* True when no two of the n keys are equal (the top bit of a key is ignored); false also
 * without memory, which makes the caller take its exact path. */
bool cc_all_distinct(const uint64_t *keys, size_t n)
{
	_cleanup_free_ uint64_t *set = NULL;
	size_t size = 64;

	while (size < 2 * n)
		size *= 2;
	set = calloc(size, sizeof(*set));
	if (!set)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint64_t key = keys[i] | 1ull << 63; /* never 0, which marks an empty slot */
		size_t at = (size_t)mix(key) & (size - 1);

		while (set[at] && set[at] != key)
			at = (at + 1) & (size - 1);
		if (set[at])
			return false;
		set[at] = key;
	}
	return true;
}

/* True when the items of arr are surely unique: no two canonical hashes are equal. When count
 * is not NULL, *sum gets the sum of count() over the items, in the same walk. */
static bool surely_unique(json_object *arr, size_t n, size_t (*count)(json_object *), size_t *sum)
{
	_cleanup_free_ uint64_t *h = n >= 2 ? malloc(n * sizeof(*h)) : NULL;

	if (count)
		*sum = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *item = json_object_array_get_idx(arr, i);

		if (h)
			h[i] = canon_hash(item);
		if (count)
			*sum += count(item);
	}
	if (n < 2)
		return true;
	return h && cc_all_distinct(h, n);
}

static void check_unique(struct cc *v, json_object *arr, size_t (*count)(json_object *),
			 size_t *sum)
{
	size_t n = json_object_array_length(arr);
	struct canon_item *items;

	if (surely_unique(arr, n, count, sum))
		return;
	items = calloc(n ? n : 1, sizeof(*items));
	if (!items) {
		cc_error(v, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct buf b;

		buf_init(&b);
		canon(json_object_array_get_idx(arr, i), &b);
		buf_putc(&b, 0);
		items[i].text = b.oom ? (buf_free(&b), strdup("")) : b.data;
		items[i].index = i;
	}
	qsort(items, n, sizeof(*items), canon_cmp);
	for (size_t i = 1; i < n; i++)
		if (items[i].text && items[i - 1].text &&
		    strcmp(items[i].text, items[i - 1].text) == 0) {
			size_t old = cc_push_index(v, items[i].index);

			cc_error(v, "duplicate of item %zu (items must be unique)",
				 items[i - 1].index);
			cc_pop(v, old);
		}
	for (size_t i = 0; i < n; i++)
		free(items[i].text);
	free(items);
}

json_object *cc_array_counted(struct cc *v, json_object *o, size_t minitems, size_t maxitems,
			      size_t (*count)(json_object *item), size_t *sum)
{
	size_t n;

	if (!json_object_is_type(o, json_type_array)) {
		cc_error(v, "expected an array, got %s", cc_type_name(o));
		return NULL;
	}
	n = json_object_array_length(o);
	if (n < minitems) {
		cc_error(v, "needs at least %zu item%s", minitems, minitems == 1 ? "" : "s");
		return NULL;
	}
	if (n > maxitems) {
		cc_error(v, "has %zu items, at most %zu are allowed", n, maxitems);
		return NULL;
	}
	check_unique(v, o, count, sum);
	return o;
}

json_object *cc_array(struct cc *v, json_object *o, size_t minitems, size_t maxitems)
{
	return cc_array_counted(v, o, minitems, maxitems, NULL, NULL);
}

/* Checks that object o has no key outside allowed[] and all of required[]. */
void cc_keys(struct cc *v, json_object *o, const char *const *allowed, size_t n_allowed,
	     const char *const *required, size_t n_required)
{
	json_object_object_foreach(o, k, val)
	{
		bool known = false;

		(void)val;
		for (size_t i = 0; i < n_allowed; i++)
			known |= strcmp(k, allowed[i]) == 0;
		if (!known) {
			size_t old = cc_push(v, k);

			cc_error(v, "unknown key");
			cc_pop(v, old);
		}
	}
	for (size_t i = 0; i < n_required; i++)
		if (!json_object_object_get_ex(o, required[i], NULL))
			cc_error(v, "missing required key \"%s\"", required[i]);
}

char *cc_resolve(const char *dir, const char *file)
{
	size_t nd, nf;
	char *p;

	if (file[0] == '/' || !dir)
		return strdup(file);
	nd = strlen(dir);
	nf = strlen(file);
	p = malloc(nd + 1 + nf + 1);
	if (!p)
		return NULL;
	memcpy(p, dir, nd);
	p[nd] = '/';
	memcpy(p + nd + 1, file, nf + 1);
	return p;
}

void cc_file(struct cc *v, json_object *o, const char *dir, char **file, char **path)
{
	json_object *x;
	const char *s;
	size_t old;

	if (!json_object_object_get_ex(o, "file", &x))
		return;
	old = cc_push(v, "file");
	s = cc_string(v, x, 1, CC_FILE_MAXLEN);
	if (s) {
		*file = strdup(s);
		*path = cc_resolve(dir, s);
	}
	cc_pop(v, old);
}
