/* SPDX-License-Identifier: MIT */
/* The commands of the control socket (control.h carries them): a status, streamed in slices
 * between questions (a header line, a line per handler, an end line), the metrics, streamed
 * the same way, and a query, answered
 * as PowerDNS would be without moving any rotation. Each builds response lines of
 * common/ctlproto.h from the daemon's state. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "control.h"
#include "ctlmetrics.h"
#include "ctlproto.h"
#include "daemon.h"
#include "diag.h"

/* A status is built on the loop in slices between questions: at most this long each (at
 * least one handler), and only while less than STATUS_OUT_HIGH bytes wait for the client. */
#define STATUS_SLICE_USEC 500
#define STATUS_OUT_HIGH	  (256 * 1024)

struct status_stream;

/* The status's first line: the whole reply of a summary (stream false), or the header of a
 * stream (malloc'd). */
char *ctlcmd_status_header(const struct daemon *d, bool stream);
/* What a status will send: every handler, or those of the names (taken over). NULL when
 * out of memory (the names are freed). */
struct status_stream *status_stream_new(const struct daemon *d, char **names, size_t n_names);
struct status_stream *status_stream_free(struct status_stream *st);
/* Appends one slice of handler lines to out (see STATUS_SLICE_USEC), and the end line after
 * the last; true once the stream is complete (or ended by an error line). */
bool status_stream_fill(struct status_stream *st, const struct daemon *d, struct buf *out);
/* What a metrics reply (its lines: ctlmetrics.h) will send: a line per address-list handler. NULL
 * when out of memory. */
struct status_stream *metrics_stream_new(const struct daemon *d);
/* The reply to a query request (malloc'd). */
char *ctlcmd_query(const struct daemon *d, const struct ctl_request *req);
/* The reply to pdynctl reload once the reload ended (malloc'd): applied or not, its one-line
 * result, the problems it found (may be NULL) line by line, and every problem of the live
 * generation. */
char *ctlcmd_reload_reply(const struct daemon *d, bool applied, const char *result,
			  const struct diag *errors);

/* The control socket's commands, on the daemon (userdata). */
extern const struct control_ops ctlcmd_ops;
