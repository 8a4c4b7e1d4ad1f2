/* SPDX-License-Identifier: MIT */
/* The health file's codec (healthfile.h): what the prober copy writes comes back whole in a
 * follower, and every field a reader takes is checked: the size, the magic, the version,
 * the header's and records' sizes, the count against the size, the checksum, and each field
 * of each record; a file cut at any length, or with any byte changed, is refused without a
 * crash. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "healthfile.h"

#define N 3

/* A file of N records: 192.0.2.1 up, 2001:db8::2 down with a load, 192.0.2.3 unchecked. */
static size_t make(uint8_t **out)
{
	size_t len = healthfile_size(N);
	uint8_t *b = calloc(1, len), a4[4] = {192, 0, 2, 1},
		a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2}, a3[4] = {192, 0, 2, 3};
	struct healthfile_record *r =
	    (struct healthfile_record *)(b + sizeof(struct healthfile_header));
	struct health_addr up = {.up = true,
				 .checked = true,
				 .last_ok = true,
				 .good = 4,
				 .since = 1700000000,
				 .latency_us = 250,
				 .next_ms = 1700000001500};
	struct health_addr down = {.checked = true,
				   .has_load = true,
				   .load = 0.75,
				   .bad = 3,
				   .since = 1700000100,
				   .latency_us = 1000000};
	struct health_addr fresh = {.up = true, .since = 1700000200};

	assert_non_null(b);
	strcpy(up.reason, "connected");
	strcpy(down.reason, "HTTP 503");
	healthfile_put(&r[0], healthfile_handler_key("www.dyn.example.test.", 1, 0), 4, a4, &up);
	healthfile_put(&r[1], healthfile_handler_key("www.dyn.example.test.", 28, 0), 6, a6, &down);
	healthfile_put(&r[2], healthfile_handler_key("www.dyn.example.test.", 1, 0), 4, a3, &fresh);
	healthfile_seal(b, len, 42, 1700000300123, 4321);
	*out = b;
	return len;
}

static struct healthfile_record *rec(uint8_t *b, size_t k)
{
	return (struct healthfile_record *)(b + sizeof(struct healthfile_header)) + k;
}

/* The reason healthfile_parse() gives for the len bytes at b (sealed again first when
 * reseal, so that the field itself is judged, not the checksum), or "ok". */
static const char *verdict(uint8_t *b, size_t len, bool reseal)
{
	static char why[200];
	const struct healthfile_header *h = NULL;
	const struct healthfile_header *o = (const void *)b;

	if (reseal)
		healthfile_seal(b, len, o->generation, o->written_ms, o->pid);
	if (healthfile_parse(b, len, &h, why, sizeof(why)) == 0) {
		assert_ptr_equal(h, b);
		return "ok";
	}
	assert_null(h); /* written only on success */
	return why;
}

static void test_round_trip(void **state)
{
	uint8_t *b;
	size_t len = make(&b);
	const struct healthfile_header *h;
	const struct healthfile_record *r;
	struct health_addr a = {.up = true, .log_window = 77, .logged = 2};
	char why[200];

	(void)state;
	assert_int_equal(healthfile_parse(b, len, &h, why, sizeof(why)), 0);
	assert_int_equal(h->n_records, N);
	assert_int_equal(h->generation, 42);
	assert_int_equal(h->pid, 4321);
	assert_int_equal(h->written_ms, 1700000300123);
	r = healthfile_records(h);
	/* up, with its history: nothing an answer sees changed */
	assert_false(healthfile_get(&r[0], &a));
	assert_true(a.up && a.checked && a.last_ok && !a.has_load);
	assert_int_equal(a.good, 4);
	assert_int_equal(a.since, 1700000000);
	assert_int_equal(a.latency_us, 250);
	assert_int_equal(a.next_ms, 1700000001500);
	assert_string_equal(a.reason, "connected");
	assert_int_equal(a.log_window, 77); /* the copy's own log rate limit stays */
	assert_int_equal(a.logged, 2);
	/* down with a load: a change for answers */
	assert_true(healthfile_get(&r[1], &a));
	assert_true(!a.up && a.has_load && a.load == 0.75 && a.bad == 3 && a.good == 0);
	assert_string_equal(a.reason, "HTTP 503");
	assert_int_equal(a.next_ms, 0);
	assert_int_equal(r[1].family, 6);
	/* the same again: no change; another load: a change */
	assert_false(healthfile_get(&r[1], &a));
	rec(b, 1)->load = 2;
	assert_true(healthfile_get(rec(b, 1), &a));
	/* the keys tell types and views apart */
	assert_int_not_equal(healthfile_handler_key("a.", 1, 0),
			     healthfile_handler_key("a.", 28, 0));
	assert_int_not_equal(healthfile_handler_key("a.", 1, 0),
			     healthfile_handler_key("a.", 1, 1));
	assert_int_not_equal(healthfile_handler_key("a.", 1, 0),
			     healthfile_handler_key("b.", 1, 0));
	free(b);
}

