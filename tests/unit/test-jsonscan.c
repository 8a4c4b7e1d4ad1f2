/* SPDX-License-Identifier: MIT */
/* The strict JSON scan: everything RFC 8259 allows passes; what json-c would let through
 * or could not report is refused at the right line and column. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "jsonscan.h"

static void test_valid(void **state)
{
	static const char *const good[] = {
	    "{}",
	    "[]",
	    " \n\t\r{ } ",
	    "0",
	    "-0",
	    "1.5e-3",
	    "-12E+4",
	    "1e400",
	    "\"\"",
	    "true",
	    "null",
	    "{\"a\": [1, 2.0, {\"b\": null}], \"c\": \"\\u00e9\\ud83d\\ude00\\n\\\"\\\\\\/\"}",
	    "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"",
	    "{\"a\":1,\"A\":2}",
	};
	struct jsonscan_error e;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (jsonscan_check(good[i], strlen(good[i]), &e) != 0)
			fail_msg("rejected %s: %zu:%zu %s", good[i], e.line, e.col, e.msg);
}

static void expect_bad(const char *text, size_t len, size_t line, size_t col, const char *msg)
{
	struct jsonscan_error e;

	if (jsonscan_check(text, len, &e) != -EINVAL)
		fail_msg("accepted: %s", text);
	if (e.line != line || e.col != col || !strstr(e.msg, msg))
		fail_msg("%s: got %zu:%zu %s, expected %zu:%zu %s", text, e.line, e.col, e.msg,
			 line, col, msg);
}
#define BAD(text, line, col, msg) expect_bad(text, sizeof(text) - 1, line, col, msg)

static void test_invalid(void **state)
{
	BAD("{\"a\": 1,}", 1, 9, "trailing comma before '}'");
	BAD("[1,\n 2,\n]", 3, 1, "trailing comma before ']'");
	BAD("{// c\n}", 1, 2, "comments are not JSON");
	BAD("/* c */ {}", 1, 1, "comments are not JSON");
	BAD("{'a': 1}", 1, 2, "single quote");
	BAD("[NaN]", 1, 2, "NaN and Infinity");
	BAD("[Infinity]", 1, 2, "NaN and Infinity");
	BAD("[-Infinity]", 1, 2, "NaN and Infinity");
	BAD("[01]", 1, 2, "leading zero");
	BAD("[1.]", 1, 2, "digits must follow '.'");
	BAD("[.5]", 1, 2, "expected a JSON value");
	BAD("[1e]", 1, 2, "digits must follow the exponent");
	BAD("[\"a\tb\"]", 1, 4, "control character 0x09");
	BAD("[\"\\x\"]", 1, 3, "bad escape '\\x'");
	BAD("[\"\xc0\xaf\"]", 1, 3, "invalid UTF-8");	  /* overlong */
	BAD("[\"\xed\xa0\x80\"]", 1, 3, "invalid UTF-8"); /* an encoded surrogate */
	BAD("[\"\xe2\x82\"]", 1, 3, "invalid UTF-8");	  /* truncated */
	/* after a run of plain text, in values and keys */
	BAD("[\"abc\x7f\x80\"]", 1, 7, "invalid UTF-8");
	BAD("{\"key\x1f\": 1}", 1, 6, "control character 0x1f");
	BAD("{\"k\": \"va\\q\"}", 1, 10, "bad escape");
	BAD("[\"abcdef", 1, 2, "unterminated string");
	BAD("[\"\\ud800\"]", 1, 9, "unpaired UTF-16 surrogate");
	BAD("[\"\\udc00\"]", 1, 3, "unpaired UTF-16 surrogate");
	BAD("\xef\xbb\xbf{}", 1, 1, "byte-order mark");
	BAD("{\"a\": 1,\n  \"b\": 2,\n  \"a\": 3}", 3, 3, "duplicate key \"a\"");
	BAD("{\"a\": 1, \"\\u0061\": 2}", 1, 10, "duplicate key \"a\"");
	BAD("{\"x\": {\"k\": 1, \"k\": 2}}", 1, 16, "duplicate key \"k\"");
	/* the first repeat in the text, not the first key in sorted order */
	BAD("{\"b\": 1, \"b\": 2, \"a\": 1, \"a\": 2, \"a\": 3}", 1, 10, "duplicate key \"b\"");
	BAD("{\"a\": 1, \"a\": 2, \"a\": 3}", 1, 10, "duplicate key \"a\"");
	BAD("{\"\\n\": 1, \"\\n\": 2}", 1, 11, "duplicate key \"\\x0a\"");
	/* up to 8 keys and beyond (another way to find repeats there): the first repeat in the
	 * text, escaped and plain spellings alike */
	BAD("{\"\\u0061\": 1, \"b\": 2, \"a\": 3}", 1, 23, "duplicate key \"a\"");
	BAD("{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"g\":8}", 1, 44,
	    "duplicate key \"g\"");
	BAD("{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,\"h\":0,\"a\":1}",
	    1, 56, "duplicate key \"h\"");
	BAD("{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,\"j\":0,\"\\u0062\":1}",
	    1, 62, "duplicate key \"b\"");
	BAD("{} {}", 1, 4, "end of input after the JSON value");
	BAD("", 1, 1, "expected a JSON value, got end of input");
	BAD("   ", 1, 4, "expected a JSON value, got end of input");
	BAD("{\"a\": [1, 2", 1, 12, "expected ',' or ']', got end of input");
	BAD("{\"a\" 1}", 1, 6, "expected ':'");
	BAD("[tru]", 1, 2, "expected a JSON value");
}

static void test_depth(void **state)
{
	char deep[2 * JSONSCAN_MAX_DEPTH + 3];
	struct jsonscan_error e;
	size_t n = JSONSCAN_MAX_DEPTH;

	memset(deep, '[', n);
	memset(deep + n, ']', n);
	assert_int_equal(jsonscan_check(deep, 2 * n, &e), 0);
	memset(deep, '[', n + 1);
	memset(deep + n + 1, ']', n + 1);
	assert_int_equal(jsonscan_check(deep, 2 * n + 2, &e), -EINVAL);
	assert_int_equal(e.col, n + 1);
	assert_non_null(strstr(e.msg, "nested deeper than 64 levels"));
}

static void test_nul_byte(void **state)
{
	struct jsonscan_error e;

	assert_int_equal(jsonscan_check("[1]\0", 4, &e), -EINVAL);
	assert_int_equal(jsonscan_check("[\"a\0\"]", 6, &e), -EINVAL);
	assert_int_equal(e.col, 4);
}

/* json-c ends a string at an escaped NUL: "ttl\u0000 hidden" would pass the duplicate
 * check as a key of its own, then be "ttl" in the tree; a value would be cut short. */
static void test_escaped_nul(void **state)
{
	BAD("{\"ttl\": 60, \"ttl\\u0000 hidden\": 86400}", 1, 17, "\\u0000 in a string");
	BAD("{\"\\u0000\": 1}", 1, 3, "\\u0000 in a string");
	BAD("{\"file\": \"v4.txt\\u0000.bak\"}", 1, 17, "\\u0000 in a string");
	BAD("[\"\\u0000\"]", 1, 3, "a NUL is not allowed");
	/* other control characters, escaped, are text like any other */
	assert_int_equal(jsonscan_check("[\"\\u0001\\u001f\"]", 16, &(struct jsonscan_error){0}),
			 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),	cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_depth),	cmocka_unit_test(test_nul_byte),
	    cmocka_unit_test(test_escaped_nul),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
