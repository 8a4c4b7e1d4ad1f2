/* SPDX-License-Identifier: MIT */
/* The control socket's commands (ctlcmd.h): status and query, built from the daemon's state;
 * the metrics' JSON is ctlmetrics.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "answer.h"
#include "ctlcmd.h"
#include "ctlproto.h"
#include "hstatus.h"
#include "kind.h"
#include "log.h"
#include "macro.h"
#include "pipeproto.h"
#include "session.h"

#define TOP_SERVED 10 /* addresses listed per handler in status */

/* The handlers a status still has to send: ranges of handler indexes, in order. */
struct range {
	size_t first, end;
	bool check_names; /* covering handlers: only those whose qname is one of the names */
};

struct status_stream {
	const struct snapshot *snap; /* the snapshot it began on, and its generation: */
	uint64_t generation;	     /* a reload in between ends the stream with an error */
	struct range *ranges;
	size_t n_ranges, cur, pos;
	char **names; /* the filter (taken from the request), or NULL */
	size_t n_names;
	bool *found; /* per name */
	uint64_t count;
	bool metrics; /* a metrics reply: the counters of the address-list handlers */
};

struct status_stream *status_stream_free(struct status_stream *st)
{
	if (!st)
		return NULL;
	for (size_t i = 0; i < st->n_names; i++)
		free(st->names[i]);
	free(st->names);
	free(st->found);
	free(st->ranges);
	free(st);
	return NULL;
}

#define jstr ctl_jstr

#define HEALTH_STATUS_MAX 64 /* addresses of a checked list that status shows */

/* Address i of a checked list, for status. */
static json_object *address_json(const struct addrlist *l, const struct health_slot *s, uint32_t i,
				 uint32_t interval_ms, int64_t now_ms)
{
	json_object *a = json_object_new_object();
	const struct health_addr *x = &s->a[i];
	char text[ADDR_TEXT_MAX];
	int64_t next = x->next_ms;

	addrlist_format(l, i, text);
	json_object_object_add(a, "address", jstr(text));
	json_object_object_add(a, "up", json_object_new_boolean(x->up));
	json_object_object_add(a, "since", json_object_new_int64(x->since));
	json_object_object_add(a, "checked", json_object_new_boolean(x->checked));
	json_object_object_add(a, "last", x->checked ? jstr(x->reason) : NULL);
	json_object_object_add(a, "latency_us",
			       x->checked ? json_object_new_int64(x->latency_us) : NULL);
	json_object_object_add(a, "load", x->has_load ? json_object_new_double(x->load) : NULL);
	/* a copy that follows the prober has its plan as last written (up to a second old): the
	 * checks keep their period */
	if (next > 0 && next < now_ms && interval_ms)
		next += ((now_ms - next + interval_ms - 1) / interval_ms) * interval_ms;
	json_object_object_add(a, "next_check",
			       next > 0 ? json_object_new_double((double)next / 1000) : NULL);
	return a;
}

/* The "health" of a checked list: its settings, its counts, and its addresses (the down ones
 * first, HEALTH_STATUS_MAX in all). */
