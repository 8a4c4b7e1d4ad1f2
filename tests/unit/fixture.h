/* SPDX-License-Identifier: MIT */
/* A small zone on disk for unit tests: dyn.example.test with
 *   t1     A 192.0.2.1-3, AAAA 2001:db8::1-4
 *   a.b.c  A 198.51.100.1-2
 *   broken A (a file with a bad line)
 * and NS ns1.example.test, ns2.example.test. (no dot: pdyndns adds it). */
#pragma once

#include "snapshot.h"

/* Writes the files under a new temp dir (its path in dir, 64 bytes) and builds the
 * snapshot; fails the test on any problem other than the broken file. */
struct snapshot *fixture_zone(char *dir);
/* The same names, and one of everything else a config can hold: views (inline and a prefix
 * file, match resolver), every policy, prefix lines, a wildcard, static records of several
 * types, whoami, reverse (IPv4 and IPv6) and two more zones. For the fuzz targets. */
struct snapshot *fixture_zone_all(char *dir);
/* The snapshot of dir/config.json as it is now, built against prev as a reload builds it
 * (the rotation of a list that did not change carries on). */
struct snapshot *fixture_reload(const char *dir, const struct snapshot *prev);
/* Writes text to dir/name (fails the test if it cannot). */
void fixture_write(const char *dir, const char *name, const char *text);
/* Removes the temp dir. */
void fixture_cleanup(const char *dir);
