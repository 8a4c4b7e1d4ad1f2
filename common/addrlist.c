/* SPDX-License-Identifier: MIT */
/* The packed address list (addrlist.h): its addresses by index, expanded from prefix runs,
 * compared and hashed whatever their spelling, shared by reference. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "addrlist.h"
#include "schedule.h"

/* FNV-1a over the 8-byte words of a byte stream, then its last bytes one by one, then its
 * length; fed in pieces, it gives what one call over the whole stream would. */
struct hasher {
	uint64_t h;
	size_t len;
	uint8_t tail[8];
	size_t have;
};

#define HASHER_INIT ((struct hasher){.h = 0xcbf29ce484222325u})

_no_coverage_ static void hasher_feed(struct hasher *s, const uint8_t *p, size_t n)
{
	uint64_t w, h;
	size_t i = 0;

	s->len += n;
	if (s->have) {
		while (s->have < 8 && i < n)
			s->tail[s->have++] = p[i++];
		if (s->have < 8)
			return;
		memcpy(&w, s->tail, 8);
		s->h = (s->h ^ w) * 0x100000001b3u;
		s->have = 0;
	}
	h = s->h; /* a local: the stores to s->h could alias p */
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x100000001b3u;
	}
	s->h = h;
	memcpy(s->tail, p + i, n - i);
	s->have = n - i;
}

static uint64_t hasher_end(struct hasher *s)
{
	for (size_t i = 0; i < s->have; i++)
		s->h = (s->h ^ s->tail[i]) * 0x100000001b3u;
	return (s->h ^ s->len) * 0x100000001b3u;
}

static inline size_t width_of(const struct addrlist *l)
{
	return l->family == AF_INET ? 4 : 16;
}

/* The run that holds index i (i < n) of a list with runs. */
static const struct addrlist_run *find_run(const struct addrlist *l, uint32_t i)
{
	uint32_t lo = 0, hi = l->n_runs - 1;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo + 1) / 2;

		if (l->runs[mid].first <= i)
			lo = mid;
		else
			hi = mid - 1;
	}
	return &l->runs[lo];
}

/* Addresses k to k + count - 1 of prefix run r, packed into out. Below 2^24, k only touches
 * the last 4 bytes' host bits, which are zero in base. */
_no_coverage_ static void prefix_fill(const struct addrlist_run *r, size_t width, uint32_t k,
				      uint32_t count, uint8_t *out)
{
	uint32_t tail;

	memcpy(&tail, r->base + width - 4, 4);
	tail = ntohl(tail);
	for (uint32_t j = 0; j < count; j++, out += width) {
		uint32_t v = htonl(tail | (k + j));

		memcpy(out, r->base, width - 4);
		memcpy(out + width - 4, &v, 4);
	}
}

/* Addresses i to i + count - 1 (at most n) of a list with runs, packed into out. */
_no_coverage_ static void expand(const struct addrlist *l, uint32_t i, uint32_t count, uint8_t *out)
{
	const struct addrlist_run *r = find_run(l, i);
	size_t width = width_of(l);

	while (count) {
		uint32_t k = i - r->first, m = r->len - k < count ? r->len - k : count;

		if (r->off == ADDRLIST_RUN_PREFIX)
			prefix_fill(r, width, k, m, out);
		else
			memcpy(out, l->addrs + ((size_t)r->off + k) * width, (size_t)m * width);
		out += (size_t)m * width;
		i += m;
		count -= m;
		r++;
	}
}

#define EXPAND_BLOCK 256 /* addresses expanded at a time to hash or compare a list with runs */

uint64_t addrlist_hash(const struct addrlist *l)
{
	struct hasher s = HASHER_INIT;
	size_t width = width_of(l);

	if (!l->runs)
		hasher_feed(&s, l->addrs, (size_t)l->n * width);
	else {
		uint8_t block[EXPAND_BLOCK * 16];

		for (uint32_t i = 0; i < l->n; i += EXPAND_BLOCK) {
			uint32_t m = l->n - i < EXPAND_BLOCK ? l->n - i : EXPAND_BLOCK;

			expand(l, i, m, block);
			hasher_feed(&s, block, (size_t)m * width);
		}
	}
	return hasher_end(&s);
}

uint32_t addrlist_weighted_at(const struct addrlist *l, uint64_t pos)
{
	return schedule_at(l->cum, l->n, l->total, l->step, pos);
}

bool addrlist_equal(const struct addrlist *a, const struct addrlist *b)
{
	size_t width = width_of(a);

	/* equal lists have equal hashes, whatever their spelling */
	if (a->family != b->family || a->n != b->n || !a->cum != !b->cum || a->hash != b->hash)
		return false;
	if (a->cum && memcmp(a->cum, b->cum, (size_t)a->n * sizeof(*a->cum)) != 0)
		return false;
	if (!a->runs && !b->runs)
		return memcmp(a->addrs, b->addrs, (size_t)a->n * width) == 0;
	for (uint32_t i = 0; i < a->n; i += EXPAND_BLOCK) {
		uint8_t x[EXPAND_BLOCK * 16], y[EXPAND_BLOCK * 16];
		uint32_t m = a->n - i < EXPAND_BLOCK ? a->n - i : EXPAND_BLOCK;

		if (a->runs)
			expand(a, i, m, x);
		else
			memcpy(x, a->addrs + (size_t)i * width, (size_t)m * width);
		if (b->runs)
			expand(b, i, m, y);
		else
			memcpy(y, b->addrs + (size_t)i * width, (size_t)m * width);
		if (memcmp(x, y, (size_t)m * width) != 0)
			return false;
	}
	return true;
}

struct addrlist *addrlist_ref(struct addrlist *l)
{
	if (l)
		__atomic_add_fetch(&l->refs, 1, __ATOMIC_RELAXED);
	return l;
}

struct addrlist *addrlist_unref(struct addrlist *l)
{
	if (l && __atomic_sub_fetch(&l->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		free(l->addrs);
		free(l->cum);
		free(l->runs);
		free(l);
	}
	return NULL;
}

void addrlist_get(const struct addrlist *l, uint32_t i, uint8_t out[16])
{
	size_t width = width_of(l);

	if (!l->runs)
		memcpy(out, l->addrs + (size_t)i * width, width);
	else
		expand(l, i, 1, out);
}

size_t addrlist_format(const struct addrlist *l, uint32_t i, char *out)
{
	uint8_t tmp[16];
	const uint8_t *a;

	if (!l->runs)
		a = l->addrs + (size_t)i * (l->family == AF_INET ? 4 : 16);
	else {
		expand(l, i, 1, tmp);
		a = tmp;
	}
	return l->family == AF_INET ? addr_format4(a, out) : addr_format6(a, out);
}
