/* SPDX-License-Identifier: MIT */
/* The prefix file of a view: the networks whose clients get that view's list. */
#pragma once

#include <stdint.h>

#include "diag.h"
#include "prefixtrie.h"

/* Adds every prefix of the file at path to t with value (a view's index; names[] names the
 * views by index, for "is also in view" messages). Returns 0, -EINVAL after adding every
 * problem to d (t then holds a part of the file: the caller drops it), or another negative
 * errno. The file is capped at 256 MiB, a line at 200 bytes. */
int prefixfile_load(struct prefixtrie *t, const char *path, uint32_t value,
		    const char *const *names, struct diag *d);
