/* SPDX-License-Identifier: MIT */
/* Answers from a snapshot, exactly as PowerDNS must read them, and exact rotation under
 * the lookup sequences PowerDNS 4.7.3 really sends (shared/pipe-protocol.md §5, §11). */
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

struct fx {
	char dir[64];
	struct snapshot *snap;
	struct rotation rot;
	struct answer_memo memo;
	struct buf out;
	int abi;
	struct metrics *metrics;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->snap = fixture_zone(f->dir);
	assert_int_equal(rotation_resize(&f->rot, f->snap->n_handlers), 0);
	buf_init(&f->out);
	f->abi = 1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	fixture_cleanup(f->dir);
	snapshot_free(f->snap);
	rotation_done(&f->rot);
	buf_free(&f->out);
	free(f);
	return 0;
}

/* Sends one lookup "NAME TYPE" (a Q line of the fixture's ABI) and returns the answer. */
static const char *ask(struct fx *f, const char *name, const char *type)
{
	struct answer_ctx ctx = {.snap = f->snap,
				 .rot = &f->rot,
				 .memo = &f->memo,
				 .abi = f->abi,
				 .metrics = f->metrics};
	char line[512];
	struct pp_msg m;
	const char *why;
	int len;

	len = snprintf(line, sizeof(line), "Q\t%s\tIN\t%s\t%s\t127.0.0.1%s", name, type,
		       strcmp(type, "SOA") == 0 ? "-1" : "1",
		       f->abi == 1   ? ""
		       : f->abi == 2 ? "\t127.0.0.1"
				     : "\t127.0.0.1\t127.0.0.1/32");
	assert_int_equal(pp_parse(line, (size_t)len, f->abi, &m, &why), 0);
	buf_truncate(&f->out, 0);
	answer_query(&ctx, &m, &f->out);
	buf_putc(&f->out, 0);
	return f->out.data;
}

static void test_soa_only_at_apex(void **state)
{
	struct fx *f = *state;

	assert_string_equal(
	    ask(f, "Dyn.Example.Test", "SOA"),
	    "DATA\tDyn.Example.Test\tIN\tSOA\t3600\t1\tns1.example.test. h.example.test. 7 7200 3600 7200 120\nEND\n");
	assert_string_equal(ask(f, "t1.dyn.example.test", "SOA"), "END\n");
	assert_string_equal(ask(f, "example.test", "SOA"), "END\n");
	assert_string_equal(ask(f, ".", "SOA"), "END\n");
	f->abi = 3;
	assert_string_equal(
	    ask(f, "dyn.example.test", "SOA"),
	    "DATA\t0\t1\tdyn.example.test\tIN\tSOA\t3600\t1\tns1.example.test. h.example.test. 7 7200 3600 7200 120\nEND\n");
}

static void test_apex_any_and_ns(void **state)
{
	struct fx *f = *state;

	assert_string_equal(
	    ask(f, "dyn.example.test", "ANY"),
	    "DATA\tdyn.example.test\tIN\tSOA\t3600\t1\tns1.example.test. h.example.test. 7 7200 3600 7200 120\n"
	    "DATA\tdyn.example.test\tIN\tNS\t3600\t1\tns1.example.test.\n"
	    "DATA\tdyn.example.test\tIN\tNS\t3600\t1\tns2.example.test.\n"
	    "END\n");
	assert_string_equal(ask(f, "dyn.example.test", "NS"),
			    "DATA\tdyn.example.test\tIN\tNS\t3600\t1\tns1.example.test.\n"
			    "DATA\tdyn.example.test\tIN\tNS\t3600\t1\tns2.example.test.\nEND\n");
	assert_string_equal(ask(f, "dyn.example.test", "A"), "END\n");
	assert_string_equal(ask(f, "dyn.example.test", "TXT"), "END\n");
}

