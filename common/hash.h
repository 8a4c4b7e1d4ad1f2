/* SPDX-License-Identifier: MIT */
/* FNV-1a: the hash of table keys (paths, view sources) that need no defence against chosen
 * collisions. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FNV_OFFSET 0xcbf29ce484222325u

/* h continued over the n bytes at p (start with FNV_OFFSET). */
static inline uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ ((const uint8_t *)p)[i]) * 0x100000001b3u;
	return h;
}

/* The hash of a string. */
static inline uint64_t fnv1a_str(const char *s)
{
	return fnv1a(FNV_OFFSET, s, strlen(s));
}
