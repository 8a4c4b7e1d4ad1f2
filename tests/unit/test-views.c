/* SPDX-License-Identifier: MIT */
/* Per-client views: the config (prefixes, prefix files, names, match, every error), the
 * snapshot (a trie per handler, prefix files, their problems, sharing across reloads) and
 * the answers (longest match, the ECS scope, the resolver or the subnet, a rotation per
 * view, the handler's own list for everyone else). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "answer.h"
#include "config.h"
#include "fixture.h"
#include "snapshot.h"

#define HEAD                                                                                       \
	"{\"domain\": \"dyn.example.test\", \"soa\": \"ns1.example.test. h.example.test. 1 2 3 4 " \
	"5\", "                                                                                    \
	"\"nameservers\": [\"ns1.example.test\"], \"ttl\": 60, \"handlers\": ["
#define TAIL "]}"

static char dir[64];

static int setup(void **state)
{
	strcpy(dir, "/tmp/test-views.XXXXXX");
	assert_non_null(mkdtemp(dir));
	fixture_write(dir, "all.txt", "192.0.2.1\n192.0.2.2\n");
	fixture_write(dir, "nl.txt", "192.0.2.101\n192.0.2.102\n192.0.2.103\n");
	fixture_write(dir, "probes.txt", "192.0.2.201\n");
	fixture_write(
	    dir, "probes-prefixes.txt",
	    "# the probes\n203.0.113.0/24\n  2001:db8:99::/48   # v6\n\n10.0.0.0/8\n10.0.0.0/8\n");
	return 0;
}

static int teardown(void **state)
{
	fixture_cleanup(dir);
	return 0;
}

static int parse(const char *handlers, struct config **c, char **errors)
{
	char text[16384], path[128];
	struct diag d;
	int r;

	snprintf(text, sizeof(text), HEAD "%s" TAIL, handlers);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	diag_init(&d);
	r = config_parse(text, strlen(text), path, &d, c);
	*errors = diag_join(&d, "|");
	diag_clear(&d);
	return r;
}

static void expect_errors(const char *handlers, const char *want)
{
	struct config *c = NULL;
	char *got;

	assert_int_equal(parse(handlers, &c, &got), -EINVAL);
	if (strcmp(got, want) != 0)
		fail_msg("for %s\n  got:      %s\n  expected: %s", handlers, got, want);
	free(got);
}

#define WWW "{\"qname\": \"www.dyn.example.test\", \"qtype\": \"A\", \"file\": \"all.txt\", "
#define VIEWS                                                                                      \
	WWW "\"views\": ["                                                                         \
	    "{\"name\": \"nl\", \"prefixes\": [\"198.51.100.0/24\", \"2001:db8:1::/48\", "         \
	    "\"192.0.2.77\"], \"file\": \"nl.txt\"},"                                              \
	    "{\"prefix_file\": \"probes-prefixes.txt\", \"prefixes\": [\"198.51.100.128/25\"], "   \
	    "\"file\": \"probes.txt\", \"policy\": \"all\"}]}"

static void test_config(void **state)
{
	struct config *c = NULL;
	char *errors;

	assert_int_equal(parse(VIEWS, &c, &errors), 0);
	free(errors);
	/* the handler, then its views after the config's handlers */
	assert_int_equal(c->n_handlers, 3);
	assert_int_equal(c->handlers[0].n_views, 2);
	assert_int_equal(c->handlers[0].view, 0);
	assert_int_equal(c->handlers[0].match, CONFIG_MATCH_SUBNET);
	assert_int_equal(c->handlers[1].view, 1);
	assert_string_equal(c->handlers[1].view_name, "nl");
	assert_string_equal(c->handlers[1].qname, "www.dyn.example.test");
	assert_int_equal(c->handlers[1].qtype, 1);
	assert_int_equal(c->handlers[1].n_prefixes, 3);
	assert_int_equal(c->handlers[1].prefixes[1].family, AF_INET6);
	assert_int_equal(c->handlers[1].prefixes[1].len, 48);
	assert_int_equal(c->handlers[1].prefixes[2].len, 32); /* an address is a host prefix */
	assert_null(c->handlers[1].prefix_path);
	assert_int_equal(c->handlers[2].view, 2);
	assert_string_equal(c->handlers[2].view_name, "view 2");
	assert_int_equal(c->handlers[2].policy, CONFIG_POLICY_ALL);
	assert_true(strstr(c->handlers[2].prefix_path, "/probes-prefixes.txt") != NULL);
	assert_true(strstr(c->handlers[2].path, "/probes.txt") != NULL);
	config_free(c);

	assert_int_equal(parse(WWW "\"match\": \"resolver\", \"views\": [{\"prefixes\": "
				   "[\"::/0\"], \"file\": \"x\"}]}",
			       &c, &errors),
			 0);
	free(errors);
	assert_int_equal(c->handlers[0].match, CONFIG_MATCH_RESOLVER);
	config_free(c);
}