static void test_names(void **state)
{
	struct fx *f = *state;

	assert_string_equal(ask(f, "T1.DYN.example.test", "ANY"),
			    "DATA\tT1.DYN.example.test\tIN\tA\t0\t1\t192.0.2.1\n"
			    "DATA\tT1.DYN.example.test\tIN\tAAAA\t0\t1\t2001:db8::1\nEND\n");
	ask(f, "t1.dyn.example.test", "SOA");
	assert_string_equal(ask(f, "t1.dyn.example.test", "A"),
			    "DATA\tt1.dyn.example.test\tIN\tA\t0\t1\t192.0.2.2\nEND\n");
	assert_string_equal(ask(f, "t1.dyn.example.test", "TXT"), "END\n");
	assert_string_equal(ask(f, "t1.dyn.example.test", "NS"), "END\n");
	assert_string_equal(ask(f, "nothing.dyn.example.test", "ANY"), "END\n");
	assert_string_equal(ask(f, "x.t1.dyn.example.test", "ANY"), "END\n");
	assert_string_equal(ask(f, "b.c.dyn.example.test", "ANY"),
			    "END\n"); /* an empty non-terminal */
	assert_string_equal(ask(f, "*.dyn.example.test", "ANY"), "END\n");
	assert_string_equal(ask(f, "www.other.test", "ANY"), "END\n");
	assert_string_equal(ask(f, "broken.dyn.example.test", "ANY"),
			    "END\n"); /* its file is bad */
	assert_string_equal(ask(f, "a..b", "ANY"), "FAIL\n");
	assert_string_equal(
	    ask(f, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test", "ANY"),
	    "FAIL\n");
}

/* One client question as PowerDNS asks it with caches off; returns the address in the
 * last (main) ANY answer for the given type. */
static char *question(struct fx *f, const char *name, int depth_below_apex, bool consistent,
		      const char *type)
{
	static char addr[64];
	const char *p = name, *ans = NULL;

	/* the SOA walk from the name up to the apex */
	for (int i = 0; i <= depth_below_apex; i++) {
		const char *soa = ask(f, p, "SOA");

		if (i < depth_below_apex)
			assert_string_equal(soa, "END\n");
		else
			assert_true(strncmp(soa, "DATA", 4) == 0);
		p = strchr(p, '.') + 1;
	}
	/* the referral probes: ANY (or NS) for the name and its parents below the apex */
	p = name;
	for (int i = 0; i < depth_below_apex; i++) {
		ask(f, p, consistent ? "ANY" : "NS");
		p = strchr(p, '.') + 1;
	}
	ans = ask(f, name, "ANY");
	{
		char key[16];
		const char *q;

		snprintf(key, sizeof(key), "\t%s\t0\t1\t", type);
		q = strstr(ans, key);
		assert_non_null(q);
		q += strlen(key);
		snprintf(addr, sizeof(addr), "%.*s", (int)strcspn(q, "\n"), q);
	}
	return addr;
}

static void test_rotation_exact(void **state)
{
	struct fx *f = *state;
	static const char *const v4[] = {"192.0.2.1", "192.0.2.2", "192.0.2.3"};
	static const char *const abc[] = {"198.51.100.1", "198.51.100.2"};

	for (int abi = 1; abi <= 5; abi++)
		for (int cb = 0; cb < 2; cb++) {
			f->abi = abi;
			memset(f->rot.next, 0, f->rot.n * sizeof(*f->rot.next));
			f->memo = (struct answer_memo){
			    0}; /* a new session: PowerDNS's settings are learnt */
			for (int k = 0; k < 3; k++) {
				for (int i = 0; i < 3; i++)
					assert_string_equal(
					    question(f, "t1.dyn.example.test", 1, cb, "A"), v4[i]);
				for (int i = 0; i < 2; i++)
					assert_string_equal(
					    question(f, "a.b.c.dyn.example.test", 3, cb, "A"),
					    abc[i]);
			}
		}
}

/* The slot of the handler of name and type. */
static uint32_t slot_of(const struct snapshot *s, const char *name, uint16_t qtype)
{
	for (uint32_t i = 0; i < s->n_handlers; i++)
		if (strcmp(s->handlers[i].cfg->qname, name) == 0 &&
		    s->handlers[i].cfg->qtype == qtype)
			return i;
	fail_msg("no handler %s", name);
	return 0;
}

/* The counters (metrics.h) count questions, not lookups: each address of a 3-address list
 * N/3 times after N questions, whatever the probes; a name that does not exist is one
 * NXDOMAIN, its wildcard lookup aside; a reload carries a slot over only through the map. */
static void test_metrics(void **state)
{
	struct fx *f = *state;
	struct metrics m = {0};
	struct metrics_slot *slots;
	uint32_t a = slot_of(f->snap, "t1.dyn.example.test", PP_TYPE_A);
	uint32_t aaaa = slot_of(f->snap, "t1.dyn.example.test", PP_TYPE_AAAA);
	uint32_t *map = calloc(f->snap->n_handlers, sizeof(*map));

	assert_int_equal(metrics_prepare(metrics_shape(&m), f->snap, NULL, 0, &slots), 0);
	metrics_carry(&m, f->snap, slots, NULL, 0);
	assert_int_equal(m.n, f->snap->n_handlers);
	assert_int_equal(m.slot[a].n_served, 3);
	f->metrics = &m;
	for (int cb = 0; cb < 2; cb++) {
		f->memo =
		    (struct answer_memo){0}; /* a new session: PowerDNS's settings are learnt */
		for (int i = 0; i < 6; i++)
			question(f, "t1.dyn.example.test", 1, cb, "A");
	}
	for (int i = 0; i < 3; i++)
		assert_int_equal(m.slot[a].served[i], 4);
	assert_int_equal(m.slot[a].answers, 12);
	assert_int_equal(m.slot[aaaa].answers, 12); /* ANY lookups: both lists answer */
	assert_int_equal(m.slot[a].questions[0], 12);
	assert_int_equal(m.questions[METRICS_NOERROR], 12);
	assert_int_equal(m.questions[METRICS_NXDOMAIN], 0);

	assert_string_equal(ask(f, "nope.dyn.example.test", "SOA"), "END\n");
	ask(f, "dyn.example.test", "SOA");
	assert_string_equal(ask(f, "nope.dyn.example.test", "ANY"), "END\n");
	ask(f, "nope.dyn.example.test", "ANY");
	ask(f, "*.dyn.example.test", "ANY");
	assert_int_equal(m.questions[METRICS_NXDOMAIN], 1);
	assert_int_equal(m.questions[METRICS_NOERROR], 12);
	/* the apex: a question too */
	ask(f, "dyn.example.test", "SOA");
	ask(f, "dyn.example.test", "ANY");
	assert_int_equal(m.questions[METRICS_NOERROR], 13);

	/* a reload: the A list unchanged keeps its counters, the AAAA list changed starts at 0 */
	map[a] = a + 1;
	assert_int_equal(
	    metrics_prepare(metrics_shape(&m), f->snap, map, f->snap->n_handlers, &slots), 0);
	metrics_carry(&m, f->snap, slots, map, f->snap->n_handlers);
	assert_int_equal(m.slot[a].answers, 12);
	assert_int_equal(m.slot[a].served[2], 4);
	assert_int_equal(m.slot[aaaa].answers, 0);
	assert_int_equal(m.slot[aaaa].n_served, 4);
	assert_int_equal(m.questions[METRICS_NOERROR], 13);
	/* a list changed in place */
	m.slot[a].served[0] = 7;
	assert_int_equal(metrics_slot_reset(&m, f->snap, a), 0);
	assert_int_equal(m.slot[a].served[0], 0);
	f->metrics = NULL;
	metrics_done(&m);
	free(map);
}

static void test_rotation_both_types(void **state)
{
	struct fx *f = *state;

	/* every question at t1 advances its A (3) and AAAA (4) lists by one */
	assert_string_equal(question(f, "t1.dyn.example.test", 1, true, "A"), "192.0.2.1");
	assert_string_equal(question(f, "t1.dyn.example.test", 1, true, "AAAA"), "2001:db8::2");
	assert_string_equal(question(f, "t1.dyn.example.test", 1, true, "A"), "192.0.2.3");
	assert_string_equal(question(f, "t1.dyn.example.test", 1, true, "AAAA"), "2001:db8::4");
	assert_string_equal(question(f, "t1.dyn.example.test", 1, true, "A"), "192.0.2.2");
	assert_int_equal(f->rot.next[f->snap->nodes[1].first], 5);
}

/* advance per lookup: exact under consistent-backends=no, also when PowerDNS's caches keep
 * every lookup but the main ANY away; addresses carry a nonzero ECS scope (ABI >= 3) so the
 * query cache does not store them, SOA and NS keep scope 0. */
static void test_per_lookup(void **state)
{
	struct fx *f = *state;
	static const char *const v4[] = {"192.0.2.1", "192.0.2.2", "192.0.2.3"};
	static const char *const abc[] = {"198.51.100.1", "198.51.100.2"};

	for (int abi = 1; abi <= 5; abi++) {
		f->abi = abi;
		f->snap->config->advance = CONFIG_ADVANCE_PER_LOOKUP;
		memset(f->rot.next, 0, f->rot.n * sizeof(*f->rot.next));
		for (int k = 0; k < 3; k++) {
			for (int i = 0; i < 3; i++)
				assert_string_equal(
				    question(f, "t1.dyn.example.test", 1, false, "A"), v4[i]);
			for (int i = 0; i < 2; i++)
				assert_string_equal(
				    question(f, "a.b.c.dyn.example.test", 3, false, "A"), abc[i]);
		}
		for (int k = 0; k < 6; k++) {
			const char *a = ask(f, "t1.dyn.example.test", "A");
			char want[128];

			snprintf(want, sizeof(want),
				 "DATA\t%st1.dyn.example.test\tIN\tA\t0\t1\t%s\nEND\n",
				 abi >= 3 ? "32\t1\t" : "", v4[k % 3]);
			assert_string_equal(a, want);
		}
		assert_string_equal(
		    ask(f, "dyn.example.test", "NS"),
		    abi >= 3
			? "DATA\t0\t1\tdyn.example.test\tIN\tNS\t3600\t1\tns1.example.test.\n"
			  "DATA\t0\t1\tdyn.example.test\tIN\tNS\t3600\t1\tns2.example.test.\nEND\n"
			: "DATA\tdyn.example.test\tIN\tNS\t3600\t1\tns1.example.test.\n"
			  "DATA\tdyn.example.test\tIN\tNS\t3600\t1\tns2.example.test.\nEND\n");
	}
}

/* The address of type A in the last ANY answer. */
static const char *last_a(const char *ans)
{
	static char addr[64];
	const char *q = strstr(ans, "\tA\t0\t1\t");

	assert_non_null(q);
	q += strlen("\tA\t0\t1\t");
	snprintf(addr, sizeof(addr), "%.*s", (int)strcspn(q, "\n"), q);
	return addr;
}

/* One client question as PowerDNS asks it when its caches answer the SOA walk (and, under
 * consistent-backends=no, the NS probes): only the ANY lookups that are not cached arrive.
 * With ABI 3+ pdyndns's answers carry a scope and are never cached: the referral probes
 * (consistent-backends=yes) and the main lookup. With ABI 1 and 2 the query cache keeps the
 * answer, so a question reaches pdyndns with one ANY at most. */
static const char *cached_question(struct fx *f, const char *name, int depth_below_apex,
				   bool consistent)
{
	const char *p = name;

	if (consistent && f->abi >= 3)
		for (int i = 0; i < depth_below_apex; i++) {
			ask(f, p, "ANY");
			p = strchr(p, '.') + 1;
		}
	return last_a(ask(f, name, "ANY"));
}

/* Per question with PowerDNS's caches on (the Python pdyndns's config with data/pdns.conf):
 * the memo notices the questions that come without SOA lookups and the rotation goes on,
 * exactly from the first such question under ABI 3+ (consistent-backends yes and no, depth 1
 * and 3); under ABI 1 and 2 one step late at the detection, then one step a lookup. Without
 * the check, every answer after the first question was the first address. */
static void test_stalled_rotation_goes_on(void **state)
{
	struct fx *f = *state;
	static const char *const v4[] = {"192.0.2.1", "192.0.2.2", "192.0.2.3"};
	static const char *const abc[] = {"198.51.100.1", "198.51.100.2"};

	for (int abi = 1; abi <= 5; abi++)
		for (int cb = 0; cb < 2; cb++) {
			int next;

			f->abi = abi;
			memset(f->rot.next, 0, f->rot.n * sizeof(*f->rot.next));
			f->memo = (struct answer_memo){0};
			if (abi >= 3) {
				/* the first questions find the caches cold */
				assert_string_equal(question(f, "t1.dyn.example.test", 1, cb, "A"),
						    v4[0]);
				assert_string_equal(
				    question(f, "a.b.c.dyn.example.test", 3, cb, "A"), abc[0]);
				assert_false(f->memo.stalled);
				for (int i = 1; i <= 12; i++) {
					assert_string_equal(
					    cached_question(f, "t1.dyn.example.test", 1, cb),
					    v4[i % 3]);
					assert_string_equal(
					    cached_question(f, "a.b.c.dyn.example.test", 3, cb),
					    abc[i % 2]);
				}
				/* one a lookup that began a question without SOA lookups: each but
				 * the first at t1 (its memo entry went with the SOA lookups of
				 * a.b.c) */
				assert_int_equal(f->memo.mismatches, 23);
				next = 13;
			} else {
				/* cold: the walk, the probe (NS, or ANY whose answer the query
				 * cache keeps for the main lookup) */
				ask(f, "t1.dyn.example.test", "SOA");
				ask(f, "dyn.example.test", "SOA");
				if (!cb)
					ask(f, "t1.dyn.example.test", "NS");
				assert_string_equal(
				    cached_question(f, "t1.dyn.example.test", 1, cb), v4[0]);
				/* under consistent-backends=yes the first lone lookup is taken for
				 * the main lookup of the last question: one step late, then exact
				 */
				for (int i = 1; i <= 12; i++)
					assert_string_equal(
					    cached_question(f, "t1.dyn.example.test", 1, cb),
					    v4[(i - cb) % 3]);
				next = 13 - cb;
			}
			assert_true(f->memo.stalled);
			assert_true(f->memo.mismatch_slot < f->snap->n_handlers);
			/* an SOA lookup still begins a question (the cache entries expired) */
			if (abi >= 3)
				assert_string_equal(question(f, "t1.dyn.example.test", 1, cb, "A"),
						    v4[next % 3]);
			else {
				ask(f, "t1.dyn.example.test", "SOA");
				ask(f, "dyn.example.test", "SOA");
				assert_string_equal(
				    cached_question(f, "t1.dyn.example.test", 1, cb), v4[next % 3]);
			}
		}
}

/* An SOA lookup answered with nothing, followed by a lookup in the zone instead of the
 * parent's SOA: PowerDNS's query cache answered the rest of the walk. Not at the root, not
 * with per-lookup advance. */
static void test_stall_walk_cut(void **state)
{
	struct fx *f = *state;

	f->abi = 3;
	assert_string_equal(ask(f, "t1.dyn.example.test", "SOA"), "END\n");
	ask(f, "t1.dyn.example.test", "NS");
	assert_true(f->memo.stalled);
	assert_true(f->memo.ns_probes);
	assert_int_equal(f->memo.mismatches, 1);
	assert_int_equal(f->memo.mismatch_slot, UINT32_MAX);
	/* the question itself began with an SOA lookup: its answer is the first */
	assert_string_equal(last_a(ask(f, "t1.dyn.example.test", "ANY")), "192.0.2.1");

	f->memo = (struct answer_memo){0};
	ask(f, "x.y.dyn.example.test", "SOA");
	ask(f, "x.y.dyn.example.test", "ANY");
	assert_int_equal(f->memo.mismatches, 1);

	f->memo = (struct answer_memo){0};
	assert_string_equal(ask(f, ".", "SOA"), "END\n");
	ask(f, "t1.dyn.example.test", "ANY");
	assert_string_equal(ask(f, "www.other.test", "SOA"), "END\n");
	ask(f, "www.other.test", "ANY"); /* not in a zone of this config */
	assert_false(f->memo.stalled);

	f->snap->config->advance = CONFIG_ADVANCE_PER_LOOKUP;
	ask(f, "t1.dyn.example.test", "SOA");
	ask(f, "t1.dyn.example.test", "NS");
	for (int i = 0; i < 4; i++)
		ask(f, "t1.dyn.example.test", "ANY");
	assert_false(f->memo.stalled);
	assert_int_equal(f->memo.mismatches, 0);
}

/* With caches off nothing is taken for a stall: every question PowerDNS 4.7.3 asks
 * (pipe-protocol.md §5), every ABI, consistent-backends yes and no, and AXFR. */
static void test_no_false_stall(void **state)
{
	struct fx *f = *state;
	static const char *const v4[] = {"192.0.2.1", "192.0.2.2", "192.0.2.3"};
	struct pp_msg m;
	const char *why;

	for (int abi = 1; abi <= 5; abi++)
		for (int cb = 0; cb < 2; cb++) {
			const char *probe = cb ? "ANY" : "NS";

			f->abi = abi;
			memset(f->rot.next, 0, f->rot.n * sizeof(*f->rot.next));
			f->memo = (struct answer_memo){0};
			for (int k = 0; k < 6; k++) {
				struct answer_ctx ctx = {
				    .snap = f->snap, .rot = &f->rot, .memo = &f->memo, .abi = abi};
				char axfr[] = "AXFR\t1\tdyn.example.test";

				assert_string_equal(question(f, "t1.dyn.example.test", 1, cb, "A"),
						    v4[k % 3]);
				question(f, "a.b.c.dyn.example.test", 3, cb, "A");
				/* the apex: one SOA lookup, one ANY */
				ask(f, "dyn.example.test", "SOA");
				ask(f, "dyn.example.test", "ANY");
				/* NXDOMAIN below t1: the walk, probes, main, then the wildcard
				 * search */
				ask(f, "x.t1.dyn.example.test", "SOA");
				ask(f, "t1.dyn.example.test", "SOA");
				ask(f, "dyn.example.test", "SOA");
				ask(f, "x.t1.dyn.example.test", probe);
				ask(f, "t1.dyn.example.test", probe);
				ask(f, "x.t1.dyn.example.test", "ANY");
				ask(f, "*.t1.dyn.example.test", "ANY");
				ask(f, "t1.dyn.example.test", "ANY");
				/* a name outside every zone: the walk to the root, REFUSED */
				ask(f, "www.other.test", "SOA");
				ask(f, "other.test", "SOA");
				ask(f, "test", "SOA");
				ask(f, ".", "SOA");
				/* AXFR (a fresh copy in reality; here the same session) */
				ask(f, "dyn.example.test", "SOA");
				assert_int_equal(pp_parse(axfr, strlen(axfr), 4, &m, &why), 0);
				buf_truncate(&f->out, 0);
				answer_axfr(&ctx, &m, &f->out);
				/* the x.t1 question moved t1 once more */
				memset(f->rot.next, 0, f->rot.n * sizeof(*f->rot.next));
				for (int j = 0; j <= k; j++)
					rotation_take(&f->rot, f->snap->nodes[1].first, 3);
			}
			assert_false(f->memo.stalled);
			assert_int_equal(f->memo.mismatches, 0);
		}
}

static void test_two_sessions_share_rotation(void **state)
{
	struct fx *f = *state;
	struct answer_memo other = {0}, mine = f->memo;

	assert_string_equal(question(f, "t1.dyn.example.test", 1, true, "A"), "192.0.2.1");
	mine = f->memo;
	f->memo = other;
	assert_string_equal(question(f, "t1.dyn.example.test", 1, true, "A"), "192.0.2.2");
	f->memo = mine;
	assert_string_equal(question(f, "t1.dyn.example.test", 1, true, "A"), "192.0.2.3");
}

static void test_peek_and_axfr(void **state)
{
	struct fx *f = *state;
	struct answer_ctx ctx = {
	    .snap = f->snap, .rot = &f->rot, .memo = &f->memo, .abi = 4, .peek = true};
	struct pp_msg m = {
	    .kind = PP_Q, .qname = "t1.dyn.example.test", .qname_len = 19, .qtype = "A", .id = 1};
	char axfr[] = "AXFR\t1\tdyn.example.test", wrong_id[] = "AXFR\t2\tdyn.example.test",
	     wrong_zone[] = "AXFR\t1\tother.test";
	const char *why;

	question(f, "t1.dyn.example.test", 1, true, "A");
	for (int i = 0; i < 3; i++) {
		buf_truncate(&f->out, 0);
		answer_query(&ctx, &m, &f->out);
		buf_putc(&f->out, 0);
		assert_string_equal(
		    f->out.data, "DATA\t32\t1\tt1.dyn.example.test\tIN\tA\t0\t1\t192.0.2.2\nEND\n");
	}
	ctx.peek = false;
	assert_int_equal(pp_parse(axfr, strlen(axfr), 4, &m, &why), 0);
	for (int i = 0; i < 2; i++) {
		buf_truncate(&f->out, 0);
		answer_axfr(&ctx, &m, &f->out);
		buf_putc(&f->out, 0);
		assert_string_equal(
		    f->out.data,
		    "DATA\t0\t1\tdyn.example.test\tIN\tSOA\t3600\t1\tns1.example.test. h.example.test. 7 7200 3600 7200 120\n"
		    "DATA\t0\t1\tdyn.example.test\tIN\tNS\t3600\t1\tns1.example.test.\n"
		    "DATA\t0\t1\tdyn.example.test\tIN\tNS\t3600\t1\tns2.example.test.\n"
		    "DATA\t32\t1\tt1.dyn.example.test\tIN\tA\t0\t1\t192.0.2.2\n"
		    "DATA\t32\t1\tt1.dyn.example.test\tIN\tAAAA\t0\t1\t2001:db8::2\n"
		    "DATA\t32\t1\ta.b.c.dyn.example.test\tIN\tA\t0\t1\t198.51.100.1\n"
		    "END\n");
	}
	assert_int_equal(pp_parse(wrong_id, strlen(wrong_id), 4, &m, &why), 0);
	buf_truncate(&f->out, 0);
	answer_axfr(&ctx, &m, &f->out);
	assert_memory_equal(f->out.data, "FAIL\n", 5);
	assert_int_equal(pp_parse(wrong_zone, strlen(wrong_zone), 4, &m, &why), 0);
	buf_truncate(&f->out, 0);
	answer_axfr(&ctx, &m, &f->out);
	assert_memory_equal(f->out.data, "FAIL\n", 5);
}

static void test_no_snapshot(void **state)
{
	struct fx *f = *state;
	struct snapshot *s = f->snap;

	f->snap = NULL;
	assert_string_equal(ask(f, "dyn.example.test", "SOA"), "END\n");
	assert_string_equal(ask(f, "t1.dyn.example.test", "ANY"), "END\n");
	f->snap = s;
}

/* Replaces the fixture's snapshot with one whose handlers use the selection policies:
 *   rr3    A  count 3 over 5 addresses     rr9  A  count 9 over 5 (the whole list)
 *   w      A  weighted 3, 1, 0             w2   A  weighted 5, 3, 2, 0, count 2
 *   zero   A  weighted, every weight 0     all  A  all (count ignored), AAAA all
 *   rnd    A  random over 6                rnd3 AAAA random, count 3 over 5 */
static void policy_zone(struct fx *f)
{
	struct config *c = NULL;
	struct diag d;
	char path[128];

	fixture_write(f->dir, "five.txt", "10.0.0.1\n10.0.0.2\n10.0.0.3\n10.0.0.4\n10.0.0.5\n");
	fixture_write(f->dir, "six.txt",
		      "10.0.1.1\n10.0.1.2\n10.0.1.3\n10.0.1.4\n10.0.1.5\n10.0.1.6\n");
	fixture_write(f->dir, "five6.txt",
		      "2001:db8::1\n2001:db8::2\n2001:db8::3\n2001:db8::4\n2001:db8::5\n");
	fixture_write(f->dir, "w.txt", "10.0.2.1 3\n10.0.2.2\n10.0.2.3 0\n");
	fixture_write(f->dir, "w2.txt", "10.0.3.1 5\n10.0.3.2 3\n10.0.3.3 2\n10.0.3.4 0\n");
	fixture_write(f->dir, "zero.txt", "10.0.4.1 0\n10.0.4.2 0\n");
	fixture_write(
	    f->dir, "p.json",
	    "{\"domain\": \"dyn.example.test\", \"soa\": \"ns1.example.test. h.example.test. 7 7200 3600 7200 120\",\n"
	    " \"nameservers\": [\"ns1.example.test\"], \"ttl\": 3600, \"handlers\": [\n"
	    " {\"qname\": \"rr3.dyn.example.test\", \"qtype\": \"A\", \"file\": \"five.txt\", \"count\": 3},\n"
	    " {\"qname\": \"rr9.dyn.example.test\", \"qtype\": \"A\", \"file\": \"five.txt\", \"policy\": \"round-robin\", \"count\": 9},\n"
	    " {\"qname\": \"w.dyn.example.test\", \"qtype\": \"A\", \"file\": \"w.txt\", \"policy\": \"weighted\"},\n"
	    " {\"qname\": \"w2.dyn.example.test\", \"qtype\": \"A\", \"file\": \"w2.txt\", \"policy\": \"weighted\", \"count\": 2},\n"
	    " {\"qname\": \"zero.dyn.example.test\", \"qtype\": \"A\", \"file\": \"zero.txt\", \"policy\": \"weighted\"},\n"
	    " {\"qname\": \"all.dyn.example.test\", \"qtype\": \"A\", \"file\": \"five.txt\", \"policy\": \"all\", \"count\": 2},\n"
	    " {\"qname\": \"all.dyn.example.test\", \"qtype\": \"AAAA\", \"file\": \"five6.txt\", \"policy\": \"all\"},\n"
	    " {\"qname\": \"rnd.dyn.example.test\", \"qtype\": \"A\", \"file\": \"six.txt\", \"policy\": \"random\"},\n"
	    " {\"qname\": \"rnd3.dyn.example.test\", \"qtype\": \"AAAA\", \"file\": \"five6.txt\", \"policy\": \"random\", \"count\": 3}]}\n");
	snprintf(path, sizeof(path), "%s/p.json", f->dir);
	diag_init(&d);
	assert_int_equal(config_load(path, &d, &c), 0);
	snapshot_free(f->snap);
	f->snap = NULL;
	assert_int_equal(snapshot_new(c, NULL, &d, &f->snap), 0);
	assert_int_equal(d.n_errors, 0);
	snapshot_warnings(f->snap, &d);
	assert_int_equal(d.n_msgs, 1);
	assert_non_null(strstr(
	    d.msgs[0],
	    "zero.txt: warning: every address has weight 0: zero.dyn.example.test A serves nothing"));
	diag_clear(&d);
	rotation_done(&f->rot);
	assert_int_equal(rotation_resize(&f->rot, f->snap->n_handlers), 0);
	f->memo.n = 0;
}

/* The addresses of one question's main lookup (see question()), comma-separated in the
 * order of the answer. */
static const char *addresses(struct fx *f, const char *name, const char *type)
{
	static char list[4096], probe[8192];
	const char *ans, *p;
	size_t o = 0;
	char key[16];

	ask(f, name, "SOA");
	ask(f, "dyn.example.test", "SOA");
	snprintf(probe, sizeof(probe), "%s", ask(f, name, "ANY")); /* the referral probe */
	ans = ask(f, name, "ANY");
	assert_string_equal(ans, probe); /* one question, one pick */
	snprintf(key, sizeof(key), "\t%s\t0\t1\t", type);
	list[0] = 0;
	for (p = strstr(ans, key); p; p = strstr(p, key)) {
		p += strlen(key);
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%.*s", o ? "," : "",
				      (int)strcspn(p, "\n"), p);
	}
	return list;
}

