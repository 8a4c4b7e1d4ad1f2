/* SPDX-License-Identifier: MIT */
/* pdynctl: the command-line tool of pdyndns. It finds every running copy through its control
 * socket, asks each, and prints tables (or one JSON document with --json). Commands come
 * from one table, which also makes the usage text. */
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "ctlproto.h"
#include "macro.h"

#define DEFAULT_DIR "/run/pdyndns"

enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_NO_DAEMON = 3,
	EXIT_DENIED = 4,
	EXIT_TIMEOUT = 5,
};

static struct {
	const char *dir;
	const char *socket;
	const char *client;
	bool json;
	int timeout_ms;
} arg = {.dir = DEFAULT_DIR, .timeout_ms = 10000};

struct command {
	const char *name;
	const char *args;
	const char *help;
	int min_args, max_args;
	bool needs_daemon;
	bool mutating;
	int (*run)(char **args); /* args: the command's arguments */
};

/* One copy's answer to a request. */
struct reply {
	char *socket;
	int pid;
	int code;        /* EXIT_* */
	char *error;     /* when code != 0 */
	json_object *result;
};

static const char *jget_str(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

static long long jget_int(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : 0;
}

static int wait_fd(int fd, short events, long long deadline_ms)
{
	struct timespec ts;
	struct pollfd p = {.fd = fd, .events = events};
	long long now;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
	if (now >= deadline_ms)
		return -ETIMEDOUT;
	r = poll(&p, 1, (int)(deadline_ms - now));
	if (r < 0)
		return -errno;
	return r == 0 ? -ETIMEDOUT : 0;
}

static long long deadline_in(int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000 + ms;
}

/* Sends one request to one socket and reads the reply line. */
static void ask(const char *path, const char *request, struct reply *rep)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	long long deadline = deadline_in(arg.timeout_ms);
	size_t len = 0, off = 0, reqlen = strlen(request);
	bool ok;
	int r, send_error = 0;

	*rep = (struct reply){.socket = strdup(path), .code = EXIT_FAILED};
	sscanf(strrchr(path, '/') ? strrchr(path, '/') + 1 : path, "pdyndns.%d.sock", &rep->pid);
	if (strlen(path) >= sizeof(sa.sun_path)) {
		rep->error = strdup("socket path too long");
		return;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = errno;
		rep->code = r == EACCES || r == EPERM ? EXIT_DENIED : EXIT_NO_DAEMON;
		if (asprintf(&rep->error, "%s: %s", path,
			     r == ECONNREFUSED ? "nobody listens (a stale socket of a killed copy)"
					       : strerror(r)) < 0)
			rep->error = NULL;
		return;
	}
	while (off < reqlen) {
		ssize_t n;

		if ((r = wait_fd(fd, POLLOUT, deadline)) < 0)
			goto fail;
		n = send(fd, request + off, reqlen - off, MSG_NOSIGNAL);
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
			/* a daemon that refuses at once ("too many clients") may have closed before
			 * the request went out: its reason is still there to be read */
			send_error = -errno;
			break;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			r = -errno;
			goto fail;
		}
		off += n > 0 ? (size_t)n : 0;
	}
	buf = malloc(CTL_MAX_REPLY + 1);
	if (!buf) {
		r = -ENOMEM;
		goto fail;
	}
	for (;;) {
		ssize_t n;

		if ((r = wait_fd(fd, POLLIN, deadline)) < 0)
			goto fail;
		n = recv(fd, buf + len, CTL_MAX_REPLY - len, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(buf + len - n, '\n', (size_t)n) || len == CTL_MAX_REPLY)
			break;
	}
	if (len == 0 && send_error) {
		r = send_error;
		goto fail;
	}
	if (len == CTL_MAX_REPLY && buf[len - 1] != '\n') {
		if (asprintf(&rep->error, "%s: reply longer than %d bytes", path, CTL_MAX_REPLY) < 0)
			rep->error = NULL;
		return;
	}
	while (len && buf[len - 1] == '\n')
		len--;
	if (ctl_response_decode(buf, len, &ok, &rep->result, &rep->error) < 0) {
		rep->error = strdup("no valid reply (is this a pdyndns control socket?)");
		return;
	}
	/* a socket from systemd has no pid in its name: the reply has it */
	if (!rep->pid && rep->result)
		rep->pid = (int)jget_int(rep->result, "pid");
	if (ok)
		rep->code = EXIT_OK;
	else if (rep->error && strcmp(rep->error, "permission denied") == 0)
		rep->code = EXIT_DENIED;
	return;
