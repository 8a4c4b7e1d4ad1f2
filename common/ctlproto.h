/* SPDX-License-Identifier: MIT */
/* The control protocol between pdynctl and pdyndns: one JSON object per line each way,
 * versioned. Requests: {"v":1,"cmd":"status"|"reload"|"query"|"metrics", ...}. Responses:
 * {"v":1,"ok":true,"result":{...}} or {"v":1,"ok":false,"error":"..."}.
 *
 * A status can be of any size, so its handlers are not in that line: the response carries
 * "stream":true and is followed by one line per handler, {"v":1,"item":{...}}, and a last
 * line {"v":1,"end":{"count":N,"missing":[...]}} (or an error response, when the daemon
 * could not finish: then the stream is incomplete). Every line is at most CTL_MAX_REPLY.
 *
 * "metrics" (no other key) is streamed the same way: the header holds the copy's own figures
 * (pid, generation, last_reload, lookups by type, questions by rcode, reloads by result, the
 * reload duration histogram, control_refused, log_dropped, stalls, rotation_stalled,
 * config_error, max_addresses), then one item per address-list handler (name, qtype, view,
 * file, policy, addresses, position, answers, questions by rcode, view_hits, error, and
 * served: the answers per address, for lists up to max_addresses; a checked list's health:
 * down, transitions, and for lists up to max_addresses its addresses with up and
 * latency_seconds), then
 * {"end":{"count":N}}. pdynctl sums them across copies (ctl/metrics.h).
 * Both sides use these functions, so the wire format is written once. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#define CTL_VERSION	1
#define CTL_DEFAULT_DIR "/run/pdyndns"	    /* where copies put their control sockets by default */
#define CTL_MAX_LINE	(64 * 1024)	    /* longest request line accepted */
#define CTL_MAX_REPLY	(64 * CTL_MAX_LINE) /* longest response line: status of a large config */

static inline void json_object_putp(json_object **o)
{
	if (*o)
		json_object_put(*o);
}

enum ctl_cmd {
	CTL_STATUS,
	CTL_RELOAD,
	CTL_QUERY,
	CTL_METRICS,
};

#define CTL_MAX_NAMES 1024 /* names in one status request */

struct ctl_request {
	enum ctl_cmd cmd;
	char name[1025]; /* query: the name */
	char type[16];	 /* query: the type mnemonic */
	char client[64]; /* query: the client address, "" if none */
	char **names;	 /* status: only the handlers of these names (malloc'd), or NULL: all */
	size_t n_names;
	bool summary; /* status: the header only, no handlers */
};

/* Frees what a decoded request holds (its names); the request can be decoded into again. */
void ctl_request_done(struct ctl_request *req);

/* Whether a command changes state (needs full rights) or only reads it. */
bool ctl_cmd_mutating(enum ctl_cmd cmd);
const char *ctl_cmd_name(enum ctl_cmd cmd);

/* Encodes a request as one line with its '\n'. Returns a malloc'd string or NULL. */
char *ctl_request_encode(const struct ctl_request *req);

/* Decodes one request line (without '\n'). Returns 0 (then ctl_request_done() frees what
 * req holds), or -EINVAL with *why set to a static reason (bad JSON, a string holding
 * \u0000, wrong version, unknown command, bad or missing field) and nothing to free. */
int ctl_request_decode(const char *line, size_t len, struct ctl_request *req, const char **why);

/* A JSON string, or JSON null for NULL. */
static inline json_object *ctl_jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* Encodes a response: ok with result (taken over; may be NULL), or an error message.
 * Returns a malloc'd line with its '\n', or NULL. */
char *ctl_response_ok(json_object *result);
char *ctl_response_error(const char *message);
/* The first line of a streamed response: ok, with result (taken over), "stream":true. */
char *ctl_response_stream(json_object *result);
/* A line of a stream: one item, or the end (both taken over). NULL on OOM. */
char *ctl_stream_item(json_object *item);
char *ctl_stream_end(json_object *end);
/* Appends a response line (taken over; NULL: out of memory, said as such) to out. */
struct buf;
void ctl_put_line(struct buf *out, char *line);

/* Decodes a response line. On success returns 0, *ok, and either *result (a new
 * reference, NULL if absent) or *error (a malloc'd message); *stream (may be NULL) tells
 * whether stream lines follow. -EINVAL if it is not a valid response or longer than
 * CTL_MAX_REPLY. */
int ctl_response_decode(const char *line, size_t len, bool *ok, json_object **result, char **error,
			bool *stream);
/* Decodes a line that follows a streamed response: exactly one of *item, *end (new
 * references, objects) or *error (malloc'd: the daemon gave up) is set, the others NULL.
 * -EINVAL if it is none of them. */
int ctl_stream_decode(const char *line, size_t len, json_object **item, json_object **end,
		      char **error);
