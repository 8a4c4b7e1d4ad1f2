/* SPDX-License-Identifier: MIT */
/* The prefix trie: longest match with nesting in both families, the family boundary,
 * duplicates and bad input, and agreement with a brute-force scan over random prefix sets
 * in random insertion orders, with and without the IPv4 index of prefixtrie_freeze(). */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "prefixtrie.h"

static void add(struct prefixtrie *t, const char *text, uint32_t value)
{
	char buf[64];
	uint8_t a[16];
	char *slash;
	int family;

	strcpy(buf, text);
	slash = strchr(buf, '/');
	*slash = 0;
	family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(family, buf, a), 1);
	assert_int_equal(prefixtrie_add(t, family, a, (unsigned)atoi(slash + 1), value), 0);
}

/* "value/len" of the longest match for address text, or "none" */
static const char *find(const struct prefixtrie *t, const char *text)
{
	static char out[32];
	uint8_t a[16];
	int family = strchr(text, ':') ? AF_INET6 : AF_INET;
	unsigned len = 999;
	uint32_t v;

	assert_int_equal(inet_pton(family, text, a), 1);
	v = prefixtrie_lookup(t, family, a, &len);
	if (v == PREFIXTRIE_NONE)
		return "none";
	snprintf(out, sizeof(out), "%u/%u", v, len);
	return out;
}

static void test_nesting(void **state)
{
	struct prefixtrie t;

	prefixtrie_init(&t);
	assert_string_equal(find(&t, "10.1.2.3"), "none");
	add(&t, "10.0.0.0/8", 1);
	add(&t, "10.1.0.0/16", 2);
	add(&t, "10.1.2.0/24", 3);
	add(&t, "10.1.2.3/32", 4);
	add(&t, "0.0.0.0/0", 5);
	add(&t, "192.0.2.128/25", 6);
	assert_string_equal(find(&t, "10.1.2.3"), "4/32");
	assert_string_equal(find(&t, "10.1.2.4"), "3/24");
	assert_string_equal(find(&t, "10.1.3.4"), "2/16");
	assert_string_equal(find(&t, "10.2.0.0"), "1/8");
	assert_string_equal(find(&t, "11.0.0.0"), "5/0");
	assert_string_equal(find(&t, "192.0.2.127"), "5/0");
	assert_string_equal(find(&t, "192.0.2.128"), "6/25");
	/* IPv6 lives beside it */
	add(&t, "2001:db8::/32", 7);
	add(&t, "2001:db8:1::/48", 8);
	add(&t, "2001:db8:1:2::1/128", 9);
	assert_string_equal(find(&t, "2001:db8:1:2::1"), "9/128");
	assert_string_equal(find(&t, "2001:db8:1:2::2"), "8/48");
	assert_string_equal(find(&t, "2001:db8:ffff::"), "7/32");
	assert_string_equal(find(&t, "2001:db9::"), "none");
	/* an IPv4-mapped address is its IPv4 address */
	assert_string_equal(find(&t, "::ffff:10.1.2.4"), "3/120");
	{
		/* scopes: how many bits decided */
		uint8_t a[16];
		unsigned scope = 0;

		inet_pton(AF_INET6, "2001:db8:ffff::", a);
		assert_int_equal(prefixtrie_lookup_scope(&t, AF_INET6, a, NULL, &scope), 7);
		assert_int_equal(scope, 33); /* bit 33 keeps it out of 2001:db8:1::/48 */
		inet_pton(AF_INET6, "2001:db8:1:2::1", a);
		assert_int_equal(prefixtrie_lookup_scope(&t, AF_INET6, a, NULL, &scope), 9);
		assert_int_equal(scope, 128);
		/* a prefix with nothing below it is decided by its own bits, not one more (an
		 * answer for the /25 carries ECS scope 25, as the view said) */
		inet_pton(AF_INET, "192.0.2.200", a);
		assert_int_equal(prefixtrie_lookup_scope(&t, AF_INET, a, NULL, &scope), 6);
		assert_int_equal(scope, 25);
		inet_pton(AF_INET6, "2001:db8:1:3::", a);
		assert_int_equal(prefixtrie_lookup_scope(&t, AF_INET6, a, NULL, &scope), 8);
		assert_int_equal(scope, 64); /* its 64th bit parts it from 2001:db8:1:2::1 */
	}
	assert_int_equal(t.prefixes, 9);
	prefixtrie_done(&t);
}