fail:
	rep->code = r == -ETIMEDOUT ? EXIT_TIMEOUT : EXIT_FAILED;
	if (asprintf(&rep->error, "%s: %s", path, r == -ETIMEDOUT ? "no reply in time" : strerror(-r)) < 0)
		rep->error = NULL;
}

static void reply_done(struct reply *r)
{
	free(r->socket);
	free(r->error);
	json_object_put(r->result);
}

/* Asks every copy; returns the number of replies in *out (live copies only, unless only
 * stale ones exist) and the exit code for "no daemon". */
static int ask_all(const struct ctl_request *req, struct reply **out, size_t *n_out)
{
	_cleanup_free_ char *line = ctl_request_encode(req);
	struct reply *reps = NULL;
	size_t n = 0;
	glob_t g = {0};
	char *pattern = NULL;

	if (!line)
		return -ENOMEM;
	if (arg.socket) {
		reps = calloc(1, sizeof(*reps));
		ask(arg.socket, line, &reps[0]);
		*out = reps;
		*n_out = 1;
		return 0;
	}
	if (access(arg.dir, R_OK | X_OK) < 0 && (errno == EACCES || errno == EPERM))
		return -EACCES;
	if (asprintf(&pattern, "%s/pdyndns.*.sock", arg.dir) < 0)
		return -ENOMEM;
	glob(pattern, 0, NULL, &g);
	free(pattern);
	reps = calloc(g.gl_pathc ? g.gl_pathc : 1, sizeof(*reps));
	for (size_t i = 0; reps && i < g.gl_pathc; i++) {
		ask(g.gl_pathv[i], line, &reps[n]);
		if (reps[n].code == EXIT_NO_DAEMON) {
			struct stat st;
			bool gone = reps[n].pid > 0 && kill(reps[n].pid, 0) < 0 && errno == ESRCH;

			/* a copy PowerDNS killed left its socket: tidy up when we may */
			if (gone && lstat(g.gl_pathv[i], &st) == 0 && S_ISSOCK(st.st_mode) && unlink(g.gl_pathv[i]) == 0)
				fprintf(stderr, "pdynctl: skipping %s; removed it\n", reps[n].error);
			else
				fprintf(stderr, "pdynctl: skipping %s\n", reps[n].error);
			reply_done(&reps[n]);
			continue;
		}
		n++;
	}
	globfree(&g);
	*out = reps;
	*n_out = n;
	return 0;
}

static int worst(const struct reply *reps, size_t n)
{
	static const int rank[] = {[EXIT_OK] = 0, [EXIT_FAILED] = 1, [EXIT_TIMEOUT] = 2,
				   [EXIT_NO_DAEMON] = 3, [EXIT_DENIED] = 4, [EXIT_USAGE] = 5};
	int code = EXIT_OK;

	for (size_t i = 0; i < n; i++)
		if (rank[reps[i].code] > rank[code])
			code = reps[i].code;
	return code;
}

static void print_json(const struct reply *reps, size_t n)
{
	json_object *doc = json_object_new_object(), *arr = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_new_object();

		json_object_object_add(c, "socket", json_object_new_string(reps[i].socket));
		json_object_object_add(c, "pid", json_object_new_int(reps[i].pid));
		json_object_object_add(c, "ok", json_object_new_boolean(reps[i].code == EXIT_OK));
		if (reps[i].code == EXIT_OK)
			json_object_object_add(c, "result", json_object_get(reps[i].result));
		else
			json_object_object_add(c, "error", json_object_new_string(reps[i].error ? reps[i].error : "failed"));
		json_object_array_add(arr, c);
	}
	json_object_object_add(doc, "copies", arr);
	puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(doc);
}

