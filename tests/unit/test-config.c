/* SPDX-License-Identifier: MIT */
/* The config: the Python pdyndns config as it is, every schema rule with its JSON pointer,
 * the checks beyond the schema, and the schema file itself agreeing with the code. */
#include <errno.h>
#include <json-c/json.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "kind.h"

#define HEAD                                                                                            \
	"{\"domain\": \"dyn.example.test\", \"soa\": \"ns1.example.test. h.example.test. 1 2 3 4 5\", " \
	"\"nameservers\": [\"ns1.example.test\"], \"ttl\": 60, "

static struct config *parse_ok(const char *text, const char *path)
{
	struct config *c = NULL;
	struct diag d;

	diag_init(&d);
	if (config_parse(text, strlen(text), path, &d, &c) != 0)
		fail_msg("rejected: %s", d.n_msgs ? d.msgs[0] : "?");
	diag_clear(&d);
	return c;
}

/* Every message, joined with '|'. */
static char *parse_bad(const char *text)
{
	struct config *c = NULL;
	struct diag d;
	char *all;

	diag_init(&d);
	assert_int_equal(config_parse(text, strlen(text), "cfg.json", &d, &c), -EINVAL);
	assert_null(c);
	all = diag_join(&d, "|");
	diag_clear(&d);
	return all;
}

static void expect_errors(const char *text, const char *want)
{
	char *got = parse_bad(text);

	if (strcmp(got, want) != 0)
		fail_msg("for %s\n  got:      %s\n  expected: %s", text, got, want);
	free(got);
}

static void test_python_config(void **state)
{
	struct config *c = parse_ok(
	    "{\"loglevel\": \"error\", \"soa\": \"ns1.example.net. hostmaster.example.net. 2024010101 7200 3600 7200 120\",\n"
	    " \"nameservers\": [\"ns1.example.net\", \"ns2.example.net\"], \"ttl\": 3600, \"domain\": \"dyn.example.net\",\n"
	    " \"handlers\": [{\"qname\": \"t1.dyn.example.net\", \"qtype\": \"A\", \"file\": \"t1-v4.txt\"},\n"
	    "              {\"qname\": \"t1.dyn.example.net\", \"qtype\": \"AAAA\", \"file\": \"/abs/t1-v6.txt\"}]}",
	    "/tmp/config.json");

	assert_string_equal(c->domain, "dyn.example.net");
	assert_memory_equal(c->apex.wire, "\3dyn\7example\3net", 17);
	assert_string_equal(
	    c->soa, "ns1.example.net. hostmaster.example.net. 2024010101 7200 3600 7200 120");
	assert_int_equal(c->n_nameservers, 2);
	assert_string_equal(c->nameservers[1], "ns2.example.net");
	assert_int_equal(c->ttl, 3600);
	assert_int_equal(c->loglevel, CONFIG_LOG_ERR);
	assert_int_equal(c->n_handlers, 2);
	assert_int_equal(c->handlers[0].qtype, 1);
	assert_int_equal(c->handlers[1].qtype, 28);
	assert_string_equal(c->handlers[0].file, "t1-v4.txt");
	assert_string_equal(c->handlers[0].path, "/tmp/t1-v4.txt"); /* against the config's dir */
	assert_string_equal(c->handlers[1].path, "/abs/t1-v6.txt");
	assert_null(c->control_dir);
	config_free(c);
}

static void test_defaults_and_extras(void **state)
{
	struct config *c = parse_ok(
	    HEAD "\"handlers\": [], \"control_dir\": \"/run/x\", \"control_group\": \"pdns\"}",
	    "c.json");

	assert_int_equal(c->loglevel, CONFIG_LOG_INFO);
	assert_int_equal(c->advance, CONFIG_ADVANCE_PER_QUESTION);
	assert_false(c->empty_non_terminals);
	assert_int_equal(c->n_handlers, 0);
	assert_string_equal(c->control_dir, "/run/x");
	assert_string_equal(c->control_group, "pdns");
	config_free(c);
	c = parse_ok(HEAD "\"handlers\": [], \"advance\": \"per-lookup\", \"loglevel\": \"debug\"}",
		     "c.json");
	assert_int_equal(c->advance, CONFIG_ADVANCE_PER_LOOKUP);
	assert_int_equal(c->loglevel, CONFIG_LOG_DEBUG);
	config_free(c);
	c = parse_ok(HEAD "\"handlers\": [], \"empty_non_terminals\": true}", "c.json");
	assert_true(c->empty_non_terminals);
	config_free(c);
	/* JSON Schema integers: 3600.0 and 3.6e3 are integers */
	c = parse_ok(
	    "{\"domain\": \"x.test.\", \"soa\": \"a b 4294967295 2147483647 0 1 2\", \"nameservers\": [\"a\"], "
	    "\"ttl\": 3.6e3, \"handlers\": [{\"qname\": \"X.TEST\", \"qtype\": \"A\", \"file\": \"f\"}]}",
	    "c.json");
	assert_int_equal(c->ttl, 3600);
	config_free(c);
}

