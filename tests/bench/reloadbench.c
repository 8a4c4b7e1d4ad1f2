/* SPDX-License-Identifier: MIT */
/* reloadbench: live-reload figures for pdyndns, driven over its pipe like PowerDNS does
 * (lock-step: one question, wait for its END).
 *
 *   reloadbench PDYNDNS WORKDIR            phases 1 to 3
 *   reloadbench PDYNDNS WORKDIR extremes   phase 4
 *
 * 1. rename latency: a file of N addresses is replaced by rename(2) with a new version;
 *    the time from the rename to the first answer carrying the new version (N = 10 and
 *    N = 1,000,000). Prints p50/p99/max.
 * 2. stall: lock-step round trips while a 1,000,000-address file is replaced every second,
 *    against the idle p99 of the same run.
 * 3. memory: peak RSS (VmHWM) across SIGHUP full reloads of 8 files of 1,000,000
 *    addresses against the steady RSS.
 * 4. extremes: for each bad or huge address file of tests/extremes.sh (a valid list of
 *    10,000,000 addresses, the same with a bad last line, a line of 10 MiB, 1 MiB of random
 *    bytes, a FIFO without and with a writer, a symlink to /dev/zero, a symlink loop), the
 *    worst lock-step round trip from the rename until the reload is done (and 200 ms more,
 *    for the retired list), against the idle p99 and worst of the same run. The goal is
 *    50 ms.
 * One line per figure: "name value unit (reference)". */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *workdir;
static const char *child_log; /* where pdyndns's stderr goes, when not ours */
static const char *loglevel = "warning";
static pid_t child;
static FILE *to, *from;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	perror(what);
	if (child > 0)
		kill(child, SIGKILL);
	exit(2);
}

/* Writes version v of a list of n IPv4 addresses: 10.(v%256).x.y, via a temp file and
 * rename (or in place if !rename_it). */
static void write_list(const char *name, unsigned v, unsigned n, int rename_it)
{
	char path[4096], tmp[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", workdir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(rename_it ? tmp : path, "w");
	if (!f)
		die("fopen");
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "10.%u.%u.%u\n", v % 256, (i >> 8) & 255, i & 255);
	if (fclose(f) != 0)
		die("fclose");
	if (rename_it && rename(tmp, path) < 0)
		die("rename");
}

static void write_config(unsigned n_files)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/config.json", workdir);
	f = fopen(path, "w");
	if (!f)
		die("fopen config");
	fprintf(
	    f,
	    "{\"domain\": \"bench.test\", \"soa\": \"ns1.bench.test. h.bench.test. 1 7200 3600 7200 60\",\n"
	    " \"nameservers\": [\"ns1.bench.test\"], \"ttl\": 60, \"loglevel\": \"%s\", \"handlers\": [\n",
	    loglevel);
	for (unsigned i = 0; i < n_files; i++)
		fprintf(
		    f,
		    "  {\"qname\": \"t%u.bench.test\", \"qtype\": \"A\", \"file\": \"t%u.txt\"}%s\n",
		    i, i, i + 1 < n_files ? "," : "");
	fprintf(f, "]}\n");
	fclose(f);
}

