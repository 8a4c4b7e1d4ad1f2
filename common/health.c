/* SPDX-License-Identifier: MIT */
/* Address health (health.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "health.h"
#include "macro.h"

enum health_change health_step(struct health_addr *a, bool ok, uint32_t rise, uint32_t fall)
{
	a->last_ok = ok;
	if (ok) {
		a->bad = 0;
		if (a->good < UINT32_MAX)
			a->good++;
		if (!a->up && a->good >= rise) {
			a->up = true;
			return HEALTH_CAME_UP;
		}
		return HEALTH_SAME;
	}
	a->good = 0;
	if (a->bad < UINT32_MAX)
		a->bad++;
	if (a->up && a->bad >= fall) {
		a->up = false;
		return HEALTH_WENT_DOWN;
	}
	return HEALTH_SAME;
}

enum health_log health_log_change(struct health_addr *a, int64_t now, uint32_t *quiet)
{
	*quiet = 0;
	if (now - a->log_window >= HEALTH_LOG_WINDOW || now < a->log_window) {
		*quiet = a->quiet;
		a->log_window = now;
		a->logged = 0;
		a->quiet = 0;
	}
	if (a->logged + 1 < HEALTH_LOG_MAX) {
		a->logged++;
		return HEALTH_LOG;
	}
	if (a->logged + 1 == HEALTH_LOG_MAX) {
		a->logged++;
		return HEALTH_LOG_FLAPPING;
	}
	if (a->quiet < UINT32_MAX)
		a->quiet++;
	return HEALTH_LOG_QUIET;
}

void health_slot_clear(struct health_slot *s)
{
	free(s->a);
	free(s->up);
	free(s->order);
	free(s->group_end);
	*s = (struct health_slot){0};
}

int health_slot_init(struct health_slot *s, uint32_t n, int64_t now)
{
	*s = (struct health_slot){.n = n, .n_up = n};
	s->a = calloc(n ? n : 1, sizeof(*s->a));
	s->up = malloc((n ? n : 1) * sizeof(*s->up));
	if (!s->a || !s->up) {
		health_slot_clear(s);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++) {
		s->a[i] =
		    (struct health_addr){.up = true, .since = now, .log_window = INT64_MIN / 2};
		s->up[i] = i;
	}
	/* least-loaded's order is built by the first update: nothing has a load yet */
	s->dirty = true;
	return 0;
}

enum health_change health_record(struct health_slot *s, uint32_t i, const struct health_result *r,
				 uint32_t rise, uint32_t fall, int64_t now)
{
	struct health_addr *a = &s->a[i];
	enum health_change c = health_step(a, r->ok, rise, fall);

	a->checked = true;
	a->latency_us = r->latency_us;
	if (r->has_load && (!a->has_load || a->load != r->load)) {
		a->load = r->load;
		a->has_load = true;
		s->dirty = true;
	}
	if (r->reason) {
		strncpy(a->reason, r->reason, sizeof(a->reason) - 1);
		a->reason[sizeof(a->reason) - 1] = 0;
	}
	if (c == HEALTH_WENT_DOWN)
		s->n_down++;
	else if (c == HEALTH_CAME_UP)
		s->n_down--;
	if (c != HEALTH_SAME) {
		a->since = now;
		s->dirty = true;
		s->transitions++;
	}
	return c;
}

/* For the sort of order[]: the loads of the slot being sorted (qsort has no context). */
static _Thread_local const struct health_addr *sort_addrs;

static int by_load(const void *x, const void *y)
{
	const struct health_addr *a = &sort_addrs[*(const uint32_t *)x],
				 *b = &sort_addrs[*(const uint32_t *)y];
	uint32_t i = *(const uint32_t *)x, j = *(const uint32_t *)y;

	/* no load yet counts as the highest */
	if (a->has_load != b->has_load)
		return a->has_load ? -1 : 1;
	if (a->has_load && a->load != b->load)
		return a->load < b->load ? -1 : 1;
	return (i > j) - (i < j);
}

