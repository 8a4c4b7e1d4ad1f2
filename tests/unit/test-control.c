/* SPDX-License-Identifier: MIT */
/* The control server, driven over its real unix socket with the daemon's event loop run
 * by hand: status, query without side effects, reload answered when applied or refused,
 * bad and oversized requests, the socket's file-system rules, and the socket bound again
 * when its name or its directory is lost. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "control.h"
#include "ctlcmd.h"
#include "ctlproto.h"
#include "daemon.h"
#include "fixture.h"
#include "hub.h"
#include "session.h"

static char dir[40];
static char ctldir[80];
static char cfgpath[128];

static void write_file(const char *name, const char *text)
{
	fixture_write(dir, name, text);
}

static const char good_config[] =
    "{\"domain\": \"dyn.example.test\", \"soa\": \"ns1.example.test. h.example.test. 1 7200 3600 7200 120\",\n"
    " \"nameservers\": [\"ns1.example.test\"], \"ttl\": 60,\n"
    " \"handlers\": [{\"qname\": \"t1.dyn.example.test\", \"qtype\": \"A\", \"file\": \"v4.txt\"}]}\n";

static int setup(void **state)
{
	struct daemon *d = calloc(1, sizeof(*d));
	struct config *c = NULL;
	struct diag diag;

	strcpy(dir, "/tmp/pdyndns-test-control.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(ctldir, sizeof(ctldir), "%s/ctl", dir);
	snprintf(cfgpath, sizeof(cfgpath), "%s/config.json", dir);
	write_file("v4.txt", "192.0.2.1\n192.0.2.2\n192.0.2.3\n");
	write_file("config.json", good_config);
	diag_init(&diag);
	assert_int_equal(config_load(cfgpath, &diag, &c), 0);
	assert_int_equal(snapshot_new(c, NULL, &diag, &d->sv.snap), 0);
	diag_clear(&diag);
	assert_int_equal(rotation_resize(&d->sv.rot, d->sv.snap->n_handlers), 0);
	{
		struct metrics_slot *slots;

		assert_int_equal(
		    metrics_prepare(metrics_shape(&d->sv.metrics), d->sv.snap, NULL, 0, &slots), 0);
		metrics_carry(&d->sv.metrics, d->sv.snap, slots, NULL, 0);
	}
	d->sv.generation = 1;
	d->config_path = cfgpath;
	d->started = time(NULL);
	assert_int_equal(sd_event_new(&d->event), 0);
	assert_int_equal(hub_start(d), 0);
	/* the first reload (start: every file looked at again) is over before a test begins,
	 * or a file a test writes may be read by it and applied as a generation of its own */
	for (int i = 0; i < 3000 && !hub_idle(d); i++)
		sd_event_run(d->event, 10000);
	assert_true(hub_idle(d));
	d->control_dir = strdup(ctldir);
	d->control_dir_forced = true;
	assert_int_equal(control_new(d->event, ctldir, NULL, &ctlcmd_ops, d, &d->control), 0);
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	struct daemon *d = *state;
	char cmd[256];

	d->control = control_free(d->control);
	hub_stop(d);
	sd_event_unref(d->event);
	snapshot_free(d->sv.snap);
	rotation_done(&d->sv.rot);
	metrics_done(&d->sv.metrics);
	free(d->control_dir);
	free(d->last_reload_result);
	free(d->config_error);
	free(d);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static int connect_ctl(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/pdyndns.%d.sock", ctldir, (int)getpid());
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Sends data and runs the loop until the server closes the connection; returns what it
 * sent back (malloc'd). */
static char *exchange(struct daemon *d, const char *data, size_t len)
{
	size_t cap = 64 << 20, got = 0, sent = 0;
	char *out = malloc(cap);
	int fd = connect_ctl();

	for (int i = 0; i < 20000; i++) {
		ssize_t n;

		if (sent < len) {
			n = send(fd, data + sent, len - sent, MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
		}
		sd_event_run(d->event, 5000);
		n = recv(fd, out + got, cap - got - 1, 0);
		if (n == 0)
			break;
		if (n > 0)
			got += (size_t)n;
	}
	close(fd);
	out[got] = 0;
	return out;
}

static json_object *ok_result(char *reply)
{
	json_object *res = NULL;
	char *err = NULL;
	bool ok = false;

	assert_int_equal(ctl_response_decode(reply, strlen(reply) - 1, &ok, &res, &err, NULL), 0);
	if (!ok)
		fail_msg("error reply: %s", err);
	free(reply);
	return res;
}

/* A streamed status: the header line's result, with the items in "handlers" and the end's
 * members added as "end" (every line checked). */
static json_object *status_result(char *reply)
{
	json_object *res = NULL, *hs = json_object_new_array(), *item, *end = NULL;
	char *err = NULL, *p = reply, *nl = strchr(p, '\n');
	bool ok = false, stream = false;

	assert_non_null(nl);
	assert_int_equal(ctl_response_decode(p, (size_t)(nl - p), &ok, &res, &err, &stream), 0);
	if (!ok)
		fail_msg("error reply: %s", err);
	assert_true(stream);
	for (p = nl + 1; !end; p = nl + 1) {
		nl = strchr(p, '\n');
		assert_non_null(nl); /* every line complete, the end line last */
		assert_int_equal(ctl_stream_decode(p, (size_t)(nl - p), &item, &end, &err), 0);
		if (err)
			fail_msg("stream error: %s", err);
		if (item)
			json_object_array_add(hs, item);
	}
	assert_string_equal(p, "");
	assert_int_equal(json_object_get_int(json_object_object_get(end, "count")),
			 json_object_array_length(hs));
	json_object_object_add(res, "handlers", hs);
	json_object_object_add(res, "end", end);
	free(reply);
	return res;
}

static void test_status(void **state)
{
	struct daemon *d = *state;
	json_object *r, *h;

	d->sv.rot.next[0] = 4; /* four answers so far: next is #1 */
	r = status_result(exchange(d, "{\"v\":1,\"cmd\":\"status\"}\n", 23));
	assert_int_equal(json_object_get_int(json_object_object_get(r, "pid")), getpid());
	assert_int_equal(json_object_get_int(json_object_object_get(r, "generation")), 1);
	assert_int_equal(json_object_get_int(json_object_object_get(r, "n_handlers")), 1);
	assert_int_equal(json_object_get_int(json_object_object_get(r, "n_addresses")), 3);
	assert_string_equal(json_object_get_string(json_object_object_get(r, "zone")),
			    "dyn.example.test");
	h = json_object_array_get_idx(json_object_object_get(r, "handlers"), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(h, "qname")),
			    "t1.dyn.example.test");
	assert_int_equal(json_object_get_int(json_object_object_get(h, "addresses")), 3);
	assert_int_equal(json_object_get_int(json_object_object_get(h, "next_index")), 1);
	assert_string_equal(json_object_get_string(json_object_object_get(h, "next_address")),
			    "192.0.2.2");
	assert_int_equal(json_object_get_int(json_object_object_get(h, "answers")), 4);
	/* 4 answers over 3 addresses: 2, 1, 1 */
	assert_int_equal(
	    json_object_get_int(json_object_object_get(
		json_object_array_get_idx(json_object_object_get(h, "served"), 0), "served")),
	    2);
	assert_int_equal(
	    json_object_get_int(json_object_object_get(
		json_object_array_get_idx(json_object_object_get(h, "served"), 2), "served")),
	    1);
	json_object_put(r);
}

static void test_query_has_no_side_effects(void **state)
{
	struct daemon *d = *state;
	const char req[] =
	    "{\"v\":1,\"cmd\":\"query\",\"name\":\"T1.dyn.example.test\",\"type\":\"A\"}\n";
	json_object *r, *a;

	for (int i = 0; i < 3; i++) {
		r = ok_result(exchange(d, req, strlen(req)));
		assert_string_equal(json_object_get_string(json_object_object_get(r, "rcode")),
				    "NOERROR");
		a = json_object_array_get_idx(json_object_object_get(r, "answers"), 0);
		assert_string_equal(json_object_get_string(json_object_object_get(a, "content")),
				    "192.0.2.1");
		assert_string_equal(json_object_get_string(json_object_object_get(a, "name")),
				    "T1.dyn.example.test");
		json_object_put(r);
	}
	assert_int_equal(d->sv.rot.next[0], 0);

	r = ok_result(exchange(
	    d, "{\"v\":1,\"cmd\":\"query\",\"name\":\"x.dyn.example.test\",\"type\":\"A\"}\n", 62));
	assert_string_equal(json_object_get_string(json_object_object_get(r, "rcode")), "NXDOMAIN");
	json_object_put(r);
	r = ok_result(exchange(
	    d, "{\"v\":1,\"cmd\":\"query\",\"name\":\"dyn.example.test\",\"type\":\"A\"}\n", 60));
	assert_string_equal(json_object_get_string(json_object_object_get(r, "rcode")), "NODATA");
	json_object_put(r);
	r = ok_result(exchange(
	    d, "{\"v\":1,\"cmd\":\"query\",\"name\":\"other.test\",\"type\":\"A\"}\n", 54));
	assert_string_equal(json_object_get_string(json_object_object_get(r, "rcode")), "REFUSED");
	json_object_put(r);
}

static void test_reload_applied_then_refused(void **state)
{
	struct daemon *d = *state;
	const char req[] = "{\"v\":1,\"cmd\":\"reload\"}\n";
	uint64_t applied;
	json_object *r;
	char *reply;

	write_file("v4.txt", "192.0.2.9\n");
	/* The watch sees the file too: its reload may come first (3 ms after the event), and the
	 * pdynctl reload then applies a generation of its own. Either way the reply names the
	 * generation that serves the new file. */
	r = ok_result(exchange(d, req, strlen(req)));
	assert_int_equal(json_object_get_int(json_object_object_get(r, "generation")),
			 d->sv.generation);
	assert_in_range(d->sv.generation, 2, 3);
	{
		char want[64];

		snprintf(want, sizeof(want), "generation %llu applied",
			 (unsigned long long)d->sv.generation);
		assert_non_null(
		    strstr(json_object_get_string(json_object_object_get(r, "result")), want));
	}
	json_object_put(r);
	assert_non_null(d->sv.snap->handlers[0].list);
	assert_int_equal(d->sv.snap->handlers[0].list->n, 1);
	applied = d->sv.generation;

	write_file("config.json", "{\"domain\": 5}\n");
	reply = exchange(d, req, strlen(req));
	assert_non_null(strstr(reply, "\"ok\":false"));
	assert_non_null(strstr(reply, "/domain: expected a string, got an integer"));
	free(reply);
	assert_int_equal(d->sv.generation, applied); /* kept */
	write_file("config.json", good_config);
}

static void test_bad_requests(void **state)
{
	struct daemon *d = *state;
	size_t n = CTL_MAX_LINE + 100;
	char *big = malloc(n), *reply;

	reply = exchange(d, "hello\n", 6);
	assert_string_equal(reply, "{\"v\":1,\"ok\":false,\"error\":\"not valid JSON\"}\n");
	free(reply);
	memset(big, 'x', n);
	reply = exchange(d, big, n);
	assert_string_equal(reply, "{\"v\":1,\"ok\":false,\"error\":\"request too long\"}\n");
	free(reply);
	free(big);
	/* still serving */
	reply = exchange(d, "{\"v\":1,\"cmd\":\"status\"}\n", 23);
	assert_non_null(strstr(reply, "\"ok\":true"));
	free(reply);
}

/* n handlers t0..t(n-1), each in a file of its own with 10 addresses, or bad ones */
static void write_many(struct daemon *d, size_t n, bool bad)
{
	size_t cap = n * 100 + 1024, len = 0;
	char *cfg = malloc(cap);

	len += (size_t)snprintf(
	    cfg + len, cap - len,
	    "{\"domain\": \"dyn.example.test\", \"soa\": \"ns1.example.test. h.example.test. 1 7200 "
	    "3600 7200 120\",\n \"nameservers\": [\"ns1.example.test\"], \"ttl\": 60,\n \"handlers\": [");
	for (size_t i = 0; i < n; i++)
		len +=
		    (size_t)snprintf(cfg + len, cap - len,
				     "%s{\"qname\": \"t%zu.dyn.example.test\", \"qtype\": \"A\", "
				     "\"file\": \"%s.txt\"}",
				     i ? ",\n" : "", i, bad ? "bad" : "ten");
	snprintf(cfg + len, cap - len, "]}\n");
	write_file("ten.txt",
		   "192.0.2.1\n192.0.2.2\n192.0.2.3\n192.0.2.4\n192.0.2.5\n192.0.2.6\n192.0.2.7\n"
		   "192.0.2.8\n192.0.2.9\n192.0.2.10\n");
	write_file("bad.txt", "192.0.2.1\nnot an address\n");
	write_file("config.json", cfg);
	free(cfg);
}

/* Runs the loop until the reload of generation gen has been applied. */
static void wait_generation(struct daemon *d, uint64_t gen)
{
	for (int i = 0; i < 3000 && d->sv.generation < gen; i++)
		sd_event_run(d->event, 10000);
	assert_int_equal(d->sv.generation, gen);
}

static void test_status_stream(void **state)
{
	struct daemon *d = *state;
	const char req[] = "{\"v\":1,\"cmd\":\"reload\"}\n";
	const char filter[] =
	    "{\"v\":1,\"cmd\":\"status\",\"names\":[\"T7.dyn.example.test.\",\"t3999.dyn."
	    "example.test\",\"nope.dyn.example.test\",\"t7.dyn.example.test\",\"-\"]}\n";
	json_object *r, *hs;
	char *reply;

	/* 4,000 handlers: a status many times the socket buffer, built in slices as the
	 * client reads */
	write_many(d, 4000, false);
	json_object_put(ok_result(exchange(d, req, strlen(req))));
	assert_int_equal(d->sv.snap->n_handlers, 4000);
	d->sv.rot.next[5] = 7;
	reply = exchange(d, "{\"v\":1,\"cmd\":\"status\"}\n", 23);
	assert_true(strlen(reply) > 4 * 212992);
	r = status_result(reply);
	hs = json_object_object_get(r, "handlers");
	assert_int_equal(json_object_array_length(hs), 4000);
	for (size_t i = 0; i < 4000; i++) {
		json_object *h = json_object_array_get_idx(hs, i);

		assert_int_equal(json_object_get_int(json_object_object_get(h, "addresses")), 10);
		assert_string_equal(json_object_get_string(json_object_object_get(h, "qname")),
				    d->sv.snap->handlers[i].cfg->qname);
	}
	assert_int_equal(json_object_get_int(
			     json_object_object_get(json_object_array_get_idx(hs, 5), "answers")),
			 7);
	json_object_put(r);

	/* only the names asked for, each once, case and a trailing dot aside; the others said */
	r = status_result(exchange(d, filter, strlen(filter)));
	hs = json_object_object_get(r, "handlers");
	assert_int_equal(json_object_array_length(hs), 2);
	{
		const char *a = json_object_get_string(
		    json_object_object_get(json_object_array_get_idx(hs, 0), "qname"));
		const char *b = json_object_get_string(
		    json_object_object_get(json_object_array_get_idx(hs, 1), "qname"));

		assert_true(
		    (!strcmp(a, "t7.dyn.example.test") && !strcmp(b, "t3999.dyn.example.test")) ||
		    (!strcmp(b, "t7.dyn.example.test") && !strcmp(a, "t3999.dyn.example.test")));
	}
	{
		json_object *missing =
		    json_object_object_get(json_object_object_get(r, "end"), "missing");
		char *names =
		    strdup(json_object_to_json_string_ext(missing, JSON_C_TO_STRING_PLAIN));

		assert_string_equal(names, "[\"nope.dyn.example.test\",\"-\"]");
		free(names);
	}
	json_object_put(r);

	/* the summary: the header only, one line */
	r = ok_result(exchange(d, "{\"v\":1,\"cmd\":\"status\",\"summary\":true}\n", 39));
	assert_int_equal(json_object_get_int(json_object_object_get(r, "n_handlers")), 4000);
	assert_int_equal(json_object_get_int(json_object_object_get(r, "n_addresses")), 40000);
	assert_null(json_object_object_get(r, "handlers"));
	json_object_put(r);
}

/* metrics: streamed like a status, a line per address-list handler with its counters (carried
 * over the reloads that leave its list alone), the header with the reloads by result. */
static void test_metrics_stream(void **state)
{
	struct daemon *d = *state;
	const char req[] = "{\"v\":1,\"cmd\":\"reload\"}\n",
		   metrics[] = "{\"v\":1,\"cmd\":\"metrics\"}\n";
	json_object *r, *hs, *h, *x;
	char *reply;

	write_many(d, 4000, false);
	json_object_put(ok_result(exchange(d, req, strlen(req))));
	assert_int_equal(d->sv.metrics.n, 4000);
	d->sv.metrics.slot[5].answers = 9;
	d->sv.metrics.slot[5].served[1] = 4;
	reply = exchange(d, metrics, strlen(metrics));
	assert_true(strlen(reply) > 4 * 212992); /* built in slices as the client reads */
	r = status_result(reply);
	assert_int_equal(json_object_get_int(json_object_object_get(r, "generation")), 2);
	x = json_object_object_get(r, "reloads");
	/* (the first reload of setup() may have applied something too) */
	assert_int_equal(json_object_get_int(json_object_object_get(x, "applied")),
			 d->sv.metrics.reloads[METRICS_RELOAD_APPLIED]);
	assert_true(d->sv.metrics.reloads[METRICS_RELOAD_APPLIED] >= 1);
	assert_int_equal(json_object_get_int(json_object_object_get(x, "refused")), 0);
	assert_true(json_object_get_boolean(
	    json_object_object_get(json_object_object_get(r, "last_reload"), "ok")));
	hs = json_object_object_get(r, "handlers");
	assert_int_equal(json_object_array_length(hs), 4000);
	h = json_object_array_get_idx(hs, 5);
	assert_string_equal(json_object_get_string(json_object_object_get(h, "name")),
			    d->sv.snap->handlers[5].cfg->qname);
	assert_int_equal(json_object_get_int(json_object_object_get(h, "answers")), 9);
	x = json_object_object_get(h, "served");
	assert_int_equal(json_object_array_length(x), 10);
	assert_string_equal(json_object_get_string(
				json_object_object_get(json_object_array_get_idx(x, 1), "address")),
			    "192.0.2.2");
	assert_int_equal(
	    json_object_get_int(json_object_object_get(json_object_array_get_idx(x, 1), "answers")),
	    4);
	json_object_put(r);

	/* a refused reload: counted, and the counters stay */
	write_file("config.json", "{\"domain\": 5}\n");
	free(exchange(d, req, strlen(req)));
	r = status_result(exchange(d, metrics, strlen(metrics)));
	x = json_object_object_get(r, "reloads");
	assert_int_equal(json_object_get_int(json_object_object_get(x, "refused")), 1);
	assert_false(json_object_get_boolean(
	    json_object_object_get(json_object_object_get(r, "last_reload"), "ok")));
	assert_true(json_object_get_boolean(json_object_object_get(r, "config_error")));
	h = json_object_array_get_idx(json_object_object_get(r, "handlers"), 5);
	assert_int_equal(json_object_get_int(json_object_object_get(h, "answers")), 9);
	json_object_put(r);
	write_file("config.json", good_config);
}

/* A status that a reload interrupts ends with an error, never with handlers of two
 * generations. */
static void test_status_interrupted(void **state)
{
	struct daemon *d = *state;
	char buf[65536], *err = NULL, *last = NULL;
	size_t got = 0, cap = 64 << 20;
	char *all = malloc(cap);
	int fd;
	json_object *item, *end;

	write_many(d, 4000, false);
	{
		char *reply = exchange(d, "{\"v\":1,\"cmd\":\"reload\"}\n", 23);

		free(reply);
	}
	fd = connect_ctl();
	assert_int_equal(send(fd, "{\"v\":1,\"cmd\":\"status\"}\n", 23, 0), 23);
	for (int i = 0; i < 20;
	     i++) /* the header and some handlers; the client reads nothing yet */
		sd_event_run(d->event, 1000);
	(void)hub_reload(d, RELOAD_FULL, "test");
	wait_generation(d, 3);
	for (int i = 0; i < 5000; i++) {
		ssize_t n;

		sd_event_run(d->event, 1000);
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0)
			break;
		if (n > 0) {
			assert_true(got + (size_t)n < cap);
			memcpy(all + got, buf, (size_t)n);
			got += (size_t)n;
		}
	}
	close(fd);
	all[got] = 0;
	assert_true(got > 0 && all[got - 1] == '\n');
	all[got - 1] = 0;
	last = strrchr(all, '\n') + 1;
	assert_int_equal(ctl_stream_decode(last, strlen(last), &item, &end, &err), 0);
	assert_non_null(err);
	assert_non_null(strstr(err, "a reload applied a new generation during the status"));
	free(err);
	free(all);
}

/* A client that shuts its side after the request still gets the reply. */
static void test_half_close(void **state)
{
	struct daemon *d = *state;
	const char *reqs[] = {"{\"v\":1,\"cmd\":\"reload\"}\n", "{\"v\":1,\"cmd\":\"status\"}\n"};

	for (size_t k = 0; k < 2; k++) {
		char buf[65536];
		size_t got = 0;
		int fd = connect_ctl();

		assert_int_equal(send(fd, reqs[k], strlen(reqs[k]), 0), (ssize_t)strlen(reqs[k]));
		assert_int_equal(shutdown(fd, SHUT_WR), 0);
		for (int i = 0; i < 3000; i++) {
			ssize_t n;

			sd_event_run(d->event, 1000);
			n = recv(fd, buf + got, sizeof(buf) - got - 1, MSG_DONTWAIT);
			if (n == 0)
				break;
			if (n > 0)
				got += (size_t)n;
		}
		close(fd);
		buf[got] = 0;
		assert_non_null(strstr(buf, "\"ok\":true"));
		assert_int_equal(buf[got - 1], '\n');
	}
}

/* A client still taking a long reload reply is not sent the next reload's reply too. */
static void test_reload_replies_not_mixed(void **state)
{
	struct daemon *d = *state;
	const char req[] = "{\"v\":1,\"cmd\":\"reload\"}\n";
	size_t cap = 16 << 20, got = 0;
	char *all = malloc(cap), *reply;
	json_object *r;
	int slow;

	/* 3,000 handlers with a bad file: a reply of 3,000 errors, beyond the socket buffer */
	write_many(d, 3000, true);
	slow = connect_ctl();
	assert_int_equal(send(slow, req, strlen(req), 0), (ssize_t)strlen(req));
	wait_generation(d, 2);
	for (int i = 0; i < 10; i++)
		sd_event_run(d->event, 1000);
	/* another client's reload while the first reply still waits to be read */
	reply = exchange(d, req, strlen(req));
	r = ok_result(reply);
	assert_int_equal(json_object_get_int(json_object_object_get(r, "generation")), 3);
	json_object_put(r);
	for (int i = 0; i < 3000; i++) {
		ssize_t n;

		sd_event_run(d->event, 1000);
		n = recv(slow, all + got, cap - got - 1, MSG_DONTWAIT);
		if (n == 0)
			break;
		if (n > 0)
			got += (size_t)n;
	}
	close(slow);
	all[got] = 0;
	assert_ptr_equal(strchr(all, '\n'), all + got - 1); /* one line */
	r = ok_result(all);
	assert_int_equal(json_object_get_int(json_object_object_get(r, "generation")), 2);
	assert_int_equal(json_object_array_length(json_object_object_get(r, "errors")), 3000);
	json_object_put(r);
}

static void test_idle_and_too_many_clients(void **state)
{
	struct daemon *d = *state;
	int fds[CONTROL_MAX_CLIENTS + 3], idle;
	char buf[256];
	ssize_t n = -1;

	/* a client that sends nothing is dropped after the timeout */
	idle = connect_ctl();
	/* up to 7 s by the clock: events on the watched way (/tmp) end an iteration early */
	for (uint64_t until = mono_usec() + 7000000; mono_usec() < until && n != 0;) {
		sd_event_run(d->event, 10000);
		n = recv(idle, buf, sizeof(buf), MSG_DONTWAIT);
	}
	assert_int_equal(n, 0);
	close(idle);

	/* beyond the cap, a client is told so and closed */
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS + 3; i++) {
		fds[i] = connect_ctl();
		sd_event_run(d->event, 1000);
	}
	for (int i = 0; i < 50; i++)
		sd_event_run(d->event, 1000);
	n = recv(fds[CONTROL_MAX_CLIENTS + 2], buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	buf[n] = 0;
	assert_string_equal(buf, "{\"v\":1,\"ok\":false,\"error\":\"too many clients\"}\n");
	n = recv(fds[0], buf, sizeof(buf),
		 MSG_DONTWAIT); /* the first ones are still being served */
	assert_int_equal(n, -1);
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS + 3; i++)
		close(fds[i]);
}