static json_object *health_json(const struct daemon *d, const struct hstatus *st)
{
	static const char *const checks[] = {"tcp", "http", "https", "file"};
	json_object *o = json_object_new_object(), *addrs = json_object_new_array();
	const struct config_health *c = st->check;
	const struct health_slot *s = st->health;
	const struct addrlist *l = st->h->list;

	json_object_object_add(o, "check", jstr(checks[c->check]));
	if (c->check != CONFIG_CHECK_FILE)
		json_object_object_add(o, "port",
				       json_object_new_int(c->port ? c->port
							   : c->check == CONFIG_CHECK_HTTPS ? 443
											    : 80));
	if (c->check == CONFIG_CHECK_HTTP || c->check == CONFIG_CHECK_HTTPS)
		json_object_object_add(o, "path", jstr(c->path ? c->path : "/"));
	if (c->check == CONFIG_CHECK_FILE)
		json_object_object_add(o, "file", jstr(c->file_path));
	json_object_object_add(o, "interval_ms", json_object_new_int64(c->interval_ms));
	json_object_object_add(o, "timeout_ms", json_object_new_int64(c->timeout_ms));
	json_object_object_add(o, "rise", json_object_new_int64(c->rise));
	json_object_object_add(o, "fall", json_object_new_int64(c->fall));
	json_object_object_add(o, "all_down", jstr(c->all_down_none ? "none" : "all"));
	json_object_object_add(o, "checked", json_object_new_boolean(s != NULL));
	if (d->health_prober) {
		const char *role;
		uint32_t pid = d->health_prober(d, &role);

		/* which copy runs the checks: this one ("elected" by the others, or "alone"), or
		 * the one it follows */
		json_object_object_add(o, "prober", pid ? json_object_new_int64(pid) : NULL);
		json_object_object_add(o, "role", jstr(role));
	}
	if (s) {
		uint32_t shown = 0;
		struct timespec ts;
		int64_t now_ms;

		clock_gettime(CLOCK_REALTIME, &ts);
		now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;

		json_object_object_add(o, "up", json_object_new_int64(s->n - s->n_down));
		json_object_object_add(o, "down", json_object_new_int64(s->n_down));
		for (uint32_t i = 0; s->n_down && i < s->n && shown < HEALTH_STATUS_MAX; i++)
			if (!s->a[i].up) {
				json_object_array_add(
				    addrs, address_json(l, s, i, c->interval_ms, now_ms));
				shown++;
			}
		for (uint32_t i = 0; i < s->n && shown < HEALTH_STATUS_MAX; i++)
			if (s->a[i].up) {
				json_object_array_add(
				    addrs, address_json(l, s, i, c->interval_ms, now_ms));
				shown++;
			}
	}
	json_object_object_add(o, "addresses", addrs);
	return o;
}

static json_object *handler_json(const struct daemon *d, const struct handler *h)
{
	json_object *o = json_object_new_object(), *served = json_object_new_array();
	const struct addrlist *l = h->list;
	char text[ADDR_TEXT_MAX], what[512];
	struct hstatus st;

	hstatus_get(d->sv.snap, &d->sv.rot, h, what, sizeof(what), &st);
	hstatus_health(&st, d->sv.snap, &d->sv.health);
	json_object_object_add(o, "qname", jstr(st.qname));
	if (st.serves) {
		json_object *types = json_object_new_array();

		for (uint8_t i = 0; i < h->cfg->n_types; i++)
			json_object_array_add(types, jstr(pp_type_name(h->cfg->types[i])));
		json_object_object_add(o, "kind", jstr(st.kind));
		json_object_object_add(o, "qtype", jstr(pp_type_name(st.qtype)));
		json_object_object_add(o, "types", types);
		json_object_object_add(o, "serves", jstr(st.serves));
		json_object_put(served);
		return o;
	}
	json_object_object_add(o, "kind", jstr(st.kind));
	json_object_object_add(o, "qtype", jstr(st.qtype == PP_TYPE_A ? "A" : "AAAA"));
	if (st.view) {
		json_object_object_add(o, "view", jstr(st.view));
		json_object_object_add(o, "prefix_file", jstr(st.prefix_file));
		json_object_object_add(o, "inline_prefixes",
				       json_object_new_int64((int64_t)st.inline_prefixes));
	} else if (st.n_views) {
		json_object_object_add(o, "views", json_object_new_int(st.n_views));
		json_object_object_add(o, "match", jstr(st.match));
		json_object_object_add(o, "prefixes", json_object_new_int64(st.prefixes));
		json_object_object_add(o, "views_error", jstr(st.views_error));
	}
	json_object_object_add(o, "file", jstr(st.file));
	json_object_object_add(o, "policy", jstr(st.policy));
	json_object_object_add(o, "count", json_object_new_int64(st.count));
	json_object_object_add(o, "addresses", json_object_new_int64(st.n_addresses));
	if (st.weighted) {
		json_object *weights = json_object_new_array();

		json_object_object_add(o, "total_weight",
				       json_object_new_int64((int64_t)st.total_weight));
		json_object_object_add(o, "drained", json_object_new_int64(st.drained));
		for (uint32_t i = 0; i < st.n_addresses && i < TOP_SERVED; i++) {
			json_object *a = json_object_new_object();

			addrlist_format(l, i, text);
			json_object_object_add(a, "address", jstr(text));
			json_object_object_add(
			    a, "weight", json_object_new_int64((int64_t)addrlist_weight(l, i)));
			json_object_array_add(weights, a);
		}
		json_object_object_add(o, "weights", weights);
	}
	if (st.rotates) {
		addrlist_format(l, st.next_index, text);
		json_object_object_add(o, "next_index", json_object_new_int64(st.next_index));
		json_object_object_add(o, "next_address", jstr(text));
		json_object_object_add(o, "answers", json_object_new_int64((int64_t)st.answers));
		/* the first ones are the most served */
		for (uint32_t i = 0;
		     hstatus_served(&st, 0) != UINT64_MAX && i < st.n_addresses && i < TOP_SERVED;
		     i++) {
			json_object *a = json_object_new_object();

			addrlist_format(l, i, text);
			json_object_object_add(a, "address", jstr(text));
			json_object_object_add(
			    a, "served", json_object_new_int64((int64_t)hstatus_served(&st, i)));
			json_object_array_add(served, a);
		}
	}
	json_object_object_add(o, "served", served);
	json_object_object_add(o, "error", jstr(st.error));
	if (st.check)
		json_object_object_add(o, "health", health_json(d, &st));
	return o;
}

