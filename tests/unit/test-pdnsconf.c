/* SPDX-License-Identifier: MIT */
/* PowerDNS's config as pdns_server reads it (comments, blanks, "+=", line continuations,
 * include-dir in name order overriding the main file), and each check of
 * pdyndns --check --pdns-config, once failing and once passing. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "check.h"
#include "config.h"
#include "pdnsconf.h"

static char dir[PATH_MAX];
static char lookup_cfg[PATH_MAX + 32], question_cfg[PATH_MAX + 32];

#define ZONES_JSON                                                                                      \
	"\"soa\": \"ns1.example.test. h.example.test. 1 7200 3600 7200 120\", "                         \
	"\"nameservers\": [\"ns1.example.test\"], \"ttl\": 60, "                                        \
	"\"zones\": [{\"domain\": \"2.0.192.in-addr.arpa\", "                                           \
	"\"soa\": \"ns1.example.test. h.example.test. 1 7200 3600 7200 120\", "                         \
	"\"nameservers\": [\"ns1.example.test\"]}], "                                                   \
	"\"handlers\": [{\"qname\": \"www.dyn.example.test\", \"kind\": \"static\", \"qtype\": \"A\", " \
	"\"content\": [\"198.51.100.1\"]}, "                                                            \
	"{\"qname\": \"deep.probe.dyn.example.test\", \"kind\": \"static\", \"qtype\": \"TXT\", "       \
	"\"content\": [\"x\"]}]}\n"

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	char tmpl[] = "/tmp/test-pdnsconf.XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	snprintf(dir, sizeof(dir), "%s", tmpl);
	snprintf(lookup_cfg, sizeof(lookup_cfg), "%s/lookup.json", dir);
	snprintf(question_cfg, sizeof(question_cfg), "%s/question.json", dir);
	write_file(lookup_cfg,
		   "{\"domain\": \"dyn.example.test\", \"advance\": \"per-lookup\", " ZONES_JSON);
	write_file(question_cfg, "{\"domain\": \"dyn.example.test\", " ZONES_JSON);
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* dir/NAME, written with text (printf-style) */
_printf_(2, 3) static char *file(const char *name, const char *fmt, ...)
{
	static char paths[8][PATH_MAX + 64];
	static unsigned next;
	char *path = paths[next++ % 8], *text;
	va_list ap;

	snprintf(path, sizeof(paths[0]), "%s/%s", dir, name);
	va_start(ap, fmt);
	assert_int_not_equal(vasprintf(&text, fmt, ap), -1);
	va_end(ap);
	write_file(path, text);
	free(text);
	return path;
}

static struct pdnsconf *load(const char *path)
{
	struct pdnsconf *pc = NULL;
	struct diag d;

	diag_init(&d);
	assert_int_equal(pdnsconf_load(path, &d, &pc), 0);
	assert_int_equal(d.n_errors, 0);
	diag_clear(&d);
	return pc;
}

static const char *value(const struct pdnsconf *pc, const char *key)
{
	const struct pdnsconf_setting *s = pdnsconf_get(pc, key);

	return s ? s->value : NULL;
}

static void test_parse(void **state)
{
	struct pdnsconf *pc;
	const struct pdnsconf_setting *s;

	pc = load(file("p.conf", "# a comment\n"
				 "   # an indented comment\n"
				 "\n"
				 "launch=pipe # after a blank: a comment\n"
				 "pipe-regex=a#b\n"
				 "  cache-ttl  =   0  \r\n"
				 "\tquery-cache-ttl\t=\t20\t\n"
				 "negquery-cache-ttl=10\n"
				 "negquery-cache-ttl=5\n"
				 "launch+=remote\n"
				 "pipe-command=/usr/bin/a \\\n"
				 "--config /x.json\n"
				 "daemon\n"
				 "no-such-setting-at-all=whatever\n"
				 "=novalue\n"
				 "local-port=5300"));
	assert_string_equal(value(pc, "launch"), "pipe, remote");
	assert_string_equal(value(pc, "pipe-regex"), "a#b");
	assert_string_equal(value(pc, "cache-ttl"), "0");
	assert_string_equal(value(pc, "query-cache-ttl"), "20");
	assert_string_equal(value(pc, "negquery-cache-ttl"), "5"); /* the last wins */
	s = pdnsconf_get(pc, "negquery-cache-ttl");
	assert_int_equal(s->line, 9);
	s = pdnsconf_get(pc, "pipe-command");
	assert_string_equal(s->value, "/usr/bin/a --config /x.json");
	assert_int_equal(s->line, 11);
	assert_string_equal(value(pc, "daemon"), "");
	assert_string_equal(value(pc, "no-such-setting-at-all"), "whatever");
	assert_string_equal(value(pc, "local-port"), "5300"); /* no final newline */
	assert_null(pdnsconf_get(pc, "include-dir"));
	pdnsconf_free(pc);
	assert_null(pdnsconf_free(NULL));
}