static void test_socket_files(void **state)
{
	struct daemon *d = *state;
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/pdyndns.%d.sock", ctldir, (int)getpid());
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);
	assert_int_equal(lstat(ctldir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0750);

	/* our own socket left behind (same pid): replaced */
	d->control = control_free(d->control);
	assert_int_equal(lstat(path, &st), -1); /* removed at a clean stop */
	assert_int_equal(mknod(path, S_IFSOCK | 0600, 0), 0);
	assert_int_equal(control_new(d->event, ctldir, NULL, &ctlcmd_ops, d, &d->control), 0);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);

	/* something else at our path: never touched */
	d->control = control_free(d->control);
	{
		int fd = open(path, O_CREAT | O_WRONLY, 0600);

		assert_true(fd >= 0);
		close(fd);
	}
	assert_int_equal(control_new(d->event, ctldir, NULL, &ctlcmd_ops, d, &d->control), -EEXIST);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	unlink(path);

	/* a symlink as the directory: not followed */
	{
		char link[256];

		snprintf(link, sizeof(link), "%s/linkdir", dir);
		assert_int_equal(symlink(ctldir, link), 0);
		assert_int_equal(control_new(d->event, link, NULL, &ctlcmd_ops, d, &d->control),
				 -ENOTDIR);
	}
	/* a stale socket of a dead copy is swept */
	{
		char stale[256];

		snprintf(stale, sizeof(stale), "%s/pdyndns.%d.sock", ctldir, 999999);
		assert_int_equal(mknod(stale, S_IFSOCK | 0600, 0), 0);
		assert_int_equal(control_new(d->event, ctldir, NULL, &ctlcmd_ops, d, &d->control),
				 0);
		assert_int_equal(lstat(stale, &st), -1);
	}
}