#define H1 "\"handlers\": [{\"qname\": \"t1.dyn.example.test\", \"qtype\": \"A\", \"file\": \"f\""

static void test_policy(void **state)
{
	static const char *const names[] = {"round-robin", "random", "weighted", "all"};
	struct config *c = parse_ok(HEAD H1 "}]}", "c.json");
	char text[512];

	/* the default: round-robin, one address, as before policies existed */
	assert_int_equal(c->handlers[0].policy, CONFIG_POLICY_ROUND_ROBIN);
	assert_int_equal(c->handlers[0].count, 1);
	config_free(c);
	for (int i = 0; i < 4; i++) {
		snprintf(text, sizeof(text), HEAD H1 ", \"policy\": \"%s\", \"count\": %d}]}",
			 names[i], i + 2);
		c = parse_ok(text, "c.json");
		assert_int_equal(c->handlers[0].policy, i);
		assert_string_equal(config_policy_names[i], names[i]);
		assert_int_equal(c->handlers[0].count, i + 2);
		config_free(c);
	}
	c = parse_ok(HEAD H1 ", \"count\": 256.0}]}", "c.json");
	assert_int_equal(c->handlers[0].count, CONFIG_COUNT_MAX);
	config_free(c);
	expect_errors(
	    HEAD H1 ", \"policy\": \"least-conn\"}]}",
	    "cfg.json: error: /handlers/0/policy: expected one of \"round-robin\", \"random\", "
	    "\"weighted\", \"all\", \"least-loaded\", got \"least-conn\"");
	expect_errors(HEAD H1 ", \"policy\": null}]}",
		      "cfg.json: error: /handlers/0/policy: expected a string, got null");
	expect_errors(HEAD H1 ", \"count\": 0}]}",
		      "cfg.json: error: /handlers/0/count: 0 is out of range (1 to 256)");
	expect_errors(HEAD H1 ", \"count\": 257}]}",
		      "cfg.json: error: /handlers/0/count: 257 is out of range (1 to 256)");
	expect_errors(HEAD H1 ", \"count\": 1.5}]}",
		      "cfg.json: error: /handlers/0/count: expected an integer, got a fraction");
	expect_errors(HEAD H1 ", \"count\": \"3\"}]}",
		      "cfg.json: error: /handlers/0/count: expected an integer, got a string");
	expect_errors(HEAD H1 ", \"weight\": 3}]}",
		      "cfg.json: error: /handlers/0/weight: unknown key");
}

#define HH "\"handlers\": [{\"qname\": \"t1.dyn.example.test\", \"qtype\": \"A\", \"file\": \"f\", "

static void test_health(void **state)
{
	struct config *c =
	    parse_ok(HEAD HH "\"health\": {\"check\": \"tcp\", \"port\": 80}}]}", "/etc/p/c.json");
	const struct config_health *h = c->handlers[0].health;

	/* the defaults: 5, 2, 2, 3, expect [200], verified TLS, fail open */
	assert_non_null(h);
	assert_int_equal(h->check, CONFIG_CHECK_TCP);
	assert_int_equal(h->port, 80);
	assert_int_equal(h->interval_ms, 5000);
	assert_int_equal(h->timeout_ms, 2000);
	assert_int_equal(h->rise, 2);
	assert_int_equal(h->fall, 3);
	assert_int_equal(h->n_expect, 1);
	assert_int_equal(h->expect[0], 200);
	assert_true(h->tls_verify);
	assert_false(h->all_down_none);
	assert_null(h->path);
	config_free(c);

	c = parse_ok(
	    HEAD HH
	    "\"policy\": \"least-loaded\", \"choices\": 2, \"health\": {\"check\": \"https\", "
	    "\"port\": 8443, \"path\": \"/health?x=1\", \"host\": \"www.example.test\", \"expect\": [200, 204], "
	    "\"tls_verify\": false, \"interval\": 0.5, \"timeout\": 0.25, \"rise\": 1, \"fall\": 4, "
	    "\"all_down\": \"none\"}}]}",
	    "/etc/p/c.json");
	h = c->handlers[0].health;
	assert_int_equal(c->handlers[0].policy, CONFIG_POLICY_LEAST_LOADED);
	assert_int_equal(c->handlers[0].choices, 2);
	assert_int_equal(h->check, CONFIG_CHECK_HTTPS);
	assert_int_equal(h->port, 8443);
	assert_string_equal(h->path, "/health?x=1");
	assert_string_equal(h->host, "www.example.test");
	assert_int_equal(h->n_expect, 2);
	assert_int_equal(h->expect[1], 204);
	assert_false(h->tls_verify);
	assert_int_equal(h->interval_ms, 500);
	assert_int_equal(h->timeout_ms, 250);
	assert_int_equal(h->rise, 1);
	assert_int_equal(h->fall, 4);
	assert_true(h->all_down_none);
	config_free(c);

	/* a state file resolves like the address file; it is a load source */
	c = parse_ok(
	    HEAD HH
	    "\"policy\": \"least-loaded\", \"health\": {\"check\": \"file\", \"file\": \"st.txt\"}}]}",
	    "/etc/p/c.json");
	assert_int_equal(c->handlers[0].health->check, CONFIG_CHECK_FILE);
	assert_string_equal(c->handlers[0].health->file, "st.txt");
	assert_string_equal(c->handlers[0].health->file_path, "/etc/p/st.txt");
	config_free(c);
}

