/* SPDX-License-Identifier: MIT */
/* The table of handler kinds (kind.h). A new kind is a file of its own and two lines here:
 * its declaration and its place in the table. */
#include <stdio.h>
#include <string.h>

#include "kind.h"
#include "macro.h"

extern const struct kind kind_static;
extern const struct kind kind_whoami;
extern const struct kind kind_reverse;

static const struct kind *const kinds[] = {
    &kind_static,
    &kind_whoami,
    &kind_reverse,
};

const struct kind *kind_find(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
		if (strcmp(kinds[i]->name, name) == 0)
			return kinds[i];
	return NULL;
}

const char *kind_names(char *out, size_t size)
{
	size_t n = (size_t)snprintf(out, size, "\"addresses\"");

	for (size_t i = 0; i < ELEMENTSOF(kinds) && n < size; i++)
		n += (size_t)snprintf(out + n, size - n, ", \"%s\"", kinds[i]->name);
	return out;
}