static void test_include_dir(void **state)
{
	char inc[PATH_MAX + 16];
	const struct pdnsconf_setting *s;
	struct pdnsconf *pc;

	snprintf(inc, sizeof(inc), "%s/pdns.d", dir);
	assert_int_equal(mkdir(inc, 0755), 0);
	file("pdns.d/B.conf", "cache-ttl=2\nlaunch+=pipe\n");
	file("pdns.d/a.conf", "cache-ttl=1\nquery-cache-ttl=1\ninclude-dir=/nonexistent\n");
	file("pdns.d/c.conf.bak", "bak-key=1\n");
	file("pdns.d/.hidden.conf", "hidden-key=1\n");
	pc = load(file(
	    "main.conf",
	    "include-dir=%s/\nlaunch=\ncache-ttl=0\nquery-cache-ttl=0\nzone-cache-refresh-interval=0\n",
	    inc));
	/* a.conf, then B.conf (case-insensitive order); later files override the main file;
	 * only *.conf files, not hidden ones */
	s = pdnsconf_get(pc, "cache-ttl");
	assert_string_equal(s->value, "2");
	assert_non_null(strstr(s->file, "/pdns.d/B.conf"));
	assert_null(pdnsconf_get(pc, "bak-key"));
	assert_null(pdnsconf_get(pc, "hidden-key"));
	assert_int_equal(s->line, 1);
	assert_string_equal(value(pc, "query-cache-ttl"), "1");
	assert_string_equal(value(pc, "zone-cache-refresh-interval"), "0");
	/* launch= in the main file lets a pdns.d file add with += */
	assert_string_equal(value(pc, "launch"), "pipe");
	pdnsconf_free(pc);

	/* an include-dir that cannot be read, a main file that cannot: errors */
	{
		struct diag d;

		diag_init(&d);
		pc = NULL;
		assert_int_equal(
		    pdnsconf_load(file("bad.conf", "include-dir=%s/none\n", dir), &d, &pc),
		    -EINVAL);
		assert_null(pc);
		assert_int_equal(d.n_errors, 1);
		assert_non_null(strstr(d.msgs[0], "bad.conf:1: error: include-dir="));
		diag_clear(&d);
		assert_int_equal(pdnsconf_load("/nonexistent/pdns.conf", &d, &pc), -EINVAL);
		assert_non_null(strstr(d.msgs[0], "/nonexistent/pdns.conf: error: cannot read"));
		diag_clear(&d);
		/* launch+= with nothing before: pdns refuses it; the rest is still read */
		assert_int_equal(
		    pdnsconf_load(file("inc.conf", "launch+=pipe\ncache-ttl=0\n"), &d, &pc), 0);
		assert_int_equal(d.n_errors, 1);
		assert_non_null(
		    strstr(d.msgs[0], "inc.conf:1: error: launch+= without an earlier launch="));
		assert_string_equal(value(pc, "cache-ttl"), "0");
		pdnsconf_free(pc);
		diag_clear(&d);
	}
}

