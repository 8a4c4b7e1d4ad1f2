/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <arpa/inet.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "configcheck.h"
#include "decimal.h"
#include "jsonscan.h"
#include "kind.h"
#include "pipeproto.h"

#define LABELS "([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(\\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\\.?$"
const char config_pattern_hostname[] = "^" LABELS;
const char config_pattern_qname[] = "^(\\*\\.)?" LABELS;

#define U32 "(0|[1-9][0-9]{0,8}|[1-3][0-9]{9}|4[01][0-9]{8}|42[0-8][0-9]{7}|429[0-3][0-9]{6}|" \
	    "4294[0-8][0-9]{5}|42949[0-5][0-9]{4}|429496[0-6][0-9]{3}|4294967[01][0-9]{2}|"    \
	    "42949672[0-8][0-9]|429496729[0-5])"
#define I31 "(0|[1-9][0-9]{0,8}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}|"      \
	    "2147[0-3][0-9]{5}|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}|"    \
	    "21474836[0-3][0-9]|214748364[0-7])"
const char config_pattern_soa[] = "^[A-Za-z0-9_.-]+ [A-Za-z0-9_.-]+ " U32 "( " I31 "){4}$";

const char config_pattern_group[] = "^[a-z_][a-z0-9_-]*[$]?$";

#define HOSTNAME_MAXLEN 253
#define NAMESERVERS_MAX 64
#define HANDLERS_MAX 100000
#define ZONES_MAX 1000 /* in "zones" */
#define VIEWS_TOTAL_MAX 100000 /* views of all handlers */
#define CONFIG_PREFIXES_MAX 100000 /* inline prefixes per view (more: prefix_file) */
#define FILE_MAXLEN 4095
#define TTL_MAX 2147483647

static const char *const loglevel_names[] = {"critical", "error", "warning", "info", "debug"};
static const enum config_loglevel loglevel_values[] = {CONFIG_LOG_CRIT, CONFIG_LOG_ERR,
							CONFIG_LOG_WARNING, CONFIG_LOG_INFO,
							CONFIG_LOG_DEBUG};
static const char *const advance_names[] = {"per-question", "per-lookup"}; /* by enum value */
const char *const config_policy_names[4] = {"round-robin", "random", "weighted", "all"};


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
		cc_error(v, minlen == 1 ? "must not be empty" : "shorter than %zu characters", minlen);
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
	return strlen(s) == (size_t)json_object_get_string_len(o) && regexec(re, s, 0, NULL, 0) == 0;
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

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
			      c == '-'))
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
	return config_hostname_fast(s, strlen(s), false) || regexec(&v->re_host, s, 0, NULL, 0) == 0;
}

/* What the fast check cannot accept goes to the pattern: it has the last word. */
static bool is_name(regex_t *re, json_object *o, bool wildcard)
{
	return config_hostname_fast(json_object_get_string(o), (size_t)json_object_get_string_len(o), wildcard) ||
	       cc_matches(re, o);
}

const char *cc_qname(struct cc *v, json_object *o)
{
	const char *s = cc_string(v, o, 1, HOSTNAME_MAXLEN);
	char q[DIAG_QUOTE_SIZE(100)];

	if (s && !is_name(&v->re_qname, o, true)) {
		cc_error(v, "%s is not a host name (letters, digits, '-' and '_' in labels of "
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
		cc_error(v, "%s is not a host name (letters, digits, '-' and '_' in labels of "
			"1 to 63 characters, separated by dots)", cc_quoted(o, q, 100));
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
			cc_error(v, "a number beyond 64 bits is out of range (%lld to %lld)", (long long)min, (long long)max);
			return false;
		}
	} else if (json_object_is_type(o, json_type_double)) {
		double d = json_object_get_double(o);

		/* JSON Schema: a number with a zero fractional part is an integer */
		if (!isfinite(d) || d != floor(d)) {
			cc_error(v, "expected an integer, got %s", isfinite(d) ? "a fraction" : "a number out of range");
			return false;
		}
		if (d < (double)min || d > (double)max) {
			cc_error(v, "%.17g is out of range (%lld to %lld)", d, (long long)min, (long long)max);
			return false;
		}
		x = (int64_t)d;
	} else {
		cc_error(v, "expected an integer, got %s", cc_type_name(o));
		return false;
	}
	if (x < min || x > max) {
		cc_error(v, "%lld is out of range (%lld to %lld)", (long long)x, (long long)min, (long long)max);
		return false;
	}
	*out = x;
	return true;
}

/* A canonical text form of a JSON value (object keys sorted, integral numbers as integers)
 * so that uniqueItems compares values as JSON Schema does. */
