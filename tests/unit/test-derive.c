/* SPDX-License-Identifier: MIT */
/* snapshot_derive() and snapshot_stale(): a reload that looks only at the files that
 * changed must give the snapshot a whole build would, share every other list, and keep
 * its counts and its list of problems as a full walk finds them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"

struct ctx {
	char dir[64];
	struct snapshot *s0;
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	c->s0 = fixture_zone_all(c->dir);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	snapshot_free(c->s0);
	fixture_cleanup(c->dir);
	free(c);
	return 0;
}

/* What a walk of every handler finds, against what the build kept track of. */
static void check_counts(const struct snapshot *s)
{
	uint64_t addrs = 0;
	size_t failed = 0, k = 0;

	for (size_t i = 0; i < s->n_handlers; i++) {
		const struct handler *h = &s->handlers[i];

		if (h->list)
			addrs += h->list->n;
		else if (!h->cfg->kind)
			failed++;
		if (h->error || h->views_error) {
			assert_true(k < s->n_with_error);
			assert_int_equal(s->with_error[k], i);
			k++;
		}
	}
	assert_int_equal(s->n_addresses, addrs);
	assert_int_equal(s->n_failed, failed);
	assert_int_equal(s->n_with_error, k);
}

static struct snapshot *derive(const struct snapshot *prev, const char *path)
{
	const struct snapshot_opts o = {
	    .prev = prev, .reuse_unchanged = true, .keep_prev_on_error = true};
	char *const paths[] = {(char *)path, NULL};
	struct snapshot *s = NULL;
	struct diag d;

	diag_init(&d);
	assert_int_equal(snapshot_derive(prev, &o, path ? paths : NULL, &d, &s), 0);
	diag_clear(&d);
	assert_non_null(s);
	return s;
}

static bool uses(const struct handler *h, const char *path)
{
	return h->cfg->path && strcmp(h->cfg->path, path) == 0;
}

static void test_one_file(void **state)
{
	struct ctx *c = *state;
	struct snapshot *s1, *s2;
	char path[128];
	size_t n_uses = 0;

	check_counts(c->s0);
	snprintf(path, sizeof(path), "%s/abc.txt", c->dir);
	fixture_write(c->dir, "abc.txt", "198.51.100.7\n198.51.100.8\n198.51.100.9\n");
	s1 = derive(c->s0, path);
	assert_ptr_equal(s1->config, c->s0->config);
	for (size_t i = 0; i < s1->n_handlers; i++) {
		const struct handler *h = &s1->handlers[i], *old = &c->s0->handlers[i];

		if (uses(h, path)) {
			n_uses++;
			assert_non_null(h->list);
			assert_int_equal(h->list->n, 3);
			assert_true(h->list != old->list);
			assert_int_equal(h->carry_from, -1);
		} else {
			/* not looked at: the previous snapshot's list, its rotation going on */
			assert_ptr_equal(h->list, old->list);
			if (h->list)
				assert_int_equal(h->carry_from, (int64_t)i);
		}
	}
	assert_true(n_uses >= 2); /* a handler and a view read it */
	assert_int_equal(s1->n_checked, n_uses);
	assert_int_equal(s1->n_new, n_uses);
	assert_false(s1->same);
	assert_false(snapshot_same(s1, c->s0));
	check_counts(s1);

	/* the same file again, unchanged: the same answers */
	s2 = derive(s1, path);
	assert_true(s2->same);
	assert_true(snapshot_same(s2, s1));
	for (size_t i = 0; i < s2->n_handlers; i++)
		assert_ptr_equal(s2->handlers[i].list, s1->handlers[i].list);
	check_counts(s2);
	snapshot_free(s2);
	snapshot_free(s1);
}

static void test_problems(void **state)
{
	struct ctx *c = *state;
	struct snapshot *s1, *s2, *s3;
	char path[128];

	snprintf(path, sizeof(path), "%s/cidr.txt", c->dir);
	fixture_write(c->dir, "cidr.txt", "10.9.9.9\nnot an address\n");
	s1 = derive(c->s0, path);
	for (size_t i = 0; i < s1->n_handlers; i++)
		if (uses(&s1->handlers[i], path)) {
			/* kept: the previous list, and the problem */
			assert_ptr_equal(s1->handlers[i].list, c->s0->handlers[i].list);
			assert_non_null(s1->handlers[i].error);
		}
	assert_true(s1->n_kept > c->s0->n_kept);
	check_counts(s1);
	/* another file changes: the problem stays listed */
	snprintf(path, sizeof(path), "%s/abc.txt", c->dir);
	fixture_write(c->dir, "abc.txt", "198.51.100.5\n");
	s2 = derive(s1, path);
	check_counts(s2);
	assert_int_equal(s2->n_kept, s1->n_kept);
	/* fixed: gone from the list */
	snprintf(path, sizeof(path), "%s/cidr.txt", c->dir);
	fixture_write(c->dir, "cidr.txt", "10.9.9.9\n");
	s3 = derive(s2, path);
	check_counts(s3);
	assert_int_equal(s3->n_kept, c->s0->n_kept);
	snapshot_free(s3);
	snapshot_free(s2);
	snapshot_free(s1);
}

