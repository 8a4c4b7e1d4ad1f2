/* SPDX-License-Identifier: MIT */
/* The shared counter file (coprocess mode's shared rotation) with hostile contents and sizes:
 * headers with any number of counters, foreign or cut short; a directory, a FIFO or a symlink
 * in its place; the table's size changed under a copy, then a reload; the file truncated under
 * copies that are using it (the bus error is caught). Two "copies" are two sharedrots in this
 * process, each with its own loop. Nothing may crash or read outside a mapping (the CI runs
 * this under ASan), each event is one warning, and the copies share their counters again once
 * the file is usable. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "diag.h"
#include "fixture.h"
#include "log.h"
#include "serving.h"
#include "sharedrot.h"

#define MAGIC	     0x31544f524e594450ull /* "PDYNROT1" */
#define HEADER	     64
#define COUNTER	     24
#define DEFAULT_SIZE (HEADER + SHAREDROT_SLOTS * COUNTER)

static char zdir[64], cdir[96], path[128];
static struct snapshot *snap;

struct copy {
	struct {
		sd_event *event;
		struct serving sv;
	} d; /* what a copy gives its shared counters */
	struct sharedrot *sr;
};

static int setup(void **state)
{
	snap = fixture_zone(zdir);
	snprintf(cdir, sizeof(cdir), "%s/ctl", zdir);
	snprintf(path, sizeof(path), "%s/%s", cdir, SHAREDROT_FILE);
	assert_int_equal(mkdir(cdir, 0700), 0);
	return 0;
}

static int teardown(void **state)
{
	snapshot_free(snap);
	fixture_cleanup(zdir);
	return 0;
}

/* What the copies log (fd 2), captured between capture() and captured(). */
static int saved_err = -1, cap_fd = -1;
static char logged[16384];

static void capture(void)
{
	cap_fd = open(zdir, O_TMPFILE | O_RDWR, 0600);
	assert_true(cap_fd >= 0);
	saved_err = dup(STDERR_FILENO);
	assert_int_equal(dup2(cap_fd, STDERR_FILENO), STDERR_FILENO);
}

static const char *captured(void)
{
	ssize_t n;

	assert_int_equal(dup2(saved_err, STDERR_FILENO), STDERR_FILENO);
	close(saved_err);
	n = pread(cap_fd, logged, sizeof(logged) - 1, 0);
	assert_true(n >= 0);
	logged[n] = 0;
	close(cap_fd);
	fputs(logged, stderr);
	return logged;
}

static int count(const char *s, const char *needle)
{
	int n = 0;

	for (; (s = strstr(s, needle)); s++)
		n++;
	return n;
}

static void copy_open(struct copy *c)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(sd_event_new(&c->d.event), 0);
	c->d.sv.snap = snap;
	assert_int_equal(snapshot_rotation(snap, NULL, 0, &c->d.sv.rot, NULL), 0);
	assert_int_equal(sharedrot_new(c->d.event, cdir, &c->d.sv, &c->sr), 0);
	assert_int_equal(sharedrot_attach(c->sr, snap, &c->d.sv.rot), 0);
}

static void copy_close(struct copy *c)
{
	c->sr = sharedrot_free(c->sr);
	rotation_done(&c->d.sv.rot);
	c->d.event = sd_event_unref(c->d.event);
}

/* Advances every counter of the copy once: touches every counter it holds. */
static void take_all(struct copy *c)
{
	for (size_t i = 0; i < c->d.sv.rot.n; i++)
		(void)rotation_take(&c->d.sv.rot, (uint32_t)i, 3);
}

/* What the copy's loop has to do now (the bus error handler's wake-up). */
static void run_loop(struct copy *c)
{
	for (int i = 0; i < 10 && sd_event_run(c->d.event, 0) > 0; i++)
		;
}

static void write_header(uint64_t magic, uint64_t slots, off_t size)
{
	uint64_t h[HEADER / 8] = {magic, slots};
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, h, size < HEADER ? (size_t)size : HEADER, 0),
			 size < HEADER ? size : HEADER);
	assert_int_equal(ftruncate(fd, size), 0);
	close(fd);
}

