/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "health.h"
#include "pdnsconf.h"
#include "snapshot.h"

/* The Python pdyndns opened relative paths from its working directory; pdyndns opens them
 * from the config's. A file missing there but found here is most likely that move. */
static void migration_hint(const struct config *c, const char *file, const char *path,
			   const char *qname, const char *qtype, const char *cwd, struct diag *w)
{
	if (!file || !path || file[0] == '/' || access(path, F_OK) == 0 || access(file, F_OK) < 0)
		return;
	diag_add_handler(
	    w, path, qname, qtype,
	    "%s: warning: \"%s\" (%s %s) is not in the config's directory %s but is in the "
	    "working directory %s: pdyndns reads relative paths from the config's directory, "
	    "the Python pdyndns from its working directory; move the file to %s or write \"%s/%s\"",
	    c->path, file, qname, qtype, c->dir, cwd, c->dir, cwd, file);
}

static void migration_hints(const struct config *c, struct diag *w)
{
	char cwd[4096];

	if (!w || !getcwd(cwd, sizeof(cwd)))
		return;
	for (size_t i = 0; i < c->n_handlers; i++) {
		const struct config_handler *h = &c->handlers[i];
		const char *qtype = h->qtype == 28 ? "AAAA" : h->qtype == 1 ? "A" : "";

		migration_hint(c, h->file, h->path, h->qname, qtype, cwd, w);
		migration_hint(c, h->prefix_file, h->prefix_path, h->qname, qtype, cwd, w);
	}
}

/* The state files of checks "file", as the daemon would take them: every bad line is an
 * error; a file not there yet is a warning (until the agent writes it, every address stays
 * up). */
static int check_state_files(const struct snapshot *s, struct diag *d, struct diag *w)
{
	for (size_t i = 0; s->config->n_health && i < s->n_handlers; i++) {
		const struct handler *h = &s->handlers[i];
		const struct config_health *hc = h->cfg->health;
		_cleanup_free_ struct health_verdict *v = NULL;
		_cleanup_free_ char *text = NULL;
		struct diag tmp;
		struct stat st;
		size_t len;
		int r;

		if (!hc || hc->check != CONFIG_CHECK_FILE || !h->list ||
		    h->list->n > HEALTH_ADDRESSES_MAX)
			continue;
		diag_init(&tmp);
		r = file_read_all(hc->file_path, HEALTH_STATE_MAX, &tmp, &text, &len, &st);
		if (r == -ENOENT) {
			if (w)
				diag_add_at(w, hc->file_path, 0,
					    "%s: warning: no state file yet: every address of "
					    "%s %s stays up until it is written",
					    hc->file_path, h->cfg->qname,
					    h->cfg->qtype == 1 ? "A" : "AAAA");
		} else if (r < 0)
			diag_move(d, &tmp);
		else if (!(v = malloc(h->list->n * sizeof(*v))))
			r = -ENOMEM;
		else
			(void)health_parse_state(text, len, h->list, hc->file_path, d, v);
		diag_clear(&tmp);
		if (r == -ENOMEM)
			return r;
	}
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* check_config_file(), keeping the snapshot in *snap_ret (when the config could be read)
 * and the time the load took in *load_ms (when it was measured). */
static int check_load(const char *path, struct diag *d, struct diag *warnings, char **summary,
		      struct snapshot **snap_ret, double *load_ms)
{
	_cleanup_(snapshot_freep) struct snapshot *snap = NULL;
	const struct config *cfg;
	struct config *c = NULL;
	double start = now_ms();
	char counts[CONFIG_COUNTS_MAX];
	int r;

	r = config_load(path, d, &c);
	if (r < 0)
		return r == -ENOMEM ? r : -EINVAL;
	r = snapshot_new(c, NULL, d, &snap);
	if (r < 0)
		return r;
	r = check_state_files(snap, d, warnings);
	if (r < 0)
		return r;
	if (load_ms)
		*load_ms = now_ms() - start;
	cfg = snap->config;
	config_counts(cfg, counts);
	if (warnings) {
		snapshot_warnings(snap, warnings);
		migration_hints(cfg, warnings);
	}
	if (!d->n_errors &&
	    /* "zone D" or, with "zones", "zone D and N more" (%.0zu prints nothing for 0) */
	    asprintf(summary, "%s: ok: zone %s%s%.0zu%s, %s, %llu addresses", path, cfg->domain,
		     cfg->n_zones > 1 ? " and " : "", cfg->n_zones - 1,
		     cfg->n_zones > 1 ? " more" : "", counts,
		     (unsigned long long)snap->n_addresses) < 0)
		return -ENOMEM;
	if (snap_ret)
		*snap_ret = TAKE_PTR(snap);
	return d->n_errors ? -EINVAL : 0;
}

int check_config_file(const char *path, struct diag *d, struct diag *warnings, char **summary)
{
	return check_load(path, d, warnings, summary, NULL, NULL);
}

int check_print(const char *path, const char *pdns_path, FILE *out, FILE *err)
{
	_cleanup_(snapshot_freep) struct snapshot *snap = NULL;
	_cleanup_(pdnsconf_freep) struct pdnsconf *pc = NULL;
	_cleanup_free_ char *summary = NULL;
	size_t config_errors;
	double load_ms = -1;
	struct diag d, w;
	int r, rp = 0;

	diag_init(&d);
	diag_init(&w);
	r = check_load(path, &d, &w, &summary, &snap, &load_ms);
	config_errors = d.n_errors;
	if (pdns_path && r != -ENOMEM) {
		rp = pdnsconf_load(pdns_path, &d, &pc);
		if (rp == 0 && d.n_errors > config_errors)
			rp = -EINVAL;
		/* a config that could not be read leaves out the checks that need it */
		struct pdnsconf_version v;

		pdnsconf_installed_version(NULL, &v);
		if (pc && pdnsconf_check(pc, snap ? snap->config : NULL, path, snap ? load_ms : -1,
					 &v, &d, &w) < 0)
			rp = -EINVAL;
	}
	for (size_t i = 0; i < d.n_msgs; i++)
		fprintf(err, "%s\n", d.msgs[i]);
	for (size_t i = 0; i < w.n_msgs; i++)
		fprintf(err, "%s\n", w.msgs[i]);
	if (w.n_errors > w.n_msgs)
		fprintf(err, "(%zu more warnings not shown)\n", w.n_errors - w.n_msgs);
	diag_clear(&w);
	if (d.n_errors > d.n_msgs)
		fprintf(err, "(%zu more problems not shown)\n", d.n_errors - d.n_msgs);
	if (r < 0)
		fprintf(err, "%s: %zu problem%s found\n", path, config_errors ? config_errors : 1,
			config_errors > 1 ? "s" : "");
	else
		fprintf(out, "%s\n", summary);
	if (pdns_path && rp < 0)
		fprintf(err, "%s: %zu problem%s found\n", pdns_path,
			d.n_errors > config_errors ? d.n_errors - config_errors : 1,
			d.n_errors - config_errors > 1 ? "s" : "");
	else if (pdns_path && snap)
		fprintf(out, "%s: ok: consistent with %s\n", pdns_path, path);
	else if (pdns_path)
		fprintf(out, "%s: ok as far as it can be checked without %s\n", pdns_path, path);
	diag_clear(&d);
	return r < 0 || rp < 0 ? 1 : 0;
}

int check_config_print(const char *path, FILE *out, FILE *err)
{
	return check_print(path, NULL, out, err);
}