static int keysort(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

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
		json_object_object_foreach(o, k, val) {
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
	default:
		buf_puts(b, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
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

		json_object_object_foreach(o, k, val) {
			sum += mix(hash_bytes(1, k, strlen(k)) + 0x9e3779b97f4a7c15u * canon_hash(val));
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
		return hash_bytes(5, json_object_get_string(o), (size_t)json_object_get_string_len(o));
	case json_type_boolean:
		return mix(6 + (uint64_t)json_object_get_boolean(o));
	case json_type_null:
		return mix(8);
	}
	return 0;
}

/* True when no two of the n keys are equal (the top bit of a key is ignored); false also
 * without memory, which makes the caller take its exact path. */
static bool all_distinct(const uint64_t *keys, size_t n)
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

static size_t views_of(json_object *o);

/* True when the items of arr are surely unique: no two canonical hashes are equal. views,
 * when not NULL, gets the sum of views_of() of the items, in the same walk. */
static bool surely_unique(json_object *arr, size_t n, size_t *views)
{
	_cleanup_free_ uint64_t *h = n >= 2 ? malloc(n * sizeof(*h)) : NULL;

	if (views)
		*views = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *item = json_object_array_get_idx(arr, i);

		if (h)
			h[i] = canon_hash(item);
		if (views)
			*views += views_of(item);
	}
	if (n < 2)
		return true;
	return h && all_distinct(h, n);
}

static void check_unique(struct cc *v, json_object *arr, size_t *views)
{
	size_t n = json_object_array_length(arr);
	struct canon_item *items;

	if (surely_unique(arr, n, views))
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
		if (items[i].text && items[i - 1].text && strcmp(items[i].text, items[i - 1].text) == 0) {
			size_t old = cc_push_index(v, items[i].index);

			cc_error(v, "duplicate of item %zu (items must be unique)", items[i - 1].index);
			cc_pop(v, old);
		}
	for (size_t i = 0; i < n; i++)
		free(items[i].text);
	free(items);
}

/* cc_array(), and views (when not NULL) gets the sum of views_of() of the items. */
static json_object *array_views(struct cc *v, json_object *o, size_t minitems, size_t maxitems, size_t *views)
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
	check_unique(v, o, views);
	return o;
}

json_object *cc_array(struct cc *v, json_object *o, size_t minitems, size_t maxitems)
{
	return array_views(v, o, minitems, maxitems, NULL);
}

/* Checks that object o has no key outside allowed[] and all of required[]. */
void cc_keys(struct cc *v, json_object *o, const char *const *allowed, size_t n_allowed,
		       const char *const *required, size_t n_required)
{
	json_object_object_foreach(o, k, val) {
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

static char *resolve(const char *dir, const char *file)
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

static void check_qname(struct cc *v, json_object *o, struct config_handler *h)
{
	json_object *x;

	if (json_object_object_get_ex(o, "qname", &x)) {
		size_t old = cc_push(v, "qname");
		const char *s = cc_qname(v, x);

		if (s) {
			h->qname = strdup(s);
			dname_parse(s, strlen(s), &h->name);
		}
		cc_pop(v, old);
	}
}

/* A handler of a kind of kind.h: its keys, its name, then the kind's own checks. */
static void check_kind_handler(struct cc *v, json_object *o, struct config *c, struct config_handler *h,
			       const struct kind *k)
{
	h->kind = k;
	cc_keys(v, o, k->keys, k->n_keys, k->required, k->n_required);
	if (!k->own_qname)
		check_qname(v, o, h);
	k->parse(v, o, c, h);
}

/* How many views the handler object o has, for the room they need (0 when "views" is not an
 * array of objects of acceptable size: check_views() says why). */
static size_t views_of(json_object *o)
{
	json_object *x;
	size_t n;

	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "views", &x) ||
	    !json_object_is_type(x, json_type_array))
		return 0;
	n = json_object_array_length(x);
	return n <= CONFIG_VIEWS_MAX ? n : 0;
}

int config_prefix_parse(const char *s, size_t n, struct config_prefix *p, char *why, size_t why_size)
{
	const char *slash = memchr(s, '/', n);
	char addr[INET6_ADDRSTRLEN + 1];
	size_t alen = slash ? (size_t)(slash - s) : n;
	uint32_t len, max;

	*p = (struct config_prefix){0};
	if (alen >= sizeof(addr) || memchr(s, 0, n)) {
		snprintf(why, why_size, "is not a prefix (ADDRESS/LENGTH, IPv4 or IPv6)");
		return -EINVAL;
	}
	memcpy(addr, s, alen);
	addr[alen] = 0;
	if (inet_pton(AF_INET, addr, p->addr) == 1)
		p->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, p->addr) == 1)
		p->family = AF_INET6;
	else {
		snprintf(why, why_size, "is not a prefix (ADDRESS/LENGTH, IPv4 or IPv6)");
		return -EINVAL;
	}
	max = p->family == AF_INET ? 32 : 128;
	len = max;
	if (slash && !decimal_parse(slash + 1, (size_t)(s + n - slash - 1), max, &len)) {
		snprintf(why, why_size, "is not a prefix: the length is 0 to %u", max);
		return -EINVAL;
	}
	p->len = (uint8_t)len;
	for (unsigned bit = len; bit < max; bit++)
		if (p->addr[bit / 8] & (0x80 >> (bit % 8))) {
			char net[INET6_ADDRSTRLEN];

			for (unsigned b = len; b < 128; b++)
				p->addr[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
			inet_ntop(p->family, p->addr, net, sizeof(net));
			snprintf(why, why_size, "has bits set past its length: the prefix is %s/%u", net, len);
			return -EINVAL;
		}
	return 0;
}

