/* SPDX-License-Identifier: MIT */
/* Handler kinds (kind.h): the table, static records of every type in the form PowerDNS
 * wants, whoami for IPv4, IPv6 and client subnets, the checks across handlers, and the
 * kinds through answer_query() next to an address list. */
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
#include "kind.h"
#include "snapshot.h"

#define HEAD                                                                                       \
	"{\"domain\": \"dyn.example.test\", \"soa\": \"ns1.example.test. h.example.test. 1 2 3 4 " \
	"5\", "                                                                                    \
	"\"nameservers\": [\"ns1.example.test\"], \"ttl\": 60, \"handlers\": ["
#define TAIL "]}"

static struct config *parse_ok(const char *handlers)
{
	char text[16384];
	struct config *c = NULL;
	struct diag d;

	snprintf(text, sizeof(text), HEAD "%s" TAIL, handlers);
	diag_init(&d);
	if (config_parse(text, strlen(text), "/tmp/cfg.json", &d, &c) != 0)
		fail_msg("rejected: %s", d.n_msgs ? d.msgs[0] : "?");
	diag_clear(&d);
	return c;
}

static void expect_errors(const char *handlers, const char *want)
{
	char text[16384], *got;
	struct config *c = NULL;
	struct diag d;

	snprintf(text, sizeof(text), HEAD "%s" TAIL, handlers);
	diag_init(&d);
	assert_int_equal(config_parse(text, strlen(text), "cfg.json", &d, &c), -EINVAL);
	assert_null(c);
	got = diag_join(&d, "|");
	diag_clear(&d);
	if (strcmp(got, want) != 0)
		fail_msg("for %s\n  got:      %s\n  expected: %s", handlers, got, want);
	free(got);
}

/* What handler 0 of c answers to q, as text. */
static char *answer_of(const struct config *c, const struct kind_question *q)
{
	struct buf b;

	buf_init(&b);
	c->handlers[0].kind->answer(&c->handlers[0], q, &b);
	buf_putc(&b, 0);
	assert_true(buf_ok(&b));
	return b.data;
}

static void expect_static(const char *type, const char *content, const char *want)
{
	char h[4096], *got;
	struct config *c;

	snprintf(h, sizeof(h),
		 "{\"qname\": \"r.dyn.example.test\", \"kind\": \"static\", \"qtype\": \"%s\", "
		 "\"content\": [%s], \"ttl\": 300}",
		 type, content);
	c = parse_ok(h);
	got = answer_of(c, &(struct kind_question){.owner = "R.dyn.example.test",
						   .owner_len = 18,
						   .qtype = PP_TYPE_ANY,
						   .abi = 1,
						   .zone_id = 1});
	if (strcmp(got, want) != 0)
		fail_msg("%s %s\n  got:      %s\n  expected: %s", type, content, got, want);
	free(got);
	config_free(c);
}

static void test_table(void **state)
{
	char names[256];

	assert_non_null(kind_find("static"));
	assert_non_null(kind_find("whoami"));
	assert_non_null(kind_find("reverse"));
	assert_null(kind_find("addresses")); /* the built-in one */
	assert_null(kind_find("Static"));
	assert_string_equal(kind_names(names, sizeof(names)),
			    "\"addresses\", \"static\", \"whoami\", \"reverse\"");
	assert_string_equal(kind_names(names, 12), "\"addresses\"");
}

#define D(type, ttl, content) "DATA\tR.dyn.example.test\tIN\t" type "\t" ttl "\t1\t" content "\n"

static void test_static_types(void **state)
{
	expect_static("A", "\"192.0.2.7\", \"192.0.2.8\"",
		      D("A", "300", "192.0.2.7") D("A", "300", "192.0.2.8"));
	expect_static("AAAA", "\"2001:DB8:0::1\"", D("AAAA", "300", "2001:db8::1"));
	expect_static("CNAME", "\"www.dyn.example.test\"",
		      D("CNAME", "300", "www.dyn.example.test."));
	expect_static("NS", "\"ns.r.dyn.example.test.\"", D("NS", "300", "ns.r.dyn.example.test."));
	expect_static("PTR", "\"host.example.test\"", D("PTR", "300", "host.example.test."));
	/* MX and SRV: the priority in a field of its own (pipe-protocol.md §6) */
	expect_static("MX", "\"10 mx1.example.test\", \"0 .\"",
		      D("MX", "300", "10\tmx1.example.test.") D("MX", "300", "0\t."));
	expect_static("SRV", "\"10 20 5060 sip.example.test\"",
		      D("SRV", "300", "10\t20 5060 sip.example.test."));
	expect_static("CAA",
		      "\"0 issue letsencrypt.org\", \"128 iodef \\\"mailto:a@example.test\\\"\"",
		      D("CAA", "300", "0 issue \"letsencrypt.org\"")
			  D("CAA", "300", "128 iodef \"mailto:a@example.test\""));
	/* a backslash in a CAA value is text: sent escaped, or PowerDNS would read "\065" as
	 * 'A' and "a\" as an escaped closing quote */
	expect_static("CAA", "\"0 iodef \\\"mailto:a\\\\\\\"\", \"0 issue ca\\\\065x\"",
		      D("CAA", "300", "0 iodef \"mailto:a\\\\\"")
			  D("CAA", "300", "0 issue \"ca\\\\065x\""));
	/* TXT: the text itself, quoted, escaped, in strings of 255 bytes */
	expect_static("TXT", "\"v=spf1 -all\"", D("TXT", "300", "\"v=spf1 -all\""));
	expect_static("TXT", "\"say \\\"hi\\\" \\\\ bye\"",
		      D("TXT", "300", "\"say \\\"hi\\\" \\\\ bye\""));
	expect_static("TXT", "\"caf\\u00e9\\ttab\"", D("TXT", "300", "\"caf\\195\\169\\009tab\""));
	{
		char content[400], want[600];

		memset(content, 'x', 301);
		content[0] = '"';
		content[301] = '"';
		content[302] = 0;
		content[1] = 'a';
		snprintf(want, sizeof(want), D("TXT", "300", "\"a%.254s\" \"%.45s\""), content + 2,
			 content + 2);
		expect_static("TXT", content, want);
	}
}

