/* SPDX-License-Identifier: MIT */
/* What a copy says about itself: in one line for the HELO banner, CMD status and systemd's
 * STATUS=, and the text of PowerDNS's CMD (pdnsutil backend-cmd). */
#pragma once

#include "daemon.h"
#include "session.h"

/* One line describing the state (malloc'd), or NULL when out of memory. */
char *daemon_status_line(const struct daemon *d);

/* A session's questions to its owner, the daemon (userdata): the banner and CMD. */
extern const struct session_ops daemon_session_ops;
