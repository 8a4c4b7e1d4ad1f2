/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "macro.h"
#include "render.h"

/* Reads fields of one reply: a field of the wrong type marks the reply malformed (the first
 * problem is kept) and reads as absent, so that rendering goes on safely to the end. */
struct rd {
	char *why;
	bool bad;
};

_printf_(2, 3) static void mark(struct rd *r, const char *fmt, ...)
{
	va_list ap;

	if (r->bad)
		return;
	r->bad = true;
	va_start(ap, fmt);
	vsnprintf(r->why, RENDER_WHY_MAX, fmt, ap);
	va_end(ap);
}

/* The value of key k of o; NULL if absent or null. */
static json_object *get(struct rd *r, json_object *o, const char *k, json_type type,
			const char *what)
{
	json_object *v;

	if (!json_object_is_type(o, json_type_object)) {
		mark(r, "expected an object with \"%s\"", k);
		return NULL;
	}
	if (!json_object_object_get_ex(o, k, &v) || !v)
		return NULL;
	if (!json_object_is_type(v, type)) {
		mark(r, "\"%s\" is not %s", k, what);
		return NULL;
	}
	return v;
}

static const char *str(struct rd *r, json_object *o, const char *k)
{
	json_object *v = get(r, o, k, json_type_string, "a string");

	return v ? json_object_get_string(v) : NULL;
}

static long long num(struct rd *r, json_object *o, const char *k)
{
	json_object *v = get(r, o, k, json_type_int, "an integer");

	return v ? (long long)json_object_get_int64(v) : 0;
}

static bool boolean(struct rd *r, json_object *o, const char *k)
{
	json_object *v = get(r, o, k, json_type_boolean, "true or false");

	return v && json_object_get_boolean(v);
}

static json_object *arr(struct rd *r, json_object *o, const char *k)
{
	return get(r, o, k, json_type_array, "an array");
}

static size_t len(json_object *a)
{
	return a ? json_object_array_length(a) : 0;
}

/* Element i of array a (of key k), which must be of the given type; NULL if not. */
static json_object *elem(struct rd *r, json_object *a, size_t i, const char *k, json_type type,
			 const char *what)
{
	json_object *v = json_object_array_get_idx(a, i);

	if (!json_object_is_type(v, type)) {
		mark(r, "\"%s\" holds an item that is not %s", k, what);
		return NULL;
	}
	return v;
}

static int finish(struct rd *r)
{
	return r->bad ? -EBADMSG : 0;
}

static void print_when(FILE *out, long long t)
{
	char buf[64];
	time_t tt = (time_t)t;
	struct tm tm;

	/* a time localtime() cannot take is shown as the number it is */
	if ((long long)tt != t || !localtime_r(&tt, &tm) ||
	    !strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm))
		fprintf(out, "time %lld", t);
	else
		fputs(buf, out);
}

int render_status_header(FILE *out, json_object *res, char why[RENDER_WHY_MAX])
{
	struct rd r = {.why = why};
	json_object *zones, *last, *views;
	const char *rotation;
	long long up = num(&r, res, "uptime"), nh = num(&r, res, "n_handlers"), nv;
	size_t nz;

	fprintf(out, "pdyndns %s, pid %lld: up %lldd%02lldh%02lldm%02llds, ABI %lld, config %s\n",
		str(&r, res, "version") ?: "?", num(&r, res, "pid"), up / 86400, up / 3600 % 24,
		up / 60 % 60, up % 60, num(&r, res, "abi"), str(&r, res, "config") ?: "?");
	fprintf(out, "  zone %s", str(&r, res, "zone") ?: "(none)");
	zones = arr(&r, res, "zones");
	nz = len(zones);
	for (size_t i = 1; i < nz; i++) { /* the first is the one above */
		json_object *z = elem(&r, zones, i, "zones", json_type_string, "a string");

		fprintf(out, "%s%s", i == 1 ? " (and " : ", ", z ? json_object_get_string(z) : "?");
	}
	fprintf(out, "%s, generation %lld, %lld handler%s", nz > 1 ? ")" : "",
		num(&r, res, "generation"), nh, nh == 1 ? "" : "s");
	/* views are counted apart (an older daemon sends no n_views: its count has them) */
	if (json_object_object_get_ex(res, "n_views", &views) && (nv = num(&r, res, "n_views")))
		fprintf(out, ", %lld view%s", nv, nv == 1 ? "" : "s");
	fprintf(out,
		", %lld addresses, %lld lookups answered (PowerDNS sends several per question)\n",
		num(&r, res, "n_addresses"), num(&r, res, "lookups"));
	if (boolean(&r, res, "rotation_stalled"))
		fprintf(out,
			"  rotation STALLED: %lld times questions came without the SOA lookups "
			"\"advance\": \"per-question\" counts (PowerDNS's caches); see the log\n",
			num(&r, res, "stalls"));
	rotation = str(&r, res, "rotation"); /* (absent from older daemons) */
	if (rotation && !strcmp(rotation, "own"))
		fprintf(out, "  rotation: this copy's own: the copies PowerDNS starts (one per "
			     "thread) do not answer in turn; see the log\n");
	last = get(&r, res, "last_reload", json_type_object, "an object");
	if (last) {
		fprintf(out, "  last reload: %s at ",
			boolean(&r, last, "ok") ? "applied" : "refused");
		print_when(out, num(&r, last, "time"));
		fprintf(out, ": %s\n", str(&r, last, "result") ?: "");
	} else
		fprintf(out, "  last reload: none since start\n");
	if (num(&r, res, "log_dropped"))
		fprintf(out, "  %lld log lines dropped: stderr was full (nobody reads it?)\n",
			num(&r, res, "log_dropped"));
	if (str(&r, res, "config_error"))
		fprintf(out, "  config error: %s\n", str(&r, res, "config_error"));
	fprintf(out, "  %-32s %-4s %-15s %9s %9s %-26s %10s  %s\n", "QNAME", "TYPE", "POLICY",
		"ADDRESSES", "NEXT#", "NEXT ADDRESS", "ANSWERS", "FILE");
	return finish(&r);
}