static void test_static_ttl_default(void **state)
{
	struct config *c = parse_ok(
	    "{\"qname\": \"t.dyn.example.test\", \"kind\": \"static\", \"qtype\": \"TXT\", "
	    "\"content\": [\"x\"]}");
	char *got = answer_of(c, &(struct kind_question){.owner = "t",
							 .owner_len = 1,
							 .qtype = PP_TYPE_TXT,
							 .abi = 3,
							 .zone_id = 1,
							 .zone_ttl = 60});

	/* the ttl of the handler's zone (which the question carries); ABI 3 lines with scope 0
	 * and auth 1 */
	assert_string_equal(got, "DATA\t0\t1\tt\tIN\tTXT\t60\t1\t\"x\"\n");
	assert_int_equal(c->handlers[0].qtype, PP_TYPE_TXT);
	assert_int_equal(c->handlers[0].n_types, 1);
	free(got);
	config_free(c);
}

static void test_static_errors(void **state)
{
	const char *p = "cfg.json: error: /handlers/0";
	char want[1024];

#define ST(type, content)                                                                          \
	"{\"qname\": \"r.dyn.example.test\", \"kind\": \"static\", \"qtype\": \"" type             \
	"\", \"content\": [" content "]}"
	snprintf(want, sizeof(want),
		 "%s/content/0: \"10mx.example.test\" is not \"PREFERENCE EXCHANGE\" (a number "
		 "from 0 to 65535, one space, a host name or \".\")",
		 p);
	expect_errors(ST("MX", "\"10mx.example.test\""), want);
	snprintf(want, sizeof(want),
		 "%s/content/1: \"65536 mx\" is not \"PREFERENCE EXCHANGE\" (a number from 0 "
		 "to 65535, one space, a host name or \".\")",
		 p);
	expect_errors(ST("MX", "\"1 mx\", \"65536 mx\""), want);
	snprintf(want, sizeof(want),
		 "%s/content/0: \"010 mx\" is not \"PREFERENCE EXCHANGE\" (a number from 0 "
		 "to 65535, one space, a host name or \".\")",
		 p);
	expect_errors(ST("MX", "\"010 mx\""), want);
	snprintf(want, sizeof(want),
		 "%s/content/0: \"10 20 sip\" is not \"PRIORITY WEIGHT PORT TARGET\" (three "
		 "numbers from 0 to 65535 and a host name or \".\", single spaces)",
		 p);
	expect_errors(ST("SRV", "\"10 20 sip\""), want);
	snprintf(want, sizeof(want), "%s/content/0: \"192.0.2.300\" is not an IPv4 address", p);
	expect_errors(ST("A", "\"192.0.2.300\""), want);
	snprintf(want, sizeof(want), "%s/content/0: \"192.0.2.1\" is not an IPv6 address", p);
	expect_errors(ST("AAAA", "\"192.0.2.1\""), want);
	snprintf(want, sizeof(want),
		 "%s/content/0: \"a b\" is not a host name (letters, digits, '-' and '_' in "
		 "labels of 1 to 63 characters, separated by dots)",
		 p);
	expect_errors(ST("PTR", "\"a b\""), want);
	snprintf(want, sizeof(want), "%s/content: a CNAME has one target, not 2", p);
	expect_errors(ST("CNAME", "\"a.example.test\", \"b.example.test\""), want);
	snprintf(want, sizeof(want),
		 "%s/content/0: \"0 is-sue x\" is not \"FLAGS TAG VALUE\": the tag has "
		 "letters and digits only",
		 p);
	expect_errors(ST("CAA", "\"0 is-sue x\""), want);
	snprintf(want, sizeof(want),
		 "%s/content/0: \"a\\x01b\" has a control character or a byte outside "
		 "printable ASCII",
		 p);
	expect_errors(ST("NS", "\"a\\u0001b\""), want);
	{
		/* a NUL, which json-c would cut the text at: the JSON scan refuses it first */
		const char *h = ST("TXT", "\"a\\u0000b\"");

		snprintf(want, sizeof(want),
			 "cfg.json:1:%zu: error: \\u0000 in a string (a NUL is not allowed)",
			 strlen(HEAD) + (size_t)(strstr(h, "\\u0000") - h) + 1);
		expect_errors(h, want);
	}
	snprintf(want, sizeof(want),
		 "%s/qtype: expected one of \"A\", \"AAAA\", \"CNAME\", \"MX\", \"NS\", "
		 "\"PTR\", \"SRV\", \"TXT\", \"CAA\", got \"HINFO\"",
		 p);
	expect_errors(ST("HINFO", "\"x\""), want);
	snprintf(want, sizeof(want), "%s/content: needs at least 1 item", p);
	expect_errors(ST("TXT", ""), want);
	/* every problem, in order */
	snprintf(want, sizeof(want),
		 "%s/content/0: \"x\" is not an IPv4 address|%s/content/2: \"y\" is not an "
		 "IPv4 address",
		 p, p);
	expect_errors(ST("A", "\"x\", \"192.0.2.1\", \"y\""), want);
	/* keys */
	snprintf(want, sizeof(want), "%s/file: unknown key|%s: missing required key \"content\"", p,
		 p);
	expect_errors("{\"qname\": \"r.dyn.example.test\", \"kind\": \"static\", \"qtype\": \"A\", "
		      "\"file\": \"x\"}",
		      want);
	snprintf(
	    want, sizeof(want),
	    "%s/kind: expected one of \"addresses\", \"static\", \"whoami\", \"reverse\", got \"lua\"",
	    p);
	expect_errors("{\"qname\": \"r.dyn.example.test\", \"kind\": \"lua\"}", want);
	snprintf(want, sizeof(want), "%s/kind: expected a string, got an integer", p);
	expect_errors("{\"qname\": \"r.dyn.example.test\", \"kind\": 1}", want);
	snprintf(want, sizeof(want), "%s/qtype: unknown key", p);
	expect_errors("{\"qname\": \"r.dyn.example.test\", \"kind\": \"whoami\", \"qtype\": \"A\"}",
		      want);
	snprintf(want, sizeof(want), "%s/ttl: -1 is out of range (0 to 2147483647)", p);
	expect_errors("{\"qname\": \"r.dyn.example.test\", \"kind\": \"whoami\", \"ttl\": -1}",
		      want);
#undef ST
}