static void print_when(long long t)
{
	char buf[64];
	time_t tt = (time_t)t;

	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", localtime(&tt));
	printf("%s", buf);
}

static void print_status(json_object *r)
{
	json_object *hs, *last, *zones = NULL;
	int tw = 4; /* the TYPE column */
	long long up = jget_int(r, "uptime");

	printf("pdyndns %s, pid %lld: up %lldd%02lldh%02lldm%02llds, ABI %lld, config %s\n",
	       jget_str(r, "version") ?: "?", jget_int(r, "pid"), up / 86400, up / 3600 % 24, up / 60 % 60,
	       up % 60, jget_int(r, "abi"), jget_str(r, "config") ?: "?");
	printf("  zone %s", jget_str(r, "zone") ?: "(none)");
	if (json_object_object_get_ex(r, "zones", &zones)) /* the first is the one above */
		for (size_t i = 1; i < json_object_array_length(zones); i++)
			printf("%s%s", i == 1 ? " (and " : ", ", json_object_get_string(json_object_array_get_idx(zones, i)));
	printf("%s, generation %lld, %lld lookups answered (PowerDNS sends several per question)\n",
	       zones && json_object_array_length(zones) > 1 ? ")" : "", jget_int(r, "generation"), jget_int(r, "lookups"));
	if (json_object_object_get_ex(r, "last_reload", &last) && last) {
		printf("  last reload: %s at ", json_object_get_boolean(json_object_object_get(last, "ok")) ? "applied" : "refused");
		print_when(jget_int(last, "time"));
		printf(": %s\n", jget_str(last, "result") ?: "");
	} else
		printf("  last reload: none since start\n");
	if (jget_int(r, "log_dropped"))
		printf("  %lld log lines dropped: stderr was full (nobody reads it?)\n", jget_int(r, "log_dropped"));
	if (jget_str(r, "config_error"))
		printf("  config error: %s\n", jget_str(r, "config_error"));
	if (!json_object_object_get_ex(r, "handlers", &hs))
		return;
	/* the TYPE column as wide as its widest entry: kinds answer several types (A/AAAA/TXT) */
	for (size_t i = 0; i < json_object_array_length(hs); i++) {
		json_object *types;
		int w = -1;

		if (json_object_object_get_ex(json_object_array_get_idx(hs, i), "types", &types))
			for (size_t k = 0; k < json_object_array_length(types); k++)
				w += 1 + (int)strlen(json_object_get_string(json_object_array_get_idx(types, k)));
		if (w > tw)
			tw = w < 31 ? w : 31;
	}
	printf("  %-32s %-*s %-15s %9s %9s %-26s %10s  %s\n", "QNAME", tw, "TYPE", "POLICY", "ADDRESSES", "NEXT#",
	       "NEXT ADDRESS", "ANSWERS", "FILE");
	for (size_t i = 0; i < json_object_array_length(hs); i++) {
		json_object *h = json_object_array_get_idx(hs, i), *served, *weights, *x, *types;
		char policy[32], next[24] = "-", answers[24] = "-";
		const char *p = jget_str(h, "policy") ?: "round-robin";

		if (json_object_object_get_ex(h, "serves", &x)) { /* a kind that answers from the config */
			char tlist[32] = "";

			json_object_object_get_ex(h, "types", &types);
			for (size_t k = 0; types && k < json_object_array_length(types); k++)
				snprintf(tlist + strlen(tlist), sizeof(tlist) - strlen(tlist), "%s%s", k ? "/" : "",
					 json_object_get_string(json_object_array_get_idx(types, k)));
			printf("  %-32s %-*s %-15s %s\n", jget_str(h, "qname"), tw, tlist, jget_str(h, "kind") ?: "?",
			       json_object_get_string(x));
			continue;
		}

		/* "all" takes no count; a count of 1 is not shown */
		if (jget_int(h, "count") > 1 && strcmp(p, "all") != 0)
			snprintf(policy, sizeof(policy), "%s/%lld", p, jget_int(h, "count"));
		else
			snprintf(policy, sizeof(policy), "%s", p);
		if (json_object_object_get_ex(h, "next_index", &x)) {
			snprintf(next, sizeof(next), "%lld", jget_int(h, "next_index"));
			snprintf(answers, sizeof(answers), "%lld", jget_int(h, "answers"));
		}
		printf("  %-32s %-*s %-15s %9lld %9s %-26s %10s  %s\n", jget_str(h, "qname"), tw, jget_str(h, "qtype"),
		       policy, jget_int(h, "addresses"), next, jget_str(h, "next_address") ?: "-", answers,
		       jget_str(h, "file"));
		if (jget_str(h, "view")) /* a view of the handler above */
			printf("      view \"%s\": %lld inline prefixes%s%s\n", jget_str(h, "view"),
			       jget_int(h, "inline_prefixes"), jget_str(h, "prefix_file") ? ", and those of " : "",
			       jget_str(h, "prefix_file") ?: "");
		else if (json_object_object_get_ex(h, "views", &x))
			printf("      %lld view%s by the %s, %lld prefixes in all (other clients: this list)\n",
			       jget_int(h, "views"), jget_int(h, "views") == 1 ? "" : "s", strcmp(jget_str(h, "match") ?: "", "resolver") == 0 ? "resolver's address" :
			       "client subnet", jget_int(h, "prefixes"));
		if (jget_str(h, "views_error"))
			printf("      prefixes: %s\n", jget_str(h, "views_error"));
		if (json_object_object_get_ex(h, "weights", &weights)) {
			printf("      weights: total %lld, %lld drained:", jget_int(h, "total_weight"), jget_int(h, "drained"));
			for (size_t k = 0; k < json_object_array_length(weights); k++) {
				json_object *a = json_object_array_get_idx(weights, k);

				printf(" %s=%lld", jget_str(a, "address"), jget_int(a, "weight"));
			}
			printf("%s\n", (size_t)jget_int(h, "addresses") > json_object_array_length(weights) ? " ..." : "");
		}
		if (json_object_object_get_ex(h, "served", &served) && json_object_array_length(served)) {
			printf("      served:");
			for (size_t k = 0; k < json_object_array_length(served); k++) {
				json_object *a = json_object_array_get_idx(served, k);

				printf(" %s=%lld", jget_str(a, "address"), jget_int(a, "served"));
			}
			printf("%s\n", (size_t)jget_int(h, "addresses") > json_object_array_length(served) ? " ..." : "");
		}
		if (jget_str(h, "error"))
			printf("      error: %s\n", jget_str(h, "error"));
	}
}

