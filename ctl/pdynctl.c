/* SPDX-License-Identifier: MIT */
/* pdynctl: the command-line tool of pdyndns. It finds every running copy through its control
 * socket, asks each, and prints tables (or one JSON document with --json). Commands come
 * from one table, which also makes the usage text. */
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "conn.h"
#include "ctlproto.h"
#include "exposition.h"
#include "macro.h"
#include "render.h"

static struct {
	const char *dir;
	const char *socket;
	const char *client;
	bool copies_option; /* --dir, --socket, --client or --timeout was given */
	bool json;
	bool verbose;
	int timeout_ms;
} arg = {.dir = CTL_DEFAULT_DIR, .timeout_ms = 10000};

struct command {
	const char *name;
	const char *args;
	const char *help;
	int min_args, max_args;
	bool needs_daemon;	 /* asks running copies (--dir, --socket, --timeout apply) */
	bool mutating;		 /* the copies let only root and their own user do it */
	int (*run)(char **args); /* args: the command's arguments */
};

/* The JSON document of --json, {"copies": [...]}, written copy by copy as they answer. */
static size_t json_copies;

static const char *jtext(json_object *o, int flags)
{
	return json_object_to_json_string_ext(o, flags | JSON_C_TO_STRING_NOSLASHESCAPE);
}

static void json_copy_begin(const char *socket, int pid)
{
	json_object *s = json_object_new_string(socket);

	printf("%s{\"socket\": %s, \"pid\": %d", json_copies++ ? ",\n  " : "{\"copies\": [\n  ",
	       jtext(s, 0), pid);
	json_object_put(s);
}

/* Ends a copy's object: ok, or the error. */
static void json_copy_end(const struct outcome *o)
{
	json_object *e = json_object_new_string(o->error ? o->error : "failed");

	if (o->code == EXIT_OK)
		printf(", \"ok\": true}");
	else
		printf(", \"ok\": false, \"error\": %s}", jtext(e, 0));
	json_object_put(e);
}

/* Writes the text a render function made, or reports the reply as malformed. */
static bool emit(FILE *to, char **text, size_t *len, FILE *mem, int r, const char *why,
		 struct outcome *o, const char *path)
{
	fclose(mem);
	if (r < 0)
		malformed(o, path, why);
	else if (!arg.json)
		fwrite(*text, 1, *len, to);
	*text = mfree(*text);
	return r >= 0;
}

/* pdynctl health: a status of the checked handlers only (of NAME TYPE if given) */
static struct {
	bool on;
	const char *name, *type; /* NULL: every checked handler */
} health;

/* A streamed status: the header is printed, then each handler as it comes. */
static void status_stream(struct conn *c, struct outcome *o, json_object *header, bool stream)
{
	char why[RENDER_WHY_MAX], *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	long long count = 0, got = 0, shown = 0;
	json_object *hs = NULL;
	const char *head;
	int r0 = mem ? render_status_header(mem, header, why) : -ENOMEM;

	if (health.on && mem && r0 >= 0) { /* the copy, not its status header */
		fclose(mem);
		free(text);
		text = NULL;
		len = 0;
		mem = open_memstream(&text, &len);
		if (mem)
			fprintf(mem, "pid %d:\n", o->pid);
	}
	if (!mem || !emit(stdout, &text, &len, mem, r0, why, o, c->path))
		return;
	if (arg.json) {
		/* the header's members, then "handlers" as it comes */
		head = jtext(header, JSON_C_TO_STRING_PLAIN);
		printf(", \"result\": %.*s%s\"handlers\": [", (int)strlen(head) - 1, head,
		       strcmp(head, "{}") ? "," : "");
	}
	/* an older daemon puts every handler in the one line */
	if (!stream && json_object_object_get_ex(header, "handlers", &hs) &&
	    !json_object_is_type(hs, json_type_array)) {
		malformed(o, c->path, "\"handlers\" is not an array");
		goto out;
	}
	for (size_t i = 0;; i++) {
		json_object *item = NULL, *end = NULL;
		int r;

		if (!stream) {
			if (!hs || i >= json_object_array_length(hs))
				break;
			item = json_object_get(json_object_array_get_idx(hs, i));
		} else {
			if (conn_item(c, o, "status", &item, &end) < 0)
				goto out;
			if (end) {
				size_t missing = 0;

				r = render_status_end(stderr, o->pid, end, &count, &missing, why);
				json_object_put(end);
				if (r < 0)
					malformed(o, c->path, why);
				else if (count != got)
					malformed(
					    o, c->path,
					    "the count at its end is not the number of handlers sent");
				else if (missing) {
					/* each named on stderr already */
					o->code = EXIT_FAILED;
					set_error(o, "%zu of the names have no handler", missing);
					o->printed = !arg.json;
				} else if (health.on && !shown && health.name) {
					o->code = EXIT_FAILED;
					set_error(o, "%s %s has no health checks", health.name,
						  health.type);
				} else if (health.on && !shown && !arg.json)
					printf("  no handler has health checks\n");
				break;
			}
		}
		mem = open_memstream(&text, &len);
		bool show = true;

		r = !mem	? -ENOMEM
		    : health.on ? render_health_handler(mem, item, health.type, &show, why)
				: render_handler(mem, item, why);
		if (!mem || !emit(stdout, &text, &len, mem, r, why, o, c->path)) {
			json_object_put(item);
			goto out;
		}
		if (arg.json && show)
			printf("%s\n    %s", shown ? "," : "", jtext(item, JSON_C_TO_STRING_PLAIN));
		got++;
		shown += show;
		json_object_put(item);
	}
out:
	if (arg.json)
		printf("]}");
}