static void test_config_errors(void **state)
{
	char want[2048], p[128];

	snprintf(p, sizeof(p), "%s/config.json: error: /handlers/0", dir);

#define V(view) WWW "\"views\": [" view "]}"
	snprintf(want, sizeof(want),
		 "%s/views/0/prefixes/0: \"198.51.100.1/24\" has bits set past its length: the "
		 "prefix is 198.51.100.0/24",
		 p);
	expect_errors(V("{\"prefixes\": [\"198.51.100.1/24\"], \"file\": \"x\"}"), want);
	snprintf(want, sizeof(want),
		 "%s/views/0/prefixes/0: \"10.0.0.0/33\" is not a prefix: the length is 0 to 32",
		 p);
	expect_errors(V("{\"prefixes\": [\"10.0.0.0/33\"], \"file\": \"x\"}"), want);
	snprintf(want, sizeof(want),
		 "%s/views/0/prefixes/0: \"10.0.0.0/08\" is not a prefix: the length is 0 to 32",
		 p);
	expect_errors(V("{\"prefixes\": [\"10.0.0.0/08\"], \"file\": \"x\"}"), want);
	snprintf(want, sizeof(want),
		 "%s/views/0/prefixes/0: \"2001:db8::/\" is not a prefix: the length is 0 to 128",
		 p);
	expect_errors(V("{\"prefixes\": [\"2001:db8::/\"], \"file\": \"x\"}"), want);
	snprintf(want, sizeof(want),
		 "%s/views/0/prefixes/1: \"nl\" is not a prefix (ADDRESS/LENGTH, IPv4 or IPv6)", p);
	expect_errors(V("{\"prefixes\": [\"10.0.0.0/8\", \"nl\"], \"file\": \"x\"}"), want);
	snprintf(want, sizeof(want),
		 "%s/views/0: needs \"prefixes\" or \"prefix_file\": the clients it is for", p);
	expect_errors(V("{\"file\": \"x\"}"), want);
	snprintf(want, sizeof(want), "%s/views/0: missing required key \"file\"", p);
	expect_errors(V("{\"prefixes\": [\"10.0.0.0/8\"]}"), want);
	snprintf(want, sizeof(want), "%s/views/0/qtype: unknown key", p);
	expect_errors(V("{\"prefixes\": [\"10.0.0.0/8\"], \"file\": \"x\", \"qtype\": \"A\"}"),
		      want);
	snprintf(want, sizeof(want), "%s/views: needs at least 1 item", p);
	expect_errors(V(""), want);
	snprintf(want, sizeof(want), "%s/views/1: expected an object, got a string", p);
	expect_errors(V("{\"prefixes\": [\"10.0.0.0/8\"], \"file\": \"x\"}, \"y\""), want);
	snprintf(want, sizeof(want), "%s/views/0/count: 0 is out of range (1 to 256)", p);
	expect_errors(V("{\"prefixes\": [\"10.0.0.0/8\"], \"file\": \"x\", \"count\": 0}"), want);
	snprintf(want, sizeof(want),
		 "%s/match: expected one of \"subnet\", \"resolver\", got \"ecs\"", p);
	expect_errors(WWW "\"match\": \"ecs\"}", want);
	/* a prefix in two views: which should answer would be a guess */
	snprintf(want, sizeof(want), "%s: 10.0.0.0/8 is in two views, \"a\" and \"b\"", p);
	expect_errors(
	    V("{\"name\": \"a\", \"prefixes\": [\"10.0.0.0/8\"], \"file\": \"x\"},"
	      "{\"name\": \"b\", \"prefixes\": [\"10.0.0.0/8\", \"10.0.0.0/9\"], \"file\": \"y\"}"),
	    want);
	/* an IPv4 prefix and its IPv4-mapped IPv6 spelling are one prefix of the trie, as a
	 * prefix file's lines are */
	snprintf(want, sizeof(want), "%s: 198.51.100.0/24 is in two views, \"a\" and \"b\"", p);
	expect_errors(
	    V("{\"name\": \"a\", \"prefixes\": [\"198.51.100.0/24\"], \"file\": \"x\"},"
	      "{\"name\": \"b\", \"prefixes\": [\"::ffff:198.51.100.0/120\"], \"file\": \"y\"}"),
	    want);
	snprintf(want, sizeof(want), "%s: ::ffff:10.0.0.0/104 is in two views, \"a\" and \"b\"", p);
	expect_errors(
	    V("{\"name\": \"a\", \"prefixes\": [\"::ffff:10.0.0.0/104\"], \"file\": \"x\"},"
	      "{\"name\": \"b\", \"prefixes\": [\"10.0.0.0/8\", \"::ffff:0:0/96\"], \"file\": \"y\"}"),
	    want);
	/* views belong to address lists */
	snprintf(want, sizeof(want), "%s/views: unknown key", p);
	expect_errors("{\"qname\": \"w.dyn.example.test\", \"kind\": \"whoami\", \"views\": "
		      "[{\"prefixes\": [\"::/0\"], "
		      "\"file\": \"x\"}]}",
		      want);
	/* the second handler's views land after the first one's */
	{
		struct config *c = NULL;
		char *errors;

		assert_int_equal(
		    parse(
			V("{\"prefixes\": [\"10.0.0.0/8\"], \"file\": \"x\"}") ","
									       "{\"qname\": "
									       "\"v.dyn.example."
									       "test\", \"qtype\": "
									       "\"AAAA\", "
									       "\"file\": \"y\", "
									       "\"views\": ["
									       "{\"prefixes\": "
									       "[\"10.0.0.0/8\"], "
									       "\"file\": \"z1\"}, "
									       "{\"prefixes\": "
									       "[\"::/0\"], "
									       "\"file\": "
									       "\"z2\"}]}",
			&c, &errors),
		    0);
		free(errors);
		assert_int_equal(c->n_handlers, 5);
		assert_int_equal(c->handlers[2].view, 1);
		assert_string_equal(c->handlers[2].qname, "www.dyn.example.test");
		assert_int_equal(c->handlers[3].view, 1);
		assert_int_equal(c->handlers[4].view, 2);
		assert_string_equal(c->handlers[4].qname, "v.dyn.example.test");
		assert_int_equal(c->handlers[4].qtype, 28);
		assert_true(strstr(c->handlers[4].path, "/z2") != NULL);
		config_free(c);
	}
#undef V
}

