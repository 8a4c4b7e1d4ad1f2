/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "prefixtrie.h"

struct key {
	uint64_t w[2];
};

static uint64_t load_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* family's address as a 128-bit key; IPv4 as ::ffff:a.b.c.d. Returns the offset to add to
 * an IPv4 length (96), 0 for IPv6, or -1 for another family. */
static int make_key(int family, const void *addr, struct key *k)
{
	const uint8_t *a = addr;

	if (family == AF_INET6) {
		k->w[0] = load_be64(a);
		k->w[1] = load_be64(a + 8);
		return 0;
	}
	if (family == AF_INET) {
		k->w[0] = 0;
		k->w[1] = 0xffffull << 32 | (uint64_t)a[0] << 24 | (uint64_t)a[1] << 16 |
			  (uint64_t)a[2] << 8 | a[3];
		return 96;
	}
	return -1;
}

/* The mask of the first len bits of word w (0 or 1). */
static uint64_t mask(unsigned len, int w)
{
	unsigned bits = w == 0 ? (len > 64 ? 64 : len) : (len > 64 ? len - 64 : 0);

	return bits == 0 ? 0 : bits == 64 ? ~0ull : ~0ull << (64 - bits);
}

static void cut(struct key *k, unsigned len)
{
	k->w[0] &= mask(len, 0);
	k->w[1] &= mask(len, 1);
}

static bool within(const struct key *k, const uint64_t prefix[2], unsigned len)
{
	return ((k->w[0] ^ prefix[0]) & mask(len, 0)) == 0 &&
	       ((k->w[1] ^ prefix[1]) & mask(len, 1)) == 0;
}

/* The bit at position i (0 = most significant) of k. */
static unsigned bit(const uint64_t k[2], unsigned i)
{
	return (unsigned)(k[i / 64] >> (63 - i % 64)) & 1;
}

/* How many leading bits a and b share, at most max. */
static unsigned common(const uint64_t a[2], const uint64_t b[2], unsigned max)
{
	uint64_t x = a[0] ^ b[0];
	unsigned n = x ? (unsigned)__builtin_clzll(x)
		       : 64 + (a[1] == b[1] ? 64 : (unsigned)__builtin_clzll(a[1] ^ b[1]));

	return n < max ? n : max;
}

void prefixtrie_init(struct prefixtrie *t)
{
	*t = (struct prefixtrie){.root = PREFIXTRIE_NONE};
}

void prefixtrie_done(struct prefixtrie *t)
{
	free(t->nodes);
	free(t->v4);
	prefixtrie_init(t);
}

static uint32_t node_new(struct prefixtrie *t, const struct key *k, unsigned len, uint32_t value)
{
	struct prefixtrie_node *n;

	if (t->n == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 64;
		void *p = cap > t->cap ? realloc(t->nodes, (size_t)cap * sizeof(*t->nodes)) : NULL;

		if (!p)
			return PREFIXTRIE_NONE;
		t->nodes = p;
		t->cap = cap;
	}
	n = &t->nodes[t->n];
	*n = (struct prefixtrie_node){.key = {k->w[0], k->w[1]},
				      .child = {PREFIXTRIE_NONE, PREFIXTRIE_NONE},
				      .value = value,
				      .len = (uint8_t)len};
	cut((struct key *)n->key, len);
	return t->n++;
}

