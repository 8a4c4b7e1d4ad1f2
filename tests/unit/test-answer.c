/* SPDX-License-Identifier: MIT */
/* Answers from a snapshot, exactly as PowerDNS must read them, and exact rotation under
 * the lookup sequences PowerDNS 4.7.3 really sends (shared/pipe-protocol.md §5, §11). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "fixture.h"

struct fx {
	char dir[64];
	struct snapshot *snap;
	struct rotation rot;
	struct answer_memo memo;
	struct buf out;
	int abi;
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
	struct answer_ctx ctx = {.snap = f->snap, .rot = &f->rot, .memo = &f->memo, .abi = f->abi};
	char line[512];
	struct pp_msg m;
	const char *why;
	int len;

	len = snprintf(line, sizeof(line), "Q\t%s\tIN\t%s\t%s\t127.0.0.1%s", name, type,
		       strcmp(type, "SOA") == 0 ? "-1" : "1",
		       f->abi == 1 ? "" : f->abi == 2 ? "\t127.0.0.1" : "\t127.0.0.1\t127.0.0.1/32");
	assert_int_equal(pp_parse(line, (size_t)len, f->abi, &m, &why), 0);
	buf_truncate(&f->out, 0);
	answer_query(&ctx, &m, &f->out);
	buf_putc(&f->out, 0);
	return f->out.data;
}

static void test_soa_only_at_apex(void **state)
{
	struct fx *f = *state;

	assert_string_equal(ask(f, "Dyn.Example.Test", "SOA"),
			    "DATA\tDyn.Example.Test\tIN\tSOA\t3600\t1\tns1.example.test. h.example.test. 7 7200 3600 7200 120\nEND\n");
	assert_string_equal(ask(f, "t1.dyn.example.test", "SOA"), "END\n");
	assert_string_equal(ask(f, "example.test", "SOA"), "END\n");
	assert_string_equal(ask(f, ".", "SOA"), "END\n");
	f->abi = 3;
	assert_string_equal(ask(f, "dyn.example.test", "SOA"),
			    "DATA\t0\t1\tdyn.example.test\tIN\tSOA\t3600\t1\tns1.example.test. h.example.test. 7 7200 3600 7200 120\nEND\n");
}

static void test_apex_any_and_ns(void **state)
{
	struct fx *f = *state;

	assert_string_equal(ask(f, "dyn.example.test", "ANY"),
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
	assert_string_equal(ask(f, "t1.dyn.example.test", "A"), "DATA\tt1.dyn.example.test\tIN\tA\t0\t1\t192.0.2.2\nEND\n");
	assert_string_equal(ask(f, "t1.dyn.example.test", "TXT"), "END\n");
	assert_string_equal(ask(f, "t1.dyn.example.test", "NS"), "END\n");
	assert_string_equal(ask(f, "nothing.dyn.example.test", "ANY"), "END\n");
	assert_string_equal(ask(f, "x.t1.dyn.example.test", "ANY"), "END\n");
	assert_string_equal(ask(f, "b.c.dyn.example.test", "ANY"), "END\n");   /* an empty non-terminal */
	assert_string_equal(ask(f, "*.dyn.example.test", "ANY"), "END\n");
	assert_string_equal(ask(f, "www.other.test", "ANY"), "END\n");
	assert_string_equal(ask(f, "broken.dyn.example.test", "ANY"), "END\n"); /* its file is bad */
	assert_string_equal(ask(f, "a..b", "ANY"), "FAIL\n");
	assert_string_equal(ask(f, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test", "ANY"), "FAIL\n");
}

/* One client question as PowerDNS asks it with caches off; returns the address in the
 * last (main) ANY answer for the given type. */
static char *question(struct fx *f, const char *name, int depth_below_apex, bool consistent, const char *type)
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
			for (int k = 0; k < 3; k++) {
				for (int i = 0; i < 3; i++)
					assert_string_equal(question(f, "t1.dyn.example.test", 1, cb, "A"), v4[i]);
				for (int i = 0; i < 2; i++)
					assert_string_equal(question(f, "a.b.c.dyn.example.test", 3, cb, "A"), abc[i]);
			}
		}
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
		f->snap->config->advance = CONFIG_ADVANCE_PER_QUESTION;
		memset(f->rot.next, 0, f->rot.n * sizeof(*f->rot.next));
		/* per question, lookups without SOA lookups between them are one question */
		assert_string_equal(question(f, "t1.dyn.example.test", 1, false, "A"), v4[0]);
		for (int i = 0; i < 2; i++)
			assert_non_null(strstr(ask(f, "t1.dyn.example.test", "ANY"), v4[0]));

		f->snap->config->advance = CONFIG_ADVANCE_PER_LOOKUP;
		memset(f->rot.next, 0, f->rot.n * sizeof(*f->rot.next));
		for (int k = 0; k < 3; k++) {
			for (int i = 0; i < 3; i++)
				assert_string_equal(question(f, "t1.dyn.example.test", 1, false, "A"), v4[i]);
			for (int i = 0; i < 2; i++)
				assert_string_equal(question(f, "a.b.c.dyn.example.test", 3, false, "A"), abc[i]);
		}
		for (int k = 0; k < 6; k++) {
			const char *a = ask(f, "t1.dyn.example.test", "A");
			char want[128];

			snprintf(want, sizeof(want), "DATA\t%st1.dyn.example.test\tIN\tA\t0\t1\t%s\nEND\n",
				 abi >= 3 ? "32\t1\t" : "", v4[k % 3]);
			assert_string_equal(a, want);
		}
		assert_string_equal(ask(f, "dyn.example.test", "NS"),
				    abi >= 3 ? "DATA\t0\t1\tdyn.example.test\tIN\tNS\t3600\t1\tns1.example.test.\n"
					       "DATA\t0\t1\tdyn.example.test\tIN\tNS\t3600\t1\tns2.example.test.\nEND\n"
					     : "DATA\tdyn.example.test\tIN\tNS\t3600\t1\tns1.example.test.\n"
					       "DATA\tdyn.example.test\tIN\tNS\t3600\t1\tns2.example.test.\nEND\n");
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
	struct answer_ctx ctx = {.snap = f->snap, .rot = &f->rot, .memo = &f->memo, .abi = 4, .peek = true};
	struct pp_msg m = {.kind = PP_Q, .qname = "t1.dyn.example.test", .qname_len = 19, .qtype = "A", .id = 1};
	char axfr[] = "AXFR\t1\tdyn.example.test", wrong_id[] = "AXFR\t2\tdyn.example.test", wrong_zone[] = "AXFR\t1\tother.test";
	const char *why;

	question(f, "t1.dyn.example.test", 1, true, "A");
	for (int i = 0; i < 3; i++) {
		buf_truncate(&f->out, 0);
		answer_query(&ctx, &m, &f->out);
		buf_putc(&f->out, 0);
		assert_string_equal(f->out.data, "DATA\t0\t1\tt1.dyn.example.test\tIN\tA\t0\t1\t192.0.2.2\nEND\n");
	}
	ctx.peek = false;
	assert_int_equal(pp_parse(axfr, strlen(axfr), 4, &m, &why), 0);
	for (int i = 0; i < 2; i++) {
		buf_truncate(&f->out, 0);
		answer_axfr(&ctx, &m, &f->out);
		buf_putc(&f->out, 0);
		assert_string_equal(f->out.data,
				    "DATA\t0\t1\tdyn.example.test\tIN\tSOA\t3600\t1\tns1.example.test. h.example.test. 7 7200 3600 7200 120\n"
				    "DATA\t0\t1\tdyn.example.test\tIN\tNS\t3600\t1\tns1.example.test.\n"
				    "DATA\t0\t1\tdyn.example.test\tIN\tNS\t3600\t1\tns2.example.test.\n"
				    "DATA\t0\t1\tt1.dyn.example.test\tIN\tA\t0\t1\t192.0.2.2\n"
				    "DATA\t0\t1\tt1.dyn.example.test\tIN\tAAAA\t0\t1\t2001:db8::2\n"
				    "DATA\t0\t1\ta.b.c.dyn.example.test\tIN\tA\t0\t1\t198.51.100.1\n"
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

static void test_memo_remap(void **state)
{
	struct answer_memo m = {.n = 3, .e = {{0, 5}, {1, 6}, {2, 7}}};
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
		cmocka_unit_test_setup_teardown(test_per_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_sessions_share_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peek_and_axfr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_snapshot, setup, teardown),
		cmocka_unit_test(test_memo_remap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
