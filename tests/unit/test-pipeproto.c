/* SPDX-License-Identifier: MIT */
/* The pipe protocol codec for every ABI: what PowerDNS 4.7.3 sends, what it refuses to
 * read (shared/pipe-protocol.md §2-§6). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "pipeproto.h"

static int parse(const char *text, int abi, struct pp_msg *m, const char **why)
{
	static char line[1024];
	size_t len = strlen(text);

	memcpy(line, text, len + 1);
	*why = NULL;
	return pp_parse(line, len, abi, m, why);
}

static void test_helo(void **state)
{
	struct pp_msg m;
	const char *why;

	for (int abi = 1; abi <= 5; abi++) {
		char line[16];

		snprintf(line, sizeof(line), "HELO\t%d", abi);
		assert_int_equal(parse(line, 0, &m, &why), 0);
		assert_int_equal(m.kind, PP_HELO);
		assert_int_equal(m.abi, abi);
	}
	static const char *const bad[] = {"HELO\t0",	"HELO\t6",  "HELO\tx", "HELO",
					  "HELO\t1\t2", "HELO\t-1", "helo\t1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], 0, &m, &why), -EINVAL);
		assert_non_null(why);
	}
}

static void test_q_per_abi(void **state)
{
	static const char *const lines[] = {
	    NULL,
	    "Q\tWwW.example.test\tIN\tANY\t1\t127.0.0.1",
	    "Q\tWwW.example.test\tIN\tANY\t1\t127.0.0.1\t127.0.0.2",
	    "Q\tWwW.example.test\tIN\tANY\t1\t127.0.0.1\t127.0.0.2\t198.51.100.0/24",
	};
	struct pp_msg m;
	const char *why;

	for (int abi = 1; abi <= 5; abi++) {
		int want = abi < 3 ? abi : 3;

		for (int k = 1; k <= 3; k++) {
			int r = parse(lines[k], abi, &m, &why);

			if (k != want) {
				assert_int_equal(r, -EINVAL);
				assert_string_equal(why,
						    "wrong number of fields in Q for this ABI");
				continue;
			}
			assert_int_equal(r, 0);
			assert_int_equal(m.kind, PP_Q);
			assert_string_equal(m.qname, "WwW.example.test");
			assert_int_equal(m.qname_len, 16);
			assert_string_equal(m.qtype, "ANY");
			assert_int_equal(m.id, 1);
			assert_string_equal(m.remote, "127.0.0.1");
			if (abi >= 2)
				assert_string_equal(m.local, "127.0.0.2");
			if (abi >= 3)
				assert_string_equal(m.real_remote, "198.51.100.0/24");
		}
	}
	assert_int_equal(parse("Q\texample.test\tIN\tSOA\t-1\t0.0.0.0", 1, &m, &why), 0);
	assert_int_equal(m.id, -1);
}

static void test_q_rejects(void **state)
{
	static const struct {
		const char *line;
		int abi;
	} bad[] = {
	    {"Q\ta.test\tIN\tA\t1\t1.2.3.4", 0},	   /* before HELO */
	    {"Q\ta.test\tCH\tA\t1\t1.2.3.4", 1},	   /* qclass */
	    {"Q\ta.test\tIN\tA\tx\t1.2.3.4", 1},	   /* id */
	    {"Q\ta.test\tIN\tA\t99999999999\t1.2.3.4", 1}, /* id beyond int32 */
	    {"Q\ta.test\tIN\tA\t\t1.2.3.4", 1},		   /* empty field */
	    {"Q\ta.test\tIN\tA\t1\t1.2.3.4\t", 1},	   /* trailing tab */
	    {"Q\t\ta.test\tIN\tA\t1", 1},
	    {"", 1},
	    {"PING", 1},
	    {"DATA\ta\tIN\tA\t0\t1\t1.2.3.4", 1},
	    {"Q\ta\tIN\tA\t1\t2\t3\t4\t5\t6", 3}, /* too many fields */
	};
	struct pp_msg m;
	const char *why;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i].line, bad[i].abi, &m, &why) != -EINVAL)
			fail_msg("accepted: %s", bad[i].line);
		assert_non_null(why);
	}
	{
		char line[] = "Q\ta\0b\tIN\tA\t1\t1.2.3.4";

		assert_int_equal(pp_parse(line, sizeof(line) - 1, 1, &m, &why), -EINVAL);
		assert_string_equal(why, "NUL byte in line");
	}
}