int prefixtrie_add(struct prefixtrie *t, int family, const void *addr, unsigned len, uint32_t value)
{
	struct key k;
	int off = make_key(family, addr, &k);
	uint32_t *link, at, parent = PREFIXTRIE_NONE, fresh;
	unsigned side = 0;

	if (off < 0 || len > (family == AF_INET ? 32u : 128u) || value == PREFIXTRIE_NONE)
		return -EINVAL;
	free(t->v4);
	t->v4 = NULL;
	len += (unsigned)off;
	cut(&k, len);
	for (;;) {
		struct prefixtrie_node *n;
		unsigned cl;

		/* (the array may move when a node is added: links are found again each time) */
		link = parent == PREFIXTRIE_NONE ? &t->root : &t->nodes[parent].child[side];
		at = *link;
		if (at == PREFIXTRIE_NONE) {
			fresh = node_new(t, &k, len, value);
			if (fresh == PREFIXTRIE_NONE)
				return -ENOMEM;
			link = parent == PREFIXTRIE_NONE ? &t->root : &t->nodes[parent].child[side];
			*link = fresh;
			break;
		}
		n = &t->nodes[at];
		cl = common(k.w, n->key, len < n->len ? len : n->len);
		if (cl == n->len && len == n->len) {
			if (n->value != PREFIXTRIE_NONE)
				return -EEXIST;
			n->value = value;
			break;
		}
		if (cl == n->len) { /* n's prefix contains the new one: go down */
			parent = at;
			side = bit(k.w, n->len);
			continue;
		}
		if (cl == len) { /* the new prefix contains n's: it goes above n */
			unsigned down = bit(n->key, len);

			fresh = node_new(t, &k, len, value);
			if (fresh == PREFIXTRIE_NONE)
				return -ENOMEM;
			t->nodes[fresh].child[down] = at;
		} else { /* they part at bit cl: a branching node there, over both */
			uint32_t leaf = node_new(t, &k, len, value);
			unsigned down;

			if (leaf == PREFIXTRIE_NONE ||
			    (fresh = node_new(t, &k, cl, PREFIXTRIE_NONE)) == PREFIXTRIE_NONE)
				return -ENOMEM; /* (a leaf made alone is unreachable and harmless)
						 */
			down = bit(k.w, cl);
			t->nodes[fresh].child[down] = leaf;
			t->nodes[fresh].child[!down] = at;
		}
		link = parent == PREFIXTRIE_NONE ? &t->root : &t->nodes[parent].child[side];
		*link = fresh;
		break;
	}
	t->prefixes++;
	return 0;
}

uint32_t prefixtrie_get(const struct prefixtrie *t, int family, const void *addr, unsigned len)
{
	struct key k;
	int off = make_key(family, addr, &k);
	uint32_t at = t->root;

	if (off < 0 || len > (family == AF_INET ? 32u : 128u))
		return PREFIXTRIE_NONE;
	len += (unsigned)off;
	while (at != PREFIXTRIE_NONE) {
		const struct prefixtrie_node *n = &t->nodes[at];

		if (n->len > len || common(k.w, n->key, n->len) < n->len)
			return PREFIXTRIE_NONE;
		if (n->len == len)
			return n->value;
		at = n->child[bit(k.w, n->len)];
	}
	return PREFIXTRIE_NONE;
}

#define JUMP_BITS 112 /* ::ffff:a.b.0.0/112: the index covers a and b */

static void jump_set(struct prefixtrie_jump *v4, uint32_t lo, uint32_t hi, uint32_t at,
		     uint32_t value, uint8_t len)
{
	for (uint32_t i = lo; i < hi; i++)
		v4[i] = (struct prefixtrie_jump){.at = at, .value = value, .len = len};
}

/* Fills v4[lo..hi), the indexes whose walk reaches node at with value/len the longest match
 * so far, as a walk of each of them would: one walk of the trie's top for all 65,536. The
 * range is always the aligned block of some prefix of ::ffff:0:0/96 to /112. */