static void check_prefix(struct cc *v, json_object *o, struct config_prefix *p)
{
	const char *s = cc_string(v, o, 1, 60);
	char q[DIAG_QUOTE_SIZE(60)], why[128];

	if (s && config_prefix_parse(s, (size_t)json_object_get_string_len(o), p, why, sizeof(why)) < 0) {
		cc_error(v, "%s %s", cc_quoted(o, q, 60), why);
		p->family = 0;
	}
}

static void check_policy_count(struct cc *v, json_object *o, struct config_handler *h);

/* The views of handler h, into the handlers at views[0 .. n). */
static void check_views(struct cc *v, json_object *arr, struct config *c, struct config_handler *h,
			struct config_handler *views)
{
	static const char *const keys[] = {"name", "prefixes", "prefix_file", "file", "policy", "count"};
	static const char *const required[] = {"file"};
	size_t n;

	if (!cc_array(v, arr, 1, CONFIG_VIEWS_MAX) || !views)
		return;
	n = json_object_array_length(arr);
	h->n_views = (uint16_t)n;
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i), *x;
		struct config_handler *w = &views[i];
		size_t old = cc_push_index(v, i);

		w->view = (uint16_t)(i + 1);
		w->qtype = h->qtype;
		w->types[0] = h->qtype;
		w->n_types = 1;
		w->name = h->name;
		w->qname = h->qname ? strdup(h->qname) : NULL;
		w->count = 1;
		if (!json_object_is_type(o, json_type_object)) {
			cc_error(v, "expected an object, got %s", cc_type_name(o));
			cc_pop(v, old);
			continue;
		}
		cc_keys(v, o, keys, ELEMENTSOF(keys), required, ELEMENTSOF(required));
		if (!json_object_object_get_ex(o, "prefixes", NULL) && !json_object_object_get_ex(o, "prefix_file", NULL))
			cc_error(v, "needs \"prefixes\" or \"prefix_file\": the clients it is for");
		if (json_object_object_get_ex(o, "name", &x)) {
			size_t o2 = cc_push(v, "name");
			const char *s = cc_string(v, x, 1, 64);

			if (s)
				w->view_name = strdup(s);
			cc_pop(v, o2);
		} else if (asprintf(&w->view_name, "view %zu", i + 1) < 0)
			w->view_name = NULL;
		if (json_object_object_get_ex(o, "prefixes", &x)) {
			size_t o2 = cc_push(v, "prefixes");

			if (cc_array(v, x, 1, CONFIG_PREFIXES_MAX)) {
				size_t np = json_object_array_length(x);

				w->prefixes = calloc(np, sizeof(*w->prefixes));
				for (size_t k = 0; w->prefixes && k < np; k++) {
					size_t o3 = cc_push_index(v, k);

					check_prefix(v, json_object_array_get_idx(x, k), &w->prefixes[k]);
					if (w->prefixes[k].family)
						w->n_prefixes++;
					cc_pop(v, o3);
				}
			}
			cc_pop(v, o2);
		}
		if (json_object_object_get_ex(o, "prefix_file", &x)) {
			size_t o2 = cc_push(v, "prefix_file");
			const char *s = cc_string(v, x, 1, FILE_MAXLEN);

			if (s) {
				w->prefix_file = strdup(s);
				w->prefix_path = resolve(c->dir, s);
			}
			cc_pop(v, o2);
		}
		if (json_object_object_get_ex(o, "file", &x)) {
			size_t o2 = cc_push(v, "file");
			const char *s = cc_string(v, x, 1, FILE_MAXLEN);

			if (s) {
				w->file = strdup(s);
				w->path = resolve(c->dir, s);
			}
			cc_pop(v, o2);
		}
		check_policy_count(v, o, w);
		cc_pop(v, old);
	}
}

static void check_handler(struct cc *v, json_object *o, struct config *c, struct config_handler *h,
			  struct config_handler *views)
{
	static const char *const keys[] = {"qname", "qtype", "file", "policy", "count", "kind", "views", "match"};
	static const char *const match_names[] = {"subnet", "resolver"};
	json_object *x;
	size_t old;
	int r;

