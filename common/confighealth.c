/* SPDX-License-Identifier: MIT */
/* The walk of a handler's "health" (confighealth.h), and the keys of policy least-loaded that
 * depend on it. */
#include <json-c/json.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "configcheck.h"
#include "confighealth.h"

#define HEALTH_SECONDS_MAX   3600
#define HEALTH_RISE_FALL_MAX 100

/* A duration in seconds (an integer or a decimal), 0.1 to HEALTH_SECONDS_MAX, as ms. */
static bool check_seconds(struct cc *v, json_object *o, uint32_t *ms)
{
	double d;

	if (!json_object_is_type(o, json_type_int) && !json_object_is_type(o, json_type_double)) {
		cc_error(v, "expected a number of seconds, got %s", cc_type_name(o));
		return false;
	}
	d = json_object_get_double(o);
	if (!(d >= 0.1 && d <= HEALTH_SECONDS_MAX)) {
		cc_error(v, "%.17g is out of range (0.1 to %d seconds)", d, HEALTH_SECONDS_MAX);
		return false;
	}
	*ms = (uint32_t)(d * 1000 + 0.5);
	return true;
}

/* An http path as the schema's pattern has it: "/", then no space or control character. */
static bool http_path_ok(const char *s, size_t n)
{
	if (!n || s[0] != '/')
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* Whether key k of the health object o, present, applies to its check; says why not. */
static void health_key_applies(struct cc *v, json_object *o, const char *k, bool applies,
			       const char *check)
{
	if (applies || !json_object_object_get_ex(o, k, NULL))
		return;
	size_t old = cc_push(v, k);

	cc_error(v, "does not apply to check \"%s\"", check);
	cc_pop(v, old);
}

void config_check_health(struct cc *v, json_object *o, struct config *c, struct config_handler *h)
{
	static const char *const keys[] = {"check",   "port",	    "path", "host",
					   "expect",  "tls_verify", "file", "interval",
					   "timeout", "rise",	    "fall", "all_down"};
	static const char *const required[] = {"check"};
	static const char *const all_down_names[] = {"all", "none"};
	struct config_health *hc;
	json_object *x;
	size_t old;
	int64_t n;
	int r;

	if (!json_object_is_type(o, json_type_object)) {
		cc_error(v, "expected an object, got %s", cc_type_name(o));
		return;
	}
	hc = calloc(1, sizeof(*hc));
	if (!hc) {
		cc_error(v, "out of memory");
		return;
	}
	h->health = hc;
	c->n_health++;
	*hc = (struct config_health){.interval_ms = 5000,
				     .timeout_ms = 2000,
				     .rise = 2,
				     .fall = 3,
				     .tls_verify = true,
				     .expect = {200},
				     .n_expect = 1};
	cc_keys(v, o, keys, ELEMENTSOF(keys), required, ELEMENTSOF(required));
	r = -1;
	if (json_object_object_get_ex(o, "check", &x)) {
		old = cc_push(v, "check");
		r = cc_enum(v, x, config_check_names, ELEMENTSOF(config_check_names));
		if (r >= 0)
			hc->check = (enum config_check)r;
		cc_pop(v, old);
	}
	if (r >= 0) {
		bool web = hc->check == CONFIG_CHECK_HTTP || hc->check == CONFIG_CHECK_HTTPS;
		const char *name = config_check_names[r];

		health_key_applies(v, o, "port", hc->check != CONFIG_CHECK_FILE, name);
		health_key_applies(v, o, "path", web, name);
		health_key_applies(v, o, "host", web, name);
		health_key_applies(v, o, "expect", web, name);
		health_key_applies(v, o, "tls_verify", hc->check == CONFIG_CHECK_HTTPS, name);
		health_key_applies(v, o, "file", hc->check == CONFIG_CHECK_FILE, name);
		if (hc->check == CONFIG_CHECK_TCP && !json_object_object_get_ex(o, "port", NULL))
			cc_error(v, "check \"tcp\" needs \"port\"");
		if (hc->check == CONFIG_CHECK_FILE && !json_object_object_get_ex(o, "file", NULL))
			cc_error(v, "check \"file\" needs \"file\": the state file");
	}
	if (json_object_object_get_ex(o, "port", &x)) {
		old = cc_push(v, "port");
		if (cc_integer(v, x, 1, 65535, &n))
			hc->port = (uint16_t)n;
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(o, "path", &x)) {
		char q[DIAG_QUOTE_SIZE(40)];
		const char *s;

		old = cc_push(v, "path");
		s = cc_string(v, x, 1, 1024);
		if (s && !http_path_ok(s, (size_t)json_object_get_string_len(x)))
			cc_error(
			    v,
			    "%s is not a path: it starts with \"/\" and holds no spaces or control characters",
			    cc_quoted(x, q, 40));
		else if (s)
			hc->path = strdup(s);
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(o, "host", &x)) {
		const char *s;

		old = cc_push(v, "host");
		s = cc_hostname(v, x);
		if (s)
			hc->host = strdup(s);
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(o, "expect", &x)) {
		old = cc_push(v, "expect");
		if (cc_array(v, x, 1, CONFIG_EXPECT_MAX)) {
			hc->n_expect = 0;
			for (size_t i = 0; i < json_object_array_length(x); i++) {
				size_t o2 = cc_push_index(v, i);

				if (cc_integer(v, json_object_array_get_idx(x, i), 100, 599, &n))
					hc->expect[hc->n_expect++] = (uint16_t)n;
				cc_pop(v, o2);
			}
		}
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(o, "tls_verify", &x)) {
		old = cc_push(v, "tls_verify");
		if (!json_object_is_type(x, json_type_boolean))
			cc_error(v, "expected true or false, got %s", cc_type_name(x));
		else
			hc->tls_verify = json_object_get_boolean(x);
		cc_pop(v, old);
	}
	cc_file(v, o, c->dir, &hc->file, &hc->file_path);
	if (json_object_object_get_ex(o, "interval", &x)) {
		old = cc_push(v, "interval");
		check_seconds(v, x, &hc->interval_ms);
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(o, "timeout", &x)) {
		old = cc_push(v, "timeout");
		check_seconds(v, x, &hc->timeout_ms);
		cc_pop(v, old);
	}
	if (hc->interval_ms < hc->timeout_ms) {
		old = cc_push(v, "interval");
		cc_error(
		    v,
		    "%g s is shorter than the timeout (%g s): a check must end before the next one",
		    hc->interval_ms / 1000.0, hc->timeout_ms / 1000.0);
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(o, "rise", &x)) {
		old = cc_push(v, "rise");
		if (cc_integer(v, x, 1, HEALTH_RISE_FALL_MAX, &n))
			hc->rise = (uint32_t)n;
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(o, "fall", &x)) {
		old = cc_push(v, "fall");
		if (cc_integer(v, x, 1, HEALTH_RISE_FALL_MAX, &n))
			hc->fall = (uint32_t)n;
		cc_pop(v, old);
	}
	if (json_object_object_get_ex(o, "all_down", &x)) {
		old = cc_push(v, "all_down");
		r = cc_enum(v, x, all_down_names, ELEMENTSOF(all_down_names));
		if (r >= 0)
			hc->all_down_none = r == 1;
		cc_pop(v, old);
	}
}

void config_check_least_loaded(struct cc *v, json_object *o, struct config_handler *h)
{
	json_object *x;
	size_t old;
	int64_t n;

	if (h->policy == CONFIG_POLICY_LEAST_LOADED &&
	    (!h->health || h->health->check == CONFIG_CHECK_TCP)) {
		old = cc_push(v, "policy");
		cc_error(
		    v,
		    "\"least-loaded\" needs a load source: a \"health\" check of \"http\", \"https\" "
		    "(the first number of the body) or \"file\" (\"load N\")");
		cc_pop(v, old);
	}
	if (!json_object_object_get_ex(o, "choices", &x))
		return;
	old = cc_push(v, "choices");
	if (cc_integer(v, x, 2, 2, &n)) {
		if (h->policy != CONFIG_POLICY_LEAST_LOADED)
			cc_error(v, "applies to policy \"least-loaded\" only");
		else if (h->count != 1)
			cc_error(v, "picks one address: \"count\" must be 1");
		else
			h->choices = 2;
	}
	cc_pop(v, old);
}
