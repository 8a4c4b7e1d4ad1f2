/* SPDX-License-Identifier: MIT */
/* The walk of the config's JSON document along schema/config-schema.json, a part of the
 * validator (configcheck.h). */
#pragma once

#include <json-c/json.h>

#include "configcheck.h"
#include "configtypes.h"

/* Checks the document root against the schema and fills c: its zones, settings and handlers,
 * the views of each after them (config.handlers). Every problem is reported with v; what is
 * not valid is left out of c. */
void config_check_root(struct cc *v, json_object *root, struct config *c);
