/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "metrics.h"
#include "pipeproto.h"

const double metrics_reload_bounds[METRICS_RELOAD_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025,
							      0.05,  0.1,    0.5,   1,	  5};

enum metrics_qtype metrics_qtype_index(uint16_t qtype)
{
	switch (qtype) {
	case PP_TYPE_SOA: return METRICS_Q_SOA;
	case PP_TYPE_ANY: return METRICS_Q_ANY;
	case PP_TYPE_A: return METRICS_Q_A;
	case PP_TYPE_AAAA: return METRICS_Q_AAAA;
	case PP_TYPE_NS: return METRICS_Q_NS;
	default: return METRICS_Q_OTHER;
	}
}

const char *metrics_qtype_name(enum metrics_qtype q)
{
	static const char *const names[] = {"SOA", "ANY", "A", "AAAA", "NS", "other"};

	return q < METRICS_N_QTYPES ? names[q] : "other";
}

const char *metrics_rcode_name(enum metrics_rcode r)
{
	static const char *const names[] = {"NOERROR", "NODATA", "NXDOMAIN"};

	return r < METRICS_N_RCODES ? names[r] : "?";
}

const char *metrics_reload_name(enum metrics_reload r)
{
	static const char *const names[] = {"applied", "refused", "kept"};

	return r < METRICS_N_RELOADS ? names[r] : "?";
}

void metrics_reload(struct metrics *m, enum metrics_reload result, uint64_t usec)
{
	double s = (double)usec / 1e6;
	size_t i = 0;

	m->reloads[result]++;
	m->reload_seconds += s;
	while (i < METRICS_RELOAD_BUCKETS && s > metrics_reload_bounds[i])
		i++;
	if (i < METRICS_RELOAD_BUCKETS)
		m->reload_buckets[i]++;
	else
		m->reload_inf++;
}

static uint32_t max_of(const struct snapshot *s)
{
	return s->config->metrics_max_addresses;
}

/* A fresh slot for handler h: its per-address counters when its list is short enough. */
static int slot_init(struct metrics_slot *e, const struct handler *h, uint32_t max)
{
	*e = (struct metrics_slot){0};
	if (!h->list || !h->list->n || h->list->n > max)
		return 0;
	e->served = calloc(h->list->n, sizeof(*e->served));
	if (!e->served)
		return -ENOMEM;
	e->n_served = h->list->n;
	return 0;
}

struct metrics_shape metrics_shape_of(const struct snapshot *s)
{
	return s ? (struct metrics_shape){true, s->n_handlers, max_of(s)}
		 : (struct metrics_shape){0};
}

static bool carries(struct metrics_shape m, const struct snapshot *s, const uint32_t *map,
		    size_t n_old, size_t k)
{
	return m.live && m.max_addresses == max_of(s) && map && k < n_old && map[k] &&
	       map[k] <= s->n_handlers;
}

int metrics_prepare(struct metrics_shape m, const struct snapshot *s, const uint32_t *map,
		    size_t n_old, struct metrics_slot **ret)
{
	size_t n = s->n_handlers;
	struct metrics_slot *slots = calloc(n ? n : 1, sizeof(*slots));
	_cleanup_free_ bool *carried = calloc(n ? n : 1, sizeof(*carried));

	if (!slots || !carried) {
		free(slots);
		return -ENOMEM;
	}
	for (size_t k = 0; k < m.n; k++)
		if (carries(m, s, map, n_old, k))
			carried[map[k] - 1] = true;
	for (size_t i = 0; i < n; i++)
		if (!carried[i] && slot_init(&slots[i], &s->handlers[i], max_of(s)) < 0) {
			for (size_t j = 0; j < i; j++)
				free(slots[j].served);
			free(slots);
			return -ENOMEM;
		}
	*ret = slots;
	return 0;
}

void metrics_carry(struct metrics *m, const struct snapshot *s, struct metrics_slot *slots,
		   const uint32_t *map, size_t n_old)
{
	struct metrics_shape shape = metrics_shape(m);

	for (size_t k = 0; k < m->n; k++) {
		if (carries(shape, s, map, n_old, k))
			slots[map[k] - 1] = m->slot[k];
		else
			free(m->slot[k].served);
	}
	free(m->slot);
	m->slot = slots;
	m->n = s->n_handlers;
	m->max_addresses = max_of(s);
}

int metrics_slot_reset(struct metrics *m, const struct snapshot *s, size_t i)
{
	struct metrics_slot e;

	int r;

	if (i >= m->n)
		return 0;
	r = slot_init(&e, &s->handlers[i], m->max_addresses);
	free(m->slot[i].served);
	m->slot[i] = e;
	return r;
}

void metrics_slots_free(struct metrics_slot *slots, size_t n)
{
	for (size_t i = 0; slots && i < n; i++)
		free(slots[i].served);
	free(slots);
}

void metrics_done(struct metrics *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->slot[i].served);
	m->slot = mfree(m->slot);
	m->n = 0;
}
