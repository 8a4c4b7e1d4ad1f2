/* SPDX-License-Identifier: MIT */
/* What a copy says about itself in one line: the HELO banner, CMD status, systemd's STATUS=. */
#pragma once

#include "daemon.h"

/* One line describing the state (malloc'd), or NULL when out of memory. */
char *daemon_status_line(const struct daemon *d);