/* pdynctl metrics: what the copies answered so far, summed */
static struct promtext *expo;

/* A copy's metrics: its header, then a line per handler, added to expo once all came and
 * made sense (a copy that fails half way adds nothing). --json prints them as they come. */
static void metrics_stream(struct conn *c, struct outcome *o, json_object *header, bool stream)
{
	char why[EXPO_WHY_MAX];
	struct promtext *mine = promtext_new();
	long long got = 0;
	const char *head;
	bool opened = false;
	int r;

	if (!mine || expo_declare(mine) < 0) {
		o->code = EXIT_FAILED;
		set_error(o, "out of memory");
		goto out;
	}
	if (!stream) {
		malformed(o, c->path, "metrics without their handler lines");
		goto out;
	}
	if ((r = expo_add_copy(mine, header, o->pid, why)) < 0) {
		malformed(o, c->path, r == -ENOMEM ? "out of memory" : why);
		goto out;
	}
	if (arg.json) {
		head = jtext(header, JSON_C_TO_STRING_PLAIN);
		printf(", \"result\": %.*s%s\"handlers\": [", (int)strlen(head) - 1, head,
		       strcmp(head, "{}") ? "," : "");
		opened = true;
	}
	for (;;) {
		json_object *item = NULL, *end = NULL, *count;

		if (conn_item(c, o, "metrics", &item, &end) < 0)
			goto out;
		if (end) {
			bool same = json_object_object_get_ex(end, "count", &count) &&
				    json_object_is_type(count, json_type_int) &&
				    json_object_get_int64(count) == got;

			json_object_put(end);
			if (!same) {
				malformed(
				    o, c->path,
				    "the count at its end is not the number of handlers sent");
				goto out;
			}
			break;
		}
		r = expo_add_handler(mine, item, o->pid, why);
		if (arg.json)
			printf("%s\n    %s", got ? "," : "", jtext(item, JSON_C_TO_STRING_PLAIN));
		json_object_put(item);
		if (r < 0) {
			malformed(o, c->path, r == -ENOMEM ? "out of memory" : why);
			goto out;
		}
		got++;
	}
	if (promtext_merge(expo, mine) < 0) {
		o->code = EXIT_FAILED;
		set_error(o, "out of memory");
	}
out:
	if (opened)
		printf("]}");
	promtext_free(mine);
}

/* Asks one copy and prints what it answered (human text, or its member of the JSON
 * document). Returns false, printing nothing, when it cannot connect (o says why). */
static bool ask_copy(const char *path, const char *request, const struct ctl_request *req,
		     struct outcome *o)
{
	struct conn c;
	char *line, *err = NULL, why[RENDER_WHY_MAX], *text = NULL, *etext = NULL;
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t n, len = 0, elen = 0;
	bool ok = false, stream = false, begun = false;
	json_object *res = NULL;
	FILE *mem, *emem;
	int r, problems = 0;

