/* SPDX-License-Identifier: MIT */
/* One address between text and bytes (addr.h), as inet_pton and inet_ntop do it, faster. */
#include <arpa/inet.h>
#include <string.h>

#include "addr.h"

bool addr_parse4(const char *s, size_t len, uint8_t out[4])
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0, digits = 0;

		if (part) {
			if (i >= len || s[i] != '.')
				return false;
			i++;
		}
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			if (digits && v == 0) /* leading zero */
				return false;
			v = v * 10 + (unsigned)(s[i] - '0');
			if (v > 255)
				return false;
			digits++;
			i++;
		}
		if (!digits)
			return false;
		out[part] = (uint8_t)v;
	}
	return i == len;
}

bool addr_parse6(const char *s, size_t len, uint8_t out[16])
{
	char tmp[ADDR_TEXT_MAX];

	if (len >= sizeof(tmp))
		return false;
	memcpy(tmp, s, len);
	tmp[len] = 0;
	return inet_pton(AF_INET6, tmp, out) == 1;
}

size_t addr_format4(const uint8_t *a, char *out)
{
	size_t o = 0;

	for (int i = 0; i < 4; i++) {
		unsigned v = a[i];

		if (i)
			out[o++] = '.';
		if (v >= 100)
			out[o++] = (char)('0' + v / 100);
		if (v >= 10)
			out[o++] = (char)('0' + v / 10 % 10);
		out[o++] = (char)('0' + v % 10);
	}
	out[o] = 0;
	return o;
}

/* The same text as glibc's inet_ntop(AF_INET6), without its sprintf: the longest run of
 * two or more zero groups becomes "::" (the first of equal runs), hex digits are lowercase
 * without leading zeros, and ::a.b.c.d / ::ffff:a.b.c.d keep a dotted IPv4 tail. */
size_t addr_format6(const uint8_t *a, char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned w[8];
	int best = -1, best_len = 0, cur = -1, cur_len = 0;
	size_t o = 0;

	for (int i = 0; i < 8; i++) {
		w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
		if (w[i] == 0) {
			if (cur < 0)
				cur = i, cur_len = 0;
			cur_len++;
			if (cur_len > best_len)
				best = cur, best_len = cur_len;
		} else
			cur = -1;
	}
	if (best_len < 2)
		best = -1;
	for (int i = 0; i < 8; i++) {
		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				out[o++] = ':';
			continue;
		}
		if (i)
			out[o++] = ':';
		if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff))) {
			o += addr_format4(a + 12, out + o);
			return o;
		}
		{
			/* the word in hex without leading zeros: 1 to 4 digits */
			unsigned v = w[i];
			size_t nd = v >= 0x1000 ? 4 : v >= 0x100 ? 3 : v >= 0x10 ? 2 : 1;

			for (size_t k = nd; k-- > 0; v >>= 4)
				out[o + k] = hex[v & 15];
			o += nd;
		}
	}
	if (best >= 0 && best + best_len == 8)
		out[o++] = ':';
	out[o] = 0;
	return o;
}
