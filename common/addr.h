/* SPDX-License-Identifier: MIT */
/* The single-address codec of the address lists. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ADDR_TEXT_MAX 46 /* INET6_ADDRSTRLEN */

/* Parses one IPv4 token exactly as inet_pton(AF_INET) does. Returns true on success. */
bool addr_parse4(const char *s, size_t len, uint8_t out[4]);
/* Parses one IPv6 token (len bytes, not NUL terminated) as inet_pton(AF_INET6) does. */
bool addr_parse6(const char *s, size_t len, uint8_t out[16]);
/* Write the text inet_ntop() gives for a (ADDR_TEXT_MAX bytes, NUL terminated); return its length.
 */
size_t addr_format4(const uint8_t *a, char *out);
size_t addr_format6(const uint8_t *a, char *out);