/* " a=1 b=2" for the address/number pairs of an array, " ..." when the list has more */
static void print_pairs(struct rd *r, FILE *out, json_object *h, const char *k, const char *numkey)
{
	json_object *a = arr(r, h, k);

	for (size_t i = 0; i < len(a); i++) {
		json_object *e = elem(r, a, i, k, json_type_object, "an object");

		if (e)
			fprintf(out, " %s=%lld", str(r, e, "address") ?: "?", num(r, e, numkey));
	}
	fprintf(out, "%s\n", num(r, h, "addresses") > (long long)len(a) ? " ..." : "");
}

/* A number that JSON may carry as an integer or not; false when absent. */
static bool real(struct rd *r, json_object *o, const char *k, double *x)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !v)
		return false;
	if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int)) {
		mark(r, "\"%s\" is not a number", k);
		return false;
	}
	*x = json_object_get_double(v);
	return true;
}

/* The health of a checked list: its check, its counts, a line per address shown. */
static void render_health(struct rd *r, FILE *out, json_object *hl, long long n_addresses)
{
	json_object *addrs;
	const char *check;

	if (!hl)
		return;
	check = str(r, hl, "check") ?: "?";
	fprintf(out, "      health: %s", check);
	if (get(r, hl, "port", json_type_int, "an integer"))
		fprintf(out, " port %lld", num(r, hl, "port"));
	if (str(r, hl, "path"))
		fprintf(out, " %s", str(r, hl, "path"));
	if (str(r, hl, "file"))
		fprintf(out, " %s", str(r, hl, "file"));
	fprintf(out, ", every %g s, timeout %g s, rise %lld, fall %lld",
		num(r, hl, "interval_ms") / 1000.0, num(r, hl, "timeout_ms") / 1000.0,
		num(r, hl, "rise"), num(r, hl, "fall"));
	if (!boolean(r, hl, "checked")) {
		fprintf(out, ": not checked\n");
		return;
	}
	fprintf(out, ": %lld up, %lld down%s\n", num(r, hl, "up"), num(r, hl, "down"),
		num(r, hl, "up") ? ""
		: strcmp(str(r, hl, "all_down") ?: "", "none") == 0 ? " (all down: answering none)"
								    : " (all down: answering all)");
	addrs = arr(r, hl, "addresses");
	for (size_t i = 0; i < len(addrs); i++) {
		json_object *a = elem(r, addrs, i, "addresses", json_type_object, "an object");
		double load, next;

		if (!a)
			continue;
		fprintf(out, "        %-39s %-4s since ", str(r, a, "address") ?: "?",
			boolean(r, a, "up") ? "up" : "down");
		print_when(out, num(r, a, "since"));
		if (str(r, a, "last"))
			fprintf(out, ", last: %s (%.1f ms)", str(r, a, "last"),
				num(r, a, "latency_us") / 1000.0);
		else
			fprintf(out, ", not checked yet");
		if (real(r, a, "load", &load))
			fprintf(out, ", load %g", load);
		if (real(r, a, "next_check", &next)) {
			struct timespec now;

			clock_gettime(CLOCK_REALTIME, &now);
			next -= (double)now.tv_sec + now.tv_nsec / 1e9;
			fprintf(out, ", next check in %.1f s", next > 0 ? next : 0);
		}
		fputc('\n', out);
	}
	if ((long long)len(addrs) < n_addresses)
		fprintf(out, "        ... %lld more\n", n_addresses - (long long)len(addrs));
}

