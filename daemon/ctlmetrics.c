/* SPDX-License-Identifier: MIT */
/* The metrics command's JSON (ctlmetrics.h): its header (process-wide counters) and a line per
 * address-list handler, from the counters of the question path (common/metrics.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctlmetrics.h"
#include "ctlproto.h"
#include "hstatus.h"
#include "log.h"
#include "macro.h"
#include "pipeproto.h"
#include "session.h"

#define jstr ctl_jstr

/* The counters of a name, by rcode (metrics.h). */
static json_object *rcodes_json(const uint64_t *n, size_t count)
{
	json_object *o = json_object_new_object();

	for (size_t i = 0; i < count; i++)
		json_object_object_add(o, metrics_rcode_name((enum metrics_rcode)i),
				       json_object_new_int64((int64_t)n[i]));
	return o;
}

/* A checked handler's health for pdynctl metrics: how many are down and the transitions its
 * checks made here; per address (up, the last check's latency) for lists up to
 * metrics_max_addresses, as the answers per address. */
static void health_metrics(const struct daemon *d, const struct handler *h, json_object *o)
{
	const struct health_slot *s =
	    h->list ? health_get(&d->sv.health, snapshot_slot(d->sv.snap, h), h->list->n) : NULL;
	json_object *hl, *addrs;
	char text[ADDR_TEXT_MAX];

	if (!s)
		return;
	hl = json_object_new_object();
	json_object_object_add(hl, "down", json_object_new_int64(s->n_down));
	json_object_object_add(hl, "transitions", json_object_new_int64((int64_t)s->transitions));
	if (s->n <= d->sv.snap->config->metrics_max_addresses) {
		addrs = json_object_new_array();
		for (uint32_t i = 0; i < s->n; i++) {
			json_object *a = json_object_new_object();

			addrlist_format(h->list, i, text);
			json_object_object_add(a, "address", jstr(text));
			json_object_object_add(a, "up", json_object_new_boolean(s->a[i].up));
			json_object_object_add(
			    a, "latency_seconds",
			    s->a[i].checked ? json_object_new_double(s->a[i].latency_us / 1e6)
					    : NULL);
			json_object_array_add(addrs, a);
		}
		json_object_object_add(hl, "addresses", addrs);
	}
	json_object_object_add(o, "health", hl);
}

/* One address-list handler's figures for pdynctl metrics. */
json_object *ctlcmd_metrics_json(const struct daemon *d, const struct handler *h)
{
	json_object *o = json_object_new_object();
	const struct metrics_slot *ms = snapshot_slot(d->sv.snap, h) < d->sv.metrics.n
					    ? &d->sv.metrics.slot[snapshot_slot(d->sv.snap, h)]
					    : NULL;
	char text[ADDR_TEXT_MAX], what[512];
	struct hstatus st;

	hstatus_get(d->sv.snap, &d->sv.rot, h, what, sizeof(what), &st);
	json_object_object_add(o, "name", jstr(st.qname));
	json_object_object_add(o, "qtype", jstr(st.qtype == PP_TYPE_A ? "A" : "AAAA"));
	json_object_object_add(o, "view", jstr(st.view));
	json_object_object_add(o, "file", jstr(st.file));
	json_object_object_add(o, "policy", jstr(st.policy));
	json_object_object_add(o, "addresses", json_object_new_int64(st.n_addresses));
	if (st.rotates)
		json_object_object_add(o, "position", json_object_new_int64(st.next_index));
	json_object_object_add(o, "error", json_object_new_boolean(st.error != NULL));
	if (!ms)
		return o;
	json_object_object_add(o, "answers", json_object_new_int64((int64_t)ms->answers));
	json_object_object_add(o, "questions", rcodes_json(ms->questions, 2));
	if (st.view)
		json_object_object_add(o, "view_hits",
				       json_object_new_int64((int64_t)ms->view_hits));
	if (ms->served && h->list && h->list->n == ms->n_served) {
		json_object *served = json_object_new_array();

		for (uint32_t i = 0; i < ms->n_served; i++) {
			json_object *a = json_object_new_object();

			addrlist_format(h->list, i, text);
			json_object_object_add(a, "address", jstr(text));
			json_object_object_add(a, "answers",
					       json_object_new_int64((int64_t)ms->served[i]));
			json_object_array_add(served, a);
		}
		json_object_object_add(o, "served", served);
	}
	health_metrics(d, h, o);
	return o;
}