static void jump_fill(const struct prefixtrie *t, struct prefixtrie_jump *v4, uint32_t at,
		      uint32_t lo, uint32_t hi, uint32_t value, uint8_t len)
{
	const struct prefixtrie_node *n;
	const struct key top = {{0, 0xffffull << 32}};
	uint32_t mlo = lo, mhi = hi;
	unsigned cover;

	if (at == PREFIXTRIE_NONE) {
		jump_set(v4, lo, hi, PREFIXTRIE_NONE, value, len);
		return;
	}
	n = &t->nodes[at];
	cover = n->len < JUMP_BITS ? n->len : JUMP_BITS;
	if (cover <= 96) {
		if (!within(&top, n->key, cover)) /* no IPv4 address is below n */
			mhi = mlo;
	} else { /* the indexes that share n's bits 96..cover */
		uint32_t base = (uint32_t)(n->key[1] >> 16) & 0xffff,
			 size = 1u << (JUMP_BITS - cover);

		mlo = base > lo ? base : lo;
		mhi = base + size < hi ? base + size : hi;
		if (mhi <= mlo) /* (a child's block lies in its side's half: not seen) */
			mlo = mhi = lo;
	}
	jump_set(v4, lo, mlo, PREFIXTRIE_NONE, value, len); /* the walk stops: nothing below */
	jump_set(v4, mhi, hi, PREFIXTRIE_NONE, value, len);
	if (mlo == mhi)
		return;
	if (n->len >= JUMP_BITS) { /* the rest of the walk needs the other 16 bits */
		jump_set(v4, mlo, mhi, at, value, len);
		return;
	}
	if (n->value != PREFIXTRIE_NONE && n->len >= 96) {
		value = n->value;
		len = n->len;
	}
	if (n->len < 96) { /* every IPv4 address takes the same side */
		jump_fill(t, v4, n->child[bit(top.w, n->len)], mlo, mhi, value, len);
	} else {
		uint32_t mid = mlo + (1u << (JUMP_BITS - 1 - n->len));

		jump_fill(t, v4, n->child[0], mlo, mid, value, len);
		jump_fill(t, v4, n->child[1], mid, mhi, value, len);
	}
}

int prefixtrie_freeze(struct prefixtrie *t)
{
	if (t->v4 || t->prefixes < 1024)
		return 0;
	t->v4 = malloc(65536 * sizeof(*t->v4));
	if (!t->v4)
		return -ENOMEM;
	jump_fill(t, t->v4, t->root, 0, 65536, PREFIXTRIE_NONE, 0);
	return 0;
}

uint32_t prefixtrie_lookup_scope(const struct prefixtrie *t, int family, const void *addr,
				 unsigned *len, unsigned *scope)
{
	struct key k;
	int off = make_key(family, addr, &k);
	uint32_t best = PREFIXTRIE_NONE, at = t->root;
	unsigned best_len = 0, decided = 0;

	if (off < 0)
		return PREFIXTRIE_NONE;
	if (off && t->v4) {
		const struct prefixtrie_jump *j = &t->v4[(k.w[1] >> 16) & 0xffff];

		best = j->value;
		best_len = j->len;
		at = j->at;
		/* a walk that ends inside the indexed bits was decided by all 16 of them */
		decided = JUMP_BITS;
	}
	for (;;) {
		const struct prefixtrie_node *n;
		unsigned cl;

		if (at == PREFIXTRIE_NONE)
			break; /* no child there: the bit that chose it decided */
		n = &t->nodes[at];
		cl = common(k.w, n->key, n->len);
		if (cl < n->len) {
			/* every address that parts from n's prefix at the same bit ends here too */
			if (cl + 1 > decided)
				decided = cl + 1;
			break;
		}
		if (n->value != PREFIXTRIE_NONE &&
		    n->len >= off) { /* IPv6 ::/N below /96 is not IPv4's */
			best = n->value;
			best_len = n->len;
		}
		if (n->len == 128 ||
		    (n->child[0] == PREFIXTRIE_NONE && n->child[1] == PREFIXTRIE_NONE)) {
			/* a leaf: every address below it ends here alike */
			if (n->len > decided)
				decided = n->len;
			break;
		}
		if (n->len + 1u > decided)
			decided = n->len + 1u;
		at = n->child[bit(k.w, n->len)];
	}
	if (decided > 128)
		decided = 128;
	if (len && best != PREFIXTRIE_NONE)
		*len = best_len - (unsigned)off;
	if (scope)
		*scope = decided > (unsigned)off ? decided - (unsigned)off : 0;
	return best;
}

uint32_t prefixtrie_lookup(const struct prefixtrie *t, int family, const void *addr, unsigned *len)
{
	return prefixtrie_lookup_scope(t, family, addr, len, NULL);
}