/* prefixtrie_get(): exactly that prefix, not the longest that holds its address */
static void test_exact(void **state)
{
	struct prefixtrie t;
	uint8_t a[16];

	prefixtrie_init(&t);
	add(&t, "10.0.0.0/8", 1);
	add(&t, "10.0.0.0/24", 2);
	add(&t, "2001:db8::/32", 3);
	inet_pton(AF_INET, "10.0.0.0", a);
	assert_int_equal(prefixtrie_get(&t, AF_INET, a, 8), 1);
	assert_int_equal(prefixtrie_get(&t, AF_INET, a, 24), 2);
	assert_int_equal(prefixtrie_get(&t, AF_INET, a, 16), PREFIXTRIE_NONE);
	assert_int_equal(prefixtrie_get(&t, AF_INET, a, 32), PREFIXTRIE_NONE);
	assert_int_equal(prefixtrie_get(&t, AF_INET, a, 0), PREFIXTRIE_NONE);
	assert_int_equal(prefixtrie_get(&t, AF_INET, a, 33), PREFIXTRIE_NONE);
	assert_int_equal(prefixtrie_get(&t, AF_UNIX, a, 8), PREFIXTRIE_NONE);
	/* host bits do not matter; the IPv4-mapped spelling is the same prefix */
	inet_pton(AF_INET, "10.9.9.9", a);
	assert_int_equal(prefixtrie_get(&t, AF_INET, a, 8), 1);
	inet_pton(AF_INET6, "::ffff:10.0.0.0", a);
	assert_int_equal(prefixtrie_get(&t, AF_INET6, a, 104), 1);
	assert_int_equal(prefixtrie_get(&t, AF_INET6, a, 120), 2);
	assert_int_equal(prefixtrie_get(&t, AF_INET6, a, 96), PREFIXTRIE_NONE);
	inet_pton(AF_INET6, "2001:db8:1::", a);
	assert_int_equal(prefixtrie_get(&t, AF_INET6, a, 32), 3);
	assert_int_equal(prefixtrie_get(&t, AF_INET6, a, 31), PREFIXTRIE_NONE);
	assert_int_equal(prefixtrie_get(&t, AF_INET6, a, 48), PREFIXTRIE_NONE);
	prefixtrie_done(&t);
	/* an empty trie has nothing */
	assert_int_equal(prefixtrie_get(&t, AF_INET6, a, 0), PREFIXTRIE_NONE);
}

static void test_families_apart(void **state)
{
	struct prefixtrie t;

	prefixtrie_init(&t);
	add(&t, "::/0", 1);
	/* all of IPv6 is not IPv4 */
	assert_string_equal(find(&t, "192.0.2.1"), "none");
	assert_string_equal(find(&t, "2001:db8::1"), "1/0");
	add(&t, "0.0.0.0/0", 2);
	assert_string_equal(find(&t, "192.0.2.1"), "2/0");
	assert_string_equal(find(&t, "2001:db8::1"), "1/0");
	prefixtrie_done(&t);
}

static void test_bad_input(void **state)
{
	struct prefixtrie t;
	uint8_t a[16] = {10};

	prefixtrie_init(&t);
	assert_int_equal(prefixtrie_add(&t, AF_INET, a, 33, 1), -EINVAL);
	assert_int_equal(prefixtrie_add(&t, AF_INET6, a, 129, 1), -EINVAL);
	assert_int_equal(prefixtrie_add(&t, AF_UNIX, a, 8, 1), -EINVAL);
	assert_int_equal(prefixtrie_add(&t, AF_INET, a, 8, PREFIXTRIE_NONE), -EINVAL);
	assert_int_equal(prefixtrie_add(&t, AF_INET, a, 8, 1), 0);
	/* the same prefix with other host bits: a duplicate, and the first value stays */
	a[3] = 7;
	assert_int_equal(prefixtrie_add(&t, AF_INET, a, 8, 2), -EEXIST);
	assert_int_equal(prefixtrie_lookup(&t, AF_INET, a, NULL), 1);
	assert_int_equal(prefixtrie_lookup(&t, AF_UNIX, a, NULL), PREFIXTRIE_NONE);
	assert_int_equal(t.prefixes, 1);
	prefixtrie_done(&t);
}

/* --- against brute force --- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

struct pfx {
	int family;
	uint8_t a[16];
	unsigned len;
};

static bool contains(const struct pfx *p, int family, const uint8_t *a)
{
	if (p->family != family)
		return false;
	for (unsigned i = 0; i < p->len; i++)
		if (((p->a[i / 8] ^ a[i / 8]) >> (7 - i % 8)) & 1)
			return false;
	return true;
}

/* addresses share a few high bytes, so that prefixes nest and branch a lot */
static void random_addr(int family, uint8_t *a)
{
	unsigned n = family == AF_INET ? 4 : 16;

	for (unsigned i = 0; i < n; i++)
		a[i] = (uint8_t)next();
	a[0] = family == AF_INET ? 10 : 0x20;
	a[1] = (uint8_t)(next() % 3);
	if (family == AF_INET6)
		a[2] = (uint8_t)(next() % 2);
}