/* The metrics' first line: the copy's own figures. */
static json_object *metrics_header(const struct daemon *d)
{
	json_object *o = json_object_new_object(), *x, *b;
	const struct metrics *m = &d->sv.metrics;
	const struct snapshot *s = d->sv.snap;
	bool stalled = false;

	json_object_object_add(o, "pid", json_object_new_int64(getpid()));
	json_object_object_add(o, "generation", json_object_new_int64((int64_t)d->sv.generation));
	if (d->last_reload) {
		x = json_object_new_object();
		json_object_object_add(x, "time", json_object_new_int64(d->last_reload));
		json_object_object_add(x, "ok", json_object_new_boolean(d->last_reload_ok));
		json_object_object_add(o, "last_reload", x);
	}
	x = json_object_new_object();
	for (size_t i = 0; i < METRICS_N_QTYPES; i++)
		json_object_object_add(x, metrics_qtype_name((enum metrics_qtype)i),
				       json_object_new_int64((int64_t)m->lookups[i]));
	json_object_object_add(o, "lookups", x);
	json_object_object_add(o, "questions", rcodes_json(m->questions, METRICS_N_RCODES));
	x = json_object_new_object();
	for (size_t i = 0; i < METRICS_N_RELOADS; i++)
		json_object_object_add(x, metrics_reload_name((enum metrics_reload)i),
				       json_object_new_int64((int64_t)m->reloads[i]));
	json_object_object_add(o, "reloads", x);
	/* the histogram: each bucket's own count, the last one above every bound */
	x = json_object_new_object();
	b = json_object_new_array();
	for (size_t i = 0; i < METRICS_RELOAD_BUCKETS; i++) {
		json_object *e = json_object_new_array();

		json_object_array_add(e, json_object_new_double(metrics_reload_bounds[i]));
		json_object_array_add(e, json_object_new_int64((int64_t)m->reload_buckets[i]));
		json_object_array_add(b, e);
	}
	json_object_object_add(x, "buckets", b);
	json_object_object_add(x, "above", json_object_new_int64((int64_t)m->reload_inf));
	json_object_object_add(x, "sum", json_object_new_double(m->reload_seconds));
	json_object_object_add(o, "reload_duration", x);
	json_object_object_add(o, "control_refused",
			       json_object_new_int64((int64_t)m->control_refused));
	json_object_object_add(o, "log_dropped", json_object_new_int64((int64_t)log_dropped()));
	json_object_object_add(o, "stalls", json_object_new_int64((int64_t)d->sv.stalls));
	for (const struct session *x2 = d->sv.sessions; x2; x2 = x2->next)
		stalled |= x2->memo.stalled;
	json_object_object_add(
	    o, "rotation_stalled",
	    json_object_new_boolean(stalled && s &&
				    s->config->advance == CONFIG_ADVANCE_PER_QUESTION));
	json_object_object_add(o, "rotation_alone",
			       json_object_new_boolean(streq_ptr(daemon_rotation(d), "own")));
	json_object_object_add(o, "config_error",
			       json_object_new_boolean(d->config_error || d->startup_error));
	json_object_object_add(o, "max_addresses",
			       json_object_new_int64(s ? s->config->metrics_max_addresses : 0));
	return o;
}

char *ctlcmd_metrics_header(const struct daemon *d)
{
	return ctl_response_stream(metrics_header(d));
}
