/* SPDX-License-Identifier: MIT */
/* What a prober (prober.h) tells its owner: the callbacks' types, apart so that the prober's
 * insides (probe.h) can name them without the prober's interface. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "health.h"
#include "snapshot.h"

/* Address addr (text) of handler h went up or down (a's reason says why); the slot s says
 * how many are up now. Called for the changes to log (health_log_change()): flapping says
 * that the next ones of the address in this window are not, quiet how many of the window
 * before were not. */
typedef void (*prober_changed_fn)(void *userdata, const struct handler *h, const char *addr,
				  bool up, const struct health_addr *a, const struct health_slot *s,
				  bool flapping, uint32_t quiet);
/* The state file of handler h could not be taken (why in d; the previous states are kept),
 * or, with d NULL, is taken again after such a problem. */
typedef void (*prober_file_fn)(void *userdata, const struct handler *h, const char *path,
			       const struct diag *d);

/* A result was recorded; urgent when it may change answers (an address went up or down, a
 * load changed), so that the copies that do not probe should learn it at once. */
typedef void (*prober_notify_fn)(void *userdata, bool urgent);
