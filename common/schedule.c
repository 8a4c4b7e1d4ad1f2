/* SPDX-License-Identifier: MIT */
/* The weighted schedule (schedule.h). */
#include <math.h>

#include "schedule.h"

static uint64_t gcd64(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

uint64_t schedule_step(uint64_t total)
{
	uint64_t g;

	if (total < 2)
		return 0;
	g = (uint64_t)llround((double)total * 0.6180339887498949);
	for (uint64_t d = 0;; d++) {
		if (g + d < total && gcd64(g + d, total) == 1)
			return g + d;
		if (d && d < g && gcd64(g - d, total) == 1)
			return g - d;
	}
}

uint32_t schedule_at(const uint64_t *cum, uint32_t n, uint64_t total, uint64_t step, uint64_t pos)
{
	uint64_t x = (uint64_t)((unsigned __int128)(pos % total) * step % total);
	uint32_t lo = 0, hi = n - 1;

	/* the first address whose cumulative weight is above x: a drained one never is */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (cum[mid] > x)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}