struct status_stream *metrics_stream_new(const struct daemon *d)
{
	struct status_stream *st = status_stream_new(d, NULL, 0);

	if (st)
		st->metrics = true;
	return st;
}

/* The first lines of a status: what it costs does not grow with the handlers. */
static json_object *status_header(const struct daemon *d)
{
	json_object *o = json_object_new_object(), *last;
	const struct snapshot *s = d->sv.snap;
	bool stalled = false;

	json_object_object_add(o, "pid", json_object_new_int64(getpid()));
	json_object_object_add(o, "version", jstr(PACKAGE_VERSION));
	json_object_object_add(o, "uptime", json_object_new_int64(time(NULL) - d->started));
	json_object_object_add(o, "abi",
			       json_object_new_int(d->sv.sessions ? d->sv.sessions->abi : 0));
	json_object_object_add(o, "config", jstr(d->config_path));
	json_object_object_add(o, "zone", jstr(s ? s->config->domain : NULL));
	if (s && s->config->n_zones > 1) {
		json_object *zs = json_object_new_array();

		for (size_t z = 0; z < s->config->n_zones; z++)
			json_object_array_add(zs, jstr(s->config->zones[z].domain));
		json_object_object_add(o, "zones", zs);
	}
	json_object_object_add(o, "generation", json_object_new_int64((int64_t)d->sv.generation));
	/* the config's handlers, and their views apart (inside, views are handlers too) */
	json_object_object_add(
	    o, "n_handlers",
	    json_object_new_int64(s ? (int64_t)(s->config->n_handlers - s->config->n_views) : 0));
	json_object_object_add(o, "n_views",
			       json_object_new_int64(s ? (int64_t)s->config->n_views : 0));
	json_object_object_add(o, "n_drained",
			       json_object_new_int64(s ? (int64_t)s->n_drained : 0));
	json_object_object_add(o, "n_addresses",
			       json_object_new_int64(s ? (int64_t)s->n_addresses : 0));
	json_object_object_add(o, "n_failed", json_object_new_int64(s ? (int64_t)s->n_failed : 0));
	json_object_object_add(o, "lookups", json_object_new_int64((int64_t)d->sv.lookups));
	/* per question with PowerDNS's caches answering the SOA lookups (answer.h), as a
	 * connected session sees it now; stalls counts every time since the start */
	for (const struct session *x = d->sv.sessions; x; x = x->next)
		stalled |= x->memo.stalled;
	json_object_object_add(
	    o, "rotation_stalled",
	    json_object_new_boolean(stalled && s &&
				    s->config->advance == CONFIG_ADVANCE_PER_QUESTION));
	json_object_object_add(o, "stalls", json_object_new_int64((int64_t)d->sv.stalls));
	json_object_object_add(o, "rotation", jstr(daemon_rotation(d)));
	json_object_object_add(o, "log_dropped", json_object_new_int64((int64_t)log_dropped()));
	json_object_object_add(o, "config_error",
			       jstr(d->config_error ? d->config_error : d->startup_error));
	last = json_object_new_object();
	json_object_object_add(last, "time", json_object_new_int64(d->last_reload));
	json_object_object_add(last, "ok", json_object_new_boolean(d->last_reload_ok));
	json_object_object_add(last, "result", jstr(d->last_reload_result));
	json_object_object_add(o, "last_reload",
			       d->last_reload ? last : (json_object_put(last), NULL));
	return o;
}