static bool same_load(const struct health_addr *a, const struct health_addr *b)
{
	return a->has_load == b->has_load && (!a->has_load || a->load == b->load);
}

int health_slot_update(struct health_slot *s, bool least_loaded)
{
	uint32_t k = 0;

	if (!s->a || !s->dirty)
		return 0;
	for (uint32_t i = 0; i < s->n; i++)
		if (s->a[i].up)
			s->up[k++] = i;
	s->n_up = k;
	if (least_loaded) {
		uint32_t *order = realloc(s->order, (s->n ? s->n : 1) * sizeof(*order));
		uint32_t *ends;

		if (!order)
			return -ENOMEM;
		s->order = order;
		ends = realloc(s->group_end, (s->n ? s->n : 1) * sizeof(*ends));
		if (!ends)
			return -ENOMEM;
		s->group_end = ends;
		memcpy(order, s->up, k * sizeof(*order));
		sort_addrs = s->a;
		qsort(order, k, sizeof(*order), by_load);
		sort_addrs = NULL;
		s->n_groups = 0;
		for (uint32_t j = 0; j < k; j++)
			if (j + 1 == k || !same_load(&s->a[order[j]], &s->a[order[j + 1]]))
				ends[s->n_groups++] = j + 1;
	}
	s->dirty = false;
	return 0;
}

/* Address i of l in 16 bytes, zero past an IPv4 address's 4. */
static void get16(const struct addrlist *l, uint32_t i, uint8_t a[16])
{
	memset(a, 0, 16);
	addrlist_get(l, i, a);
}

/* An index of a list's addresses by their bytes: open addressing, index + 1, 0 = empty. */
struct addr_index {
	uint32_t *t;
	uint32_t mask;
	const struct addrlist *l;
};

static uint32_t addr_hash(const uint8_t a[16])
{
	return (uint32_t)fnv1a(FNV_OFFSET, a, 16);
}

static int addr_index_build(struct addr_index *x, const struct addrlist *l)
{
	uint32_t size = 16;
	uint8_t a[16];

	while (size < 2 * l->n)
		size *= 2;
	x->t = calloc(size, sizeof(*x->t));
	if (!x->t)
		return -ENOMEM;
	x->mask = size - 1;
	x->l = l;
	for (uint32_t i = 0; i < l->n; i++) {
		uint32_t p;

		get16(l, i, a);
		for (p = addr_hash(a) & x->mask; x->t[p]; p = (p + 1) & x->mask)
			;
		x->t[p] = i + 1;
	}
	return 0;
}

/* The index of address a in x's list, or UINT32_MAX (a repeated address: one of them). */
static uint32_t addr_index_find(const struct addr_index *x, const uint8_t a[16])
{
	uint8_t b[16];

	for (uint32_t p = addr_hash(a) & x->mask; x->t[p]; p = (p + 1) & x->mask) {
		get16(x->l, x->t[p] - 1, b);
		if (memcmp(a, b, 16) == 0)
			return x->t[p] - 1;
	}
	return UINT32_MAX;
}

/* The handler of old with h's name, type and view, or NULL. */
static const struct handler *same_handler(const struct snapshot *old, const struct handler *h)
{
	const struct node *node = snapshot_find(old, &h->cfg->name);

	for (uint32_t i = node ? node->first : 0; node && i < node->first + node->count; i++) {
		const struct handler *o = &old->handlers[i];

		if (!o->cfg->kind && o->cfg->qtype == h->cfg->qtype && o->cfg->view == h->cfg->view)
			return o;
	}
	return NULL;
}

/* The state for h: its carried slot, or a new one with what the old list knew. */
static int take_state(struct health *hold, const struct snapshot *old, const struct handler *h,
		      struct health_slot *to, int64_t now)
{
	const struct handler *o;
	struct health_slot *from;
	struct addr_index x = {0};
	uint8_t a[16];
	int r;

