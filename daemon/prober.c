/* SPDX-License-Identifier: MIT */
/* The prober (prober.h). One group per checked handler: its timer, its checks in flight
 * (one per address at most, probecheck.c), and for check "file" the last good reading of the
 * state file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "hash.h"
#include "healthfile.h"
#include "macro.h"
#include "probe.h"
#include "prober.h"

static bool same_health(const struct group *g, const struct config_health *b)
{
	const struct config_health *a = &g->key;

	return a->check == b->check && a->port == b->port && a->n_expect == b->n_expect &&
	       memcmp(a->expect, b->expect, sizeof(a->expect)) == 0 &&
	       a->tls_verify == b->tls_verify && a->interval_ms == b->interval_ms &&
	       a->timeout_ms == b->timeout_ms && probe_same_str(g->path, b->path) &&
	       probe_same_str(g->host, b->host) && probe_same_str(g->file_path, b->file_path);
}

/* The state of the group's slot, or NULL when it does not fit (the state was not followed). */
static struct health_slot *slot_of(struct group *g)
{
	struct health *s = g->p->state;

	return (struct health_slot *)health_get(s, g->slot, g->list->n);
}

static void schedule_update(struct prober *p)
{
	if (p->update)
		(void)sd_event_source_set_enabled(p->update, SD_EVENT_ONESHOT);
}

/* One result for address i of g. */
static void record(struct group *g, uint32_t i, const struct health_result *r)
{
	struct health_slot *s = slot_of(g);
	enum health_change c;
	char text[ADDR_TEXT_MAX];

	if (!s)
		return;
	c = health_record(s, i, r, g->hc->rise, g->hc->fall, time(NULL));
	if (s->dirty)
		schedule_update(g->p);
	if (g->p->notify)
		g->p->notify(g->p->notify_data, c != HEALTH_SAME || s->dirty);
	if (c != HEALTH_SAME && g->p->changed) {
		uint32_t quiet;
		enum health_log l = health_log_change(&s->a[i], mono_usec() / 1000000, &quiet);

		if (l == HEALTH_LOG_QUIET)
			return;
		addrlist_format(g->list, i, text);
		g->p->changed(g->p->userdata, g->h, text, c == HEALTH_CAME_UP, &s->a[i], s,
			      l == HEALTH_LOG_FLAPPING, quiet);
	}
}

/* --- groups --------------------------------------------------------------------------- */

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Notes when g's addresses are checked next (0: not here), for pdynctl health. */
static void mark_next(struct group *g)
{
	struct health_slot *s = slot_of(g);
	uint64_t at = 0, now;
	int64_t next = 0;

	if (!s)
		return;
	if ((g->p->active || g->local) && sd_event_source_get_time(g->timer, &at) >= 0 &&
	    sd_event_now(g->p->event, CLOCK_MONOTONIC, &now) >= 0)
		next = wall_ms() + (int64_t)(at > now ? (at - now) / 1000 : 0);
	for (uint32_t i = 0; i < s->n; i++)
		s->a[i].next_ms = next;
}

/* Starts the next batch of g's checks: all of a short list at once; a long one spread over
 * the first half of its interval, BATCH_MS apart, so that a few hundred checks are in flight
 * at a time rather than all of them (a burst of connections, and thousands of sockets ready
 * at once for the loop to go through). A check still running (it cannot outlive its
 * timeout, at most the interval) is not doubled. */
static void start_batch(struct group *g)
{
	uint32_t n = g->list->n, slices = g->hc->interval_ms / 2 / BATCH_MS, per, end;

	per = n <= BATCH_ALL || slices <= 1 ? n : (n + slices - 1) / slices;
	end = g->cursor + per < n ? g->cursor + per : n;
	for (; g->cursor < end; g->cursor++)
		if (!g->running[g->cursor])
			probe_start_check(g, g->cursor);
	if (g->cursor < n && g->batch) {
		(void)sd_event_source_set_time_relative(g->batch, BATCH_MS * 1000ull);
		(void)sd_event_source_set_enabled(g->batch, SD_EVENT_ONESHOT);
	}
}

static int on_batch(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct group *g = userdata;

	(void)s;
	(void)usec;
	if (g->p->active || g->local)
		start_batch(g);
	return 0;
}