static void start(const char *exe)
{
	int in[2], out[2];
	char cfg[4200], line[512];

	snprintf(cfg, sizeof(cfg), "%s/config.json", workdir);
	if (pipe(in) < 0 || pipe(out) < 0)
		die("pipe");
	child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		if (child_log) {
			int fd = open(child_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

			if (fd >= 0)
				dup2(fd, 2);
		}
		close(in[1]);
		close(out[0]);
		execl(exe, exe, "--config", cfg, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	to = fdopen(in[1], "w");
	from = fdopen(out[0], "r");
	fprintf(to, "HELO\t1\n");
	fflush(to);
	if (!fgets(line, sizeof(line), from) || strncmp(line, "OK", 2) != 0)
		die("banner");
}

static void stop(void)
{
	fclose(to);
	fclose(from);
	waitpid(child, NULL, 0);
	child = 0;
}

/* One client question as PowerDNS asks it (SOA probe, then ANY); returns the second octet
 * of the A address answered (the version), or -1. *rtt_ns gets the ANY round trip. */
static int ask(unsigned t, uint64_t *rtt_ns)
{
	char line[512];
	int version = -1;
	uint64_t t0;

	fprintf(to, "Q\tt%u.bench.test\tIN\tSOA\t-1\t0.0.0.0\n", t);
	fflush(to);
	while (fgets(line, sizeof(line), from) && strcmp(line, "END\n") != 0)
		;
	t0 = now_ns();
	fprintf(to, "Q\tt%u.bench.test\tIN\tANY\t1\t127.0.0.1\n", t);
	fflush(to);
	while (fgets(line, sizeof(line), from)) {
		char *p;

		if (strcmp(line, "END\n") == 0 || strcmp(line, "FAIL\n") == 0)
			break;
		p = strstr(line, "\t10.");
		if (p)
			version = atoi(p + 4);
	}
	if (rtt_ns)
		*rtt_ns = now_ns() - t0;
	return version;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static double pct(uint64_t *v, size_t n, double p)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return (double)v[(size_t)(p * (double)(n - 1))] / 1e6;
}

static void rename_latency(const char *exe, unsigned n, unsigned rounds)
{
	uint64_t *lat = calloc(rounds, sizeof(*lat));

	write_config(1);
	write_list("t0.txt", 0, n, 1);
	start(exe);
	for (unsigned r = 1; r <= rounds; r++) {
		uint64_t t0, deadline;

		write_list("t0.txt.next", r, n, 0); /* written before the clock starts */
		{
			char a[4200], b[4200];

			snprintf(a, sizeof(a), "%s/t0.txt.next", workdir);
			snprintf(b, sizeof(b), "%s/t0.txt", workdir);
			t0 = now_ns();
			if (rename(a, b) < 0)
				die("rename");
		}
		deadline = t0 + 5000000000ull;
		while (ask(0, NULL) != (int)(r % 256))
			if (now_ns() > deadline) {
				fprintf(stderr, "version %u never served\n", r);
				break;
			}
		lat[r - 1] = now_ns() - t0;
	}
	printf("reload_rename_%u_p50 %.2f ms\n", n, pct(lat, rounds, 0.50));
	printf("reload_rename_%u_p99 %.2f ms\n", n, pct(lat, rounds, 0.99));
	printf("reload_rename_%u_max %.2f ms\n", n, pct(lat, rounds, 1.0));
	stop();
	free(lat);
}

/* Lock-step round trips for seconds s; with renames, a fresh 1M version each second. */
static size_t phase(uint64_t *rtt, size_t cap, unsigned seconds, bool renames, unsigned *v)
{
	uint64_t t_end = now_ns() + (uint64_t)seconds * 1000000000ull, next = now_ns();
	size_t n = 0;

	while (now_ns() < t_end && n < cap) {
		if (renames && now_ns() >= next && *v <= seconds) {
			char a[4200], b[4200];

			snprintf(a, sizeof(a), "%s/t0.v%u", workdir, *v);
			snprintf(b, sizeof(b), "%s/t0.txt", workdir);
			if (rename(a, b) < 0)
				die("rename");
			(*v)++;
			next += 1000000000ull;
		}
		ask(0, &rtt[n++]);
	}
	return n;
}

static void stall(const char *exe, unsigned seconds)
{
	size_t cap = 4000000, n_idle, n_busy;
	uint64_t *idle = calloc(cap, sizeof(*idle)), *busy = calloc(cap, sizeof(*busy));
	unsigned v = 1;

	write_config(1);
	write_list("t0.txt", 0, 1000000, 1);
	/* The new versions are written beforehand: what is measured is the reload, not the
	 * writer's CPU. */
	for (unsigned k = 1; k <= seconds; k++) {
		char name[32];

		snprintf(name, sizeof(name), "t0.v%u", k);
		write_list(name, k, 1000000, 0);
	}
	start(exe);
	for (int i = 0; i < 2000; i++)
		ask(0, NULL);
	/* the same length of time without and with reloads, back to back */
	n_idle = phase(idle, cap, seconds, false, &v);
	n_busy = phase(busy, cap, seconds, true, &v);
	printf(
	    "stall_idle  p50 %.3f  p99 %.3f  p99.9 %.3f  max %.3f ms (%zu round trips, no reload)\n",
	    pct(idle, n_idle, 0.5), pct(idle, n_idle, 0.99), pct(idle, n_idle, 0.999),
	    pct(idle, n_idle, 1.0), n_idle);
	printf(
	    "stall_busy  p50 %.3f  p99 %.3f  p99.9 %.3f  max %.3f ms (%zu round trips, %u reloads of 1,000,000 addresses)\n",
	    pct(busy, n_busy, 0.5), pct(busy, n_busy, 0.99), pct(busy, n_busy, 0.999),
	    pct(busy, n_busy, 1.0), n_busy, v - 1);
	printf(
	    "stall_worst_vs_idle_p99 %.1f x (goal <= 2); the machine's own: idle max %.1f x idle p99\n",
	    pct(busy, n_busy, 1.0) / pct(idle, n_idle, 0.99),
	    pct(idle, n_idle, 1.0) / pct(idle, n_idle, 0.99));
	stop();
	free(idle);
	free(busy);
}

static long status_kb(const char *key)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)child);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0)
			v = atol(line + strlen(key) + 1);
	fclose(f);
	return v;
}