	if (old && h->carry_from >= 0 && (size_t)h->carry_from < hold->n) {
		from = &hold->slots[h->carry_from];
		if (from->a && from->n == h->list->n) {
			*to = *from;
			*from = (struct health_slot){0};
			to->dirty = true; /* the policy may have changed */
			return 0;
		}
	}
	r = health_slot_init(to, h->list->n, now);
	if (r < 0 || !old)
		return r;
	o = same_handler(old, h);
	if (!o || !o->list || (size_t)(o - old->handlers) >= hold->n)
		return 0;
	from = &hold->slots[o - old->handlers];
	if (!from->a || from->n != o->list->n)
		return 0;
	to->transitions = from->transitions;
	if (addr_index_build(&x, o->list) < 0)
		return 0; /* without memory for the index, the addresses start afresh */
	for (uint32_t i = 0; i < h->list->n; i++) {
		uint32_t j;

		get16(h->list, i, a);
		j = addr_index_find(&x, a);
		if (j == UINT32_MAX)
			continue;
		to->a[i] = from->a[j];
		if (!to->a[i].up)
			to->n_down++;
	}
	free(x.t);
	return 0;
}

/* The slot for handler h of s, into *to: from the old health hold (which it may empty). */
static int follow_one(struct health *hold, const struct snapshot *old, const struct handler *h,
		      struct health_slot *to, int64_t now)
{
	int r;

	*to = (struct health_slot){0};
	if (!h->cfg->health || !h->list || h->list->n > HEALTH_ADDRESSES_MAX)
		return 0;
	r = take_state(hold, old, h, to, now);
	/* without memory for the order, it stays dirty and answers go by up[] alone */
	if (r >= 0)
		(void)health_slot_update(to, h->cfg->policy == CONFIG_POLICY_LEAST_LOADED);
	return r;
}

