/* SPDX-License-Identifier: MIT */
/* Several zones: "zones" beside the config's own domain (ids 1, 2, ...), handlers in the
 * zone of their longest apex, SOA and NS per zone, AXFR per zone id, and the errors. */
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
#include "config.h"
#include "fixture.h"
#include "snapshot.h"

#define HEAD                                                                                            \
	"{\"domain\": \"dyn.example.test\", \"soa\": \"ns1.example.test. h.example.test. 1 2 3 4 5\", " \
	"\"nameservers\": [\"ns1.example.test\"], \"ttl\": 60, "
#define ZONES                                                                                                           \
	"\"zones\": [{\"domain\": \"2.0.192.in-addr.arpa\", \"soa\": \"ns1.example.test. h.example.test. 7 2 3 4 5\", " \
	"\"nameservers\": [\"ns1.example.test\", \"ns2.example.test.\"], \"ttl\": 300}, "                               \
	"{\"domain\": \"sub.dyn.example.test\", \"soa\": \"ns1.example.test. h.example.test. 9 2 3 4 5\", "             \
	"\"nameservers\": [\"ns9.example.test\"]}], "

static char *errors_of(const char *text)
{
	struct config *c = NULL;
	struct diag d;
	char *all;

	diag_init(&d);
	assert_int_equal(config_parse(text, strlen(text), "cfg.json", &d, &c), -EINVAL);
	all = diag_join(&d, "|");
	diag_clear(&d);
	return all;
}

static void test_config(void **state)
{
	const char *text = HEAD ZONES
	    "\"handlers\": ["
	    "{\"qname\": \"1.2.0.192.in-addr.arpa\", \"kind\": \"static\", \"qtype\": \"PTR\", \"content\": [\"a.example.test\"]},"
	    "{\"qname\": \"www.sub.dyn.example.test\", \"kind\": \"static\", \"qtype\": \"TXT\", \"content\": [\"x\"]},"
	    "{\"qname\": \"www.dyn.example.test\", \"kind\": \"static\", \"qtype\": \"TXT\", \"content\": [\"y\"]}]}";
	struct config *c = NULL;
	struct diag d;
	char *e;

	diag_init(&d);
	assert_int_equal(config_parse(text, strlen(text), "cfg.json", &d, &c), 0);
	diag_clear(&d);
	assert_int_equal(c->n_zones, 3);
	assert_string_equal(c->domain, "dyn.example.test");
	assert_ptr_equal(c->domain, c->zones[0].domain);
	assert_string_equal(c->zones[1].domain, "2.0.192.in-addr.arpa");
	assert_int_equal(c->zones[1].ttl, 300);
	assert_int_equal(c->zones[2].ttl, 60); /* the config's ttl when left out */
	assert_int_equal(c->zones[2].n_nameservers, 1);
	/* each handler in the zone of its longest apex */
	assert_int_equal(c->handlers[0].zone, 1);
	assert_int_equal(c->handlers[1].zone, 2);
	assert_int_equal(c->handlers[2].zone, 0);
	config_free(c);

	e = errors_of(HEAD ZONES
		      "\"handlers\": [{\"qname\": \"www.other.test\", \"kind\": \"whoami\"}]}");
	assert_string_equal(
	    e,
	    "cfg.json: error: /handlers/0/qname: \"www.other.test\" is in none of the zones (the "
	    "domain \"dyn.example.test\" and the 2 of \"zones\")");
	free(e);
	e = errors_of(
	    HEAD
	    "\"zones\": [{\"domain\": \"Dyn.Example.Test.\", \"soa\": \"a b 1 2 3 4 5\", "
	    "\"nameservers\": [\"a\"]}, {\"domain\": \"x.test\", \"soa\": \"a b 1 2 3 4 5\", \"nameservers\": [\"a\"]},"
	    "{\"domain\": \"x.test\", \"soa\": \"a b 2 2 3 4 5\", \"nameservers\": [\"a\"]}], \"handlers\": []}");
	assert_string_equal(
	    e,
	    "cfg.json: error: /zones/0/domain: \"Dyn.Example.Test.\" is already a zone (the domain)|"
	    "cfg.json: error: /zones/2/domain: \"x.test\" is already a zone (/zones/1)");
	free(e);
	e = errors_of(
	    HEAD
	    "\"zones\": [{\"domain\": \"x.test\", \"soa\": \"a b 1 2 3 4\", \"ttl\": -1, \"www\": 1}, 7], "
	    "\"handlers\": []}");
	assert_string_equal(
	    e,
	    "cfg.json: error: /zones/0/www: unknown key|"
	    "cfg.json: error: /zones/0: missing required key \"nameservers\"|"
	    "cfg.json: error: /zones/0/soa: \"a b 1 2 3 4\" is not \"MNAME RNAME SERIAL REFRESH RETRY "
	    "EXPIRE MINIMUM\" (host names and decimal numbers, single spaces)|"
	    "cfg.json: error: /zones/0/ttl: -1 is out of range (0 to 2147483647)|"
	    "cfg.json: error: /zones/1: expected an object, got an integer");
	free(e);
	e = errors_of(HEAD "\"zones\": [], \"handlers\": []}");
	assert_string_equal(e, "cfg.json: error: /zones: needs at least 1 item");
	free(e);
	/* the apex rules hold at every zone's apex */
	e = errors_of(
	    HEAD ZONES
	    "\"handlers\": [{\"qname\": \"sub.dyn.example.test\", \"kind\": \"static\", \"qtype\": "
	    "\"NS\", \"content\": [\"ns.example.test\"]}]}");
	assert_string_equal(
	    e, "cfg.json: error: /handlers/0: NS records at the apex come from \"nameservers\"");
	free(e);
}

