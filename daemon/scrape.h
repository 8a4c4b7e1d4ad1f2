/* SPDX-License-Identifier: MIT */
/* The figures of the HTTP endpoint (httpmetrics.h) from the daemon: the same metrics stream
 * as the control command metrics (ctlcmd.h), a slice of handlers per step, read into a
 * promtext (common/exposition.h) as pdynctl metrics reads it, with this process as the only
 * copy. A reload that applies a new generation during a build starts it again. */
#pragma once

#include "daemon.h"
#include "httpmetrics.h"

/* The source for httpmetrics_new(), called with the daemon as userdata. */
extern const struct httpmetrics_source scrape_source;