static void test_across_handlers(void **state)
{
	struct config *c;

	/* an address list, a TXT and an MX at one name are fine; so is "kind": "addresses" */
	c = parse_ok("{\"qname\": \"w.dyn.example.test\", \"qtype\": \"A\", \"file\": \"v4.txt\", "
		     "\"kind\": \"addresses\"},"
		     "{\"qname\": \"w.dyn.example.test\", \"kind\": \"static\", \"qtype\": "
		     "\"TXT\", \"content\": [\"x\"]},"
		     "{\"qname\": \"w.dyn.example.test\", \"kind\": \"static\", \"qtype\": \"MX\", "
		     "\"content\": [\"1 .\"]}");
	assert_null(c->handlers[0].kind);
	assert_string_equal(c->handlers[1].kind->name, "static");
	config_free(c);

	expect_errors("{\"qname\": \"w.dyn.example.test\", \"qtype\": \"A\", \"file\": \"v4.txt\"},"
		      "{\"qname\": \"W.dyn.example.test.\", \"kind\": \"static\", \"qtype\": "
		      "\"A\", \"content\": [\"192.0.2.1\"]}",
		      "cfg.json: error: /handlers/1: duplicate handler: W.dyn.example.test. A is "
		      "already handled by /handlers/0");
	/* whoami answers A, AAAA and TXT */
	expect_errors("{\"qname\": \"w.dyn.example.test\", \"kind\": \"static\", \"qtype\": "
		      "\"TXT\", \"content\": [\"x\"]},"
		      "{\"qname\": \"w.dyn.example.test\", \"kind\": \"whoami\"}",
		      "cfg.json: error: /handlers/1: duplicate handler: w.dyn.example.test TXT is "
		      "already handled by /handlers/0");
	expect_errors(
	    "{\"qname\": \"w.dyn.example.test\", \"kind\": \"whoami\"},"
	    "{\"qname\": \"w.dyn.example.test\", \"qtype\": \"AAAA\", \"file\": \"v6.txt\"}",
	    "cfg.json: error: /handlers/1: duplicate handler: w.dyn.example.test AAAA is already "
	    "handled by /handlers/0");
	/* a CNAME is alone at its name: each other handler there is named once */
	expect_errors("{\"qname\": \"w.dyn.example.test\", \"kind\": \"whoami\"},"
		      "{\"qname\": \"w.dyn.example.test\", \"kind\": \"static\", \"qtype\": "
		      "\"CNAME\", \"content\": [\"x.example.test\"]},"
		      "{\"qname\": \"w.dyn.example.test\", \"kind\": \"static\", \"qtype\": "
		      "\"MX\", \"content\": [\"1 .\"]}",
		      "cfg.json: error: /handlers/0: w.dyn.example.test has a CNAME (/handlers/1): "
		      "a CNAME must be alone at its name|"
		      "cfg.json: error: /handlers/2: w.dyn.example.test has a CNAME (/handlers/1): "
		      "a CNAME must be alone at its name");
	expect_errors("{\"qname\": \"dyn.example.test\", \"kind\": \"static\", \"qtype\": "
		      "\"CNAME\", \"content\": [\"x.example.test\"]}",
		      "cfg.json: error: /handlers/0: a CNAME cannot be at the apex (it has SOA and "
		      "NS records)");
	expect_errors(
	    "{\"qname\": \"dyn.example.test.\", \"kind\": \"static\", \"qtype\": \"NS\", "
	    "\"content\": [\"x.example.test\"]}",
	    "cfg.json: error: /handlers/0: NS records at the apex come from \"nameservers\"");
	expect_errors("{\"qname\": \"w.example.test\", \"kind\": \"whoami\"}",
		      "cfg.json: error: /handlers/0/qname: \"w.example.test\" is not at or below "
		      "the domain \"dyn.example.test\"");
}

static char *whoami(const char *remote, const char *real, uint16_t t, int abi)
{
	struct config *c = parse_ok("{\"qname\": \"me.dyn.example.test\", \"kind\": \"whoami\"}");
	char *got = answer_of(c, &(struct kind_question){.owner = "me",
							 .owner_len = 2,
							 .qtype = t,
							 .abi = abi,
							 .zone_id = 1,
							 .remote = remote,
							 .real_remote = real});

	config_free(c);
	return got;
}

static void expect_whoami(const char *remote, const char *real, uint16_t t, int abi,
			  const char *want)
{
	char *got = whoami(remote, real, t, abi);

	if (strcmp(got, want) != 0)
		fail_msg("whoami %s %s type %u abi %d\n  got:      %s\n  expected: %s", remote,
			 real ? real : "-", t, abi, got, want);
	free(got);
}

