/* SPDX-License-Identifier: MIT */
/* The Prometheus text exposition (common/promtext) and pdynctl's metrics from the copies'
 * replies (common/exposition): HELP and TYPE per family, label values escaped, series summed
 * across copies (or the largest kept), a copy label only where it belongs, cumulative
 * histogram buckets, and replies that do not make sense refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "exposition.h"
#include "promtext.h"

/* What p writes (malloc'd). */
static char *text_of(const struct promtext *p)
{
	char *t = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&t, &n);

	assert_non_null(f);
	assert_int_equal(promtext_write(p, f), 0);
	fclose(f);
	return t;
}

static void test_escape_and_sum(void **state)
{
	struct promtext *p = promtext_new();
	const char *a[] = {"file", "a\"b\\c\nd", NULL}, *b[] = {"file", "plain", NULL};
	char esc[32];
	char *t;

	(void)state;
	assert_int_equal(promtext_family(p, "x_total", PROMTEXT_COUNTER, PROMTEXT_SUM,
					 "Help with \\ and\nnewline."),
			 0);
	assert_int_equal(promtext_family(p, "g", PROMTEXT_GAUGE, PROMTEXT_MAX, "A gauge."), 0);
	assert_int_equal(promtext_family(p, "unused", PROMTEXT_GAUGE, PROMTEXT_MAX, "Never given."),
			 0);
	assert_int_equal(promtext_family(p, "bad-name", PROMTEXT_GAUGE, PROMTEXT_MAX, "x"),
			 -EINVAL);
	assert_int_equal(promtext_add(p, "x_total", NULL, a, 2), 0);
	assert_int_equal(promtext_add(p, "x_total", NULL, b, 1), 0);
	assert_int_equal(promtext_add(p, "x_total", NULL, a, 3), 0); /* another copy: summed */
	assert_int_equal(promtext_add(p, "g", NULL, NULL, 4), 0);
	assert_int_equal(promtext_add(p, "g", NULL, NULL, 2), 0); /* the largest is kept */
	assert_int_equal(promtext_add(p, "nope", NULL, NULL, 1), -EINVAL);
	assert_int_equal(promtext_add(p, "g", NULL, (const char *[]){"le-x", "1", NULL}, 1),
			 -EINVAL);
	t = text_of(p);
	assert_string_equal(t, "# HELP x_total Help with \\\\ and\\nnewline.\n"
			       "# TYPE x_total counter\n"
			       "x_total{file=\"a\\\"b\\\\c\\nd\"} 5\n"
			       "x_total{file=\"plain\"} 1\n"
			       "# HELP g A gauge.\n"
			       "# TYPE g gauge\n"
			       "g 4\n");
	free(t);
	assert_int_equal(promtext_escape("a\"\\\n", esc, sizeof(esc)), 7);
	assert_string_equal(esc, "a\\\"\\\\\\n");
	assert_int_equal(promtext_escape("abcdef", esc, 4), 6); /* cut, as snprintf */
	assert_string_equal(esc, "abc");
	promtext_free(p);
}

/* Many series: the table grows and every one is found again. */
static void test_many_series(void **state)
{
	struct promtext *p = promtext_new();
	char v[16], *t, *line;
	const char *l[] = {"i", v, NULL};

	(void)state;
	assert_int_equal(promtext_family(p, "n_total", PROMTEXT_COUNTER, PROMTEXT_SUM, "n"), 0);
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 5000; i++) {
			snprintf(v, sizeof(v), "%d", i);
			assert_int_equal(promtext_add(p, "n_total", NULL, l, i), 0);
		}
	t = text_of(p);
	line = strstr(t, "n_total{i=\"4999\"} ");
	assert_non_null(line);
	assert_int_equal(strncmp(line, "n_total{i=\"4999\"} 9998\n", 23), 0);
	free(t);
	promtext_free(p);
}

/* Written in slices (the HTTP endpoint's way), the text is the same, whole lines in every
 * slice, each slice ending once it holds want bytes. */
