/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
};

bool ctl_cmd_mutating(enum ctl_cmd cmd) { return cmds[cmd].mutating; }
const char *ctl_cmd_name(enum ctl_cmd cmd) { return cmds[cmd].name; }

static char *finish_line(json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	char *line = NULL;

	if (s && asprintf(&line, "%s\n", s) < 0)
		line = NULL;
	json_object_put(o);
	return line;
}

char *ctl_request_encode(const struct ctl_request *req)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "v", json_object_new_int(CTL_VERSION));
	json_object_object_add(o, "cmd", json_object_new_string(cmds[req->cmd].name));
	if (req->cmd == CTL_QUERY) {
		json_object_object_add(o, "name", json_object_new_string(req->name));
		json_object_object_add(o, "type", json_object_new_string(req->type));
		if (req->client[0])
			json_object_object_add(o, "client", json_object_new_string(req->client));
	}
	return finish_line(o);
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
	json_object_object_foreach(o, key, val) {
		(void)val;
		if (strcmp(key, "v") && strcmp(key, "cmd") &&
		    (req->cmd != CTL_QUERY || (strcmp(key, "name") && strcmp(key, "type") && strcmp(key, "client")))) {
			*why = "unknown key in request";
			return -EINVAL;
		}
	}
	return 0;
}

char *ctl_response_ok(json_object *result)
{
	json_object *o = json_object_new_object();

	if (!o) {
		json_object_put(result);
		return NULL;
	}
	json_object_object_add(o, "v", json_object_new_int(CTL_VERSION));
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "result", result ? result : json_object_new_object());
	return finish_line(o);
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

int ctl_response_decode(const char *line, size_t len, bool *ok, json_object **result, char **error)
{
	const char *why;
	_cleanup_(json_object_putp) json_object *o = parse_object(line, len, CTL_MAX_REPLY, &why);
	json_object *v;

	if (!o)
		return -EINVAL;
	if (!json_object_object_get_ex(o, "v", &v) || json_object_get_int64(v) != CTL_VERSION ||
	    !json_object_object_get_ex(o, "ok", &v) || !json_object_is_type(v, json_type_boolean))
		return -EINVAL;
	*ok = json_object_get_boolean(v);
	*result = NULL;
	*error = NULL;
	if (*ok) {
		if (json_object_object_get_ex(o, "result", &v))
			*result = json_object_get(v);
	} else {
		if (!json_object_object_get_ex(o, "error", &v) || !json_object_is_type(v, json_type_string))
			return -EINVAL;
		*error = strdup(json_object_get_string(v));
		if (!*error)
			return -ENOMEM;
	}
	return 0;
}
