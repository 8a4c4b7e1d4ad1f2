/* SPDX-License-Identifier: MIT */
/* The offline check of PowerDNS's settings against a pdyndns config (pdnsconf.h:
 * pdnsconf_check(), pdnsconf_installed_version()), on the settings that pdnsconf.c read. */
#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kind.h"
#include "pdnsconf.h"

/* PowerDNS 4.7's defaults for the settings checked here */
#define DEFAULT_ZONE_CACHE	   300
#define DEFAULT_CACHE_TTL	   20
#define DEFAULT_QUERY_CACHE_TTL	   20
#define DEFAULT_NEGQUERY_CACHE_TTL 60
#define DEFAULT_ABI		   1
#define DEFAULT_TIMEOUT		   2000

struct ctx {
	const struct pdnsconf *pc;
	const struct config *c;
	const char *config_path;
	struct diag *errors, *warnings;
};

/* Adds "FILE:LINE: LEVEL: " + message about setting s (or the main file when no file sets it). */
_printf_(4, 5) static void report(const struct ctx *x, bool error, const struct pdnsconf_setting *s,
				  const char *fmt, ...)
{
	_cleanup_free_ char *m = NULL;
	const char *file = s ? s->file : x->pc->path;
	size_t line = s ? s->line : 0;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&m, fmt, ap);
	va_end(ap);
	if (r < 0)
		m = NULL;
	if (line)
		diag_add_at(error ? x->errors : x->warnings, file, line, "%s:%zu: %s: %s", file,
			    line, error ? "error" : "warning", m ? m : "(out of memory)");
	else
		diag_add_at(error ? x->errors : x->warnings, file, 0, "%s: %s: %s", file,
			    error ? "error" : "warning", m ? m : "(out of memory)");
}

/* The numeric value of key, def when no file sets it; false (with an error) when it is not a
 * number. */
static bool number(const struct ctx *x, const char *key, long def, long *ret,
		   const struct pdnsconf_setting **sp)
{
	const struct pdnsconf_setting *s = pdnsconf_get(x->pc, key);
	char *end;
	long v;

	*sp = s;
	if (!s) {
		*ret = def;
		return true;
	}
	errno = 0;
	v = strtol(s->value, &end, 10);
	if (end == s->value || *end || errno) {
		report(x, true, s, "%s=%s is not a number", key, s->value);
		return false;
	}
	*ret = v;
	return true;
}

/* "key=value" as the file says, or "key is not set (default D)". */
static const char *shown(const struct pdnsconf_setting *s, const char *key, long def, char *buf,
			 size_t size)
{
	if (s)
		snprintf(buf, size, "%s=%s", key, s->value);
	else
		snprintf(buf, size, "%s is not set (default %ld)", key, def);
	return buf;
}

static void check_caches(const struct ctx *x)
{
	const struct pdnsconf_setting *s;
	char buf[256];
	long v;

	if (number(x, "zone-cache-refresh-interval", DEFAULT_ZONE_CACHE, &v, &s) && v != 0)
		report(
		    x, true, s,
		    "%s: PowerDNS cannot list a pipe backend's zones and exits at start; %s "
		    "zone-cache-refresh-interval=0",
		    shown(s, "zone-cache-refresh-interval", DEFAULT_ZONE_CACHE, buf, sizeof(buf)),
		    s ? "set" : "add");
	if (number(x, "cache-ttl", DEFAULT_CACHE_TTL, &v, &s) && v != 0)
		report(
		    x, true, s,
		    "%s: the packet cache answers a repeated question without asking pdyndns and the "
		    "rotation freezes; %s cache-ttl=0",
		    shown(s, "cache-ttl", DEFAULT_CACHE_TTL, buf, sizeof(buf)), s ? "set" : "add");
}

static bool is_no(const char *v)
{
	return strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0 ||
	       strcasecmp(v, "off") == 0 || strcmp(v, "0") == 0;
}