char *ctlcmd_status_header(const struct daemon *d, bool stream)
{
	return stream ? ctl_response_stream(status_header(d)) : ctl_response_ok(status_header(d));
}

/* A handler's qname is name (case aside, a trailing dot aside). */
static bool same_name(const char *qname, const char *name)
{
	size_t a = strlen(qname), b = strlen(name);

	if (a && qname[a - 1] == '.')
		a--;
	if (b && name[b - 1] == '.')
		b--;
	return a == b && strncasecmp(qname, name, a) == 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

/* What a status request will send: every handler, or those of the names (names taken
 * over). The names' own handlers are found through the name table, O(names); handlers of
 * kinds that cover sets of names are compared by qname as the stream goes. */
struct status_stream *status_stream_new(const struct daemon *d, char **names, size_t n_names)
{
	struct status_stream *st = calloc(1, sizeof(*st));
	const struct snapshot *s = d->sv.snap;
	size_t n = 0;

	if (!st)
		goto oom;
	st->snap = s;
	st->generation = d->sv.generation;
	st->names = names;
	st->n_names = n_names;
	names = NULL;
	st->ranges = calloc(n_names + 1, sizeof(*st->ranges));
	st->found = calloc(n_names ? n_names : 1, sizeof(*st->found));
	if (!st->ranges || !st->found)
		goto oom;
	if (!s)
		return st;
	if (!n_names) {
		st->ranges[n++] = (struct range){0, s->n_handlers, false};
		st->n_ranges = n;
		return st;
	}
	for (size_t i = 0; i < n_names; i++) {
		struct dname dn;
		const struct node *node;

		if (dname_parse(st->names[i], strlen(st->names[i]), &dn) < 0 ||
		    !(node = snapshot_find(s, &dn)) || !node->count)
			continue;
		st->found[i] = true;
		st->ranges[n++] =
		    (struct range){node->first, (size_t)node->first + node->count, false};
	}
	/* in handler order, each name once */
	qsort(st->ranges, n, sizeof(*st->ranges), cmp_range);
	{
		size_t k = 0;

		for (size_t i = 0; i < n; i++)
			if (!k || st->ranges[i].first != st->ranges[k - 1].first)
				st->ranges[k++] = st->ranges[i];
		n = k;
	}
	if (s->first_covering < s->n_handlers)
		st->ranges[n++] = (struct range){s->first_covering, s->n_handlers, true};
	st->n_ranges = n;
	return st;
oom:
	if (names)
		for (size_t i = 0; i < n_names; i++)
			free(names[i]);
	free(names);
	status_stream_free(st);
	return NULL;
}

static bool stream_wants(struct status_stream *st, const struct handler *h)
{
	bool any = false;

	for (size_t i = 0; i < st->n_names; i++)
		if (same_name(h->cfg->qname, st->names[i]))
			any = st->found[i] = true;
	return any;
}

bool status_stream_fill(struct status_stream *st, const struct daemon *d, struct buf *out)
{
	uint64_t t0 = mono_usec();
	unsigned built = 0;

	if (d->sv.snap != st->snap || d->sv.generation != st->generation) {
		/* the snapshot it walked is gone: say so rather than mix two generations */
		ctl_put_line(out,
			     ctl_response_error(
				 "a reload applied a new generation during the status; "
				 "the handlers above are complete for the old one, ask again"));
		return true;
	}
	while (st->cur < st->n_ranges) {
		struct range *r = &st->ranges[st->cur];
		const struct handler *h;

		if (st->pos < r->first)
			st->pos = r->first;
		if (st->pos >= r->end) {
			st->cur++;
			continue;
		}
		if (built && (out->len >= STATUS_OUT_HIGH || mono_usec() - t0 >= STATUS_SLICE_USEC))
			return false;
		h = &st->snap->handlers[st->pos++];
		if (r->check_names && !stream_wants(st, h))
			continue;
		if (st->metrics && h->cfg->kind)
			continue; /* a kind counts nothing of its own */
		built++;
		st->count++;
		ctl_put_line(out, ctl_stream_item(st->metrics ? ctlcmd_metrics_json(d, h)
							      : handler_json(d, h)));
		if (!buf_ok(out))
			return true;
	}
	{
		json_object *end = json_object_new_object(), *missing = json_object_new_array();

		json_object_object_add(end, "count", json_object_new_int64((int64_t)st->count));
		for (size_t i = 0; i < st->n_names; i++)
			if (!st->found[i])
				json_object_array_add(missing, jstr(st->names[i]));
		json_object_object_add(end, "missing", missing);
		ctl_put_line(out, ctl_stream_end(end));
	}
	return true;
}

/* What a question would get, without moving any rotation: the answer_query() output for
 * ANY at the name, filtered by type, with the rcode PowerDNS would give. */
char *ctlcmd_query(const struct daemon *d, const struct ctl_request *req)
{
	struct answer_memo memo = {0};
	struct answer_ctx ctx = {.snap = d->sv.snap,
				 .rot = (struct rotation *)&d->sv.rot,
				 .health = &d->sv.health,
				 .memo = &memo,
				 .abi = 1,
				 .peek = true};
	struct pp_msg m = {.kind = PP_Q,
			   .qname = req->name,
			   .qname_len = strlen(req->name),
			   .qtype = "ANY",
			   .id = 1,
			   .remote = req->client[0] ? req->client : "0.0.0.0",
			   .real_remote = req->client[0] ? req->client : NULL};
	uint16_t want = pp_qtype(req->type);
	json_object *res, *answers;
	struct dname name;
	struct buf out;
	const char *rcode;
	bool any = false, in_zone = false;
	char *p;

	if (!want)
		return ctl_response_error("unknown record type");
	if (dname_parse(req->name, strlen(req->name), &name) < 0)
		return ctl_response_error("not a valid domain name");
	buf_init(&out);
	answer_query(&ctx, &m, &out);
	buf_putc(&out, 0);
	if (!buf_ok(&out))
		return ctl_response_error("out of memory");
	answers = json_object_new_array();
	for (p = out.data; p && *p;) {
		char *nl = strchr(p, '\n');
		struct pp_record rr;

		if (nl)
			*nl = 0;
		if (pp_parse_data(p, strlen(p), ctx.abi, &rr) == 0) {
			any = true; /* the name exists: NODATA rather than NXDOMAIN */
			if (strcmp(rr.type, "ENT") != 0 &&
			    (want == PP_TYPE_ANY || pp_qtype(rr.type) == want)) {
				json_object *a = json_object_new_object();

				json_object_object_add(a, "name", jstr(rr.qname));
				json_object_object_add(a, "type", jstr(rr.type));
				json_object_object_add(a, "ttl", json_object_new_int64(rr.ttl));
				json_object_object_add(a, "content", jstr(rr.content));
				json_object_array_add(answers, a);
			}
		}
		p = nl ? nl + 1 : NULL;
	}
	buf_free(&out);
	for (size_t z = 0; d->sv.snap && z < d->sv.snap->config->n_zones; z++)
		in_zone |= dname_is_below_or_at(&name, &d->sv.snap->config->zones[z].apex);
	in_zone |=
	    d->sv.snap && d->sv.snap->config->catch_all && name.labels; /* an apex of its own */
	if (!in_zone)
		rcode = "REFUSED";
	else if (!any)
		rcode = "NXDOMAIN";
	else
		rcode = json_object_array_length(answers) ? "NOERROR" : "NODATA";
	res = json_object_new_object();
	json_object_object_add(res, "pid", json_object_new_int64(getpid()));
	json_object_object_add(res, "name", jstr(req->name));
	json_object_object_add(res, "type", jstr(req->type));
	json_object_object_add(res, "client", jstr(req->client[0] ? req->client : NULL));
	json_object_object_add(res, "rcode", jstr(rcode));
	json_object_object_add(res, "answers", answers);
	return ctl_response_ok(res);
}

char *ctlcmd_reload_reply(const struct daemon *d, bool applied, const char *result,
			  const struct diag *errors)
{
	const struct snapshot *snap = d->sv.snap;
	json_object *o, *errs, *msgs;

	if (!applied)
		return ctl_response_error(result ? result : "reload refused");
	o = json_object_new_object();
	errs = json_object_new_array();
	msgs = json_object_new_array();
	json_object_object_add(o, "pid", json_object_new_int64(getpid()));
	json_object_object_add(o, "generation", json_object_new_int64((int64_t)d->sv.generation));
	json_object_object_add(o, "result", jstr(result));
	/* what this reload found, line by line as --check prints it */
	for (size_t i = 0; errors && i < errors->n_msgs; i++)
		json_object_array_add(msgs, jstr(errors->msgs[i]));
	if (errors && errors->n_errors > errors->n_msgs) {
		char more[64];

		snprintf(more, sizeof(more), "(%zu more problems not shown)",
			 errors->n_errors - errors->n_msgs);
		json_object_array_add(msgs, jstr(more));
	}
	json_object_object_add(o, "messages", msgs);
	/* and every problem the generation has, also those found by an earlier reload */
	for (size_t k = 0; snap && k < snap->n_with_error; k++) {
		const struct handler *h = &snap->handlers[snap->with_error[k]];

		if (h->error)
			json_object_array_add(errs, jstr(h->error));
		if (h->views_error)
			json_object_array_add(errs, jstr(h->views_error));
	}
	json_object_object_add(o, "errors", errs);
	return ctl_response_ok(o);
}

/* A stream, or the reply that says why there is none. */
static void answer_stream(struct control_answer *a, struct status_stream *st, char *first)
{
	if (!st) {
		free(first);
		a->line = ctl_response_error("out of memory");
		return;
	}
	a->stream = st;
	a->line = first;
}

static void handle(void *userdata, struct ctl_request *req, struct control_answer *a)
{
	struct daemon *d = userdata;

	switch (req->cmd) {
	case CTL_STATUS:
		if (req->summary) {
			a->line = ctlcmd_status_header(d, false);
			break;
		}
		answer_stream(a, status_stream_new(d, req->names, req->n_names),
			      ctlcmd_status_header(d, true));
		req->names = NULL; /* taken over, freed by status_stream_new() when it fails */
		req->n_names = 0;
		break;
	case CTL_QUERY: a->line = ctlcmd_query(d, req); break;
	case CTL_METRICS: answer_stream(a, metrics_stream_new(d), ctlcmd_metrics_header(d)); break;
	case CTL_RELOAD: a->wait_reload = d->request_reload(d, "pdynctl reload"); break;
	}
}

static bool fill(void *userdata, struct status_stream *st, struct buf *out)
{
	return status_stream_fill(st, userdata, out);
}

static void drop(struct status_stream *st)
{
	status_stream_free(st);
}

static void refused(void *userdata)
{
	struct daemon *d = userdata;

	d->sv.metrics.control_refused++;
}

const struct control_ops ctlcmd_ops = {
    .handle = handle, .fill = fill, .drop = drop, .refused = refused};