static struct snapshot *build(const char *handlers, const struct snapshot *prev, char **errors)
{
	struct snapshot_opts o = {
	    .prev = prev, .reuse_unchanged = true, .keep_prev_on_error = true};
	struct config *c = NULL;
	struct snapshot *s = NULL;
	struct diag d;

	assert_int_equal(parse(handlers, &c, errors), 0);
	free(*errors);
	diag_init(&d);
	assert_int_equal(snapshot_new(c, prev ? &o : NULL, &d, &s), 0);
	*errors = diag_join(&d, "|");
	diag_clear(&d);
	return s;
}

/* The A answer for a client, with its scope, as "ADDR/SCOPE ADDR/SCOPE ...". */
static char *ask(const struct snapshot *s, struct rotation *rot, const char *remote,
		 const char *real)
{
	struct answer_memo memo = {0};
	struct answer_ctx ctx = {.snap = s, .rot = rot, .memo = &memo, .abi = 3};
	struct pp_msg m = {.kind = PP_Q,
			   .qname = "www.dyn.example.test",
			   .qname_len = 20,
			   .qtype = "A",
			   .id = 1,
			   .remote = remote,
			   .real_remote = real};
	static char res[65536];
	struct buf out;
	size_t n = 0;

	buf_init(&out);
	answer_query(&ctx, &m, &out);
	buf_putc(&out, 0);
	res[0] = 0;
	for (char *line = out.data; line && *line;) {
		char *nl = strchr(line, '\n'), *f[9];
		int k = 0;

		*nl = 0;
		for (char *t = line; k < 9 && t; k++) {
			f[k] = t;
			t = strchr(t, '\t');
			if (t)
				*t++ = 0;
		}
		if (k == 9 && strcmp(f[0], "DATA") == 0)
			n += (size_t)snprintf(res + n, sizeof(res) - n, "%s%s/%s", n ? " " : "",
					      f[8], f[1]);
		line = nl + 1;
	}
	buf_free(&out);
	return res;
}