int render_handler(FILE *out, json_object *h, char why[RENDER_WHY_MAX])
{
	struct rd r = {.why = why};
	char policy[48], next[24] = "-", answers[24] = "-";
	const char *p, *serves;
	json_object *served;

	if (!json_object_is_type(h, json_type_object)) {
		mark(&r, "a handler is not an object");
		return finish(&r);
	}
	p = str(&r, h, "policy") ?: "round-robin";
	serves = str(&r, h, "serves");
	if (serves) { /* a kind that answers from the config */
		json_object *types = arr(&r, h, "types");
		char tlist[64] = "";

		for (size_t k = 0; k < len(types); k++) {
			json_object *t = elem(&r, types, k, "types", json_type_string, "a string");
			size_t l = strlen(tlist);

			snprintf(tlist + l, sizeof(tlist) - l, "%s%s", k ? "/" : "",
				 t ? json_object_get_string(t) : "?");
		}
		fprintf(out, "  %-32s %-4s %-15s %s\n", str(&r, h, "qname") ?: "?", tlist,
			str(&r, h, "kind") ?: "?", serves);
		return finish(&r);
	}
	/* "all" takes no count; a count of 1 is not shown */
	if (num(&r, h, "count") > 1 && strcmp(p, "all") != 0)
		snprintf(policy, sizeof(policy), "%.20s/%lld", p, num(&r, h, "count"));
	else
		snprintf(policy, sizeof(policy), "%.40s", p);
	if (get(&r, h, "next_index", json_type_int, "an integer")) {
		snprintf(next, sizeof(next), "%lld", num(&r, h, "next_index"));
		snprintf(answers, sizeof(answers), "%lld", num(&r, h, "answers"));
	}
	fprintf(out, "  %-32s %-4s %-15s %9lld %9s %-26s %10s  %s\n", str(&r, h, "qname") ?: "?",
		str(&r, h, "qtype") ?: "?", policy, num(&r, h, "addresses"), next,
		str(&r, h, "next_address") ?: "-", answers, str(&r, h, "file") ?: "-");
	if (str(&r, h, "view")) /* a view of the handler above */
		fprintf(out, "      view \"%s\": %lld inline prefixes%s%s\n", str(&r, h, "view"),
			num(&r, h, "inline_prefixes"),
			str(&r, h, "prefix_file") ? ", and those of " : "",
			str(&r, h, "prefix_file") ?: "");
	else if (get(&r, h, "views", json_type_int, "an integer"))
		fprintf(
		    out,
		    "      %lld view%s by the %s, %lld prefixes in all (other clients: this list)\n",
		    num(&r, h, "views"), num(&r, h, "views") == 1 ? "" : "s",
		    strcmp(str(&r, h, "match") ?: "", "resolver") == 0 ? "resolver's address"
								       : "client subnet",
		    num(&r, h, "prefixes"));
	if (str(&r, h, "views_error"))
		fprintf(out, "      prefixes: %s\n", str(&r, h, "views_error"));
	if (arr(&r, h, "weights")) {
		fprintf(out, "      weights: total %lld, %lld drained:", num(&r, h, "total_weight"),
			num(&r, h, "drained"));
		print_pairs(&r, out, h, "weights", "weight");
		if (!num(&r, h, "total_weight"))
			fprintf(
			    out,
			    "      every weight is 0: it answers no address, as a list that did not load\n");
	}
	served = arr(&r, h, "served");
	if (len(served)) {
		fprintf(out, "      served:");
		print_pairs(&r, out, h, "served", "served");
	}
	if (str(&r, h, "error"))
		fprintf(out, "      error: %s\n", str(&r, h, "error"));
	render_health(&r, out, get(&r, h, "health", json_type_object, "an object"),
		      num(&r, h, "addresses"));
	return finish(&r);
}

int render_status_end(FILE *err, int pid, json_object *end, long long *count, size_t *missing,
		      char why[RENDER_WHY_MAX])
{
	struct rd r = {.why = why};
	json_object *names = arr(&r, end, "missing");

	*count = num(&r, end, "count");
	*missing = len(names);
	for (size_t i = 0; i < len(names); i++) {
		json_object *n = elem(&r, names, i, "missing", json_type_string, "a string");

		if (n)
			fprintf(err, "pdynctl: pid %d: no handler named %s\n", pid,
				json_object_get_string(n));
	}
	return finish(&r);
}