	*o = (struct outcome){.code = EXIT_FAILED};
	if (sscanf(base, "pdyndns.%d.sock", &o->pid) != 1 || o->pid < 0)
		o->pid = 0;
	if (conn_open(&c, path, request, arg.timeout_ms, o) < 0) {
		conn_close(&c);
		return false;
	}
	if (conn_line(&c, &line, &n, o) < 0)
		goto out;
	if (ctl_response_decode(line, n, &ok, &res, &err, &stream) < 0) {
		malformed(o, path,
			  "not a control protocol response (is this a pdyndns control socket?)");
		goto out;
	}
	/* a socket from systemd has no pid in its name: the reply has it */
	if (!o->pid)
		o->pid = render_pid(res);
	if (arg.json) {
		json_copy_begin(path, o->pid);
		begun = true;
	}
	if (!ok) {
		o->code = strcmp(err, "permission denied") == 0 ? EXIT_DENIED : EXIT_FAILED;
		o->error = TAKE_PTR(err);
		goto out;
	}
	o->code = EXIT_OK;
	if (req->cmd == CTL_STATUS && !req->summary) {
		status_stream(&c, o, res, stream);
		goto out;
	}
	if (req->cmd == CTL_METRICS) {
		metrics_stream(&c, o, res, stream);
		goto out;
	}
	if (stream) {
		malformed(o, path, "a stream where one line was due");
		goto out;
	}
	mem = open_memstream(&text, &len);
	emem = open_memstream(&etext, &elen);
	if (!mem || !emem) {
		if (mem)
			fclose(mem);
		if (emem)
			fclose(emem);
		malformed(o, path, "out of memory");
		goto out;
	}
	if (req->cmd == CTL_STATUS)
		r = render_list(mem, o->pid, path, res, why);
	else if (req->cmd == CTL_RELOAD)
		r = render_reload(mem, emem, o->pid, res, &problems, why);
	else
		r = render_query(mem, o->pid, res, why);
	fclose(emem);
	if (emit(stdout, &text, &len, mem, r, why, o, path)) {
		if (arg.json)
			printf(", \"result\": %s", jtext(res, JSON_C_TO_STRING_PRETTY));
		else {
			fflush(stdout); /* the result line before the problems */
			fwrite(etext, 1, elen, stderr);
		}
		if (problems) {
			/* applied, with lists kept or serving nothing after an error */
			o->code = EXIT_FAILED;
			set_error(o, "reload applied with problems");
			o->printed = !arg.json;
		}
	}
	free(etext);
out:
	free(err);
	json_object_put(res);
	conn_close(&c);
	if (begun)
		json_copy_end(o);
	return true;
}

static int worst(int a, int b)
{
	static const int rank[] = {[EXIT_OK] = 0,	 [EXIT_FAILED] = 1, [EXIT_TIMEOUT] = 2,
				   [EXIT_NO_DAEMON] = 3, [EXIT_DENIED] = 4, [EXIT_USAGE] = 5};

	return rank[b] > rank[a] ? b : a;
}

/* After a copy: its error on stderr, or in the JSON document when nothing was written for it. */
static void report(const char *path, struct outcome *o, bool begun)
{
	fflush(stdout);
	if (o->code != EXIT_OK && arg.json && !begun) {
		json_copy_begin(path, o->pid);
		json_copy_end(o);
	} else if (o->code != EXIT_OK && !arg.json && !o->printed) {
		if (o->pid)
			fprintf(stderr, "pdynctl: pid %d: %s\n", o->pid,
				o->error ? o->error : "failed");
		else
			fprintf(stderr, "pdynctl: %s\n", o->error ? o->error : "failed");
	}
	o->error = mfree(o->error);
}

