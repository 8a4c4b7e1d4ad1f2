/* SPDX-License-Identifier: MIT */
/* The address-file parser against an oracle built on inet_pton: the first byte picks the
 * family (bit 0) and whether the list is weighted (bit 1), the rest is the file. The file is
 * accepted exactly when every line is blank, a comment, or one token (surrounding blanks and
 * a trailing comment allowed) that inet_pton accepts for the family, in a weighted list
 * optionally followed by blanks and a weight of 1 to 7 digits up to 1000000; no line is over
 * ADDRLIST_MAX_LINE bytes or holds a NUL, and there is at least one address; and then the
 * list holds those addresses, and those weights (1 where none is given), in order. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "addrlist.h"
#include "diag.h"
#include "fuzz.h"

static bool blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

/* The oracle's verdict; the addresses go to out (n of them). */
static bool oracle(const char *s, size_t len, int family, bool weighted, uint8_t *out,
		   uint64_t *weights, size_t *n)
{
	const char *end = s + len;
	size_t width = family == AF_INET ? 4 : 16;

	*n = 0;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s)), *e = nl ? nl : end, *b = s, *hash;
		char tok[ADDRLIST_MAX_LINE + 1];
		size_t l = (size_t)(e - s);

		s = e + 1;
		if (l > ADDRLIST_MAX_LINE || memchr(b, 0, l))
			return false;
		hash = memchr(b, '#', l);
		if (hash)
			e = hash;
		while (b < e && blank(*b))
			b++;
		while (e > b && blank(e[-1]))
			e--;
		if (b == e)
			continue;
		memcpy(tok, b, (size_t)(e - b));
		tok[e - b] = 0;
		weights[*n] = 1;
		for (char *c = tok; *c; c++)
			if (blank(*c)) {
				char *w = c;
				uint64_t v = 0;
				size_t digits = 0;

				if (!weighted)
					return false; /* more than one token */
				*c = 0;
				while (blank(*++w))
					;
				for (; *w >= '0' && *w <= '9'; w++, digits++)
					v = v * 10 + (uint64_t)(*w - '0');
				if (*w || digits == 0 || digits > 7 || v > 1000000)
					return false;
				weights[*n] = v;
				break;
			}
		if (inet_pton(family, tok, out + *n * width) != 1)
			return false;
		(*n)++;
	}
	return *n > 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addrlist *l = NULL;
	struct diag d;
	uint8_t *want;
	uint64_t *weights;
	size_t n;
	bool ok, weighted;
	int family, r;

	if (size < 1 || size > 1 << 20)
		return 0;
	family = data[0] & 1 ? AF_INET6 : AF_INET;
	weighted = data[0] & 2;
	want = malloc(size * 16 + 16);
	weights = malloc(size * sizeof(*weights) + 8);
	fuzz_assert(want && weights);
	ok = oracle((const char *)data + 1, size - 1, family, weighted, want, weights, &n);
	diag_init(&d);
	r = addrlist_parse((const char *)data + 1, size - 1, family, weighted ? ADDRLIST_WEIGHTS : 0,
			   "fuzz.txt", &d, &l);
	fuzz_assert(r == 0 || r == -EINVAL);
	fuzz_assert((r == 0) == ok);
	if (r == 0) {
		uint64_t total = 0;

		fuzz_assert(l->n == n && l->family == family);
		fuzz_assert(memcmp(l->addrs, want, n * (family == AF_INET ? 4 : 16)) == 0);
		fuzz_assert(!l->cum == !weighted);
		for (size_t i = 0; i < n; i++) {
			fuzz_assert(addrlist_weight(l, (uint32_t)i) == (weighted ? weights[i] : 1));
			total += weights[i];
		}
		if (weighted) {
			fuzz_assert(l->total == total);
			/* the schedule serves only addresses with a weight */
			for (uint64_t k = 0; total && k < 64; k++)
				fuzz_assert(addrlist_weight(l, addrlist_weighted_at(l, k)) > 0);
		}
		/* and the formatter gives back what inet_ntop gives */
		for (size_t i = 0; i < n && i < 64; i++) {
			char mine[64], libc[64];

			addrlist_format(l, (uint32_t)i, mine);
			inet_ntop(family, addrlist_at(l, (uint32_t)i), libc, sizeof(libc));
			fuzz_assert(strcmp(mine, libc) == 0);
		}
		addrlist_unref(l);
	} else
		fuzz_assert(d.n_msgs > 0);
	diag_clear(&d);
	free(want);
	free(weights);
	return 0;
}
