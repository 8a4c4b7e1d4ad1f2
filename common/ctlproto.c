/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ctlproto.h"
#include "jsonscan.h"
#include "macro.h"

static const struct {
	const char *name;
	bool mutating;
} cmds[] = {
    [CTL_STATUS] = {"status", false},
    [CTL_RELOAD] = {"reload", true},
    [CTL_QUERY] = {"query", false},
    [CTL_METRICS] = {"metrics", false},
};

bool ctl_cmd_mutating(enum ctl_cmd cmd)
{
	return cmds[cmd].mutating;
}
const char *ctl_cmd_name(enum ctl_cmd cmd)
{
	return cmds[cmd].name;
}

static char *finish_line(json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
	char *line = NULL;

	if (s && asprintf(&line, "%s\n", s) < 0)
		line = NULL;
	json_object_put(o);
	return line;
}

void ctl_request_done(struct ctl_request *req)
{
	for (size_t i = 0; i < req->n_names; i++)
		free(req->names[i]);
	req->names = mfree(req->names);
	req->n_names = 0;
}

char *ctl_request_encode(const struct ctl_request *req)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "v", json_object_new_int(CTL_VERSION));
	json_object_object_add(o, "cmd", json_object_new_string(cmds[req->cmd].name));
	if (req->cmd == CTL_STATUS && req->n_names) {
		json_object *a = json_object_new_array();

		for (size_t i = 0; i < req->n_names; i++)
			json_object_array_add(a, json_object_new_string(req->names[i]));
		json_object_object_add(o, "names", a);
	}
	if (req->cmd == CTL_STATUS && req->summary)
		json_object_object_add(o, "summary", json_object_new_boolean(1));
	if (req->cmd == CTL_QUERY) {
		json_object_object_add(o, "name", json_object_new_string(req->name));
		json_object_object_add(o, "type", json_object_new_string(req->type));
		if (req->client[0])
			json_object_object_add(o, "client", json_object_new_string(req->client));
	}
	return finish_line(o);
}

/* Whether a string of the JSON text (keys too) holds an escaped NUL. json-c cuts a key
 * there, so "k\u0000x" would pass the duplicate-key check as another key and then be "k";
 * nothing in this protocol holds a NUL. Any text: it runs before jsonscan_check. */
static bool has_nul(const char *p, size_t len)
{
	bool in = false;

	for (size_t i = 0; i < len; i++) {
		if (p[i] == '"')
			in = !in;
		else if (in && p[i] == '\\' && i + 1 < len) {
			if (p[i + 1] == 'u' && i + 5 < len && memcmp(p + i + 2, "0000", 4) == 0)
				return true;
			i++; /* the escaped character: not a quote, not a backslash */
		}
	}
	return false;
}

/* Parses a line of at most max bytes that must be one strict JSON object. */
static json_object *parse_object(const char *line, size_t len, size_t max, const char **why)
{
	struct jsonscan_error err;
	json_object *o;

	if (len > max) {
		*why = "line too long";
		return NULL;
	}
	/* (the scan refuses \u0000 too; a NUL is said as such, whichever finds it) */
	if (has_nul(line, len)) {
		*why = "a string holds \\u0000";
		return NULL;
	}
	if (jsonscan_check(line, len, &err) < 0) {
		*why = "not valid JSON";
		return NULL;
	}
	{
		struct json_tokener *tok = json_tokener_new();

		if (!tok) {
			*why = "out of memory";
			return NULL;
		}
		o = json_tokener_parse_ex(tok, line, (int)len);
		if (!o && json_tokener_get_error(tok) == json_tokener_continue)
			o = json_tokener_parse_ex(tok, "", 1);
		json_tokener_free(tok);
	}
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		*why = "not a JSON object";
		return NULL;
	}
	return o;
}

