/* SPDX-License-Identifier: MIT */
/* The metrics command's JSON: its header (process-wide counters) and a line per address-list
 * handler, from the question path's counters (common/metrics.h); ctlcmd.c streams them. */
#pragma once

#include <json-c/json.h>

#include "daemon.h"

/* The first line of a metrics reply, a stream (malloc'd). */
char *ctlcmd_metrics_header(const struct daemon *d);
/* A metrics reply's line for address-list handler h. */
json_object *ctlcmd_metrics_json(const struct daemon *d, const struct handler *h);
