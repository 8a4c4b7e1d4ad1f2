/* SPDX-License-Identifier: MIT */
/* Rotation shared by the coprocesses of one PowerDNS (pdyndns --shared-rotation): a file of
 * counters in the control directory, mapped by every copy and advanced with atomic adds. A
 * handler's counter is found by its name, its type and the hash of its addresses, so copies
 * agree without talking to each other: a list that did not change keeps its position across
 * reloads in every copy, and a changed one starts at its first address in all of them. */
#pragma once

#include "daemon.h"

#define SHAREDROT_FILE "rotation.counters"
#define SHAREDROT_SLOTS 65536u /* counters in the file: handlers × list versions alive */

struct sharedrot;

/* Maps (creating it if needed) DIR/rotation.counters. Returns 0 or a negative errno, with
 * the reason logged. */
int sharedrot_open(struct daemon *d, const char *dir, struct sharedrot **ret);
struct sharedrot *sharedrot_close(struct sharedrot *t);

/* Points r's slots (sized for s) at the shared counters of s's handlers, claiming counters
 * for new lists. A handler without room in the file keeps its own counter (warned once).
 * Returns 0 or -ENOMEM. */
int sharedrot_attach(struct sharedrot *t, const struct snapshot *s, struct rotation *r);