static void test_health_errors(void **state)
{
	expect_errors(
	    HEAD HH "\"health\": {\"check\": \"icmp\"}}]}",
	    "cfg.json: error: /handlers/0/health/check: expected one of \"tcp\", \"http\", \"https\", "
	    "\"file\", got \"icmp\"");
	expect_errors(
	    HEAD HH "\"health\": {\"check\": \"tcp\", \"port\": 65536}}]}",
	    "cfg.json: error: /handlers/0/health/port: 65536 is out of range (1 to 65535)");
	expect_errors(HEAD HH "\"health\": {\"check\": \"tcp\", \"port\": 0}}]}",
		      "cfg.json: error: /handlers/0/health/port: 0 is out of range (1 to 65535)");
	expect_errors(HEAD HH "\"health\": {\"check\": \"tcp\"}}]}",
		      "cfg.json: error: /handlers/0/health: check \"tcp\" needs \"port\"");
	expect_errors(
	    HEAD HH "\"health\": {\"check\": \"http\", \"path\": \"health\"}}]}",
	    "cfg.json: error: /handlers/0/health/path: \"health\" is not a path: it starts with \"/\" and "
	    "holds no spaces or control characters");
	expect_errors(
	    HEAD HH "\"health\": {\"check\": \"http\", \"path\": \"/a b\"}}]}",
	    "cfg.json: error: /handlers/0/health/path: \"/a b\" is not a path: it starts with \"/\" and "
	    "holds no spaces or control characters");
	expect_errors(
	    HEAD HH "\"health\": {\"check\": \"http\", \"interval\": 1, \"timeout\": 2}}]}",
	    "cfg.json: error: /handlers/0/health/interval: 1 s is shorter than the timeout (2 s): a check "
	    "must end before the next one");
	/* the default timeout (2) counts too */
	expect_errors(
	    HEAD HH "\"health\": {\"check\": \"http\", \"interval\": 1}}]}",
	    "cfg.json: error: /handlers/0/health/interval: 1 s is shorter than the timeout (2 s): a check "
	    "must end before the next one");
	expect_errors(
	    HEAD HH "\"health\": {\"check\": \"http\", \"timeout\": 0.01}}]}",
	    "cfg.json: error: /handlers/0/health/timeout: 0.01 is out of range (0.1 to 3600 seconds)");
	expect_errors(
	    HEAD HH "\"health\": {\"check\": \"http\", \"interval\": \"5s\"}}]}",
	    "cfg.json: error: /handlers/0/health/interval: expected a number of seconds, got a string");
	expect_errors(HEAD HH "\"health\": {\"check\": \"http\", \"rise\": 0, \"fall\": 101}}]}",
		      "cfg.json: error: /handlers/0/health/rise: 0 is out of range (1 to 100)|"
		      "cfg.json: error: /handlers/0/health/fall: 101 is out of range (1 to 100)");
	expect_errors(
	    HEAD HH "\"health\": {\"check\": \"http\", \"expect\": [200, 200]}}]}",
	    "cfg.json: error: /handlers/0/health/expect/1: duplicate of item 0 (items must be unique)");
	expect_errors(
	    HEAD HH "\"health\": {\"check\": \"http\", \"expect\": [99]}}]}",
	    "cfg.json: error: /handlers/0/health/expect/0: 99 is out of range (100 to 599)");
	expect_errors(
	    HEAD HH "\"health\": {\"check\": \"http\", \"all_down\": \"some\"}}]}",
	    "cfg.json: error: /handlers/0/health/all_down: expected one of \"all\", \"none\", got \"some\"");
	expect_errors(
	    HEAD HH "\"health\": {\"check\": \"http\", \"tls_verify\": false, \"file\": \"x\"}}]}",
	    "cfg.json: error: /handlers/0/health/tls_verify: does not apply to check \"http\"|"
	    "cfg.json: error: /handlers/0/health/file: does not apply to check \"http\"");
	expect_errors(
	    HEAD HH "\"health\": {\"check\": \"file\", \"port\": 80}}]}",
	    "cfg.json: error: /handlers/0/health/port: does not apply to check \"file\"|"
	    "cfg.json: error: /handlers/0/health: check \"file\" needs \"file\": the state file");
	expect_errors(HEAD HH "\"health\": {\"check\": \"tcp\", \"port\": 1, \"probe\": 1}}]}",
		      "cfg.json: error: /handlers/0/health/probe: unknown key");
	expect_errors(HEAD HH "\"health\": [\"tcp\"]}]}",
		      "cfg.json: error: /handlers/0/health: expected an object, got an array");
	/* least-loaded needs loads, and choices goes with it and one address */
	expect_errors(
	    HEAD HH "\"policy\": \"least-loaded\"}]}",
	    "cfg.json: error: /handlers/0/policy: \"least-loaded\" needs a load source: a \"health\" check "
	    "of \"http\", \"https\" (the first number of the body) or \"file\" (\"load N\")");
	expect_errors(
	    HEAD HH
	    "\"policy\": \"least-loaded\", \"health\": {\"check\": \"tcp\", \"port\": 1}}]}",
	    "cfg.json: error: /handlers/0/policy: \"least-loaded\" needs a load source: a \"health\" check "
	    "of \"http\", \"https\" (the first number of the body) or \"file\" (\"load N\")");
	expect_errors(
	    HEAD HH "\"choices\": 2}]}",
	    "cfg.json: error: /handlers/0/choices: applies to policy \"least-loaded\" only");
	expect_errors(
	    HEAD HH
	    "\"policy\": \"least-loaded\", \"count\": 2, \"choices\": 2, \"health\": {\"check\": \"http\"}}]}",
	    "cfg.json: error: /handlers/0/choices: picks one address: \"count\" must be 1");
	expect_errors(
	    HEAD HH
	    "\"policy\": \"least-loaded\", \"choices\": 3, \"health\": {\"check\": \"http\"}}]}",
	    "cfg.json: error: /handlers/0/choices: 3 is out of range (2 to 2)");
	/* a view has no checks, so no least-loaded */
	expect_errors(
	    HEAD HH
	    "\"views\": [{\"prefixes\": [\"10.0.0.0/8\"], \"file\": \"g\", \"policy\": \"least-loaded\"}]}]}",
	    "cfg.json: error: /handlers/0/views/0/policy: expected one of \"round-robin\", \"random\", "
	    "\"weighted\", \"all\", got \"least-loaded\"");
}