/* The settings that go with "advance": "per-lookup" and the config at lookup_cfg. */
#define GOOD_LOOKUP                                                                                \
	"launch=pipe\n"                                                                            \
	"pipe-command=/bin/sh --config %s\n"                                                       \
	"pipe-abi-version=5\n"                                                                     \
	"zone-cache-refresh-interval=0\n"                                                          \
	"consistent-backends=no\n"                                                                 \
	"cache-ttl=0\n"                                                                            \
	"query-cache-ttl=20\n"                                                                     \
	"negquery-cache-ttl=10\n"

#define GOOD_QUESTION                                                                              \
	"launch=pipe\n"                                                                            \
	"pipe-command=/bin/sh --config %s\n"                                                       \
	"zone-cache-refresh-interval=0\n"                                                          \
	"cache-ttl=0\n"                                                                            \
	"query-cache-ttl=0\n"                                                                      \
	"negquery-cache-ttl=0\n"

struct result {
	int r;
	char *errors, *warnings; /* joined with '|' */
	size_t n_errors, n_warnings;
};

static void result_free(struct result *res)
{
	free(res->errors);
	free(res->warnings);
}

/* The PowerDNS version check() passes (none while source is NULL). */
static struct pdnsconf_version check_version;

/* Checks pdns text (with every %s replaced by the config path) against the config. */
static struct result check(const char *cfg, double load_ms, const char *text)
{
	struct result res = {0};
	struct config *c = NULL;
	struct pdnsconf *pc;
	struct diag d, w;
	char *t = NULL;

	/* every "%s" in text stands for the config's path */
	t = calloc(1, strlen(text) * (strlen(cfg) + 1) + 1);
	assert_non_null(t);
	for (const char *p = text; *p; p++) {
		if (p[0] == '%' && p[1] == 's') {
			strcat(t, cfg);
			p++;
		} else
			strncat(t, p, 1);
	}
	pc = load(file("check.conf", "%s", t));
	free(t);
	diag_init(&d);
	diag_init(&w);
	assert_int_equal(config_load(cfg, &d, &c), 0);
	res.r = pdnsconf_check(pc, c, cfg, load_ms, check_version.source ? &check_version : NULL,
			       &d, &w);
	res.errors = diag_join(&d, "|");
	res.warnings = diag_join(&w, "|");
	res.n_errors = d.n_errors;
	res.n_warnings = w.n_errors;
	diag_clear(&d);
	diag_clear(&w);
	config_free(c);
	pdnsconf_free(pc);
	return res;
}

/* One error, whose text has want in it; no warning. */
static void expect_error(const char *cfg, double load_ms, const char *text, const char *want)
{
	struct result res = check(cfg, load_ms, text);

	if (res.n_errors != 1 || !strstr(res.errors, want) || res.n_warnings)
		fail_msg("wanted one error with \"%s\"; got %zu: %s; warnings: %s", want,
			 res.n_errors, res.errors, res.warnings);
	assert_int_equal(res.r, -EINVAL);
	result_free(&res);
}

static void expect_clean(const char *cfg, double load_ms, const char *text)
{
	struct result res = check(cfg, load_ms, text);

	if (res.n_errors || res.n_warnings)
		fail_msg("wanted nothing; got errors: %s; warnings: %s", res.errors, res.warnings);
	assert_int_equal(res.r, 0);
	result_free(&res);
}

static void test_consistent(void **state)
{
	expect_clean(lookup_cfg, 1, GOOD_LOOKUP);
	expect_clean(question_cfg, 1, GOOD_QUESTION);
	/* settings pdyndns does not know are left alone */
	expect_clean(question_cfg, 1, GOOD_QUESTION "gmysql-host=db\nsome-future-setting=1\n");
}

static void test_zone_cache(void **state)
{
	expect_error(
	    question_cfg, 1,
	    "launch=pipe\npipe-command=/bin/sh --config %s\ncache-ttl=0\nquery-cache-ttl=0\nnegquery-cache-ttl=0\n",
	    "check.conf: error: zone-cache-refresh-interval is not set (default 300): PowerDNS cannot "
	    "list a pipe backend's zones and exits at start; add zone-cache-refresh-interval=0");
	expect_error(question_cfg, 1, GOOD_QUESTION "zone-cache-refresh-interval=300\n",
		     "check.conf:7: error: zone-cache-refresh-interval=300: ");
	expect_error(question_cfg, 1, GOOD_QUESTION "zone-cache-refresh-interval=soon\n",
		     "check.conf:7: error: zone-cache-refresh-interval=soon is not a number");
}