/* Runs a daemon command on every copy (or the one of --socket), printing as they answer. */
static int run_daemon(const struct ctl_request *req)
{
	_cleanup_free_ char *line = ctl_request_encode(req);
	glob_t g = {0};
	char *pattern = NULL;
	size_t live = 0;
	int code = EXIT_OK;

	if (!line) {
		fprintf(stderr, "pdynctl: out of memory\n");
		return EXIT_FAILED;
	}
	if (strlen(line) > CTL_MAX_LINE) {
		fprintf(stderr,
			"pdynctl: the request is longer than %d bytes: ask for fewer names\n",
			CTL_MAX_LINE);
		return EXIT_USAGE;
	}
	if (arg.socket) {
		struct outcome o;
		bool begun = ask_copy(arg.socket, line, req, &o);

		code = o.code;
		report(arg.socket, &o, begun && arg.json);
		if (arg.json)
			printf("\n]}\n");
		return code;
	}
	if (access(arg.dir, R_OK | X_OK) < 0 && (errno == EACCES || errno == EPERM)) {
		fprintf(
		    stderr,
		    "pdynctl: %s: permission denied (root, the daemon's user or the control group may use it)\n",
		    arg.dir);
		return EXIT_DENIED;
	}
	if (asprintf(&pattern, "%s/pdyndns.*.sock", arg.dir) < 0) {
		fprintf(stderr, "pdynctl: out of memory\n");
		return EXIT_FAILED;
	}
	glob(pattern, 0, NULL, &g);
	free(pattern);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *path = g.gl_pathv[i];
		struct outcome o;
		struct stat asked;
		/* (the socket asked: a copy that binds its socket again renames a new one over
		 * the name, which must not be taken for the dead one) */
		bool had = lstat(path, &asked) == 0, begun = ask_copy(path, line, req, &o);

		/* a socket nobody listens on is a copy that is gone (PowerDNS kills the copies it
		 * discards, after an AXFR for one, with SIGKILL): removed when we may, said only
		 * with --verbose; a socket gone meanwhile is a copy that just exited */
		if (!begun && (o.connect_errno == ECONNREFUSED || o.connect_errno == ENOENT)) {
			struct stat st;
			int r = 0;

			if (o.connect_errno == ECONNREFUSED && lstat(path, &st) == 0 &&
			    S_ISSOCK(st.st_mode) && had && st.st_dev == asked.st_dev &&
			    st.st_ino == asked.st_ino)
				r = unlink(path) < 0 ? errno : 0;
			if (arg.verbose)
				fprintf(stderr, "pdynctl: skipping %s%s%s\n",
					o.error ? o.error : path,
					o.connect_errno != ECONNREFUSED ? " (the copy exited)"
					: r				? "; cannot remove it: "
									: "; removed it",
					r ? strerror(r) : "");
			free(o.error);
			continue;
		}
		live++;
		code = worst(code, o.code);
		report(path, &o, begun && arg.json);
		fflush(stdout);
	}
	globfree(&g);
	if (!live) {
		if (arg.json)
			printf("{\"copies\": []}\n");
		fprintf(stderr, "pdynctl: no pdyndns is running (no live control socket in %s)\n",
			arg.dir);
		return EXIT_NO_DAEMON;
	}
	if (arg.json)
		printf("\n]}\n");
	return code;
}

static int cmd_status(char **argv)
{
	struct ctl_request req = {.cmd = CTL_STATUS};

	for (req.n_names = 0; argv[req.n_names]; req.n_names++)
		if (strlen(argv[req.n_names]) >= sizeof(req.name) || req.n_names >= CTL_MAX_NAMES) {
			fprintf(stderr, "pdynctl: %s\n",
				req.n_names >= CTL_MAX_NAMES ? "at most 1024 names"
							     : "name too long");
			return EXIT_USAGE;
		}
	req.names = req.n_names ? argv : NULL;
	return run_daemon(&req);
}

static int cmd_health(char **argv)
{
	struct ctl_request req = {.cmd = CTL_STATUS};

	if (argv[0] && !argv[1]) {
		fprintf(stderr, "pdynctl: health takes NAME and TYPE, or nothing\n");
		return EXIT_USAGE;
	}
	if (argv[0] && strlen(argv[0]) >= sizeof(req.name)) {
		fprintf(stderr, "pdynctl: name too long\n");
		return EXIT_USAGE;
	}
	if (argv[0] && strcasecmp(argv[1], "A") != 0 && strcasecmp(argv[1], "AAAA") != 0) {
		fprintf(stderr, "pdynctl: %s: only A and AAAA lists are checked\n", argv[1]);
		return EXIT_USAGE;
	}
	health.on = true;
	health.name = argv[0];
	health.type = argv[0] ? argv[1] : NULL;
	req.n_names = argv[0] ? 1 : 0;
	req.names = argv[0] ? argv : NULL;
	return run_daemon(&req);
}

static int cmd_metrics(char **argv)
{
	int code;

	expo = promtext_new();
	if (!expo || expo_declare(expo) < 0) {
		fprintf(stderr, "pdynctl: out of memory\n");
		promtext_free(expo);
		return EXIT_FAILED;
	}
	code = run_daemon(&(struct ctl_request){.cmd = CTL_METRICS});
	/* what the copies that answered counted, also when one of them failed (the exit status
	 * says so) */
	if (!arg.json && promtext_write(expo, stdout) < 0)
		code = worst(code, EXIT_FAILED);
	expo = promtext_free(expo);
	return code;
}

static int cmd_list(char **argv)
{
	return run_daemon(&(struct ctl_request){.cmd = CTL_STATUS, .summary = true});
}
static int cmd_reload(char **argv)
{
	return run_daemon(&(struct ctl_request){.cmd = CTL_RELOAD});
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
	return run_daemon(&req);
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
		json_object_object_add(doc, "problem_count",
				       json_object_new_int64((int64_t)d.n_errors));
		json_object_object_add(doc, "warnings", warns);
		puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(doc);
		diag_clear(&d);
		return r < 0 ? EXIT_FAILED : EXIT_OK;
	}
	return check_config_print(argv[0], stdout, stderr);
}