static void test_prefix_file(void **state)
{
	struct ctx *c = *state;
	struct snapshot *s1;
	char path[128];
	bool seen = false;

	snprintf(path, sizeof(path), "%s/probes.txt", c->dir);
	fixture_write(c->dir, "probes.txt", "192.0.2.128/25\n");
	s1 = derive(c->s0, path);
	for (size_t i = 0; i < s1->n_handlers; i++)
		if (s1->handlers[i].cfg->n_views &&
		    s1->handlers[i].views != c->s0->handlers[i].views) {
			/* the views of the handler whose view reads the prefix file */
			for (uint16_t k = 1; k <= s1->handlers[i].cfg->n_views; k++)
				if (s1->handlers[i + k].cfg->prefix_path &&
				    strcmp(s1->handlers[i + k].cfg->prefix_path, path) == 0)
					seen = true;
		}
	assert_true(seen);
	check_counts(s1);
	snapshot_free(s1);
}

/* A prefix file being written (held) keeps the views' previous prefixes, while it is read
 * again once the hold is gone. */
static void test_held_prefix_file(void **state)
{
	struct ctx *c = *state;
	char path[128];
	char *held[] = {path, NULL};
	struct snapshot_opts o = {
	    .prev = c->s0, .reuse_unchanged = true, .keep_prev_on_error = true, .hold_paths = held};
	char *const paths[] = {path, NULL};
	struct snapshot *s1 = NULL, *s2;
	size_t n = 0;
	struct diag d;

	snprintf(path, sizeof(path), "%s/probes.txt", c->dir);
	fixture_write(c->dir, "probes.txt", "192.0.2.128/25\n");
	diag_init(&d);
	assert_int_equal(snapshot_derive(c->s0, &o, paths, &d, &s1), 0);
	assert_int_equal(d.n_errors, 0);
	for (size_t i = 0; i < s1->n_handlers; i++)
		if (s1->handlers[i].cfg->n_views) {
			assert_ptr_equal(s1->handlers[i].views, c->s0->handlers[i].views);
			n++;
		}
	assert_true(n > 0);
	check_counts(s1);
	/* not held: read */
	s2 = derive(c->s0, path);
	n = 0;
	for (size_t i = 0; i < s2->n_handlers; i++)
		n += s2->handlers[i].cfg->n_views &&
		     s2->handlers[i].views != c->s0->handlers[i].views;
	assert_true(n > 0);
	diag_clear(&d);
	snapshot_free(s2);
	snapshot_free(s1);
}

/* Whole-second timestamps (zero nanoseconds in mtime and ctime) are settled only once the
 * read was 2 s past them: a same-size rewrite within the second or two after a read keeps
 * them as they are. Finer ones are settled in the next clock tick. */
static void test_coarse_settled(void **state)
{
	struct file_id coarse = {.size = 30, .mtime = {1000, 0}, .ctime = {1000, 0}};
	struct file_id fine = {.size = 30, .mtime = {1000, 5}, .ctime = {1000, 5}};
	struct timespec at;

	(void)state;
	at = (struct timespec){1000, 500000000};
	assert_false(file_id_settled(&coarse, &at));
	assert_true(file_id_settled(&fine, &at));
	at = (struct timespec){1001, 999999999};
	assert_false(file_id_settled(&coarse, &at));
	at = (struct timespec){1002, 0};
	assert_true(file_id_settled(&coarse, &at));
	/* the ctime counts as much as the mtime (a chmod after the write) */
	coarse.ctime.tv_sec = 1001;
	assert_false(file_id_settled(&coarse, &at));
	at = (struct timespec){1003, 0};
	assert_true(file_id_settled(&coarse, &at));
	/* one of the two with nanoseconds: a filesystem with fine times */
	fine = (struct file_id){.mtime = {1000, 0}, .ctime = {1000, 7}};
	at = (struct timespec){1000, 8};
	assert_true(file_id_settled(&fine, &at));
	at = (struct timespec){1000, 0};
	assert_false(file_id_settled(&fine, &at));
}

static void test_all_and_stale(void **state)
{
	struct ctx *c = *state;
	struct snapshot *s1;
	const char **stale;
	char path[128];
	size_t calls = 0, n = 0;

	struct snapshot *settled;

	/* files written within the clock tick of their read may have changed unseen: they are
	 * stale until read again in a later tick; then nothing is */
	usleep(50 * 1000);
	settled = derive(c->s0, NULL);
	stale = snapshot_stale(settled, 0, settled->n_handlers, &calls);
	assert_null(stale);
	assert_true(calls > 0);
	snapshot_free(settled);
	snprintf(path, sizeof(path), "%s/abc.txt", c->dir);
	fixture_write(c->dir, "abc.txt",
		      "198.51.100.1\n198.51.100.2\n198.51.100.3\n198.51.100.4\n");
	stale = snapshot_stale(c->s0, 0, c->s0->n_handlers, &calls);
	assert_non_null(stale);
	for (const char **p = stale; *p; p++)
		n += strcmp(*p, path) == 0;
	assert_true(n >= 1);
	free(stale);
	/* only the slice asked for */
	stale = snapshot_stale(c->s0, 0, 0, &calls);
	assert_null(stale);
	assert_int_equal(calls, 0);
	/* every handler looked at: what a whole build would have */
	s1 = derive(c->s0, NULL);
	check_counts(s1);
	for (size_t i = 0; i < s1->n_handlers; i++)
		if (uses(&s1->handlers[i], path))
			assert_int_equal(s1->handlers[i].list->n, 4);
	snapshot_free(s1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_one_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_problems, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prefix_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_all_and_stale, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_held_prefix_file, setup, teardown),
	    cmocka_unit_test(test_coarse_settled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
