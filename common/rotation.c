/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "rotation.h"

static void seed(struct rotation *r)
{
	struct timespec ts;

	if (getrandom(&r->rng, sizeof(r->rng), GRND_NONBLOCK) != sizeof(r->rng)) {
		/* no entropy yet (early boot): answers need spreading, not secrecy */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		r->rng = rotation_mix((uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 30 ^
				      (uint64_t)getpid() << 48);
	}
	if (!r->rng)
		r->rng = 1;
}

int rotation_resize(struct rotation *r, size_t n)
{
	uint64_t *p;

	if (!r->rng)
		seed(r);
	if (n <= r->n)
		return 0;
	p = realloc(r->next, n * sizeof(*p));
	if (!p)
		return -ENOMEM;
	memset(p + r->n, 0, (n - r->n) * sizeof(*p));
	r->next = p;
	r->n = n;
	return 0;
}

void rotation_done(struct rotation *r)
{
	free(r->next);
	free(r->shared);
	*r = (struct rotation){0};
}