static bool get_string(json_object *o, const char *key, char *out, size_t size, bool required)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, key, &v)) {
		out[0] = 0;
		return !required;
	}
	if (!json_object_is_type(v, json_type_string))
		return false;
	s = json_object_get_string(v);
	if (strlen(s) >= size || strlen(s) != (size_t)json_object_get_string_len(v))
		return false;
	memcpy(out, s, strlen(s) + 1);
	return true;
}

int ctl_request_decode(const char *line, size_t len, struct ctl_request *req, const char **why)
{
	_cleanup_(json_object_putp) json_object *o = parse_object(line, len, CTL_MAX_LINE, why);
	json_object *v;
	char cmd[16];
	size_t i;

	if (!o)
		return -EINVAL;
	if (!json_object_object_get_ex(o, "v", &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) != CTL_VERSION) {
		*why = "unsupported protocol version (this daemon speaks 1)";
		return -EINVAL;
	}
	if (!get_string(o, "cmd", cmd, sizeof(cmd), true)) {
		*why = "missing or bad \"cmd\"";
		return -EINVAL;
	}
	for (i = 0; i < ELEMENTSOF(cmds); i++)
		if (strcmp(cmd, cmds[i].name) == 0)
			break;
	if (i == ELEMENTSOF(cmds)) {
		*why = "unknown command";
		return -EINVAL;
	}
	*req = (struct ctl_request){.cmd = (enum ctl_cmd)i};
	if (req->cmd == CTL_QUERY &&
	    (!get_string(o, "name", req->name, sizeof(req->name), true) || !req->name[0] ||
	     !get_string(o, "type", req->type, sizeof(req->type), true) || !req->type[0] ||
	     !get_string(o, "client", req->client, sizeof(req->client), false))) {
		*why = "query needs \"name\" and \"type\" strings (and optionally \"client\")";
		return -EINVAL;
	}
	json_object_object_foreach(o, key, val)
	{
		(void)val;
		if (strcmp(key, "v") && strcmp(key, "cmd") &&
		    (req->cmd != CTL_QUERY ||
		     (strcmp(key, "name") && strcmp(key, "type") && strcmp(key, "client"))) &&
		    (req->cmd != CTL_STATUS || (strcmp(key, "names") && strcmp(key, "summary")))) {
			*why = "unknown key in request";
			return -EINVAL;
		}
	}
	if (req->cmd == CTL_STATUS && json_object_object_get_ex(o, "summary", &v)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			*why = "\"summary\" must be true or false";
			return -EINVAL;
		}
		req->summary = json_object_get_boolean(v);
	}
	if (req->cmd == CTL_STATUS && json_object_object_get_ex(o, "names", &v)) {
		size_t n =
		    json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;

		if (!n || n > CTL_MAX_NAMES) {
			*why = "\"names\" must be an array of 1 to 1024 names";
			return -EINVAL;
		}
		req->names = calloc(n, sizeof(*req->names));
		if (!req->names) {
			*why = "out of memory";
			return -EINVAL;
		}
		for (size_t k = 0; k < n; k++) {
			json_object *e = json_object_array_get_idx(v, k);

			if (!json_object_is_type(e, json_type_string) ||
			    !json_object_get_string_len(e) ||
			    json_object_get_string_len(e) >= (int)sizeof(req->name)) {
				ctl_request_done(req);
				*why = "\"names\" must hold names (strings of 1 to 1024 bytes)";
				return -EINVAL;
			}
			req->names[k] = strdup(json_object_get_string(e));
			if (!req->names[k]) {
				ctl_request_done(req);
				*why = "out of memory";
				return -EINVAL;
			}
			req->n_names++;
		}
	}
	return 0;
}

/* {"v":1,"ok":true,"result":...}, and "stream":true for the header of a streamed reply. */
static char *response_ok(json_object *result, bool stream)
{
	json_object *o = json_object_new_object();

	if (!o) {
		json_object_put(result);
		return NULL;
	}
	json_object_object_add(o, "v", json_object_new_int(CTL_VERSION));
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "result", result ? result : json_object_new_object());
	if (stream)
		json_object_object_add(o, "stream", json_object_new_boolean(1));
	return finish_line(o);
}