static void test_whoami(void **state)
{
	/* ABI 1: the resolver, and its address as the subnet */
	expect_whoami(
	    "127.0.0.1", NULL, PP_TYPE_ANY, 1,
	    "DATA\tme\tIN\tA\t0\t1\t127.0.0.1\nDATA\tme\tIN\tTXT\t0\t1\t\"127.0.0.1/32\"\n");
	/* ABI 3 with ECS: the subnet and its length as the scope */
	expect_whoami("127.0.0.1", "198.51.100.0/24", PP_TYPE_ANY, 3,
		      "DATA\t24\t1\tme\tIN\tA\t0\t1\t127.0.0."
		      "1\nDATA\t24\t1\tme\tIN\tTXT\t0\t1\t\"198.51.100.0/24\"\n");
	expect_whoami("127.0.0.1", "198.51.100.0/24", PP_TYPE_TXT, 3,
		      "DATA\t24\t1\tme\tIN\tTXT\t0\t1\t\"198.51.100.0/24\"\n");
	expect_whoami("127.0.0.1", "198.51.100.0/24", PP_TYPE_A, 3,
		      "DATA\t24\t1\tme\tIN\tA\t0\t1\t127.0.0.1\n");
	/* an IPv4 client has no AAAA (NODATA), an IPv6 one no A */
	expect_whoami("127.0.0.1", "127.0.0.1/32", PP_TYPE_AAAA, 3, "");
	expect_whoami("2001:DB8::5%eth0", "2001:db8::/56", PP_TYPE_ANY, 3,
		      "DATA\t56\t1\tme\tIN\tAAAA\t0\t1\t2001:db8::"
		      "5\nDATA\t56\t1\tme\tIN\tTXT\t0\t1\t\"2001:db8::/56\"\n");
	expect_whoami("::1", NULL, PP_TYPE_A, 1, "");
	/* nothing usable from PowerDNS: nothing said */
	expect_whoami(NULL, NULL, PP_TYPE_ANY, 1, "");
	expect_whoami("not-an-address", NULL, PP_TYPE_ANY, 1, "");
	/* a subnet length beyond the family is taken as the whole address */
	expect_whoami("192.0.2.1", "192.0.2.1/99", PP_TYPE_TXT, 3,
		      "DATA\t32\t1\tme\tIN\tTXT\t0\t1\t\"192.0.2.1/32\"\n");
}

/* Through answer_query(): the kinds beside an address list, type filtering, AXFR. */
static void test_through_answer(void **state)
{
	char dir[64], text[4096], *got;
	struct config *c = NULL;
	struct snapshot *s = NULL;
	struct rotation rot = {0};
	struct answer_memo memo = {0};
	struct diag d;
	struct buf out;
	char line[256];
	struct pp_msg m;
	const char *why;
	struct answer_ctx ctx = {.rot = &rot, .memo = &memo, .abi = 1};

	snprintf(dir, sizeof(dir), "/tmp/test-kinds.XXXXXX");
	assert_non_null(mkdtemp(dir));
	fixture_write(dir, "v4.txt", "192.0.2.1\n192.0.2.2\n");
	snprintf(text, sizeof(text),
		 HEAD "{\"qname\": \"w.dyn.example.test\", \"qtype\": \"A\", \"file\": \"v4.txt\"},"
		      "{\"qname\": \"w.dyn.example.test\", \"kind\": \"static\", \"qtype\": "
		      "\"TXT\", \"content\": [\"hi\"]},"
		      "{\"qname\": \"me.dyn.example.test\", \"kind\": \"whoami\"}" TAIL);
	diag_init(&d);
	snprintf(line, sizeof(line), "%s/config.json", dir);
	assert_int_equal(config_parse(text, strlen(text), line, &d, &c), 0);
	assert_int_equal(snapshot_new(c, NULL, &d, &s), 0);
	assert_int_equal(d.n_msgs, 0);
	assert_int_equal(s->n_failed, 0); /* the kinds have no list, and that is no failure */
	assert_int_equal(snapshot_rotation(s, NULL, 0, &rot, NULL), 0);
	ctx.snap = s;

	static const struct {
		const char *q, *want;
	} cases[] = {
	    {"Q\tw.dyn.example.test\tIN\tANY\t1\t127.0.0.1",
	     "DATA\tw.dyn.example.test\tIN\tA\t0\t1\t192.0.2.1\nDATA\tw.dyn.example."
	     "test\tIN\tTXT\t60\t1\t\"hi\"\nEND\n"},
	    {"Q\tw.dyn.example.test\tIN\tTXT\t1\t127.0.0.1",
	     "DATA\tw.dyn.example.test\tIN\tTXT\t60\t1\t\"hi\"\nEND\n"},
	    {"Q\tw.dyn.example.test\tIN\tA\t1\t127.0.0.1",
	     "DATA\tw.dyn.example.test\tIN\tA\t0\t1\t192.0.2.2\nEND\n"},
	    {"Q\tw.dyn.example.test\tIN\tMX\t1\t127.0.0.1", "END\n"},
	    {"Q\tME.dyn.example.test\tIN\tANY\t1\t192.0.2.9",
	     "DATA\tME.dyn.example.test\tIN\tA\t0\t1\t192.0.2.9\nDATA\tME.dyn.example."
	     "test\tIN\tTXT\t0\t1\t\"192.0.2.9/32\"\nEND\n"},
	    {"Q\tme.dyn.example.test\tIN\tSOA\t-1\t0.0.0.0", "END\n"},
	    {"AXFR\t1",
	     "DATA\tdyn.example.test\tIN\tSOA\t60\t1\tns1.example.test. h.example.test. 1 2 3 4 5\n"
	     "DATA\tdyn.example.test\tIN\tNS\t60\t1\tns1.example.test.\n"
	     "DATA\tw.dyn.example.test\tIN\tA\t0\t1\t192.0.2.1\n"
	     "DATA\tw.dyn.example.test\tIN\tTXT\t60\t1\t\"hi\"\nEND\n"},
	};
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		snprintf(line, sizeof(line), "%s", cases[i].q);
		assert_int_equal(pp_parse(line, strlen(line), 1, &m, &why), 0);
		buf_init(&out);
		if (m.kind == PP_AXFR)
			answer_axfr(&ctx, &m, &out);
		else
			answer_query(&ctx, &m, &out);
		buf_putc(&out, 0);
		got = out.data;
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%s\n  got:      %s\n  expected: %s", cases[i].q, got,
				 cases[i].want);
		buf_free(&out);
		memo.n = 0; /* a new question each time */
	}
	rotation_done(&rot);
	snapshot_free(s);
	diag_clear(&d);
	fixture_cleanup(dir);
}