static uint64_t slot_count(struct fx *f, const char *name, uint16_t qtype)
{
	struct dname n;
	const struct node *node;

	assert_int_equal(dname_parse(name, strlen(name), &n), 0);
	node = snapshot_find(f->snap, &n);
	assert_non_null(node);
	for (uint32_t i = node->first; i < node->first + node->count; i++)
		if (f->snap->handlers[i].cfg->qtype == qtype)
			return f->rot.next[i];
	fail();
	return 0;
}

static void test_count_window(void **state)
{
	struct fx *f = *state;
	static const char *const windows[] = {
	    "10.0.0.1,10.0.0.2,10.0.0.3", "10.0.0.4,10.0.0.5,10.0.0.1",
	    "10.0.0.2,10.0.0.3,10.0.0.4", "10.0.0.5,10.0.0.1,10.0.0.2",
	    "10.0.0.3,10.0.0.4,10.0.0.5", "10.0.0.1,10.0.0.2,10.0.0.3"};

	policy_zone(f);
	/* windows of 3 from the rotation position, wrapping; the position moves by 3 per
	 * question (both ANY lookups of a question get the same window) */
	for (size_t i = 0; i < ELEMENTSOF(windows); i++)
		assert_string_equal(addresses(f, "rr3.dyn.example.test", "A"), windows[i]);
	assert_int_equal(slot_count(f, "rr3.dyn.example.test", 1), 18);
	/* per lookup: every lookup moves on */
	f->snap->config->advance = CONFIG_ADVANCE_PER_LOOKUP;
	assert_string_equal(ask(f, "rr3.dyn.example.test", "A"),
			    "DATA\trr3.dyn.example.test\tIN\tA\t0\t1\t10.0.0.4\n"
			    "DATA\trr3.dyn.example.test\tIN\tA\t0\t1\t10.0.0.5\n"
			    "DATA\trr3.dyn.example.test\tIN\tA\t0\t1\t10.0.0.1\nEND\n");
	assert_non_null(strstr(ask(f, "rr3.dyn.example.test", "A"), "\t10.0.0.2\n"));
	f->snap->config->advance = CONFIG_ADVANCE_PER_QUESTION;
	/* a count at or above the length gives the whole list, and every address is served
	 * as often as the others */
	for (int i = 0; i < 4; i++)
		assert_string_equal(addresses(f, "rr9.dyn.example.test", "A"),
				    "10.0.0.1,10.0.0.2,10.0.0.3,10.0.0.4,10.0.0.5");
}

