/* SPDX-License-Identifier: MIT */
/* triebench N: builds a prefix trie (common/prefixtrie) of N prefixes, half IPv4 (/16 to /32,
 * most /24) and half IPv6 (/32 to /64, most /48), random but reproducible, then looks up 4 M
 * addresses, half inside some prefix. Prints "build_ms=... mib=... ns_per_lookup=...
 * found=...". For per-client views: how the match cost grows with the number of prefixes. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "prefixtrie.h"

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void fill(uint8_t *a, unsigned n)
{
	for (unsigned i = 0; i < n; i += 8) {
		uint64_t r = next();

		for (unsigned j = 0; j < 8 && i + j < n; j++)
			a[i + j] = (uint8_t)(r >> (8 * j));
	}
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 1000000, found = 0;
	enum { LOOKUPS = 4000000 };
	uint8_t(*pick)[16] = malloc((size_t)n * 16);
	uint8_t(*q)[17] = malloc((size_t)LOOKUPS * 17);
	struct prefixtrie t;
	double t0, t1, t2;

	if (!pick || !q)
		return 1;
	prefixtrie_init(&t);
	t0 = now_ms();
	for (unsigned i = 0; i < n; i++) {
		int v6 = i % 2;
		unsigned r = (unsigned)(next() % 8);
		unsigned len = v6 ? (r < 6 ? 48 : 32 + (unsigned)(next() % 33))
				  : (r < 6 ? 24 : 16 + (unsigned)(next() % 17));

		fill(pick[i], 16);
		if (v6) {
			pick[i][0] = 0x20;
			pick[i][1] = 0x01;
		}
		(void)prefixtrie_add(&t, v6 ? AF_INET6 : AF_INET, pick[i], len, i);
	}
	if (prefixtrie_freeze(&t) < 0)
		return 1;
	t1 = now_ms();
	for (unsigned i = 0; i < LOOKUPS; i++) {
		/* q[i][0]: the family; then the address, inside a prefix or anywhere */
		unsigned from = (unsigned)(next() % n);

		q[i][0] = from % 2;
		fill(q[i] + 1, 16);
		if (i % 2)
			for (unsigned b = 0; b < 4; b++) /* the first 32 bits: mostly inside */
				q[i][1 + b] = pick[from][b];
	}
	t2 = now_ms();
	for (unsigned i = 0; i < LOOKUPS; i++)
		found += prefixtrie_lookup(&t, q[i][0] ? AF_INET6 : AF_INET, q[i] + 1, NULL) !=
			 PREFIXTRIE_NONE;
	t2 = now_ms() - t2;
	printf("build_ms=%.0f mib=%.1f ns_per_lookup=%.0f found=%u prefixes=%u\n", t1 - t0,
	       (double)t.cap * sizeof(*t.nodes) / (1 << 20), t2 * 1e6 / LOOKUPS, found, t.prefixes);
	prefixtrie_done(&t);
	free(pick);
	free(q);
	return 0;
}
