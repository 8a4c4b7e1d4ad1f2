/* SPDX-License-Identifier: MIT */
/* The daemon's state in one line (status.h). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "status.h"

char *daemon_status_line(const struct daemon *d)
{
	const struct snapshot *s = d->snap;
	char *line = NULL, counts[CONFIG_COUNTS_MAX];
	int r;

	if (s)
		config_counts(s->config, counts);
	if (!s)
		r = asprintf(&line, "pdyndns %s: config error, serving nothing: %s",
			     PACKAGE_VERSION, d->startup_error ? d->startup_error : "unknown");
	else
		r = asprintf(&line,
			     "pdyndns %s pid %d: zone %s, generation %llu, %s (%zu without "
			     "addresses%s%.0zu%s), %llu addresses, %llu lookups",
			     PACKAGE_VERSION, (int)getpid(), s->config->domain,
			     (unsigned long long)d->generation, counts, s->n_failed,
			     /* ", N with every weight 0" (%.0zu prints nothing for 0): they answer
			      * no address either */
			     s->n_drained ? ", " : "", s->n_drained,
			     s->n_drained ? " with every weight 0" : "",
			     (unsigned long long)s->n_addresses, (unsigned long long)d->lookups);
	if (r < 0)
		return NULL;
	/* the banner and CMD lines must stay one line */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\t' || *p == '\r')
			*p = ' ';
	return line;
}