	if (!json_object_is_type(o, json_type_object)) {
		cc_error(v, "expected an object, got %s", cc_type_name(o));
		return;
	}
	if (json_object_object_get_ex(o, "kind", &x)) {
		const char *s;
		const struct kind *k = NULL;
		bool addresses;

		old = cc_push(v, "kind");
		s = cc_string(v, x, 0, SIZE_MAX);
		addresses = s && strcmp(s, "addresses") == 0;
		if (s && !addresses && !(k = kind_find(s))) {
			char q[DIAG_QUOTE_SIZE(40)], names[256];

			cc_error(v, "expected one of %s, got %s", kind_names(names, sizeof(names)),
				 cc_quoted(x, q, 40));
		}
		cc_pop(v, old);
		if (k)
			check_kind_handler(v, o, c, h, k);
		if (!addresses)
			return; /* another kind, or no kind at all */
	}
	cc_keys(v, o, keys, ELEMENTSOF(keys), keys, 3);
	check_qname(v, o, h);
	if (json_object_object_get_ex(o, "qtype", &x)) {
		char q[DIAG_QUOTE_SIZE(40)];
		const char *s;

		old = cc_push(v, "qtype");
		s = cc_string(v, x, 0, SIZE_MAX);
		if (s && strcmp(s, "A") == 0)
			h->qtype = 1;
		else if (s && strcmp(s, "AAAA") == 0)
			h->qtype = 28;
		else if (s)
			cc_error(v, "expected \"A\" or \"AAAA\", got %s", cc_quoted(x, q, 40));
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(o, "file", &x)) {
		const char *s;

		old = cc_push(v, "file");
		s = cc_string(v, x, 1, FILE_MAXLEN);
		if (s) {
			h->file = strdup(s);
			h->path = resolve(c->dir, s);
		}
		cc_pop(v, old);
	}
	check_policy_count(v, o, h);
	if (json_object_object_get_ex(o, "match", &x)) {
		old = cc_push(v, "match");
		r = cc_enum(v, x, match_names, ELEMENTSOF(match_names));
		if (r >= 0)
			h->match = (enum config_match)r;
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(o, "views", &x)) {
		old = cc_push(v, "views");
		check_views(v, x, c, h, views);
		cc_pop(v, old);
	}
	h->types[0] = h->qtype;
	h->n_types = 1;
}

/* "policy" and "count" of an address list (a handler's, or a view's). */
static void check_policy_count(struct cc *v, json_object *o, struct config_handler *h)
{
	json_object *x;
	size_t old;
	int r;

	h->count = 1;
	if (json_object_object_get_ex(o, "policy", &x)) {
		old = cc_push(v, "policy");
		r = cc_enum(v, x, config_policy_names, ELEMENTSOF(config_policy_names));
		if (r >= 0)
			h->policy = (enum config_policy)r;
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(o, "count", &x)) {
		int64_t n;

		old = cc_push(v, "count");
		if (cc_integer(v, x, 1, CONFIG_COUNT_MAX, &n))
			h->count = (uint32_t)n;
		cc_pop(v, old);
	}
}

/* The keys of a zone: "domain", "soa", "nameservers", "ttl" (the config's own, or one of
 * "zones"), into z. */
static void check_zone(struct cc *v, json_object *o, struct config_zone *z)
{
	json_object *x;
	size_t old;

	if (json_object_object_get_ex(o, "domain", &x)) {
		const char *s;

		old = cc_push(v, "domain");
		s = cc_hostname(v, x);
		if (s) {
			z->domain = strdup(s);
			dname_parse(s, strlen(s), &z->apex);
		}
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(o, "soa", &x)) {
		char q[DIAG_QUOTE_SIZE(120)];
		const char *s;

		old = cc_push(v, "soa");
		s = cc_string(v, x, 0, SIZE_MAX);
		if (s && !cc_matches(&v->re_soa, x))
			cc_error(v, "%s is not \"MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM\" "
				"(host names and decimal numbers, single spaces)", cc_quoted(x, q, 120));
		else if (s)
			z->soa = strdup(s);
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(o, "nameservers", &x)) {
		old = cc_push(v, "nameservers");
		if (cc_array(v, x, 1, NAMESERVERS_MAX)) {
			size_t n = json_object_array_length(x);

			z->nameservers = calloc(n, sizeof(char *));
			for (size_t i = 0; z->nameservers && i < n; i++) {
				size_t o2 = cc_push_index(v, i);
				const char *s = cc_hostname(v, json_object_array_get_idx(x, i));

				if (s)
					z->nameservers[z->n_nameservers++] = strdup(s);
				cc_pop(v, o2);
			}
		}
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(o, "ttl", &x)) {
		int64_t t;

		old = cc_push(v, "ttl");
		if (cc_integer(v, x, 0, TTL_MAX, &t))
			z->ttl = (uint32_t)t;
		cc_pop(v, old);
	}
}