static void test_all(void **state)
{
	struct fx *f = *state;

	policy_zone(f);
	for (int i = 0; i < 3; i++) {
		assert_string_equal(addresses(f, "all.dyn.example.test", "A"),
				    "10.0.0.1,10.0.0.2,10.0.0.3,10.0.0.4,10.0.0.5");
		assert_string_equal(addresses(f, "all.dyn.example.test", "AAAA"),
				    "2001:db8::1,2001:db8::2,2001:db8::3,2001:db8::4,2001:db8::5");
	}
	assert_int_equal(slot_count(f, "all.dyn.example.test", 1), 0);
	/* an A lookup gets the A records only */
	assert_null(strstr(ask(f, "all.dyn.example.test", "A"), "AAAA"));
}

static void test_weighted(void **state)
{
	struct fx *f = *state;
	int got[4] = {0};

	policy_zone(f);
	/* 3:1:0 over 4000 questions: exactly 3000 and 1000, the drained one never */
	for (int i = 0; i < 4000; i++) {
		const char *a = addresses(f, "w.dyn.example.test", "A");

		assert_int_equal(strlen(a), 8);
		got[a[7] - '1']++;
	}
	assert_int_equal(got[0], 3000);
	assert_int_equal(got[1], 1000);
	assert_int_equal(got[2], 0);
	assert_int_equal(slot_count(f, "w.dyn.example.test", 1), 4000);

	/* count 2 over 5:3:2:0: two positions of the schedule per answer, the position moves
	 * by 2, a duplicate collapses, the drained one never shows */
	memset(got, 0, sizeof(got));
	for (int i = 0; i < 1000; i++) {
		const char *a = addresses(f, "w2.dyn.example.test", "A");

		assert_true(strlen(a) == 8 || (strlen(a) == 17 && a[7] != a[16]));
		got[a[7] - '1']++;
		if (a[8])
			got[a[16] - '1']++;
	}
	assert_int_equal(slot_count(f, "w2.dyn.example.test", 1), 2000);
	assert_int_equal(got[3], 0);
	/* windows AB, AA, CB, AC, BA of the schedule ABAACBACBA: 4:3:2 per 5 answers */
	assert_int_equal(got[0], 800);
	assert_int_equal(got[1], 600);
	assert_int_equal(got[2], 400);

	/* every weight 0: the name answers no address, like a list that serves nothing */
	assert_string_equal(ask(f, "zero.dyn.example.test", "ANY"), "END\n");
	assert_int_equal(slot_count(f, "zero.dyn.example.test", 1), 0);
}