static void memory(const char *exe, unsigned files, unsigned reloads)
{
	long steady, peak;

	write_config(files);
	for (unsigned i = 0; i < files; i++) {
		char name[32];

		snprintf(name, sizeof(name), "t%u.txt", i);
		write_list(name, i, 1000000, 1);
	}
	start(exe);
	ask(0, NULL);
	steady = status_kb("VmRSS:");
	for (unsigned r = 0; r < reloads; r++) {
		kill(child, SIGHUP);
		usleep(1500000);
		ask(0, NULL);
	}
	peak = status_kb("VmHWM:");
	printf("swap_rss_steady %.1f MiB (%u files of 1,000,000 addresses)\n", steady / 1024.0,
	       files);
	printf("swap_rss_peak %.1f MiB (%.2f x steady, %u full reloads)\n", peak / 1024.0,
	       (double)peak / (double)steady, reloads);
	stop();
}

static void path_of(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", workdir, name);
}

static void rename_in(const char *src, const char *dst)
{
	char a[4200], b[4200];

	path_of(a, sizeof(a), src);
	path_of(b, sizeof(b), dst);
	if (rename(a, b) < 0)
		die("rename");
}

/* Writes n lines of IPv4 addresses 10.(v + i / 65536).x.y, then the line last (or none). */
static void write_big(const char *name, unsigned v, unsigned n, const char *last)
{
	char path[4200];
	FILE *f;

	path_of(path, sizeof(path), name);
	f = fopen(path, "w");
	if (!f)
		die("fopen");
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "10.%u.%u.%u\n", v + (i >> 16), (i >> 8) & 255, i & 255);
	if (last)
		fprintf(f, "%s\n", last);
	if (fclose(f) != 0)
		die("fclose");
}

/* Writes len bytes: one line of '1's without a newline, or random bytes. */
static void write_bytes(const char *name, size_t len, int from_urandom)
{
	char path[4200], buf[65536];
	FILE *f, *r = from_urandom ? fopen("/dev/urandom", "r") : NULL;

	path_of(path, sizeof(path), name);
	f = fopen(path, "w");
	if (!f || (from_urandom && !r))
		die("fopen");
	memset(buf, '1', sizeof(buf));
	for (size_t done = 0; done < len; done += sizeof(buf)) {
		size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);

		if (r && fread(buf, 1, n, r) != n)
			die("urandom");
		if (fwrite(buf, 1, n, f) != n)
			die("fwrite");
	}
	if (r)
		fclose(r);
	if (fclose(f) != 0)
		die("fclose");
}