static void test_answers(void **state)
{
	struct rotation rot = {0};
	struct snapshot *s;
	char *errors;

	s = build(VIEWS, NULL, &errors);
	assert_string_equal(errors, "");
	free(errors);
	assert_non_null(s->handlers[0].views);
	assert_int_equal(s->handlers[0].views->trie.prefixes,
			 7); /* 3 + 1 inline, 3 from the file (one twice) */
	assert_int_equal(snapshot_rotation(s, NULL, 0, &rot, NULL), 0);

	/* the ECS subnet decides; the scope is 25: the other view's /25 lies inside the /24 */
	assert_string_equal(ask(s, &rot, "127.0.0.1", "198.51.100.0/24"), "192.0.2.101/25");
	assert_string_equal(ask(s, &rot, "127.0.0.1", "198.51.100.0/24"), "192.0.2.102/25");
	/* the longest prefix wins: the /25 is the other view's, policy all */
	assert_string_equal(ask(s, &rot, "127.0.0.1", "198.51.100.200/32"), "192.0.2.201/25");
	assert_string_equal(ask(s, &rot, "127.0.0.1", "203.0.113.9/32"), "192.0.2.201/24");
	assert_string_equal(ask(s, &rot, "127.0.0.1", "10.9.8.7/32"), "192.0.2.201/8");
	assert_string_equal(ask(s, &rot, "2001:db8:99:1::5", "2001:db8:99:1::/64"),
			    "192.0.2.201/48");
	assert_string_equal(ask(s, &rot, "::1", "2001:db8:1:ff::/64"), "192.0.2.103/48");
	assert_string_equal(ask(s, &rot, "127.0.0.1", "192.0.2.77/32"), "192.0.2.101/32");
	/* everyone else: the handler's own list, its own rotation, and the bits that decided */
	assert_string_equal(ask(s, &rot, "127.0.0.1", "127.0.0.1/32"), "192.0.2.1/2");
	assert_string_equal(ask(s, &rot, "127.0.0.1", "127.0.0.1/32"), "192.0.2.2/2");
	/* no ECS (ABI < 3) or the SOA walk's 0.0.0.0/0: the resolver is the client */
	assert_string_equal(ask(s, &rot, "198.51.100.9", NULL), "192.0.2.102/25");
	assert_string_equal(ask(s, &rot, "198.51.100.9", "0.0.0.0/0"), "192.0.2.103/25");
	assert_string_equal(
	    ask(s, &rot, "fe80::1%eth0", NULL),
	    "192.0.2.1/1"); /* fe80:: parts from 2001:db8:: and ::ffff:0:0 at its first bit */
	/* no bits decided: the scope that keeps PowerDNS's query cache away from addresses */
	assert_string_equal(ask(s, &rot, NULL, NULL), "192.0.2.2/32");
	/* status: the next address of each */
	{
		uint32_t idx;

		/* view nl answered 6 times: its next is its first address again */
		assert_true(answer_next(s, &rot, &s->handlers[1], &idx, NULL));
		assert_int_equal(idx, 0);
		assert_true(answer_next(s, &rot, &s->handlers[0], &idx, NULL));
		assert_int_equal(idx, 0);
	}
	rotation_done(&rot);
	snapshot_free(s);

	/* match resolver: ECS is not looked at */
	s = build(WWW "\"match\": \"resolver\", \"views\": [{\"prefixes\": [\"127.0.0.0/8\"], "
		      "\"file\": \"nl.txt\"}]}",
		  NULL, &errors);
	free(errors);
	assert_int_equal(snapshot_rotation(s, NULL, 0, &rot, NULL), 0);
	assert_string_equal(ask(s, &rot, "127.0.0.1", "198.51.100.0/24"), "192.0.2.101/8");
	assert_string_equal(ask(s, &rot, "192.0.2.1", "127.0.0.0/8"), "192.0.2.1/1");
	rotation_done(&rot);
	snapshot_free(s);

	/* a view whose file is missing: its clients get the handler's list, and it is said */
	s = build(WWW "\"views\": [{\"prefixes\": [\"127.0.0.0/8\"], \"file\": \"missing.txt\"}]}",
		  NULL, &errors);
	assert_true(strstr(errors, "missing.txt: error: cannot open") != NULL);
	free(errors);
	assert_int_equal(s->n_failed, 1);
	assert_int_equal(snapshot_rotation(s, NULL, 0, &rot, NULL), 0);
	assert_string_equal(ask(s, &rot, "127.0.0.1", NULL), "192.0.2.1/8");
	rotation_done(&rot);
	snapshot_free(s);
}