static void test_schema_errors(void **state)
{
	expect_errors("[]", "cfg.json: error: /: expected an object, got an array");
	expect_errors(
	    "{}",
	    "cfg.json: error: /: missing required key \"domain\"|cfg.json: error: /: missing required key \"soa\"|"
	    "cfg.json: error: /: missing required key \"nameservers\"|cfg.json: error: /: missing required key \"ttl\"|"
	    "cfg.json: error: /: missing required key \"handlers\"");
	expect_errors(HEAD "\"handlers\": [], \"foo\": 1}", "cfg.json: error: /foo: unknown key");
	expect_errors(HEAD "\"handlers\": [], \"a/b~c\": 1}",
		      "cfg.json: error: /a~1b~0c: unknown key");
	/* keys and values shown as text, a long one cut with "..." */
	expect_errors(HEAD "\"handlers\": [], \"a\\nb\\\\\": 1}",
		      "cfg.json: error: /a\\x0ab\\\\: unknown key");
	{
		char text[2000], want[700];

		snprintf(text, sizeof(text), HEAD "\"handlers\": [], \"%0600d\": 1}", 0);
		snprintf(want, sizeof(want), "cfg.json: error: /%0507d...: unknown key", 0);
		expect_errors(text, want);
		snprintf(text, sizeof(text),
			 "{\"domain\": \"d.test\", \"soa\": \"%0200d\", \"nameservers\": [\"a\"], "
			 "\"ttl\": 1, \"handlers\": []}",
			 0);
		snprintf(want, sizeof(want),
			 "cfg.json: error: /soa: \"%0120d...\" is not \"MNAME RNAME SERIAL REFRESH "
			 "RETRY EXPIRE MINIMUM\" (host names and decimal numbers, single spaces)",
			 0);
		expect_errors(text, want);
	}
	expect_errors(
	    HEAD
	    "\"handlers\": [{\"qname\": \"t.dyn.example.test\", \"qtype\": \"MX\", \"file\": \"f\"}]}",
	    "cfg.json: error: /handlers/0/qtype: expected \"A\" or \"AAAA\", got \"MX\"");
	expect_errors(HEAD "\"handlers\": [{\"qname\": \"t.dyn.example.test\", \"qtype\": \"A\"}]}",
		      "cfg.json: error: /handlers/0: missing required key \"file\"");
	expect_errors(
	    HEAD
	    "\"handlers\": [{\"qname\": \"t.dyn.example.test\", \"qtype\": \"A\", \"file\": \"\"}]}",
	    "cfg.json: error: /handlers/0/file: must not be empty");
	expect_errors(
	    HEAD
	    "\"handlers\": [{\"qname\": \"t.dyn.example.test\", \"qtype\": \"A\", \"file\": \"f\", \"x\": 1}]}",
	    "cfg.json: error: /handlers/0/x: unknown key");
	expect_errors(HEAD "\"handlers\": {}}",
		      "cfg.json: error: /handlers: expected an array, got an object");
	expect_errors(
	    "{\"domain\": \"d.test\", \"soa\": \"a b 1 2 3 4 5\", \"nameservers\": [\"a\"], \"ttl\": -1, \"handlers\": []}",
	    "cfg.json: error: /ttl: -1 is out of range (0 to 2147483647)");
	expect_errors(
	    "{\"domain\": \"d.test\", \"soa\": \"a b 1 2 3 4 5\", \"nameservers\": [\"a\"], \"ttl\": 2147483648, \"handlers\": []}",
	    "cfg.json: error: /ttl: 2147483648 is out of range (0 to 2147483647)");
	expect_errors(
	    "{\"domain\": \"d.test\", \"soa\": \"a b 1 2 3 4 5\", \"nameservers\": [\"a\"], \"ttl\": 1.5, \"handlers\": []}",
	    "cfg.json: error: /ttl: expected an integer, got a fraction");
	expect_errors(
	    "{\"domain\": \"d.test\", \"soa\": \"a b 1 2 3 4 5\", \"nameservers\": [\"a\"], \"ttl\": 99999999999999999999, \"handlers\": []}",
	    "cfg.json: error: /ttl: a number beyond 64 bits is out of range (0 to 2147483647)");
	expect_errors(
	    "{\"domain\": \"d.test\", \"soa\": \"a b 1 2 3 4 5\", \"nameservers\": [\"a\"], \"ttl\": \"60\", \"handlers\": []}",
	    "cfg.json: error: /ttl: expected an integer, got a string");
	expect_errors(
	    "{\"domain\": \"d.test\", \"soa\": \"a b 1 2 3 4 5\", \"nameservers\": [\"a\", \"a\"], \"ttl\": 1, \"handlers\": []}",
	    "cfg.json: error: /nameservers/1: duplicate of item 0 (items must be unique)");
	expect_errors(
	    "{\"domain\": \"d.test\", \"soa\": \"a b 1 2 3 4 5\", \"nameservers\": [], \"ttl\": 1, \"handlers\": []}",
	    "cfg.json: error: /nameservers: needs at least 1 item");
	expect_errors(
	    "{\"domain\": \"-bad.test\", \"soa\": \"a b 1 2 3 4 5\", \"nameservers\": [\"a b\"], \"ttl\": 1, \"handlers\": []}",
	    "cfg.json: error: /domain: \"-bad.test\" is not a host name (letters, digits, '-' and '_' in labels of 1 to 63 characters, separated by dots)|"
	    "cfg.json: error: /nameservers/0: \"a b\" is not a host name (letters, digits, '-' and '_' in labels of 1 to 63 characters, separated by dots)");
	expect_errors(
	    "{\"domain\": \"d.test\", \"soa\": \"a b 4294967296 1 1 1 1\", \"nameservers\": [\"a\"], \"ttl\": 1, \"handlers\": []}",
	    "cfg.json: error: /soa: \"a b 4294967296 1 1 1 1\" is not \"MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM\" (host names and decimal numbers, single spaces)");
	expect_errors(
	    "{\"domain\": \"d.test\", \"soa\": \"a b 1 2 3 4 5\", \"nameservers\": [\"a\"], \"ttl\": 1, \"handlers\": [], \"loglevel\": \"verbose\"}",
	    "cfg.json: error: /loglevel: expected one of \"critical\", \"error\", \"warning\", \"info\", \"debug\", got \"verbose\"");
	expect_errors(
	    "{\"domain\": \"d.test\", \"soa\": \"a b 1 2 3 4 5\", \"nameservers\": [\"a\"], \"ttl\": 1, \"handlers\": [], \"advance\": \"per-packet\"}",
	    "cfg.json: error: /advance: expected one of \"per-question\", \"per-lookup\", got \"per-packet\"");
	expect_errors(
	    "{\"domain\": \"d.test\", \"soa\": \"a b 1 2 3 4 5\", \"nameservers\": [\"a\"], \"ttl\": 1, \"handlers\": [], \"empty_non_terminals\": \"yes\"}",
	    "cfg.json: error: /empty_non_terminals: expected true or false, got a string");
	/* a string with an escaped NUL, which json-c would cut there, is refused by the scan */
	expect_errors(
	    "{\"domain\": \"d.test\\u0000x\", \"soa\": \"a b 1 2 3 4 5\", \"nameservers\": [\"a\"], \"ttl\": 1, \"handlers\": []}",
	    "cfg.json:1:19: error: \\u0000 in a string (a NUL is not allowed)");
	/* and a key with one, which would become another key in the tree */
	expect_errors(
	    "{\"domain\": \"d.test\", \"soa\": \"a b 1 2 3 4 5\", \"nameservers\": [\"a\"], \"ttl\": 1, \"ttl\\u0000x\": 2, \"handlers\": []}",
	    "cfg.json:1:82: error: \\u0000 in a string (a NUL is not allowed)");
}

