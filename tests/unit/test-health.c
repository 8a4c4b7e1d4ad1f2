/* SPDX-License-Identifier: MIT */
/* Address health: the rise/fall state machine, answers from the up addresses only under
 * every policy (exact alternation of the up ones), all down, least-loaded and its two
 * choices, and the state carried over a reload. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "answer.h"
#include "fixture.h"
#include "health.h"

#define HEAD                                                                                                        \
	"{\"domain\": \"dyn.example.test\", \"soa\": \"ns1.example.test. h.example.test. 7 7200 3600 7200 120\",\n" \
	" \"nameservers\": [\"ns1.example.test\"], \"ttl\": 0, \"advance\": \"per-lookup\", \"handlers\": [\n"

struct fx {
	char dir[64];
	struct snapshot *snap;
	struct rotation rot;
	struct health health;
	struct answer_memo memo;
	struct buf out;
};

/* The snapshot of config text (files in the fixture's dir), its rotation and health. */
static void load(struct fx *f, const char *config)
{
	struct snapshot *old = f->snap;
	struct config *c = NULL;
	struct rotation rot = {0};
	char path[128];
	struct diag d;

	fixture_write(f->dir, "config.json", config);
	snprintf(path, sizeof(path), "%s/config.json", f->dir);
	diag_init(&d);
	if (config_load(path, &d, &c) != 0)
		fail_msg("%s", d.n_msgs ? d.msgs[0] : "?");
	assert_int_equal(snapshot_new(c, &(struct snapshot_opts){.prev = old}, &d, &f->snap), 0);
	assert_int_equal(d.n_errors, 0);
	diag_clear(&d);
	assert_int_equal(snapshot_rotation(f->snap, &f->rot, old ? old->n_handlers : 0, &rot, NULL),
			 0);
	rotation_done(&f->rot);
	f->rot = rot;
	assert_int_equal(health_follow(&f->health, old, f->snap, 100), 0);
	snapshot_free(old);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/pdyndns-health.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	fixture_write(f->dir, "four.txt", "192.0.2.1\n192.0.2.2\n192.0.2.3\n192.0.2.4\n");
	fixture_write(f->dir, "w.txt", "192.0.2.1 1\n192.0.2.2 1\n192.0.2.3 1\n");
	buf_init(&f->out);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	fixture_cleanup(f->dir);
	snapshot_free(f->snap);
	rotation_done(&f->rot);
	health_done(&f->health);
	buf_free(&f->out);
	free(f);
	return 0;
}

/* The last octets of the addresses of one ANY lookup of name, as "1 3". */
static const char *ask(struct fx *f, const char *name, bool peek)
{
	static char got[256];
	struct answer_ctx ctx = {.snap = f->snap,
				 .rot = &f->rot,
				 .health = &f->health,
				 .memo = &f->memo,
				 .abi = 1,
				 .peek = peek};
	char line[256];
	struct pp_msg m;
	const char *why, *p;
	size_t n = 0;
	int len = snprintf(line, sizeof(line), "Q\t%s\tIN\tANY\t1\t127.0.0.1", name);

	assert_int_equal(pp_parse(line, (size_t)len, 1, &m, &why), 0);
	buf_truncate(&f->out, 0);
	answer_query(&ctx, &m, &f->out);
	buf_putc(&f->out, 0);
	got[0] = 0;
	for (p = f->out.data; (p = strstr(p, "192.0.2.")); p += 8) {
		n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%c", n ? " " : "", p[8]);
	}
	return got;
}

/* The handler slot of the first handler named name. */
static struct health_slot *slot_of(struct fx *f, const char *name)
{
	for (size_t i = 0; i < f->snap->n_handlers; i++)
		if (strcmp(f->snap->handlers[i].cfg->qname, name) == 0)
			return &f->health.slots[i];
	fail_msg("no handler %s", name);
	return NULL;
}

/* Results for address i of slot s until its state is up (or down), then the update. */
static void set(struct health_slot *s, uint32_t i, bool up, bool ll, double load)
{
	struct health_result r = {
	    .ok = up, .reason = up ? "connected" : "refused", .has_load = load >= 0, .load = load};

	for (int k = 0; k < 3; k++)
		health_record(s, i, &r, 3, 3, 200);
	assert_int_equal(s->a[i].up, up);
	assert_int_equal(health_slot_update(s, ll), 0);
}