static void test_random(void **state)
{
	struct fx *f = *state;
	int seen[6] = {0}, seen6[5] = {0};

	policy_zone(f);
	for (int i = 0; i < 600; i++) {
		const char *a =
		    addresses(f, "rnd.dyn.example.test", "A"); /* both lookups: one pick */

		assert_int_equal(strlen(a), 8);
		assert_true(strncmp(a, "10.0.1.", 7) == 0 && a[7] >= '1' && a[7] <= '6');
		seen[a[7] - '1']++;
	}
	/* roughly uniform: each of 6 addresses near 100 of 600 */
	for (int i = 0; i < 6; i++)
		assert_true(seen[i] > 50 && seen[i] < 150);
	assert_int_equal(slot_count(f, "rnd.dyn.example.test", 1), 0);

	/* count 3 of 5: three distinct addresses of the list */
	for (int i = 0; i < 500; i++) {
		const char *a = addresses(f, "rnd3.dyn.example.test", "AAAA");
		int mine[5] = {0}, k = 0;

		for (const char *p = a; *p;
		     p = strchr(p, ',') ? strchr(p, ',') + 1 : p + strlen(p)) {
			assert_true(strncmp(p, "2001:db8::", 10) == 0 && p[10] >= '1' &&
				    p[10] <= '5');
			assert_int_equal(mine[p[10] - '1']++, 0);
			seen6[p[10] - '1']++;
			k++;
		}
		assert_int_equal(k, 3);
	}
	for (int i = 0; i < 5; i++)
		assert_true(seen6[i] > 200 && seen6[i] < 400); /* 300 expected */
}