static void test_syntax_errors(void **state)
{
	expect_errors("{\n  \"domain\": \"x\",\n  \"domain\": \"y\"\n}",
		      "cfg.json:3:3: error: duplicate key \"domain\"");
	expect_errors("{\"a\": NaN}", "cfg.json:1:7: error: NaN and Infinity are not JSON numbers");
}

static void test_semantic_errors(void **state)
{
	expect_errors(
	    HEAD
	    "\"handlers\": [{\"qname\": \"www.other.test\", \"qtype\": \"A\", \"file\": \"f\"}]}",
	    "cfg.json: error: /handlers/0/qname: \"www.other.test\" is not at or below the domain \"dyn.example.test\"");
	expect_errors(
	    HEAD
	    "\"handlers\": [{\"qname\": \"t.dyn.example.test\", \"qtype\": \"A\", \"file\": \"f\"},"
	    "{\"qname\": \"T.DYN.example.test.\", \"qtype\": \"A\", \"file\": \"g\"}]}",
	    "cfg.json: error: /handlers/1: duplicate handler: T.DYN.example.test. A is already handled by /handlers/0");
	/* the apex itself may rotate */
	config_free(parse_ok(
	    HEAD
	    "\"handlers\": [{\"qname\": \"dyn.example.test\", \"qtype\": \"A\", \"file\": \"f\"}]}",
	    "c.json"));
	/* same name, A and AAAA: fine */
	config_free(parse_ok(
	    HEAD
	    "\"handlers\": [{\"qname\": \"t.dyn.example.test\", \"qtype\": \"A\", \"file\": \"f\"},"
	    "{\"qname\": \"t.dyn.example.test\", \"qtype\": \"AAAA\", \"file\": \"f\"}]}",
	    "c.json"));
}

