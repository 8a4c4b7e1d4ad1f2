/* SPDX-License-Identifier: MIT */
/* Longest-prefix match over IPv4 and IPv6 prefixes: a path-compressed binary trie (each node
 * skips the bits its subtree has in common), the matching engine of per-client views. IPv4
 * prefixes live in the IPv4-mapped part of the IPv6 space (::ffff:0:0/96), which the root
 * path compresses to one node, so both families share one trie and one walk. Nodes sit in
 * one array (32 bytes each); a lookup touches one node per branching on the address's path,
 * about log2(N) of them for N prefixes spread evenly. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define PREFIXTRIE_NONE UINT32_MAX

struct prefixtrie_node {
	uint64_t key[2];   /* the prefix, bits past len zero; most significant bit first */
	uint32_t child[2]; /* by the bit at position len; PREFIXTRIE_NONE when absent */
	uint32_t value;	   /* PREFIXTRIE_NONE: a branching node with no prefix of its own */
	uint8_t len;	   /* 0..128 */
};

/* Where a lookup of an IPv4 address with these first 16 bits resumes, and the longest
 * match up to there. */
struct prefixtrie_jump {
	uint32_t at;
	uint32_t value;
	uint8_t len;
};

struct prefixtrie {
	struct prefixtrie_node *nodes;
	struct prefixtrie_jump *v4; /* 65,536 of them after prefixtrie_freeze(), or NULL */
	uint32_t n, cap;
	uint32_t root;	   /* PREFIXTRIE_NONE when empty */
	uint32_t prefixes; /* how many were added */
};

void prefixtrie_init(struct prefixtrie *t);
void prefixtrie_done(struct prefixtrie *t);

/* Adds family's (AF_INET or AF_INET6) prefix addr/len with value (< PREFIXTRIE_NONE). Bits of
 * addr past len are ignored. Returns 0; -EINVAL for a bad family, length or value; -EEXIST
 * when the same prefix is there already (its value is kept); -ENOMEM. */
int prefixtrie_add(struct prefixtrie *t, int family, const void *addr, unsigned len,
		   uint32_t value);

/* The value of exactly family's prefix addr/len (bits of addr past len ignored), or
 * PREFIXTRIE_NONE when that prefix was not added (a longer or shorter one that contains
 * addr does not count). An IPv4 prefix is the IPv4-mapped IPv6 prefix 96 bits longer. */
uint32_t prefixtrie_get(const struct prefixtrie *t, int family, const void *addr, unsigned len);

/* After the last prefixtrie_add(): for large tries, indexes IPv4 by its first 16 bits, which
 * saves a lookup the first levels of the walk. Returns 0 or -ENOMEM (lookups still work).
 * A later prefixtrie_add() drops the index. */
int prefixtrie_freeze(struct prefixtrie *t);

/* The value of the longest prefix that contains family's address addr, or PREFIXTRIE_NONE;
 * *len gets that prefix's length in family's terms (0..32 or 0..128) when len is not NULL.
 * prefixtrie_lookup_scope() also gives *scope: how many leading bits of addr decided the
 * result, so that every address that shares them gets the same one (the ECS scope of an
 * answer chosen by it; at least *len when something matched).
 * An IPv4 address matches IPv4 prefixes only (and ::ffff:0:0/96 and longer IPv6 ones, which
 * are the same thing); an IPv4-mapped IPv6 address matches IPv4 prefixes too. */
uint32_t prefixtrie_lookup(const struct prefixtrie *t, int family, const void *addr, unsigned *len);
uint32_t prefixtrie_lookup_scope(const struct prefixtrie *t, int family, const void *addr,
				 unsigned *len, unsigned *scope);