/* The caches against "advance", once for every pipe backend. */
static void check_advance(const struct ctx *x)
{
	const struct pdnsconf_setting *qs, *ns, *cb;
	char buf[256];
	long q, neg;

	if (!x->c)
		return;
	if (x->c->advance == CONFIG_ADVANCE_PER_LOOKUP) {
		cb = pdnsconf_get(x->pc, "consistent-backends");
		if (!cb || !is_no(cb->value)) {
			if (cb)
				snprintf(buf, sizeof(buf), "consistent-backends=%s", cb->value);
			report(
			    x, true, cb,
			    "%s with \"advance\": \"per-lookup\" (%s): PowerDNS looks a name up twice for one "
			    "question (referral probe and answer) and the rotation skips every other address; %s "
			    "consistent-backends=no",
			    cb ? buf : "consistent-backends is not set (default yes)",
			    x->config_path, cb ? "set" : "add");
		}
		return;
	}
	if (number(x, "query-cache-ttl", DEFAULT_QUERY_CACHE_TTL, &q, &qs) && q != 0)
		report(
		    x, true, qs,
		    "%s with \"advance\": \"per-question\" (%s): the SOA lookups that start a "
		    "question come from the query cache, pdyndns never sees a new question and the "
		    "rotation freezes; %s query-cache-ttl=0, or use \"advance\": \"per-lookup\" with "
		    "consistent-backends=no",
		    shown(qs, "query-cache-ttl", DEFAULT_QUERY_CACHE_TTL, buf, sizeof(buf)),
		    x->config_path, qs ? "set" : "add");
	if (number(x, "negquery-cache-ttl", DEFAULT_NEGQUERY_CACHE_TTL, &neg, &ns) && neg != 0)
		report(
		    x, true, ns,
		    "%s with \"advance\": \"per-question\" (%s): the empty SOA lookups come from the "
		    "negative cache, pdyndns never sees a new question and the rotation freezes; %s "
		    "negquery-cache-ttl=0, or use \"advance\": \"per-lookup\" with consistent-backends=no",
		    shown(ns, "negquery-cache-ttl", DEFAULT_NEGQUERY_CACHE_TTL, buf, sizeof(buf)),
		    x->config_path, ns ? "set" : "add");
}

/* "per-lookup" relies on ECS scope bits (ABI 3+) to keep addresses out of the query cache. */
static void check_abi(const struct ctx *x, const char *prefix)
{
	const struct pdnsconf_setting *as, *qs = pdnsconf_get(x->pc, "query-cache-ttl");
	char buf[256], key[160];
	long q = DEFAULT_QUERY_CACHE_TTL, abi;

	if (!x->c || x->c->advance != CONFIG_ADVANCE_PER_LOOKUP)
		return;
	if (qs) {
		char *end;

		q = strtol(qs->value, &end, 10);
		if (end == qs->value || *end)
			return; /* reported as not a number */
	}
	snprintf(key, sizeof(key), "%s-abi-version", prefix);
	if (!number(x, key, DEFAULT_ABI, &abi, &as))
		return;
	if (abi < 3 && q != 0)
		report(
		    x, true, as,
		    "%s with \"advance\": \"per-lookup\" (%s) and query-cache-ttl=%ld: ABI 1 and 2 carry no "
		    "ECS scope, so PowerDNS's query cache keeps the addresses and the rotation freezes; %s "
		    "%s=5 (3 or more), or query-cache-ttl=0",
		    shown(as, key, DEFAULT_ABI, buf, sizeof(buf)), x->config_path, q,
		    as ? "set" : "add", key);
}

/* Splits cmd on single spaces as pdns does (an empty word for two spaces in a row). */
static char **split_command(const char *cmd, size_t *n_ret)
{
	size_t n = 1;
	char **argv;

	for (const char *p = cmd; *p; p++)
		n += *p == ' ';
	argv = calloc(n + 1, sizeof(*argv));
	if (!argv)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *sp = strchr(cmd, ' ');
		size_t len = sp ? (size_t)(sp - cmd) : strlen(cmd);

		argv[i] = strndup(cmd, len);
		if (!argv[i]) {
			free_strings(argv, i);
			return NULL;
		}
		cmd += len + (sp ? 1 : 0);
	}
	*n_ret = n;
	return argv;
}

/* The value of option name (long "--name", its short letter or "--name=V") in argv. */
static const char *option(char **argv, size_t n, const char *name, char letter)
{
	size_t len = strlen(name);

	for (size_t i = 1; i < n; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0)
			break;
		if (a[0] == '-' && a[1] == '-' && strncmp(a + 2, name, len) == 0) {
			if (a[2 + len] == '=')
				return a + 3 + len;
			if (!a[2 + len])
				return i + 1 < n ? argv[i + 1] : "";
		}
		if (letter && a[0] == '-' && a[1] == letter)
			return a[2] ? a + 2 : i + 1 < n ? argv[i + 1] : "";
	}
	return NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Checks pipe-command; returns true when it runs pdyndns as a coprocess (pipe-timeout applies). */
