/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "exposition.h"
#include "macro.h"

#define P "pdyndns_"

static const struct {
	const char *name;
	enum promtext_type type;
	enum promtext_merge merge;
	const char *help;
} families[] = {
    {P "copies", PROMTEXT_GAUGE, PROMTEXT_SUM, "Copies of pdyndns that answered pdynctl metrics."},
    {P "generation", PROMTEXT_GAUGE, PROMTEXT_MAX,
     "The snapshot generation a copy serves (0: no config loaded)."},
    {P "last_reload_timestamp_seconds", PROMTEXT_GAUGE, PROMTEXT_MAX,
     "When a copy last applied or refused a reload, in seconds since the epoch."},
    {P "last_reload_success", PROMTEXT_GAUGE, PROMTEXT_MAX,
     "Whether a copy's last reload was applied (1) or refused (0)."},
    {P "config_error", PROMTEXT_GAUGE, PROMTEXT_MAX,
     "1 while the config file has a problem (the copies keep serving the previous generation)."},
    {P "lookups_total", PROMTEXT_COUNTER, PROMTEXT_SUM,
     "Lookups PowerDNS sent, by the type it asked."},
    {P "questions_total", PROMTEXT_COUNTER, PROMTEXT_SUM,
     "Client questions by what the backend answered at the question's name: records (NOERROR), a "
     "name "
     "without records (NODATA) or nothing (NXDOMAIN)."},
    {P "reloads_total", PROMTEXT_COUNTER, PROMTEXT_SUM,
     "Reloads by result: applied (a new generation), refused (the previous one kept after an "
     "error), kept "
     "(nothing to change)."},
    {P "reload_duration_seconds", PROMTEXT_HISTOGRAM, PROMTEXT_SUM,
     "How long reloads took, from the request to the new generation or the refusal."},
    {P "control_refused_total", PROMTEXT_COUNTER, PROMTEXT_SUM,
     "Control socket clients refused: without rights, or over the client budget."},
    {P "log_dropped_total", PROMTEXT_COUNTER, PROMTEXT_SUM,
     "Log lines dropped because the journal did not take them."},
    {P "rotation_stalls_total", PROMTEXT_COUNTER, PROMTEXT_SUM,
     "Lookups that began a question without its SOA lookups, and SOA walks cut short: PowerDNS's "
     "caches "
     "hide questions from the rotation."},
    {P "rotation_stalled", PROMTEXT_GAUGE, PROMTEXT_MAX,
     "1 while a copy sees questions without their SOA lookups (advance per-question: pdyndns "
     "counts "
     "lookups instead)."},
    {P "rotation_alone", PROMTEXT_GAUGE, PROMTEXT_MAX,
     "1 while a copy PowerDNS started rotates with its own counters (it cannot use the shared "
     "counter file, or runs with --no-shared-rotation): the copies do not answer in turn."},
    {P "addresses", PROMTEXT_GAUGE, PROMTEXT_MAX,
     "Addresses in a handler's list (0: serving nothing)."},
    {P "file_error", PROMTEXT_GAUGE, PROMTEXT_MAX,
     "1 while the last read of an address file failed (its handler keeps the previous list or "
     "serves "
     "nothing)."},
    {P "rotation_position", PROMTEXT_GAUGE, PROMTEXT_MAX,
     "The index of the address a rotating handler serves next, per copy."},
    {P "answers_total", PROMTEXT_COUNTER, PROMTEXT_SUM,
     "Answers a handler gave: once per question (or per lookup with advance per-lookup)."},
    {P "handler_questions_total", PROMTEXT_COUNTER, PROMTEXT_SUM,
     "Questions at a handler's name, by whether it had addresses to give (NOERROR) or not "
     "(NODATA)."},
    {P "view_hits_total", PROMTEXT_COUNTER, PROMTEXT_SUM,
     "Questions whose client a view's prefixes matched."},
    {P "address_answers_total", PROMTEXT_COUNTER, PROMTEXT_SUM,
     "Answers that held an address, for lists of at most metrics_max_addresses addresses."},
    {P "health_down", PROMTEXT_GAUGE, PROMTEXT_MAX,
     "Addresses of a checked list that are down (the most any copy sees)."},
    {P "health_transitions_total", PROMTEXT_COUNTER, PROMTEXT_SUM,
     "Ups and downs the health checks found, counted by the copy that ran them."},
    {P "health_up", PROMTEXT_GAUGE, PROMTEXT_MAX,
     "1 while an address of a checked list is up, 0 while down, for lists of at most "
     "metrics_max_addresses addresses."},
    {P "health_check_latency_seconds", PROMTEXT_GAUGE, PROMTEXT_MAX,
     "How long the last health check of an address took, for lists of at most "
     "metrics_max_addresses addresses."},
};

