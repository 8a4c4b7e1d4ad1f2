/* SPDX-License-Identifier: MIT */
/* The address-file parser against an oracle built on inet_pton: the first byte picks the
 * family (bit 0) and whether the list is weighted (bit 1), the rest is the file. The file is
 * accepted exactly when every line is blank, a comment, or one token (surrounding blanks and
 * a trailing comment allowed) that is either an address inet_pton accepts for the family, in
 * a weighted list optionally followed by blanks and a weight of 1 to 7 digits up to 1000000,
 * or, in a list that is not weighted, a prefix: an address inet_pton accepts, '/', and a
 * length of 1 to 3 digits without a leading zero from /8 (IPv4) or /104 (IPv6) to the
 * address's width, with the host bits zero; no line is over ADDRLIST_MAX_LINE bytes or holds
 * a NUL, there is at least one address and at most ADDRLIST_MAX_ADDRS counting every address
 * of every prefix; and then the list holds those addresses (a prefix's in ascending order,
 * checked at sampled indexes), and those weights (1 where none is given), in order. A small
 * list with prefixes also equals, hash included, the same addresses written one per line. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "addrlist.h"
#include "diag.h"
#include "fuzz.h"

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* One line's worth of addresses: count of them from a, ascending. */
struct item {
	uint8_t a[16];
	uint32_t count;
	uint64_t weight;
};

/* A prefix token by the rule above; *count gets its number of addresses. */
static bool oracle_prefix(char *tok, int family, uint8_t *a, uint32_t *count)
{
	char *slash = strchr(tok, '/'), *len = slash + 1;
	unsigned bits = family == AF_INET ? 32 : 128, min = family == AF_INET ? 8 : 104, v = 0;
	size_t digits = strlen(len);

	*slash = 0;
	if (inet_pton(family, tok, a) != 1)
		return false;
	if (digits == 0 || digits > 3 || (digits > 1 && len[0] == '0'))
		return false;
	for (char *c = len; *c; c++) {
		if (*c < '0' || *c > '9')
			return false;
		v = v * 10 + (unsigned)(*c - '0');
	}
	if (v < min || v > bits)
		return false;
	for (unsigned b = v; b < bits; b++)
		if (a[b / 8] & (0x80u >> (b % 8)))
			return false;
	*count = 1u << (bits - v);
	return true;
}

/* The oracle's verdict; the lines' addresses go to out (m of them), n counts the addresses. */
static bool oracle(const char *s, size_t len, int family, bool weighted, struct item *out,
		   size_t *m, uint64_t *n, bool *prefixes)
{
	const char *end = s + len;

	*m = 0;
	*n = 0;
	*prefixes = false;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s)), *e = nl ? nl : end, *b = s,
			   *hash;
		char tok[ADDRLIST_MAX_LINE + 1];
		size_t l = (size_t)(e - s);
		struct item *it = &out[*m];

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
		memset(it, 0, sizeof(*it));
		it->weight = 1;
		it->count = 1;
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
				it->weight = v;
				break;
			}
		if (strchr(tok, '/')) {
			if (weighted || !oracle_prefix(tok, family, it->a, &it->count))
				return false;
			*prefixes = true;
		} else if (inet_pton(family, tok, it->a) != 1)
			return false;
		*n += it->count;
		if (*n > ADDRLIST_MAX_ADDRS)
			return false;
		(*m)++;
	}
	return *m > 0;
}

/* Address j of item it. */
static void item_addr(const struct item *it, int family, uint32_t j, uint8_t out[16])
{
	size_t width = family == AF_INET ? 4 : 16;

	memcpy(out, it->a, 16);
	for (size_t k = width; j; k--, j >>= 8)
		out[k - 1] |= (uint8_t)j;
}

