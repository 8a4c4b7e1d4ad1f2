/* SPDX-License-Identifier: MIT */
/* PowerDNS's own configuration read as pdns_server reads it (pdnsconf.h); the checks against
 * a pdyndns config are pdnscheck.c's. */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pdnsconf.h"

#define PDNSCONF_MAX_SIZE (16u << 20) /* bytes per file */

struct pdnsconf *pdnsconf_free(struct pdnsconf *pc)
{
	if (!pc)
		return NULL;
	for (size_t i = 0; i < pc->n_settings; i++) {
		free(pc->settings[i].key);
		free(pc->settings[i].value);
		free(pc->settings[i].file);
	}
	free(pc->settings);
	free(pc->path);
	free(pc);
	return NULL;
}

const struct pdnsconf_setting *pdnsconf_get(const struct pdnsconf *pc, const char *key)
{
	for (size_t i = 0; i < pc->n_settings; i++)
		if (strcmp(pc->settings[i].key, key) == 0)
			return &pc->settings[i];
	return NULL;
}

static struct pdnsconf_setting *find(struct pdnsconf *pc, const char *key)
{
	return (struct pdnsconf_setting *)pdnsconf_get(pc, key);
}

/* Sets key (n bytes) to value, or appends ", value" (incremental), as ArgvMap::parseOne does. */
static int set(struct pdnsconf *pc, const char *key, size_t n, const char *value, bool incremental,
	       const char *file, size_t line, struct diag *d)
{
	_cleanup_free_ char *k = strndup(key, n), *v = NULL, *f = strdup(file);
	struct pdnsconf_setting *s;

	if (!k || !f)
		return -ENOMEM;
	s = find(pc, k);
	if (incremental && s && *s->value) {
		if (asprintf(&v, "%s, %s", s->value, value) < 0)
			return -ENOMEM;
	} else {
		/* reported, and read on as if it said "=": the rest can still be checked */
		if (incremental && (!s || !s->cleared) && strcmp(k, "launch") == 0)
			diag_add_at(
			    d, file, line,
			    "%s:%zu: error: launch+= without an earlier launch=: pdns_server refuses to "
			    "start (\"Incremental setting 'launch' without a parent\"); write launch=%s",
			    file, line, value);
		v = strdup(value);
		if (!v)
			return -ENOMEM;
	}
	if (!s) {
		struct pdnsconf_setting *ns =
		    realloc(pc->settings, (pc->n_settings + 1) * sizeof(*ns));

		if (!ns)
			return -ENOMEM;
		pc->settings = ns;
		s = &pc->settings[pc->n_settings++];
		*s = (struct pdnsconf_setting){.key = TAKE_PTR(k)};
	}
	free(s->value);
	free(s->file);
	s->value = TAKE_PTR(v);
	s->file = TAKE_PTR(f);
	s->line = line;
	if (!incremental)
		s->cleared = 1;
	return 0;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* One logical line (NUL-terminated, modified in place), as ArgvMap::file and parseOne read it. */
static int parse_line(struct pdnsconf *pc, char *s, const char *file, size_t line, struct diag *d)
{
	char *hash, *eq, *key, *value, *kend;
	bool incremental = false;
	size_t n;

	/* a '#' at the start or after a blank starts a comment; one inside a value does not */
	for (hash = strchr(s, '#'); hash; hash = strchr(hash + 1, '#'))
		if (hash == s || blank(hash[-1])) {
			*hash = 0;
			break;
		}
	n = strlen(s);
	while (n && blank(s[n - 1]))
		s[--n] = 0;
	while (*s && blank(*s))
		s++;
	if (!*s)
		return 0;
	/* "+=" anywhere comes first, as in pdns: "a+=b" adds to a */
	if ((eq = strstr(s, "+="))) {
		incremental = true;
		value = eq + 2;
	} else if ((eq = strchr(s, '=')))
		value = eq + 1;
	else {
		eq = s + n;
		value = eq;
	}
	key = s;
	kend = eq;
	while (key < kend && blank(*key))
		key++;
	while (kend > key && blank(kend[-1]))
		kend--;
	if (kend == key)
		return 0; /* pdns ignores a line with no name */
	while (*value == ' ' || *value == '\t')
		value++;
	return set(pc, key, (size_t)(kend - key), value, incremental, file, line, d);
}

static int read_text(const char *path, struct diag *d, char **ret, size_t *len)
{
	_cleanup_free_ char *buf = NULL;
	FILE *f = fopen(path, "re");
	size_t n = 0, cap = 0;

	if (!f) {
		int e = errno;

		diag_add_at(d, path, 0, "%s: error: cannot read the PowerDNS config: %s", path,
			    strerror(e));
		return e == ENOMEM ? -ENOMEM : -EINVAL;
	}
	for (;;) {
		size_t got;

		if (cap - n < 4096) {
			char *nb;

			cap = cap ? 2 * cap : 8192;
			if (cap > PDNSCONF_MAX_SIZE + 1)
				cap = PDNSCONF_MAX_SIZE + 1;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				fclose(f);
				return -ENOMEM;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n > PDNSCONF_MAX_SIZE) {
			fclose(f);
			diag_add_at(d, path, 0,
				    "%s: error: larger than %u bytes: not a PowerDNS config", path,
				    PDNSCONF_MAX_SIZE);
			return -EINVAL;
		}
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		int e = errno;

		fclose(f);
		diag_add_at(d, path, 0, "%s: error: cannot read the PowerDNS config: %s", path,
			    strerror(e));
		return -EINVAL;
	}
	fclose(f);
	if (!buf && !(buf = malloc(1)))
		return -ENOMEM;
	buf[n] = 0;
	*len = n;
	*ret = TAKE_PTR(buf);
	return 0;
}

static int parse_file(struct pdnsconf *pc, const char *path, struct diag *d)
{
	_cleanup_free_ char *text = NULL, *logical = NULL;
	size_t len, llen = 0, start = 0, lineno = 0;
	int r, ret = 0;

	r = read_text(path, d, &text, &len);
	if (r < 0)
		return r;
	logical = malloc(len + 1);
	if (!logical)
		return -ENOMEM;
	for (char *p = text, *end = text + len; p < end || (p == end && llen);) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		lineno++;
		if (!llen)
			start = lineno;
		while (n && blank(p[n - 1]))
			n--;
		/* a NUL byte ends the line for pdns (std::string to C) too */
		n = strnlen(p, n);
		if (n && p[n - 1] == '\\') {
			if (!nl)
				break; /* pdns drops a continued last line */
			memcpy(logical + llen, p, n - 1);
			llen += n - 1;
			p = nl + 1;
			continue;
		}
		memcpy(logical + llen, p, n);
		llen += n;
		logical[llen] = 0;
		r = parse_line(pc, logical, path, start, d);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			ret = r;
		llen = 0;
		if (!nl)
			break;
		p = nl + 1;
	}
	return ret;
}