static void test_policy_peek_and_axfr(void **state)
{
	struct fx *f = *state;
	struct answer_ctx ctx = {
	    .snap = NULL, .rot = &f->rot, .memo = &f->memo, .abi = 1, .peek = true};
	struct pp_msg m = {
	    .kind = PP_Q, .qname = "rr3.dyn.example.test", .qname_len = 20, .qtype = "A", .id = 1};
	char axfr[] = "AXFR\t1";
	const char *why;

	policy_zone(f);
	ctx.snap = f->snap;
	addresses(f, "rr3.dyn.example.test", "A");
	addresses(f, "w.dyn.example.test", "A");
	for (int i = 0; i < 2; i++) {
		buf_truncate(&f->out, 0);
		answer_query(&ctx, &m, &f->out);
		buf_putc(&f->out, 0);
		assert_string_equal(f->out.data,
				    "DATA\trr3.dyn.example.test\tIN\tA\t0\t1\t10.0.0.4\n"
				    "DATA\trr3.dyn.example.test\tIN\tA\t0\t1\t10.0.0.5\n"
				    "DATA\trr3.dyn.example.test\tIN\tA\t0\t1\t10.0.0.1\nEND\n");
	}
	assert_int_equal(slot_count(f, "rr3.dyn.example.test", 1), 3);
	/* AXFR shows what each handler serves next, moving nothing */
	assert_int_equal(pp_parse(axfr, strlen(axfr), 1, &m, &why), 0);
	ctx.peek = false;
	buf_truncate(&f->out, 0);
	answer_axfr(&ctx, &m, &f->out);
	buf_putc(&f->out, 0);
	assert_non_null(strstr(
	    f->out.data,
	    "rr3.dyn.example.test\tIN\tA\t0\t1\t10.0.0.4\nDATA\trr3.dyn.example.test\tIN\tA\t0\t1\t10.0.0.5\n"));
	assert_non_null(
	    strstr(f->out.data,
		   "\nDATA\tw.dyn.example.test\tIN\tA\t0\t1\t10.0.2.2\n")); /* 3:1 -> A B A A */
	assert_null(strstr(f->out.data, "zero.dyn"));
	assert_int_equal(slot_count(f, "rr3.dyn.example.test", 1), 3);
	assert_int_equal(slot_count(f, "w.dyn.example.test", 1), 1);
}