static void test_header(void **state)
{
	uint8_t *b;
	size_t len = make(&b);
	struct healthfile_header *h = (void *)b;
	uint8_t *big;

	(void)state;
	assert_string_equal(verdict(b, len, false), "ok");
	assert_string_equal(verdict(b, 0, false), "0 bytes, shorter than a header");
	assert_string_equal(verdict(b, sizeof(*h) - 1, false), "55 bytes, shorter than a header");
	/* no records is a file */
	assert_string_equal(verdict(b, sizeof(*h), true), "ok");
	healthfile_seal(b, len, 42, 1, 2);

	h->magic[0] = 'Q';
	assert_string_equal(verdict(b, len, false), "bad magic (not a pdyndns health file)");
	h->magic[0] = 'P';
	h->version = 2;
	assert_string_equal(verdict(b, len, false), "version 2 (1 expected)");
	h->version = 1;
	h->header_size = 64;
	assert_string_equal(verdict(b, len, false), "a header of 64 bytes (56 expected)");
	h->header_size = 56;
	h->reserved = 1;
	assert_string_equal(verdict(b, len, false), "a header of 56 bytes (56 expected)");
	h->reserved = 0;
	h->record_size = 64;
	assert_string_equal(verdict(b, len, false), "records of 64 bytes (128 expected)");
	h->record_size = 128;
	/* the count must match the size exactly, both ways, and stay in bounds */
	h->n_records = N + 1;
	assert_string_equal(verdict(b, len, false), "4 records in 440 bytes");
	h->n_records = N - 1;
	assert_string_equal(verdict(b, len, false), "2 records in 440 bytes");
	h->n_records = UINT32_MAX;
	assert_string_equal(verdict(b, len, false), "4294967295 records in 440 bytes");
	h->n_records = N;
	assert_string_equal(verdict(b, len - 1, false), "3 records in 439 bytes");
	big = calloc(1, len + 128);
	memcpy(big, b, len);
	assert_string_equal(verdict(big, len + 128, false), "3 records in 568 bytes");
	free(big);
	/* sealed as it was: fine again; then the checksum itself */
	assert_string_equal(verdict(b, len, false), "ok");
	h->checksum ^= 1;
	assert_string_equal(verdict(b, len, false), "checksum mismatch (damaged)");
	free(b);
}

/* Spoils field what of record r (the cases of test_records()). */
static void spoil(int what, struct healthfile_record *r)
{
	switch (what) {
	case 0: r->handler = 0; break;
	case 1: r->family = 5; break;
	case 2: r->addr[4] = 1; break;
	case 3: r->addr[15] = 1; break;
	case 4: r->flags |= 0x10; break;
	case 5: r->reserved = 1; break;
	case 6: r->since = -1; break;
	case 7: r->since = INT64_MAX; break;
	case 8: r->next_check_ms = -5; break;
	case 9: r->next_check_ms = INT64_MAX; break;
	case 10: r->load = NAN; break;
	case 11: r->load = INFINITY; break;
	case 12: r->load = -1; break;
	case 13: r->load = 1e300; break;
	case 14: r->load = 1; break; /* without the load flag */
	case 15: memset(r->reason, 'x', sizeof(r->reason)); break;
	case 16: r->good = 1; break;
	case 17: r->bad = 1; break;
	default: fail();
	}
}

static void test_records(void **state)
{
	static const struct {
		size_t k;
		const char *why;
	} cases[] = {
	    {0, "record 0: no handler"},
	    {1, "record 1: not an address family (4 or 6)"},
	    {0, "record 0: bytes past an IPv4 address"},
	    {2, "record 2: bytes past an IPv4 address"},
	    {0, "record 0: unknown flags"},
	    {0, "record 0: reserved bytes set"},
	    {0, "record 0: a time of change out of range"},
	    {0, "record 0: a time of change out of range"},
	    {0, "record 0: a next check out of range"},
	    {0, "record 0: a next check out of range"},
	    {1, "record 1: a load out of range"},
	    {1, "record 1: a load out of range"},
	    {1, "record 1: a load out of range"},
	    {1, "record 1: a load out of range"},
	    {0, "record 0: a load out of range"},
	    {0, "record 0: a reason without its end"},
	    {2, "record 2: checks counted before any check"},
	    {2, "record 2: checks counted before any check"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *b;
		size_t len = make(&b);

		spoil((int)i, rec(b, cases[i].k));
		assert_string_equal(verdict(b, len, true), cases[i].why);
		free(b);
	}
}

/* Cut at every length, and every byte changed: refused, never a crash (ASan watches the
 * reads: each copy below is exactly as long as the length given). */
static void test_damage(void **state)
{
	uint8_t *b, *cut;
	size_t len = make(&b);

	(void)state;
	for (size_t n = 0; n < len; n++) {
		cut = malloc(n ? n : 1);
		memcpy(cut, b, n);
		assert_string_not_equal(verdict(cut, n, false), "ok");
		free(cut);
	}
	for (size_t i = 0; i < len; i++) {
		b[i] ^= 0x5a;
		assert_string_not_equal(verdict(b, len, false), "ok");
		b[i] ^= 0x5a;
	}
	assert_string_equal(verdict(b, len, false), "ok");
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_header),
	    cmocka_unit_test(test_records),
	    cmocka_unit_test(test_damage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