int health_follow(struct health *h, const struct snapshot *old, const struct snapshot *s,
		  int64_t now)
{
	struct health_slot *slots;
	size_t n = s->n_handlers;
	int r = 0;

	if (!s->config->n_health) {
		health_done(h); /* nothing checked: no walk over the handlers */
		return 0;
	}
	slots = calloc(n ? n : 1, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	if (old && s->checked && s->base == old->base && h->n == n) {
		/* derived: every slot stays where it was but those looked at again */
		memcpy(slots, h->slots, n * sizeof(*slots));
		for (size_t k = 0; k < s->n_checked; k++) {
			uint32_t i = s->checked[k];

			if (s->handlers[i].carry_from == (int64_t)i)
				continue;
			/* slots[i] is a copy: follow_one() takes from h->slots[i] */
			if (follow_one(h, old, &s->handlers[i], &slots[i], now) < 0)
				r = -ENOMEM; /* that one goes unchecked */
			health_slot_clear(&h->slots[i]);
		}
		free(h->slots);
		h->slots = slots;
		return r;
	}
	for (size_t i = 0; i < n; i++)
		if (follow_one(h, old, &s->handlers[i], &slots[i], now) < 0)
			r = -ENOMEM;
	health_done(h);
	h->slots = slots;
	h->n = n;
	return r;
}

void health_done(struct health *h)
{
	for (size_t i = 0; i < h->n; i++)
		health_slot_clear(&h->slots[i]);
	free(h->slots);
	*h = (struct health){0};
}

/* A decimal at s[0 .. n): digits, then optionally "." and digits; its length, or 0. */
static size_t decimal_len(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	if (!i)
		return 0;
	if (i + 1 < n && s[i] == '.' && s[i + 1] >= '0' && s[i + 1] <= '9')
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
	return i;
}

static bool decimal_value(const char *s, size_t n, double *out)
{
	char buf[64];
	double x;

	if (!n || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = 0;
	x = strtod(buf, NULL);
	if (!isfinite(x))
		return false;
	*out = x;
	return true;
}

bool health_body_load(const char *body, size_t n, double *load)
{
	for (size_t i = 0; i < n; i++) {
		size_t k;

		if (body[i] < '0' || body[i] > '9')
			continue;
		k = decimal_len(body + i, n - i);
		/* a longer run of digits than a double can say much about is no load */
		return k < 64 && decimal_value(body + i, k, load);
	}
	return false;
}

/* The next token of line[*pos .. n), spaces and tabs between; its length (0: none). */
static size_t token(const char *line, size_t n, size_t *pos, const char **tok)
{
	size_t i = *pos, start;

	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	start = i;
	while (i < n && line[i] != ' ' && line[i] != '\t')
		i++;
	*tok = line + start;
	*pos = i;
	return i - start;
}

static bool token_is(const char *t, size_t n, const char *word)
{
	return n == strlen(word) && memcmp(t, word, n) == 0;
}

int health_parse_state(const char *text, size_t len, const struct addrlist *l, const char *name,
		       struct diag *d, struct health_verdict *v)
{
	_cleanup_free_ struct health_verdict *got = NULL;
	_cleanup_free_ uint32_t *seen_line = NULL;
	struct addr_index x = {0};
	size_t lineno = 0, pos = 0;
	bool bad = false;

	got = malloc(l->n * sizeof(*got));
	seen_line = calloc(l->n, sizeof(*seen_line));
	if (!got || !seen_line || addr_index_build(&x, l) < 0) {
		free(x.t);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < l->n; i++)
		got[i] = (struct health_verdict){.state = -1};
	while (pos < len) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos), *t;
		size_t n = nl ? (size_t)(nl - line) : len - pos, at = 0, tn;
		char addr[INET6_ADDRSTRLEN + 1], q[DIAG_QUOTE_SIZE(60)];
		uint8_t a[16] = {0};
		struct health_verdict w = {0};
		uint32_t i;

		pos += n + 1;
		lineno++;
		if (n && line[n - 1] == '\r')
			n--;
		tn = token(line, n, &at, &t);
		if (!tn || t[0] == '#')
			continue;
		diag_quote(q, t, tn, 60);
		if (tn >= sizeof(addr)) {
			diag_add_at(d, name, lineno, "%s:%zu: error: %s is not an address", name,
				    lineno, q);
			bad = true;
			continue;
		}
		memcpy(addr, t, tn);
		addr[tn] = 0;
		if (inet_pton(l->family, addr, a) != 1) {
			diag_add_at(d, name, lineno, "%s:%zu: error: %s is not an %s address", name,
				    lineno, q, l->family == AF_INET ? "IPv4" : "IPv6");
			bad = true;
			continue;
		}
		tn = token(line, n, &at, &t);
		if (token_is(t, tn, "up"))
			w.state = 1;
		else if (!token_is(t, tn, "down")) {
			diag_add_at(d, name, lineno,
				    "%s:%zu: error: expected \"ADDRESS up|down [load N]\"", name,
				    lineno);
			bad = true;
			continue;
		}
		tn = token(line, n, &at, &t);
		if (tn) {
			size_t ln;

			if (token_is(t, tn, "load")) {
				tn = token(line, n, &at, &t);
				ln = decimal_len(t, tn);
				w.has_load = tn && ln == tn && decimal_value(t, tn, &w.load);
			}
			if (!w.has_load || token(line, n, &at, &t)) {
				diag_add_at(d, name, lineno,
					    "%s:%zu: error: expected \"ADDRESS up|down [load N]\" "
					    "(N a decimal number)",
					    name, lineno);
				bad = true;
				continue;
			}
		}
		i = addr_index_find(&x, a);
		if (i == UINT32_MAX) {
			diag_add_at(d, name, lineno,
				    "%s:%zu: error: %s is not an address of the list", name, lineno,
				    addr);
			bad = true;
			continue;
		}
		if (seen_line[i]) {
			diag_add_at(d, name, lineno, "%s:%zu: error: %s is already on line %u",
				    name, lineno, addr, seen_line[i]);
			bad = true;
			continue;
		}
		seen_line[i] = (uint32_t)lineno;
		got[i] = w;
	}
	free(x.t);
	if (bad)
		return -EINVAL;
	memcpy(v, got, l->n * sizeof(*v));
	return 0;
}