static void test_slices(void **state)
{
	struct promtext *p = promtext_new();
	char v[16], *t;
	const char *l[] = {"i", v, NULL};

	(void)state;
	assert_int_equal(promtext_family(p, "a_total", PROMTEXT_COUNTER, PROMTEXT_SUM, "a"), 0);
	assert_int_equal(promtext_family(p, "empty", PROMTEXT_GAUGE, PROMTEXT_MAX, "none"), 0);
	assert_int_equal(promtext_family(p, "b", PROMTEXT_GAUGE, PROMTEXT_MAX, "b"), 0);
	for (int i = 0; i < 300; i++) {
		snprintf(v, sizeof(v), "%d", i);
		assert_int_equal(promtext_add(p, i % 3 ? "a_total" : "b", NULL, l, i), 0);
	}
	t = text_of(p);
	for (size_t want = 0; want < 200; want += 37) {
		struct promtext_cursor c = {0};
		struct buf all, slice;
		size_t slices = 0;
		bool done;

		buf_init(&all);
		buf_init(&slice);
		do {
			slice.len = 0;
			done = promtext_write_some(p, &c, &slice, want);
			assert_true(buf_ok(&slice));
			assert_true(slice.len > 0);
			assert_int_equal(slice.data[slice.len - 1], '\n');
			if (!done)
				assert_true(slice.len >= want);
			buf_put(&all, slice.data, slice.len);
			slices++;
		} while (!done);
		assert_true(slices > 10);
		buf_putc(&all, 0);
		assert_string_equal(all.data, t);
		buf_free(&all);
		buf_free(&slice);
	}
	free(t);
	promtext_free(p);
}

static const char *header(int generation, int refused, int fast, const char *last)
{
	static char h[2048];

	snprintf(h, sizeof(h),
		 "{\"pid\": 1, \"generation\": %d, %s \"lookups\": {\"SOA\": 4, \"ANY\": 2, \"A\": "
		 "0, \"AAAA\": 0, "
		 "\"NS\": 0, \"other\": 0}, \"questions\": {\"NOERROR\": 1, \"NODATA\": 0, "
		 "\"NXDOMAIN\": 1}, "
		 "\"reloads\": {\"applied\": 1, \"refused\": %d, \"kept\": 0}, "
		 "\"reload_duration\": {\"buckets\": "
		 "[[0.001, %d], [0.01, 1]], \"above\": 1, \"sum\": 2.5}, \"control_refused\": 0, "
		 "\"log_dropped\": 0, "
		 "\"stalls\": 0, \"rotation_stalled\": false, \"config_error\": %s, "
		 "\"max_addresses\": 256}",
		 generation, last, refused, fast, refused ? "true" : "false");
	return h;
}

static const char *const item =
    "{\"name\": \"www.d.test\", \"qtype\": \"A\", \"view\": null, \"file\": \"/z/w.txt\", "
    "\"policy\": \"round-robin\", \"addresses\": 2, \"position\": 1, \"error\": false, "
    "\"answers\": 3, \"questions\": {\"NOERROR\": 3, \"NODATA\": 0}, \"served\": "
    "[{\"address\": \"192.0.2.1\", \"answers\": 2}, {\"address\": \"192.0.2.2\", \"answers\": 1}]}";

static void add_copy(struct promtext *p, int pid, const char *h, const char *it)
{
	char why[EXPO_WHY_MAX] = "";
	json_object *o = json_tokener_parse(h), *i = json_tokener_parse(it);

	assert_non_null(o);
	assert_non_null(i);
	if (expo_add_copy(p, o, pid, why) < 0 || expo_add_handler(p, i, pid, why) < 0)
		fail_msg("refused: %s", why);
	json_object_put(o);
	json_object_put(i);
}

/* Two copies: counters summed, per-copy values with their copy label, histogram buckets
 * cumulative with +Inf = _count. */
