/* SPDX-License-Identifier: MIT */
/* The weighted schedule of an address list: every address gets exactly its weight in each run
 * of total positions, its positions spread evenly over the run. */
#pragma once

#include <stdint.h>

/* The stride nearest total / golden ratio that is coprime with total (0 below 2): position k
 * of the schedule is k * step mod total, a permutation of each run of total positions, which
 * spreads an address's positions evenly over the run as the golden-ratio (Fibonacci) lattice
 * does. */
uint64_t schedule_step(uint64_t total);
/* The address at position pos: the first of the n cumulative weights cum[] (cum[n-1] = total
 * > 0) above pos's place in the walk. */
uint32_t schedule_at(const uint64_t *cum, uint32_t n, uint64_t total, uint64_t step, uint64_t pos);
