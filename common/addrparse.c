/* SPDX-License-Identifier: MIT */
/* The text of an address list (addrlist.h): lines, prefixes and weights, parsed from memory or
 * read from a file in chunks, into a packed list. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "addrlist.h"
#include "decimal.h"
#include "schedule.h"

#define MAX_REPORTED 20 /* bad lines reported per file; the rest are counted */
#define READ_CHUNK   (256 * 1024)
#define SMALL_CHUNK  (8 * 1024) /* > ADDRLIST_MAX_LINE + 1: a line carried over leaves room */

static inline bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

struct parser {
	int family;
	size_t width;
	bool weighted;
	const char *name;
	struct diag *d;
	uint8_t *addrs;	   /* the plain lines' addresses, n_plain of them */
	uint32_t *weights; /* weighted lists: one per address, cap of them */
	size_t n;	   /* addresses, every address of a prefix counted */
	size_t n_plain, cap;
	struct addrlist_run *runs; /* once a prefix line came */
	size_t n_runs, runs_cap;
	size_t plain_in_runs; /* the first plain addresses, already covered by runs */
	size_t lineno;
	size_t bad;
	bool oom;
};

/* Reports a bad token: "NAME:LINE: error: "TOKEN"WHAT". */
static void bad_line(struct parser *p, const char *what, const char *tok, size_t toklen)
{
	char q[DIAG_QUOTE_SIZE(60)];

	p->bad++;
	if (p->bad > MAX_REPORTED)
		return;
	diag_add_at(p->d, p->name, p->lineno, "%s:%zu: error: %s%s", p->name, p->lineno,
		    diag_quote(q, tok, toklen, 60), what);
}

/* A weight: 1 to 7 decimal digits, at most ADDRLIST_MAX_WEIGHT. */
static bool parse_weight(const char *s, size_t len, uint32_t *out)
{
	uint32_t v = 0;

	if (len == 0 || len > 7)
		return false;
	for (size_t i = 0; i < len; i++)
		v = v * 10 + (uint32_t)(s[i] - '0');
	if (v > ADDRLIST_MAX_WEIGHT)
		return false;
	*out = v;
	return true;
}

static void parser_drop(struct parser *p)
{
	free(p->addrs);
	free(p->weights);
	free(p->runs);
}

static bool too_many(struct parser *p, size_t more)
{
	if (p->n + more <= ADDRLIST_MAX_ADDRS)
		return false;
	p->bad++;
	diag_add_at(p->d, p->name, p->lineno, "%s:%zu: error: more than %u addresses", p->name,
		    p->lineno, ADDRLIST_MAX_ADDRS);
	return true;
}

static bool push_run(struct parser *p, struct addrlist_run run)
{
	if (p->n_runs == p->runs_cap) {
		size_t cap = p->runs_cap ? p->runs_cap * 2 : 16;
		struct addrlist_run *r = realloc(p->runs, cap * sizeof(*r));

		if (!r) {
			p->oom = true;
			return false;
		}
		p->runs = r;
		p->runs_cap = cap;
	}
	p->runs[p->n_runs++] = run;
	return true;
}

/* The plain lines since the last run become one run. */
static bool close_plain_run(struct parser *p)
{
	size_t k = p->n_plain - p->plain_in_runs;

	if (!k)
		return true;
	if (!push_run(p, (struct addrlist_run){.first = (uint32_t)(p->n - k),
					       .len = (uint32_t)k,
					       .off = (uint32_t)p->plain_in_runs}))
		return false;
	p->plain_in_runs = p->n_plain;
	return true;
}

/* Handles a line whose token tok holds a '/' at slash; end is the end of the line's text
 * (before any comment). */