static void test_packet_cache(void **state)
{
	expect_error(
	    question_cfg, 1,
	    "launch=pipe\npipe-command=/bin/sh --config %s\nzone-cache-refresh-interval=0\nquery-cache-ttl=0\n"
	    "negquery-cache-ttl=0\n",
	    "check.conf: error: cache-ttl is not set (default 20): the packet cache answers a repeated "
	    "question without asking pdyndns and the rotation freezes; add cache-ttl=0");
	expect_error(lookup_cfg, 1, GOOD_LOOKUP "cache-ttl=20\n",
		     "check.conf:9: error: cache-ttl=20: ");
}

static void test_per_question_caches(void **state)
{
	struct result res;

	/* the shipped cache lines with a per-question config */
	expect_error(question_cfg, 1, GOOD_QUESTION "query-cache-ttl=20\n",
		     "check.conf:7: error: query-cache-ttl=20 with \"advance\": \"per-question\"");
	expect_error(
	    question_cfg, 1, GOOD_QUESTION "negquery-cache-ttl=10\n",
	    "check.conf:7: error: negquery-cache-ttl=10 with \"advance\": \"per-question\"");
	/* neither set: both defaults are on */
	res = check(
	    question_cfg, 1,
	    "launch=pipe\npipe-command=/bin/sh --config %s\nzone-cache-refresh-interval=0\ncache-ttl=0\n");
	assert_int_equal(res.n_errors, 2);
	assert_non_null(strstr(res.errors, "query-cache-ttl is not set (default 20)"));
	assert_non_null(strstr(res.errors, "negquery-cache-ttl is not set (default 60)"));
	result_free(&res);
}

static void test_per_lookup(void **state)
{
	expect_error(lookup_cfg, 1, GOOD_LOOKUP "pipe-abi-version=2\n",
		     "check.conf:9: error: pipe-abi-version=2 with \"advance\": \"per-lookup\"");
	/* ABI 2 with the query cache off is fine */
	expect_clean(lookup_cfg, 1, GOOD_LOOKUP "pipe-abi-version=2\nquery-cache-ttl=0\n");
	expect_clean(lookup_cfg, 1, GOOD_LOOKUP "pipe-abi-version=3\n");
	expect_error(
	    lookup_cfg, 1, GOOD_LOOKUP "consistent-backends=yes\n",
	    "check.conf:9: error: consistent-backends=yes with \"advance\": \"per-lookup\"");
	expect_error(
	    lookup_cfg, 1,
	    "launch=pipe\npipe-command=/bin/sh --config %s\npipe-abi-version=5\nzone-cache-refresh-interval=0\n"
	    "cache-ttl=0\n",
	    "check.conf: error: consistent-backends is not set (default yes) with \"advance\": \"per-lookup\"");
	expect_clean(lookup_cfg, 1, GOOD_LOOKUP "consistent-backends=false\n");
}

/* Nothing but one warning, whose text has want in it. */
static void expect_warning(const char *cfg, double load_ms, const char *text, const char *want)
{
	struct result res = check(cfg, load_ms, text);

	if (res.n_errors || res.n_warnings != 1 || !strstr(res.warnings, want))
		fail_msg("wanted one warning with \"%s\"; got %zu: %s; errors: %s", want,
			 res.n_warnings, res.warnings, res.errors);
	assert_int_equal(res.r, 0);
	result_free(&res);
}

