/* SPDX-License-Identifier: MIT */
/* The pipe session: line framing, exactly one END or FAIL per line after HELO, over-long
 * lines, CRLF, CMD, and the answer written only once a line is complete. Driven through
 * session_feed() with the output on a pipe. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "fixture.h"
#include "session.h"
#include "status.h"

/* Linked with --wrap: counts allocations, and writes to one fd. */
static unsigned long allocs, writes;
static int counted_fd = -1;
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
ssize_t __real_write(int fd, const void *buf, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
void *__wrap_malloc(size_t n)
{
	allocs++;
	return __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t size)
{
	allocs++;
	return __real_calloc(n, size);
}
void *__wrap_realloc(void *p, size_t n)
{
	allocs++;
	return __real_realloc(p, n);
}
/* what was logged (stderr), for the tests that look at it */
static char logged[16384];
static size_t logged_len;
ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
	writes += fd == counted_fd;
	if (fd == STDERR_FILENO && logged_len + n < sizeof(logged)) {
		memcpy(logged + logged_len, buf, n);
		logged_len += n;
		logged[logged_len] = 0;
	}
	return __real_write(fd, buf, n);
}

struct fx {
	char dir[64];
	struct daemon d;
	struct session *s;
	int rfd;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int p[2];

	f->d.sv.snap = fixture_zone(f->dir);
	assert_int_equal(rotation_resize(&f->d.sv.rot, f->d.sv.snap->n_handlers), 0);
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	fcntl(p[0], F_SETPIPE_SZ, 1 << 20);
	assert_int_equal(session_new(&f->d.sv, &daemon_session_ops, &f->d, -1, p[1], &f->s), 0);
	f->rfd = p[0];
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	close(f->s->out_fd);
	session_free(f->s);
	close(f->rfd);
	fixture_cleanup(f->dir);
	snapshot_free(f->d.sv.snap);
	rotation_done(&f->d.sv.rot);
	free(f);
	return 0;
}