static int on_group_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct group *g = userdata;

	if (!g->p->active && !g->local)
		return sd_event_source_set_enabled(s, SD_EVENT_OFF);

	(void)sd_event_source_set_time(s, usec + (uint64_t)g->hc->interval_ms * 1000);
	(void)sd_event_source_set_enabled(s, SD_EVENT_ON);
	mark_next(g);
	if (g->hc->check == CONFIG_CHECK_FILE) {
		probe_check_file(g);
		return 0;
	}
	g->cursor = 0;
	start_batch(g);
	return 0;
}

static struct group *group_free(struct group *g)
{
	if (!g)
		return NULL;
	for (uint32_t i = 0; g->running && i < g->list->n; i++)
		probe_check_free(g->running[i]);
	free(g->running);
	sd_event_source_disable_unref(g->timer);
	sd_event_source_disable_unref(g->batch);
	addrlist_unref(g->list);
	free(g->path);
	free(g->host);
	free(g->file_path);
	free(g->verdicts);
	free(g->file_problem);
	free(g);
	return NULL;
}

/* The host name of h's checks: its "host", or its qname without the trailing dot. */
static char *host_of(const struct handler *h)
{
	const char *s = h->cfg->health->host ? h->cfg->health->host : h->cfg->qname;
	size_t n = strlen(s);

	if (n && s[n - 1] == '.')
		n--;
	return strndup(s, n);
}

static struct group *group_new(struct prober *p, const struct snapshot *s, const struct handler *h)
{
	struct group *g = calloc(1, sizeof(*g));
	const struct config_health *hc = h->cfg->health;

	if (!g)
		return NULL;
	g->p = p;
	g->slot = snapshot_slot(s, h);
	g->h = h;
	g->hc = hc;
	g->key = *hc;
	g->list = addrlist_ref(h->list);
	g->running = calloc(h->list->n, sizeof(*g->running));
	g->host = host_of(h);
	g->path = hc->path ? strdup(hc->path) : NULL;
	g->file_path = hc->file_path ? strdup(hc->file_path) : NULL;
	/* the first checks at once: a new list is up until they say otherwise */
	g->hkey = healthfile_handler_key(h->cfg->qname, h->cfg->qtype, h->cfg->view);
	if (!g->running || !g->host || (hc->path && !g->path) || (hc->file_path && !g->file_path) ||
	    sd_event_add_time_relative(p->event, &g->timer, CLOCK_MONOTONIC, 0, TIMER_ACCURACY,
				       on_group_timer, g) < 0 ||
	    sd_event_add_time_relative(p->event, &g->batch, CLOCK_MONOTONIC, 0, TIMER_ACCURACY,
				       on_batch, g) < 0 ||
	    sd_event_source_set_enabled(g->batch, SD_EVENT_OFF) < 0)
		return group_free(g);
	if (!p->active)
		(void)sd_event_source_set_enabled(g->timer, SD_EVENT_OFF);
	return g;
}

static int by_list(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)(*(struct group *const *)a)->list,
		  y = (uintptr_t)(*(struct group *const *)b)->list;

	return (x > y) - (x < y);
}

/* An old group of the same list, name, type and settings as h, not yet taken, or NULL. old
 * is sorted by list. */
static struct group *find_old(struct group **old, size_t n, const struct handler *h)
{
	size_t lo = 0, hi = n;

	while (lo < hi) { /* the first of h->list, or where it would be */
		size_t mid = (lo + hi) / 2;

		if ((uintptr_t)old[mid]->list < (uintptr_t)h->list)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t k = lo; k < n && old[k]->list == h->list; k++) {
		struct group *g = old[k];

		if (!g->taken && same_health(g, h->cfg->health) &&
		    g->h->cfg->qtype == h->cfg->qtype &&
		    strcmp(g->h->cfg->qname, h->cfg->qname) == 0)
			return g;
	}
	return NULL;
}