static void test_command(void **state)
{
	char text[4 * PATH_MAX];

	expect_error(question_cfg, 1, GOOD_QUESTION "pipe-command=sh --config %s\n",
		     "check.conf:7: error: pipe-command runs \"sh\", not an absolute path");
	expect_error(question_cfg, 1, GOOD_QUESTION "pipe-command=/bin/sh  --config %s\n",
		     "check.conf:7: error: pipe-command has two spaces in a row");
	snprintf(text, sizeof(text), "%s/pdyndns", dir);
	assert_int_equal(symlink("/bin/sh", text), 0);
	snprintf(text, sizeof(text), GOOD_QUESTION "pipe-command=%s/pdyndns\n", "%s", dir);
	expect_error(question_cfg, 1, text,
		     "check.conf:7: error: pipe-command gives pdyndns no --config");
	/* a wrapper script: its config cannot be seen */
	expect_warning(
	    question_cfg, 1, GOOD_QUESTION "pipe-command=/bin/sh\n",
	    "check.conf:7: warning: pipe-command runs /bin/sh, not pdyndns, with no --config");
	expect_error(
	    question_cfg, 1, GOOD_QUESTION "pipe-command=/bin/sh --config question.json\n",
	    "check.conf:7: error: pipe-command passes --config question.json, a relative path");
	expect_error(question_cfg, 1,
		     GOOD_QUESTION "pipe-command=/bin/sh --config %s --control-dir run\n",
		     "check.conf:7: error: pipe-command passes --control-dir run, a relative path");
	/* another config (one that exists, and one that does not) */
	snprintf(text, sizeof(text), GOOD_QUESTION "pipe-command=/bin/sh --config %s\n", "%s",
		 lookup_cfg);
	expect_error(question_cfg, 1, text, "check.conf:7: error: pipe-command names the config ");
	expect_error(question_cfg, 1,
		     GOOD_QUESTION "pipe-command=/bin/sh --config /etc/nowhere/config.json\n",
		     "names the config /etc/nowhere/config.json (which does not exist here), not ");
	/* the same config, spelled otherwise */
	snprintf(text, sizeof(text),
		 GOOD_QUESTION "pipe-command=/bin/sh --config=%s/./question.json\n", "%s", dir);
	expect_clean(question_cfg, 1, text);
	snprintf(text, sizeof(text),
		 GOOD_QUESTION "pipe-command=/bin/sh -c %s/../%s/question.json\n", "%s", dir,
		 strrchr(dir, '/') + 1);
	expect_clean(question_cfg, 1, text);
	/* socket mode: pdns connects to pdyndns --listen PATH; no config, no timeout */
	expect_clean(question_cfg, 1e6, GOOD_QUESTION "pipe-command=/run/pdyndns/pipe.sock\n");
	/* a program that is not there (yet): said, but not an error */
	expect_warning(
	    question_cfg, 1, GOOD_QUESTION "pipe-command=/nonexistent/pdyndns --config %s\n",
	    "check.conf:7: warning: pipe-command runs /nonexistent/pdyndns, which is not executable here");
	expect_error(
	    question_cfg, 1,
	    "launch=pipe\nzone-cache-refresh-interval=0\ncache-ttl=0\nquery-cache-ttl=0\nnegquery-cache-ttl=0\n",
	    "check.conf: error: pipe-command is not set");
}