static void test_random(void **state)
{
	enum { N = 3000, Q = 15000 };
	struct pfx *p = calloc(N, sizeof(*p));
	unsigned *value = calloc(N, sizeof(*value));
	struct prefixtrie t;

	assert_non_null(p);
	for (int round = 0; round < 4; round++) {
		unsigned n = 0;

		prefixtrie_init(&t);
		for (unsigned i = 0; i < N; i++) {
			int family = next() % 3 ? AF_INET : AF_INET6;
			unsigned max = family == AF_INET ? 32 : 128;
			int r;

			p[n].family = family;
			random_addr(family, p[n].a);
			p[n].len = (unsigned)(next() % (max + 1));
			if (next() % 4 == 0) /* many short ones too */
				p[n].len = (unsigned)(next() % 17);
			r = prefixtrie_add(&t, family, p[n].a, p[n].len, n);
			if (r == -EEXIST) {
				/* a duplicate of an earlier one: it must say so truthfully */
				bool dup = false;

				for (unsigned j = 0; j < n && !dup; j++)
					dup = p[j].family == family && p[j].len == p[n].len &&
					      contains(&p[j], family, p[n].a);
				assert_true(dup);
				continue;
			}
			assert_int_equal(r, 0);
			n++;
		}
		assert_int_equal(t.prefixes, n);
		/* each prefix is found exactly with its own value, and one bit longer it is not
		 * (unless that one was added too) */
		for (unsigned j = 0; j < n; j++) {
			unsigned max = p[j].family == AF_INET ? 32 : 128;
			uint32_t longer = PREFIXTRIE_NONE;

			assert_int_equal(prefixtrie_get(&t, p[j].family, p[j].a, p[j].len), j);
			for (unsigned i = 0; i < n && p[j].len < max; i++)
				if (p[i].family == p[j].family && p[i].len == p[j].len + 1 &&
				    contains(&p[i], p[j].family, p[j].a))
					longer = i;
			if (p[j].len < max)
				assert_int_equal(
				    prefixtrie_get(&t, p[j].family, p[j].a, p[j].len + 1), longer);
		}
		if (round % 2) { /* half the rounds with the IPv4 index */
			assert_int_equal(prefixtrie_freeze(&t), 0);
			assert_non_null(t.v4);
		}
		for (unsigned q = 0; q < Q; q++) {
			int family = next() % 3 ? AF_INET : AF_INET6;
			uint8_t a[16];
			unsigned want = PREFIXTRIE_NONE, want_len = 0, got_len = 0;
			uint32_t got;

			random_addr(family, a);
			if (next() % 2) { /* an address inside a known prefix */
				const struct pfx *in = &p[next() % n];

				if (in->family == family)
					for (unsigned b = 0; b < in->len; b++) {
						uint8_t m = (uint8_t)(0x80 >> (b % 8));

						a[b / 8] =
						    (uint8_t)((a[b / 8] & ~m) | (in->a[b / 8] & m));
					}
			}
			for (unsigned j = 0; j < n; j++)
				if (contains(&p[j], family, a) &&
				    (want == PREFIXTRIE_NONE || p[j].len > want_len)) {
					want = j;
					want_len = p[j].len;
				}
			got = prefixtrie_lookup(&t, family, a, &got_len);
			assert_int_equal(got, want);
			if (want != PREFIXTRIE_NONE)
				assert_int_equal(got_len, want_len);
			if (q % 8 == 0) {
				/* the scope: addresses sharing that many leading bits get the same
				 */
				unsigned scope = 999, bits = family == AF_INET ? 32 : 128;
				uint8_t b[16];

				assert_int_equal(
				    prefixtrie_lookup_scope(&t, family, a, NULL, &scope), want);
				assert_true(scope <= bits);
				if (want != PREFIXTRIE_NONE)
					assert_true(scope >= want_len);
				for (int v = 0; v < 4; v++) {
					random_addr(family, b);
					for (unsigned i = 0; i < scope; i++) {
						uint8_t m = (uint8_t)(0x80 >> (i % 8));

						b[i / 8] =
						    (uint8_t)((b[i / 8] & ~m) | (a[i / 8] & m));
					}
					assert_int_equal(prefixtrie_lookup(&t, family, b, NULL),
							 want);
				}
			}
		}
		prefixtrie_done(&t);
	}
	free(p);
	free(value);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nesting),	   cmocka_unit_test(test_exact),
	    cmocka_unit_test(test_families_apart), cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