/* How many reloads pdyndns has logged as applied ("generation N applied"). */
static unsigned applied_count(void)
{
	static char *text;
	static size_t cap;
	unsigned n = 0;
	size_t len = 0;
	ssize_t r;
	int fd = open(child_log, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	for (;;) {
		if (len + 65536 + 1 > cap) {
			cap = (len + 65536 + 1) * 2;
			text = realloc(text, cap);
			if (!text)
				die("realloc");
		}
		r = read(fd, text + len, 65536);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	text[len] = 0;
	for (const char *p = text; (p = strstr(p, " applied: ")); p++)
		n++;
	return n;
}

/* Lock-step round trips until pdyndns has applied reload number want (the one that read
 * the extreme file), and then for tail_ns more; the worst one is kept. The log is looked
 * at between questions, at most once a millisecond. Returns the worst round trip; *done_ns
 * gets the time from t0 to done. */
static uint64_t worst_until(unsigned want, uint64_t tail_ns, uint64_t t0, uint64_t *done_ns,
			    size_t *n)
{
	uint64_t worst = 0, rtt, done = 0, next_look = 0, deadline = t0 + 120000000000ull;

	for (*n = 0;; (*n)++) {
		uint64_t t;

		ask(0, &rtt);
		worst = rtt > worst ? rtt : worst;
		t = now_ns();
		if (!done && t >= next_look) {
			if (applied_count() >= want)
				done = now_ns();
			next_look = t + 1000000;
		}
		if (done && now_ns() > done + tail_ns)
			break;
		if (now_ns() > deadline) {
			fprintf(stderr, "reload %u never applied\n", want);
			break;
		}
	}
	*done_ns = done ? done - t0 : 0;
	return worst;
}

static void extremes(const char *exe)
{
	static const struct {
		const char *name, *file; /* file: what is renamed over t0.txt */
		bool writer;		 /* a FIFO held open by a writer that never writes */
	} cases[] = {
	    /* no two in a row end alike: an unchanged outcome applies no reload */
	    {"10M_valid", "x.big", false},	 {"10M_last_line_bad", "x.bigbad", false},
	    {"10MiB_line", "x.longline", false}, {"fifo", "x.fifo", false},
	    {"1MiB_random", "x.random", false},	 {"fifo_writer", "x.fifo2", true},
	    {"dev_zero", "x.zero", false},	 {"symlink_loop", "x.loop", false},
	};
#define N_CASES (sizeof(cases) / sizeof(cases[0]))
	size_t cap = 4000000, n_idle = 0;
	uint64_t *idle = calloc(cap, sizeof(*idle)), t_end;
	unsigned applied;
	char path[4200], target[4200];
	double p99, max;

	loglevel = "info";
	write_config(1);
	write_list("t0.txt", 0, 10, 1);
	/* everything is written beforehand: what is measured is the reload, not the writer */
	write_big("x.big", 1, 10000000, NULL);
	write_big("x.bigbad", 1, 10000000, "10.1.0.300");
	write_bytes("x.longline", 10u << 20, 0);
	write_bytes("x.random", 1u << 20, 1);
	path_of(path, sizeof(path), "x.fifo");
	if (mkfifo(path, 0600) < 0)
		die("mkfifo");
	path_of(path, sizeof(path), "x.fifo2");
	if (mkfifo(path, 0600) < 0)
		die("mkfifo");
	path_of(path, sizeof(path), "x.zero");
	if (symlink("/dev/zero", path) < 0)
		die("symlink");
	path_of(target, sizeof(target), "x.loop2");
	path_of(path, sizeof(path), "x.loop");
	if (symlink(target, path) < 0)
		die("symlink");
	path_of(target, sizeof(target), "t0.txt");
	path_of(path, sizeof(path), "x.loop2");
	if (symlink(target, path) < 0) /* x.loop -> x.loop2 -> t0.txt, which x.loop becomes */
		die("symlink");
	sync();
	start(exe);
	for (int i = 0; i < 2000; i++)
		ask(0, NULL);
	t_end = now_ns() + 3000000000ull;
	while (now_ns() < t_end && n_idle < cap)
		ask(0, &idle[n_idle++]);
	applied = applied_count();
	p99 = pct(idle, n_idle, 0.99);
	max = pct(idle, n_idle, 1.0);
	printf("extreme_idle p99 %.3f max %.3f ms (%zu round trips, no reload)\n", p99, max,
	       n_idle);
	for (unsigned k = 1; k <= N_CASES; k++) {
		uint64_t t0, worst, done;
		int fd = -1;
		size_t n;

		if (cases[k - 1].writer) {
			path_of(path, sizeof(path), cases[k - 1].file);
			fd = open(path, O_RDWR | O_CLOEXEC);
			if (fd < 0)
				die("open fifo");
		}
		t0 = now_ns();
		rename_in(cases[k - 1].file, "t0.txt");
		worst = worst_until(++applied, 200000000ull, t0, &done, &n);
		printf(
		    "extreme_%s_worst %.3f ms (idle p99 %.3f, idle max %.3f; reload done after %.1f ms, "
		    "%zu round trips)\n",
		    cases[k - 1].name, (double)worst / 1e6, p99, max, (double)done / 1e6, n);
		if (fd >= 0)
			close(fd);
	}
	stop();
	free(idle);
	/* the 10 M-line files: ~140 MB each */
	path_of(path, sizeof(path), "t0.txt");
	unlink(path);
	path_of(path, sizeof(path), "x.loop2");
	unlink(path);
}

int main(int argc, char **argv)
{
	if (argc != 3 && !(argc == 4 && strcmp(argv[3], "extremes") == 0)) {
		fprintf(stderr, "usage: reloadbench PDYNDNS WORKDIR [extremes]\n");
		return 2;
	}
	workdir = argv[2];
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4) {
		char log[4200];

		snprintf(log, sizeof(log), "%s/extremes.log", workdir); /* the refusals it logs */
		child_log = log;
		extremes(argv[1]);
		return 0;
	}
	rename_latency(argv[1], 10, 200);
	rename_latency(argv[1], 1000000, 20);
	stall(argv[1], 6);
	memory(argv[1], 8, 3);
	return 0;
}
