/* SPDX-License-Identifier: MIT */
/* What pdynctl metrics and the HTTP endpoint (daemon/httpmetrics.h) write: the metrics replies of
 * every copy (common/ctlproto.h), checked field by field since they come from another process,
 * turned into Prometheus families (common/promtext.h) and summed across copies. A copy label only
 * where one value per copy makes sense: the generation, the last reload, the rotation position. The
 * metrics are listed in pdyndns(8). */
#pragma once

#include <json-c/json.h>

#include "promtext.h"

#define EXPO_WHY_MAX 160

/* Declares every family, in the order they are written. Returns 0 or a negative errno. */
int expo_declare(struct promtext *p);
/* Adds the header of a copy's reply (pid: its copy label). Returns 0, or -EBADMSG with what is
 * wrong in why, or -ENOMEM. */
int expo_add_copy(struct promtext *p, json_object *header, int pid, char why[EXPO_WHY_MAX]);
/* Adds one handler line of a copy's reply, as expo_add_copy(). */
int expo_add_handler(struct promtext *p, json_object *item, int pid, char why[EXPO_WHY_MAX]);
