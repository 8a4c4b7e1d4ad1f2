/* SPDX-License-Identifier: MIT */
/* The config (config.h): load and parse; the walk along the schema (configwalk.c), then the
 * checks across handlers (configsem.c), all with the toolkit of configcheck.c. */
#include <errno.h>
#include <json-c/json.h>
#include <libgen.h>
#include <limits.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "configcheck.h"
#include "configwalk.h"
#include "jsonscan.h"

#define LABELS                                                                                     \
	"([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(\\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\\.?$"
const char config_pattern_hostname[] = "^" LABELS;
const char config_pattern_qname[] = "^(\\*\\.)?" LABELS;

#define U32                                                                                        \
	"(0|[1-9][0-9]{0,8}|[1-3][0-9]{9}|4[01][0-9]{8}|42[0-8][0-9]{7}|429[0-3][0-9]{6}|"         \
	"4294[0-8][0-9]{5}|42949[0-5][0-9]{4}|429496[0-6][0-9]{3}|4294967[01][0-9]{2}|"            \
	"42949672[0-8][0-9]|429496729[0-5])"
#define I31                                                                                        \
	"(0|[1-9][0-9]{0,8}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}|"                \
	"2147[0-3][0-9]{5}|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}|"           \
	"21474836[0-3][0-9]|214748364[0-7])"
const char config_pattern_soa[] = "^[A-Za-z0-9_.-]+ [A-Za-z0-9_.-]+ " U32 "( " I31 "){4}$";

const char config_pattern_group[] = "^[a-z_][a-z0-9_-]*[$]?$";

/* FNV-1a over 8-byte words, then the last bytes one by one, then the length: a byte at a
 * time, the multiplications of an 8 MB config took ~10 ms in a row. */
static uint64_t text_hash(const char *text, size_t len)
{
	uint64_t h = 0xcbf29ce484222325u, w;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, text + i, 8);
		h = (h ^ w) * 0x100000001b3u;
	}
	for (; i < len; i++)
		h = (h ^ (uint8_t)text[i]) * 0x100000001b3u;
	return (h ^ len) * 0x100000001b3u;
}

static char *config_dir(const char *path)
{
	_cleanup_free_ char *copy = strdup(path);
	char *dir, *abs;

	if (!copy)
		return NULL;
	dir = dirname(copy);
	abs = realpath(dir, NULL);
	return abs ? abs : strdup(dir);
}

int config_parse(const char *text, size_t len, const char *path, struct diag *d,
		 struct config **ret)
{
	_cleanup_(config_freep) struct config *c = NULL;
	struct jsonscan_error jerr;
	struct json_tokener *tok;
	json_object *root;
	struct cc v = {.path = path, .d = d};
	int r;

	r = jsonscan_check(text, len, &jerr);
	if (r == -EINVAL) {
		diag_add_at(d, path, jerr.line, "%s:%zu:%zu: error: %s", path, jerr.line, jerr.col,
			    jerr.msg);
		return r;
	}
	if (r < 0)
		return r;

	tok = json_tokener_new_ex(JSONSCAN_MAX_DEPTH + 1);
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, text, (int)len);
	if (!root && json_tokener_get_error(tok) == json_tokener_continue)
		root = json_tokener_parse_ex(tok, "", 1);
	if (!root) {
		/* The scanner accepted it, so this is a number json-c cannot hold. */
		diag_add_at(d, path, 0, "%s: error: JSON not accepted by json-c: %s", path,
			    json_tokener_error_desc(json_tokener_get_error(tok)));
		json_tokener_free(tok);
		return -EINVAL;
	}
	json_tokener_free(tok);

	c = calloc(1, sizeof(*c));
	if (!c) {
		json_object_put(root);
		return -ENOMEM;
	}
	c->loglevel = CONFIG_LOG_INFO;
	c->metrics_max_addresses = METRICS_MAX_ADDRESSES_DEFAULT;
	c->text_hash = text_hash(text, len);
	c->path = strdup(path);
	c->dir = config_dir(path);
	if (regcomp(&v.re_host, config_pattern_hostname, REG_EXTENDED | REG_NOSUB) != 0) {
		json_object_put(root);
		return -ENOMEM;
	}
	if (regcomp(&v.re_qname, config_pattern_qname, REG_EXTENDED | REG_NOSUB) != 0) {
		regfree(&v.re_host);
		json_object_put(root);
		return -ENOMEM;
	}
	if (regcomp(&v.re_soa, config_pattern_soa, REG_EXTENDED | REG_NOSUB) != 0) {
		regfree(&v.re_host);
		regfree(&v.re_qname);
		json_object_put(root);
		return -ENOMEM;
	}
	if (regcomp(&v.re_group, config_pattern_group, REG_EXTENDED | REG_NOSUB) != 0) {
		regfree(&v.re_host);
		regfree(&v.re_qname);
		regfree(&v.re_soa);
		json_object_put(root);
		return -ENOMEM;
	}
	config_check_root(&v, root, c);
	if (!v.failed)
		config_check_semantics(&v, c);
	regfree(&v.re_host);
	regfree(&v.re_qname);
	regfree(&v.re_soa);
	regfree(&v.re_group);
	json_object_put(root);
	if (v.failed)
		return -EINVAL;
	*ret = TAKE_PTR(c);
	return 0;
}

int config_load(const char *path, struct diag *d, struct config **ret)
{
	_cleanup_free_ char *text = NULL;
	struct stat st;
	size_t have;
	int r;

	r = file_read_all(path, CONFIG_MAX_SIZE, d, &text, &have, &st);
	if (r < 0)
		return r;
	r = config_parse(text, have, path, d, ret);
	if (r >= 0)
		file_id_from_stat(&st, &(*ret)->id);
	return r;
}
