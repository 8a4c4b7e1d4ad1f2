/* SPDX-License-Identifier: MIT */
/* The config validator's toolkit, shared by its walk (configwalk.c, confighealth.c), the checks
 * across handlers (configsem.c) and the handler kinds (kind.h): every check reports its
 * problem with the JSON pointer of the value at hand ("FILE: error: /handlers/3/content/0:
 * ...") and marks the config as failed; nothing stops at the first problem. The messages are
 * those of schema/config-schema.json's constraints. */
#pragma once

#include <json-c/json.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "macro.h"

/* Validation state: the file name for messages, the current JSON pointer, compiled
 * patterns, and whether anything failed. */
struct cc {
	const char *path;
	struct diag *d;
	char ptr[512];
	size_t ptrlen;
	bool ptr_cut; /* ptr ends in "...": a token did not fit */
	regex_t re_host, re_qname, re_soa, re_group;
	bool failed;
};

/* Adds "PATH: error: POINTER: message" and marks the config failed. */
void cc_error(struct cc *v, const char *fmt, ...) _printf_(2, 3);

/* Pushes a JSON pointer token (a key, or an array index); each returns the length to pop
 * back to with cc_pop(). */
size_t cc_push(struct cc *v, const char *tok);
size_t cc_push_index(struct cc *v, size_t i);
void cc_pop(struct cc *v, size_t old);

/* "a string", "an integer", ...: the JSON type of o as messages name it. */
const char *cc_type_name(json_object *o);
/* The string o as a message shows it (diag_quote()); q has DIAG_QUOTE_SIZE(max) bytes. */
const char *cc_quoted(json_object *o, char *q, size_t max);
/* True if the string o, which holds no NUL, matches re. */
bool cc_matches(regex_t *re, json_object *o);

/* A quick check for the common case of config_pattern_hostname (wildcard: of
 * config_pattern_qname) on n bytes: true only for what the pattern matches; false when the
 * pattern may or may not match, so a false is decided by the pattern. */
bool config_hostname_fast(const char *s, size_t n, bool wildcard);
/* True if s is a host name by config_pattern_hostname (the fast check, then the pattern). */
bool cc_is_hostname(struct cc *v, const char *s);

/* Each returns the value, or NULL / -1 / false after reporting why it is not acceptable. */
const char *cc_string(struct cc *v, json_object *o, size_t minlen, size_t maxlen);
int cc_enum(struct cc *v, json_object *o, const char *const *names, size_t n);
const char *cc_hostname(struct cc *v, json_object *o);
/* A handler's name: a host name, or one after "*." (a wildcard: PowerDNS asks for it by
 * that very name when nothing else matches). */
const char *cc_qname(struct cc *v, json_object *o);
bool cc_integer(struct cc *v, json_object *o, int64_t min, int64_t max, int64_t *out);
/* An array of minitems to maxitems unique items (JSON Schema's uniqueItems). */
json_object *cc_array(struct cc *v, json_object *o, size_t minitems, size_t maxitems);
/* cc_array(), and *sum gets the sum of count() over the items, in the same walk. */
json_object *cc_array_counted(struct cc *v, json_object *o, size_t minitems, size_t maxitems,
			      size_t (*count)(json_object *item), size_t *sum);
/* True when no two of the n keys are equal (false also when out of memory). */
bool cc_all_distinct(const uint64_t *keys, size_t n);
/* Reports every key of object o outside allowed[] and every required[] key it lacks. */
void cc_keys(struct cc *v, json_object *o, const char *const *allowed, size_t n_allowed,
	     const char *const *required, size_t n_required);

#define CC_FILE_MAXLEN 4095 /* bytes of a file name in the config */

/* file as written in the config, resolved against the config's directory dir (NULL: as it
 * is): a new string, or NULL when out of memory. */
char *cc_resolve(const char *dir, const char *file);
/* The key "file" of object o, if there: *file gets the name as written, *path the name
 * resolved against dir (cc_resolve()). */
void cc_file(struct cc *v, json_object *o, const char *dir, char **file, char **path);

/* configsem.c: the checks across the handlers of c, each valid on its own; reports with v. */
struct config;
void config_check_semantics(struct cc *v, struct config *c);