int expo_declare(struct promtext *p)
{
	for (size_t i = 0; i < ELEMENTSOF(families); i++) {
		int r = promtext_family(p, families[i].name, families[i].type, families[i].merge,
					families[i].help);

		if (r < 0)
			return r;
	}
	return 0;
}

_printf_(2, 3) static int bad(char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, EXPO_WHY_MAX, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

/* A count (an integer >= 0) at key; absent only when optional (then *v is 0). */
static int count_at(json_object *o, const char *key, bool optional, double *v, char *why)
{
	json_object *x;

	*v = 0;
	if (!json_object_object_get_ex(o, key, &x))
		return optional ? 0 : bad(why, "\"%s\" is missing", key);
	if (!json_object_is_type(x, json_type_int) || json_object_get_int64(x) < 0)
		return bad(why, "\"%s\" is not a count", key);
	*v = (double)json_object_get_int64(x);
	return 0;
}

static int bool_at(json_object *o, const char *key, double *v, char *why)
{
	json_object *x;

	if (!json_object_object_get_ex(o, key, &x) || !json_object_is_type(x, json_type_boolean))
		return bad(why, "\"%s\" is not true or false", key);
	*v = json_object_get_boolean(x);
	return 0;
}

/* A string at key: NULL when absent or null and optional. */
static int str_at(json_object *o, const char *key, bool optional, const char **s, char *why)
{
	json_object *x;

	*s = NULL;
	if (!json_object_object_get_ex(o, key, &x) || json_object_is_type(x, json_type_null))
		return optional ? 0 : bad(why, "\"%s\" is missing", key);
	if (!json_object_is_type(x, json_type_string) ||
	    strlen(json_object_get_string(x)) != (size_t)json_object_get_string_len(x))
		return bad(why, "\"%s\" is not a string", key);
	*s = json_object_get_string(x);
	return 0;
}

/* Adds the counts of object key (each member: label value -> count) as family name{label}. */
static int add_counts(struct promtext *p, json_object *o, const char *key, const char *name,
		      const char *label, const char *const *keep, char *why)
{
	json_object *x;
	int r;

	if (!json_object_object_get_ex(o, key, &x) || !json_object_is_type(x, json_type_object))
		return bad(why, "\"%s\" is not an object", key);
	for (size_t i = 0; keep[i]; i++) {
		double v;
		const char *labels[] = {label, keep[i], NULL};

		if ((r = count_at(x, keep[i], false, &v, why)) < 0 ||
		    (r = promtext_add(p, name, NULL, labels, v)) < 0)
			return r;
	}
	return 0;
}

int expo_add_copy(struct promtext *p, json_object *h, int pid, char why[EXPO_WHY_MAX])
{
	static const char *const qtypes[] = {"SOA", "ANY", "A", "AAAA", "NS", "other", NULL};
	static const char *const rcodes[] = {"NOERROR", "NODATA", "NXDOMAIN", NULL};
	static const char *const results[] = {"applied", "refused", "kept", NULL};
	char copy[24];
	const char *cl[] = {"copy", copy, NULL};
	json_object *x, *buckets;
	double v, total = 0, sum;
	int r;

	snprintf(copy, sizeof(copy), "%d", pid);
	if (!json_object_is_type(h, json_type_object))
		return bad(why, "the metrics header is not an object");
	if ((r = promtext_add(p, P "copies", NULL, NULL, 1)) < 0 ||
	    (r = count_at(h, "generation", false, &v, why)) < 0 ||
	    (r = promtext_add(p, P "generation", NULL, cl, v)) < 0)
		return r;
	if (json_object_object_get_ex(h, "last_reload", &x) &&
	    !json_object_is_type(x, json_type_null)) {
		if (!json_object_is_type(x, json_type_object))
			return bad(why, "\"last_reload\" is not an object");
		if ((r = count_at(x, "time", false, &v, why)) < 0 ||
		    (r = promtext_add(p, P "last_reload_timestamp_seconds", NULL, cl, v)) < 0 ||
		    (r = bool_at(x, "ok", &v, why)) < 0 ||
		    (r = promtext_add(p, P "last_reload_success", NULL, cl, v)) < 0)
			return r;
	}
	if ((r = bool_at(h, "config_error", &v, why)) < 0 ||
	    (r = promtext_add(p, P "config_error", NULL, NULL, v)) < 0 ||
	    (r = add_counts(p, h, "lookups", P "lookups_total", "qtype", qtypes, why)) < 0 ||
	    (r = add_counts(p, h, "questions", P "questions_total", "rcode", rcodes, why)) < 0 ||
	    (r = add_counts(p, h, "reloads", P "reloads_total", "result", results, why)) < 0)
		return r;
	/* the histogram: cumulative buckets, then +Inf, the sum and the count */
	if (!json_object_object_get_ex(h, "reload_duration", &x) ||
	    !json_object_is_type(x, json_type_object) ||
	    !json_object_object_get_ex(x, "buckets", &buckets) ||
	    !json_object_is_type(buckets, json_type_array) || !json_object_array_length(buckets) ||
	    json_object_array_length(buckets) > 64)
		return bad(why, "\"reload_duration\" has no buckets");
	for (size_t i = 0; i < json_object_array_length(buckets); i++) {
		json_object *e = json_object_array_get_idx(buckets, i), *le, *n;
		char bound[32];
		const char *bl[] = {"le", bound, NULL};

		if (!json_object_is_type(e, json_type_array) || json_object_array_length(e) != 2 ||
		    !(le = json_object_array_get_idx(e, 0)) ||
		    !(n = json_object_array_get_idx(e, 1)) ||
		    !(json_object_is_type(le, json_type_double) ||
		      json_object_is_type(le, json_type_int)) ||
		    !json_object_is_type(n, json_type_int) || json_object_get_int64(n) < 0)
			return bad(why, "a bucket of \"reload_duration\" is not [bound, count]");
		total += (double)json_object_get_int64(n);
		snprintf(bound, sizeof(bound), "%g", json_object_get_double(le));
		if ((r = promtext_add(p, P "reload_duration_seconds", "_bucket", bl, total)) < 0)
			return r;
	}
	if ((r = count_at(x, "above", false, &v, why)) < 0)
		return r;
	total += v;
	if (!json_object_object_get_ex(x, "sum", &buckets) ||
	    !(json_object_is_type(buckets, json_type_double) ||
	      json_object_is_type(buckets, json_type_int)) ||
	    (sum = json_object_get_double(buckets)) < 0)
		return bad(why, "\"reload_duration\" has no sum");
	{
		const char *inf[] = {"le", "+Inf", NULL};

		if ((r = promtext_add(p, P "reload_duration_seconds", "_bucket", inf, total)) < 0 ||
		    (r = promtext_add(p, P "reload_duration_seconds", "_sum", NULL, sum)) < 0 ||
		    (r = promtext_add(p, P "reload_duration_seconds", "_count", NULL, total)) < 0)
			return r;
	}
	if ((r = count_at(h, "control_refused", false, &v, why)) < 0 ||
	    (r = promtext_add(p, P "control_refused_total", NULL, NULL, v)) < 0 ||
	    (r = count_at(h, "log_dropped", false, &v, why)) < 0 ||
	    (r = promtext_add(p, P "log_dropped_total", NULL, NULL, v)) < 0 ||
	    (r = count_at(h, "stalls", false, &v, why)) < 0 ||
	    (r = promtext_add(p, P "rotation_stalls_total", NULL, NULL, v)) < 0 ||
	    (r = bool_at(h, "rotation_stalled", &v, why)) < 0 ||
	    (r = promtext_add(p, P "rotation_stalled", NULL, NULL, v)) < 0)
		return r;
	/* (a daemon older than the gauge sends none) */
	if (json_object_object_get_ex(h, "rotation_alone", NULL) &&
	    ((r = bool_at(h, "rotation_alone", &v, why)) < 0 ||
	     (r = promtext_add(p, P "rotation_alone", NULL, NULL, v)) < 0))
		return r;
	return 0;
}

/* A number >= 0 at key, or null (*v NaN) when optional. */
static int real_at(json_object *o, const char *key, double *v, char *why)
{
	json_object *x;

	*v = -1;
	if (json_object_object_get_ex(o, key, &x) && json_object_is_type(x, json_type_null))
		return 0;
	if (!json_object_object_get_ex(o, key, &x) ||
	    !(json_object_is_type(x, json_type_double) || json_object_is_type(x, json_type_int)) ||
	    !(json_object_get_double(x) >= 0))
		return bad(why, "\"%s\" is not a number of 0 or more", key);
	*v = json_object_get_double(x);
	return 0;
}

/* The "health" of a handler line. */
static int add_health(struct promtext *p, json_object *hl, const char *name, const char *qtype,
		      const char *view, char *why)
{
	const char *l[] = {"name", name, "qtype", qtype, "view", view, NULL};
	json_object *addrs;
	double v;
	int r;

	if (!json_object_is_type(hl, json_type_object))
		return bad(why, "\"health\" is not an object");
	if ((r = count_at(hl, "down", false, &v, why)) < 0 ||
	    (r = promtext_add(p, P "health_down", NULL, l, v)) < 0 ||
	    (r = count_at(hl, "transitions", false, &v, why)) < 0 ||
	    (r = promtext_add(p, P "health_transitions_total", NULL, l, v)) < 0)
		return r;
	if (!json_object_object_get_ex(hl, "addresses", &addrs))
		return 0; /* a list longer than metrics_max_addresses */
	if (!json_object_is_type(addrs, json_type_array) || json_object_array_length(addrs) > 65536)
		return bad(why, "\"health\": \"addresses\" is not an array of at most 65536");
	for (size_t i = 0; i < json_object_array_length(addrs); i++) {
		json_object *a = json_object_array_get_idx(addrs, i);
		const char *addr;

		if (!json_object_is_type(a, json_type_object))
			return bad(why, "an address of \"health\" is not an object");
		if ((r = str_at(a, "address", false, &addr, why)) < 0 ||
		    (r = bool_at(a, "up", &v, why)) < 0)
			return r;
		{
			const char *al[] = {"name", name,      "qtype", qtype, "view",
					    view,   "address", addr,	NULL};

			if ((r = promtext_add(p, P "health_up", NULL, al, v)) < 0 ||
			    (r = real_at(a, "latency_seconds", &v, why)) < 0 ||
			    (v >= 0 && (r = promtext_add(p, P "health_check_latency_seconds", NULL,
							 al, v)) < 0))
				return r;
		}
	}
	return 0;
}

int expo_add_handler(struct promtext *p, json_object *item, int pid, char why[EXPO_WHY_MAX])
{
	const char *name, *qtype, *view, *file, *policy;
	char copy[24];
	json_object *x, *served;
	double v;
	int r;

	snprintf(copy, sizeof(copy), "%d", pid);
	if (!json_object_is_type(item, json_type_object))
		return bad(why, "a handler line is not an object");
	if ((r = str_at(item, "name", false, &name, why)) < 0 ||
	    (r = str_at(item, "qtype", false, &qtype, why)) < 0 ||
	    (r = str_at(item, "view", true, &view, why)) < 0 ||
	    (r = str_at(item, "file", true, &file, why)) < 0 ||
	    (r = str_at(item, "policy", false, &policy, why)) < 0)
		return r;
	if (!view)
		view = "";
	{
		const char *hl[] = {"name", name, "qtype", qtype, "view", view, NULL};
		const char *pl[] = {"name", name,     "qtype", qtype, "view",
				    view,   "policy", policy,  NULL};
		const char *posl[] = {"name", name,   "qtype", qtype, "view",
				      view,   "copy", copy,    NULL};
		const char *fl[] = {"file", file, NULL};

		if ((r = count_at(item, "addresses", false, &v, why)) < 0 ||
		    (r = promtext_add(p, P "addresses", NULL, hl, v)) < 0 ||
		    (r = bool_at(item, "error", &v, why)) < 0 ||
		    (file && (r = promtext_add(p, P "file_error", NULL, fl, v)) < 0))
			return r;
		if (json_object_object_get_ex(item, "position", &x) &&
		    ((r = count_at(item, "position", false, &v, why)) < 0 ||
		     (r = promtext_add(p, P "rotation_position", NULL, posl, v)) < 0))
			return r;
		if (!json_object_object_get_ex(item, "answers", &x))
			return 0; /* a copy without counters for it */
		if ((r = count_at(item, "answers", false, &v, why)) < 0 ||
		    (r = promtext_add(p, P "answers_total", NULL, pl, v)) < 0)
			return r;
		if (!json_object_object_get_ex(item, "questions", &x) ||
		    !json_object_is_type(x, json_type_object))
			return bad(why, "\"questions\" is not an object");
		for (int i = 0; i < 2; i++) {
			const char *rc = i ? "NODATA" : "NOERROR";
			const char *ql[] = {"name", name,    "qtype", qtype, "view",
					    view,   "rcode", rc,      NULL};

			if ((r = count_at(x, rc, false, &v, why)) < 0 ||
			    (r = promtext_add(p, P "handler_questions_total", NULL, ql, v)) < 0)
				return r;
		}
		if (json_object_object_get_ex(item, "view_hits", &x) &&
		    ((r = count_at(item, "view_hits", false, &v, why)) < 0 ||
		     (r = promtext_add(p, P "view_hits_total", NULL, hl, v)) < 0))
			return r;
		if (json_object_object_get_ex(item, "health", &x) &&
		    (r = add_health(p, x, name, qtype, view, why)) < 0)
			return r;
		if (!json_object_object_get_ex(item, "served", &served))
			return 0;
		if (!json_object_is_type(served, json_type_array) ||
		    json_object_array_length(served) > 65536)
			return bad(why, "\"served\" is not an array of at most 65536 addresses");
		for (size_t i = 0; i < json_object_array_length(served); i++) {
			json_object *a = json_object_array_get_idx(served, i);
			const char *addr;

			if (!json_object_is_type(a, json_type_object))
				return bad(why, "an element of \"served\" is not an object");
			if ((r = str_at(a, "address", false, &addr, why)) < 0 ||
			    (r = count_at(a, "answers", false, &v, why)) < 0)
				return r;
			{
				const char *al[] = {"name", name,      "qtype", qtype, "view",
						    view,   "address", addr,	NULL};

				if ((r = promtext_add(p, P "address_answers_total", NULL, al, v)) <
				    0)
					return r;
			}
		}
	}
	return 0;
}