int render_list(FILE *out, int pid, const char *socket, json_object *res, char why[RENDER_WHY_MAX])
{
	struct rd r = {.why = why};

	fprintf(out, "%-8d %-8s gen %-6lld %s\n", pid, str(&r, res, "zone") ?: "-",
		num(&r, res, "generation"), socket);
	return finish(&r);
}

/* Prints the strings of array k of o to err, one line each. */
static size_t print_lines(struct rd *r, FILE *err, int pid, json_object *o, const char *k)
{
	json_object *a = arr(r, o, k);

	for (size_t i = 0; i < len(a); i++) {
		json_object *e = elem(r, a, i, k, json_type_string, "a string");

		fprintf(err, "pdynctl: pid %d: %s\n", pid, e ? json_object_get_string(e) : "?");
	}
	return len(a);
}

int render_reload(FILE *out, FILE *err, int pid, json_object *res, int *problems,
		  char why[RENDER_WHY_MAX])
{
	struct rd r = {.why = why};

	fprintf(out, "pid %d: %s\n", pid, str(&r, res, "result") ?: "applied");
	/* what this reload found, as --check prints it; else what an earlier one found and the
	 * generation still has (a list kept after an error is reported once, when it happens) */
	*problems = print_lines(&r, err, pid, res, "messages") > 0;
	if (!*problems)
		*problems = print_lines(&r, err, pid, res, "errors") > 0;
	return finish(&r);
}

int render_query(FILE *out, int pid, json_object *res, char why[RENDER_WHY_MAX])
{
	struct rd r = {.why = why};
	json_object *as = arr(&r, res, "answers");

	fprintf(out, "pid %d: %s\n", pid, str(&r, res, "rcode") ?: "?");
	for (size_t i = 0; i < len(as); i++) {
		json_object *a = elem(&r, as, i, "answers", json_type_object, "an object");

		if (a)
			fprintf(out, "  %s\t%lld\tIN\t%s\t%s\n", str(&r, a, "name") ?: "?",
				num(&r, a, "ttl"), str(&r, a, "type") ?: "?",
				str(&r, a, "content") ?: "?");
	}
	return finish(&r);
}

int render_pid(json_object *res)
{
	json_object *v;
	long long p;

	if (!json_object_is_type(res, json_type_object) ||
	    !json_object_object_get_ex(res, "pid", &v) || !json_object_is_type(v, json_type_int))
		return 0;
	p = (long long)json_object_get_int64(v);
	return p > 0 && p <= 0x7fffffff ? (int)p : 0;
}

int render_health_handler(FILE *out, json_object *h, const char *type, bool *shown,
			  char why[RENDER_WHY_MAX])
{
	struct rd r = {.why = why};
	json_object *hl;
	const char *role;

	*shown = false;
	if (!json_object_is_type(h, json_type_object)) {
		mark(&r, "a handler is not an object");
		return finish(&r);
	}
	if (!json_object_object_get_ex(h, "health", &hl) ||
	    (type && strcasecmp(str(&r, h, "qtype") ?: "", type) != 0))
		return finish(&r);
	hl = get(&r, h, "health", json_type_object, "an object");
	if (!hl)
		return finish(&r);
	*shown = true;
	role = str(&r, hl, "role") ?: "?";
	fprintf(out, "  %s %s%s%s: ", str(&r, h, "qname") ?: "?", str(&r, h, "qtype") ?: "?",
		str(&r, h, "view") ? " view " : "", str(&r, h, "view") ?: "");
	if (!get(&r, hl, "prober", json_type_int, "an integer"))
		fprintf(out, "the prober is not known yet\n");
	else if (strcmp(role, "follower") == 0)
		fprintf(out, "checked by pid %lld, for every copy\n", num(&r, hl, "prober"));
	else if (strcmp(role, "elected") == 0)
		fprintf(out, "checked by this copy (pid %lld), for every copy\n",
			num(&r, hl, "prober"));
	else if (strcmp(role, "alone") == 0)
		fprintf(out,
			"checked by this copy (pid %lld) alone: the shared file cannot be used\n",
			num(&r, hl, "prober"));
	else
		fprintf(out, "checked by this process (pid %lld)\n", num(&r, hl, "prober"));
	render_health(&r, out, hl, num(&r, h, "addresses"));
	return finish(&r);
}
