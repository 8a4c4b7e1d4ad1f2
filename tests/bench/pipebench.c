/* SPDX-License-Identifier: MIT */
/* pipebench: the raw pipe figures, without PowerDNS.
 *
 *   pipebench stream N DOMAIN NAMES CMD [ARG...]
 *       CMD's stdin is a file holding HELO (ABI 3) and N lookups; its stdout is read and
 *       every END/FAIL counted. Prints lookups per second from the banner to the N-th
 *       answer.
 *   pipebench lockstep N DOMAIN NAMES CMD [ARG...]
 *       One lookup at a time, waiting for its END, as each PowerDNS thread asks. Prints the
 *       round trip p50, p99 and maximum in microseconds and CMD's CPU time per lookup.
 *   pipebench during SECONDS DOMAIN NAMES CMD [ARG...]
 *       Lock-step lookups for SECONDS after a second of warm-up (the polls, reloads and
 *       status requests of that time fall among them). Prints p50, p99 and the maximum
 *       round trip, and how many took over 1 ms and over 5 ms; each over 5 ms goes to
 *       stderr with its time since the start.
 *   pipebench helo CMD [ARG...]
 *       Milliseconds from starting CMD (HELO already waiting on its stdin) to its OK line.
 *
 * The lookups are those PowerDNS sends for questions about tK.DOMAIN (K = 1..NAMES), A and
 * AAAA in turn: SOA tK, SOA DOMAIN, ANY tK twice (shared/pipe-protocol.md §5).
 * Output: one "key=value" line per run. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t child = -1;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "pipebench: %s: %s\n", what, strerror(errno));
	if (child > 0)
		kill(child, SIGKILL);
	exit(2);
}

/* Lookup i of the sequence, as an ABI 3 Q line with its newline. */
static int lookup_line(char *buf, size_t size, unsigned long i, const char *dom, unsigned names)
{
	unsigned long question = i / 4;
	unsigned name = (unsigned)(question % names) + 1;
	static const char tail[] = "\t127.0.0.1\t127.0.0.1\t127.0.0.1/32\n";

	switch (i % 4) {
	case 0: return snprintf(buf, size, "Q\tt%u.%s\tIN\tSOA\t-1%s", name, dom, tail);
	case 1: return snprintf(buf, size, "Q\t%s\tIN\tSOA\t-1%s", dom, tail);
	default: return snprintf(buf, size, "Q\tt%u.%s\tIN\tANY\t1%s", name, dom, tail);
	}
}

/* Starts argv with stdin in_fd and stdout a new pipe; returns the pipe's read end. */
static int spawn(char **argv, int in_fd)
{
	int out[2];

	if (pipe2(out, O_CLOEXEC) < 0)
		die("pipe");
	child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		dup2(in_fd, 0);
		dup2(out[1], 1);
		close(out[0]);
		close(out[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(out[1]);
	return out[0];
}

static void reap(void)
{
	int st;

	if (waitpid(child, &st, 0) < 0)
		die("waitpid");
	child = -1;
}

/* CPU time of the child so far (utime + stime), in ns. */
static uint64_t child_cpu_ns(void)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)child);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f))
		die("read /proc/PID/stat");
	fclose(f);
	p = strrchr(buf, ')'); /* fields after the command name */
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		die("parse /proc/PID/stat");
	return (uint64_t)(ut + st) * (1000000000u / (uint64_t)sysconf(_SC_CLK_TCK));
}

/* Counts answer ends (END or FAIL lines) in what was read; *at_bol carries over. */
static unsigned long count_ends(const char *p, size_t n, int *at_bol)
{
	unsigned long ends = 0;

	for (size_t i = 0; i < n; i++) {
		if (*at_bol && (p[i] == 'E' || p[i] == 'F'))
			ends++;
		*at_bol = p[i] == '\n';
	}
	return ends;
}

