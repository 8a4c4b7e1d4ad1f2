/* SPDX-License-Identifier: MIT */
/* The control protocol codec: what pdynctl sends is what pdyndns reads, and every bad
 * request is refused with a reason. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlproto.h"

static int decode(const char *line, struct ctl_request *req, const char **why)
{
	return ctl_request_decode(line, strlen(line), req, why);
}

static void test_request_roundtrip(void **state)
{
	struct ctl_request in = {.cmd = CTL_QUERY}, out;
	const char *why = NULL;
	char *line;

	strcpy(in.name, "WwW.example.test");
	strcpy(in.type, "AAAA");
	strcpy(in.client, "2001:db8::1");
	line = ctl_request_encode(&in);
	assert_non_null(line);
	assert_int_equal(line[strlen(line) - 1], '\n');
	assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1); /* exactly one line */
	assert_int_equal(ctl_request_decode(line, strlen(line) - 1, &out, &why), 0);
	assert_int_equal(out.cmd, CTL_QUERY);
	assert_string_equal(out.name, "WwW.example.test");
	assert_string_equal(out.type, "AAAA");
	assert_string_equal(out.client, "2001:db8::1");
	free(line);

	for (enum ctl_cmd c = CTL_STATUS; c <= CTL_RELOAD; c++) {
		in = (struct ctl_request){.cmd = c};
		line = ctl_request_encode(&in);
		assert_int_equal(ctl_request_decode(line, strlen(line) - 1, &out, &why), 0);
		assert_int_equal(out.cmd, c);
		free(line);
	}
}

static void test_request_exact_wire(void **state)
{
	struct ctl_request in = {.cmd = CTL_STATUS};
	char *line = ctl_request_encode(&in);

	assert_string_equal(line, "{\"v\":1,\"cmd\":\"status\"}\n");
	free(line);
}

static void test_request_rejects(void **state)
{
	static const struct {
		const char *line;
		const char *why;
	} bad[] = {
		{"", "not valid JSON"},
		{"status", "not valid JSON"},
		{"[1]", "not a JSON object"},
		{"{\"cmd\":\"status\"}", "unsupported protocol version (this daemon speaks 1)"},
		{"{\"v\":2,\"cmd\":\"status\"}", "unsupported protocol version (this daemon speaks 1)"},
		{"{\"v\":\"1\",\"cmd\":\"status\"}", "unsupported protocol version (this daemon speaks 1)"},
		{"{\"v\":1}", "missing or bad \"cmd\""},
		{"{\"v\":1,\"cmd\":7}", "missing or bad \"cmd\""},
		{"{\"v\":1,\"cmd\":\"shutdown\"}", "unknown command"},
		{"{\"v\":1,\"cmd\":\"status\",\"x\":1}", "unknown key in request"},
		{"{\"v\":1,\"cmd\":\"query\",\"type\":\"A\"}", "query needs \"name\" and \"type\" strings (and optionally \"client\")"},
		{"{\"v\":1,\"cmd\":\"query\",\"name\":\"a\",\"type\":\"\"}", "query needs \"name\" and \"type\" strings (and optionally \"client\")"},
		{"{\"v\":1,\"cmd\":\"query\",\"name\":\"a\",\"type\":\"A\",\"client\":5}", "query needs \"name\" and \"type\" strings (and optionally \"client\")"},
		{"{\"v\":1,\"cmd\":\"status\",\"cmd\":\"reload\"}", "not valid JSON"}, /* duplicate key */
		{"{\"v\":1,\"cmd\":\"status\"} {}", "not valid JSON"},
	};
	struct ctl_request req;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = NULL;

		assert_int_equal(decode(bad[i].line, &req, &why), -EINVAL);
		assert_non_null(why);
		assert_string_equal(why, bad[i].why);
	}
}

static void test_request_limits(void **state)
{
	struct ctl_request req;
	const char *why = NULL;
	char *big = malloc(CTL_MAX_LINE + 2);
	char name[2000];
	char line[2100];

	/* a NUL inside the line */
	assert_int_equal(ctl_request_decode("{\"v\":1,\0\"cmd\":\"status\"}", 24, &req, &why), -EINVAL);
	/* longer than the cap */
	memset(big, ' ', CTL_MAX_LINE + 1);
	memcpy(big, "{\"v\":1,\"cmd\":\"status\"}", 22);
	assert_int_equal(ctl_request_decode(big, CTL_MAX_LINE + 1, &req, &why), -EINVAL);
	assert_string_equal(why, "line too long");
	/* exactly at the cap is fine */
	assert_int_equal(ctl_request_decode(big, CTL_MAX_LINE, &req, &why), 0);
	free(big);
	/* a name longer than any domain name */
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	snprintf(line, sizeof(line), "{\"v\":1,\"cmd\":\"query\",\"name\":\"%s\",\"type\":\"A\"}", name);
	assert_int_equal(decode(line, &req, &why), -EINVAL);
	/* a name with an escaped NUL */
	assert_int_equal(decode("{\"v\":1,\"cmd\":\"query\",\"name\":\"a\\u0000b\",\"type\":\"A\"}", &req, &why), -EINVAL);
}

