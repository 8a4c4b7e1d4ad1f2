/* SPDX-License-Identifier: MIT */
/* The offline validation behind `pdyndns --check` and `pdynctl check`: the config and every
 * address file it names. */
#pragma once

#include <stdio.h>

#include "diag.h"

/* Validates the config at path and its address files. Every problem goes to d, and what is
 * valid but worth saying (a weighted list with every weight 0; a relative file missing in the
 * config's directory but found in the working directory, where the Python pdyndns looked) to
 * warnings, unless it is NULL. Returns 0 when everything is valid, with a one-line summary in
 * *summary (malloc'd); -EINVAL when anything is wrong; -ENOMEM. */
int check_config_file(const char *path, struct diag *d, struct diag *warnings, char **summary);

/* Runs check_config_file() and prints its result: problems and their count, and warnings,
 * to err, the summary to out. Returns the exit status: 0 valid, 1 not. */
int check_config_print(const char *path, FILE *out, FILE *err);

/* check_config_print(), and with pdns_path (may be NULL) the PowerDNS config at pdns_path
 * and its include-dir against it (pdnsconf_check(), with the time the config took to load):
 * every conflict to err, "PDNS_PATH: ok: consistent with PATH" to out when there is none.
 * Returns the exit status: 0 when neither has an error (warnings allowed), 1 otherwise. */
int check_print(const char *path, const char *pdns_path, FILE *out, FILE *err);
