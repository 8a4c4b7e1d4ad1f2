/* SPDX-License-Identifier: MIT */
/* pdynctl's reading of what a daemon replied: every field is checked for its type before it
 * is used, since the reply comes from another process (or from whatever listens on the
 * socket). Each function writes human text to out and returns 0, or -EBADMSG with what is
 * wrong in why (then what it wrote is to be thrown away). Kept apart from pdynctl.c so that
 * the fuzz target tests/fuzz/fuzz-ctlreply.c links it without main(). */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

#define RENDER_WHY_MAX 160

/* The first lines of a status: the copy, its zones, generation and last reload. */
int render_status_header(FILE *out, json_object *result, char why[RENDER_WHY_MAX]);
/* One handler's row (and the lines under it). */
int render_handler(FILE *out, json_object *h, char why[RENDER_WHY_MAX]);
/* pdynctl health: a checked handler's checks, with the copy that runs them; nothing (and
 * *shown false) for a handler without checks or (type not NULL) of another type. */
int render_health_handler(FILE *out, json_object *h, const char *type, bool *shown,
			  char why[RENDER_WHY_MAX]);
/* The end of a status stream: *count handlers were sent; the *missing names that matched
 * no handler go to err, one line each ("pdynctl: pid P: no handler named N"). */
int render_status_end(FILE *err, int pid, json_object *end, long long *count, size_t *missing,
		      char why[RENDER_WHY_MAX]);
/* list: one line per copy. */
int render_list(FILE *out, int pid, const char *socket, json_object *result,
		char why[RENDER_WHY_MAX]);
/* reload: the result line to out; the problems the reload found, or else those the
 * generation still has, to err, one line each. *problems says whether there were any. */
int render_reload(FILE *out, FILE *err, int pid, json_object *result, int *problems,
		  char why[RENDER_WHY_MAX]);
/* query: the rcode and the records. */
int render_query(FILE *out, int pid, json_object *result, char why[RENDER_WHY_MAX]);
/* The pid a reply names, for a socket without one in its name: 0 if none or not a pid. */
int render_pid(json_object *result);
