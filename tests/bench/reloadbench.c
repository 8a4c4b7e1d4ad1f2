/* SPDX-License-Identifier: MIT */
/* reloadbench: live-reload figures for pdyndns, driven over its pipe like PowerDNS does
 * (lock-step: one question, wait for its END).
 *
 *   reloadbench PDYNDNS WORKDIR
 *
 * 1. rename latency: a file of N addresses is replaced by rename(2) with a new version;
 *    the time from the rename to the first answer carrying the new version (N = 10 and
 *    N = 1,000,000). Prints p50/p99/max.
 * 2. stall: lock-step round trips while a 1,000,000-address file is replaced every second,
 *    against the idle p99 of the same run.
 * 3. memory: peak RSS (VmHWM) across SIGHUP full reloads of 8 files of 1,000,000
 *    addresses against the steady RSS.
 * One line per figure: "name value unit (reference)". */
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *workdir;
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
	fprintf(f, "{\"domain\": \"bench.test\", \"soa\": \"ns1.bench.test. h.bench.test. 1 7200 3600 7200 60\",\n"
		   " \"nameservers\": [\"ns1.bench.test\"], \"ttl\": 60, \"loglevel\": \"warning\", \"handlers\": [\n");
	for (unsigned i = 0; i < n_files; i++)
		fprintf(f, "  {\"qname\": \"t%u.bench.test\", \"qtype\": \"A\", \"file\": \"t%u.txt\"}%s\n", i, i,
			i + 1 < n_files ? "," : "");
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
	printf("stall_idle  p50 %.3f  p99 %.3f  p99.9 %.3f  max %.3f ms (%zu round trips, no reload)\n",
	       pct(idle, n_idle, 0.5), pct(idle, n_idle, 0.99), pct(idle, n_idle, 0.999), pct(idle, n_idle, 1.0), n_idle);
	printf("stall_busy  p50 %.3f  p99 %.3f  p99.9 %.3f  max %.3f ms (%zu round trips, %u reloads of 1,000,000 addresses)\n",
	       pct(busy, n_busy, 0.5), pct(busy, n_busy, 0.99), pct(busy, n_busy, 0.999), pct(busy, n_busy, 1.0), n_busy, v - 1);
	printf("stall_worst_vs_idle_p99 %.1f x (goal <= 2); the machine's own: idle max %.1f x idle p99\n",
	       pct(busy, n_busy, 1.0) / pct(idle, n_idle, 0.99), pct(idle, n_idle, 1.0) / pct(idle, n_idle, 0.99));
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
	printf("swap_rss_steady %.1f MiB (%u files of 1,000,000 addresses)\n", steady / 1024.0, files);
	printf("swap_rss_peak %.1f MiB (%.2f x steady, %u full reloads)\n", peak / 1024.0,
	       (double)peak / (double)steady, reloads);
	stop();
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: reloadbench PDYNDNS WORKDIR\n");
		return 2;
	}
	workdir = argv[2];
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	rename_latency(argv[1], 10, 200);
	rename_latency(argv[1], 1000000, 20);
	stall(argv[1], 6);
	memory(argv[1], 8, 3);
	return 0;
}
