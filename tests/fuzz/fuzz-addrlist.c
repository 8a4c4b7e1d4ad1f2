/* SPDX-License-Identifier: MIT */
/* The address-file parser against an oracle built on inet_pton: the first byte picks the
 * family, the rest is the file. The file is accepted exactly when every line is blank, a
 * comment, or one token (surrounding blanks and a trailing comment allowed) that inet_pton
 * accepts for the family, no line is over ADDRLIST_MAX_LINE bytes or holds a NUL, and there
 * is at least one address; and then the list holds those addresses in order. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "addrlist.h"
#include "diag.h"
#include "fuzz.h"

static bool blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

/* The oracle's verdict; the addresses go to out (n of them). */
static bool oracle(const char *s, size_t len, int family, uint8_t *out, size_t *n)
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
		for (const char *c = tok; *c; c++)
			if (blank(*c))
				return false; /* more than one token */
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
	size_t n;
	bool ok;
	int family, r;

	if (size < 1 || size > 1 << 20)
		return 0;
	family = data[0] & 1 ? AF_INET6 : AF_INET;
	want = malloc(size * 16 + 16);
	fuzz_assert(want);
	ok = oracle((const char *)data + 1, size - 1, family, want, &n);
	diag_init(&d);
	r = addrlist_parse((const char *)data + 1, size - 1, family, "fuzz.txt", &d, &l);
	fuzz_assert(r == 0 || r == -EINVAL);
	fuzz_assert((r == 0) == ok);
	if (r == 0) {
		fuzz_assert(l->n == n && l->family == family);
		fuzz_assert(memcmp(l->addrs, want, n * (family == AF_INET ? 4 : 16)) == 0);
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
	return 0;
}
