/* SPDX-License-Identifier: MIT */
/* PowerDNS's own configuration (pdns.conf and its include-dir), read as pdns_server reads it
 * (pdnsconf.c), and the offline check behind `pdyndns --check --pdns-config FILE`: every
 * setting that conflicts with a pdyndns config (README, "PowerDNS settings"; pdnscheck.c). */
#pragma once

#include <stddef.h>

#include "config.h"
#include "diag.h"

/* One setting as it stands once every file is read: later lines override earlier ones. */
struct pdnsconf_setting {
	char *key;   /* "query-cache-ttl" (without "+") */
	char *value; /* leading blanks stripped; "key+=v" appends ", v" as pdns does */
	char *file;  /* where it was set last */
	size_t line; /* and on which line (of a line continued with '\', the first), from 1 */
	int cleared; /* set with "=" at least once (pdns refuses "+=" on a setting never set) */
};

struct pdnsconf {
	char *path; /* the main file, as given */
	struct pdnsconf_setting *settings;
	size_t n_settings;
};

/* Reads the PowerDNS config at path the way pdns_server 4.x does (ArgvMap::file): lines of
 * key=value or key+=value, a '#' at the start of a line or after a blank starts a comment,
 * blanks around the key and before the value are dropped, a line ending in '\' goes on on the
 * next one. When the file sets include-dir, every file in that directory whose name ends in
 * ".conf" and does not start with '.' is read next, in case-insensitive name order, and does
 * not include further. Keys are not checked: pdyndns does not know every PowerDNS setting.
 * Returns 0 and a new pdnsconf; -EINVAL with the problem in d (a file or the include
 * directory that cannot be read); -ENOMEM. A problem that leaves the settings readable
 * (launch+= with no launch= before it, which pdns refuses) is added to d and the call still
 * succeeds: look at d->n_errors. */
int pdnsconf_load(const char *path, struct diag *d, struct pdnsconf **ret);

/* The setting key as it stands, or NULL when no file sets it. */
const struct pdnsconf_setting *pdnsconf_get(const struct pdnsconf *pc, const char *key);

struct pdnsconf *pdnsconf_free(struct pdnsconf *pc);
DEFINE_FREE_FUNC(struct pdnsconf, pdnsconf_free)

/* The PowerDNS that runs the config, as far as pdyndns can tell: the Debian package
 * pdns-server installed here. */
struct pdnsconf_version {
	char text[64];	    /* "4.7.3" (the package version without its epoch and revision); "" when
			     * it cannot tell */
	const char *source; /* where it was found, or why it was not, for messages */
};

/* Reads the version of the package pdns-server from the dpkg status file at status (NULL:
 * /var/lib/dpkg/status) into v. Always fills v: v->text is empty when the file cannot be
 * read or the package is not installed, and v->source then says which. */
void pdnsconf_installed_version(const char *status, struct pdnsconf_version *v);

/* Checks pc against the pdyndns config c, which was read from config_path (c may be NULL
 * when it could not be read: the checks that need it are left out). load_ms is how long the
 * config and its files took to load, as pdyndns does before it answers HELO (negative: not
 * measured). Adds one message per conflict, "FILE:LINE: error: ..." (or "FILE: error: ..."
 * for a setting no file sets) naming the setting to change:
 * errors, to errors: PowerDNS would not start, would not ask pdyndns, would refuse questions
 *   for a zone, or the rotation would freeze or skip addresses: launch without pipe,
 *   zone-cache-refresh-interval not 0, cache-ttl not 0, query-cache-ttl or negquery-cache-ttl
 *   not 0 with "advance": "per-question", query-cache-ttl not 0 with "per-lookup" and
 *   pipe-abi-version below 3, "per-lookup" without consistent-backends=no, pipe-command
 *   missing, relative, with two spaces in a row, or naming no or another --config, a
 *   pipe-regex that does not compile or refuses a zone apex or a handler's name, a load
 *   that takes longer than pipe-timeout;
 * warnings, to warnings: a load that takes more than half of pipe-timeout, a program in
 *   pipe-command that is not executable here, or that is not pdyndns and has no --config
 *   (a wrapper: the config cannot be compared); and, with v (may be NULL: not looked at),
 *   "empty_non_terminals" against the PowerDNS version: true with a version before 5.1 or
 *   one it cannot tell, false with 5.1 or later while the config has empty non-terminals.
 * Returns 0 when no error was added, -EINVAL when one was, -ENOMEM. */
int pdnsconf_check(const struct pdnsconf *pc, const struct config *c, const char *config_path,
		   double load_ms, const struct pdnsconf_version *v, struct diag *errors,
		   struct diag *warnings);