/* Everything written so far (static buffer). */
static const char *output(struct fx *f)
{
	static char buf[1 << 20];
	ssize_t n = read(f->rfd, buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = 0;
	return buf;
}

static void feed(struct fx *f, const char *s)
{
	session_feed(f->s, s, strlen(s));
}

/* "OK\t" + the daemon's status line + rest: what HELO gets (status.c makes the line). */
static char *banner(struct fx *f, const char *rest)
{
	_cleanup_free_ char *line = daemon_status_line(&f->d);
	char *out = NULL;

	assert_non_null(line);
	assert_true(asprintf(&out, "OK\t%s\n%s", line, rest) > 0);
	return out;
}

static void test_helo_and_q(void **state)
{
	struct fx *f = *state;

	feed(f, "Q\tt1.dyn.example.test\tIN\tA\t1\t127.0.0.1\n");
	assert_string_equal(output(f), "FAIL\n"); /* no HELO yet */
	feed(f, "HELO\t2\n");
	{
		_cleanup_free_ char *want = banner(f, "");

		assert_string_equal(output(f), want);
		char counts[64];

		/* the line says what is served */
		assert_non_null(strstr(want, ": zone dyn.example.test, generation "));
		snprintf(counts, sizeof(counts), ", %zu handlers (%zu without addresses), ",
			 f->d.sv.snap->n_handlers, f->d.sv.snap->n_failed);
		assert_non_null(strstr(want, counts));
	}
	assert_int_equal(f->s->abi, 2);
	feed(f, "Q\tt1.dyn.example.test\tIN\tA\t1\t127.0.0.1\t127.0.0.1\n");
	assert_string_equal(output(f), "DATA\tt1.dyn.example.test\tIN\tA\t0\t1\t192.0.2.1\nEND\n");
	assert_int_equal(f->d.sv.lookups, 1);
}

static void test_split_and_batched_lines(void **state)
{
	struct fx *f = *state;

	feed(f, "HELO\t1\n");
	output(f);
	feed(f, "Q\tdyn.example.test\tIN\tSO");
	assert_string_equal(output(f), ""); /* nothing before the line is complete */
	feed(
	    f,
	    "A\t-1\t0.0.0.0\nQ\tnope.dyn.example.test\tIN\tANY\t1\t127.0.0.1\nBOGUS\nQ\tdyn.example.test\tIN\tNS\t1\t1.2.3.4\r\n");
	assert_string_equal(
	    output(f),
	    "DATA\tdyn.example.test\tIN\tSOA\t3600\t1\tns1.example.test. h.example.test. 7 7200 3600 7200 120\nEND\n"
	    "END\n"
	    "FAIL\n"
	    "DATA\tdyn.example.test\tIN\tNS\t3600\t1\tns1.example.test.\n"
	    "DATA\tdyn.example.test\tIN\tNS\t3600\t1\tns2.example.test.\nEND\n");
}

static void test_long_line(void **state)
{
	struct fx *f = *state;
	size_t n = SESSION_MAX_LINE * 3;
	char *big = malloc(n);

	feed(f, "HELO\t1\n");
	output(f);
	memset(big, 'x', n);
	session_feed(f->s, big, n);
	assert_string_equal(output(f), "");
	feed(f, "still the long line\nQ\tt1.dyn.example.test\tIN\tA\t1\t127.0.0.1\n");
	assert_string_equal(output(f),
			    "FAIL\nDATA\tt1.dyn.example.test\tIN\tA\t0\t1\t192.0.2.1\nEND\n");
	free(big);
}

static void test_one_end_or_fail_per_line(void **state)
{
	static const char *const lines[] = {
	    "Q\tt1.dyn.example.test\tIN\tANY\t1\t1.2.3.4\t1.2.3.4\t1.2.3.4/32",
	    "Q\tdyn.example.test\tIN\tSOA\t-1\t0.0.0.0\t0.0.0.0\t0.0.0.0/0",
	    "Q\tdyn.example.test\tIN\tANY\t1\t1.2.3.4\t1.2.3.4\t1.2.3.4/32",
	    "AXFR\t1\tdyn.example.test",
	    "AXFR\t1",
	    "CMD\tstatus",
	    "CMD\twhatever",
	    "Q\ttoo\tfew",
	    "",
	    "\t",
	    "Q\ta\\999.test\tIN\tANY\t1\t1\t1\t1",
	};
	struct fx *f = *state;
	const char *out, *p;
	int ends = 0, fails = 0;

	feed(f, "HELO\t5\n");
	output(f);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		feed(f, lines[i]);
		feed(f, "\n");
	}
	out = output(f);
	for (p = out; *p; p = strchr(p, '\n') + 1) {
		ends += strncmp(p, "END\n", 4) == 0;
		fails += strncmp(p, "FAIL\n", 5) == 0;
	}
	assert_int_equal(ends + fails, sizeof(lines) / sizeof(lines[0]));
	assert_int_equal(fails, 5); /* AXFR without zone at ABI 5, and the four malformed lines */
	/* CMD status: the status line (status.c), then a line per handler */
	assert_non_null(strstr(out, ": zone dyn.example.test, generation "));
	assert_non_null(strstr(out, " lookups\nt1.dyn.example.test A "));
	assert_non_null(strstr(out, "unknown command; try: status, help\nEND\n"));
}