static bool check_command(const struct ctx *x, const char *prefix)
{
	const struct pdnsconf_setting *s;
	char key[160], **argv;
	const char *cfg;
	struct stat st;
	bool coprocess = true;
	size_t n = 0;

	snprintf(key, sizeof(key), "%s-command", prefix);
	s = pdnsconf_get(x->pc, key);
	if (!s || !*s->value) {
		report(
		    x, true, s,
		    "%s is %s: PowerDNS has nothing to run; set %s=/usr/local/bin/pdyndns --config %s",
		    key, s ? "empty" : "not set", key, x->config_path);
		return false;
	}
	argv = split_command(s->value, &n);
	if (!argv) {
		report(x, true, s, "out of memory");
		return false;
	}
	if (strstr(s->value, "  "))
		report(
		    x, true, s,
		    "%s has two spaces in a row: PowerDNS splits it on single spaces, without a shell, and "
		    "passes an empty argument; separate the words of %s with one space",
		    key, key);
	if (n == 1 &&
	    (stat(argv[0], &st) == 0 ? S_ISSOCK(st.st_mode) : ends_with(argv[0], ".sock")))
		coprocess = false; /* socket mode: pdns connects to pdyndns --listen PATH */
	if (argv[0][0] != '/') {
		report(
		    x, true, s,
		    "%s runs \"%s\", not an absolute path: PowerDNS runs it without a shell or $PATH; write "
		    "the full path in %s (e.g. /usr/local/bin/pdyndns)",
		    key, argv[0], key);
	} else if (coprocess && access(argv[0], X_OK) < 0)
		report(x, false, s,
		       "%s runs %s, which is not executable here (%s): PowerDNS will not start it",
		       key, argv[0], strerror(errno));
	if (!coprocess)
		goto out;
	for (size_t i = 0; i < 2; i++) {
		static const char *const names[] = {"control-dir", "listen"};
		static const char letters[] = {'C', 'l'};
		const char *v = option(argv, n, names[i], letters[i]);

		if (v && *v && v[0] != '/')
			report(
			    x, true, s,
			    "%s passes --%s %s, a relative path: it is taken from pdns_server's working "
			    "directory; write it absolute in %s",
			    key, names[i], v, key);
	}
	cfg = option(argv, n, "config", 'c');
	if ((!cfg || !*cfg) &&
	    !strstr(strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0], "pdyndns"))
		/* a wrapper script, say: what it runs cannot be seen from here */
		report(
		    x, false, s,
		    "%s runs %s, not pdyndns, with no --config: whether it serves %s cannot be checked",
		    key, argv[0], x->config_path);
	else if (!cfg || !*cfg)
		report(x, true, s, "%s gives pdyndns no --config; add --config %s to %s", key,
		       x->config_path, key);
	else if (cfg[0] != '/')
		report(
		    x, true, s,
		    "%s passes --config %s, a relative path: it is taken from pdns_server's working "
		    "directory; write it absolute in %s",
		    key, cfg, key);
	else if (x->config_path) {
		char a[PATH_MAX], b[PATH_MAX];
		bool ra = realpath(cfg, a) != NULL, rb = realpath(x->config_path, b) != NULL;

		/* a checked config that is not there is reported as such; nothing to compare */
		if (rb && (!ra || strcmp(a, b) != 0))
			report(
			    x, true, s,
			    "%s names the config %s%s, not %s, the one checked: set --config %s in %s "
			    "(or check with --config %s)",
			    key, cfg, ra ? "" : " (which does not exist here)", x->config_path, b,
			    key, cfg);
	}
out:
	free_strings(argv, n);
	return coprocess;
}

/* A name as pdns passes it to the regex: presentation form, no trailing dot. */
static void regex_name(const char *name, char *buf, size_t size)
{
	size_t n = strlen(name);

	if (n > 1 && name[n - 1] == '.')
		n--;
	snprintf(buf, size, "%.*s", (int)n, name);
}