int prober_apply(struct prober *p, const struct snapshot *s)
{
	struct group **old = p->groups, **groups;
	size_t n_old = p->n_groups, n = 0;
	int r = 0;

	if (!s->config->n_health && !n_old)
		return 0; /* nothing to check, nothing checked: no walk over the handlers */
	groups = calloc(s->n_handlers ? s->n_handlers : 1, sizeof(*groups));
	if (!groups)
		return -ENOMEM;
	if (n_old)
		qsort(old, n_old, sizeof(*old), by_list);
	for (size_t i = 0; i < s->n_handlers; i++) {
		const struct handler *h = &s->handlers[i];
		struct group *g;

		if (!h->cfg->health || !h->list || !health_get(p->state, i, h->list->n))
			continue;
		g = find_old(old, n_old, h);
		if (g) {
			/* the same checks of the same list: they go on */
			g->taken = true;
			g->slot = (uint32_t)i;
			g->h = h;
			g->hc = h->cfg->health;
			groups[n++] = g;
		} else if ((groups[n] = group_new(p, s, h)))
			n++;
		else
			r = -ENOMEM;
	}
	for (size_t k = 0; k < n_old; k++)
		if (!old[k]->taken)
			group_free(old[k]);
	for (size_t k = 0; k < n; k++)
		groups[k]->taken = false;
	free(old);
	p->groups = groups;
	p->n_groups = n;
	p->index_stale = true;
	return r;
}

/* Starts or stops g's checks as it must run or not. */
static void group_run(struct group *g, bool run)
{
	int on = SD_EVENT_OFF;

	(void)sd_event_source_get_enabled(g->timer, &on);
	if (run && on == SD_EVENT_OFF) {
		/* at once: the state it goes on from is what the file said */
		(void)sd_event_source_set_time_relative(g->timer, 0);
		(void)sd_event_source_set_enabled(g->timer, SD_EVENT_ON);
	} else if (!run && on != SD_EVENT_OFF) {
		(void)sd_event_source_set_enabled(g->timer, SD_EVENT_OFF);
		(void)sd_event_source_set_enabled(g->batch, SD_EVENT_OFF);
		for (uint32_t i = 0; i < g->list->n; i++)
			g->running[i] = (probe_check_free(g->running[i]), NULL);
		mark_next(g);
	}
}

void prober_set_active(struct prober *p, bool active)
{
	if (p->active == active)
		return;
	p->active = active;
	for (size_t k = 0; k < p->n_groups; k++)
		group_run(p->groups[k], active || p->groups[k]->local);
}

bool prober_active(const struct prober *p)
{
	return p->active;
}

void prober_set_notify(struct prober *p, prober_notify_fn notify, void *userdata)
{
	p->notify = notify;
	p->notify_data = userdata;
}

int prober_export(const struct prober *p, uint64_t generation, uint32_t pid, void **buf,
		  size_t *len)
{
	struct healthfile_record *r;
	size_t n = 0, k = 0, size;
	void *b;

	for (size_t j = 0; j < p->n_groups; j++)
		if (slot_of(p->groups[j]))
			n += p->groups[j]->list->n;
	if (n > HEALTHFILE_MAX)
		return -E2BIG;
	size = healthfile_size((uint32_t)n);
	b = calloc(1, size);
	if (!b)
		return -ENOMEM;
	r = (struct healthfile_record *)((struct healthfile_header *)b + 1);
	for (size_t j = 0; j < p->n_groups; j++) {
		struct group *g = p->groups[j];
		const struct health_slot *s = slot_of(g);
		uint8_t a[16];

		for (uint32_t i = 0; s && i < s->n; i++) {
			addrlist_get(g->list, i, a);
			healthfile_put(&r[k++], g->hkey, g->list->family == AF_INET ? 4 : 6, a,
				       &s->a[i]);
		}
	}
	healthfile_seal(b, size, generation, wall_ms(), pid);
	*buf = b;
	*len = size;
	return 0;
}

static uint64_t ref_hash(uint64_t key, uint8_t family, const uint8_t a[16])
{
	uint64_t h = fnv1a(FNV_OFFSET, &key, sizeof(key));

	h = fnv1a(h, &family, 1);
	return fnv1a(h, a, 16);
}