static void test_axfr_cmd(void **state)
{
	struct pp_msg m;
	const char *why;

	for (int abi = 1; abi <= 3; abi++) {
		assert_int_equal(parse("AXFR\t1", abi, &m, &why), 0);
		assert_int_equal(m.kind, PP_AXFR);
		assert_int_equal(m.id, 1);
		assert_null(m.qname);
		assert_int_equal(parse("AXFR\t1\texample.test", abi, &m, &why), -EINVAL);
	}
	for (int abi = 4; abi <= 5; abi++) {
		assert_int_equal(parse("AXFR\t1\texample.test", abi, &m, &why), 0);
		assert_string_equal(m.qname, "example.test");
		assert_int_equal(parse("AXFR\t1", abi, &m, &why), -EINVAL);
	}
	assert_int_equal(parse("AXFR\tx", 1, &m, &why), -EINVAL);
	assert_int_equal(parse("CMD\thello world", 5, &m, &why), 0);
	assert_int_equal(m.kind, PP_CMD);
	assert_string_equal(m.cmd, "hello world");
	assert_int_equal(parse("CMD\tstatus", 4, &m, &why), -EINVAL);
	assert_string_equal(why, "CMD needs ABI 5 and one field");
}

static void test_qtype(void **state)
{
	assert_int_equal(pp_qtype("ANY"), 255);
	assert_int_equal(pp_qtype("SOA"), 6);
	assert_int_equal(pp_qtype("A"), 1);
	assert_int_equal(pp_qtype("AAAA"), 28);
	assert_int_equal(pp_qtype("NS"), 2);
	assert_int_equal(pp_qtype("CAA"), 257);
	assert_int_equal(pp_qtype("TYPE28"), 28);
	assert_int_equal(pp_qtype("TYPE65535"), 65535);
	assert_int_equal(pp_qtype("TYPE0"), 0);
	assert_int_equal(pp_qtype("TYPE65536"), 0);
	assert_int_equal(pp_qtype("BOGUS"), 0);
	assert_int_equal(pp_qtype("any"), 0); /* pdns sends mnemonics in upper case */
	assert_string_equal(pp_type_name(28), "AAAA");
	assert_string_equal(pp_type_name(6), "SOA");
}

static void test_data_lines(void **state)
{
	struct buf b;

	buf_init(&b);
	pp_data(&b, 1, "Www.test", 8, PP_TYPE_A, 0, 1, 32, "192.0.2.1", 9); /* no scope field */
	pp_data(&b, 2, "www.test", 8, PP_TYPE_AAAA, 4294967295u, -1, 0, "2001:db8::1", 11);
	pp_data(&b, 3, "test", 4, PP_TYPE_SOA, 3600, 1, 0, "a. b. 1 2 3 4 5", 15);
	pp_data(&b, 5, "test", 4, PP_TYPE_NS, 60, 1, 0, "ns1.test.", 9);
	pp_data(&b, 4, "www.test", 8, PP_TYPE_A, 0, 1, 32, "192.0.2.1", 9);
	/* ENT: no content field, as PowerDNS 5.1 reads it (6 fields, 8 from ABI 3 on) */
	pp_ent(&b, 1, "Ent.test", 8, 60, 1);
	pp_ent(&b, 3, "ent.test", 8, 4294967295u, 2);
	pp_end(&b);
	pp_fail(&b);
	buf_putc(&b, 0);
	assert_string_equal(b.data, "DATA\tWww.test\tIN\tA\t0\t1\t192.0.2.1\n"
				    "DATA\twww.test\tIN\tAAAA\t4294967295\t-1\t2001:db8::1\n"
				    "DATA\t0\t1\ttest\tIN\tSOA\t3600\t1\ta. b. 1 2 3 4 5\n"
				    "DATA\t0\t1\ttest\tIN\tNS\t60\t1\tns1.test.\n"
				    "DATA\t32\t1\twww.test\tIN\tA\t0\t1\t192.0.2.1\n"
				    "DATA\tEnt.test\tIN\tENT\t60\t1\n"
				    "DATA\t0\t1\tent.test\tIN\tENT\t4294967295\t2\n"
				    "END\nFAIL\n");
	buf_free(&b);
}

