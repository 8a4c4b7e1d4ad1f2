/* SPDX-License-Identifier: MIT */
/* The control protocol codec: what pdynctl sends is what pdyndns reads, and every bad
 * request is refused with a reason. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

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

	for (size_t i = 0; i < 3; i++) {
		enum ctl_cmd c = (enum ctl_cmd[]){CTL_STATUS, CTL_RELOAD, CTL_METRICS}[i];

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
	    {"{\"v\":\"1\",\"cmd\":\"status\"}",
	     "unsupported protocol version (this daemon speaks 1)"},
	    {"{\"v\":1}", "missing or bad \"cmd\""},
	    {"{\"v\":1,\"cmd\":7}", "missing or bad \"cmd\""},
	    {"{\"v\":1,\"cmd\":\"shutdown\"}", "unknown command"},
	    {"{\"v\":1,\"cmd\":\"status\",\"x\":1}", "unknown key in request"},
	    {"{\"v\":1,\"cmd\":\"query\",\"type\":\"A\"}",
	     "query needs \"name\" and \"type\" strings (and optionally \"client\")"},
	    {"{\"v\":1,\"cmd\":\"query\",\"name\":\"a\",\"type\":\"\"}",
	     "query needs \"name\" and \"type\" strings (and optionally \"client\")"},
	    {"{\"v\":1,\"cmd\":\"query\",\"name\":\"a\",\"type\":\"A\",\"client\":5}",
	     "query needs \"name\" and \"type\" strings (and optionally \"client\")"},
	    {"{\"v\":1,\"cmd\":\"status\",\"cmd\":\"reload\"}",
	     "not valid JSON"}, /* duplicate key */
	    {"{\"v\":1,\"cmd\":\"status\"} {}", "not valid JSON"},
	    /* json-c cuts a key at \u0000: this would be a second "cmd" past the duplicate check */
	    {"{\"v\":1,\"cmd\":\"status\",\"cmd\\u0000x\":\"reload\"}", "a string holds \\u0000"},
	    {"{\"v\":1,\"cmd\\u0000\":\"reload\"}", "a string holds \\u0000"},
	    {"{\"v\":1,\"cmd\":\"status\",\"names\":[\"a\\u0000b\"]}", "a string holds \\u0000"},
	    {"{\"v\":1,\"cmd\":\"status\",\"names\":[]}",
	     "\"names\" must be an array of 1 to 1024 names"},
	    {"{\"v\":1,\"cmd\":\"status\",\"names\":\"a\"}",
	     "\"names\" must be an array of 1 to 1024 names"},
	    {"{\"v\":1,\"cmd\":\"status\",\"names\":[\"a\",5]}",
	     "\"names\" must hold names (strings of 1 to 1024 bytes)"},
	    {"{\"v\":1,\"cmd\":\"status\",\"names\":[\"\"]}",
	     "\"names\" must hold names (strings of 1 to 1024 bytes)"},
	    {"{\"v\":1,\"cmd\":\"status\",\"summary\":1}", "\"summary\" must be true or false"},
	    {"{\"v\":1,\"cmd\":\"reload\",\"names\":[\"a\"]}", "unknown key in request"},
	};
	struct ctl_request req;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = NULL;

		assert_int_equal(decode(bad[i].line, &req, &why), -EINVAL);
		assert_non_null(why);
		assert_string_equal(why, bad[i].why);
	}
}

static void test_request_names(void **state)
{
	char *names[] = {"a.test", "B.test."};
	struct ctl_request in = {.cmd = CTL_STATUS, .names = names, .n_names = 2, .summary = true},
			   out;
	const char *why = NULL;
	char *line = ctl_request_encode(&in);

	assert_string_equal(
	    line,
	    "{\"v\":1,\"cmd\":\"status\",\"names\":[\"a.test\",\"B.test.\"],\"summary\":true}\n");
	assert_int_equal(ctl_request_decode(line, strlen(line) - 1, &out, &why), 0);
	assert_int_equal(out.n_names, 2);
	assert_string_equal(out.names[0], "a.test");
	assert_string_equal(out.names[1], "B.test.");
	assert_true(out.summary);
	ctl_request_done(&out);
	assert_null(out.names);
	free(line);
	/* a backslash before u0000 is a backslash, not a NUL */
	assert_int_equal(
	    decode("{\"v\":1,\"cmd\":\"status\",\"names\":[\"a\\\\u0000\"]}", &out, &why), 0);
	assert_string_equal(out.names[0], "a\\u0000");
	ctl_request_done(&out);
}

static void test_stream(void **state)
{
	json_object *h = json_object_new_object(), *item, *end, *res;
	char *line, *err;
	bool ok, stream = false;

	line = ctl_response_stream(json_object_new_object());
	assert_string_equal(line, "{\"v\":1,\"ok\":true,\"result\":{},\"stream\":true}\n");
	assert_int_equal(ctl_response_decode(line, strlen(line) - 1, &ok, &res, &err, &stream), 0);
	assert_true(ok && stream);
	json_object_put(res);
	free(line);
	json_object_object_add(h, "qname", json_object_new_string("a.test"));
	line = ctl_stream_item(h);
	assert_string_equal(line, "{\"v\":1,\"item\":{\"qname\":\"a.test\"}}\n");
	assert_int_equal(ctl_stream_decode(line, strlen(line) - 1, &item, &end, &err), 0);
	assert_non_null(item);
	assert_null(end);
	assert_null(err);
	assert_string_equal(json_object_get_string(json_object_object_get(item, "qname")),
			    "a.test");
	json_object_put(item);
	free(line);
	line = ctl_stream_end(json_object_new_object());
	assert_int_equal(ctl_stream_decode(line, strlen(line) - 1, &item, &end, &err), 0);
	assert_non_null(end);
	json_object_put(end);
	free(line);
	line = ctl_response_error("gone");
	assert_int_equal(ctl_stream_decode(line, strlen(line) - 1, &item, &end, &err), 0);
	assert_string_equal(err, "gone");
	free(err);
	free(line);
	assert_int_equal(ctl_stream_decode("{\"v\":1,\"item\":[]}", 17, &item, &end, &err),
			 -EINVAL);
	assert_int_equal(ctl_stream_decode("{\"v\":1}", 7, &item, &end, &err), -EINVAL);
}