/* The hot path: no allocation per lookup, and each answer is one write. */
static void test_no_allocation_one_write(void **state)
{
	static const char *const lines[] = {
	    "Q\tt1.dyn.example.test\tIN\tSOA\t-1\t1.2.3.4\t1.2.3.4\t1.2.3.4/32\n",
	    "Q\tdyn.example.test\tIN\tSOA\t-1\t1.2.3.4\t1.2.3.4\t1.2.3.4/32\n",
	    "Q\tt1.dyn.example.test\tIN\tANY\t1\t1.2.3.4\t1.2.3.4\t1.2.3.4/32\n",
	    "Q\tt1.dyn.example.test\tIN\tANY\t1\t1.2.3.4\t1.2.3.4\t1.2.3.4/32\n", /* repeated */
	    "Q\tT1.dyn.example.test\tIN\tANY\t1\t1.2.3.4\t1.2.3.4\t1.2.3.4/32\n",
	    "Q\ta.b.c.dyn.example.test\tIN\tANY\t1\t1.2.3.4\t1.2.3.4\t1.2.3.4/32\n",
	    "Q\tnope.dyn.example.test\tIN\tANY\t1\t1.2.3.4\t1.2.3.4\t1.2.3.4/32\n",
	    "Q\tdyn.example.test\tIN\tANY\t1\t1.2.3.4\t1.2.3.4\t1.2.3.4/32\n",
	    "Q\ttoo\tfew\n",
	};
	struct fx *f = *state;
	unsigned long a0, n = 0;

	feed(f, "HELO\t3\n");
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		feed(f, lines[i]); /* warm up */
	output(f);
	counted_fd = f->s->out_fd;
	writes = 0;
	a0 = allocs;
	for (int k = 0; k < 200; k++)
		for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++, n++)
			feed(f, lines[i]);
	assert_int_equal(allocs - a0, 0);
	assert_int_equal(writes, n);
	counted_fd = -1;
	assert_non_null(strstr(output(f), "\tIN\tAAAA\t0\t1\t2001:db8::"));
}

/* The same with every selection policy: windows, the weighted schedule, random picks and
 * whole lists are written without allocating. */
static void test_no_allocation_policies(void **state)
{
	static const char *const lines[] = {
	    "Q\tt1.dyn.example.test\tIN\tSOA\t-1\t1.2.3.4\t1.2.3.4\t1.2.3.4/32\n",
	    "Q\tdyn.example.test\tIN\tSOA\t-1\t1.2.3.4\t1.2.3.4\t1.2.3.4/32\n",
	    "Q\tt1.dyn.example.test\tIN\tANY\t1\t1.2.3.4\t1.2.3.4\t1.2.3.4/32\n",
	    "Q\tt1.dyn.example.test\tIN\tANY\t1\t1.2.3.4\t1.2.3.4\t1.2.3.4/32\n",
	    "Q\ta.b.c.dyn.example.test\tIN\tANY\t1\t1.2.3.4\t1.2.3.4\t1.2.3.4/32\n",
	    "Q\tbroken.dyn.example.test\tIN\tANY\t1\t1.2.3.4\t1.2.3.4\t1.2.3.4/32\n",
	};
	static const char weights[] =
	    "198.51.100.1 5\n198.51.100.2 3\n198.51.100.3 0\n198.51.100.4 2\n";
	static const char plain[] = "192.0.2.7\n192.0.2.8\n192.0.2.9\n";
	struct fx *f = *state;
	struct snapshot *snap = f->d.sv.snap;
	unsigned long a0, n = 0;
	struct diag d;

	/* t1 A: round-robin count 2; t1 AAAA: random count 3; a.b.c: weighted count 2;
	 * broken: all (with the list it would have had) */
	for (size_t i = 0; i < snap->n_handlers; i++) {
		struct handler *h = &snap->handlers[i];
		struct config_handler *c = (struct config_handler *)h->cfg;

		if (strcmp(c->qname, "t1.dyn.example.test") == 0 && c->qtype == 1)
			c->count = 2;
		else if (strcmp(c->qname, "t1.dyn.example.test") == 0) {
			c->policy = CONFIG_POLICY_RANDOM;
			c->count = 3;
		} else if (strcmp(c->qname, "a.b.c.dyn.example.test") == 0) {
			addrlist_unref(h->list);
			h->list = NULL;
			diag_init(&d);
			assert_int_equal(addrlist_parse(weights, strlen(weights), AF_INET,
							ADDRLIST_WEIGHTS, "w", &d, &h->list),
					 0);
			c->policy = CONFIG_POLICY_WEIGHTED;
			c->count = 2;
		} else {
			diag_init(&d);
			assert_int_equal(
			    addrlist_parse(plain, strlen(plain), AF_INET, 0, "p", &d, &h->list), 0);
			c->policy = CONFIG_POLICY_ALL;
		}
	}
	feed(f, "HELO\t3\n");
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		feed(f, lines[i]); /* warm up */
	output(f);
	counted_fd = f->s->out_fd;
	writes = 0;
	a0 = allocs;
	for (int k = 0; k < 200; k++)
		for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++, n++)
			feed(f, lines[i]);
	assert_int_equal(allocs - a0, 0);
	assert_int_equal(writes, n);
	counted_fd = -1;

	/* pdnsutil backend-cmd status: each handler's policy, and the next address where the
	 * policy decides it: the weighted schedule's, which is never the drained one */
	feed(f, "HELO\t5\nCMD\tstatus\n");
	{
		const char *out = output(f), *line;
		const struct handler *abc = NULL;
		char want[128], text[ADDR_TEXT_MAX];
		uint32_t next;

		for (size_t i = 0; i < snap->n_handlers; i++)
			if (strcmp(snap->handlers[i].cfg->qname, "a.b.c.dyn.example.test") == 0)
				abc = &snap->handlers[i];
		next = addrlist_weighted_at(abc->list,
					    rotation_count(&f->d.sv.rot, snapshot_slot(snap, abc)));
		assert_int_not_equal(next, 2);
		addrlist_format(abc->list, next, text);
		snprintf(want, sizeof(want), " (weighted/2): 4 addresses, next #%u %s\n", next,
			 text);
		line = strstr(out, "a.b.c.dyn.example.test A ");
		assert_non_null(line);
		assert_non_null(strstr(line, want));
		assert_non_null(strstr(out, " (random/3): 4 addresses\n"));
		assert_non_null(strstr(out, " (all): 3 addresses; last error: "));
		assert_non_null(strstr(out, " (round-robin/2): 3 addresses, next #"));
	}
}