/* Runs a daemon command on every copy and prints the results with per(). */
static int run_daemon(const struct ctl_request *req, void (*per)(const struct reply *))
{
	struct reply *reps = NULL;
	size_t n = 0;
	int code;

	code = ask_all(req, &reps, &n);
	if (code == -EACCES) {
		fprintf(stderr, "pdynctl: %s: permission denied (root, the daemon's user or the control group may use it)\n",
			arg.dir);
		return EXIT_DENIED;
	}
	if (code < 0) {
		fprintf(stderr, "pdynctl: out of memory\n");
		return EXIT_FAILED;
	}
	if (n == 0) {
		free(reps);
		if (arg.json)
			printf("{\"copies\": []}\n");
		fprintf(stderr, "pdynctl: no pdyndns is running (no live control socket in %s)\n", arg.dir);
		return EXIT_NO_DAEMON;
	}
	code = worst(reps, n);
	if (arg.json)
		print_json(reps, n);
	for (size_t i = 0; i < n; i++) {
		if (!arg.json) {
			if (reps[i].code == EXIT_OK)
				per(&reps[i]);
			else if (reps[i].pid)
				fprintf(stderr, "pdynctl: pid %d: %s\n", reps[i].pid, reps[i].error ? reps[i].error : "failed");
			else
				fprintf(stderr, "pdynctl: %s: %s\n", reps[i].socket, reps[i].error ? reps[i].error : "failed");
		}
		reply_done(&reps[i]);
	}
	free(reps);
	return code;
}