static void check_regex(const struct ctx *x, const char *prefix)
{
	const struct pdnsconf_setting *s;
	size_t refused = 0, shown_n = 0, len = 0;
	char key[160], err[256];
	_cleanup_free_ char *fix = NULL;
	regex_t re;
	int r;

	snprintf(key, sizeof(key), "%s-regex", prefix);
	s = pdnsconf_get(x->pc, key);
	if (!s || !*s->value)
		return;
	/* pdns's Regex (misc.hh): POSIX extended, case-insensitive, matched against the name
	 * without its trailing dot (4.x; 3.x matched "name;type") */
	r = regcomp(&re, s->value, REG_EXTENDED | REG_ICASE | REG_NOSUB);
	if (r != 0) {
		regerror(r, &re, err, sizeof(err));
		report(x, true, s,
		       "%s=%s does not compile (%s): PowerDNS cannot launch the backend; fix %s",
		       key, s->value, err, key);
		return;
	}
	if (!x->c) {
		regfree(&re);
		return;
	}
	/* the fix to suggest: every zone apex and the names below it */
	fix = malloc(64);
	if (fix) {
		len = (size_t)sprintf(fix, "(^|\\.)(");
		for (size_t i = 0; i < x->c->n_zones && fix; i++) {
			const char *dom = x->c->zones[i].domain;
			char *nf;

			if (!dom)
				continue;
			nf = realloc(fix, len + 2 * strlen(dom) + 8);
			if (!nf) {
				fix = mfree(fix);
				break;
			}
			fix = nf;
			if (fix[len - 1] != '(')
				fix[len++] = '|';
			for (const char *p = dom; *p; p++) {
				if (*p == '.' && !p[1])
					break;
				if (*p == '.')
					fix[len++] = '\\';
				fix[len++] = *p;
			}
			fix[len] = 0;
		}
		if (fix)
			strcpy(fix + len, ")$");
	}
	for (size_t i = 0; i < x->c->n_zones + x->c->n_handlers; i++) {
		bool zone = i < x->c->n_zones;
		const char *name;
		char buf[1024];

		if (zone)
			name = x->c->zones[i].domain;
		else {
			const struct config_handler *h = &x->c->handlers[i - x->c->n_zones];

			name = h->view ? NULL : h->qname;
		}
		if (!name)
			continue;
		regex_name(name, buf, sizeof(buf));
		if (regexec(&re, buf, 0, NULL, 0) == 0)
			continue;
		if (refused++ >= 10)
			continue;
		shown_n++;
		report(
		    x, true, s,
		    "%s=%s shuts out %s (%s in %s): PowerDNS refuses its questions without asking "
		    "pdyndns; widen %s%s%s%s or remove it",
		    key, s->value, buf, zone ? "a zone apex" : "a handler's name", x->config_path,
		    fix ? "it, e.g. " : key, fix ? key : "", fix ? "=" : "", fix ? fix : "");
	}
	if (refused > shown_n)
		report(x, true, s, "%s shuts out %zu more names of %s", key, refused - shown_n,
		       x->config_path);
	regfree(&re);
}

static void check_timeout(const struct ctx *x, const char *prefix, double load_ms)
{
	const struct pdnsconf_setting *s;
	char key[160];
	long t;

	snprintf(key, sizeof(key), "%s-timeout", prefix);
	if (load_ms < 0 || !number(x, key, DEFAULT_TIMEOUT, &t, &s) || t <= 0)
		return; /* 0: pdns waits for ever */
	if (load_ms > (double)t)
		report(
		    x, true, s,
		    "loading %s took %.0f ms, more than %s=%ld: pdyndns answers HELO only once it is loaded, "
		    "and PowerDNS gives up at start; %s %s=%.0f (twice the load)",
		    x->config_path, load_ms, key, t, s ? "set" : "add", key, 2 * load_ms + 1);
	else if (load_ms > (double)t / 2)
		report(
		    x, false, s,
		    "loading %s took %.0f ms, more than half of %s=%ld: a slower disk or a larger list makes "
		    "PowerDNS give up at start; %s %s=%.0f (twice the load)",
		    x->config_path, load_ms, key, t, s ? "set" : "add", key, 2 * load_ms + 1);
}

void pdnsconf_installed_version(const char *status, struct pdnsconf_version *v)
{
	_cleanup_free_ char *line = NULL;
	FILE *f;
	size_t size = 0;
	bool ours = false, installed = false;
	char version[sizeof(v->text)] = "";

	*v = (struct pdnsconf_version){.source = "the package pdns-server"};
	status = status ? status : "/var/lib/dpkg/status";
	f = fopen(status, "re");
	if (!f) {
		v->source = "no dpkg status file: not a Debian system, or not its package";
		return;
	}
	/* stanzas of "Field: value" lines, separated by empty lines */
	for (ssize_t n; (n = getline(&line, &size, f)) >= 0;) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		if (n == 0) {
			if (ours)
				break;
			continue;
		}
		if (strncmp(line, "Package: ", 9) == 0)
			ours = strcmp(line + 9, "pdns-server") == 0;
		else if (ours && strncmp(line, "Status: ", 8) == 0)
			installed = n > 18 && strcmp(line + n - 10, " installed") == 0;
		else if (ours && strncmp(line, "Version: ", 9) == 0) {
			const char *p =
			    strchr(line + 9, ':') ? strchr(line + 9, ':') + 1 : line + 9;

			snprintf(version, sizeof(version), "%.*s", (int)strcspn(p, "-~+"), p);
		}
	}
	fclose(f);
	if (!ours || !installed || !*version) {
		v->source = "the package pdns-server is not installed here";
		return;
	}
	memcpy(v->text, version, sizeof(v->text));
}