static void test_prefix_files(void **state)
{
	struct snapshot *s, *s2, *s3;
	struct rotation rot = {0};
	char *errors, want[1024];

	/* the files written, a later clock tick: a file read in the tick it was written in is
	 * read again by the next build, rightly, and this test wants the first read settled
	 * (sleeping after the first build, as it did, left that to the machine's load) */
	usleep(20000);
	s = build(VIEWS, NULL, &errors);
	free(errors);
	/* unchanged: the next snapshot shares the trie */
	s2 = build(VIEWS, s, &errors);
	assert_string_equal(errors, "");
	free(errors);
	assert_ptr_equal(s2->handlers[0].views, s->handlers[0].views);
	assert_true(snapshot_same(s2, s));
	snapshot_free(s2);

	/* a bad line: every bad line said, the previous prefixes kept */
	usleep(20000); /* a new clock tick: the rewrite is seen as one */
	fixture_write(dir, "probes-prefixes.txt",
		      "203.0.113.0/24\n198.51.100.0/24\n10.0.0.1/8\nxyz\n");
	s2 = build(VIEWS, s, &errors);
	snprintf(want, sizeof(want),
		 "%s/probes-prefixes.txt:2: error: \"198.51.100.0/24\" is also in view \"nl\"|"
		 "%s/probes-prefixes.txt:3: error: \"10.0.0.1/8\" has bits set past its length: "
		 "the prefix is 10.0.0.0/8|"
		 "%s/probes-prefixes.txt:4: error: \"xyz\" is not a prefix (ADDRESS/LENGTH, IPv4 "
		 "or IPv6)|"
		 "www.dyn.example.test A: keeping the previous prefixes of its views (7)",
		 dir, dir, dir);
	assert_string_equal(errors, want);
	free(errors);
	assert_ptr_equal(s2->handlers[0].views, s->handlers[0].views);
	assert_false(snapshot_same(s2, s)); /* the problem is news */

	/* fixed: read anew */
	usleep(20000);
	fixture_write(dir, "probes-prefixes.txt", "192.0.2.0/24\n");
	s3 = build(VIEWS, s2, &errors);
	assert_string_equal(errors, "");
	free(errors);
	assert_ptr_not_equal(s3->handlers[0].views, s->handlers[0].views);
	assert_int_equal(s3->handlers[0].views->trie.prefixes, 5);
	assert_int_equal(snapshot_rotation(s3, NULL, 0, &rot, NULL), 0);
	/* 26 bits: view nl's 192.0.2.77 lies in the new /24 */
	assert_string_equal(ask(s3, &rot, "127.0.0.1", "192.0.2.5/32"), "192.0.2.201/26");
	assert_string_equal(ask(s3, &rot, "127.0.0.1", "203.0.113.9/32"),
			    "192.0.2.1/5"); /* 203 and 198 part at bit 5 */
	rotation_done(&rot);
	snapshot_free(s3);
	snapshot_free(s2);
	snapshot_free(s);

	/* a first load with a bad prefix file: the inline prefixes only */
	s = build(VIEWS, NULL, &errors);
	assert_true(
	    strstr(
		errors,
		"www.dyn.example.test A: its views get the clients of their inline prefixes only "
		"until the prefix files are fixed (4 prefixes)") ==
	    NULL); /* the file is fine now */
	free(errors);
	snapshot_free(s);
	fixture_write(dir, "probes-prefixes.txt", "10.0.0.0/8\nbad\n");
	s = build(VIEWS, NULL, &errors);
	snprintf(want, sizeof(want),
		 "%s/probes-prefixes.txt:2: error: \"bad\" is not a prefix (ADDRESS/LENGTH, IPv4 "
		 "or IPv6)|"
		 "www.dyn.example.test A: its views get the clients of their inline prefixes only "
		 "until the prefix "
		 "files are fixed (4 prefixes)",
		 dir);
	assert_string_equal(errors, want);
	free(errors);
	assert_int_equal(snapshot_rotation(s, NULL, 0, &rot, NULL), 0);
	assert_string_equal(ask(s, &rot, "127.0.0.1", "10.1.1.1/32"), "192.0.2.1/1");
	assert_string_equal(ask(s, &rot, "127.0.0.1", "198.51.100.200/32"), "192.0.2.201/25");
	rotation_done(&rot);
	snapshot_free(s);
	fixture_write(dir, "probes-prefixes.txt", "203.0.113.0/24\n2001:db8:99::/48\n10.0.0.0/8\n");
}

