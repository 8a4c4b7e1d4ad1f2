/* SPDX-License-Identifier: MIT */
/* A strict RFC 8259 syntax check that runs before json-c builds the tree. json-c accepts
 * things a config must not contain and cannot report them: duplicate keys, NaN/Infinity,
 * single quotes, comments, trailing commas, invalid UTF-8, a byte-order mark, and \u0000
 * (json-c's strings end there: a key would not be the one checked for duplicates, a value
 * would be cut). This scanner rejects all of them and says where, by line and column. */
#pragma once

#include <stddef.h>

#define JSONSCAN_MAX_DEPTH 64

struct jsonscan_error {
	size_t line;   /* 1-based */
	size_t col;    /* 1-based, in bytes */
	char msg[400]; /* what is wrong */
};

/* Checks that text (len bytes) is exactly one JSON value with optional surrounding
 * whitespace. Returns 0, or -EINVAL with *err filled, or -ENOMEM. */
int jsonscan_check(const char *text, size_t len, struct jsonscan_error *err);