#define ZHEAD                                                                                                   \
	"{\"domain\": \"dyn.example.test\", \"soa\": \"ns1.example.test. h.example.test. 1 2 3 4 5\", "         \
	"\"nameservers\": [\"ns1.example.test\"], \"ttl\": 60, \"zones\": ["                                    \
	"{\"domain\": \"2.0.192.in-addr.arpa\", \"soa\": \"ns1.example.test. h.example.test. 1 2 3 4 5\", "     \
	"\"nameservers\": [\"ns1.example.test\"], \"ttl\": 600},"                                               \
	"{\"domain\": \"8.b.d.0.1.0.0.2.ip6.arpa\", \"soa\": \"ns1.example.test. h.example.test. 1 2 3 4 5\", " \
	"\"nameservers\": [\"ns1.example.test\"]}], \"handlers\": ["

/* Runs Q lines (ANY unless given) through answer_query() against a config (head, the
 * handlers, "]}"), returns the answers joined. */
static char *ask_all_in(const char *head, const char *handlers, const char *const *names,
			const char *type)
{
	char text[8192], line[512];
	struct config *c = NULL;
	struct snapshot *s = NULL;
	struct rotation rot = {0};
	struct answer_memo memo = {0};
	struct answer_ctx ctx = {.rot = &rot, .memo = &memo, .abi = 1};
	struct diag d;
	struct buf out;

	snprintf(text, sizeof(text), "%s%s]}", head, handlers);
	diag_init(&d);
	if (config_parse(text, strlen(text), "/tmp/cfg.json", &d, &c) != 0)
		fail_msg("rejected: %s", d.n_msgs ? d.msgs[0] : "?");
	assert_int_equal(snapshot_new(c, NULL, &d, &s), 0);
	assert_int_equal(snapshot_rotation(s, NULL, 0, &rot, NULL), 0);
	diag_clear(&d);
	ctx.snap = s;
	buf_init(&out);
	for (; *names; names++) {
		struct pp_msg m;
		const char *why;

		snprintf(line, sizeof(line), "Q\t%s\tIN\t%s\t1\t127.0.0.1", *names, type);
		assert_int_equal(pp_parse(line, strlen(line), 1, &m, &why), 0);
		answer_query(&ctx, &m, &out);
	}
	buf_putc(&out, 0);
	rotation_done(&rot);
	snapshot_free(s);
	assert_true(buf_ok(&out));
	return out.data;
}

static char *ask_all(const char *handlers, const char *const *names, const char *type)
{
	return ask_all_in(ZHEAD, handlers, names, type);
}

static void expect_answers(const char *handlers, const char *const *names, const char *type,
			   const char *want)
{
	char *got = ask_all(handlers, names, type);

	if (strcmp(got, want) != 0)
		fail_msg("%s\n  got:      %s\n  expected: %s", names[0], got, want);
	free(got);
}

#define REV4                                                                                       \
	"{\"qname\": \"ip-*.dyn.example.test\", \"kind\": \"reverse\", \"prefix\": \"192.0.2.0/25\"}"
#define REV6                                                                                       \
	"{\"qname\": \"V6-*-x.dyn.example.test\", \"kind\": \"reverse\", \"prefix\": \"2001:db8::/64\", \"ttl\": 5}"
#define V6REV(last)                                                                                \
	last ".0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa" /* 32       \
											  nibbles  \
											*/