static void stream(unsigned long n, const char *dom, unsigned names, char **argv)
{
	char path[] = "/tmp/pipebench.XXXXXX", line[512], buf[1 << 16];
	unsigned long ends = 0;
	int fd = mkstemp(path), rd, at_bol = 1;
	uint64_t t0 = 0, t1;
	FILE *f;

	if (fd < 0)
		die("mkstemp");
	unlink(path);
	f = fdopen(dup(fd), "w");
	if (!f)
		die("fdopen");
	fputs("HELO\t3\n", f);
	for (unsigned long i = 0; i < n; i++) {
		lookup_line(line, sizeof(line), i, dom, names);
		fputs(line, f);
	}
	if (fclose(f) != 0)
		die("write queries");
	lseek(fd, 0, SEEK_SET);
	rd = spawn(argv, fd);
	close(fd);
	for (;;) {
		ssize_t r = read(rd, buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (!t0) {
			/* the banner: the clock starts after it */
			char *nl = memchr(buf, '\n', (size_t)r);

			t0 = now_ns();
			if (!nl)
				die("banner");
			ends += count_ends(nl + 1, (size_t)(buf + r - nl - 1), &at_bol);
		} else
			ends += count_ends(buf, (size_t)r, &at_bol);
		if (ends >= n)
			break;
	}
	t1 = now_ns();
	close(rd);
	reap();
	if (ends != n) {
		fprintf(stderr, "pipebench: %lu answers for %lu lookups\n", ends, n);
		exit(1);
	}
	printf("stream lookups=%lu qps=%.0f\n", n, (double)n * 1e9 / (double)(t1 - t0));
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Reads until the end of one answer (a line starting END or FAIL). */
static void read_answer(int rd, int *at_bol)
{
	char buf[4096];

	for (;;) {
		ssize_t r = read(rd, buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("read answer");
		if (count_ends(buf, (size_t)r, at_bol))
			return; /* lock-step: nothing can follow the end */
	}
}

/* Starts argv with a pipe as its stdin (write end in *wr), says HELO and reads the banner;
 * returns the read end of its stdout. */
static int start_lockstep(char **argv, int *wr)
{
	int in[2], rd;
	char b[4096];
	ssize_t r;

	if (pipe2(in, O_CLOEXEC) < 0)
		die("setup");
	rd = spawn(argv, in[0]);
	close(in[0]);
	if (write(in[1], "HELO\t3\n", 7) != 7)
		die("write HELO");
	r = read(rd, b, sizeof(b)); /* the banner is one line */
	if (r <= 0 || strncmp(b, "OK", 2) != 0)
		die("banner");
	*wr = in[1];
	return rd;
}

static void lockstep(unsigned long n, const char *dom, unsigned names, char **argv)
{
	int wr, rd, at_bol = 1;
	unsigned long warm = n / 10;
	uint64_t *rtt = malloc(n * sizeof(*rtt)), cpu0 = 0, cpu1;
	char line[512];

	if (!rtt)
		die("setup");
	rd = start_lockstep(argv, &wr);
	for (unsigned long i = 0; i < warm + n; i++) {
		int len = lookup_line(line, sizeof(line), i, dom, names);
		uint64_t t0;

		if (i == warm)
			cpu0 = child_cpu_ns();
		t0 = now_ns();
		if (write(wr, line, (size_t)len) != len)
			die("write");
		read_answer(rd, &at_bol);
		if (i >= warm)
			rtt[i - warm] = now_ns() - t0;
	}
	cpu1 = child_cpu_ns();
	close(wr);
	close(rd);
	reap();
	qsort(rtt, n, sizeof(*rtt), cmp_u64);
	printf("lockstep lookups=%lu p50_us=%.1f p99_us=%.1f max_us=%.1f cpu_us_per_lookup=%.2f\n",
	       n, (double)rtt[n / 2] / 1e3, (double)rtt[n * 99 / 100] / 1e3,
	       (double)rtt[n - 1] / 1e3, (double)(cpu1 - cpu0) / 1e3 / (double)n);
	free(rtt);
}

static void during(double secs, const char *dom, unsigned names, char **argv)
{
	int wr, rd, at_bol = 1;
	size_t cap = 1 << 20, n = 0, over1 = 0, over5 = 0;
	uint64_t *rtt = malloc(cap * sizeof(*rtt)), start, warm_end, end;
	char line[512];

	if (!rtt)
		die("setup");
	rd = start_lockstep(argv, &wr);
	start = now_ns();
	warm_end = start + 1000000000u;
	end = warm_end + (uint64_t)(secs * 1e9);
	for (unsigned long i = 0;; i++) {
		int len = lookup_line(line, sizeof(line), i, dom, names);
		uint64_t t0 = now_ns(), t;

		if (t0 >= end)
			break;
		if (write(wr, line, (size_t)len) != len)
			die("write");
		read_answer(rd, &at_bol);
		t = now_ns() - t0;
		if (t0 < warm_end)
			continue;
		if (n == cap && !(rtt = realloc(rtt, (cap *= 2) * sizeof(*rtt))))
			die("realloc");
		rtt[n++] = t;
		over1 += t > 1000000u;
		if (t > 5000000u) {
			over5++;
			fprintf(stderr, "stall %.1f ms at %.3f s\n", (double)t / 1e6,
				(double)(t0 - start) / 1e9);
		}
	}
	close(wr);
	close(rd);
	reap();
	qsort(rtt, n, sizeof(*rtt), cmp_u64);
	printf("during lookups=%zu p50_us=%.1f p99_us=%.1f max_us=%.1f over_1ms=%zu over_5ms=%zu\n",
	       n, (double)rtt[n / 2] / 1e3, (double)rtt[n * 99 / 100] / 1e3,
	       (double)rtt[n - 1] / 1e3, over1, over5);
	free(rtt);
}

static void helo(char **argv)
{
	int in[2], rd;
	char b[4096];
	uint64_t t0 = now_ns();
	ssize_t r;

	if (pipe2(in, O_CLOEXEC) < 0)
		die("pipe");
	if (write(in[1], "HELO\t3\n", 7) != 7)
		die("write HELO");
	rd = spawn(argv, in[0]);
	close(in[0]);
	r = read(rd, b, sizeof(b));
	if (r <= 0 || strncmp(b, "OK", 2) != 0)
		die("banner");
	printf("helo ms=%.1f\n", (double)(now_ns() - t0) / 1e6);
	close(in[1]);
	close(rd);
	reap();
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 3 && strcmp(argv[1], "helo") == 0) {
		helo(argv + 2);
		return 0;
	}
	if (argc >= 6 && strcmp(argv[1], "during") == 0) {
		during(strtod(argv[2], NULL), argv[3], (unsigned)strtoul(argv[4], NULL, 10),
		       argv + 5);
		return 0;
	}
	if (argc >= 6 && (strcmp(argv[1], "stream") == 0 || strcmp(argv[1], "lockstep") == 0)) {
		unsigned long n = strtoul(argv[2], NULL, 10);
		unsigned names = (unsigned)strtoul(argv[4], NULL, 10);

		if (n == 0 || names == 0) {
			fprintf(stderr, "pipebench: N and NAMES must be positive\n");
			return 2;
		}
		if (argv[1][0] == 's')
			stream(n, argv[3], names, argv + 5);
		else
			lockstep(n, argv[3], names, argv + 5);
		return 0;
	}
	fprintf(stderr, "usage: pipebench stream|lockstep N DOMAIN NAMES CMD [ARG...]\n"
			"       pipebench helo CMD [ARG...]\n");
	return 2;
}
