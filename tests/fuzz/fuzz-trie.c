/* SPDX-License-Identifier: MIT */
/* The prefix trie against a naive model: a list of the prefixes added, scanned linearly,
 * everything in the trie's own terms (128-bit keys, IPv4 as ::ffff:a.b.c.d, an IPv4
 * prefix 96 bits longer).
 *
 * Input: byte 0 holds flags, then records of a header byte and its bytes. Header bit 0:
 * a query (1) or a prefix to add (0); bit 1: IPv6; bits 2-3 an IPv6 address's base
 * (2001:db8::, ::ffff:0:0, :: or fe80::); bits 4-7 + 1 bytes of an IPv6 address written
 * over the base at the offset the next byte gives (mod 16, clipped); an IPv4 address
 * takes 4 bytes. A prefix has a length byte after its address (mod 33 or 129), and its
 * value is its index mod 8 (views share values). Flags bit 0: after a first round of
 * checks, 1,024 more prefixes under one IPv4 /16 (the next two bytes after the flags)
 * are added and the trie frozen, so the IPv4 index is built, and everything is checked
 * again.
 *
 * Checked for every query, every added prefix's first and last address and the
 * addresses just outside them, in both families where they apply:
 * - prefixtrie_add() says -EEXIST exactly for a prefix the model holds already;
 * - the longest match: the value and length of the longest prefix that contains the
 *   address, IPv6 prefixes shorter than /96 not counting for an IPv4 address;
 * - the ECS scope rule: the scope is the fewest leading bits (at least the match's
 *   length) that no other prefix lies below, so that every address sharing them gets the
 *   same answer; with the IPv4 index an IPv4 lookup reports at least its 16 bits;
 * - prefixtrie_get(): a prefix added is found with its value, under both spellings of an
 *   IPv4 one, and a length that was not added is not. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "prefixtrie.h"

/* The model's loops are not what coverage should steer by, and comparison tracing there
 * would cost most of the time. */
#if defined(__clang__)
#define MODEL __attribute__((no_sanitize("coverage")))
#else
#define MODEL
#endif

#define MAX_PREFIXES 128
#define MAX_QUERIES  128
#define PAD	     1024

/* 128 bits, most significant first */
struct k128 {
	uint64_t w[2];
};

struct pfx {
	struct k128 k; /* bits past len zero */
	unsigned len;  /* 0..128 */
	uint32_t value;
};

/* The prefixes in the order they were added, and an index of them by key and length, so
 * that "is this prefix there already" is one probe instead of a scan: adding the padding
 * one by one with scans cost a million comparisons per input. */
#define SLOTS 4096 /* a power of two, over twice MAX_PREFIXES + PAD */

struct model {
	struct pfx p[MAX_PREFIXES + PAD];
	size_t n;
	uint16_t slot[SLOTS]; /* an index into p plus one; 0: free */
};

static struct model m;

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static struct k128 key_of(int family, const uint8_t *a)
{
	if (family == AF_INET6)
		return (struct k128){{be64(a), be64(a + 8)}};
	return (struct k128){{0, 0xffffull << 32 | (uint64_t)a[0] << 24 | (uint64_t)a[1] << 16 |
				     (uint64_t)a[2] << 8 | a[3]}};
}

static void bytes_of(struct k128 k, uint8_t out[16])
{
	for (int i = 0; i < 16; i++)
		out[i] = (uint8_t)(k.w[i / 8] >> (56 - 8 * (i % 8)));
}

/* How many leading bits a and b share. */
static MODEL unsigned shared(struct k128 a, struct k128 b)
{
	if (a.w[0] != b.w[0])
		return (unsigned)__builtin_clzll(a.w[0] ^ b.w[0]);
	if (a.w[1] != b.w[1])
		return 64 + (unsigned)__builtin_clzll(a.w[1] ^ b.w[1]);
	return 128;
}

static uint64_t ones(unsigned bits)
{
	return bits == 0 ? 0 : bits >= 64 ? ~0ull : ~0ull << (64 - bits);
}

static struct k128 cut(struct k128 k, unsigned len)
{
	k.w[0] &= ones(len);
	k.w[1] &= ones(len > 64 ? len - 64 : 0);
	return k;
}