static void test_reverse(void **state)
{
	/* PTR and the forward name agree, each with its zone's id and ttl */
	expect_answers(
	    REV4 "," REV6,
	    (const char *const[]){"3.2.0.192.in-addr.arpa", "ip-192-0-2-3.dyn.example.test",
				  "IP-192-0-2-127.Dyn.Example.Test", "0.2.0.192.in-addr.arpa",
				  V6REV("5"), "v6-2001-db8--5-x.dyn.example.test",
				  "v6-2001-db8--0-x.dyn.example.test", NULL},
	    "ANY",
	    "DATA\t3.2.0.192.in-addr.arpa\tIN\tPTR\t600\t2\tip-192-0-2-3.dyn.example.test.\nEND\n"
	    "DATA\tip-192-0-2-3.dyn.example.test\tIN\tA\t60\t1\t192.0.2.3\nEND\n"
	    "DATA\tIP-192-0-2-127.Dyn.Example.Test\tIN\tA\t60\t1\t192.0.2.127\nEND\n"
	    "DATA\t0.2.0.192.in-addr.arpa\tIN\tPTR\t600\t2\tip-192-0-2-0.dyn.example.test.\nEND\n"
	    "DATA\t" V6REV(
		"5") "\tIN\tPTR\t5\t3\tv6-2001-db8--5-x.dyn.example.test.\nEND\n"
		     "DATA\tv6-2001-db8--5-x.dyn.example.test\tIN\tAAAA\t5\t1\t2001:db8::5\nEND\n"
		     "DATA\tv6-2001-db8--0-x.dyn.example.test\tIN\tAAAA\t5\t1\t2001:db8::\nEND\n");
	/* outside the prefix, other spellings, other shapes: nothing (NXDOMAIN) */
	expect_answers(
	    REV4 "," REV6,
	    (const char *const[]){"200.2.0.192.in-addr.arpa", "ip-192-0-2-200.dyn.example.test",
				  "ip-192-0-2-03.dyn.example.test", "ip-192.0.2.3.dyn.example.test",
				  "ip-3.dyn.example.test", "x-192-0-2-3.dyn.example.test",
				  "ip-192-0-2-3.other.dyn.example.test", "2.0.192.in-addr.arpa.x",
				  "03.2.0.192.in-addr.arpa", "3.2.0.192.in-addr.arpa.in-addr.arpa",
				  "v6-2001-db8-0-0-0-0-0-5-x.dyn.example.test",
				  "v6-2001-db9--5-x.dyn.example.test", V6REV("g"),
				  "v6-2001-db8--5.dyn.example.test", NULL},
	    "ANY", "END\nEND\nEND\nEND\nEND\nEND\nEND\nEND\nEND\nEND\nEND\nEND\nEND\nEND\n");
	/* types: PTR at reverse names, A at forward ones */
	expect_answers(
	    REV4,
	    (const char *const[]){"3.2.0.192.in-addr.arpa", "ip-192-0-2-3.dyn.example.test", NULL},
	    "A", "END\nDATA\tip-192-0-2-3.dyn.example.test\tIN\tA\t60\t1\t192.0.2.3\nEND\n");
	expect_answers(
	    REV4,
	    (const char *const[]){"3.2.0.192.in-addr.arpa", "ip-192-0-2-3.dyn.example.test", NULL},
	    "PTR",
	    "DATA\t3.2.0.192.in-addr.arpa\tIN\tPTR\t600\t2\tip-192-0-2-3.dyn.example.test.\nEND\nEND\n");
	/* a handler of the name itself comes first; the SOA of the reverse zone is there */
	expect_answers(
	    REV4
	    ",{\"qname\": \"ip-192-0-2-3.dyn.example.test\", \"kind\": \"static\", \"qtype\": \"TXT\", "
	    "\"content\": [\"mine\"]},{\"qname\": \"dyn.example.test\", \"kind\": \"static\", \"qtype\": \"A\", "
	    "\"content\": [\"192.0.2.9\"]}",
	    (const char *const[]){"ip-192-0-2-3.dyn.example.test", "ip-192-0-2-4.dyn.example.test",
				  NULL},
	    "ANY",
	    "DATA\tip-192-0-2-3.dyn.example.test\tIN\tTXT\t60\t1\t\"mine\"\nEND\n"
	    "DATA\tip-192-0-2-4.dyn.example.test\tIN\tA\t60\t1\t192.0.2.4\nEND\n");
	expect_answers(
	    REV4, (const char *const[]){"2.0.192.in-addr.arpa", NULL}, "SOA",
	    "DATA\t2.0.192.in-addr.arpa\tIN\tSOA\t600\t2\tns1.example.test. h.example.test. 1 2 3 4 5\nEND\n");
}

/* IPv6 addresses whose last 32 bits inet_ntop() writes as a dotted quad (IPv4-mapped
 * ::ffff:0:0/96, and ::/96 with a nonzero 7th group): the forward name has hex groups
 * only, and it answers. */
static void test_reverse_v6_hex(void **state)
{
	static const char head[] =
	    "{\"domain\": \"dyn.example.test\", \"soa\": \"ns1.example.test. h.example.test. 1 2 3 4 5\", "
	    "\"nameservers\": [\"ns1.example.test\"], \"ttl\": 60, \"zones\": [{\"domain\": \"ip6.arpa\", "
	    "\"soa\": \"ns1.example.test. h.example.test. 1 2 3 4 5\", \"nameservers\": [\"ns1.example.test\"], "
	    "\"ttl\": 600}], \"handlers\": [";
#define V6MAPPED                                                                                       \
	"1.0.2.0.0.0.0.c.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa" /* ::ffff:192.0.2.1 \
										    */
#define V6COMPAT                                                                                   \
	"0.0.0.0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa" /* ::1:0 */
	const char *const names[] = {V6MAPPED,
				     "m-0--ffff-c000-201.dyn.example.test",
				     V6COMPAT,
				     "c-0--1-0.dyn.example.test",
				     "m-0--ffff-192-0-2-1.dyn.example.test",
				     "c-0--0-1-0-0.dyn.example.test",
				     NULL};
	char *got = ask_all_in(
	    head,
	    "{\"qname\": \"m-*.dyn.example.test\", \"kind\": \"reverse\", \"prefix\": \"::ffff:0:0/96\"},"
	    "{\"qname\": \"c-*.dyn.example.test\", \"kind\": \"reverse\", \"prefix\": \"::/96\"}",
	    names, "ANY");
	const char *want =
	    "DATA\t" V6MAPPED "\tIN\tPTR\t600\t2\tm-0--ffff-c000-201.dyn.example.test.\nEND\n"
	    "DATA\tm-0--ffff-c000-201.dyn.example.test\tIN\tAAAA\t60\t1\t::ffff:192.0.2.1\nEND\n"
	    "DATA\t" V6COMPAT "\tIN\tPTR\t600\t2\tc-0--1-0.dyn.example.test.\nEND\n"
	    "DATA\tc-0--1-0.dyn.example.test\tIN\tAAAA\t60\t1\t::0.1.0.0\nEND\n"
	    /* the dotted spellings are not the forward names */
	    "END\nEND\n";

	(void)state;
	if (strcmp(got, want) != 0)
		fail_msg("\n  got:      %s\n  expected: %s", got, want);
	free(got);
}

/* A zone below the prefix's reverse name (2.0.192.in-addr.arpa, 192.0.0.0/16 in
 * 0.192.in-addr.arpa): PTR records under its apex are in it, with its id and ttl, as
 * PowerDNS serves them from it. */