/* A prefix in a prefix file that another view has already is refused, however the views
 * nest: view b's file holds 10.0.0.0/24 (new) and then 10.0.0.0/8, which is view a's. The
 * check is for that exact prefix, not for the longest one that holds its address (b's own
 * /24, which would let the /8 pass as a repeat of b's and leave 10.9.9.9 to a). */
static void test_prefix_in_two_views(void **state)
{
#define TWO                                                                                        \
	WWW "\"views\": ["                                                                         \
	    "{\"name\": \"a\", \"prefixes\": [\"10.0.0.0/8\"], \"file\": \"nl.txt\"},"             \
	    "{\"name\": \"b\", \"prefix_file\": \"shadow.txt\", \"file\": \"probes.txt\"}]}"
	struct rotation rot = {0};
	struct snapshot *s;
	char *errors, want[1024];

	fixture_write(dir, "shadow.txt",
		      "10.0.0.0/24\n10.0.0.0/8\n::ffff:10.0.0.0/104\n10.0.0.0/24\n");
	s = build(TWO, NULL, &errors);
	snprintf(want, sizeof(want),
		 "%s/shadow.txt:2: error: \"10.0.0.0/8\" is also in view \"a\"|"
		 "%s/shadow.txt:3: error: \"::ffff:10.0.0.0/104\" is also in view \"a\"|"
		 "www.dyn.example.test A: its views get the clients of their inline prefixes only "
		 "until the prefix files are fixed (1 prefixes)",
		 dir, dir);
	assert_string_equal(errors, want);
	free(errors);
	assert_int_equal(snapshot_rotation(s, NULL, 0, &rot, NULL), 0);
	assert_string_equal(ask(s, &rot, "127.0.0.1", "10.9.9.9/32"), "192.0.2.101/8");
	rotation_done(&rot);
	snapshot_free(s);

	/* a prefix twice for one view, in any spelling, is harmless; a longer one of another
	 * view's prefix is a prefix of its own */
	fixture_write(dir, "shadow.txt", "10.0.0.0/24\n::ffff:10.0.0.0/120\n10.0.0.0/24\n");
	s = build(TWO, NULL, &errors);
	assert_string_equal(errors, "");
	free(errors);
	assert_int_equal(snapshot_rotation(s, NULL, 0, &rot, NULL), 0);
	assert_string_equal(ask(s, &rot, "127.0.0.1", "10.0.0.9/32"), "192.0.2.201/24");
	assert_string_equal(ask(s, &rot, "127.0.0.1", "10.9.9.9/32"),
			    "192.0.2.101/13"); /* parts from the /24 at bit 13 */
	rotation_done(&rot);
	snapshot_free(s);
#undef TWO
}

