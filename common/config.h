/* SPDX-License-Identifier: MIT */
/* The configuration file: JSON, checked against schema/config-schema.json (every constraint
 * there is enforced here, with JSON pointers in the messages) plus the checks a schema cannot
 * express. The Python pdyndns configuration is accepted unchanged. */
#pragma once

#include "configtypes.h"

#define CONFIG_MAX_SIZE (16u << 20) /* bytes */

/* The patterns of the schema, in the POSIX ERE dialect they share with ECMA-262 here. A
 * unit test checks that they equal the ones in schema/config-schema.json. */
extern const char config_pattern_hostname[];
extern const char config_pattern_qname[];
extern const char config_pattern_soa[];
extern const char config_pattern_group[];

/* Parses and validates len bytes of config text. path names the file in messages and
 * anchors relative address-file paths. Returns 0 and a new config, or -EINVAL with every
 * problem added to d ("PATH:LINE:COL: error: ..." for syntax, "PATH: error: /pointer: ..."
 * for the rest), or -ENOMEM. */
int config_parse(const char *text, size_t len, const char *path, struct diag *d,
		 struct config **ret);

/* Reads the file at path and calls config_parse(). A file that cannot be read, or is larger
 * than CONFIG_MAX_SIZE, is an error with a message. */
int config_load(const char *path, struct diag *d, struct config **ret);