/* uniqueItems compares canonical forms: members in any order, 2 and 2.0 alike; items
 * that differ in any member are not duplicates. */
static void test_unique_canonical(void **state)
{
	expect_errors(
	    HEAD
	    "\"handlers\": [{\"qname\": \"t.dyn.example.test\", \"qtype\": \"A\", \"file\": \"f\", \"count\": 2},"
	    "{\"qname\": \"u.dyn.example.test\", \"qtype\": \"A\", \"file\": \"f\", \"count\": 2},"
	    "{\"count\": 2.0, \"file\": \"f\", \"qtype\": \"A\", \"qname\": \"t.dyn.example.test\"},"
	    "{\"qname\": \"u.dyn.example.test\", \"qtype\": \"A\", \"file\": \"f\", \"count\": 2e0},"
	    "{\"qname\": \"u.dyn.example.test\", \"qtype\": \"A\", \"file\": \"f\", \"count\": 3}]}",
	    "cfg.json: error: /handlers/2: duplicate of item 0 (items must be unique)|"
	    "cfg.json: error: /handlers/3: duplicate of item 1 (items must be unique)");
	expect_errors(
	    HEAD
	    "\"handlers\": [], \"zones\": [{\"domain\": \"a.test\", \"soa\": \"a b 1 2 3 4 5\", "
	    "\"nameservers\": [\"n1\", \"n2\"]}, {\"nameservers\": [\"n1\", \"n2\"], \"soa\": \"a b 1 2 3 4 5\", "
	    "\"domain\": \"a.test\"}, {\"domain\": \"a.test\", \"soa\": \"a b 1 2 3 4 5\", "
	    "\"nameservers\": [\"n2\", \"n1\"]}]}",
	    "cfg.json: error: /zones/1: duplicate of item 0 (items must be unique)");
}

/* Array indexes in pointers, of one to three digits. */
static void test_pointer_index(void **state)
{
	char text[20000], *p = text;

	p += sprintf(p, HEAD "\"handlers\": [");
	for (int i = 0; i <= 100; i++)
		p += sprintf(
		    p,
		    "%s{\"qname\": \"t%d.dyn.example.test\", \"qtype\": \"%s\", \"file\": \"f\"}",
		    i ? ", " : "", i, i == 0 || i == 10 || i == 100 ? "MX" : "A");
	sprintf(p, "]}");
	expect_errors(
	    text, "cfg.json: error: /handlers/0/qtype: expected \"A\" or \"AAAA\", got \"MX\"|"
		  "cfg.json: error: /handlers/10/qtype: expected \"A\" or \"AAAA\", got \"MX\"|"
		  "cfg.json: error: /handlers/100/qtype: expected \"A\" or \"AAAA\", got \"MX\"");
}

