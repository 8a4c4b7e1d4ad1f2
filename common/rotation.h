/* SPDX-License-Identifier: MIT */
/* Rotation positions, one per handler slot. They live outside snapshots so that a reload
 * can carry them over. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rotation {
	uint64_t *next; /* how many times each slot has advanced */
	/* NULL, or per slot the counter it advances instead: one shared with the other copies
	 * (coprocess mode's default), or its own next[] entry */
	uint64_t **shared;
	/* NULL, or with shared: a word the copies of one PowerDNS share to tell each other what
	 * the lookups of a question look like (rotation_hint_*) */
	uint64_t *hint;
	uint32_t hint_owner; /* the PowerDNS process whose copies share hint: our parent */
	size_t n;
	uint64_t rng; /* the random policy's generator (splitmix64); 0 until seeded */
};

/* Makes room for n slots; new slots start at 0. Seeds rng from getrandom() if it is 0.
 * Returns 0 or -ENOMEM. */
int rotation_resize(struct rotation *r, size_t n);
void rotation_done(struct rotation *r);

/* Index of the address a slot serves next, in a list of len addresses. */
static inline uint32_t rotation_peek(const struct rotation *r, uint32_t slot, uint32_t len)
{
	if (r->shared)
		return (uint32_t)(__atomic_load_n(r->shared[slot], __ATOMIC_RELAXED) % len);
	return (uint32_t)(r->next[slot] % len);
}

/* How many times a slot has advanced (its own counter or the shared one). */
static inline uint64_t rotation_count(const struct rotation *r, uint32_t slot)
{
	return r->shared ? __atomic_load_n(r->shared[slot], __ATOMIC_RELAXED) : r->next[slot];
}

/* Returns the slot's count and advances it by step. */
static inline uint64_t rotation_advance(struct rotation *r, uint32_t slot, uint64_t step)
{
	if (r->shared)
		return __atomic_fetch_add(r->shared[slot], step, __ATOMIC_RELAXED);
	r->next[slot] += step;
	return r->next[slot] - step;
}

/* The copies of one PowerDNS share what one of them learnt from its lookups: PowerDNS's
 * query cache, which all threads share, may keep the lookups that teach it from the others.
 * The word holds the PowerDNS process it is about (its pid, shifted), so that a PowerDNS
 * started again with other settings does not read what the last one taught. */
#define ROTATION_HINT_NS_PROBES 1u /* NS probes below the apex: consistent-backends=no */

static inline bool rotation_hint(const struct rotation *r, uint64_t bit)
{
	uint64_t w = r->hint ? __atomic_load_n(r->hint, __ATOMIC_RELAXED) : 0;

	return w >> 8 == r->hint_owner && (w & bit);
}

static inline void rotation_hint_set(struct rotation *r, uint64_t bit)
{
	if (r->hint && !rotation_hint(r, bit))
		__atomic_store_n(r->hint, (uint64_t)r->hint_owner << 8 | bit, __ATOMIC_RELAXED);
}

/* splitmix64's output function: a 64-bit mix with every bit depending on every bit. */
static inline uint64_t rotation_mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* The next 64 random bits (splitmix64: fast, and good enough to spread answers). */
static inline uint64_t rotation_random(struct rotation *r)
{
	return rotation_mix(r->rng += 0x9e3779b97f4a7c15u);
}

/* Returns the index to serve and advances the slot by one. */
static inline uint32_t rotation_take(struct rotation *r, uint32_t slot, uint32_t len)
{
	if (r->shared)
		return (uint32_t)(__atomic_fetch_add(r->shared[slot], 1, __ATOMIC_RELAXED) % len);
	return (uint32_t)(r->next[slot]++ % len);
}
