/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>

#include "check.h"
#include "config.h"
#include "snapshot.h"

int check_config_file(const char *path, struct diag *d, struct diag *warnings, char **summary)
{
	_cleanup_(snapshot_freep) struct snapshot *snap = NULL;
	struct config *c = NULL;
	int r;

	r = config_load(path, d, &c);
	if (r < 0)
		return r == -ENOMEM ? r : -EINVAL;
	r = snapshot_new(c, NULL, d, &snap);
	if (r < 0)
		return r;
	if (warnings)
		snapshot_warnings(snap, warnings);
	if (d->n_errors)
		return -EINVAL;
	/* "zone D" or, with "zones", "zone D and N more" (%.0zu prints nothing for 0) */
	if (asprintf(summary, "%s: ok: zone %s%s%.0zu%s, %zu handlers, %llu addresses", path,
		     snap->config->domain, snap->config->n_zones > 1 ? " and " : "",
		     snap->config->n_zones - 1, snap->config->n_zones > 1 ? " more" : "", snap->n_handlers,
		     (unsigned long long)snap->n_addresses) < 0)
		return -ENOMEM;
	return 0;
}

int check_config_print(const char *path, FILE *out, FILE *err)
{
	_cleanup_free_ char *summary = NULL;
	struct diag d, w;
	int r;

	diag_init(&d);
	diag_init(&w);
	r = check_config_file(path, &d, &w, &summary);
	for (size_t i = 0; i < d.n_msgs; i++)
		fprintf(err, "%s\n", d.msgs[i]);
	for (size_t i = 0; i < w.n_msgs; i++)
		fprintf(err, "%s\n", w.msgs[i]);
	diag_clear(&w);
	if (d.n_errors > d.n_msgs)
		fprintf(err, "(%zu more problems not shown)\n", d.n_errors - d.n_msgs);
	if (r < 0)
		fprintf(err, "%s: %zu problem%s found\n", path, d.n_errors ? d.n_errors : 1,
			d.n_errors > 1 ? "s" : "");
	else
		fprintf(out, "%s\n", summary);
	diag_clear(&d);
	return r < 0 ? 1 : 0;
}