/* --shared-rotation: the counters are shared, and move by exactly count per question */
static void test_policy_shared_counters(void **state)
{
	struct fx *f = *state;
	uint64_t *counters;

	policy_zone(f);
	counters = calloc(f->snap->n_handlers, sizeof(*counters));
	f->rot.shared = calloc(f->snap->n_handlers, sizeof(*f->rot.shared));
	for (size_t i = 0; i < f->snap->n_handlers; i++)
		f->rot.shared[i] = &counters[i];
	for (int i = 0; i < 4; i++) {
		addresses(f, "rr3.dyn.example.test", "A");
		addresses(f, "w2.dyn.example.test", "A");
		addresses(f, "rnd.dyn.example.test", "A");
	}
	/* another copy moved rr3 on by one answer: this copy continues from there */
	for (size_t i = 0; i < f->snap->n_handlers; i++) {
		const struct handler *h = &f->snap->handlers[i];

		if (strcmp(h->cfg->qname, "rr3.dyn.example.test") == 0)
			assert_int_equal(counters[i], 12), counters[i] += 3;
		else if (strcmp(h->cfg->qname, "w2.dyn.example.test") == 0)
			assert_int_equal(counters[i], 8);
		else
			assert_int_equal(counters[i], 0);
	}
	assert_string_equal(addresses(f, "rr3.dyn.example.test", "A"),
			    "10.0.0.1,10.0.0.2,10.0.0.3");
	free(counters);
}

static void test_memo_remap(void **state)
{
	struct answer_memo m = {
	    .n = 3,
	    .e = {{.slot = 0, .index = 5}, {.slot = 1, .index = 6}, {.slot = 2, .index = 7}}};
	uint32_t map[3] = {3, 0, 1}; /* slot 0 -> 2, slot 1 gone, slot 2 -> 0 */

	answer_memo_remap(&m, map, 3);
	assert_int_equal(m.n, 2);
	assert_int_equal(m.e[0].slot, 2);
	assert_int_equal(m.e[0].index, 5);
	assert_int_equal(m.e[1].slot, 0);
	assert_int_equal(m.e[1].index, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_soa_only_at_apex, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_apex_any_and_ns, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rotation_exact, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rotation_both_types, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_per_lookup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stalled_rotation_goes_on, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stall_walk_cut, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_false_stall, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_sessions_share_rotation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_peek_and_axfr, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_snapshot, setup, teardown),
	    cmocka_unit_test(test_memo_remap),
	    cmocka_unit_test_setup_teardown(test_count_window, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_all, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_weighted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_random, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_policy_peek_and_axfr, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_policy_shared_counters, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