static void set_slots(uint64_t slots)
{
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, &slots, sizeof(slots), 8), sizeof(slots));
	close(fd);
}

static uint64_t file_magic(void)
{
	uint64_t m = 0;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_true(pread(fd, &m, sizeof(m), 0) >= 0);
	close(fd);
	return m;
}

static void test_hostile_headers(void **state)
{
	static const struct {
		const char *name;
		uint64_t magic, slots;
		off_t size;
		bool usable;
	} cases[] = {
	    {"empty file", 0, 0, 0, true},
	    {"header cut short", MAGIC, 0, 12, true},
	    {"0 counters", MAGIC, 0, DEFAULT_SIZE, true},
	    {"2^40 counters", MAGIC, 1ull << 40, DEFAULT_SIZE, false},
	    {"2^64-1 counters", MAGIC, UINT64_MAX, DEFAULT_SIZE, false},
	    {"2^63 counters", MAGIC, 1ull << 63, DEFAULT_SIZE, false},
	    {"3 counters", MAGIC, 3, DEFAULT_SIZE, false},
	    {"512 counters", MAGIC, 512, DEFAULT_SIZE, false},
	    {"2^21 counters", MAGIC, 1u << 21, DEFAULT_SIZE, false},
	    {"2048 counters, a file of that size", MAGIC, 2048, HEADER + 2048 * COUNTER, true},
	    {"2^20 counters, a file of one page", MAGIC, 1u << 20, 4096, true},
	    {"65536 counters, a file of one page", MAGIC, SHAREDROT_SLOTS, 4096, true},
	    {"a file larger than its counters", MAGIC, SHAREDROT_SLOTS, 4 * DEFAULT_SIZE, true},
	    {"another magic", 0x4141414141414141ull, SHAREDROT_SLOTS, DEFAULT_SIZE, false},
	    {"no magic, 2^40 counters", 0, 1ull << 40, DEFAULT_SIZE, false},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct copy a, b;

		print_message("%s\n", cases[i].name);
		write_header(cases[i].magic, cases[i].slots, cases[i].size);
		copy_open(&a);
		copy_open(&b);
		take_all(&a);
		take_all(&b);
		if (cases[i].usable) {
			assert_non_null(a.d.sv.rot.shared);
			assert_int_equal(rotation_count(&a.d.sv.rot, 0),
					 2); /* both copies advanced it */
			assert_int_equal(file_magic(), MAGIC);
		} else {
			assert_null(a.d.sv.rot.shared);
			assert_null(b.d.sv.rot.shared);
			assert_int_equal(rotation_count(&a.d.sv.rot, 0), 1);
			assert_int_equal(file_magic(), cases[i].magic); /* left as it was */
		}
		copy_close(&a);
		copy_close(&b);
		assert_int_equal(unlink(path), 0);
	}
}

/* The table's size changed in the file under a running copy, then a reload (issue 14,
 * 9a: the size was read back as the mask, and the reload read and wrote outside the
 * mapping). */
static void test_size_changed_then_reload(void **state)
{
	static const uint64_t sizes[] = {1ull << 40, 0, 3, UINT64_MAX, 1u << 20};

	for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
		struct rotation rot;
		struct copy a;
		const char *log;

		copy_open(&a);
		take_all(&a);
		set_slots(sizes[i]);
		/* the reload: the new rotation attached to the file as the copy mapped it */
		assert_int_equal(snapshot_rotation(snap, &a.d.sv.rot, 0, &rot, NULL), 0);
		assert_int_equal(sharedrot_attach(a.sr, snap, &rot), 0);
		assert_non_null(rot.shared);
		rotation_done(&a.d.sv.rot);
		a.d.sv.rot = rot;
		take_all(&a);
		/* the check finds the header changed: set up again (0), or alone with one warning
		 */
		capture();
		(void)sharedrot_check(a.sr);
		take_all(&a);
		(void)sharedrot_check(a.sr);
		log = captured();
		assert_int_equal(count(log, "warning: shared rotation: "), 1);
		assert_non_null(strstr(log, "was overwritten"));
		if (sizes[i] == 0 || sizes[i] == 1u << 20) { /* usable: the file is set up again */
			assert_non_null(a.d.sv.rot.shared);
		} else {
			assert_null(a.d.sv.rot.shared);
			assert_non_null(strstr(log, "this copy rotates alone until it can"));
			/* a reload while alone; then the file removed: created again and shared */
			assert_int_equal(sharedrot_attach(a.sr, snap, &a.d.sv.rot), 0);
			assert_null(a.d.sv.rot.shared);
			assert_int_equal(unlink(path), 0);
			assert_true(sharedrot_check(a.sr));
			assert_non_null(a.d.sv.rot.shared);
		}
		take_all(&a);
		copy_close(&a);
		assert_int_equal(unlink(path), 0);
	}
}

