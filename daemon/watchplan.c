/* SPDX-License-Identifier: MIT */
/* The watch plan (watchplan.h): worked out from the paths, off the loop. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "macro.h"
#include "snapshot.h"
#include "watchplan.h"

#define MAX_SYMLINK_HOPS 40

/* --- strings ----------------------------------------------------------------------------- */

static void strmap_done(struct strmap *m)
{
	for (size_t i = 0; m->keys && i <= m->mask; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
	*m = (struct strmap){0};
}

/* The value for key, or 0. */
static uint32_t strmap_get(const struct strmap *m, const char *key)
{
	if (!m->keys)
		return 0;
	for (size_t i = fnv1a_str(key) & m->mask; m->keys[i]; i = (i + 1) & m->mask)
		if (strcmp(m->keys[i], key) == 0)
			return m->vals[i];
	return 0;
}

static int strmap_put(struct strmap *m, const char *key, uint32_t val)
{
	size_t i;

	if (!m->keys || 2 * (m->n + 1) > m->mask + 1) {
		struct strmap g = {.mask = m->keys ? 2 * m->mask + 1 : 63};

		g.keys = calloc(g.mask + 1, sizeof(*g.keys));
		g.vals = calloc(g.mask + 1, sizeof(*g.vals));
		if (!g.keys || !g.vals) {
			free(g.keys);
			free(g.vals);
			return -ENOMEM;
		}
		for (size_t k = 0; m->keys && k <= m->mask; k++)
			if (m->keys[k]) {
				for (i = fnv1a_str(m->keys[k]) & g.mask; g.keys[i];
				     i = (i + 1) & g.mask)
					;
				g.keys[i] = m->keys[k];
				g.vals[i] = m->vals[k];
			}
		g.n = m->n;
		free(m->keys);
		free(m->vals);
		*m = g;
	}
	for (i = fnv1a_str(key) & m->mask; m->keys[i]; i = (i + 1) & m->mask)
		if (strcmp(m->keys[i], key) == 0) {
			m->vals[i] = val;
			return 0;
		}
	m->keys[i] = strdup(key);
	if (!m->keys[i])
		return -ENOMEM;
	m->vals[i] = val;
	m->n++;
	return 0;
}

int path_join(char *out, size_t size, const char *a, const char *b)
{
	int n = snprintf(out, size, "%s%s%s", a, strcmp(a, "/") == 0 ? "" : "/", b);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* --- the plan: worked out from the paths, off the loop --------------------------------- */

static struct wdir *plan_dir(struct watchplan *p, const char *path)
{
	uint32_t k = strmap_get(&p->by_path, path);

	if (k)
		return &p->dirs[k - 1];
	if (p->n_dirs == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 16;
		struct wdir *nd = realloc(p->dirs, cap * sizeof(*nd));

		if (!nd)
			return NULL;
		p->dirs = nd;
		p->cap = cap;
	}
	p->dirs[p->n_dirs] = (struct wdir){.path = strdup(path)};
	if (!p->dirs[p->n_dirs].path ||
	    strmap_put(&p->by_path, path, (uint32_t)p->n_dirs + 1) < 0) {
		free(p->dirs[p->n_dirs].path);
		return NULL;
	}
	return &p->dirs[p->n_dirs++];
}

/* Adds name (with owner, or NULL for a name on the way) to the directory at dirpath. */
static int plan_name(struct watchplan *p, const char *dirpath, const char *name, const char *owner)
{
	struct wdir *dir = plan_dir(p, dirpath);
	struct wname *e;

	if (!dir)
		return -ENOMEM;
	if (dir->n_names == dir->cap) {
		size_t cap = dir->cap ? 2 * dir->cap : 4;
		struct wname *nn = realloc(dir->names, cap * sizeof(*nn));

		if (!nn)
			return -ENOMEM;
		dir->names = nn;
		dir->cap = cap;
	}
	e = &dir->names[dir->n_names];
	*e = (struct wname){.name = strdup(name), .owner = owner ? strdup(owner) : NULL};
	if (!e->name || (owner && !e->owner)) {
		free(e->name);
		free(e->owner);
		return -ENOMEM;
	}
	dir->n_names++;
	dir->holds_files |= owner != NULL;
	return 0;
}

/* Walks the directory path dir (absolute) from the root, adding each directory and symlink
 * on the way to the plan, and puts the resolved directory in out. A component that is
 * missing is watched for in its parent, and the walk stops there (-ENOENT). */
static int walk_dir(struct watchplan *p, const char *dir, char *out, size_t size, int *hops)
{
	char cur[PATH_MAX] = "/", rest[PATH_MAX];
	int r;

	if (snprintf(rest, sizeof(rest), "%s", dir) >= (int)sizeof(rest))
		return -ENAMETOOLONG;
	for (;;) {
		char *c = rest, comp[NAME_MAX + 1], next[PATH_MAX], target[PATH_MAX], tmp[PATH_MAX];
		size_t len;
		struct stat st;
		ssize_t n;

		while (*c == '/')
			c++;
		if (!*c)
			break;
		len = strcspn(c, "/");
		if (len > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(comp, c, len);
		comp[len] = 0;
		memmove(rest, c + len, strlen(c + len) + 1);
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			char *last = strrchr(cur, '/');

			if (last && last != cur)
				*last = 0;
			else
				strcpy(cur, "/");
			continue;
		}
		if ((r = path_join(next, sizeof(next), cur, comp)) < 0)
			return r;
		if ((r = plan_name(p, cur, comp, NULL)) < 0)
			return r;
		if (lstat(next, &st) < 0)
			return -errno;
		if (S_ISLNK(st.st_mode)) {
			if (++*hops > MAX_SYMLINK_HOPS)
				return -ELOOP;
			n = readlink(next, target, sizeof(target) - 1);
			if (n < 0)
				return -errno;
			target[n] = 0;
			if (snprintf(tmp, sizeof(tmp), "%s/%s", target, rest) >= (int)sizeof(tmp))
				return -ENAMETOOLONG;
			memcpy(rest, tmp, sizeof(rest));
			if (target[0] == '/')
				strcpy(cur, "/");
			continue;
		}
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
		memcpy(cur, next, sizeof(cur));
	}
	if (snprintf(out, size, "%s", cur) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}

/* Adds what leads to the file at path (absolute) for owner. Directories are walked once per
 * plan however many files they hold. */
static int plan_file(struct watchplan *p, const char *path, const char *owner, int hops)
{
	char dir[PATH_MAX], full[PATH_MAX], target[PATH_MAX];
	const char *slash = strrchr(path, '/'), *base = slash + 1;
	struct stat st;
	uint32_t k;
	ssize_t n;
	int r;

	if ((size_t)(slash - path) >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = 0;
	if (!*dir)
		strcpy(dir, "/");
	k = strmap_get(&p->resolved, dir);
	if (!k) {
		char res[PATH_MAX];

		r = walk_dir(p, dir, res, sizeof(res), &hops);
		if (r == -ENOMEM)
			return r;
		/* a directory that cannot be walked is remembered as UINT32_MAX */
		if (r >= 0 && !plan_dir(p, res))
			return -ENOMEM;
		if (strmap_put(&p->resolved, dir,
			       r < 0 ? UINT32_MAX : strmap_get(&p->by_path, res)) < 0)
			return -ENOMEM;
		if (r < 0)
			return r == -ENOENT || r == -ENOTDIR ? 0
							     : r; /* its parent watches for it */
		k = strmap_get(&p->by_path, res);
	} else if (k == UINT32_MAX)
		return 0;
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return -EINVAL;
	if ((r = path_join(full, sizeof(full), p->dirs[k - 1].path, base)) < 0)
		return r;
	if (lstat(full, &st) == 0 && S_ISLNK(st.st_mode)) {
		/* a symlink to the file: watch it on the way, and the file it leads to */
		if (++hops > MAX_SYMLINK_HOPS)
			return -ELOOP;
		r = plan_name(p, p->dirs[k - 1].path, base, NULL);
		if (r < 0)
			return r;
		n = readlink(full, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = 0;
		if (target[0] == '/')
			return plan_file(p, target, owner, hops);
		if ((r = path_join(full, sizeof(full), p->dirs[k - 1].path, target)) < 0)
			return r;
		return plan_file(p, full, owner, hops);
	}
	return plan_name(p, p->dirs[k - 1].path, base, owner);
}

static int plan_path(struct watchplan *p, const char *path)
{
	char abs[PATH_MAX], cwd[PATH_MAX];
	int r;

	if (path[0] == '/')
		r = snprintf(abs, sizeof(abs), "%s", path) >= (int)sizeof(abs) ? -ENAMETOOLONG : 0;
	else if (!getcwd(cwd, sizeof(cwd)))
		r = -errno;
	else
		r = path_join(abs, sizeof(abs), cwd, path);
	if (r >= 0)
		r = plan_file(p, abs, path, 0);
	if (r < 0 && r != -ENOMEM && !p->problem &&
	    asprintf(&p->problem, "watch: cannot follow %s (%s); the %llu s poll covers it", path,
		     strerror(-r), (unsigned long long)(WATCH_POLL_USEC / 1000000)) < 0)
		p->problem = NULL;
	return r == -ENOMEM ? r : 0;
}

static int wname_order(const void *a, const void *b)
{
	const struct wname *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (!c) /* owners NULL first */
		c = (x->owner != NULL) - (y->owner != NULL);
	if (!c && x->owner)
		c = strcmp(x->owner, y->owner);
	return c;
}

static void wdir_clear(struct wdir *dir)
{
	for (size_t i = 0; i < dir->n_names; i++) {
		free(dir->names[i].name);
		free(dir->names[i].owner);
	}
	free(dir->names);
	free(dir->path);
	sd_event_source_disable_unref(dir->src);
}

struct watchplan *watchplan_free(struct watchplan *p)
{
	if (!p)
		return NULL;
	for (size_t i = 0; i < p->n_dirs; i++)
		wdir_clear(&p->dirs[i]);
	free(p->dirs);
	strmap_done(&p->by_path);
	strmap_done(&p->resolved);
	free(p->problem);
	free(p);
	return NULL;
}

struct watchplan *watchplan_new(const char *config_path, const struct snapshot *s)
{
	struct watchplan *p = calloc(1, sizeof(*p));
	int r = p ? plan_path(p, config_path) : -ENOMEM;

	for (size_t i = 0; r >= 0 && s && i < s->n_handlers; i++) {
		const struct config_handler *c = s->handlers[i].cfg;

		if (c->path)
			r = plan_path(p, c->path);
		if (r >= 0 && c->prefix_path)
			r = plan_path(p, c->prefix_path);
	}
	if (r < 0)
		return watchplan_free(p);
	for (size_t i = 0; i < p->n_dirs; i++) {
		struct wdir *dir = &p->dirs[i];
		struct stat st;
		size_t k = 0;

		qsort(dir->names, dir->n_names, sizeof(*dir->names), wname_order);
		for (size_t j = 0; j < dir->n_names;
		     j++) /* the same name for the same owner once */
			if (k && wname_order(&dir->names[k - 1], &dir->names[j]) == 0) {
				free(dir->names[j].name);
				free(dir->names[j].owner);
			} else
				dir->names[k++] = dir->names[j];
		dir->n_names = k;
		if (stat(dir->path, &st) == 0 && S_ISDIR(st.st_mode)) {
			dir->exists = true;
			dir->dev = st.st_dev;
			dir->ino = st.st_ino;
		}
	}
	strmap_done(&p->resolved); /* only needed while it was built */
	return p;
}

bool watchplan_moved(const struct watchplan *p)
{
	for (size_t i = 0; p && i < p->n_dirs; i++) {
		const struct wdir *dir = &p->dirs[i];
		struct stat st;
		bool now = stat(dir->path, &st) == 0 && S_ISDIR(st.st_mode);

		if (now != dir->exists || (now && (st.st_dev != dir->dev || st.st_ino != dir->ino)))
			return true;
	}
	return false;
}

struct wdir *watchplan_dir(const struct watchplan *p, const char *path)
{
	uint32_t k = strmap_get(&p->by_path, path);

	return k ? &p->dirs[k - 1] : NULL;
}

const char *watchplan_problem(const struct watchplan *p)
{
	return p ? p->problem : NULL;
}
