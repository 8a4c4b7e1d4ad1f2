/* SPDX-License-Identifier: MIT */
/* Handler kinds: what a handler of the config serves besides an address list.
 *
 * The address list ("kind": "addresses", the default, config_handler.kind == NULL) is built
 * in: its files, reloads, rotation, policies and views live in handler.c, snapshot.c and
 * answer.c. Every other kind answers from its config and the question alone (static records,
 * the client's own address, PTR records of a prefix, ...). Such a kind is one file, kind-NAME.c,
 * that defines a struct kind, and two lines in kinds.c (its declaration and its place in the
 * table); no other code names it (the config schema describes its keys). README ("Writing a
 * handler kind") walks through kind-whoami.c as the example.
 *
 * Life of a kind's handler: config_parse() checks the handler object's keys against keys[],
 * then parse() checks the rest and leaves what answers need in h->data (preformatted: the
 * query path allocates nothing), and h->types. The snapshot keeps the config and so the
 * data; a reload parses anew, and the old snapshot's free_data() runs when it goes. For each
 * lookup at the handler's name whose type is ANY or one of h->types, answer() appends DATA
 * lines to out (none when it has nothing for that client). */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "configcheck.h"
#include "dname.h"

struct config;
struct config_handler;

#define KIND_TYPES_MAX 4 /* record types one handler may answer */

/* What answer() gets: the lookup, and the client it is for. */
struct kind_question {
	const struct dname *name; /* the name asked, parsed */
	const char *owner;	  /* the name as asked (its case kept): DATA lines carry it */
	size_t owner_len;
	uint16_t qtype;		 /* the type asked for, PP_TYPE_ANY for all */
	int abi;		 /* of the pipe session: the DATA line format */
	int64_t zone_id;	 /* for the DATA lines */
	uint32_t zone_ttl;	 /* the ttl of the handler's zone */
	const char *remote;	 /* the resolver's address as PowerDNS wrote it, or NULL */
	const char *real_remote; /* the client subnet "ADDR/LEN" (ABI >= 3), or NULL */
};

struct kind {
	const char *name; /* the config's "kind" value */
	/* The keys a handler object of this kind may have ("qname" and "kind" among them), and
	 * those it must have. */
	const char *const *keys;
	size_t n_keys;
	const char *const *required;
	size_t n_required;
	/* Checks handler object o of config c (its keys are already checked, c's ttl is parsed)
	 * and sets h->types, h->n_types, h->qtype (the first type, which orders handlers) and
	 * h->data. Every problem goes through cc_error(); the pointer is at the handler. */
	void (*parse)(struct cc *v, json_object *o, const struct config *c,
		      struct config_handler *h);
	void (*free_data)(void *data);
	/* Appends the DATA lines that answer q from h. q->qtype is ANY or one of h->types. */
	void (*answer)(const struct config_handler *h, const struct kind_question *q,
		       struct buf *out);
	/* Appends h's records for a zone transfer (owner h->qname), for kinds whose records do
	 * not depend on the client; NULL otherwise. */
	void (*list)(const struct config_handler *h, int abi, int64_t zone_id, uint32_t zone_ttl,
		     struct buf *out);
	/* Writes a one-line description of what h serves (for status) into out, NUL
	 * terminated, cut to size bytes; zone_ttl is the ttl of h's zone. */
	void (*describe)(const struct config_handler *h, uint32_t zone_ttl, char *out, size_t size);
	/* Kinds that answer a set of names (made up from the name asked) rather than qname
	 * alone: whether h answers name, one that no handler has as its own. Such a handler
	 * claims no name or type, and its qname is its own to check (own_qname: parse() sets
	 * h->qname and h->name, the name whose zone it is in). NULL for the others. */
	bool (*covers)(const struct config_handler *h, const struct dname *name);
	bool own_qname;
};

/* The kind named name, or NULL when there is none (also for "addresses", the built-in). */
const struct kind *kind_find(const char *name);
/* Writes the names of every kind, "addresses" first, as messages list them ("\"addresses\",
 * \"static\", ...") into out (size bytes, cut to fit); returns out. */
const char *kind_names(char *out, size_t size);