static const char *run(const struct answer_ctx *ctx, const char *line)
{
	static char got[4096];
	char copy[256];
	struct pp_msg m;
	const char *why;
	struct buf out;

	snprintf(copy, sizeof(copy), "%s", line);
	assert_int_equal(pp_parse(copy, strlen(copy), ctx->abi, &m, &why), 0);
	buf_init(&out);
	if (m.kind == PP_AXFR)
		answer_axfr(ctx, &m, &out);
	else
		answer_query(ctx, &m, &out);
	buf_putc(&out, 0);
	snprintf(got, sizeof(got), "%s", out.data);
	buf_free(&out);
	return got;
}

static void test_answers(void **state)
{
	char dir[64], text[4096], path[128];
	struct config *c = NULL;
	struct snapshot *s = NULL;
	struct rotation rot = {0};
	struct answer_memo memo = {0};
	struct diag d;
	struct answer_ctx ctx = {.rot = &rot, .memo = &memo, .abi = 4};

	strcpy(dir, "/tmp/test-zones.XXXXXX");
	assert_non_null(mkdtemp(dir));
	fixture_write(dir, "v4.txt", "192.0.2.1\n");
	snprintf(
	    text, sizeof(text),
	    HEAD ZONES
	    "\"handlers\": ["
	    "{\"qname\": \"1.2.0.192.in-addr.arpa\", \"kind\": \"static\", \"qtype\": \"PTR\", \"content\": [\"a.example.test\"]},"
	    "{\"qname\": \"www.sub.dyn.example.test\", \"qtype\": \"A\", \"file\": \"v4.txt\"},"
	    "{\"qname\": \"www.dyn.example.test\", \"kind\": \"static\", \"qtype\": \"TXT\", \"content\": [\"y\"]}]}");
	snprintf(path, sizeof(path), "%s/config.json", dir);
	diag_init(&d);
	if (config_parse(text, strlen(text), path, &d, &c) != 0)
		fail_msg("%s", d.n_msgs ? d.msgs[0] : "?");
	assert_int_equal(snapshot_new(c, NULL, &d, &s), 0);
	assert_int_equal(d.n_msgs, 0);
	assert_int_equal(snapshot_rotation(s, NULL, 0, &rot, NULL), 0);
	ctx.snap = s;

	/* an SOA for each apex, with its own id, ttl and serial */
	assert_string_equal(
	    run(&ctx, "Q\t2.0.192.IN-ADDR.arpa\tIN\tSOA\t-1\t0.0.0.0\t0.0.0.0\t0.0.0.0/0"),
	    "DATA\t0\t1\t2.0.192.IN-ADDR.arpa\tIN\tSOA\t300\t2\tns1.example.test. h.example.test. 7 2 3 4 5\nEND\n");
	assert_string_equal(
	    run(&ctx, "Q\tsub.dyn.example.test\tIN\tSOA\t-1\t0.0.0.0\t0.0.0.0\t0.0.0.0/0"),
	    "DATA\t0\t1\tsub.dyn.example.test\tIN\tSOA\t60\t3\tns1.example.test. h.example.test. 9 2 3 4 5\nEND\n");
	assert_string_equal(
	    run(&ctx, "Q\tdyn.example.test\tIN\tSOA\t-1\t0.0.0.0\t0.0.0.0\t0.0.0.0/0"),
	    "DATA\t0\t1\tdyn.example.test\tIN\tSOA\t60\t1\tns1.example.test. h.example.test. 1 2 3 4 5\nEND\n");
	assert_string_equal(
	    run(&ctx, "Q\t0.192.in-addr.arpa\tIN\tSOA\t-1\t0.0.0.0\t0.0.0.0\t0.0.0.0/0"), "END\n");
	/* NS of the zone at its apex; records carry their zone's id and ttl */
	assert_string_equal(
	    run(&ctx, "Q\t2.0.192.in-addr.arpa\tIN\tNS\t2\t127.0.0.1\t127.0.0.1\t127.0.0.1/32"),
	    "DATA\t0\t1\t2.0.192.in-addr.arpa\tIN\tNS\t300\t2\tns1.example.test.\n"
	    "DATA\t0\t1\t2.0.192.in-addr.arpa\tIN\tNS\t300\t2\tns2.example.test.\nEND\n");
	assert_string_equal(
	    run(&ctx, "Q\t1.2.0.192.in-addr.arpa\tIN\tANY\t2\t127.0.0.1\t127.0.0.1\t127.0.0.1/32"),
	    "DATA\t0\t1\t1.2.0.192.in-addr.arpa\tIN\tPTR\t300\t2\ta.example.test.\nEND\n");
	assert_string_equal(
	    run(&ctx,
		"Q\twww.sub.dyn.example.test\tIN\tANY\t3\t127.0.0.1\t127.0.0.1\t127.0.0.1/32"),
	    "DATA\t32\t1\twww.sub.dyn.example.test\tIN\tA\t0\t3\t192.0.2.1\nEND\n");
	/* AXFR: the zone of the id, and its records only */
	assert_string_equal(
	    run(&ctx, "AXFR\t2\t2.0.192.in-addr.arpa"),
	    "DATA\t0\t1\t2.0.192.in-addr.arpa\tIN\tSOA\t300\t2\tns1.example.test. h.example.test. 7 2 3 4 5\n"
	    "DATA\t0\t1\t2.0.192.in-addr.arpa\tIN\tNS\t300\t2\tns1.example.test.\n"
	    "DATA\t0\t1\t2.0.192.in-addr.arpa\tIN\tNS\t300\t2\tns2.example.test.\n"
	    "DATA\t0\t1\t1.2.0.192.in-addr.arpa\tIN\tPTR\t300\t2\ta.example.test.\nEND\n");
	assert_string_equal(
	    run(&ctx, "AXFR\t1\tdyn.example.test"),
	    "DATA\t0\t1\tdyn.example.test\tIN\tSOA\t60\t1\tns1.example.test. h.example.test. 1 2 3 4 5\n"
	    "DATA\t0\t1\tdyn.example.test\tIN\tNS\t60\t1\tns1.example.test.\n"
	    "DATA\t0\t1\twww.dyn.example.test\tIN\tTXT\t60\t1\t\"y\"\nEND\n");
	assert_string_equal(run(&ctx, "AXFR\t2\tdyn.example.test"), "FAIL\n");
	assert_string_equal(run(&ctx, "AXFR\t4\tx.test"), "FAIL\n");
	assert_string_equal(run(&ctx, "AXFR\t0\tdyn.example.test"), "FAIL\n");

	rotation_done(&rot);
	snapshot_free(s);
	diag_clear(&d);
	fixture_cleanup(dir);
}