static void test_regex(void **state)
{
	struct result res;

	/* only www: the apexes (the reverse one too) and the other handler are shut out */
	res = check(question_cfg, 1, GOOD_QUESTION "pipe-regex=^www\\.dyn\\.example\\.test$\n");
	assert_int_equal(res.r, -EINVAL);
	assert_int_equal(res.n_errors, 3);
	assert_non_null(strstr(
	    res.errors, "check.conf:7: error: pipe-regex=^www\\.dyn\\.example\\.test$ shuts out "
			"dyn.example.test (a zone apex in "));
	assert_non_null(strstr(res.errors, "shuts out 2.0.192.in-addr.arpa (a zone apex in "));
	assert_non_null(
	    strstr(res.errors, "shuts out deep.probe.dyn.example.test (a handler's name in "));
	assert_non_null(strstr(
	    res.errors,
	    "widen it, e.g. pipe-regex=(^|\\.)(dyn\\.example\\.test|2\\.0\\.192\\.in-addr\\.arpa)$ "));
	result_free(&res);
	/* the suggestion lets everything through */
	expect_clean(question_cfg, 1,
		     GOOD_QUESTION
		     "pipe-regex=(^|\\.)(dyn\\.example\\.test|2\\.0\\.192\\.in-addr\\.arpa)$\n");
	/* the forward zone only: the reverse zone is shut out */
	expect_error(question_cfg, 1, GOOD_QUESTION "pipe-regex=(^|\\.)dyn\\.example\\.test$\n",
		     "shuts out 2.0.192.in-addr.arpa (a zone apex in ");
	/* case-insensitive, as pdns compiles it; matched without the trailing dot */
	expect_clean(question_cfg, 1,
		     GOOD_QUESTION "pipe-regex=(^|\\.)(DYN\\.EXAMPLE\\.TEST|IN-ADDR\\.ARPA)$\n");
	expect_error(question_cfg, 1, GOOD_QUESTION "pipe-regex=(dyn\n",
		     "check.conf:7: error: pipe-regex=(dyn does not compile (");
	/* extended syntax: "+" and "|" are operators */
	expect_clean(question_cfg, 1,
		     GOOD_QUESTION
		     "pipe-regex=^([a-z.]+\\.)?(dyn\\.example\\.test|[0-9.]+in-addr\\.arpa)$\n");
}

static void test_timeout(void **state)
{
	expect_clean(question_cfg, 900, GOOD_QUESTION);
	expect_warning(question_cfg, 1500, GOOD_QUESTION, "check.conf: warning: loading ");
	expect_warning(question_cfg, 1500, GOOD_QUESTION,
		       " took 1500 ms, more than half of pipe-timeout=2000");
	expect_error(question_cfg, 2500, GOOD_QUESTION "pipe-timeout=2000\n",
		     "check.conf:7: error: loading ");
	expect_error(question_cfg, 2500, GOOD_QUESTION "pipe-timeout=2000\n",
		     " took 2500 ms, more than pipe-timeout=2000: ");
	expect_clean(question_cfg, 2500, GOOD_QUESTION "pipe-timeout=10000\n");
	expect_clean(question_cfg, 1e6, GOOD_QUESTION "pipe-timeout=0\n"); /* pdns waits for ever */
	expect_clean(question_cfg, -1, GOOD_QUESTION);			   /* not measured */
}

/* "empty_non_terminals" against the PowerDNS version: a warning when they disagree. */
static void test_ent_version(void **state)
{
	char ent_cfg[PATH_MAX + 64], shallow_cfg[PATH_MAX + 64];

	snprintf(
	    ent_cfg, sizeof(ent_cfg), "%s",
	    file("ent.json", "%s",
		 "{\"domain\": \"dyn.example.test\", \"empty_non_terminals\": true, " ZONES_JSON));
	snprintf(
	    shallow_cfg, sizeof(shallow_cfg), "%s",
	    file(
		"shallow.json", "%s",
		"{\"domain\": \"dyn.example.test\", \"soa\": \"a. b. 1 2 3 4 5\", \"nameservers\": [\"a.test\"], "
		"\"ttl\": 1, \"handlers\": [{\"qname\": \"www.dyn.example.test\", \"kind\": \"static\", "
		"\"qtype\": \"TXT\", \"content\": [\"x\"]}]}"));
	expect_clean(ent_cfg, 1, GOOD_QUESTION); /* no version looked at */

	check_version =
	    (struct pdnsconf_version){.text = "4.9.18", .source = "the package pdns-server"};
	expect_warning(
	    ent_cfg, 1, GOOD_QUESTION,
	    "ent.json: warning: empty_non_terminals is true, but PowerDNS here is 4.9.18 (the package "
	    "pdns-server), which refuses the ENT records it needs (5.1 or later)");
	expect_clean(question_cfg, 1, GOOD_QUESTION);

	check_version =
	    (struct pdnsconf_version){.text = "5.1.5", .source = "the package pdns-server"};
	expect_clean(ent_cfg, 1, GOOD_QUESTION);
	expect_warning(
	    question_cfg, 1, GOOD_QUESTION,
	    "question.json: warning: PowerDNS here is 5.1.5 (the package pdns-server), which takes empty "
	    "non-terminals, but empty_non_terminals is not set: probe.dyn.example.test and names like it");
	expect_clean(shallow_cfg, 1, GOOD_QUESTION); /* no name exists only through one below it */
	check_version = (struct pdnsconf_version){.text = "10.0", .source = "s"};
	expect_clean(ent_cfg, 1, GOOD_QUESTION);
	check_version = (struct pdnsconf_version){.text = "5.0.9", .source = "s"};
	expect_warning(ent_cfg, 1, GOOD_QUESTION, "PowerDNS here is 5.0.9 (s)");

	check_version = (struct pdnsconf_version){.text = "", .source = "no dpkg status file"};
	expect_warning(
	    ent_cfg, 1, GOOD_QUESTION,
	    "ent.json: warning: empty_non_terminals is true, which needs PowerDNS 5.1 or later, and which "
	    "PowerDNS runs cannot be told here (no dpkg status file)");
	expect_clean(question_cfg, 1, GOOD_QUESTION);
	check_version = (struct pdnsconf_version){0};
}

