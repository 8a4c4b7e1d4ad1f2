/* SPDX-License-Identifier: MIT */
/* The daemon's state in one line (status.h). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "status.h"

char *daemon_status_line(const struct daemon *d)
{
	const struct snapshot *s = d->snap;
	char *line = NULL;
	int r;

	if (!s)
		r = asprintf(&line, "pdyndns %s: config error, serving nothing: %s", PACKAGE_VERSION,
			     d->startup_error ? d->startup_error : "unknown");
	else
		r = asprintf(&line,
			     "pdyndns %s pid %d: zone %s, generation %llu, %zu handlers (%zu without "
			     "addresses), %llu addresses, %llu lookups",
			     PACKAGE_VERSION, (int)getpid(), s->config->domain,
			     (unsigned long long)d->generation, s->n_handlers, s->n_failed,
			     (unsigned long long)s->n_addresses, (unsigned long long)d->lookups);
	if (r < 0)
		return NULL;
	/* the banner and CMD lines must stay one line */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\t' || *p == '\r')
			*p = ' ';
	return line;
}