static void test_reverse_nested_zone(void **state)
{
	static const char head[] =
	    "{\"domain\": \"dyn.example.test\", \"soa\": \"ns1.example.test. h.example.test. 1 2 3 4 5\", "
	    "\"nameservers\": [\"ns1.example.test\"], \"ttl\": 60, \"zones\": ["
	    "{\"domain\": \"0.192.in-addr.arpa\", \"soa\": \"ns1.example.test. h.example.test. 1 2 3 4 5\", "
	    "\"nameservers\": [\"ns1.example.test\"], \"ttl\": 700},"
	    "{\"domain\": \"2.0.192.in-addr.arpa\", \"soa\": \"ns1.example.test. h.example.test. 1 2 3 4 5\", "
	    "\"nameservers\": [\"ns1.example.test\"], \"ttl\": 300},"
	    "{\"domain\": \"9.0.192.in-addr.arpa\", \"soa\": \"ns1.example.test. h.example.test. 1 2 3 4 5\", "
	    "\"nameservers\": [\"ns1.example.test\"], \"ttl\": 900}], \"handlers\": [";
	const char *const names[] = {"3.2.0.192.in-addr.arpa", "3.1.0.192.in-addr.arpa",
				     "3.9.0.192.in-addr.arpa", "ip-192-0-2-3.dyn.example.test",
				     NULL};
	char *got = ask_all_in(
	    head,
	    "{\"qname\": \"ip-*.dyn.example.test\", \"kind\": \"reverse\", \"prefix\": \"192.0.0.0/16\"}",
	    names, "ANY");
	const char *want =
	    "DATA\t3.2.0.192.in-addr.arpa\tIN\tPTR\t300\t3\tip-192-0-2-3.dyn.example.test.\nEND\n"
	    "DATA\t3.1.0.192.in-addr.arpa\tIN\tPTR\t700\t2\tip-192-0-1-3.dyn.example.test.\nEND\n"
	    "DATA\t3.9.0.192.in-addr.arpa\tIN\tPTR\t900\t4\tip-192-0-9-3.dyn.example.test.\nEND\n"
	    "DATA\tip-192-0-2-3.dyn.example.test\tIN\tA\t60\t1\t192.0.2.3\nEND\n";

	(void)state;
	if (strcmp(got, want) != 0)
		fail_msg("\n  got:      %s\n  expected: %s", got, want);
	free(got);
}

static void test_reverse_errors(void **state)
{
	char text[4096], *got;
	struct config *c = NULL;
	struct diag d;
	static const struct {
		const char *handler, *want;
	} cases[] = {
	    {"{\"qname\": \"ip-*.dyn.example.test\", \"kind\": \"reverse\", \"prefix\": \"198.51.100.0/24\"}",
	     "cfg.json: error: /handlers/0/prefix: the reverse names of the prefix (100.51.198.in-addr.arpa) are in none "
	     "of the zones: add a zone for them to \"zones\""},
	    {"{\"qname\": \"ip-*.dyn.example.test\", \"kind\": \"reverse\", \"prefix\": \"192.0.2.1/24\"}",
	     "cfg.json: error: /handlers/0/prefix: \"192.0.2.1/24\" has bits set past its length: the prefix is 192.0.2.0/24"},
	    {"{\"qname\": \"ip.dyn.example.test\", \"kind\": \"reverse\", \"prefix\": \"192.0.2.0/24\"}",
	     "cfg.json: error: /handlers/0/qname: \"ip.dyn.example.test\" is not a pattern such as \"ip-*.example.test\" "
	     "(one '*' in the first label, for the address)"},
	    {"{\"qname\": \"ip-*.*.example.test\", \"kind\": \"reverse\", \"prefix\": \"192.0.2.0/24\"}",
	     "cfg.json: error: /handlers/0/qname: \"ip-*.*.example.test\" is not a pattern such as \"ip-*.example.test\" "
	     "(one '*' in the first label, for the address)"},
	    {"{\"qname\": \"i p-*.dyn.example.test\", \"kind\": \"reverse\", \"prefix\": \"192.0.2.0/24\"}",
	     "cfg.json: error: /handlers/0/qname: \"i p-*.dyn.example.test\" is not a pattern: the first label has "
	     "letters, digits, '-', '_' and its '*' only"},
	    {"{\"qname\": \"ip-*.other.test\", \"kind\": \"reverse\", \"prefix\": \"192.0.2.0/24\"}",
	     "cfg.json: error: /handlers/0/qname: \"ip-*.other.test\" is in none of the zones (the domain "
	     "\"dyn.example.test\" and the 2 of \"zones\")"},
	    {"{\"qname\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-*.dyn.example.test\", \"kind\": \"reverse\", \"prefix\": \"2001:db8::/64\"}",
	     "cfg.json: error: /handlers/0: the first label of \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-*.dyn.example.test\" would be "
	     "longer than 63 characters for some addresses"},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		snprintf(text, sizeof(text), ZHEAD "%s]}", cases[i].handler);
		diag_init(&d);
		assert_int_equal(config_parse(text, strlen(text), "cfg.json", &d, &c), -EINVAL);
		got = diag_join(&d, "|");
		diag_clear(&d);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%s\n  got:      %s\n  expected: %s", cases[i].handler, got,
				 cases[i].want);
		free(got);
	}
	/* it claims no name: an A at the pattern's parent is no duplicate */
	free(ask_all(
	    REV4
	    ",{\"qname\": \"dyn.example.test\", \"kind\": \"static\", \"qtype\": \"A\", \"content\": [\"192.0.2.9\"]}",
	    (const char *const[]){NULL}, "ANY"));
}

static void test_wildcard(void **state)
{
	/* PowerDNS asks for the wildcard by its name and expands it itself */
	expect_answers(
	    "{\"qname\": \"*.dyn.example.test\", \"kind\": \"static\", \"qtype\": \"TXT\", \"content\": [\"w\"]},"
	    "{\"qname\": \"*.sub.dyn.example.test\", \"kind\": \"whoami\"}",
	    (const char *const[]){"*.dyn.example.test", "*.sub.dyn.example.test",
				  "x.dyn.example.test", NULL},
	    "ANY",
	    "DATA\t*.dyn.example.test\tIN\tTXT\t60\t1\t\"w\"\nEND\n"
	    "DATA\t*.sub.dyn.example.test\tIN\tA\t0\t1\t127.0.0.1\n"
	    "DATA\t*.sub.dyn.example.test\tIN\tTXT\t0\t1\t\"127.0.0.1/32\"\nEND\nEND\n");
	expect_errors(
	    "{\"qname\": \"a.*.dyn.example.test\", \"kind\": \"whoami\"}",
	    "cfg.json: error: /handlers/0/qname: \"a.*.dyn.example.test\" is not a host name (letters, digits, '-' "
	    "and '_' in labels of 1 to 63 characters, separated by dots), nor one after \"*.\" (a wildcard)");
	expect_errors(
	    "{\"qname\": \"*x.dyn.example.test\", \"qtype\": \"A\", \"file\": \"x\"}",
	    "cfg.json: error: /handlers/0/qname: \"*x.dyn.example.test\" is not a host name (letters, digits, '-' "
	    "and '_' in labels of 1 to 63 characters, separated by dots), nor one after \"*.\" (a wildcard)");
}