/* The version of pdns-server from a dpkg status file: installed only, without epoch and
 * Debian revision. */
static void test_installed_version(void **state)
{
	struct pdnsconf_version v;

	pdnsconf_installed_version(
	    file("status1", "%s",
		 "Package: pdns-backend-pipe\nStatus: install ok installed\nVersion: 9.9.9-1\n\n"
		 "Package: pdns-server\nStatus: install ok installed\nPriority: optional\n"
		 "Version: 4.7.3-2\nDescription: x\n\nPackage: z\nVersion: 1\n"),
	    &v);
	assert_string_equal(v.text, "4.7.3");
	assert_string_equal(v.source, "the package pdns-server");
	pdnsconf_installed_version(
	    file("status2", "%s",
		 "Package: pdns-server\nStatus: install ok installed\nVersion: 1:5.1.5-1+b1\n"),
	    &v);
	assert_string_equal(v.text, "5.1.5");
	pdnsconf_installed_version(
	    file("status3", "%s",
		 "Package: pdns-server\nStatus: deinstall ok config-files\nVersion: 4.7.3-2\n"),
	    &v);
	assert_string_equal(v.text, "");
	assert_string_equal(v.source, "the package pdns-server is not installed here");
	pdnsconf_installed_version(
	    file("status4", "%s",
		 "Package: pdns-recursor\nStatus: install ok installed\nVersion: 5.1.5-1\n"),
	    &v);
	assert_string_equal(v.text, "");
	pdnsconf_installed_version(file("nothing", "%s", "") /* empty */, &v);
	assert_string_equal(v.text, "");
	pdnsconf_installed_version("/nonexistent/status", &v);
	assert_string_equal(v.text, "");
	assert_non_null(strstr(v.source, "no dpkg status file"));
}

static void test_launch(void **state)
{
	expect_error(
	    question_cfg, 1, GOOD_QUESTION "launch=bind\n",
	    "check.conf:7: error: launch=bind names no pipe backend: PowerDNS never asks pdyndns; set launch=pipe");
	expect_error(
	    question_cfg, 1,
	    "zone-cache-refresh-interval=0\ncache-ttl=0\nquery-cache-ttl=0\nnegquery-cache-ttl=0\n",
	    "check.conf: error: launch is not set: PowerDNS starts no backend; add launch=pipe");
	expect_error(question_cfg, 1, GOOD_QUESTION "launch=pipeline\n", "names no pipe backend");
	expect_clean(question_cfg, 1, GOOD_QUESTION "launch=bind,pipe\n");
	expect_clean(question_cfg, 1, GOOD_QUESTION "launch=bind pipe\n");
	/* a named instance reads pipe-NAME-* */
	expect_clean(
	    lookup_cfg, 1,
	    "launch=bind,pipe:two\npipe-two-command=/bin/sh --config %s\npipe-two-abi-version=5\n"
	    "zone-cache-refresh-interval=0\nconsistent-backends=no\ncache-ttl=0\n");
	expect_error(lookup_cfg, 1,
		     "launch=pipe:two\npipe-command=/bin/sh --config %s\npipe-two-abi-version=5\n"
		     "zone-cache-refresh-interval=0\nconsistent-backends=no\ncache-ttl=0\n",
		     "check.conf: error: pipe-two-command is not set");
	expect_error(
	    lookup_cfg, 1,
	    "launch=pipe:two\npipe-two-command=/bin/sh --config %s\npipe-abi-version=5\n"
	    "zone-cache-refresh-interval=0\nconsistent-backends=no\ncache-ttl=0\n",
	    "check.conf: error: pipe-two-abi-version is not set (default 1) with \"advance\": \"per-lookup\"");
}