static void check_root(struct cc *v, json_object *root, struct config *c)
{
	static const char *const allowed[] = {"domain",   "soa",      "nameservers", "ttl",
					      "loglevel", "advance",  "handlers",    "control_dir",
					      "control_group", "zones", "catch_all"};
	static const char *const required[] = {"domain", "soa", "nameservers", "ttl", "handlers"};
	json_object *x;
	size_t old;
	int r;

	if (!json_object_is_type(root, json_type_object)) {
		cc_error(v, "expected an object, got %s", cc_type_name(root));
		return;
	}
	cc_keys(v, root, allowed, ELEMENTSOF(allowed), required, ELEMENTSOF(required));

	/* the config's own zone is the first; "zones" adds more */
	if (json_object_object_get_ex(root, "zones", &x)) {
		old = cc_push(v, "zones");
		if (cc_array(v, x, 1, ZONES_MAX))
			c->n_zones = 1 + json_object_array_length(x);
		cc_pop(v, old);
	}
	if (!c->n_zones)
		c->n_zones = 1;
	c->zones = calloc(c->n_zones, sizeof(*c->zones));
	if (!c->zones) {
		cc_error(v, "out of memory");
		c->n_zones = 0;
		return;
	}
	check_zone(v, root, &c->zones[0]);
	c->domain = c->zones[0].domain;
	c->apex = c->zones[0].apex;
	c->soa = c->zones[0].soa;
	c->nameservers = c->zones[0].nameservers;
	c->n_nameservers = c->zones[0].n_nameservers;
	c->ttl = c->zones[0].ttl;
	if (c->n_zones > 1) {
		static const char *const keys[] = {"domain", "soa", "nameservers", "ttl"};

		old = cc_push(v, "zones");
		for (size_t i = 1; i < c->n_zones; i++) {
			json_object *o = json_object_array_get_idx(x, i - 1);
			size_t o2 = cc_push_index(v, i - 1);

			c->zones[i].ttl = c->ttl;
			if (!json_object_is_type(o, json_type_object))
				cc_error(v, "expected an object, got %s", cc_type_name(o));
			else {
				cc_keys(v, o, keys, ELEMENTSOF(keys), keys, 3);
				check_zone(v, o, &c->zones[i]);
			}
			cc_pop(v, o2);
		}
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(root, "catch_all", &x)) {
		static const char *const keys[] = {"soa", "nameservers", "ttl"};

		old = cc_push(v, "catch_all");
		c->catch_all = calloc(1, sizeof(*c->catch_all));
		if (!c->catch_all)
			cc_error(v, "out of memory");
		else if (!json_object_is_type(x, json_type_object))
			cc_error(v, "expected an object, got %s", cc_type_name(x));
		else {
			c->catch_all->ttl = c->ttl;
			cc_keys(v, x, keys, ELEMENTSOF(keys), keys, 2);
			check_zone(v, x, c->catch_all);
		}
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(root, "loglevel", &x)) {
		old = cc_push(v, "loglevel");
		r = cc_enum(v, x, loglevel_names, ELEMENTSOF(loglevel_names));
		if (r >= 0)
			c->loglevel = loglevel_values[r];
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(root, "advance", &x)) {
		old = cc_push(v, "advance");
		r = cc_enum(v, x, advance_names, ELEMENTSOF(advance_names));
		if (r >= 0)
			c->advance = (enum config_advance)r;
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(root, "control_dir", &x)) {
		const char *s;

		old = cc_push(v, "control_dir");
		s = cc_string(v, x, 1, 200);
		if (s && strlen(s) != (size_t)json_object_get_string_len(x))
			cc_error(v, "contains a NUL character");
		else if (s)
			c->control_dir = strdup(s);
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(root, "control_group", &x)) {
		char q[DIAG_QUOTE_SIZE(40)];
		const char *s;

		old = cc_push(v, "control_group");
		s = cc_string(v, x, 0, 32);
		if (s && !cc_matches(&v->re_group, x))
			cc_error(v, "%s is not a group name", cc_quoted(x, q, 40));
		else if (s)
			c->control_group = strdup(s);
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(root, "handlers", &x)) {
		old = cc_push(v, "handlers");
		size_t nv;

		/* the views go after the handlers: counted first, in the walk for uniqueness */
		if (array_views(v, x, 0, HANDLERS_MAX, &nv)) {
			size_t n = json_object_array_length(x), next;

			if (nv > VIEWS_TOTAL_MAX) {
				cc_error(v, "%zu views in all, at most %d are allowed", nv, VIEWS_TOTAL_MAX);
				nv = 0;
			}
			c->handlers = calloc(n + nv ? n + nv : 1, sizeof(*c->handlers));
			if (!c->handlers)
				cc_error(v, "out of memory");
			next = n;
			for (size_t i = 0; c->handlers && i < n; i++) {
				json_object *o = json_object_array_get_idx(x, i);
				size_t o2 = cc_push_index(v, i), k = views_of(o);

				check_handler(v, o, c, &c->handlers[i], k && nv ? &c->handlers[next] : NULL);
				/* Nothing refers to its tree any more: freed while it is in the cache
				 * (and its memory taken again by the next handlers), not in a last walk
				 * over the whole cold tree. */
				json_object_array_put_idx(x, i, NULL);
				if (k && nv)
					next += k;
				c->n_handlers++;
				cc_pop(v, o2);
			}
			if (c->handlers) {
				c->n_handlers = next;
				c->n_views = next - n;
			}
		}
		cc_pop(v, old);
	}
}