/* "empty_non_terminals": an ANY lookup of a name that exists without records (between a
 * handler's name and its zone's apex, or a handler with nothing to serve) gets one ENT line
 * in that zone; a name that does not exist, a typed lookup and the apex get none. Without the
 * option those names answer nothing, as before. */
static void test_empty_non_terminals(void **state)
{
	static const char handlers[] =
	    "{\"qname\": \"*.w.dyn.example.test\", \"kind\": \"static\", \"qtype\": \"TXT\", \"content\": [\"w\"]},"
	    "{\"qname\": \"deep.under.w.dyn.example.test\", \"kind\": \"static\", \"qtype\": \"TXT\", \"content\": [\"d\"]},"
	    "{\"qname\": \"a.b.c.dyn.example.test\", \"qtype\": \"A\", \"file\": \"/nonexistent/abc.txt\"},"
	    "{\"qname\": \"x.y.2.0.192.in-addr.arpa\", \"kind\": \"static\", \"qtype\": \"PTR\", \"content\": [\"p.example.\"]}";
	static const char *const names[] = {"under.w.dyn.example.test",
					    "W.dyn.example.test",
					    "deep.under.w.dyn.example.test",
					    "other.under.w.dyn.example.test",
					    "*.w.dyn.example.test",
					    "b.c.dyn.example.test",
					    "c.dyn.example.test",
					    "a.b.c.dyn.example.test",
					    "nx.dyn.example.test",
					    "y.2.0.192.in-addr.arpa",
					    "dyn.example.test",
					    NULL};
	char head[sizeof(ZHEAD) + 64], *got;
	const char *want_on =
	    "DATA\tunder.w.dyn.example.test\tIN\tENT\t60\t1\nEND\n"
	    "DATA\tW.dyn.example.test\tIN\tENT\t60\t1\nEND\n"
	    "DATA\tdeep.under.w.dyn.example.test\tIN\tTXT\t60\t1\t\"d\"\nEND\n"
	    "END\n"
	    "DATA\t*.w.dyn.example.test\tIN\tTXT\t60\t1\t\"w\"\nEND\n"
	    "DATA\tb.c.dyn.example.test\tIN\tENT\t60\t1\nEND\n"
	    "DATA\tc.dyn.example.test\tIN\tENT\t60\t1\nEND\n"
	    "DATA\ta.b.c.dyn.example.test\tIN\tENT\t60\t1\nEND\n" /* its file never loaded */
	    "END\n"
	    "DATA\ty.2.0.192.in-addr.arpa\tIN\tENT\t600\t2\nEND\n"
	    "DATA\tdyn.example.test\tIN\tSOA\t60\t1\tns1.example.test. h.example.test. 1 2 3 4 5\n"
	    "DATA\tdyn.example.test\tIN\tNS\t60\t1\tns1.example.test.\nEND\n";
	const char *want_off =
	    "END\nEND\n"
	    "DATA\tdeep.under.w.dyn.example.test\tIN\tTXT\t60\t1\t\"d\"\nEND\n"
	    "END\n"
	    "DATA\t*.w.dyn.example.test\tIN\tTXT\t60\t1\t\"w\"\nEND\n"
	    "END\nEND\nEND\nEND\nEND\n"
	    "DATA\tdyn.example.test\tIN\tSOA\t60\t1\tns1.example.test. h.example.test. 1 2 3 4 5\n"
	    "DATA\tdyn.example.test\tIN\tNS\t60\t1\tns1.example.test.\nEND\n";

	(void)state;
	snprintf(head, sizeof(head), "{\"empty_non_terminals\": true, %s", ZHEAD + 1);
	got = ask_all_in(head, handlers, names, "ANY");
	if (strcmp(got, want_on) != 0)
		fail_msg("with the option\n  got:      %s\n  expected: %s", got, want_on);
	free(got);
	/* typed lookups and the SOA walk: never an ENT line */
	got = ask_all_in(
	    head, handlers,
	    (const char *const[]){"under.w.dyn.example.test", "b.c.dyn.example.test", NULL}, "TXT");
	assert_string_equal(got, "END\nEND\n");
	free(got);
	got = ask_all_in(head, handlers, (const char *const[]){"under.w.dyn.example.test", NULL},
			 "SOA");
	assert_string_equal(got, "END\n");
	free(got);
	got = ask_all(handlers, names, "ANY");
	if (strcmp(got, want_off) != 0)
		fail_msg("without the option\n  got:      %s\n  expected: %s", got, want_off);
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_static_types),
	    cmocka_unit_test(test_static_ttl_default),
	    cmocka_unit_test(test_static_errors),
	    cmocka_unit_test(test_across_handlers),
	    cmocka_unit_test(test_whoami),
	    cmocka_unit_test(test_through_answer),
	    cmocka_unit_test(test_reverse),
	    cmocka_unit_test(test_reverse_v6_hex),
	    cmocka_unit_test(test_reverse_nested_zone),
	    cmocka_unit_test(test_reverse_errors),
	    cmocka_unit_test(test_wildcard),
	    cmocka_unit_test(test_empty_non_terminals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