static void parse_prefix(struct parser *p, const char *tok, size_t toklen, const char *slash,
			 const char *end)
{
	const bool v4 = p->family == AF_INET;
	const unsigned bits = v4 ? 32 : 128, min = v4 ? 8 : 104;
	const char *rest = tok + toklen;
	size_t alen = (size_t)(slash - tok);
	uint8_t a[16] = {0}, net[16];
	uint32_t plen;
	char what[DIAG_QUOTE_SIZE(60) + 128], q[DIAG_QUOTE_SIZE(60)];
	bool ok;

	ok = v4 ? addr_parse4(tok, alen, a) : addr_parse6(tok, alen, a);
	if (!ok) {
		if (v4 ? addr_parse6(tok, alen, a) : addr_parse4(tok, alen, a))
			bad_line(p,
				 v4 ? " is an IPv6 prefix; an A list takes IPv4 only"
				    : " is an IPv4 prefix; an AAAA list takes IPv6 only",
				 tok, toklen);
		else {
			snprintf(what, sizeof(what),
				 " is not an IPv%c prefix: %s is not an IPv%c address",
				 v4 ? '4' : '6', diag_quote(q, tok, alen, 60), v4 ? '4' : '6');
			bad_line(p, what, tok, toklen);
		}
		return;
	}
	if (!decimal_parse(slash + 1, (size_t)(rest - slash - 1), bits, &plen)) {
		snprintf(
		    what, sizeof(what),
		    " is not an IPv%c prefix: the length after \"/\" is a decimal from 0 to %u "
		    "without leading zeros",
		    v4 ? '4' : '6', bits);
		bad_line(p, what, tok, (size_t)(end - tok));
		return;
	}
	if (p->weighted) {
		bad_line(p, ": a prefix line cannot be weighted; list its addresses one per line",
			 tok, (size_t)(end - tok));
		return;
	}
	if (rest != end) {
		bad_line(p, ": unexpected text after the prefix", tok, (size_t)(end - tok));
		return;
	}
	if (plen < min) {
		snprintf(what, sizeof(what),
			 " is too large: a prefix line of an %s list is /%u to /%u (at most %u "
			 "addresses)",
			 v4 ? "A" : "AAAA", min, bits, ADDRLIST_MAX_PREFIX_ADDRS);
		bad_line(p, what, tok, toklen);
		return;
	}
	memcpy(net, a, 16);
	for (unsigned b = plen; b < bits; b++)
		net[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
	if (memcmp(net, a, bits / 8) != 0) {
		char text[ADDR_TEXT_MAX];

		if (v4)
			addr_format4(net, text);
		else
			addr_format6(net, text);
		snprintf(what, sizeof(what), " has host bits set: the prefix is \"%s/%u\"", text,
			 plen);
		bad_line(p, what, tok, toklen);
		return;
	}
	if (p->bad || p->oom || too_many(p, (size_t)1 << (bits - plen)))
		return;
	if (!close_plain_run(p))
		return;
	{
		struct addrlist_run run = {.first = (uint32_t)p->n,
					   .len = (uint32_t)1 << (bits - plen),
					   .off = ADDRLIST_RUN_PREFIX};

		memcpy(run.base, net, p->width);
		if (!push_run(p, run))
			return;
	}
	p->n += (size_t)1 << (bits - plen);
}

/* Handles one line (without its newline). */
static void parse_line(struct parser *p, const char *s, size_t len)
{
	const char *tok, *end = s + len, *hash;
	size_t toklen;
	uint8_t a[16];
	uint32_t weight = 1;
	bool ok;

	p->lineno++;
	if (len > ADDRLIST_MAX_LINE) {
		p->bad++;
		if (p->bad <= MAX_REPORTED)
			diag_add_at(p->d, p->name, p->lineno,
				    "%s:%zu: error: line longer than %d bytes", p->name, p->lineno,
				    ADDRLIST_MAX_LINE);
		return;
	}
	if (memchr(s, 0, len)) {
		p->bad++;
		if (p->bad <= MAX_REPORTED)
			diag_add_at(p->d, p->name, p->lineno,
				    "%s:%zu: error: line contains a NUL byte", p->name, p->lineno);
		return;
	}
	hash = memchr(s, '#', len);
	if (hash)
		end = hash;
	while (s < end && is_blank(*s))
		s++;
	while (end > s && is_blank(end[-1]))
		end--;
	if (s == end)
		return;
	tok = s;
	while (s < end && !is_blank(*s))
		s++;
	toklen = (size_t)(s - tok);
	ok = p->family == AF_INET ? addr_parse4(tok, toklen, a) : addr_parse6(tok, toklen, a);
	if (!ok) {
		/* no address has a '/': looked for only here, plain lines pay nothing */
		const char *slash = memchr(tok, '/', toklen);

		if (slash) {
			parse_prefix(p, tok, toklen, slash, end);
			return;
		}
	}
	if (p->family == AF_INET) {
		if (!ok && addr_parse6(tok, toklen, a)) {
			bad_line(p, " is an IPv6 address; an A list takes IPv4 only", tok, toklen);
			return;
		}
	} else {
		if (!ok && addr_parse4(tok, toklen, a)) {
			bad_line(p, " is an IPv4 address; an AAAA list takes IPv6 only", tok,
				 toklen);
			return;
		}
	}
	if (!ok) {
		bad_line(
		    p, p->family == AF_INET ? " is not an IPv4 address" : " is not an IPv6 address",
		    tok, (size_t)(end - tok));
		return;
	}
	if (s != end) {
		const char *wt = s, *we;

		while (wt < end && is_blank(*wt))
			wt++;
		we = wt;
		while (we < end && *we >= '0' && *we <= '9')
			we++;
		if (!p->weighted) {
			if (we > wt && (we == end || is_blank(*we)))
				bad_line(p, ": a weight column needs \"policy\": \"weighted\"", tok,
					 (size_t)(end - tok));
			else
				bad_line(p, ": unexpected text after the address", tok,
					 (size_t)(end - tok));
			return;
		}
		if (!parse_weight(wt, (size_t)(we - wt), &weight) || (we < end && !is_blank(*we))) {
			while (we < end && !is_blank(*we))
				we++;
			bad_line(p, " is not a weight (an integer from 0 to 1000000)", wt,
				 (size_t)(we - wt));
			return;
		}
		while (we < end && is_blank(*we))
			we++;
		if (we != end) {
			bad_line(p, ": unexpected text after the weight", tok, (size_t)(end - tok));
			return;
		}
	}
	if (p->bad || p->oom || too_many(p, 1)) /* the file is rejected anyway: stop storing */
		return;
	if (p->n_plain == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 1024;
		uint8_t *n;

		n = realloc(p->addrs, cap * p->width);
		if (!n) {
			p->oom = true;
			return;
		}
		p->addrs = n;
		if (p->weighted) {
			uint32_t *w = realloc(p->weights, cap * sizeof(*w));

			if (!w) {
				p->oom = true;
				return;
			}
			p->weights = w;
		}
		p->cap = cap;
	}
	memcpy(p->addrs + p->n_plain * p->width, a, p->width);
	if (p->weighted)
		p->weights[p->n_plain] = weight;
	p->n_plain++;
	p->n++;
}

static void parser_init(struct parser *p, int family, unsigned flags, const char *name,
			struct diag *d)
{
	*p = (struct parser){
	    .family = family,
	    .width = family == AF_INET ? 4 : 16,
	    .weighted = flags & ADDRLIST_WEIGHTS,
	    .name = name,
	    .d = d,
	};
}

/* Weighted lists: the cumulative weights, and their hash folded into the list's. */
static int finish_weights(struct parser *p, struct addrlist *l)
{
	uint64_t sum = 0;

	l->cum = malloc((p->n ? p->n : 1) * sizeof(*l->cum));
	if (!l->cum)
		return -ENOMEM;
	for (size_t i = 0; i < p->n; i++) {
		sum += p->weights[i];
		l->cum[i] = sum;
		l->n_drained += p->weights[i] == 0;
		l->hash = (l->hash ^ p->weights[i]) * 0x100000001b3u;
	}
	l->hash = (l->hash ^ 0x5745494748544544u) * 0x100000001b3u; /* "WEIGHTED" */
	l->total = sum;
	l->step = schedule_step(sum);
	return 0;
}

static int parser_finish(struct parser *p, struct addrlist **ret)
{
	struct addrlist *l;

	if (!p->oom && !p->bad && p->n_runs)
		close_plain_run(p);
	if (p->oom) {
		parser_drop(p);
		return -ENOMEM;
	}
	if (p->bad || p->n == 0) {
		if (p->bad > MAX_REPORTED)
			diag_add_at(p->d, p->name, 0,
				    "%s: error: %zu bad lines in all (the first %d are shown)",
				    p->name, p->bad, MAX_REPORTED);
		if (!p->bad)
			diag_add_at(p->d, p->name, 0, "%s: error: no addresses in the file",
				    p->name);
		parser_drop(p);
		return -EINVAL;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		parser_drop(p);
		return -ENOMEM;
	}
	l->family = p->family;
	l->n = (uint32_t)p->n;
	if (p->n_plain)
		l->addrs = realloc(p->addrs, p->n_plain * p->width) ?: p->addrs;
	else
		free(p->addrs);
	if (p->n_runs) {
		l->runs = realloc(p->runs, p->n_runs * sizeof(*p->runs)) ?: p->runs;
		l->n_runs = (uint32_t)p->n_runs;
	}
	l->hash = addrlist_hash(l);
	l->refs = 1;
	if (p->weighted && finish_weights(p, l) < 0) {
		free(p->weights);
		addrlist_unref(l);
		return -ENOMEM;
	}
	free(p->weights);
	*ret = l;
	return 0;
}

int addrlist_parse(const char *text, size_t len, int family, unsigned flags, const char *name,
		   struct diag *d, struct addrlist **ret)
{
	struct parser p;
	const char *s = text, *end = text + len;

	parser_init(&p, family, flags, name, d);
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t l = nl ? (size_t)(nl - s) : (size_t)(end - s);

		parse_line(&p, s, l);
		s += l + 1;
	}
	return parser_finish(&p, ret);
}