static void test_state_machine(void **state)
{
	struct health_addr a = {.up = true};

	(void)state;
	/* fall 3: two bad checks change nothing, a good one resets the count */
	assert_int_equal(health_step(&a, false, 2, 3), HEALTH_SAME);
	assert_int_equal(health_step(&a, false, 2, 3), HEALTH_SAME);
	assert_int_equal(health_step(&a, true, 2, 3), HEALTH_SAME);
	assert_int_equal(a.bad, 0);
	assert_int_equal(health_step(&a, false, 2, 3), HEALTH_SAME);
	assert_int_equal(health_step(&a, false, 2, 3), HEALTH_SAME);
	assert_true(a.up);
	assert_int_equal(health_step(&a, false, 2, 3), HEALTH_WENT_DOWN);
	assert_false(a.up);
	/* once down, more bad checks say nothing new */
	assert_int_equal(health_step(&a, false, 2, 3), HEALTH_SAME);
	/* rise 2: one good check is not enough, a bad one in between starts again */
	assert_int_equal(health_step(&a, true, 2, 3), HEALTH_SAME);
	assert_int_equal(health_step(&a, false, 2, 3), HEALTH_SAME);
	assert_int_equal(health_step(&a, true, 2, 3), HEALTH_SAME);
	assert_false(a.up);
	assert_int_equal(health_step(&a, true, 2, 3), HEALTH_CAME_UP);
	assert_true(a.up);
	assert_int_equal(health_step(&a, true, 2, 3), HEALTH_SAME);
	/* rise and fall 1: every check decides */
	assert_int_equal(health_step(&a, false, 1, 1), HEALTH_WENT_DOWN);
	assert_int_equal(health_step(&a, true, 1, 1), HEALTH_CAME_UP);
}

static void test_log_rate(void **state)
{
	struct health_addr a = {.log_window = INT64_MIN / 2};
	uint32_t quiet = 7;

	(void)state;
	/* four changes a minute are logged, the fourth saying it flaps; then quiet */
	assert_int_equal(health_log_change(&a, 1000, &quiet), HEALTH_LOG);
	assert_int_equal(quiet, 0);
	assert_int_equal(health_log_change(&a, 1001, &quiet), HEALTH_LOG);
	assert_int_equal(health_log_change(&a, 1002, &quiet), HEALTH_LOG);
	assert_int_equal(health_log_change(&a, 1003, &quiet), HEALTH_LOG_FLAPPING);
	assert_int_equal(health_log_change(&a, 1004, &quiet), HEALTH_LOG_QUIET);
	assert_int_equal(health_log_change(&a, 1059, &quiet), HEALTH_LOG_QUIET);
	/* a new window: logged again, with the count of those not logged */
	assert_int_equal(health_log_change(&a, 1060, &quiet), HEALTH_LOG);
	assert_int_equal(quiet, 2);
	assert_int_equal(health_log_change(&a, 1061, &quiet), HEALTH_LOG);
	assert_int_equal(quiet, 0);
}

static void test_record(void **state)
{
	struct health_slot s;
	struct health_result bad = {.ok = false, .latency_us = 7, .reason = "timed out"};

	(void)state;
	assert_int_equal(health_slot_init(&s, 3, 50), 0);
	assert_int_equal(s.n_up, 3);
	assert_int_equal(health_record(&s, 1, &bad, 2, 2, 60), HEALTH_SAME);
	assert_int_equal(s.n_down, 0);
	assert_int_equal(s.a[1].since, 50);
	assert_int_equal(health_record(&s, 1, &bad, 2, 2, 61), HEALTH_WENT_DOWN);
	assert_int_equal(s.n_down, 1);
	assert_int_equal(s.a[1].since, 61);
	assert_string_equal(s.a[1].reason, "timed out");
	assert_int_equal(s.a[1].latency_us, 7);
	assert_true(s.dirty);
	assert_int_equal(health_slot_update(&s, false), 0);
	assert_int_equal(s.n_up, 2);
	assert_int_equal(s.up[0], 0);
	assert_int_equal(s.up[1], 2);
	health_slot_clear(&s);
}

