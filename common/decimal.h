/* SPDX-License-Identifier: MIT */
/* The plain decimals of address files, view prefixes and record contents. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* len bytes of a decimal from 0 to max: digits only, no sign, no leading zero ("0" itself is
 * fine). True and *out on success. */
static inline bool decimal_parse(const char *s, size_t len, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 10 || (len > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}