/* A repeated lookup within one question gets the same answer, written again without parsing
 * (per question); an SOA lookup, a new snapshot generation or per-lookup advance end that. */
static void test_repeat_within_question(void **state)
{
	static const char walk[] =
	    "Q\tt1.dyn.example.test\tIN\tSOA\t-1\t0.0.0.0\t0.0.0.0\t0.0.0.0/0\n"
	    "Q\tdyn.example.test\tIN\tSOA\t-1\t0.0.0.0\t0.0.0.0\t0.0.0.0/0\n";
	static const char any[] =
	    "Q\tt1.dyn.example.test\tIN\tANY\t1\t1.2.3.4\t1.2.3.4\t1.2.3.4/32\n";
	static const char a1[] =
	    "DATA\t32\t1\tt1.dyn.example.test\tIN\tA\t0\t1\t192.0.2.1\n"
	    "DATA\t32\t1\tt1.dyn.example.test\tIN\tAAAA\t0\t1\t2001:db8::1\nEND\n";
	static const char a2[] =
	    "DATA\t32\t1\tt1.dyn.example.test\tIN\tA\t0\t1\t192.0.2.2\n"
	    "DATA\t32\t1\tt1.dyn.example.test\tIN\tAAAA\t0\t1\t2001:db8::2\nEND\n";
	static const char a3[] =
	    "DATA\t32\t1\tt1.dyn.example.test\tIN\tA\t0\t1\t192.0.2.3\n"
	    "DATA\t32\t1\tt1.dyn.example.test\tIN\tAAAA\t0\t1\t2001:db8::3\nEND\n";
	struct fx *f = *state;

	feed(f, "HELO\t3\n");
	output(f);
	feed(f, walk);
	output(f);
	for (int i = 0; i < 2; i++) {
		feed(f, any);
		assert_string_equal(output(f), a1);
	}
	assert_int_equal(f->d.sv.lookups, 4);
	feed(f, walk); /* a new question */
	output(f);
	feed(f, any);
	assert_string_equal(output(f), a2);
	/* a reload to per-lookup between two identical lines: answered afresh */
	f->d.sv.snap->config->advance = CONFIG_ADVANCE_PER_LOOKUP;
	f->d.sv.generation++;
	feed(f, any);
	assert_string_equal(output(f), a3);
	feed(f, any);
	assert_non_null(strstr(output(f), "192.0.2.1\n")); /* per lookup: moved on again */
	assert_int_equal(f->d.sv.stalls, 0);
}

