/* SPDX-License-Identifier: MIT */
/* The control protocol between pdynctl and pdyndns: one JSON object per line each way,
 * versioned. Requests: {"v":1,"cmd":"status"|"reload"|"query", ...}. Responses:
 * {"v":1,"ok":true,"result":{...}} or {"v":1,"ok":false,"error":"..."}. Both sides use
 * these functions, so the wire format is written once. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#define CTL_VERSION 1
#define CTL_MAX_LINE (64 * 1024)         /* longest request line accepted */
#define CTL_MAX_REPLY (64 * CTL_MAX_LINE) /* longest response line: status of a large config */

static inline void json_object_putp(json_object **o)
{
	if (*o)
		json_object_put(*o);
}

enum ctl_cmd {
	CTL_STATUS,
	CTL_RELOAD,
	CTL_QUERY,
};

struct ctl_request {
	enum ctl_cmd cmd;
	char name[1025];  /* query: the name */
	char type[16];    /* query: the type mnemonic */
	char client[64];  /* query: the client address, "" if none */
};

/* Whether a command changes state (needs full rights) or only reads it. */
bool ctl_cmd_mutating(enum ctl_cmd cmd);
const char *ctl_cmd_name(enum ctl_cmd cmd);

/* Encodes a request as one line with its '\n'. Returns a malloc'd string or NULL. */
char *ctl_request_encode(const struct ctl_request *req);

/* Decodes one request line (without '\n'). Returns 0, or -EINVAL with *why set to a
 * static reason (bad JSON, wrong version, unknown command, bad or missing field). */
int ctl_request_decode(const char *line, size_t len, struct ctl_request *req, const char **why);

/* Encodes a response: ok with result (taken over; may be NULL), or an error message.
 * Returns a malloc'd line with its '\n', or NULL. */
char *ctl_response_ok(json_object *result);
char *ctl_response_error(const char *message);

/* Decodes a response line. On success returns 0, *ok, and either *result (a new
 * reference, NULL if absent) or *error (a malloc'd message). -EINVAL if it is not a valid
 * response or longer than CTL_MAX_REPLY. */
int ctl_response_decode(const char *line, size_t len, bool *ok, json_object **result, char **error);