static int cmp_names(const void *a, const void *b)
{
	return strcasecmp(*(char *const *)a, *(char *const *)b);
}

/* The include directory's *.conf files, as ArgvMap::gatherIncludes lists them. */
static int gather(const char *dir, struct diag *d, const char *from, size_t line, char ***ret,
		  size_t *n_ret)
{
	_cleanup_free_ char *base = strdup(dir);
	char **names = NULL;
	size_t n = 0, blen;
	struct dirent *e;
	DIR *dh;

	if (!base)
		return -ENOMEM;
	blen = strlen(base);
	while (blen > 1 && base[blen - 1] == '/')
		base[--blen] = 0;
	dh = opendir(base);
	if (!dh) {
		diag_add_at(
		    d, from, line,
		    "%s:%zu: error: include-dir=%s cannot be read (%s): pdns_server refuses to start",
		    from, line, dir, strerror(errno));
		return -EINVAL;
	}
	while ((e = readdir(dh))) {
		size_t len = strlen(e->d_name);
		struct stat st;
		char *name, **nn;

		if (e->d_name[0] == '.' || len < 5 || strcmp(e->d_name + len - 5, ".conf") != 0)
			continue;
		if (asprintf(&name, "%s/%s", base, e->d_name) < 0)
			goto oom;
		if (stat(name, &st) < 0 || !S_ISREG(st.st_mode)) {
			diag_add_at(
			    d, name, 0,
			    "%s: error: in include-dir but not a regular file: pdns_server refuses to start",
			    name);
			free(name);
			closedir(dh);
			free_strings(names, n);
			return -EINVAL;
		}
		nn = realloc(names, (n + 1) * sizeof(*nn));
		if (!nn) {
			free(name);
			goto oom;
		}
		names = nn;
		names[n++] = name;
	}
	closedir(dh);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	*ret = names;
	*n_ret = n;
	return 0;
oom:
	closedir(dh);
	free_strings(names, n);
	return -ENOMEM;
}

int pdnsconf_load(const char *path, struct diag *d, struct pdnsconf **ret)
{
	_cleanup_(pdnsconf_freep) struct pdnsconf *pc = calloc(1, sizeof(*pc));
	const struct pdnsconf_setting *inc;
	int r, bad = 0;

	if (!pc || !(pc->path = strdup(path)))
		return -ENOMEM;
	r = parse_file(pc, path, d);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		bad = r;
	inc = pdnsconf_get(pc, "include-dir");
	if (inc && *inc->value) {
		_cleanup_free_ char *from = strdup(inc->file), *dir = strdup(inc->value);
		size_t line = inc->line, n = 0;
		char **names = NULL;

		if (!from || !dir)
			return -ENOMEM;
		r = gather(dir, d, from, line, &names, &n);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			bad = r;
		for (size_t i = 0; i < n && r != -ENOMEM; i++) {
			r = parse_file(pc, names[i], d);
			if (r == -EINVAL)
				bad = r;
		}
		free_strings(names, n);
		if (r == -ENOMEM)
			return r;
	}
	if (bad)
		return -EINVAL;
	*ret = TAKE_PTR(pc);
	return 0;
}
