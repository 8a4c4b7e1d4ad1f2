/* SPDX-License-Identifier: MIT */
/* The walk of a handler's "health" (README and pdyndns.json(5)), a part of the validator
 * (configcheck.h). */
#pragma once

#include <json-c/json.h>

#include "configcheck.h"
#include "configtypes.h"

/* "health" of the address-list handler h (o, at v's pointer): its keys, which of them apply
 * to its check, and their values, into a new h->health (counted in c->n_health). */
void config_check_health(struct cc *v, json_object *o, struct config *c, struct config_handler *h);

/* Policy least-loaded needs loads (an http(s) body or a state file); "choices" (of handler
 * object o) goes with it. Called once h's policy, count and health are checked. */
void config_check_least_loaded(struct cc *v, json_object *o, struct config_handler *h);
