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
 * Selection policies (config_handler.policy, .count): round-robin serves count addresses
 * from the rotation position and advances it by count; weighted serves count positions of
 * the list's schedule (addrlist_weighted_at()), each address once, and advances by count;
 * random serves count distinct addresses drawn from rotation.rng; all serves the whole list.
 * A repeated lookup in the same question gets the same addresses under every policy. */
#pragma once

#include <stdbool.h>

#include "buf.h"
#include "pipeproto.h"
#include "rotation.h"
#include "snapshot.h"

#define ANSWER_MEMO_SIZE 16

/* The ECS scope of addresses served per lookup (README, "Fewer lookups per question"). */
#define ANSWER_SCOPE 32

struct answer_memo {
	uint32_t n;
	struct {
		uint32_t slot;
		uint64_t index; /* what the answer was drawn from: an address index (round-robin),
				 * a schedule position (weighted) or random bits (random) */
	} e[ANSWER_MEMO_SIZE];
};

struct answer_ctx {
	const struct snapshot *snap; /* NULL: no usable config, answer nothing */
	struct rotation *rot;
	struct answer_memo *memo;
	int abi;
	bool peek; /* answer without advancing any rotation (pdynctl query) */
	/* set by answer_query() for a handler with views: the ECS scope of its answers */
	bool has_scope;
	uint8_t scope;
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

/* After a reload renumbered the handlers: map[old slot] is the new slot + 1, or 0 when the
 * handler is gone or its list changed. Entries without a new slot are dropped. */
void answer_memo_remap(struct answer_memo *memo, const uint32_t *map, size_t n_old);
/* Forgets what the memo holds for slot (its list changed in place). */
void answer_memo_forget(struct answer_memo *memo, uint32_t slot);