/* A directory, a FIFO, a symlink (even to a good counter file) in the file's place. */
static void test_not_a_file(void **state)
{
	char target[160];
	struct copy a, b;
	const char *log;

	for (int kind = 0; kind < 3; kind++) {
		if (kind == 0)
			assert_int_equal(mkdir(path, 0700), 0);
		else if (kind == 1)
			assert_int_equal(mkfifo(path, 0600), 0);
		else {
			snprintf(target, sizeof(target), "%s/good.counters", zdir);
			write_header(0, 0, 0);
			assert_int_equal(rename(path, target), 0);
			assert_int_equal(symlink(target, path), 0);
		}
		capture();
		copy_open(&a);
		log = captured();
		assert_non_null(strstr(log, kind == 0	? "a directory"
					    : kind == 1 ? "(a FIFO)"
							: "symbolic link"));
		assert_null(a.d.sv.rot.shared);
		take_all(&a);
		assert_false(sharedrot_check(a.sr));
		assert_int_equal(kind == 0 ? rmdir(path) : unlink(path), 0);
		/* a usable file appears (another copy creates it): this one shares it */
		copy_open(&b);
		assert_non_null(b.d.sv.rot.shared);
		assert_true(sharedrot_check(a.sr));
		take_all(&a);
		take_all(&b);
		assert_int_equal(rotation_count(&a.d.sv.rot, 0), 2);
		copy_close(&a);
		copy_close(&b);
		assert_int_equal(unlink(path), 0);
	}
}

/* The file truncated under two copies using it: the copy that touches a page gone gets a
 * bus error, caught; each copy then logs one line, and they share again. */
static void test_truncated_under_copies(void **state)
{
	static const off_t sizes[] = {0, 100, 4096, DEFAULT_SIZE - 1};

	for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
		struct copy a, b;
		const char *log;
		uint64_t before;

		copy_open(&a);
		copy_open(&b);
		take_all(&a);
		take_all(&b);
		assert_int_equal(rotation_count(&b.d.sv.rot, 0), 2);
		assert_int_equal(truncate(path, sizes[i]), 0);
		capture();
		for (int n = 0; n < 100; n++)
			take_all(&a); /* a bus error for the counters past the end, once */
		run_loop(&a);
		for (int n = 0; n < 100; n++)
			take_all(&a);
		run_loop(&a);
		(void)sharedrot_check(
		    a.sr); /* the last page alone gone may hold none of its counters */
		log = captured();
		assert_int_equal(count(log, "shared rotation: "), 1);
		assert_int_equal(count(log, "warning: shared rotation: "), 1);
		assert_non_null(a.d.sv.rot.shared);
		/* b has not touched the file: its check sees it set up again (or truncated, if
		 * a's bus error hit no counter it holds) */
		capture();
		assert_true(sharedrot_check(b.sr));
		assert_true(sharedrot_check(b.sr));
		log = captured();
		assert_int_equal(count(log, "shared rotation: "), 1);
		assert_true(a.d.sv.rot.shared && b.d.sv.rot.shared);
		before = rotation_count(&b.d.sv.rot, 0);
		take_all(&a);
		assert_int_equal(rotation_count(&b.d.sv.rot, 0), before + 1);
		copy_close(&a);
		copy_close(&b);
		assert_int_equal(unlink(path), 0);
	}
}