/* Files that are missing, and still missing at the next load, make no change: the daemon
 * applies nothing new at each poll (a handler without a list carries no rotation over). */
static void test_missing_files_same(void **state)
{
#define MISSING                                                                                    \
	"{\"qname\": \"www.dyn.example.test\", \"qtype\": \"A\", \"file\": \"gone.txt\", "         \
	"\"views\": [{\"name\": \"a\", \"prefixes\": [\"10.0.0.0/8\"], \"file\": \"gone-a.txt\"}," \
	"{\"name\": \"b\", \"prefix_file\": \"gone-prefixes.txt\", \"file\": \"nl.txt\"}]},"       \
	"{\"qname\": \"other.dyn.example.test\", \"qtype\": \"AAAA\", \"file\": \"gone6.txt\"}"
	struct snapshot *s, *s2, *s3;
	char *errors;

	s = build(MISSING, NULL, &errors);
	assert_non_null(strstr(errors, "/gone.txt: error: cannot open"));
	assert_non_null(strstr(errors, "/gone-prefixes.txt: error: cannot open"));
	free(errors);
	assert_int_equal(s->n_failed, 3);
	/* a reload says what it keeps, which a first load does not: news once */
	s2 = build(MISSING, s, &errors);
	assert_non_null(strstr(
	    errors, "gone.txt: www.dyn.example.test A serves nothing until the file is fixed"));
	free(errors);
	snapshot_free(s);
	/* and then nothing changes, however often it is tried */
	for (int k = 0; k < 3; k++) {
		s = build(MISSING, s2, &errors);
		assert_string_equal(errors, "");
		free(errors);
		assert_true(snapshot_same(s, s2));
		snapshot_free(s2);
		s2 = s;
	}
	/* one of them comes: that is a change */
	fixture_write(dir, "gone6.txt", "2001:db8::1\n");
	s3 = build(MISSING, s2, &errors);
	assert_string_equal(errors, "");
	free(errors);
	assert_false(snapshot_same(s3, s2));
	assert_int_equal(s3->n_failed, 2);
	{
		char path[128];

		snprintf(path, sizeof(path), "%s/gone6.txt", dir);
		assert_int_equal(unlink(path), 0);
	}
	snapshot_free(s3);
	snapshot_free(s2);
#undef MISSING
}

/* Policy "all" over a list longer than a DNS message holds: the first CONFIG_ALL_MAX
 * addresses, and a warning when the list comes in (not views, but the same helpers). */
static void test_all_capped(void **state)
{
	struct rotation rot = {0};
	struct snapshot *s;
	struct diag w;
	char *errors, *got;
	size_t n = 0;

	fixture_write(dir, "big.txt", "10.0.0.0/20\n10.1.0.0\n"); /* 4,097 addresses */
	s = build(
	    "{\"qname\": \"www.dyn.example.test\", \"qtype\": \"A\", \"file\": \"big.txt\", \"policy\": \"all\"}",
	    NULL, &errors);
	free(errors);
	assert_int_equal(s->handlers[0].list->n, 4097);
	assert_int_equal(snapshot_rotation(s, NULL, 0, &rot, NULL), 0);
	got = ask(s, &rot, "127.0.0.1", NULL);
	for (char *p = got; (p = strchr(p, '/')); p++)
		n++;
	assert_int_equal(n, CONFIG_ALL_MAX);
	assert_true(strncmp(got, "10.0.0.0/32 10.0.0.1/32 ", 24) == 0);
	diag_init(&w);
	snapshot_warnings(s, &w);
	assert_int_equal(w.n_msgs, 1);
	assert_true(
	    strstr(w.msgs[0],
		   "/big.txt: warning: 4097 addresses under policy \"all\": www.dyn.example.test A "
		   "answers the first 2048 (what a DNS message holds)") != NULL);
	diag_clear(&w);
	rotation_done(&rot);
	snapshot_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_config_errors),
	    cmocka_unit_test(test_answers),
	    cmocka_unit_test(test_prefix_files),
	    cmocka_unit_test(test_prefix_in_two_views),
	    cmocka_unit_test(test_missing_files_same),
	    cmocka_unit_test(test_all_capped),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