/* The Python pdyndns read relative paths from its working directory: --check says where the
 * file is when it is there and not beside the config. */
static void test_migration(void **state)
{
	char old[PATH_MAX], mig[PATH_MAX + 16];
	char *summary = NULL;
	struct diag d, w;

	assert_non_null(getcwd(old, sizeof(old)));
	snprintf(mig, sizeof(mig), "%s/mig", dir);
	assert_int_equal(mkdir(mig, 0755), 0);
	file("mig/v4.txt", "192.0.2.1\n");
	assert_int_equal(mkdir(strcat(mig, "/sub"), 0755), 0);
	file(
	    "mig/sub/c.json",
	    "{\"domain\": \"dyn.example.test\", \"soa\": \"ns1.example.test. h.example.test. 1 2 3 4 5\", "
	    "\"nameservers\": [\"ns1.example.test\"], \"ttl\": 60, \"handlers\": "
	    "[{\"qname\": \"www.dyn.example.test\", \"qtype\": \"A\", \"file\": \"v4.txt\"}]}\n");
	mig[strlen(mig) - 4] = 0;
	assert_int_equal(chdir(mig), 0);
	diag_init(&d);
	diag_init(&w);
	assert_int_equal(check_config_file("sub/c.json", &d, &w, &summary), -EINVAL);
	assert_null(summary);
	assert_int_equal(w.n_errors, 1);
	assert_non_null(strstr(
	    w.msgs[0], "sub/c.json: warning: \"v4.txt\" (www.dyn.example.test A) is not in the "
		       "config's directory "));
	assert_non_null(strstr(w.msgs[0], "/mig/sub but is in the working directory "));
	diag_clear(&d);
	diag_clear(&w);
	/* beside the config as well: all is well, nothing said */
	file("mig/sub/v4.txt", "192.0.2.1\n");
	assert_int_equal(check_config_file("sub/c.json", &d, &w, &summary), 0);
	assert_int_equal(w.n_errors, 0);
	free(summary);
	diag_clear(&d);
	diag_clear(&w);
	/* missing beside the config and in the working directory: only the error */
	assert_int_equal(unlink(strcat(mig, "/sub/v4.txt")), 0);
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(check_config_file("mig/sub/c.json", &d, &w, &summary), -EINVAL);
	assert_int_equal(d.n_errors, 1);
	assert_non_null(strstr(d.msgs[0], "/mig/sub/v4.txt: error: cannot open"));
	assert_int_equal(w.n_errors, 0);
	diag_clear(&d);
	diag_clear(&w);
	assert_int_equal(chdir(old), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_include_dir),
	    cmocka_unit_test(test_consistent),
	    cmocka_unit_test(test_zone_cache),
	    cmocka_unit_test(test_packet_cache),
	    cmocka_unit_test(test_per_question_caches),
	    cmocka_unit_test(test_per_lookup),
	    cmocka_unit_test(test_command),
	    cmocka_unit_test(test_regex),
	    cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_launch),
	    cmocka_unit_test(test_ent_version),
	    cmocka_unit_test(test_installed_version),
	    cmocka_unit_test(test_migration),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