#define RR                                                                                         \
	"{\"qname\": \"rr.dyn.example.test\", \"qtype\": \"A\", \"file\": \"four.txt\", "          \
	"\"health\": {\"check\": \"tcp\", \"port\": 80}}"

static void test_round_robin(void **state)
{
	struct fx *f = *state;
	struct health_slot *s;

	load(f, HEAD RR "]}");
	s = slot_of(f, "rr.dyn.example.test");
	assert_string_equal(ask(f, "rr.dyn.example.test", false), "1");
	assert_string_equal(ask(f, "rr.dyn.example.test", false), "2");
	/* 2 goes down: the others alternate exactly (the count goes on: 2 % 3 up ones is the
	 * third, 4), 2 never comes */
	set(s, 1, false, false, -1);
	for (int round = 0; round < 3; round++) {
		assert_string_equal(ask(f, "rr.dyn.example.test", true), "4");
		assert_string_equal(ask(f, "rr.dyn.example.test", false), "4");
		assert_string_equal(ask(f, "rr.dyn.example.test", false), "1");
		assert_string_equal(ask(f, "rr.dyn.example.test", false), "3");
	}
	/* 4 too (count 11) */
	set(s, 3, false, false, -1);
	for (int round = 0; round < 3; round++) {
		assert_string_equal(ask(f, "rr.dyn.example.test", false), "3");
		assert_string_equal(ask(f, "rr.dyn.example.test", false), "1");
	}
	/* back (count 17): all four again */
	set(s, 1, true, false, -1);
	set(s, 3, true, false, -1);
	assert_int_equal(s->n_down, 0);
	assert_string_equal(ask(f, "rr.dyn.example.test", false), "2");
	assert_string_equal(ask(f, "rr.dyn.example.test", false), "3");
	assert_string_equal(ask(f, "rr.dyn.example.test", false), "4");
	assert_string_equal(ask(f, "rr.dyn.example.test", false), "1");
}

static void test_all_down(void **state)
{
	struct fx *f = *state;
	struct health_slot *s;

	load(f, HEAD RR
	     ",\n {\"qname\": \"none.dyn.example.test\", \"qtype\": \"A\", \"file\": \"four.txt\", "
	     "\"health\": {\"check\": \"tcp\", \"port\": 80, \"all_down\": \"none\"}}]}");
	for (uint32_t i = 0; i < 4; i++) {
		set(slot_of(f, "rr.dyn.example.test"), i, false, false, -1);
		set(slot_of(f, "none.dyn.example.test"), i, false, false, -1);
	}
	/* fail open: every address, in its rotation */
	s = slot_of(f, "rr.dyn.example.test");
	assert_int_equal(s->n_up, 0);
	assert_string_equal(ask(f, "rr.dyn.example.test", false), "1");
	assert_string_equal(ask(f, "rr.dyn.example.test", false), "2");
	assert_string_equal(ask(f, "rr.dyn.example.test", false), "3");
	/* or none at all */
	assert_string_equal(ask(f, "none.dyn.example.test", false), "");
	assert_string_equal(ask(f, "none.dyn.example.test", true), "");
	/* one back: only it */
	set(slot_of(f, "none.dyn.example.test"), 2, true, false, -1);
	assert_string_equal(ask(f, "none.dyn.example.test", false), "3");
	assert_string_equal(ask(f, "none.dyn.example.test", false), "3");
}