/* The index of the groups' addresses, for prober_import(). */
static int index_build(struct prober *p)
{
	size_t n = 0, size = 16;
	struct slotref *t;

	for (size_t j = 0; j < p->n_groups; j++)
		n += p->groups[j]->list->n;
	while (size < 2 * n)
		size *= 2;
	t = calloc(size, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (size_t j = 0; j < p->n_groups; j++) {
		struct group *g = p->groups[j];
		uint8_t fam = g->list->family == AF_INET ? 4 : 6;

		for (uint32_t i = 0; i < g->list->n; i++) {
			uint8_t a[16] = {0};
			size_t h;

			addrlist_get(g->list, i, a);
			h = ref_hash(g->hkey, fam, a) & (size - 1);
			while (t[h].group)
				h = (h + 1) & (size - 1);
			t[h] = (struct slotref){.group = (uint32_t)j + 1, .i = i};
		}
	}
	free(p->index);
	p->index = t;
	p->index_mask = size - 1;
	p->index_stale = false;
	return 0;
}

/* The group and address of record r, or NULL. */
static struct group *index_find(struct prober *p, const struct healthfile_record *r, uint32_t *i)
{
	size_t h = ref_hash(r->handler, r->family, r->addr) & p->index_mask;
	uint8_t fam, a[16];

	for (; p->index[h].group; h = (h + 1) & p->index_mask) {
		struct group *g = p->groups[p->index[h].group - 1];

		fam = g->list->family == AF_INET ? 4 : 6;
		memset(a, 0, sizeof(a));
		addrlist_get(g->list, p->index[h].i, a);
		if (g->hkey == r->handler && fam == r->family && memcmp(a, r->addr, 16) == 0) {
			*i = p->index[h].i;
			return g;
		}
	}
	return NULL;
}

int prober_import(struct prober *p, const struct healthfile_header *h)
{
	const struct healthfile_record *r = healthfile_records(h);
	int ret = 0;

	if (p->index_stale && index_build(p) < 0)
		return -ENOMEM;
	for (size_t j = 0; j < p->n_groups; j++)
		p->groups[j]->seen = false;
	for (uint32_t k = 0; k < h->n_records; k++) {
		uint32_t i;
		struct group *g = index_find(p, &r[k], &i);
		struct health_slot *s = g ? slot_of(g) : NULL;
		bool was_up;

		if (!s || g->local)
			continue; /* not a handler of this config, or checked here */
		g->seen = true;
		was_up = s->a[i].up;
		if (healthfile_get(&r[k], &s->a[i])) {
			if (was_up != s->a[i].up)
				s->n_down += was_up ? 1 : -1;
			s->dirty = true;
			schedule_update(p);
		}
	}
	for (size_t j = 0; j < p->n_groups; j++) {
		struct group *g = p->groups[j];

		g->missed = g->seen || g->local ? 0 : g->missed + 1;
		if (!g->local && g->missed >= PROBER_MISSED_MAX) {
			g->local = true; /* the prober does not check it: this copy does */
			group_run(g, true);
			ret++;
		}
	}
	return ret;
}
static int on_update(sd_event_source *s, void *userdata)
{
	struct prober *p = userdata;

	(void)s;
	for (size_t k = 0; k < p->n_groups; k++) {
		struct group *g = p->groups[k];
		struct health_slot *slot = slot_of(g);

		if (slot && slot->dirty &&
		    health_slot_update(slot, g->h->cfg->policy == CONFIG_POLICY_LEAST_LOADED) < 0)
			schedule_update(p); /* again, later */
	}
	return 0;
}

int prober_new(sd_event *event, struct health *state, prober_changed_fn changed,
	       prober_file_fn file, void *userdata, struct prober **ret)
{
	struct prober *p;
	static bool curl_ready;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return -ENOMEM;
		curl_ready = true;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	*p = (struct prober){.event = sd_event_ref(event),
			     .state = state,
			     .changed = changed,
			     .file = file,
			     .record = record,
			     .userdata = userdata};
	if (probe_curl_new(p) < 0 || sd_event_add_defer(event, &p->update, on_update, p) < 0 ||
	    sd_event_source_set_enabled(p->update, SD_EVENT_OFF) < 0) {
		prober_free(p);
		return -ENOMEM;
	}
	*ret = p;
	return 0;
}

struct prober *prober_free(struct prober *p)
{
	if (!p)
		return NULL;
	for (size_t k = 0; k < p->n_groups; k++)
		group_free(p->groups[k]);
	free(p->groups);
	free(p->index);
	probe_curl_free(p);
	sd_event_source_disable_unref(p->update);
	sd_event_unref(p->event);
	free(p);
	return NULL;
}