/* pp_parse_data() reads back what pp_data() wrote, at every ABI; anything else is refused. */
static void test_data_read_back(void **state)
{
	static const char mx[] = "10\tmail.test.";
	static const char *const bad[] = {
	    "END",
	    "FAIL",
	    "DATA",
	    "DATA\tx\tIN\tA\t0",
	    "DATA\tx\tCH\tA\t0\t1\ty",
	    "DATA\tx\tIN\tA\t-1\t1\ty",
	    "DATA\tx\tIN\tA\t0\t1",
	    "DATA\tx\tIN\tENT\t0",
	    "DATA\tx\tIN\tA\t4294967296\t1\ty",
	    "DATA\tx\tIN\tA\t0\t\ty",
	    "Q\tx\tIN\tA\t0\t1\ty",
	};

	for (int abi = 1; abi <= 5; abi++) {
		struct pp_record r;
		struct buf b;

		buf_init(&b);
		pp_data(&b, abi, "www.test", 8, PP_TYPE_MX, 4294967295u, -1, 24, mx, strlen(mx));
		assert_int_equal(b.data[b.len - 1], '\n');
		assert_int_equal(pp_parse_data(b.data, b.len - 1, abi, &r), 0);
		assert_string_equal(r.qname, "www.test");
		assert_string_equal(r.type, "MX");
		assert_int_equal(r.ttl, 4294967295u);
		assert_int_equal(r.id, -1);
		assert_int_equal(r.scope, abi >= 3 ? 24 : 0);
		assert_string_equal(r.content, "10 mail.test.");
		buf_free(&b);
	}
	for (int abi = 1; abi <= 5; abi++) {
		struct pp_record r;
		struct buf b;

		buf_init(&b);
		pp_ent(&b, abi, "under.test", 10, 60, 1);
		assert_int_equal(pp_parse_data(b.data, b.len - 1, abi, &r), 0);
		assert_string_equal(r.qname, "under.test");
		assert_string_equal(r.type, "ENT");
		assert_string_equal(r.content, "");
		buf_free(&b);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char line[64];
		struct pp_record r;

		strcpy(line, bad[i]);
		assert_int_equal(pp_parse_data(line, strlen(line), 1, &r), -EINVAL);
	}
}

static void test_addr(void **state)
{
	uint8_t a[16];

	assert_int_equal(pp_addr("192.0.2.1", a), AF_INET);
	assert_memory_equal(a, "\xc0\x00\x02\x01", 4);
	assert_int_equal(pp_addr("198.51.100.0/24", a), AF_INET);
	assert_memory_equal(a, "\xc6\x33\x64\x00", 4);
	assert_int_equal(pp_addr("fe80::1%eth0", a), AF_INET6);
	assert_memory_equal(a, "\xfe\x80\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	assert_int_equal(pp_addr("2001:db8::/32", a), AF_INET6);
	assert_int_equal(pp_addr("0.0.0.0/0", a), AF_INET);
	assert_int_equal(pp_addr("", a), 0);
	assert_int_equal(pp_addr("not-an-address", a), 0);
	assert_int_equal(pp_addr("192.0.2.256", a), 0);
	assert_int_equal(pp_addr("1111:2222:3333:4444:5555:6666:7777:8888:9999", a), 0);
	assert_int_equal(pp_addr(NULL, a), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_helo),	   cmocka_unit_test(test_q_per_abi),
	    cmocka_unit_test(test_q_rejects),	   cmocka_unit_test(test_axfr_cmd),
	    cmocka_unit_test(test_qtype),	   cmocka_unit_test(test_data_lines),
	    cmocka_unit_test(test_data_read_back), cmocka_unit_test(test_addr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