static bool is_socket(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* Runs the loop for usec by the clock (events on the watched way end iterations early). */
static void run_for(struct daemon *d, uint64_t usec)
{
	for (uint64_t until = mono_usec() + usec; mono_usec() < until;)
		sd_event_run(d->event, 50000);
}

/* Runs the loop until path is a socket other than inode ino, at most three checks long. */
static bool run_until_bound(struct daemon *d, const char *path, ino_t ino)
{
	struct stat st;

	for (uint64_t until = mono_usec() + 3 * CONTROL_CHECK_USEC; mono_usec() < until;) {
		if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino != ino)
			return true;
		sd_event_run(d->event, 50000);
	}
	return false;
}

static void create_file(const char *path)
{
	int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);

	assert_true(fd >= 0);
	close(fd);
}

/* The socket's name lost under the running copy: bound again, answering, by the same rules
 * as at start; a file that is not a socket is never touched, also at the end. */
static void test_socket_comes_back(void **state)
{
	struct daemon *d = *state;
	char path[256], other[256], cmd[300];
	struct stat st;

	snprintf(path, sizeof(path), "%s/pdyndns.%d.sock", ctldir, (int)getpid());
	snprintf(other, sizeof(other), "%s/other", ctldir);

	/* removed */
	assert_int_equal(unlink(path), 0);
	assert_true(run_until_bound(d, path, 0));
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);
	json_object_put(status_result(exchange(d, "{\"v\":1,\"cmd\":\"status\"}\n", 23)));

	/* the directory removed: made again as at start */
	snprintf(cmd, sizeof(cmd), "rm -rf %s", ctldir);
	assert_int_equal(system(cmd), 0);
	assert_true(run_until_bound(d, path, 0));
	assert_int_equal(lstat(ctldir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0750);
	json_object_put(status_result(exchange(d, "{\"v\":1,\"cmd\":\"status\"}\n", 23)));

	/* another socket renamed over it: ours bound again in its place */
	assert_int_equal(mknod(other, S_IFSOCK | 0600, 0), 0);
	assert_int_equal(lstat(other, &st), 0);
	assert_int_equal(rename(other, path), 0);
	assert_true(run_until_bound(d, path, st.st_ino));
	json_object_put(status_result(exchange(d, "{\"v\":1,\"cmd\":\"status\"}\n", 23)));

	/* a file that is not a socket: left alone, bound again once it is gone */
	assert_int_equal(unlink(path), 0);
	create_file(path);
	run_for(d, 2 * CONTROL_CHECK_USEC + 500000);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(unlink(path), 0);
	assert_true(run_until_bound(d, path, 0));
	json_object_put(status_result(exchange(d, "{\"v\":1,\"cmd\":\"status\"}\n", 23)));

	/* a file put in its place is not removed when the copy stops */
	assert_int_equal(unlink(path), 0);
	create_file(path);
	d->control = control_free(d->control);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_false(is_socket(path));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_status, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_query_has_no_side_effects, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload_applied_then_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_idle_and_too_many_clients, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_socket_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_socket_comes_back, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status_stream, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_metrics_stream, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status_interrupted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_half_close, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload_replies_not_mixed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