/* A reload keeps the counters of the lists that did not change without looking them up
 * (the same pointers), and finds a fresh one for a changed list: where a copy started now
 * finds them; the changed list's old counter starts over. A snapshot derived for one changed
 * file looks up that handler only. */
static void test_reload_carries(void **state)
{
	struct copy a, b;
	struct rotation rot;
	struct snapshot *s2, *s3;
	uint64_t *t1, *abc;
	uint32_t *map;
	char *paths[2];
	char abc_path[160];

	copy_open(&a);
	take_all(&a);
	take_all(&a);
	assert_string_equal(snap->handlers[0].cfg->qname, "t1.dyn.example.test");
	assert_string_equal(snap->handlers[2].cfg->qname, "a.b.c.dyn.example.test");
	t1 = a.d.sv.rot.shared[0];
	abc = a.d.sv.rot.shared[2];
	assert_int_equal(*t1, 2);

	/* a full reload: abc.txt changed, t1's lists did not */
	fixture_write(zdir, "abc.txt", "198.51.100.7\n198.51.100.8\n");
	s2 = fixture_reload(zdir, snap);
	assert_true(s2->handlers[0].carry_from == 0 && s2->handlers[2].carry_from < 0);
	map = calloc(snap->n_handlers, sizeof(*map));
	assert_non_null(map);
	assert_int_equal(snapshot_rotation(s2, &a.d.sv.rot, snap->n_handlers, &rot, map), 0);
	assert_int_equal(
	    sharedrot_attach_carried(a.sr, s2, &rot, &a.d.sv.rot, map, snap->n_handlers), 0);
	assert_ptr_equal(rot.shared[0], t1); /* carried, not looked up */
	assert_ptr_not_equal(rot.shared[2], abc);
	assert_int_equal(*rot.shared[2], 0); /* the changed list: from its first address */
	assert_int_equal(*abc, 0);	     /* its old counter starts over, should it come back */
	rotation_done(&a.d.sv.rot);
	a.d.sv.rot = rot;
	a.d.sv.snap = s2;
	take_all(&a);
	/* a copy started now shares the same counters */
	memset(&b, 0, sizeof(b));
	assert_int_equal(sd_event_new(&b.d.event), 0);
	b.d.sv.snap = s2;
	assert_int_equal(snapshot_rotation(s2, NULL, 0, &b.d.sv.rot, NULL), 0);
	assert_int_equal(sharedrot_new(b.d.event, cdir, &b.d.sv, &b.sr), 0);
	assert_int_equal(sharedrot_attach(b.sr, s2, &b.d.sv.rot), 0);
	assert_int_equal(rotation_count(&b.d.sv.rot, 0), 3);
	assert_int_equal(rotation_count(&b.d.sv.rot, 2), 1);

	/* derived for abc.txt changed again: that slot alone finds a new counter */
	fixture_write(zdir, "abc.txt", "198.51.100.9\n");
	snprintf(abc_path, sizeof(abc_path), "%s/abc.txt", zdir);
	paths[0] = abc_path;
	paths[1] = NULL;
	{
		struct snapshot_opts o = {.prev = s2, .reuse_unchanged = true};
		struct diag d;

		diag_init(&d);
		assert_int_equal(snapshot_derive(s2, &o, paths, &d, &s3), 0);
		diag_clear(&d);
	}
	assert_int_equal(s3->n_checked, 1);
	abc = a.d.sv.rot.shared[2];
	sharedrot_attach_slots(a.sr, s3, &a.d.sv.rot, s2, s3->checked, s3->n_checked);
	assert_ptr_equal(a.d.sv.rot.shared[0], t1);
	assert_ptr_not_equal(a.d.sv.rot.shared[2], abc);
	assert_int_equal(*a.d.sv.rot.shared[2], 0);
	a.d.sv.snap = s3;
	take_all(&a);
	assert_int_equal(rotation_count(&b.d.sv.rot, 0), 4); /* b still on s2: t1 shared */

	free(map);
	copy_close(&b);
	copy_close(&a);
	snapshot_free(s3);
	snapshot_free(s2);
	assert_int_equal(unlink(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_hostile_headers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_size_changed_then_reload, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_a_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_truncated_under_copies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload_carries, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