/* Where prefix k/len is in the index, or the free slot where it would go (linear probing). */
static MODEL uint16_t *model_slot(struct k128 k, unsigned len)
{
	uint64_t h = (k.w[0] * 0x9e3779b97f4a7c15ull) ^ (k.w[1] * 0xc2b2ae3d27d4eb4full) ^ len;
	size_t i = (size_t)(h ^ h >> 29) & (SLOTS - 1);

	for (;; i = (i + 1) & (SLOTS - 1)) {
		const struct pfx *p;

		if (!m.slot[i])
			return &m.slot[i];
		p = &m.p[m.slot[i] - 1];
		if (p->len == len && p->k.w[0] == k.w[0] && p->k.w[1] == k.w[1])
			return &m.slot[i];
	}
}

static MODEL bool model_has(struct k128 k, unsigned len, uint32_t *value)
{
	const uint16_t *s = model_slot(k, len);

	if (!*s)
		return false;
	*value = m.p[*s - 1].value;
	return true;
}

/* Adds to both; the trie must agree on what is a duplicate. */
static void add(struct prefixtrie *t, int family, const uint8_t *a, unsigned len, uint32_t value)
{
	unsigned off = family == AF_INET ? 96 : 0;
	struct k128 k = cut(key_of(family, a), len + off);
	uint32_t old;
	bool dup = model_has(k, len + off, &old);
	int r = prefixtrie_add(t, family, a, len, value);

	fuzz_assert(r == (dup ? -EEXIST : 0));
	if (dup) {
		fuzz_assert(prefixtrie_get(t, family, a, len) == old);
		return;
	}
	fuzz_assert(m.n < sizeof(m.p) / sizeof(m.p[0]));
	m.p[m.n++] = (struct pfx){.k = k, .len = len + off, .value = value};
	*model_slot(k, len + off) = (uint16_t)m.n;
}

/* One address checked against the model. */
static MODEL void check(const struct prefixtrie *t, int family, const uint8_t *a)
{
	unsigned off = family == AF_INET ? 96 : 0, width = family == AF_INET ? 32 : 128;
	unsigned best_len = 0, ideal = 0, got_len = 999, scope = 999, want_scope;
	uint32_t best = PREFIXTRIE_NONE, got;
	struct k128 k = key_of(family, a);

	for (size_t i = 0; i < m.n; i++) {
		const struct pfx *p = &m.p[i];
		unsigned c = shared(p->k, k);

		if (c >= p->len) { /* p contains the address */
			if (p->len >= off && (best == PREFIXTRIE_NONE || p->len > best_len)) {
				best = p->value;
				best_len = p->len;
			}
			/* found exactly from any address inside it */
			if (p->len >= off)
				fuzz_assert(prefixtrie_get(t, family, a, p->len - off) == p->value);
		} else if (c + 1 > ideal) /* every address sharing c bits would fall in p */
			ideal = c + 1;
	}
	if (best != PREFIXTRIE_NONE && best_len > ideal)
		ideal = best_len;
	want_scope = ideal > off ? ideal - off : 0;
	if (family == AF_INET && t->v4 && want_scope < 16)
		want_scope = 16;

	got = prefixtrie_lookup_scope(t, family, a, &got_len, &scope);
	fuzz_assert(got == best);
	if (best != PREFIXTRIE_NONE)
		fuzz_assert(got_len == best_len - off);
	else
		fuzz_assert(got_len == 999); /* not written */
	fuzz_assert(scope == want_scope && scope <= width);
	fuzz_assert(prefixtrie_lookup(t, family, a, NULL) == best);

	/* exact lookups of lengths that may be missing: the whole address, the one past the
	 * match, and a length picked by the address */
	{
		unsigned lens[3] = {width, best != PREFIXTRIE_NONE ? best_len - off + 1 : 0,
				    (unsigned)(k.w[1] % (width + 1))};

		for (int i = 0; i < 3; i++) {
			uint32_t v;

			if (lens[i] > width)
				continue;
			if (!model_has(cut(k, lens[i] + off), lens[i] + off, &v))
				v = PREFIXTRIE_NONE;
			fuzz_assert(prefixtrie_get(t, family, a, lens[i]) == v);
		}
	}
	/* bad input */
	fuzz_assert(prefixtrie_get(t, family, a, width + 1) == PREFIXTRIE_NONE);
}