static int cmd_completion(char **argv);

static const struct command commands[] = {
    {"status", "[NAME...]",
     "state of every copy: reloads, rotation of every handler (or NAME's only)", 0, CTL_MAX_NAMES,
     true, false, cmd_status},
    {"reload", "", "reload every copy now; wait until each applied or refused", 0, 0, true, true,
     cmd_reload},
    {"query", "NAME TYPE", "what each copy would answer, without moving the rotation (--client IP)",
     2, 2, true, false, cmd_query},
    {"health", "[NAME TYPE]",
     "the health checks of every checked list (or NAME TYPE's): each address, and who probes", 0, 2,
     true, false, cmd_health},
    {"list", "", "the running copies found", 0, 0, true, false, cmd_list},
    {"metrics", "", "the counters of every copy, summed, in the Prometheus text format", 0, 0, true,
     false, cmd_metrics},
    {"check", "FILE", "validate a config and its address files offline (as pdyndns --check)", 1, 1,
     false, false, cmd_check},
    {"completion", "", "print a bash completion script", 0, 0, false, false, cmd_completion},
};

static const struct option options[] = {
    {"dir", required_argument, NULL, 'd'},
    {"socket", required_argument, NULL, 's'},
    {"json", no_argument, NULL, 'j'},
    {"verbose", no_argument, NULL, 'v'},
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
	fprintf(
	    f,
	    "Usage: pdynctl [--dir DIR | --socket PATH] [--json] [--verbose] [--timeout SEC] COMMAND [ARGS]\n\nCommands:\n");
	for (size_t i = 0; i < ELEMENTSOF(commands); i++) {
		char head[32];

		snprintf(head, sizeof(head), "%s %s", commands[i].name, commands[i].args);
		fprintf(f, "  %-18s %s%s\n", head, commands[i].help,
			commands[i].mutating ? " (root or the daemon's user only)" : "");
	}
	fprintf(f,
		"\nOptions:\n"
		"  --dir DIR       find copies in DIR (default %s)\n"
		"  --socket PATH   talk to one copy only\n"
		"  --json          print one JSON document\n"
		"  --verbose       also say which sockets were skipped (of copies that are gone)\n"
		"  --client IP     query: the client address to answer for\n"
		"  --timeout SEC   give up on a copy silent for SEC seconds (default 10)\n"
		"\nExit status: 0 ok, 1 refused or failed, 2 usage, 3 no daemon running,\n"
		"4 permission denied, 5 timeout.\n",
		CTL_DEFAULT_DIR);
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
			arg.copies_option = true;
			break;
		case 's':
			arg.socket = optarg;
			arg.copies_option = true;
			break;
		case 'j': arg.json = true; break;
		case 'v': arg.verbose = true; break;
		case 'c':
			arg.client = optarg;
			arg.copies_option = true;
			break;
		case 't': {
			char *end;
			double s = strtod(optarg, &end);

			/* NaN fails every comparison: it is refused by the first one */
			if (end == optarg || *end || !(s > 0 && s <= 3600)) {
				fprintf(
				    stderr,
				    "pdynctl: --timeout takes seconds, more than 0 and at most 3600, not \"%s\"\n",
				    optarg);
				return EXIT_USAGE;
			}
			arg.timeout_ms = s * 1000 < 1 ? 1 : (int)(s * 1000);
			arg.copies_option = true;
			break;
		}
		case 'V': printf("pdynctl %s\n", PACKAGE_VERSION); return EXIT_OK;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	const struct command *cmd = NULL;
	int r, nargs;

	/* options before the command ("+": stop at the first non-option) */
	r = parse_options(argc, argv, "+d:s:jvc:t:Vh");
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
	r = parse_options(argc, argv, "d:s:jvc:t:Vh");
	if (r >= 0)
		return r;
	nargs = argc - optind;
	if (!cmd->needs_daemon && arg.copies_option) {
		fprintf(
		    stderr,
		    "pdynctl: %s asks no running copy: --dir, --socket, --client and --timeout do "
		    "not apply\n",
		    cmd->name);
		return EXIT_USAGE;
	}
	if (nargs < cmd->min_args || nargs > cmd->max_args) {
		fprintf(stderr, "pdynctl: %s takes %s%s\n", cmd->name,
			*cmd->args ? cmd->args : "no arguments",
			nargs > cmd->max_args ? " (too many arguments)" : "");
		return EXIT_USAGE;
	}
	return cmd->run(argv + optind);
}