static void test_catch_all(void **state)
{
	const char *text =
	    HEAD ZONES "\"catch_all\": {\"soa\": \"ns1.example.test. h.example.test. 42 2 3 4 5\", "
		       "\"nameservers\": [\"ns.catch.test\"], \"ttl\": 30}, \"handlers\": []}";
	struct config *c = NULL;
	struct snapshot *s = NULL;
	struct rotation rot = {0};
	struct answer_memo memo = {0};
	struct diag d;
	struct answer_ctx ctx = {.rot = &rot, .memo = &memo, .abi = 1};
	char *e;

	diag_init(&d);
	assert_int_equal(config_parse(text, strlen(text), "cfg.json", &d, &c), 0);
	assert_non_null(c->catch_all);
	assert_int_equal(c->catch_all->ttl, 30);
	assert_int_equal(snapshot_new(c, NULL, &d, &s), 0);
	diag_clear(&d);
	assert_int_equal(snapshot_rotation(s, NULL, 0, &rot, NULL), 0);
	ctx.snap = s;
	/* a name in none of the zones is an apex of its own, id 4 (after the 3 zones) */
	assert_string_equal(
	    run(&ctx, "Q\twww.Other.test\tIN\tSOA\t-1\t0.0.0.0"),
	    "DATA\twww.Other.test\tIN\tSOA\t30\t4\tns1.example.test. h.example.test. 42 2 3 4 5\nEND\n");
	assert_string_equal(
	    run(&ctx, "Q\twww.other.test\tIN\tANY\t4\t127.0.0.1"),
	    "DATA\twww.other.test\tIN\tSOA\t30\t4\tns1.example.test. h.example.test. 42 2 3 4 5\n"
	    "DATA\twww.other.test\tIN\tNS\t30\t4\tns.catch.test.\nEND\n");
	assert_string_equal(run(&ctx, "Q\twww.other.test\tIN\tNS\t4\t127.0.0.1"),
			    "DATA\twww.other.test\tIN\tNS\t30\t4\tns.catch.test.\nEND\n");
	assert_string_equal(run(&ctx, "Q\twww.other.test\tIN\tA\t4\t127.0.0.1"), "END\n");
	/* never the root, and never a name inside a zone (which would cut the zone) */
	assert_string_equal(run(&ctx, "Q\t.\tIN\tSOA\t-1\t0.0.0.0"), "END\n");
	assert_string_equal(run(&ctx, "Q\tnx.dyn.example.test\tIN\tSOA\t-1\t0.0.0.0"), "END\n");
	assert_string_equal(run(&ctx, "Q\tnx.dyn.example.test\tIN\tANY\t1\t127.0.0.1"), "END\n");
	assert_string_equal(run(&ctx, "Q\t9.2.0.192.in-addr.arpa\tIN\tSOA\t-1\t0.0.0.0"), "END\n");
	assert_string_equal(
	    run(&ctx, "Q\tdyn.example.test\tIN\tSOA\t-1\t0.0.0.0"),
	    "DATA\tdyn.example.test\tIN\tSOA\t60\t1\tns1.example.test. h.example.test. 1 2 3 4 5\nEND\n");
	/* no AXFR of it */
	assert_string_equal(run(&ctx, "AXFR\t4"), "FAIL\n");
	rotation_done(&rot);
	snapshot_free(s);

	e = errors_of(
	    HEAD
	    "\"catch_all\": {\"domain\": \"x.test\", \"nameservers\": [\"a\"]}, \"handlers\": []}");
	assert_string_equal(e, "cfg.json: error: /catch_all/domain: unknown key|"
			       "cfg.json: error: /catch_all: missing required key \"soa\"");
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_answers),
	    cmocka_unit_test(test_catch_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