static void test_other_policies(void **state)
{
	struct fx *f = *state;
	char seen[8] = {0};

	load(
	    f, HEAD
	    "{\"qname\": \"rr2.dyn.example.test\", \"qtype\": \"A\", \"file\": \"four.txt\", \"count\": 2, "
	    "\"health\": {\"check\": \"tcp\", \"port\": 80}},\n"
	    "{\"qname\": \"rnd.dyn.example.test\", \"qtype\": \"A\", \"file\": \"four.txt\", \"policy\": \"random\", "
	    "\"health\": {\"check\": \"tcp\", \"port\": 80}},\n"
	    "{\"qname\": \"rnd2.dyn.example.test\", \"qtype\": \"A\", \"file\": \"four.txt\", \"policy\": \"random\", "
	    "\"count\": 2, \"health\": {\"check\": \"tcp\", \"port\": 80}},\n"
	    "{\"qname\": \"all.dyn.example.test\", \"qtype\": \"A\", \"file\": \"four.txt\", \"policy\": \"all\", "
	    "\"health\": {\"check\": \"tcp\", \"port\": 80}},\n"
	    "{\"qname\": \"w.dyn.example.test\", \"qtype\": \"A\", \"file\": \"w.txt\", \"policy\": \"weighted\", "
	    "\"health\": {\"check\": \"tcp\", \"port\": 80}}]}");
	set(slot_of(f, "rr2.dyn.example.test"), 1, false, false, -1);
	set(slot_of(f, "rnd.dyn.example.test"), 1, false, false, -1);
	set(slot_of(f, "rnd2.dyn.example.test"), 1, false, false, -1);
	set(slot_of(f, "all.dyn.example.test"), 1, false, false, -1);
	set(slot_of(f, "w.dyn.example.test"), 1, false, false, -1);
	/* round-robin, two at a time over the three up ones */
	assert_string_equal(ask(f, "rr2.dyn.example.test", false), "1 3");
	assert_string_equal(ask(f, "rr2.dyn.example.test", false), "4 1");
	assert_string_equal(ask(f, "rr2.dyn.example.test", false), "3 4");
	assert_string_equal(ask(f, "all.dyn.example.test", false), "1 3 4");
	for (int k = 0; k < 200; k++) {
		const char *a = ask(f, "rnd.dyn.example.test", false);

		assert_int_equal(strlen(a), 1);
		assert_int_not_equal(a[0], '2');
		seen[a[0] - '0'] = 1;
		a = ask(f, "rnd2.dyn.example.test", false);
		assert_int_equal(strlen(a), 3);
		assert_null(strchr(a, '2'));
		assert_int_not_equal(a[0], a[2]);
	}
	assert_true(seen[1] && seen[3] && seen[4]);
	/* weighted: 2's turns go to the others by their weights (equal here) */
	{
		int n[4] = {0};

		for (int k = 0; k < 600; k++) {
			const char *a = ask(f, "w.dyn.example.test", false);

			assert_int_equal(strlen(a), 1);
			n[a[0] - '0']++;
		}
		assert_int_equal(n[2], 0);
		assert_int_equal(n[1] + n[3], 600);
		assert_in_range(n[1], 240, 360);
	}
}

#define LL                                                                                                              \
	"{\"qname\": \"ll.dyn.example.test\", \"qtype\": \"A\", \"file\": \"four.txt\", \"policy\": \"least-loaded\", " \
	"\"health\": {\"check\": \"http\"}}"

static void test_least_loaded(void **state)
{
	struct fx *f = *state;
	struct health_slot *s;

	load(f, HEAD LL "]}");
	s = slot_of(f, "ll.dyn.example.test");
	/* no loads yet: every one counts as the highest, so all alternate */
	assert_int_equal(health_slot_update(s, true), 0);
	assert_string_equal(ask(f, "ll.dyn.example.test", false), "1");
	assert_string_equal(ask(f, "ll.dyn.example.test", false), "2");
	assert_string_equal(ask(f, "ll.dyn.example.test", false), "3");
	/* 2 and 3 equally loaded below the rest: they alternate exactly */
	set(s, 0, true, true, 5);
	set(s, 1, true, true, 0.5);
	set(s, 2, true, true, 0.5);
	{
		const char *first = ask(f, "ll.dyn.example.test", true);
		char want = first[0];

		assert_true(want == '2' || want == '3');
		for (int k = 0; k < 6; k++) {
			const char *a = ask(f, "ll.dyn.example.test", false);

			assert_int_equal(strlen(a), 1);
			assert_int_equal(a[0], want);
			want = want == '2' ? '3' : '2';
		}
	}
	/* an address without a load yet (4) counts as the highest, so 1 is next */
	set(s, 1, true, true, 7);
	set(s, 2, true, true, 8);
	assert_string_equal(ask(f, "ll.dyn.example.test", false), "1");
	assert_string_equal(ask(f, "ll.dyn.example.test", false), "1");
	/* the lowest down: the next lowest */
	set(s, 0, false, true, 5);
	assert_string_equal(ask(f, "ll.dyn.example.test", false), "2");
	assert_string_equal(ask(f, "ll.dyn.example.test", false), "2");
	/* count 2: the two lowest loads */
	load(f, HEAD
	     "{\"qname\": \"ll.dyn.example.test\", \"qtype\": \"A\", \"file\": \"four.txt\", "
	     "\"policy\": \"least-loaded\", \"count\": 2, \"health\": {\"check\": \"http\"}}]}");
	s = slot_of(f, "ll.dyn.example.test");
	assert_false(s->a[0].up); /* the list is the same: its state carried over */
	set(s, 3, true, true, 7.5);
	assert_string_equal(ask(f, "ll.dyn.example.test", false), "2 4");
	assert_string_equal(ask(f, "ll.dyn.example.test", false), "2 4");
}