/* Checks a model prefix's edges: its first and last address and their outer neighbours,
 * as IPv6 and, inside ::ffff:0:0/96, as IPv4 too. */
static MODEL void check_edges(const struct prefixtrie *t, const struct pfx *p)
{
	struct k128 hi = {
	    {p->k.w[0] | ~ones(p->len), p->k.w[1] | ~ones(p->len > 64 ? p->len - 64 : 0)}};

	for (int e = 0; e < 4; e++) {
		struct k128 k = e < 2 ? p->k : hi;
		uint8_t a[16];

		if (e == 1) /* the address before the first: minus one, with the borrow */
			k = (struct k128){{k.w[0] - (k.w[1] == 0), k.w[1] - 1}};
		if (e == 3)
			k = (struct k128){{k.w[0] + (k.w[1] == ~0ull), k.w[1] + 1}};
		bytes_of(k, a);
		check(t, AF_INET6, a);
		if (k.w[0] == 0 && k.w[1] >> 32 == 0xffff)
			check(t, AF_INET, a + 12);
	}
}

static const uint8_t bases[4][16] = {
    {0x20, 0x01, 0x0d, 0xb8},
    {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff},
    {0},
    {0xfe, 0x80},
};

struct query {
	int family;
	uint8_t a[16];
};

static void check_all(const struct prefixtrie *t, const struct query *q, size_t nq,
		      size_t n_explicit)
{
	fuzz_assert(t->prefixes == m.n);
	for (size_t i = 0; i < nq; i++)
		check(t, q[i].family, q[i].a);
	/* the padding's edges are alike: a sample is enough */
	for (size_t i = 0; i < m.n; i += i < n_explicit ? 1 : 97)
		check_edges(t, &m.p[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct query q[MAX_QUERIES];
	struct prefixtrie t;
	size_t pos = 1, nq = 0, added = 0;
	uint8_t flags;

	if (size < 1)
		return 0;
	flags = data[0];
	m.n = 0;
	memset(m.slot, 0, sizeof(m.slot));
	prefixtrie_init(&t);
	while (pos < size) {
		uint8_t h = data[pos++], a[16] = {0};
		int family = h & 2 ? AF_INET6 : AF_INET;

		if (family == AF_INET) {
			if (size - pos < 4)
				break;
			memcpy(a, data + pos, 4);
			pos += 4;
		} else {
			size_t n = (size_t)(h >> 4) + 1, o;

			if (size - pos < n + 1)
				break;
			o = data[pos++] % 16;
			if (o + n > 16)
				n = 16 - o;
			memcpy(a, bases[(h >> 2) & 3], 16);
			memcpy(a + o, data + pos, n);
			pos += (size_t)(h >> 4) + 1;
		}
		if (h & 1) {
			if (nq < MAX_QUERIES) {
				q[nq].family = family;
				memcpy(q[nq].a, a, 16);
				nq++;
			}
			continue;
		}
		if (pos >= size || added >= MAX_PREFIXES)
			break;
		add(&t, family, a, data[pos++] % (family == AF_INET ? 33u : 129u),
		    (uint32_t)(added++ % 8));
	}
	/* freezing a small trie builds no index: lookups walk from the root */
	fuzz_assert(prefixtrie_freeze(&t) == 0);
	fuzz_assert(t.v4 == NULL || t.prefixes >= 1024);
	check_all(&t, q, nq, m.n);

	if (flags & 1) {
		size_t n_explicit = m.n;
		uint8_t p1 = size > 1 ? data[1] : 10, p2 = size > 2 ? data[2] : 0;
		uint32_t x = 0x9e3779b9u ^ flags;

		size_t goal = m.n + PAD;

		/* the padding: distinct prefixes /17 to /32 under p1.p2.0.0/16 */
		while (m.n < goal) {
			uint8_t a[4] = {p1, p2};

			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			a[2] = (uint8_t)(x >> 8);
			a[3] = (uint8_t)x;
			add(&t, AF_INET, a, 17 + (x >> 24) % 16,
			    x >> 29); /* a duplicate adds nothing */
		}
		fuzz_assert(prefixtrie_freeze(&t) == 0);
		fuzz_assert(t.v4 != NULL);
		check_all(&t, q, nq, n_explicit);
	}
	prefixtrie_done(&t);
	return 0;
}