static void test_two_copies(void **state)
{
	struct promtext *p = promtext_new();
	char *t;

	(void)state;
	assert_int_equal(expo_declare(p), 0);
	add_copy(p, 11, header(2, 0, 1, "\"last_reload\": {\"time\": 1700000000, \"ok\": true},"),
		 item);
	add_copy(p, 12, header(3, 1, 0, "\"last_reload\": {\"time\": 1700000005, \"ok\": false},"),
		 item);
	t = text_of(p);
#define HAS(s) assert_non_null(strstr(t, s))
	HAS("# TYPE pdyndns_copies gauge\npdyndns_copies 2\n");
	HAS("pdyndns_generation{copy=\"11\"} 2\npdyndns_generation{copy=\"12\"} 3\n");
	HAS("pdyndns_last_reload_timestamp_seconds{copy=\"12\"} 1700000005\n");
	HAS("pdyndns_last_reload_success{copy=\"11\"} 1\npdyndns_last_reload_success{copy=\"12\"} "
	    "0\n");
	HAS("pdyndns_config_error 1\n");
	HAS("pdyndns_lookups_total{qtype=\"SOA\"} 8\n");
	HAS("pdyndns_questions_total{rcode=\"NXDOMAIN\"} 2\n");
	HAS("pdyndns_reloads_total{result=\"refused\"} 1\n");
	HAS("# TYPE pdyndns_reload_duration_seconds histogram\n"
	    "pdyndns_reload_duration_seconds_bucket{le=\"0.001\"} 1\n"
	    "pdyndns_reload_duration_seconds_bucket{le=\"0.01\"} 3\n"
	    "pdyndns_reload_duration_seconds_bucket{le=\"+Inf\"} 5\n"
	    "pdyndns_reload_duration_seconds_sum 5\n"
	    "pdyndns_reload_duration_seconds_count 5\n");
	HAS("pdyndns_addresses{name=\"www.d.test\",qtype=\"A\",view=\"\"} 2\n");
	HAS("pdyndns_rotation_position{name=\"www.d.test\",qtype=\"A\",view=\"\",copy=\"11\"} 1\n");
	HAS("pdyndns_answers_total{name=\"www.d.test\",qtype=\"A\",view=\"\",policy=\"round-"
	    "robin\"} 6\n");
	HAS("pdyndns_handler_questions_total{name=\"www.d.test\",qtype=\"A\",view=\"\",rcode="
	    "\"NOERROR\"} 6\n");
	HAS("pdyndns_address_answers_total{name=\"www.d.test\",qtype=\"A\",view=\"\",address=\"192."
	    "0.2.1\"} 4\n");
	HAS("pdyndns_file_error{file=\"/z/w.txt\"} 0\n");
	/* every family written has its HELP and TYPE, counters end in _total */
	for (char *l = t; (l = strstr(l, "# TYPE ")); l++) {
		char name[128], type[32];

		assert_int_equal(sscanf(l, "# TYPE %127s %31s", name, type), 2);
		if (strcmp(type, "counter") == 0)
			assert_string_equal(name + strlen(name) - 6, "_total");
	}
	free(t);
	promtext_free(p);
}

/* A reply that does not make sense is refused, saying what is wrong. */
static void test_bad_replies(void **state)
{
	static const char *const items[] = {
	    "[]",
	    "{\"qtype\": \"A\", \"file\": \"f\", \"policy\": \"all\", \"addresses\": 1, \"error\": "
	    "false}",
	    "{\"name\": \"n\", \"qtype\": \"A\", \"file\": \"f\", \"policy\": \"all\", "
	    "\"addresses\": -1, \"error\": false}",
	    "{\"name\": \"n\", \"qtype\": \"A\", \"file\": \"f\", \"policy\": \"all\", "
	    "\"addresses\": 1, \"error\": 0}",
	    "{\"name\": \"n\", \"qtype\": \"A\", \"file\": \"f\", \"policy\": \"all\", "
	    "\"addresses\": 1, \"error\": false, "
	    "\"answers\": 1, \"questions\": {\"NOERROR\": 1, \"NODATA\": 0}, \"served\": [1]}",
	};
	struct promtext *p = promtext_new();
	char why[EXPO_WHY_MAX];
	json_object *o;

	(void)state;
	assert_int_equal(expo_declare(p), 0);
	for (size_t i = 0; i < sizeof(items) / sizeof(*items); i++) {
		o = json_tokener_parse(items[i]);
		why[0] = 0;
		assert_int_equal(expo_add_handler(p, o, 1, why), -EBADMSG);
		assert_true(why[0]);
		json_object_put(o);
	}
	o = json_tokener_parse("{\"generation\": 1}");
	assert_int_equal(expo_add_copy(p, o, 1, why), -EBADMSG);
	json_object_put(o);
	o = json_tokener_parse(header(1, 0, 0, "\"last_reload\": 3,"));
	assert_int_equal(expo_add_copy(p, o, 1, why), -EBADMSG);
	assert_string_equal(why, "\"last_reload\" is not an object");
	json_object_put(o);
	promtext_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape_and_sum), cmocka_unit_test(test_many_series),
	    cmocka_unit_test(test_slices),	   cmocka_unit_test(test_two_copies),
	    cmocka_unit_test(test_bad_replies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