static void test_two_choices(void **state)
{
	struct fx *f = *state;
	struct health_slot *s;
	int n[5] = {0};

	load(f, HEAD
	     "{\"qname\": \"ll.dyn.example.test\", \"qtype\": \"A\", \"file\": \"four.txt\", "
	     "\"policy\": \"least-loaded\", \"choices\": 2, \"health\": {\"check\": \"http\"}}]}");
	s = slot_of(f, "ll.dyn.example.test");
	set(s, 0, true, true, 1);
	set(s, 1, true, true, 2);
	set(s, 2, true, true, 3);
	set(s, 3, false, true, 0);
	/* the better of two distinct up ones: never the most loaded up one, never the down one,
	 * and the least loaded wins whenever it is drawn (two of three pairs) */
	for (int k = 0; k < 300; k++) {
		const char *a = ask(f, "ll.dyn.example.test", false);

		assert_int_equal(strlen(a), 1);
		n[a[0] - '0']++;
	}
	assert_int_equal(n[3], 0);
	assert_int_equal(n[4], 0);
	assert_true(n[1] > n[2]);
	assert_true(n[2] > 0);
}

static void test_follow(void **state)
{
	struct fx *f = *state;
	struct health_slot *s;

	load(f, HEAD RR "]}");
	s = slot_of(f, "rr.dyn.example.test");
	set(s, 1, false, false, -1);
	set(s, 3, false, false, -1);
	snprintf(s->a[2].reason, sizeof(s->a[2].reason), "kept");
	/* the list changes: .2 and .3 stay with their state, .1 and .4 go, .5 comes up */
	fixture_write(f->dir, "four.txt", "192.0.2.5\n192.0.2.3\n192.0.2.2\n");
	load(f, HEAD RR "]}");
	s = slot_of(f, "rr.dyn.example.test");
	assert_int_equal(s->n, 3);
	assert_true(s->a[0].up);
	assert_int_equal(s->a[0].since, 100);
	assert_true(s->a[1].up);
	assert_string_equal(s->a[1].reason, "kept");
	assert_false(s->a[2].up);
	assert_int_equal(s->a[2].since, 200);
	assert_int_equal(s->n_down, 1);
	assert_int_equal(health_slot_update(s, false), 0);
	assert_string_equal(ask(f, "rr.dyn.example.test", false), "5");
	assert_string_equal(ask(f, "rr.dyn.example.test", false), "3");
	assert_string_equal(ask(f, "rr.dyn.example.test", false), "5");
	/* without "health" there is no state at all, and every address is served */
	load(f, HEAD
	     "{\"qname\": \"rr.dyn.example.test\", \"qtype\": \"A\", \"file\": \"four.txt\"}]}");
	assert_int_equal(f->health.n, 0);
	assert_string_equal(ask(f, "rr.dyn.example.test", false), "5");
	assert_string_equal(ask(f, "rr.dyn.example.test", false), "3");
	assert_string_equal(ask(f, "rr.dyn.example.test", false), "2");
}