/* Whether version text ("5.1.5") is 5.1 or later. */
static bool reads_ent(const char *text)
{
	unsigned long major, minor = 0;
	char *end;

	major = strtoul(text, &end, 10);
	if (*end == '.')
		minor = strtoul(end + 1, NULL, 10);
	return major > 5 || (major == 5 && minor >= 1);
}

/* A name of c that exists only through a handler's name below it (NULL when none does): the
 * parent of the first handler at least two labels below its zone's apex. */
static const char *first_ent(const struct config *c)
{
	for (size_t i = 0; i < c->n_handlers; i++) {
		const struct config_handler *h = &c->handlers[i];

		if ((h->kind && h->kind->covers) ||
		    h->name.labels < c->zones[h->zone].apex.labels + 2)
			continue;
		return strchr(h->qname, '.') + 1;
	}
	return NULL;
}

static void check_ent(const struct ctx *x, const struct pdnsconf_version *v)
{
	const char *ent;

	if (x->c->empty_non_terminals && !*v->text)
		diag_add_at(
		    x->warnings, x->config_path, 0,
		    "%s: warning: empty_non_terminals is true, which needs PowerDNS 5.1 or later, and "
		    "which PowerDNS runs cannot be told here (%s); PowerDNS 4.x fails every question at "
		    "or below an empty non-terminal",
		    x->config_path, v->source);
	else if (x->c->empty_non_terminals && !reads_ent(v->text))
		diag_add_at(
		    x->warnings, x->config_path, 0,
		    "%s: warning: empty_non_terminals is true, but PowerDNS here is %s (%s), which "
		    "refuses the ENT records it needs (5.1 or later): every question at or below an "
		    "empty non-terminal fails; remove it, or upgrade PowerDNS",
		    x->config_path, v->text, v->source);
	else if (!x->c->empty_non_terminals && *v->text && reads_ent(v->text) &&
		 (ent = first_ent(x->c)))
		diag_add_at(
		    x->warnings, x->config_path, 0,
		    "%s: warning: PowerDNS here is %s (%s), which takes empty non-terminals, but "
		    "empty_non_terminals is not set: %s and names like it, which exist only through "
		    "names below them, are NXDOMAIN, and a wildcard above them answers where a static "
		    "zone would not (RFC 4592); set \"empty_non_terminals\": true",
		    x->config_path, v->text, v->source, ent);
}

int pdnsconf_check(const struct pdnsconf *pc, const struct config *c, const char *config_path,
		   double load_ms, const struct pdnsconf_version *v, struct diag *errors,
		   struct diag *warnings)
{
	struct ctx x = {.pc = pc,
			.c = c,
			.config_path = config_path ? config_path : "the config",
			.errors = errors,
			.warnings = warnings};
	const struct pdnsconf_setting *launch = pdnsconf_get(pc, "launch");
	size_t before = errors->n_errors, n_pipes = 0;

	check_caches(&x);
	if (c && v)
		check_ent(&x, v);
	if (launch && *launch->value) {
		/* "pipe", "pipe:NAME" (settings pipe-NAME-*), separated by commas or spaces */
		_cleanup_free_ char *copy = strdup(launch->value);
		char *save = NULL;

		if (!copy)
			return -ENOMEM;
		for (char *w = strtok_r(copy, ", \t", &save); w;
		     w = strtok_r(NULL, ", \t", &save)) {
			char prefix[128], *colon = strchr(w, ':');

			if (strncmp(w, "pipe", 4) != 0 || (w[4] && w[4] != ':'))
				continue;
			if (n_pipes++ == 0)
				check_advance(&x);
			if (colon && colon[1])
				snprintf(prefix, sizeof(prefix), "pipe-%.100s", colon + 1);
			else
				snprintf(prefix, sizeof(prefix), "pipe");
			check_abi(&x, prefix);
			if (check_command(&x, prefix))
				check_timeout(&x, prefix, load_ms);
			check_regex(&x, prefix);
		}
	}
	if (!n_pipes && launch)
		report(
		    &x, true, launch,
		    "launch=%s names no pipe backend: PowerDNS never asks pdyndns; set launch=pipe",
		    launch->value);
	else if (!n_pipes)
		report(&x, true, NULL,
		       "launch is not set: PowerDNS starts no backend; add launch=pipe");
	return errors->n_errors > before ? -EINVAL : 0;
}