static void per_status(const struct reply *r) { print_status(r->result); }

static void per_list(const struct reply *r)
{
	printf("%-8d %-8s gen %-6lld %s\n", r->pid, jget_str(r->result, "zone") ?: "-",
	       jget_int(r->result, "generation"), r->socket);
}

static void per_reload(const struct reply *r)
{
	printf("pid %d: %s\n", r->pid, jget_str(r->result, "result") ?: "applied");
}

static void per_query(const struct reply *r)
{
	json_object *as = json_object_object_get(r->result, "answers");

	printf("pid %d: %s\n", r->pid, jget_str(r->result, "rcode") ?: "?");
	for (size_t i = 0; as && i < json_object_array_length(as); i++) {
		json_object *a = json_object_array_get_idx(as, i);

		printf("  %s\t%lld\tIN\t%s\t%s\n", jget_str(a, "name"), jget_int(a, "ttl"), jget_str(a, "type"),
		       jget_str(a, "content"));
	}
}

static int cmd_status(char **argv) { return run_daemon(&(struct ctl_request){.cmd = CTL_STATUS}, per_status); }
static int cmd_list(char **argv) { return run_daemon(&(struct ctl_request){.cmd = CTL_STATUS}, per_list); }

static int cmd_reload(char **argv)
{
	int code = run_daemon(&(struct ctl_request){.cmd = CTL_RELOAD}, per_reload);

	return code;
}

static int cmd_query(char **argv)
{
	struct ctl_request req = {.cmd = CTL_QUERY};

	if (strlen(argv[0]) >= sizeof(req.name) || strlen(argv[1]) >= sizeof(req.type) ||
	    (arg.client && strlen(arg.client) >= sizeof(req.client))) {
		fprintf(stderr, "pdynctl: argument too long\n");
		return EXIT_USAGE;
	}
	strcpy(req.name, argv[0]);
	strcpy(req.type, argv[1]);
	if (arg.client)
		strcpy(req.client, arg.client);
	return run_daemon(&req, per_query);
}

static int cmd_check(char **argv)
{
	if (arg.json) {
		_cleanup_free_ char *summary = NULL;
		json_object *doc = json_object_new_object(), *probs = json_object_new_array();
		json_object *warns = json_object_new_array();
		struct diag d, w;
		int r;

		diag_init(&d);
		diag_init(&w);
		r = check_config_file(argv[0], &d, &w, &summary);
		for (size_t i = 0; i < d.n_msgs; i++)
			json_object_array_add(probs, json_object_new_string(d.msgs[i]));
		for (size_t i = 0; i < w.n_msgs; i++)
			json_object_array_add(warns, json_object_new_string(w.msgs[i]));
		diag_clear(&w);
		json_object_object_add(doc, "file", json_object_new_string(argv[0]));
		json_object_object_add(doc, "ok", json_object_new_boolean(r >= 0));
		json_object_object_add(doc, "problems", probs);
		json_object_object_add(doc, "problem_count", json_object_new_int64((int64_t)d.n_errors));
		json_object_object_add(doc, "warnings", warns);
		puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(doc);
		diag_clear(&d);
		return r < 0 ? EXIT_FAILED : EXIT_OK;
	}
	return check_config_print(argv[0], stdout, stderr);
}

static int cmd_completion(char **argv);