static void test_too_long(void **state)
{
	struct fx *f = *state;
	struct diag w;

	/* 131072 addresses: not checked, said when loaded, served as unchecked */
	fixture_write(f->dir, "big.txt", "10.0.0.0/15\n");
	load(f,
	     HEAD "{\"qname\": \"big.dyn.example.test\", \"qtype\": \"A\", \"file\": \"big.txt\", "
		  "\"health\": {\"check\": \"tcp\", \"port\": 80}}]}");
	assert_null(slot_of(f, "big.dyn.example.test")->a);
	diag_init(&w);
	snapshot_warnings(f->snap, &w);
	assert_int_equal(w.n_msgs, 1);
	assert_non_null(strstr(
	    w.msgs[0], "big.txt: warning: 131072 addresses, more than the 65536 health checks "
		       "take: big.dyn.example.test A serves them all unchecked"));
	diag_clear(&w);
}

static void test_body_load(void **state)
{
	double x = -1;

	(void)state;
	assert_true(health_body_load("12\n", 3, &x));
	assert_true(x == 12);
	assert_true(health_body_load("{\"load\": 0.75, \"n\": 3}", 23, &x));
	assert_true(x == 0.75);
	assert_true(health_body_load("load 3. ok", 10, &x));
	assert_true(x == 3);
	/* only the bytes given */
	assert_true(health_body_load("load 42", 6, &x));
	assert_true(x == 4);
	assert_false(health_body_load("OK\n", 3, &x));
	assert_false(health_body_load("", 0, &x));
}

static void test_state_file(void **state)
{
	struct fx *f = *state;
	const struct addrlist *l;
	struct health_verdict v[4];
	struct diag d;
	const char *good =
	    "# from the agent\n192.0.2.2 down\n\n  192.0.2.1\tup load 0.5\r\n192.0.2.4 up load 7\n";
	const char *bad =
	    "192.0.2.1 up\n192.0.2.9 down\n192.0.2.1 down\n2001:db8::1 up\n192.0.2.3 maybe\n"
	    "192.0.2.4 up load\n192.0.2.2 up load -1\n192.0.2.2 up load 1 more\n";

	load(f, HEAD RR "]}");
	l = f->snap->handlers[0].list;
	diag_init(&d);
	assert_int_equal(health_parse_state(good, strlen(good), l, "st.txt", &d, v), 0);
	assert_int_equal(d.n_msgs, 0);
	assert_int_equal(v[0].state, 1);
	assert_true(v[0].has_load && v[0].load == 0.5);
	assert_int_equal(v[1].state, 0);
	assert_false(v[1].has_load);
	assert_int_equal(v[2].state, -1); /* not named: no check */
	assert_int_equal(v[3].state, 1);
	assert_true(v[3].load == 7);
	/* every bad line is said, and nothing is taken */
	v[0].state = 9;
	assert_int_equal(health_parse_state(bad, strlen(bad), l, "st.txt", &d, v), -EINVAL);
	assert_int_equal(v[0].state, 9);
	assert_int_equal(d.n_msgs, 7);
	assert_string_equal(d.msgs[0], "st.txt:2: error: 192.0.2.9 is not an address of the list");
	assert_string_equal(d.msgs[1], "st.txt:3: error: 192.0.2.1 is already on line 1");
	assert_string_equal(d.msgs[2], "st.txt:4: error: \"2001:db8::1\" is not an IPv4 address");
	assert_string_equal(d.msgs[3], "st.txt:5: error: expected \"ADDRESS up|down [load N]\"");
	assert_string_equal(
	    d.msgs[4],
	    "st.txt:6: error: expected \"ADDRESS up|down [load N]\" (N a decimal number)");
	assert_string_equal(
	    d.msgs[5],
	    "st.txt:7: error: expected \"ADDRESS up|down [load N]\" (N a decimal number)");
	assert_string_equal(
	    d.msgs[6],
	    "st.txt:8: error: expected \"ADDRESS up|down [load N]\" (N a decimal number)");
	diag_clear(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_state_machine),
	    cmocka_unit_test(test_record),
	    cmocka_unit_test(test_log_rate),
	    cmocka_unit_test_setup_teardown(test_round_robin, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_all_down, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_policies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_least_loaded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_choices, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_follow, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_too_long, setup, teardown),
	    cmocka_unit_test(test_body_load),
	    cmocka_unit_test_setup_teardown(test_state_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