/* The text hash tells apart texts of one size that differ in one byte, wherever it is. */
static void test_text_hash(void **state)
{
	static const char base[] = HEAD "\"handlers\": []}";

	for (size_t k = 0; k < 17; k++) {
		char a[sizeof(base) + 20], b[sizeof(base) + 20];
		struct config *x, *y, *z;
		size_t n = sizeof(base) - 1 + k + 1;

		snprintf(a, sizeof(a), "%s%*s ", base, (int)k, "");
		snprintf(b, sizeof(b), "%s%*s\n", base, (int)k, "");
		assert_int_equal(strlen(a), n);
		x = parse_ok(a, "c.json");
		y = parse_ok(b, "c.json");
		z = parse_ok(a, "c.json");
		assert_true(x->text_hash != y->text_hash);
		assert_true(x->text_hash == z->text_hash);
		config_free(x);
		config_free(y);
		config_free(z);
	}
}

/* A pseudo-random host-name-like string: labels of lengths around the limits, of letters,
 * digits, '_', '-' and now and then a character the patterns refuse. */
static size_t random_name(uint64_t *seed, char *s, size_t max)
{
	static const char chars[] = "aZ09_-x-Q_7.*é \t";
	size_t n = 0, labels;

	*seed = *seed * 6364136223846793005u + 1442695040888963407u;
	labels = (*seed >> 33) % 5;
	if ((*seed >> 20) % 4 == 0 && n + 2 < max) {
		s[n++] = '*';
		s[n++] = '.';
	}
	for (size_t l = 0; l <= labels; l++) {
		size_t len;

		*seed = *seed * 6364136223846793005u + 1442695040888963407u;
		len = (*seed >> 33) % 8 == 0 ? 60 + (*seed >> 40) % 6 : (*seed >> 40) % 4;
		for (size_t i = 0; i < len && n + 1 < max; i++) {
			*seed = *seed * 6364136223846793005u + 1442695040888963407u;
			/* mostly label characters, sometimes anything of chars[] */
			s[n++] =
			    chars[(*seed >> 33) % ((*seed >> 50) % 16 ? 10 : sizeof(chars) - 1)];
		}
		if (l < labels && n + 1 < max)
			s[n++] = '.';
	}
	*seed = *seed * 6364136223846793005u + 1442695040888963407u;
	if ((*seed >> 33) % 4 == 0 && n + 1 < max)
		s[n++] = '.';
	s[n] = 0;
	return n;
}

/* The fast host-name check agrees with the patterns: on the names it accepts, and on the
 * plain-ASCII ones it refuses (which then go to the pattern anyway). */
