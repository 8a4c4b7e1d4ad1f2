/* SPDX-License-Identifier: MIT */
/* Files the copies of one PowerDNS share in the control directory (the rotation's counters,
 * the health checks' lock). */
#pragma once

/* For a file fd at path that this process just made: when it runs as root (a copy started by
 * hand, or by pdnsutil as root), the file goes to the owner and group of its directory, read
 * and write for both (/run/pdyndns: pdyndns and pdns), so that the copies PowerDNS runs as its
 * own user can open it too. Does nothing otherwise, or for a directory owned by root. */
void ctlfile_give_to_dir(int fd, const char *path);