static void check_addr(const struct addrlist *l, const struct item *it, uint64_t first, uint32_t j)
{
	uint8_t want[16], got[16];
	char mine[64], libc[64];
	size_t width = l->family == AF_INET ? 4 : 16;

	item_addr(it, l->family, j, want);
	addrlist_get(l, (uint32_t)(first + j), got);
	fuzz_assert(memcmp(got, want, width) == 0);
	/* and the formatter gives back what inet_ntop gives */
	addrlist_format(l, (uint32_t)(first + j), mine);
	inet_ntop(l->family, want, libc, sizeof(libc));
	fuzz_assert(strcmp(mine, libc) == 0);
}

/* A list with prefixes of at most 4096 addresses equals the same addresses one per line. */
static void check_spelled_out(const struct addrlist *l, const struct item *items, size_t m)
{
	char *text = malloc((size_t)l->n * 48 + 1), line[64];
	struct addrlist *plain = NULL;
	struct diag d;
	size_t o = 0;
	uint8_t a[16];

	fuzz_assert(text);
	for (size_t k = 0; k < m; k++)
		for (uint32_t j = 0; j < items[k].count; j++) {
			item_addr(&items[k], l->family, j, a);
			inet_ntop(l->family, a, line, sizeof(line));
			o += (size_t)sprintf(text + o, "%s\n", line);
		}
	diag_init(&d);
	fuzz_assert(addrlist_parse(text, o, l->family, 0, "plain.txt", &d, &plain) == 0);
	fuzz_assert(!plain->runs && plain->n == l->n);
	fuzz_assert(addrlist_equal(l, plain) && addrlist_equal(plain, l));
	fuzz_assert(l->hash == plain->hash);
	addrlist_unref(plain);
	diag_clear(&d);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addrlist *l = NULL;
	struct diag d;
	struct item *items;
	size_t m;
	uint64_t n;
	bool ok, weighted, prefixes;
	int family, r;

	if (size < 1 || size > 1 << 20)
		return 0;
	family = data[0] & 1 ? AF_INET6 : AF_INET;
	weighted = data[0] & 2;
	items = malloc(size * sizeof(*items) + sizeof(*items));
	fuzz_assert(items);
	ok = oracle((const char *)data + 1, size - 1, family, weighted, items, &m, &n, &prefixes);
	diag_init(&d);
	r = addrlist_parse((const char *)data + 1, size - 1, family,
			   weighted ? ADDRLIST_WEIGHTS : 0, "fuzz.txt", &d, &l);
	fuzz_assert(r == 0 || r == -EINVAL);
	fuzz_assert((r == 0) == ok);
	if (r == 0) {
		uint64_t total = 0, first = 0;

		fuzz_assert(l->n == n && l->family == family);
		fuzz_assert(!l->runs == !prefixes);
		fuzz_assert(!l->cum == !weighted);
		for (size_t k = 0; k < m; k++) {
			const struct item *it = &items[k];

			if (!weighted)
				fuzz_assert(addrlist_weight(l, (uint32_t)first) == 1);
			else {
				fuzz_assert(addrlist_weight(l, (uint32_t)k) == it->weight);
				total += it->weight;
			}
			/* every address of the first lines, samples of the rest */
			if (k < 64 || it->count > 1) {
				check_addr(l, it, first, 0);
				check_addr(l, it, first, it->count - 1);
				check_addr(l, it, first, it->count / 2);
				check_addr(l, it, first, (uint32_t)((k * 2654435761u) % it->count));
			}
			first += it->count;
		}
		if (weighted) {
			fuzz_assert(l->total == total);
			/* the schedule serves only addresses with a weight */
			for (uint64_t k = 0; total && k < 64; k++)
				fuzz_assert(addrlist_weight(l, addrlist_weighted_at(l, k)) > 0);
		}
		if (prefixes && n <= 4096)
			check_spelled_out(l, items, m);
		addrlist_unref(l);
	} else
		fuzz_assert(d.n_msgs > 0);
	diag_clear(&d);
	free(items);
	return 0;
}