int addrlist_load(const char *path, int family, struct diag *d, struct addrlist **ret)
{
	struct file_id id;

	return addrlist_load_id(path, family, 0, d, &id, ret);
}

int addrlist_load_id(const char *path, int family, unsigned flags, struct diag *d,
		     struct file_id *id, struct addrlist **ret)
{
	return addrlist_load_max(path, family, flags, ADDRLIST_MAX_FILE, d, id, ret);
}

int addrlist_load_max(const char *path, int family, unsigned flags, size_t max, struct diag *d,
		      struct file_id *id, struct addrlist **ret)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *heap = NULL;
	char small[SMALL_CHUNK], *chunk = small;
	size_t chunk_size = sizeof(small);
	struct parser p;
	struct stat st = {0};
	struct addrlist *l;
	size_t have = 0, total = 0;
	bool skipping = false; /* inside an over-long line */
	int r;

	*id = (struct file_id){0};
	fd = file_open_regular(path, max, d, &st);
	if (st.st_ino) /* a file refused for what it is is known by its identity too */
		file_id_from_stat(&st, id);
	if (fd < 0)
		return fd;
	/* Most lists are small: a stack buffer spares them a large block that malloc would take
	 * and give back (consolidating its free lists each time) for every file. */
	if (st.st_size <= 0 || (size_t)st.st_size >= sizeof(small)) {
		chunk = heap = malloc(READ_CHUNK);
		if (!chunk)
			return -ENOMEM;
		chunk_size = READ_CHUNK;
	}
	parser_init(&p, family, flags, path, d);
	/* Room for as many addresses as the file can hold (the shortest line is "::\n" or
	 * "0.0.0.0\n"), reserved once: pages never written cost nothing, and growing by
	 * realloc would remap the array again and again while other loaders fault theirs in. */
	if (st.st_size > 0) {
		size_t most = (size_t)st.st_size / (family == AF_INET ? 8 : 3) + 1;

		if (most > ADDRLIST_MAX_ADDRS)
			most = ADDRLIST_MAX_ADDRS;
		p.addrs = malloc(most * p.width);
		p.cap = p.addrs ? most : 0;
		if (p.weighted && p.cap) {
			p.weights = malloc(most * sizeof(*p.weights));
			if (!p.weights) {
				free(p.addrs);
				p.addrs = NULL;
				p.cap = 0;
			}
		}
	}
	for (;;) {
		ssize_t n = read(fd, chunk + have, chunk_size - have);
		char *s, *end;
		bool eof = n == 0;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			diag_add_at(d, path, 0, "%s: error: read failed: %s", path, strerror(-r));
			parser_drop(&p);
			return r;
		}
		total += (size_t)(n > 0 ? n : 0);
		if (total > max) {
			/* it grew after the check, or stat cannot tell its size (/proc, /sys) */
			diag_add_at(d, path, 0,
				    "%s: error: larger than %zu bytes (found while reading it)",
				    path, max);
			parser_drop(&p);
			return -EFBIG;
		}
		if (n == 0 && have == 0)
			break;
		/* A small file read whole, as large as fstat said: no read is needed to see its
		 * end. */
		if (chunk == small && total == (size_t)st.st_size)
			eof = true;
		s = chunk;
		end = chunk + have + (size_t)n;
		for (;;) {
			char *nl = memchr(s, '\n', (size_t)(end - s));

			if (!nl) {
				if (eof) /* last line without a newline */
					nl = end;
				else
					break;
			}
			if (skipping)
				skipping = false;
			else
				parse_line(&p, s, (size_t)(nl - s));
			s = nl + (nl < end);
			if (s >= end)
				break;
		}
		have = (size_t)(end - s);
		if (have > ADDRLIST_MAX_LINE) {
			/* A line that does not end within the limit: report it once and drop it. */
			if (!skipping)
				parse_line(&p, s, have); /* reports the over-long line */
			skipping = true;
			have = 0;
		} else
			memmove(chunk, s, have);
		if (eof)
			break;
	}
	r = parser_finish(&p, &l);
	if (r < 0)
		return r;
	*ret = l;
	return 0;
}
