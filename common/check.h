/* SPDX-License-Identifier: MIT */
/* The offline validation behind `pdyndns --check` and `pdynctl check`: the config and every
 * address file it names. */
#pragma once

#include <stdio.h>

#include "diag.h"

/* Validates the config at path and its address files. Every problem goes to d, and what is
 * valid but worth saying (a weighted list with every weight 0) to warnings, unless it is
 * NULL. Returns 0 when everything is valid, with a one-line summary in *summary (malloc'd);
 * -EINVAL when anything is wrong; -ENOMEM. */
int check_config_file(const char *path, struct diag *d, struct diag *warnings, char **summary);

/* Runs check_config_file() and prints its result: problems and their count, and warnings,
 * to err, the summary to out. Returns the exit status: 0 valid, 1 not. */
int check_config_print(const char *path, FILE *out, FILE *err);
