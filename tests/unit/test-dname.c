/* SPDX-License-Identifier: MIT */
/* Names: presentation form with escapes to lowercased wire form, label-boundary suffix
 * tests, formatting back. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dname.h"

static struct dname parse_ok(const char *s)
{
	struct dname n;

	if (dname_parse(s, strlen(s), &n) != 0)
		fail_msg("\"%s\" did not parse", s);
	return n;
}

static void assert_wire(const char *text, const char *wire, size_t len, int labels)
{
	struct dname n = parse_ok(text);

	assert_int_equal(n.len, len);
	assert_int_equal(n.labels, labels);
	assert_memory_equal(n.wire, wire, len);
}

static void test_parse(void **state)
{
	assert_wire("www.Example.TEST", "\3www\7example\4test", 18, 3);
	assert_wire("www.example.test.", "\3www\7example\4test", 18, 3);
	assert_wire(".", "", 1, 0);
	assert_wire("a\\.b.test", "\3a.b\4test", 10, 2);    /* a dot inside a label */
	assert_wire("a\\\\b.test", "\3a\\b\4test", 10, 2);  /* a backslash */
	assert_wire("a\\032b.test", "\3a b\4test", 10, 2);  /* \DDD */
	assert_wire("\\065\\066.test", "\2ab\4test", 9, 2); /* escaped letters fold too */
	assert_wire("x\\255", "\2x\377", 4, 1);
}

static void test_parse_rejects(void **state)
{
	static const char *const bad[] = {
	    "", "a..b", ".a", "..", "a.b..", "\\", "a\\", "a\\25", "a\\2x5", "a\\256", "a\\999",
	};
	struct dname n = {.len = 77};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(dname_parse(bad[i], strlen(bad[i]), &n), -EINVAL);
		assert_int_equal(n.len, 77); /* untouched on failure */
	}
}

static void test_lengths(void **state)
{
	char label[70], name[600];
	struct dname n;

	memset(label, 'a', 63);
	label[63] = 0;
	assert_int_equal(dname_parse(label, 63, &n), 0);
	assert_int_equal(n.len, 65);
	label[63] = 'a';
	assert_int_equal(dname_parse(label, 64, &n), -EINVAL);

	/* 255 octets: 4 labels of 63 (256 octets) is too long, 3 x 63 + 61 fits exactly */
	memset(name, 0, sizeof(name));
	for (int i = 0; i < 4; i++) {
		memset(name + strlen(name), 'b', 63);
		if (i < 3)
			strcat(name, ".");
	}
	assert_int_equal(dname_parse(name, strlen(name), &n), -EINVAL);
	name[strlen(name) - 2] = 0; /* last label 61 */
	assert_int_equal(dname_parse(name, strlen(name), &n), 0);
	assert_int_equal(n.len, 255);
	/* with escapes counted as one octet each */
	strcpy(name, "\\097\\098\\099");
	assert_int_equal(dname_parse(name, strlen(name), &n), 0);
	assert_int_equal(n.len, 5);
}

static void test_format(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"WWW.Example.Test.", "www.example.test"},
	    {".", "."},
	    {"a\\.b.test", "a\\.b.test"},
	    {"a\\\\b.test", "a\\\\b.test"},
	    {"a\\032b.test", "a\\032b.test"},
	    {"x\\255\\000.test", "x\\255\\000.test"},
	    {"a\\\"b", "a\\\"b"},
	};
	char out[DNAME_MAXTEXT + 1];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dname n = parse_ok(cases[i].in), back;

		assert_int_equal(dname_format(&n, out), strlen(cases[i].out));
		assert_string_equal(out, cases[i].out);
		back = parse_ok(out);
		assert_true(dname_equal(&n, &back)); /* round trip */
	}
}

static void test_below(void **state)
{
	struct dname zone = parse_ok("example.test"), root = parse_ok(".");
	static const struct {
		const char *name;
		bool below;
	} cases[] = {
	    {"example.test", true},
	    {"EXAMPLE.TEST.", true},
	    {"www.example.test", true},
	    {"a.b.c.example.test", true},
	    {"xexample.test", false},
	    {"example.test.x", false},
	    {"test", false},
	    {"other.test", false},
	    {"www.example\\.test", false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dname n = parse_ok(cases[i].name);

		if (dname_is_below_or_at(&n, &zone) != cases[i].below)
			fail_msg("%s below example.test: expected %d", cases[i].name,
				 cases[i].below);
		assert_true(dname_is_below_or_at(&n, &root));
	}
}

static void test_equal_and_hash(void **state)
{
	struct dname a = parse_ok("WwW.ExAmPlE.TeSt"), b = parse_ok("www.example.test."),
		     c = parse_ok("ww.example.test");

	assert_true(dname_equal(&a, &b));
	assert_int_equal(dname_hash(&a), dname_hash(&b));
	assert_false(dname_equal(&a, &c));
	assert_int_not_equal(dname_hash(&a), dname_hash(&c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),   cmocka_unit_test(test_parse_rejects),
	    cmocka_unit_test(test_lengths), cmocka_unit_test(test_format),
	    cmocka_unit_test(test_below),   cmocka_unit_test(test_equal_and_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