char *ctl_response_ok(json_object *result)
{
	return response_ok(result, false);
}

char *ctl_response_stream(json_object *result)
{
	return response_ok(result, true);
}

static char *stream_line(const char *key, json_object *v)
{
	json_object *o = json_object_new_object();

	if (!o) {
		json_object_put(v);
		return NULL;
	}
	json_object_object_add(o, "v", json_object_new_int(CTL_VERSION));
	json_object_object_add(o, key, v ? v : json_object_new_object());
	return finish_line(o);
}

char *ctl_stream_item(json_object *item)
{
	return stream_line("item", item);
}
char *ctl_stream_end(json_object *end)
{
	return stream_line("end", end);
}

char *ctl_response_error(const char *message)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "v", json_object_new_int(CTL_VERSION));
	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", json_object_new_string(message));
	return finish_line(o);
}

static bool is_version(json_object *o)
{
	json_object *v;

	return json_object_object_get_ex(o, "v", &v) && json_object_is_type(v, json_type_int) &&
	       json_object_get_int64(v) == CTL_VERSION;
}

int ctl_response_decode(const char *line, size_t len, bool *ok, json_object **result, char **error,
			bool *stream)
{
	const char *why;
	_cleanup_(json_object_putp) json_object *o = parse_object(line, len, CTL_MAX_REPLY, &why);
	json_object *v;
	bool more = false;

	if (!o)
		return -EINVAL;
	if (!is_version(o) || !json_object_object_get_ex(o, "ok", &v) ||
	    !json_object_is_type(v, json_type_boolean))
		return -EINVAL;
	*ok = json_object_get_boolean(v);
	if (*ok && json_object_object_get_ex(o, "stream", &v)) {
		if (!json_object_is_type(v, json_type_boolean))
			return -EINVAL;
		more = json_object_get_boolean(v);
	}
	*result = NULL;
	*error = NULL;
	if (stream)
		*stream = more;
	if (*ok) {
		if (json_object_object_get_ex(o, "result", &v))
			*result = json_object_get(v);
	} else {
		if (!json_object_object_get_ex(o, "error", &v) ||
		    !json_object_is_type(v, json_type_string))
			return -EINVAL;
		*error = strdup(json_object_get_string(v));
		if (!*error)
			return -ENOMEM;
	}
	return 0;
}

int ctl_stream_decode(const char *line, size_t len, json_object **item, json_object **end,
		      char **error)
{
	const char *why;
	_cleanup_(json_object_putp) json_object *o = parse_object(line, len, CTL_MAX_REPLY, &why);
	json_object *v;

	*item = *end = NULL;
	*error = NULL;
	if (!o || !is_version(o))
		return -EINVAL;
	if (json_object_object_get_ex(o, "item", &v) && json_object_is_type(v, json_type_object)) {
		*item = json_object_get(v);
		return 0;
	}
	if (json_object_object_get_ex(o, "end", &v) && json_object_is_type(v, json_type_object)) {
		*end = json_object_get(v);
		return 0;
	}
	if (json_object_object_get_ex(o, "ok", &v) && json_object_is_type(v, json_type_boolean) &&
	    !json_object_get_boolean(v) && json_object_object_get_ex(o, "error", &v) &&
	    json_object_is_type(v, json_type_string)) {
		*error = strdup(json_object_get_string(v));
		return *error ? 0 : -ENOMEM;
	}
	return -EINVAL;
}

void ctl_put_line(struct buf *out, char *line)
{
	if (!line)
		line = strdup("{\"v\":1,\"ok\":false,\"error\":\"out of memory\"}\n");
	if (line)
		buf_puts(out, line);
	free(line);
}