static const struct command commands[] = {
	{"status", "", "state of every copy: reloads, rotation of every handler", 0, 0, true, false, cmd_status},
	{"reload", "", "reload every copy now; wait until each applied or refused", 0, 0, true, true, cmd_reload},
	{"query", "NAME TYPE", "what each copy would answer, without moving the rotation (--client IP)", 2, 2, true, false, cmd_query},
	{"list", "", "the running copies found", 0, 0, true, false, cmd_list},
	{"check", "FILE", "validate a config and its address files offline (as pdyndns --check)", 1, 1, false, false, cmd_check},
	{"completion", "", "print a bash completion script", 0, 0, false, false, cmd_completion},
};

static const struct option options[] = {
	{"dir", required_argument, NULL, 'd'},
	{"socket", required_argument, NULL, 's'},
	{"json", no_argument, NULL, 'j'},
	{"client", required_argument, NULL, 'c'},
	{"timeout", required_argument, NULL, 't'},
	{"version", no_argument, NULL, 'V'},
	{"help", no_argument, NULL, 'h'},
	{0},
};

/* completions/pdynctl, the script that make install puts in bash-completion's directory,
 * as a string (made by the Makefile): one script, whichever way it is installed */
static const char completion_script[] =
#include "ctl/completion.h"
	;

static int cmd_completion(char **argv)
{
	fputs(completion_script, stdout);
	return EXIT_OK;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: pdynctl [--dir DIR | --socket PATH] [--json] [--timeout SEC] COMMAND [ARGS]\n\nCommands:\n");
	for (size_t i = 0; i < ELEMENTSOF(commands); i++) {
		char head[32];

		snprintf(head, sizeof(head), "%s %s", commands[i].name, commands[i].args);
		fprintf(f, "  %-18s %s\n", head, commands[i].help);
	}
	fprintf(f, "\nOptions:\n"
		   "  --dir DIR       find copies in DIR (default %s)\n"
		   "  --socket PATH   talk to one copy only\n"
		   "  --json          print one JSON document\n"
		   "  --client IP     query: the client address to answer for\n"
		   "  --timeout SEC   give up on a copy after SEC seconds (default 10)\n"
		   "\nExit status: 0 ok, 1 refused or failed, 2 usage, 3 no daemon running,\n"
		   "4 permission denied, 5 timeout.\n", DEFAULT_DIR);
}

/* Parses options from argv[1..]; the same options may come before and after the command.
 * Returns -1 to go on, or an exit status. */
static int parse_options(int argc, char **argv, const char *optstring)
{
	int c;

	optind = 0; /* a fresh scan, also for the second call */
	while ((c = getopt_long(argc, argv, optstring, options, NULL)) != -1) {
		switch (c) {
		case 'd':
			arg.dir = optarg;
			break;
		case 's':
			arg.socket = optarg;
			break;
		case 'j':
			arg.json = true;
			break;
		case 'c':
			arg.client = optarg;
			break;
		case 't': {
			char *end;
			double s = strtod(optarg, &end);

			if (*end || s <= 0 || s > 3600) {
				fprintf(stderr, "pdynctl: --timeout takes seconds, 0 to 3600\n");
				return EXIT_USAGE;
			}
			arg.timeout_ms = (int)(s * 1000);
			break;
		}
		case 'V':
			printf("pdynctl %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	const struct command *cmd = NULL;
	int r, nargs;

	/* options before the command ("+": stop at the first non-option) */
	r = parse_options(argc, argv, "+d:s:jc:t:Vh");
	if (r >= 0)
		return r;
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			cmd = &commands[i];
	if (!cmd) {
		fprintf(stderr, "pdynctl: unknown command '%s'\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	/* and after it, mixed with its arguments: pdynctl query NAME TYPE --client IP */
	argc -= optind;
	argv += optind;
	r = parse_options(argc, argv, "d:s:jc:t:Vh");
	if (r >= 0)
		return r;
	nargs = argc - optind;
	if (nargs < cmd->min_args || nargs > cmd->max_args) {
		fprintf(stderr, "pdynctl: %s takes %s%s\n", cmd->name, *cmd->args ? cmd->args : "no arguments",
			nargs > cmd->max_args ? " (too many arguments)" : "");
		return EXIT_USAGE;
	}
	return cmd->run(argv + optind);
}
