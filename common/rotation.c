/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rotation.h"

int rotation_resize(struct rotation *r, size_t n)
{
	uint64_t *p;

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
