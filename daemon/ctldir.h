/* SPDX-License-Identifier: MIT */
/* The control directory, where each copy's control socket is DIR/pdyndns.PID.sock (control.h),
 * bound as DIR/.pdyndns.PID.new until it listens. */
#pragma once

#include <stddef.h>

struct buf;

/* Removes sockets of copies that no longer run, and the names of sockets a copy died
 * before it put in place; never touches anything but sockets. */
void ctldir_sweep(const char *dir);

/* For a copy that serves no question (pdnsutil backend-cmd starts one for its commands):
 * appends to out one line for each other copy with a live control socket in dir, with what
 * it says of itself (generation, lookups, uptime), asked over its socket with a short
 * timeout, and returns how many there are. */
size_t ctldir_describe_copies(const char *dir, struct buf *out);