static void test_hostname_fast(void **state)
{
	static const char *const edge[] = {
	    "",	     ".",     "a",     "a.",   "a..",	     ".a",  "-",    "a-",   "-a",
	    "a-b",   "_",     "a_.b_", "*",    "*.",	     "*.a", "*.a.", "**.a", "*a.b",
	    "a.*.b", "*.*.a", "a..b",  "a.b.", "xn--a.test", "0.1", "a b",  "a\tb"};
	regex_t host, qname;
	uint64_t seed = 42;
	size_t agreed = 0, accepted = 0;

	assert_int_equal(regcomp(&host, config_pattern_hostname, REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(regcomp(&qname, config_pattern_qname, REG_EXTENDED | REG_NOSUB), 0);
	for (size_t i = 0; i < 200000 + ELEMENTSOF(edge) + 4; i++) {
		char s[400];
		size_t n;

		if (i < ELEMENTSOF(edge))
			n = strlen(strcpy(s, edge[i]));
		else if (i < ELEMENTSOF(edge) + 4) {
			/* labels of 63 and 64 characters, alone and after "*." */
			size_t len = 63 + (i - ELEMENTSOF(edge)) % 2,
			       at = (i - ELEMENTSOF(edge)) / 2 * 2;

			memcpy(s, "*.", at);
			memset(s + at, 'a', len);
			n = at + len;
			s[n] = 0;
		} else
			n = random_name(&seed, s, sizeof(s));
		for (int wild = 0; wild < 2; wild++) {
			bool fast = config_hostname_fast(s, n, wild);
			bool re = regexec(wild ? &qname : &host, s, 0, NULL, 0) == 0;

			if (fast != re &&
			    (fast ||
			     strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "0123456789_-.*") == n))
				fail_msg("\"%s\" (%s): the fast check says %d, the pattern %d", s,
					 wild ? "qname" : "hostname", fast, re);
			agreed++;
			accepted += fast;
		}
	}
	/* the generator reaches both outcomes often */
	assert_true(accepted > agreed / 10 && accepted < agreed * 9 / 10);
	regfree(&host);
	regfree(&qname);
}

static void test_schema_file_agrees(void **state)
{
	const char *top = getenv("top_srcdir");
	char path[4096];
	json_object *s, *defs, *props;

	snprintf(path, sizeof(path), "%s/schema/config-schema.json", top ? top : ".");
	s = json_object_from_file(path);
	if (!s)
		fail_msg("cannot read %s (run from the source tree or set top_srcdir)", path);
	defs = json_object_object_get(s, "$defs");
	props = json_object_object_get(s, "properties");
	assert_string_equal(json_object_get_string(json_object_object_get(
				json_object_object_get(defs, "hostname"), "pattern")),
			    config_pattern_hostname);
	assert_string_equal(json_object_get_string(json_object_object_get(
				json_object_object_get(defs, "qname"), "pattern")),
			    config_pattern_qname);
	assert_string_equal(json_object_get_string(json_object_object_get(
				json_object_object_get(props, "soa"), "pattern")),
			    config_pattern_soa);
	assert_string_equal(json_object_get_string(json_object_object_get(
				json_object_object_get(props, "control_group"), "pattern")),
			    config_pattern_group);
	assert_string_equal(
	    json_object_get_string(json_object_object_get(
		json_object_object_get(
		    json_object_object_get(json_object_object_get(defs, "zone"), "properties"),
		    "soa"),
		"pattern")),
	    config_pattern_soa);
	/* every top-level key the code accepts is in the schema, and no other */
	assert_int_equal(json_object_object_length(props), 13);
	/* the handler keys, the policy names and the count's range */
	props = json_object_object_get(json_object_object_get(defs, "addresses"), "properties");
	assert_int_equal(json_object_object_length(props), 10);
	{
		/* the health keys and the check names */
		json_object *hp =
		    json_object_object_get(json_object_object_get(defs, "health"), "properties");
		json_object *e =
		    json_object_object_get(json_object_object_get(hp, "check"), "enum");

		assert_int_equal(json_object_object_length(hp), 12);
		assert_int_equal(json_object_array_length(e), ELEMENTSOF(config_check_names));
		for (size_t i = 0; i < ELEMENTSOF(config_check_names); i++)
			assert_string_equal(json_object_get_string(json_object_array_get_idx(e, i)),
					    config_check_names[i]);
	}
	/* every other kind: its definition takes the keys kind.h says, and requires the same */
	for (const char *const *name = (const char *const[]){"static", "whoami", "reverse", NULL};
	     *name; name++) {
		const struct kind *k = kind_find(*name);
		json_object *def = json_object_object_get(defs, *name),
			    *req = json_object_object_get(def, "required");
		json_object *p = json_object_object_get(def, "properties");

		assert_non_null(k);
		assert_int_equal(json_object_object_length(p), k->n_keys);
		for (size_t i = 0; i < k->n_keys; i++)
			assert_true(json_object_object_get_ex(p, k->keys[i], NULL));
		assert_int_equal(json_object_array_length(req), k->n_required);
		for (size_t i = 0; i < k->n_required; i++)
			assert_string_equal(
			    json_object_get_string(json_object_array_get_idx(req, i)),
			    k->required[i]);
		assert_string_equal(json_object_get_string(json_object_object_get(
					json_object_object_get(p, "kind"), "const")),
				    k->name);
	}
	assert_int_equal(json_object_array_length(json_object_object_get(
			     json_object_object_get(defs, "handler"), "oneOf")),
			 4);
	{
		json_object *e =
		    json_object_object_get(json_object_object_get(props, "policy"), "enum");
		json_object *n = json_object_object_get(props, "count");

		assert_int_equal(json_object_array_length(e), ELEMENTSOF(config_policy_names));
		for (size_t i = 0; i < ELEMENTSOF(config_policy_names); i++)
			assert_string_equal(json_object_get_string(json_object_array_get_idx(e, i)),
					    config_policy_names[i]);
		assert_int_equal(json_object_get_int(json_object_object_get(n, "minimum")), 1);
		assert_int_equal(json_object_get_int(json_object_object_get(n, "maximum")),
				 CONFIG_COUNT_MAX);
	}
	json_object_put(s);
}

static void test_load_errors(void **state)
{
	struct config *c = NULL;
	struct diag d;

	diag_init(&d);
	assert_int_equal(config_load("/nonexistent/config.json", &d, &c), -ENOENT);
	assert_string_equal(
	    d.msgs[0], "/nonexistent/config.json: error: cannot open: No such file or directory");
	diag_clear(&d);
	assert_int_equal(config_load("/tmp", &d, &c), -EINVAL);
	assert_string_equal(d.msgs[0], "/tmp: error: not a regular file (a directory)");
	diag_clear(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_python_config),
	    cmocka_unit_test(test_defaults_and_extras),
	    cmocka_unit_test(test_policy),
	    cmocka_unit_test(test_health),
	    cmocka_unit_test(test_health_errors),
	    cmocka_unit_test(test_schema_errors),
	    cmocka_unit_test(test_syntax_errors),
	    cmocka_unit_test(test_semantic_errors),
	    cmocka_unit_test(test_schema_file_agrees),
	    cmocka_unit_test(test_load_errors),
	    cmocka_unit_test(test_unique_canonical),
	    cmocka_unit_test(test_hostname_fast),
	    cmocka_unit_test(test_text_hash),
	    cmocka_unit_test(test_pointer_index),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