/* The Python pdyndns's config (per question) behind PowerDNS's caches (data/pdns.conf): the
 * SOA lookups stop after the first question. The rotation goes on, the repeat of an identical
 * line does not hide the lookups from the count, one warning names the setting to change,
 * and the daemon counts what happened (status shows it). A normal question sequence warns
 * nothing. */
static void test_stall_warns_once(void **state)
{
	static const char walk[] =
	    "Q\tt1.dyn.example.test\tIN\tSOA\t-1\t0.0.0.0\t0.0.0.0\t0.0.0.0/0\n"
	    "Q\tdyn.example.test\tIN\tSOA\t-1\t0.0.0.0\t0.0.0.0\t0.0.0.0/0\n";
	static const char any[] =
	    "Q\tt1.dyn.example.test\tIN\tANY\t1\t1.2.3.4\t1.2.3.4\t1.2.3.4/32\n";
	static const char *const v4[] = {"192.0.2.1", "192.0.2.2", "192.0.2.3"};
	struct fx *f = *state;
	const char *w;

	logged_len = 0;
	logged[0] = 0;
	feed(f, "HELO\t3\n");
	output(f);
	for (int k = 0; k < 3; k++) { /* caches off: SOA, SOA, ANY, ANY */
		feed(f, walk);
		output(f);
		for (int i = 0; i < 2; i++) {
			feed(f, any);
			assert_non_null(strstr(output(f), v4[k]));
		}
	}
	assert_int_equal(f->d.sv.stalls, 0);
	assert_null(strstr(logged, "stalled"));
	for (int k = 3; k < 9; k++) /* the SOA lookups now come from PowerDNS's caches */
		for (int i = 0; i < 2; i++) {
			feed(f, any);
			assert_non_null(strstr(output(f), v4[k % 3]));
		}
	assert_int_equal(f->d.sv.stalls, 6);
	w = strstr(
	    logged,
	    "warning: rotation stalled: lookups of t1.dyn.example.test came without the SOA lookups");
	assert_non_null(w);
	assert_non_null(
	    strstr(w, "Set \"advance\": \"per-lookup\" in the config with consistent-backends=no"));
	assert_non_null(strstr(w, "query-cache-ttl=0 and negquery-cache-ttl=0"));
	assert_null(strstr(w + 10, "rotation stalled")); /* once */
	/* another connection of the same process (socket mode) does not warn again */
	f->s->memo = (struct answer_memo){0};
	feed(f, "HELO\t3\n");
	feed(f, walk);
	for (int i = 0; i < 3; i++)
		feed(f, any);
	output(f);
	assert_int_equal(f->d.sv.stalls, 7);
	assert_null(strstr(w + 10, "rotation stalled"));
}

static void test_cmd_needs_abi5(void **state)
{
	struct fx *f = *state;

	feed(f, "HELO\t3\nCMD\tstatus\n");
	{
		_cleanup_free_ char *want = banner(f, "FAIL\n");

		assert_string_equal(output(f), want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_helo_and_q, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_split_and_batched_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_one_end_or_fail_per_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cmd_needs_abi5, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_allocation_one_write, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_allocation_policies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_repeat_within_question, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stall_warns_once, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
