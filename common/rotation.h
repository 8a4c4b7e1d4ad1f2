/* SPDX-License-Identifier: MIT */
/* Rotation positions, one per handler slot. They live outside snapshots so that a reload
 * can carry them over. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct rotation {
	uint64_t *next; /* how many times each slot has advanced */
	size_t n;
};

/* Makes room for n slots; new slots start at 0. Returns 0 or -ENOMEM. */
int rotation_resize(struct rotation *r, size_t n);
void rotation_done(struct rotation *r);

/* Index of the address a slot serves next, in a list of len addresses. */
static inline uint32_t rotation_peek(const struct rotation *r, uint32_t slot, uint32_t len)
{
	return (uint32_t)(r->next[slot] % len);
}

/* Returns the index to serve and advances the slot by one. */
static inline uint32_t rotation_take(struct rotation *r, uint32_t slot, uint32_t len)
{
	return (uint32_t)(r->next[slot]++ % len);
}