/* One record type of one handler, for the checks across handlers. */
struct claim {
	const struct config_handler *h;
	uint16_t type;
};

static int claim_cmp(const void *a, const void *b)
{
	const struct claim *x = a, *y = b;
	int c = (x->h->name.len > y->h->name.len) - (x->h->name.len < y->h->name.len);

	if (!c)
		c = memcmp(x->h->name.wire, y->h->name.wire, x->h->name.len);
	if (!c)
		c = (x->type > y->type) - (x->type < y->type);
	return c ? c : (x->h > y->h) - (x->h < y->h);
}

/* True when the claims surely hold no name and type twice and no CNAME at all: a set of
 * (name hash, type) keys finds no key twice. Otherwise (or without memory) the claims are
 * sorted and compared in full. */
static bool claims_surely_clean(const struct claim *claims, size_t n)
{
	_cleanup_free_ uint64_t *keys = malloc((n ? n : 1) * sizeof(*keys));

	if (!keys)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (claims[i].type == PP_TYPE_CNAME)
			return false;
		keys[i] = dname_hash(&claims[i].h->name) << 16 | claims[i].type;
	}
	return all_distinct(keys, n);
}

static void handler_error(struct cc *v, const struct config *c, const struct config_handler *h,
			  const char *fmt, ...) _printf_(4, 5);
static void handler_error(struct cc *v, const struct config *c, const struct config_handler *h,
			  const char *fmt, ...)
{
	size_t old = cc_push_index(v, (size_t)(h - c->handlers));
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cc_error(v, "%s", msg);
	cc_pop(v, old);
}

struct owned_prefix {
	const struct config_prefix *p;
	const struct config_handler *view;
};

/* p as the trie keys it: 128 bits, IPv4 as ::ffff:a.b.c.d, so that 10.0.0.0/8 and
 * ::ffff:10.0.0.0/104 are one prefix here as they are there (and in a prefix file) */
static unsigned prefix_key(const struct config_prefix *p, uint8_t key[16])
{
	if (p->family == AF_INET6) {
		memcpy(key, p->addr, 16);
		return p->len;
	}
	memset(key, 0, 10);
	key[10] = key[11] = 0xff;
	memcpy(key + 12, p->addr, 4);
	return 96u + p->len;
}

static int prefix_cmp(const void *a, const void *b)
{
	const struct owned_prefix *x = a, *y = b;
	uint8_t kx[16], ky[16];
	unsigned lx = prefix_key(x->p, kx), ly = prefix_key(y->p, ky);
	int c = (lx > ly) - (lx < ly);

	if (!c)
		c = memcmp(kx, ky, 16);
	return c ? c : (x->view > y->view) - (x->view < y->view);
}

/* A prefix in two views of one handler: which should answer would be a guess. */
static void check_view_prefixes(struct cc *v, struct config *c)
{
	for (size_t i = 0, first = 0; i < c->n_handlers; i++) {
		const struct config_handler *h = &c->handlers[i];
		_cleanup_free_ struct owned_prefix *all = NULL;
		size_t n = 0;

		if (h->view)
			continue;
		if (!h->n_views)
			continue;
		/* its views: the next n_views handlers after those of the handlers before it */
		while (first < c->n_handlers && !c->handlers[first].view)
			first++;
		for (size_t k = 0; k < h->n_views; k++)
			n += c->handlers[first + k].n_prefixes;
		all = calloc(n ? n : 1, sizeof(*all));
		if (!all) {
			cc_error(v, "out of memory");
			return;
		}
		n = 0;
		for (size_t k = 0; k < h->n_views; k++) {
			const struct config_handler *w = &c->handlers[first + k];

			for (size_t j = 0; j < w->n_prefixes; j++)
				all[n++] = (struct owned_prefix){.p = &w->prefixes[j], .view = w};
		}
		first += h->n_views;
		qsort(all, n, sizeof(*all), prefix_cmp);
		for (size_t j = 1; j < n; j++)
			if (prefix_cmp(&(struct owned_prefix){all[j - 1].p, NULL}, &(struct owned_prefix){all[j].p, NULL}) == 0) {
				char text[INET6_ADDRSTRLEN];

				/* as the first of the two views writes it */
				inet_ntop(all[j - 1].p->family, all[j - 1].p->addr, text, sizeof(text));
				handler_error(v, c, h, "%s/%u is in two views, \"%s\" and \"%s\"", text, all[j - 1].p->len,
					      all[j - 1].view->view_name, all[j].view->view_name);
			}
	}
}

/* What the schema cannot say: handler names inside the zone; one handler per name and
 * type; a CNAME alone at its name and not at the apex; the apex NS set only from
 * "nameservers". */