static void test_response_roundtrip(void **state)
{
	json_object *res = json_object_new_object(), *got = NULL;
	char *line, *err = NULL;
	bool ok = false;

	json_object_object_add(res, "generation", json_object_new_int(7));
	line = ctl_response_ok(res);
	assert_string_equal(line, "{\"v\":1,\"ok\":true,\"result\":{\"generation\":7}}\n");
	assert_int_equal(ctl_response_decode(line, strlen(line) - 1, &ok, &got, &err), 0);
	assert_true(ok);
	assert_null(err);
	assert_int_equal(json_object_get_int(json_object_object_get(got, "generation")), 7);
	json_object_put(got);
	free(line);

	line = ctl_response_error("config.json:3:1: error: \"x\" / tabs\tand \"quotes\"");
	assert_int_equal(ctl_response_decode(line, strlen(line) - 1, &ok, &got, &err), 0);
	assert_false(ok);
	assert_null(got);
	assert_string_equal(err, "config.json:3:1: error: \"x\" / tabs\tand \"quotes\"");
	assert_null(strchr(line, '\t')); /* escaped: still one line */
	free(err);
	free(line);
}

static void test_response_rejects(void **state)
{
	static const char *const bad[] = {
		"", "{}", "{\"v\":1}", "{\"v\":2,\"ok\":true}", "{\"v\":1,\"ok\":\"yes\"}",
		"{\"v\":1,\"ok\":false}", "{\"v\":1,\"ok\":false,\"error\":3}", "not json",
	};
	json_object *res;
	char *err;
	bool ok;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ctl_response_decode(bad[i], strlen(bad[i]), &ok, &res, &err), -EINVAL);
}

/* A line of len bytes: a valid response with a string of 'x' filling it. */
static char *padded_response(char *line, size_t len)
{
	const char *head = "{\"v\":1,\"ok\":true,\"result\":{\"pad\":\"";

	memset(line, 'x', len);
	memcpy(line, head, strlen(head));
	memcpy(line + len - 3, "\"}}", 3);
	return line;
}

static void test_response_limits(void **state)
{
	char *line = malloc(CTL_MAX_REPLY + 1), *err = NULL;
	json_object *got = NULL;
	bool ok = false;

	/* a status reply is far longer than a request may be: a few hundred handlers */
	padded_response(line, 4 * CTL_MAX_LINE);
	assert_int_equal(ctl_response_decode(line, 4 * CTL_MAX_LINE, &ok, &got, &err), 0);
	assert_true(ok);
	assert_int_equal(json_object_get_string_len(json_object_object_get(got, "pad")), 4 * CTL_MAX_LINE - 37);
	json_object_put(got);
	/* exactly at the cap is fine, beyond it is refused */
	padded_response(line, CTL_MAX_REPLY);
	assert_int_equal(ctl_response_decode(line, CTL_MAX_REPLY, &ok, &got, &err), 0);
	json_object_put(got);
	padded_response(line, CTL_MAX_REPLY + 1);
	assert_int_equal(ctl_response_decode(line, CTL_MAX_REPLY + 1, &ok, &got, &err), -EINVAL);
	free(line);
}

static void test_mutating(void **state)
{
	assert_true(ctl_cmd_mutating(CTL_RELOAD));
	assert_false(ctl_cmd_mutating(CTL_STATUS));
	assert_false(ctl_cmd_mutating(CTL_QUERY));
	assert_string_equal(ctl_cmd_name(CTL_QUERY), "query");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_roundtrip), cmocka_unit_test(test_request_exact_wire),
		cmocka_unit_test(test_request_rejects),   cmocka_unit_test(test_request_limits),
		cmocka_unit_test(test_response_roundtrip), cmocka_unit_test(test_response_rejects),
		cmocka_unit_test(test_response_limits),
		cmocka_unit_test(test_mutating),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