static void test_request_limits(void **state)
{
	struct ctl_request req;
	const char *why = NULL;
	char *big = malloc(CTL_MAX_LINE + 2);
	char name[2000];
	char line[2100];

	/* a NUL inside the line */
	assert_int_equal(ctl_request_decode("{\"v\":1,\0\"cmd\":\"status\"}", 24, &req, &why),
			 -EINVAL);
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
	snprintf(line, sizeof(line), "{\"v\":1,\"cmd\":\"query\",\"name\":\"%s\",\"type\":\"A\"}",
		 name);
	assert_int_equal(decode(line, &req, &why), -EINVAL);
	/* a name with an escaped NUL */
	assert_int_equal(
	    decode("{\"v\":1,\"cmd\":\"query\",\"name\":\"a\\u0000b\",\"type\":\"A\"}", &req, &why),
	    -EINVAL);
}

static void test_response_roundtrip(void **state)
{
	json_object *res = json_object_new_object(), *got = NULL;
	char *line, *err = NULL;
	bool ok = false;

	json_object_object_add(res, "generation", json_object_new_int(7));
	line = ctl_response_ok(res);
	assert_string_equal(line, "{\"v\":1,\"ok\":true,\"result\":{\"generation\":7}}\n");
	assert_int_equal(ctl_response_decode(line, strlen(line) - 1, &ok, &got, &err, NULL), 0);
	assert_true(ok);
	assert_null(err);
	assert_int_equal(json_object_get_int(json_object_object_get(got, "generation")), 7);
	json_object_put(got);
	free(line);

	line = ctl_response_error("config.json:3:1: error: \"x\" / tabs\tand \"quotes\"");
	assert_int_equal(ctl_response_decode(line, strlen(line) - 1, &ok, &got, &err, NULL), 0);
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
	    "",
	    "{}",
	    "{\"v\":1}",
	    "{\"v\":2,\"ok\":true}",
	    "{\"v\":1,\"ok\":\"yes\"}",
	    "{\"v\":1,\"ok\":false}",
	    "{\"v\":1,\"ok\":false,\"error\":3}",
	    "not json",
	};
	json_object *res;
	char *err;
	bool ok;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ctl_response_decode(bad[i], strlen(bad[i]), &ok, &res, &err, NULL),
				 -EINVAL);
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
	assert_int_equal(ctl_response_decode(line, 4 * CTL_MAX_LINE, &ok, &got, &err, NULL), 0);
	assert_true(ok);
	assert_int_equal(json_object_get_string_len(json_object_object_get(got, "pad")),
			 4 * CTL_MAX_LINE - 37);
	json_object_put(got);
	/* exactly at the cap is fine, beyond it is refused */
	padded_response(line, CTL_MAX_REPLY);
	assert_int_equal(ctl_response_decode(line, CTL_MAX_REPLY, &ok, &got, &err, NULL), 0);
	json_object_put(got);
	padded_response(line, CTL_MAX_REPLY + 1);
	assert_int_equal(ctl_response_decode(line, CTL_MAX_REPLY + 1, &ok, &got, &err, NULL),
			 -EINVAL);
	free(line);
}

static void test_mutating(void **state)
{
	assert_true(ctl_cmd_mutating(CTL_RELOAD));
	assert_false(ctl_cmd_mutating(CTL_STATUS));
	assert_false(ctl_cmd_mutating(CTL_QUERY));
	assert_string_equal(ctl_cmd_name(CTL_QUERY), "query");
	/* metrics: read-only, and no key of its own */
	assert_false(ctl_cmd_mutating(CTL_METRICS));
	assert_string_equal(ctl_cmd_name(CTL_METRICS), "metrics");
	{
		struct ctl_request out;
		const char *why, *line = "{\"v\":1,\"cmd\":\"metrics\",\"names\":[\"a\"]}";
		char *enc = ctl_request_encode(&(struct ctl_request){.cmd = CTL_METRICS});

		assert_string_equal(enc, "{\"v\":1,\"cmd\":\"metrics\"}\n");
		free(enc);
		assert_int_equal(ctl_request_decode(line, strlen(line), &out, &why), -EINVAL);
		assert_string_equal(why, "unknown key in request");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_roundtrip),  cmocka_unit_test(test_request_exact_wire),
	    cmocka_unit_test(test_request_rejects),    cmocka_unit_test(test_request_limits),
	    cmocka_unit_test(test_response_roundtrip), cmocka_unit_test(test_response_rejects),
	    cmocka_unit_test(test_response_limits),    cmocka_unit_test(test_mutating),
	    cmocka_unit_test(test_request_names),      cmocka_unit_test(test_stream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