static void check_semantics(struct cc *v, struct config *c)
{
	_cleanup_free_ struct claim *claims = NULL;
	size_t n = 0, top = cc_push(v, "handlers");

	for (size_t i = 0; i < c->n_handlers; i++) {
		struct config_handler *h = &c->handlers[i];
		int zone = -1;

		for (size_t z = 0; z < c->n_zones; z++)
			if (dname_is_below_or_at(&h->name, &c->zones[z].apex) &&
			    (zone < 0 || c->zones[z].apex.len > c->zones[zone].apex.len))
				zone = (int)z;
		if (zone >= 0)
			h->zone = (uint16_t)zone;
		else if (!h->view) {
			size_t old = cc_push_index(v, i);
			size_t o2 = cc_push(v, "qname");

			if (c->n_zones == 1)
				cc_error(v, "\"%s\" is not at or below the domain \"%s\"", h->qname, c->domain);
			else
				cc_error(v, "\"%s\" is in none of the zones (the domain \"%s\" and the %zu of "
					 "\"zones\")", h->qname, c->domain, c->n_zones - 1);
			cc_pop(v, o2);
			cc_pop(v, old);
		}
	}
	claims = calloc(c->n_handlers * KIND_TYPES_MAX + 1, sizeof(*claims));
	if (!claims) {
		cc_error(v, "out of memory");
		cc_pop(v, top);
		return;
	}
	for (size_t i = 0; i < c->n_handlers; i++) {
		const struct config_handler *h = &c->handlers[i];
		bool apex = dname_equal(&h->name, &c->zones[h->zone].apex);

		for (uint8_t t = 0; !h->view && !(h->kind && h->kind->covers) && t < h->n_types; t++) {
			claims[n++] = (struct claim){.h = h, .type = h->types[t]};
			if (apex && h->types[t] == PP_TYPE_NS)
				handler_error(v, c, h, "NS records at the apex come from \"nameservers\"");
			if (apex && h->types[t] == PP_TYPE_CNAME)
				handler_error(v, c, h, "a CNAME cannot be at the apex (it has SOA and NS records)");
		}
	}
	if (claims_surely_clean(claims, n))
		n = 0; /* nothing to report: no sort */
	qsort(claims, n, sizeof(*claims), claim_cmp);
	for (size_t i = 1; i < n; i++) {
		const struct claim *a = &claims[i - 1], *b = &claims[i];

		if (dname_equal(&a->h->name, &b->h->name) && a->type == b->type)
			handler_error(v, c, b->h, "duplicate handler: %s %s is already handled by /handlers/%zu",
				      b->h->qname, pp_type_name(b->type), (size_t)(a->h - c->handlers));
	}
	/* per name: a CNAME and any other handler there */
	for (size_t i = 0, j; i < n; i = j) {
		const struct claim *cn = NULL;

		for (j = i; j < n && dname_equal(&claims[j].h->name, &claims[i].h->name); j++)
			if (claims[j].type == PP_TYPE_CNAME && !cn)
				cn = &claims[j];
		for (size_t k = i, seen; cn && k < j; k++) {
			for (seen = i; seen < k && claims[seen].h != claims[k].h; seen++)
				;
			if (claims[k].h != cn->h && seen == k) /* once per handler */
				handler_error(v, c, claims[k].h, "%s has a CNAME (/handlers/%zu): a CNAME must be "
					      "alone at its name", cn->h->qname, (size_t)(cn->h - c->handlers));
		}
	}
	check_view_prefixes(v, c);
	cc_pop(v, top);
	/* one zone per apex */
	for (size_t z = 1; z < c->n_zones; z++)
		for (size_t y = 0; y < z; y++)
			if (dname_equal(&c->zones[z].apex, &c->zones[y].apex)) {
				size_t o1 = cc_push(v, "zones"), o2 = cc_push_index(v, z - 1), o3 = cc_push(v, "domain");
				char where[32];

				if (y)
					snprintf(where, sizeof(where), "/zones/%zu", y - 1);
				cc_error(v, "\"%s\" is already a zone (%s)", c->zones[z].domain, y ? where : "the domain");
				cc_pop(v, o3);
				cc_pop(v, o2);
				cc_pop(v, o1);
				break;
			}
}

/* FNV-1a over 8-byte words, then the last bytes one by one, then the length: a byte at a
 * time, the multiplications of an 8 MB config took ~10 ms in a row. */
static uint64_t text_hash(const char *text, size_t len)
{
	uint64_t h = 0xcbf29ce484222325u, w;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, text + i, 8);
		h = (h ^ w) * 0x100000001b3u;
	}
	for (; i < len; i++)
		h = (h ^ (uint8_t)text[i]) * 0x100000001b3u;
	return (h ^ len) * 0x100000001b3u;
}

static char *config_dir(const char *path)
{
	_cleanup_free_ char *copy = strdup(path);
	char *dir, *abs;

	if (!copy)
		return NULL;
	dir = dirname(copy);
	abs = realpath(dir, NULL);
	return abs ? abs : strdup(dir);
}

