/* SPDX-License-Identifier: MIT */
/* Answers to PowerDNS lookups from a snapshot, following shared/pipe-protocol.md:
 * SOA only for the exact apex, ANY with every record at the name, nothing for names that do
 * not exist (so PowerDNS says NXDOMAIN), one END or FAIL at the end of every answer.
 *
 * Exact rotation: PowerDNS sends the same ANY lookup more than once for one client question
 * (the referral probe, then the main lookup: §5 and §11), but every client question starts
 * with an SOA lookup. So a handler advances at most once between two SOA lookups; a repeated
 * lookup in the same question gets the address already chosen. That memory is per pipe
 * session (struct answer_memo).
 *
 * When PowerDNS's caches answer the SOA lookups, questions no longer start with one, and that
 * memory would hold one address for ever. The memo notices (answer_memo.stalled): a list
 * asked more often between two SOA lookups than one question asks it (twice, or once where
 * NS lookups show consistent-backends=no), or an SOA walk that stops below the apex (its rest
 * came from the query cache). From then on an entry serves as many ANY lookups as one
 * question makes and the next one starts a new question (answer_memo_per_question()).
 * Addresses carry a nonzero ECS scope under ABI 3 and later, so the query cache never keeps
 * them and every question's ANY lookups reach the backend.
 *
 * Selection policies (config_handler.policy, .count): round-robin serves count addresses
 * from the rotation position and advances it by count; weighted serves count positions of
 * the list's schedule (addrlist_weighted_at()), each address once, and advances by count;
 * random serves count distinct addresses drawn from rotation.rng; all serves the whole list.
 * A repeated lookup in the same question gets the same addresses under every policy.
 *
 * Counting (answer_ctx.metrics, metrics.h): an answer counts when it is drawn, not when a
 * repeated lookup of the same question gets it again, so N questions for an L-address
 * round-robin list count N/L answers per address; a question counts its rcode at the lookup
 * that begins it (answer_memo.after_soa). Peeking counts nothing.
 *
 * Health (health.h): a checked handler answers from its up addresses only, under every
 * policy. Round-robin counts the rotation over the up addresses (up[count % n_up]), so the
 * up ones still alternate exactly; with nothing down that is the plain list, and the
 * answer takes the unchecked path. Least-loaded serves the group of lowest load, rotating
 * within it; with choices 2, the less loaded of two up addresses drawn at random. With
 * every address down, all are served as if unchecked, or none ("all_down": "none"). */
#pragma once

#include <stdbool.h>

#include "buf.h"
#include "health.h"
#include "metrics.h"
#include "pipeproto.h"
#include "rotation.h"
#include "snapshot.h"

#define ANSWER_MEMO_SIZE 16 /* at most 32: answer_memo.touched has a bit for each */

/* The ECS scope of addresses served per lookup (README, "Fewer lookups per question"). */
#define ANSWER_SCOPE 32

struct answer_memo {
	uint32_t n;
	bool stalled;	  /* questions came without their SOA lookups: entries expire by count */
	bool ns_probes;	  /* NS lookups below an apex: consistent-backends=no, one ANY a question */
	bool soa_empty;	  /* the last lookup was an SOA lookup answered with nothing */
	uint32_t touched; /* the entries the last lookup used (bit i: e[i]) */
	bool mismatch_now;	/* the last lookup counted in mismatches */
	uint64_t mismatches;	/* lookups that began a question without its SOA lookups, and SOA
				 * walks cut short: what status counts as stalls */
	uint32_t mismatch_slot; /* the slot of the last mismatch, UINT32_MAX for a cut walk */
	bool after_soa;		/* an SOA lookup came since the lookup that began the last question
				 * (what the metrics count questions by) */
	struct {
		uint32_t slot;
		uint32_t uses;	/* lookups answered from it since it was drawn */
		uint64_t index; /* what the answer was drawn from: an address index (round-robin),
				 * a schedule position (weighted) or random bits (random) */
	} e[ANSWER_MEMO_SIZE];
};

struct answer_ctx {
	const struct snapshot *snap; /* NULL: no usable config, answer nothing */
	struct rotation *rot;
	const struct health *health; /* NULL: nothing is checked */
	struct answer_memo *memo;
	struct metrics *metrics; /* what answers count in (metrics.h), or NULL */
	int abi;
	bool peek; /* answer without advancing any rotation (pdynctl query) */
	/* set by answer_query() for a handler with views: the ECS scope of its answers */
	bool has_scope;
	uint8_t scope;
	bool at_apex; /* set by answer_query(): the lookup is for a zone apex */
	bool opens;   /* set by answer_query(): the lookup begins a question (metrics) */
};

/* Appends the answer to a Q message (DATA lines, then END or FAIL) to out. A handler with
 * views answers from the view whose prefixes hold the client (the longest match; its own list
 * when none does), with the ECS scope of that decision: the client is the EDNS client subnet
 * PowerDNS passes (m->real_remote), or the resolver (m->remote) when the handler says so or
 * there is none. */
void answer_query(const struct answer_ctx *ctx, const struct pp_msg *m, struct buf *out);

/* Which of handler h's views (1..n_views) answers the client of m, 0 for h itself; *scope
 * gets how many leading bits of the client address decided it. h must have views. */
uint16_t answer_view(const struct handler *h, const struct pp_msg *m, uint8_t *scope);

/* The address the next answer of handler h (of snapshot s) starts with, for status: true and
 * *index under round-robin and weighted (with a weight above 0), where the rotation decides
 * it; false under random and all, or when h serves nothing. *pos gets the rotation count
 * when not NULL. */
bool answer_next(const struct snapshot *s, const struct rotation *rot, const struct handler *h,
		 uint32_t *index, uint64_t *pos);

/* Appends the zone listing for an AXFR message: SOA, NS, and each handler's next address
 * (without advancing), then END; FAIL for an unknown zone. */
void answer_axfr(const struct answer_ctx *ctx, const struct pp_msg *m, struct buf *out);

/* How many ANY lookups of a handler's name one client question makes, as far as the memo
 * can tell: 2 (the referral probe and the main lookup), 1 at the apex (no probe), with
 * consistent-backends=no (NS probes) or, once stalled, under ABI 1 and 2 (no scope field:
 * PowerDNS's query cache answers the second lookup). */
uint32_t answer_memo_per_question(const struct answer_memo *memo, int abi, bool apex);

/* Whether the last lookup may be answered again verbatim as the next lookup of the same
 * question (the session's repeat of an identical line): true, and the entries it used count
 * one more use; false when the memo must see it (stalled, or one ANY a question). */
bool answer_memo_repeat(struct answer_memo *memo);

/* After a reload renumbered the handlers: map[old slot] is the new slot + 1, or 0 when the
 * handler is gone or its list changed. Entries without a new slot are dropped. */
void answer_memo_remap(struct answer_memo *memo, const uint32_t *map, size_t n_old);
/* Forgets what the memo holds for slot (its list changed in place). */
void answer_memo_forget(struct answer_memo *memo, uint32_t slot);