int config_parse(const char *text, size_t len, const char *path, struct diag *d, struct config **ret)
{
	_cleanup_(config_freep) struct config *c = NULL;
	struct jsonscan_error jerr;
	struct json_tokener *tok;
	json_object *root;
	struct cc v = {.path = path, .d = d};
	int r;

	r = jsonscan_check(text, len, &jerr);
	if (r == -EINVAL) {
		diag_add_at(d, path, jerr.line, "%s:%zu:%zu: error: %s", path, jerr.line, jerr.col, jerr.msg);
		return r;
	}
	if (r < 0)
		return r;

	tok = json_tokener_new_ex(JSONSCAN_MAX_DEPTH + 1);
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, text, (int)len);
	if (!root && json_tokener_get_error(tok) == json_tokener_continue)
		root = json_tokener_parse_ex(tok, "", 1);
	if (!root) {
		/* The scanner accepted it, so this is a number json-c cannot hold. */
		diag_add_at(d, path, 0, "%s: error: JSON not accepted by json-c: %s", path,
			 json_tokener_error_desc(json_tokener_get_error(tok)));
		json_tokener_free(tok);
		return -EINVAL;
	}
	json_tokener_free(tok);

	c = calloc(1, sizeof(*c));
	if (!c) {
		json_object_put(root);
		return -ENOMEM;
	}
	c->loglevel = CONFIG_LOG_INFO;
	c->text_hash = text_hash(text, len);
	c->path = strdup(path);
	c->dir = config_dir(path);
	if (regcomp(&v.re_host, config_pattern_hostname, REG_EXTENDED | REG_NOSUB) != 0) {
		json_object_put(root);
		return -ENOMEM;
	}
	if (regcomp(&v.re_qname, config_pattern_qname, REG_EXTENDED | REG_NOSUB) != 0) {
		regfree(&v.re_host);
		json_object_put(root);
		return -ENOMEM;
	}
	if (regcomp(&v.re_soa, config_pattern_soa, REG_EXTENDED | REG_NOSUB) != 0) {
		regfree(&v.re_host);
		regfree(&v.re_qname);
		json_object_put(root);
		return -ENOMEM;
	}
	if (regcomp(&v.re_group, config_pattern_group, REG_EXTENDED | REG_NOSUB) != 0) {
		regfree(&v.re_host);
		regfree(&v.re_qname);
		regfree(&v.re_soa);
		json_object_put(root);
		return -ENOMEM;
	}
	check_root(&v, root, c);
	if (!v.failed)
		check_semantics(&v, c);
	regfree(&v.re_host);
	regfree(&v.re_qname);
	regfree(&v.re_soa);
	regfree(&v.re_group);
	json_object_put(root);
	if (v.failed)
		return -EINVAL;
	*ret = TAKE_PTR(c);
	return 0;
}

int config_load(const char *path, struct diag *d, struct config **ret)
{
	_cleanup_free_ char *text = NULL;
	struct stat st;
	size_t have;
	int r;

	r = file_read_all(path, CONFIG_MAX_SIZE, d, &text, &have, &st);
	if (r < 0)
		return r;
	r = config_parse(text, have, path, d, ret);
	if (r >= 0)
		file_id_from_stat(&st, &(*ret)->id);
	return r;
}

struct config *config_free(struct config *c)
{
	if (!c)
		return NULL;
	free(c->path);
	free(c->dir);
	/* c->domain, soa and nameservers are zone 0's */
	for (size_t z = 0; z < c->n_zones; z++) {
		free(c->zones[z].domain);
		free(c->zones[z].soa);
		for (size_t i = 0; i < c->zones[z].n_nameservers; i++)
			free(c->zones[z].nameservers[i]);
		free(c->zones[z].nameservers);
	}
	free(c->zones);
	if (c->catch_all) {
		free(c->catch_all->domain); /* an unknown key there, but parsed */
		free(c->catch_all->soa);
		for (size_t i = 0; i < c->catch_all->n_nameservers; i++)
			free(c->catch_all->nameservers[i]);
		free(c->catch_all->nameservers);
		free(c->catch_all);
	}
	for (size_t i = 0; i < c->n_handlers; i++) {
		free(c->handlers[i].qname);
		free(c->handlers[i].file);
		free(c->handlers[i].path);
		if (c->handlers[i].kind && c->handlers[i].data)
			c->handlers[i].kind->free_data(c->handlers[i].data);
		free(c->handlers[i].view_name);
		free(c->handlers[i].prefixes);
		free(c->handlers[i].prefix_file);
		free(c->handlers[i].prefix_path);
	}
	free(c->handlers);
	free(c->control_dir);
	free(c->control_group);
	free(c);
	return NULL;
}

void config_counts(const struct config *c, char *buf)
{
	size_t own = c->n_handlers - c->n_views;

	if (c->n_views)
		snprintf(buf, CONFIG_COUNTS_MAX, "%zu handler%s, %zu view%s", own, own == 1 ? "" : "s", c->n_views,
			 c->n_views == 1 ? "" : "s");
	else
		snprintf(buf, CONFIG_COUNTS_MAX, "%zu handler%s", own, own == 1 ? "" : "s");
}
