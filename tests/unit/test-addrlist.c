/* SPDX-License-Identifier: MIT */
/* Address files: packed lists in file order, every bad line reported with FILE:LINE, the
 * inet_pton rule, the text form, and loading from disk. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "addrlist.h"

static struct addrlist *parse_ok(const char *text, int family)
{
	struct addrlist *l = NULL;
	struct diag d;

	diag_init(&d);
	if (addrlist_parse(text, strlen(text), family, 0, "f.txt", &d, &l) != 0)
		fail_msg("rejected: %s", d.n_msgs ? d.msgs[0] : "?");
	diag_clear(&d);
	return l;
}

/* Parses text that must be rejected; returns the messages joined by '|'. */
static char *parse_bad(const char *text, size_t len, int family)
{
	struct addrlist *l = NULL;
	struct diag d;
	char *all;

	diag_init(&d);
	assert_int_equal(addrlist_parse(text, len, family, 0, "f.txt", &d, &l), -EINVAL);
	assert_null(l);
	all = diag_join(&d, "|");
	diag_clear(&d);
	return all;
}

static struct addrlist *parse_weighted(const char *text, int family)
{
	struct addrlist *l = NULL;
	struct diag d;

	diag_init(&d);
	if (addrlist_parse(text, strlen(text), family, ADDRLIST_WEIGHTS, "w.txt", &d, &l) != 0)
		fail_msg("rejected: %s", d.n_msgs ? d.msgs[0] : "?");
	diag_clear(&d);
	return l;
}

static char *parse_weighted_bad(const char *text)
{
	struct addrlist *l = NULL;
	struct diag d;
	char *all;

	diag_init(&d);
	assert_int_equal(
	    addrlist_parse(text, strlen(text), AF_INET, ADDRLIST_WEIGHTS, "w.txt", &d, &l),
	    -EINVAL);
	assert_null(l);
	all = diag_join(&d, "|");
	diag_clear(&d);
	return all;
}

static void test_order_comments_blanks(void **state)
{
	struct addrlist *l =
	    parse_ok("# header\n\n  10.0.0.2  \n\t10.0.0.1\t# trailing\r\n10.0.0.3", AF_INET);
	char text[ADDR_TEXT_MAX];

	uint8_t a[16];

	assert_int_equal(l->n, 3);
	assert_null(l->runs);
	addrlist_get(l, 0, a);
	assert_memory_equal(a, "\x0a\x00\x00\x02", 4);
	addrlist_get(l, 1, a);
	assert_memory_equal(a, "\x0a\x00\x00\x01", 4);
	addrlist_format(l, 2, text);
	assert_string_equal(text, "10.0.0.3");
	addrlist_unref(l);

	l = parse_ok("2001:DB8::1\n::ffff:192.0.2.1\n2001:db8:0:0:1:0:0:1\n", AF_INET6);
	assert_int_equal(l->n, 3);
	addrlist_format(l, 0, text);
	assert_string_equal(text, "2001:db8::1");
	addrlist_format(l, 1, text);
	assert_string_equal(text, "::ffff:192.0.2.1");
	addrlist_format(l, 2, text);
	assert_string_equal(text, "2001:db8::1:0:0:1");
	addrlist_unref(l);
}

static void test_bad_lines(void **state)
{
	char *m;

	m = parse_bad("10.0.0.1\n10.0.0.300\n", 20, AF_INET);
	assert_string_equal(m, "f.txt:2: error: \"10.0.0.300\" is not an IPv4 address");
	free(m);
	m = parse_bad("2001:db8::1\n", 12, AF_INET);
	assert_string_equal(
	    m, "f.txt:1: error: \"2001:db8::1\" is an IPv6 address; an A list takes IPv4 only");
	free(m);
	m = parse_bad("::1\n10.1.2.3\n", 13, AF_INET6);
	assert_string_equal(
	    m, "f.txt:2: error: \"10.1.2.3\" is an IPv4 address; an AAAA list takes IPv6 only");
	free(m);
	m = parse_bad("10.0.0.1 10.0.0.2\n", 18, AF_INET);
	assert_string_equal(
	    m, "f.txt:1: error: \"10.0.0.1 10.0.0.2\": unexpected text after the address");
	free(m);
	m = parse_bad("garbage line\n", 13, AF_INET);
	assert_string_equal(m, "f.txt:1: error: \"garbage line\" is not an IPv4 address");
	free(m);
	/* bytes that are not printable text are shown escaped: a message stays one line of text */
	m = parse_bad("10.0.0.1\n\x1b[31mred\x7f\xff\"\\\r\n", 22, AF_INET);
	assert_string_equal(
	    m, "f.txt:2: error: \"\\x1b[31mred\\x7f\\xff\\\"\\\\\" is not an IPv4 address");
	free(m);
	m = parse_bad("1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24.25\n", 66,
		      AF_INET);
	assert_string_equal(
	    m,
	    "f.txt:1: error: \"1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23....\" "
	    "is not an IPv4 address");
	free(m);
	m = parse_bad("10.0.0.1\n1\0.2.3.4\n", 18, AF_INET);
	assert_string_equal(m, "f.txt:2: error: line contains a NUL byte");
	free(m);
	m = parse_bad("# only comments\n\n", 17, AF_INET);
	assert_string_equal(m, "f.txt: error: no addresses in the file");
	free(m);
	m = parse_bad("", 0, AF_INET6);
	assert_string_equal(m, "f.txt: error: no addresses in the file");
	free(m);
	{
		char line[ADDRLIST_MAX_LINE + 10];

		memset(line, ' ', sizeof(line));
		line[sizeof(line) - 1] = '\n';
		m = parse_bad(line, sizeof(line), AF_INET);
		assert_string_equal(m, "f.txt:1: error: line longer than 1024 bytes");
		free(m);
	}
}

static void test_many_bad_lines_counted(void **state)
{
	char text[4096] = "";
	struct addrlist *l = NULL;
	struct diag d;

	for (int i = 0; i < 30; i++)
		strcat(text, "bad\n");
	diag_init(&d);
	assert_int_equal(addrlist_parse(text, strlen(text), AF_INET, 0, "f.txt", &d, &l), -EINVAL);
	assert_int_equal(d.n_msgs, 21);
	assert_string_equal(d.msgs[19], "f.txt:20: error: \"bad\" is not an IPv4 address");
	assert_string_equal(d.msgs[20],
			    "f.txt: error: 30 bad lines in all (the first 20 are shown)");
	diag_clear(&d);
}

static void test_parse4_agrees_with_inet_pton(void **state)
{
	static const char *const cases[] = {
	    "0.0.0.0",	  "255.255.255.255", "1.2.3.4",	    "01.2.3.4",	  "1.02.3.4", "1.2.3",
	    "1.2.3.4.5",  "256.1.1.1",	     "1.2.3.-4",    " 1.2.3.4",	  "1.2.3.4 ", "",
	    "1..2.3",	  "0x1.2.3.4",	     "1.2.3.4a",    "1.2.3.",	  ".1.2.3",   "1234.1.1.1",
	    "1.2.3.0400", "00.0.0.0",	     "192.168.1.1", "10.0.0.255",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t a[4], b[4];
		bool mine = addr_parse4(cases[i], strlen(cases[i]), a);
		bool libc = inet_pton(AF_INET, cases[i], b) == 1;

		if (mine != libc)
			fail_msg("\"%s\": addr_parse4 %d, inet_pton %d", cases[i], mine, libc);
		if (mine)
			assert_memory_equal(a, b, 4);
	}
}

static void test_format6_agrees_with_inet_ntop(void **state)
{
	uint8_t a[16];
	char mine[ADDR_TEXT_MAX], libc[ADDR_TEXT_MAX];

	srand(7);
	for (int n = 0; n < 200000; n++) {
		for (int i = 0; i < 16; i++) {
			int r = rand() % 8;

			a[i] = r < 5 ? 0 : r == 5 ? 0xff : (uint8_t)rand();
		}
		if (n % 5 == 0) {
			memset(a, 0, 10);
			a[10] = a[11] = (n % 10) ? 0xff : 0;
		}
		inet_ntop(AF_INET6, a, libc, sizeof(libc));
		addr_format6(a, mine);
		if (strcmp(mine, libc) != 0)
			fail_msg("%s vs inet_ntop %s", mine, libc);
	}
}

static char tmpdir[64];

static char *tmpfile_with(const char *name, const char *text, size_t len)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	fwrite(text, 1, len, f);
	fclose(f);
	return path;
}

static void test_load(void **state)
{
	struct addrlist *l = NULL;
	struct file_id id1, id2;
	struct diag d;
	char *path, *big, text[ADDR_TEXT_MAX];
	size_t n = 100000, len = 0;

	strcpy(tmpdir, "/tmp/pdyndns-test-addrlist.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	diag_init(&d);

	path = tmpfile_with("a.txt", "10.0.0.1\n10.0.0.2", 17);
	assert_int_equal(addrlist_load_id(path, AF_INET, 0, &d, &id1, &l), 0);
	assert_int_equal(l->n, 2);
	addrlist_unref(l);

	/* prefix lines only: no plain address in the array */
	path = tmpfile_with("p.txt", "10.0.0.0/30\n", 12);
	assert_int_equal(addrlist_load(path, AF_INET, &d, &l), 0);
	assert_int_equal(l->n, 4);
	assert_null(l->addrs);
	addrlist_format(l, 3, text);
	assert_string_equal(text, "10.0.0.3");
	addrlist_unref(l);

	/* rewritten with another size: another identity */
	assert_int_equal(file_id_get(path, &id1), 0);
	tmpfile_with("a.txt", "10.0.0.1\n", 9);
	assert_int_equal(file_id_get(path, &id2), 0);
	assert_false(file_id_equal(&id1, &id2));
	assert_true(file_id_equal(&id2, &id2));

	/* missing, a directory */
	assert_int_equal(addrlist_load("/nonexistent/x.txt", AF_INET, &d, &l), -ENOENT);
	assert_string_equal(d.msgs[0],
			    "/nonexistent/x.txt: error: cannot open: No such file or directory");
	diag_clear(&d);
	assert_int_equal(addrlist_load(tmpdir, AF_INET, &d, &l), -EINVAL);
	assert_non_null(strstr(d.msgs[0], ": error: not a regular file (a directory)"));
	diag_clear(&d);
	/* a FIFO nobody writes to: refused at once, not waited on */
	{
		char fifo[sizeof(tmpdir) + 8];

		snprintf(fifo, sizeof(fifo), "%s/fifo", tmpdir);
		assert_int_equal(mkfifo(fifo, 0600), 0);
		assert_int_equal(addrlist_load(fifo, AF_INET, &d, &l), -EINVAL);
		assert_non_null(strstr(d.msgs[0], ": error: not a regular file (a FIFO)"));
		diag_clear(&d);
		unlink(fifo);
	}

	/* a 2 MiB line: reported once, no address stored */
	big = malloc(3 << 20);
	memset(big, '1', 2 << 20);
	memcpy(big + (2 << 20), "\n10.0.0.1\n", 10);
	path = tmpfile_with("big.txt", big, (2 << 20) + 10);
	assert_int_equal(addrlist_load(path, AF_INET, &d, &l), -EINVAL);
	assert_int_equal(d.n_errors, 1);
	assert_non_null(strstr(d.msgs[0], "big.txt:1: error: line longer than 1024 bytes"));
	diag_clear(&d);

	/* sizes around the small-file buffer: every line read, the last one without a newline,
	 * and one over 1024 bytes in a small file reported as in a large one */
	for (size_t size = 8180; size <= 8200; size++) {
		static const char *const last[] = {"10.0.0.2", "10.0.0.300"};

		for (int bad = 0; bad < 2; bad++) {
			size_t m = 800, at = 0, pad = size - 9 * m - strlen(last[bad]) - 3;
			char want[64];

			memcpy(big, "# ", 2);
			memset(big + 2, 'x', pad);
			at = 2 + pad;
			big[at++] = '\n';
			for (size_t i = 0; i < m; i++, at += 9)
				memcpy(big + at, "10.0.0.1\n", 9);
			memcpy(big + at, last[bad], strlen(last[bad]));
			at += strlen(last[bad]);
			assert_int_equal(at, size);
			path = tmpfile_with("edge.txt", big, size);
			if (!bad) {
				assert_int_equal(addrlist_load(path, AF_INET, &d, &l), 0);
				assert_int_equal(l->n, m + 1);
				addrlist_unref(l);
				continue;
			}
			assert_int_equal(addrlist_load(path, AF_INET, &d, &l), -EINVAL);
			assert_int_equal(d.n_errors, 1);
			snprintf(want, sizeof(want), "edge.txt:%zu: error: \"10.0.0.300\"", m + 2);
			assert_non_null(strstr(d.msgs[0], want));
			diag_clear(&d);
		}
	}
	memset(big, '1', 2000);
	memcpy(big + 2000, "\n10.0.0.1\n10.0.0.2", 18);
	path = tmpfile_with("long.txt", big, 2018);
	assert_int_equal(addrlist_load(path, AF_INET, &d, &l), -EINVAL);
	assert_int_equal(d.n_errors, 1);
	assert_non_null(strstr(d.msgs[0], "long.txt:1: error: line longer than 1024 bytes"));
	diag_clear(&d);

	/* 100,000 addresses, across read chunks */
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(big + len, "2001:db8::%zx:%zx\n", i >> 16, i & 0xffff);
	path = tmpfile_with("many.txt", big, len);
	assert_int_equal(addrlist_load(path, AF_INET6, &d, &l), 0);
	assert_int_equal(l->n, n);
	addrlist_format(l, 0, text);
	assert_string_equal(text, "2001:db8::");
	addrlist_format(l, (uint32_t)n - 1, text);
	assert_string_equal(text, "2001:db8::1:869f");
	/* references */
	addrlist_ref(l);
	assert_null(addrlist_unref(l));
	assert_int_equal(l->refs, 1);
	addrlist_unref(l);
	free(big);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		assert_int_equal(system(cmd), 0);
	}
}

/* The size cap: checked by stat before a byte is read (a sparse file of any size is refused
 * at once), and by the bytes read for a file whose size stat does not tell or that grows;
 * what is not a regular file is refused by what it is, a socket included. */
static void test_load_caps(void **state)
{
	struct addrlist *l = NULL;
	struct file_id id;
	struct diag d;
	char *path, want[256];
	int fd;

	strcpy(tmpdir, "/tmp/pdyndns-test-addrlist.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	diag_init(&d);

	/* one byte over the cap, sparse: refused by its size, nothing parsed, identity known */
	path = tmpfile_with("huge.txt", "10.0.0.1\n", 9);
	assert_int_equal(truncate(path, (off_t)ADDRLIST_MAX_FILE + 1), 0);
	assert_int_equal(addrlist_load_id(path, AF_INET, 0, &d, &id, &l), -EFBIG);
	snprintf(want, sizeof(want), "%s: error: larger than 268435456 bytes", path);
	assert_int_equal(d.n_msgs, 1);
	assert_string_equal(d.msgs[0], want);
	assert_int_not_equal(id.ino, 0);
	assert_int_equal(id.size, (off_t)ADDRLIST_MAX_FILE + 1);
	diag_clear(&d);
	/* 64 GiB, as in the report */
	assert_int_equal(truncate(path, (off_t)64 << 30), 0);
	assert_int_equal(addrlist_load(path, AF_INET, &d, &l), -EFBIG);
	assert_string_equal(d.msgs[0], want);
	diag_clear(&d);
	unlink(path);

	/* the cap itself is allowed */
	path = tmpfile_with("cap.txt", "10.0.0.1\n10.0.0.2\n", 18);
	assert_int_equal(addrlist_load_max(path, AF_INET, 0, 18, &d, &id, &l), 0);
	assert_int_equal(l->n, 2);
	l = addrlist_unref(l);
	assert_int_equal(addrlist_load_max(path, AF_INET, 0, 17, &d, &id, &l), -EFBIG);
	assert_null(l);
	diag_clear(&d);

	/* stat says 0 bytes, reading finds more: counted as read */
	assert_int_equal(addrlist_load_max("/proc/self/maps", AF_INET, 0, 64, &d, &id, &l), -EFBIG);
	assert_int_equal(d.n_msgs, 1);
	assert_string_equal(
	    d.msgs[0], "/proc/self/maps: error: larger than 64 bytes (found while reading it)");
	diag_clear(&d);

	/* devices, and a socket (which cannot even be opened) */
	assert_int_equal(addrlist_load("/dev/zero", AF_INET, &d, &l), -EINVAL);
	assert_string_equal(d.msgs[0], "/dev/zero: error: not a regular file (a character device)");
	diag_clear(&d);
	{
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		char *text = NULL;
		size_t len;
		struct stat st;

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", tmpdir);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		assert_true(fd >= 0);
		assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		assert_int_equal(addrlist_load(sa.sun_path, AF_INET, &d, &l), -EINVAL);
		snprintf(want, sizeof(want), "%s: error: not a regular file (a socket)",
			 sa.sun_path);
		assert_string_equal(d.msgs[0], want);
		diag_clear(&d);
		/* prefix files and the config are read the same way */
		assert_int_equal(file_read_all(sa.sun_path, 1024, &d, &text, &len, &st), -EINVAL);
		assert_string_equal(d.msgs[0], want);
		assert_null(text);
		diag_clear(&d);
		close(fd);
		unlink(sa.sun_path);
	}
	rmdir(tmpdir);
}

static void test_equal(void **state)
{
	struct addrlist *a = parse_ok("10.0.0.1\n10.0.0.2\n", AF_INET),
			*b = parse_ok("# x\n10.0.0.1\n10.0.0.2\n", AF_INET),
			*c = parse_ok("10.0.0.2\n10.0.0.1\n", AF_INET);

	assert_true(addrlist_equal(a, b));
	assert_false(addrlist_equal(a, c));
	addrlist_unref(a);
	addrlist_unref(b);
	addrlist_unref(c);
}

static void test_weights(void **state)
{
	struct addrlist *l = parse_weighted(
			    "# weighted\n10.0.0.1 3\n10.0.0.2\t \t1000000 # big\n10.0.0.3\n"
			    "10.0.0.4 0\n10.0.0.5 007\n",
			    AF_INET),
			*same, *plain;
	char *msg;

	assert_int_equal(l->n, 5);
	assert_non_null(l->cum);
	assert_int_equal(addrlist_weight(l, 0), 3);
	assert_int_equal(addrlist_weight(l, 1), 1000000);
	assert_int_equal(addrlist_weight(l, 2), 1); /* no column: weight 1 */
	assert_int_equal(addrlist_weight(l, 3), 0); /* drained, but in the list */
	assert_int_equal(addrlist_weight(l, 4), 7);
	assert_int_equal(l->total, 1000011);
	assert_int_equal(l->n_drained, 1);

	/* the weights are part of the identity: a reweighted list is another list */
	same = parse_weighted("10.0.0.1 3\n10.0.0.2 1000000\n10.0.0.3 1\n10.0.0.4 0\n10.0.0.5 7\n",
			      AF_INET);
	assert_true(addrlist_equal(l, same));
	assert_true(l->hash == same->hash);
	addrlist_unref(same);
	same = parse_weighted("10.0.0.1 3\n10.0.0.2 1000000\n10.0.0.3 1\n10.0.0.4 1\n10.0.0.5 7\n",
			      AF_INET);
	assert_false(addrlist_equal(l, same));
	assert_false(l->hash == same->hash);
	addrlist_unref(same);
	/* weighted with every weight 1 is still not the plain list */
	same = parse_weighted("10.0.0.1\n10.0.0.2\n", AF_INET);
	plain = parse_ok("10.0.0.1\n10.0.0.2\n", AF_INET);
	assert_null(plain->cum);
	assert_int_equal(addrlist_weight(plain, 1), 1);
	assert_false(addrlist_equal(same, plain));
	assert_false(same->hash == plain->hash);
	addrlist_unref(same);
	addrlist_unref(plain);
	addrlist_unref(l);

	/* every address drained: a valid list with nothing to serve */
	l = parse_weighted("2001:db8::1 0\n2001:db8::2 0\n", AF_INET6);
	assert_int_equal(l->total, 0);
	assert_int_equal(l->n_drained, 2);
	addrlist_unref(l);

	msg = parse_weighted_bad("10.0.0.1 1000001\n10.0.0.2 -1\n10.0.0.3 1.5\n10.0.0.4 12345678\n"
				 "10.0.0.5 2 3\n10.0.0.6 x\n10.0.0.7 5x\n");
	assert_string_equal(
	    msg, "w.txt:1: error: \"1000001\" is not a weight (an integer from 0 to 1000000)|"
		 "w.txt:2: error: \"-1\" is not a weight (an integer from 0 to 1000000)|"
		 "w.txt:3: error: \"1.5\" is not a weight (an integer from 0 to 1000000)|"
		 "w.txt:4: error: \"12345678\" is not a weight (an integer from 0 to 1000000)|"
		 "w.txt:5: error: \"10.0.0.5 2 3\": unexpected text after the weight|"
		 "w.txt:6: error: \"x\" is not a weight (an integer from 0 to 1000000)|"
		 "w.txt:7: error: \"5x\" is not a weight (an integer from 0 to 1000000)");
	free(msg);

	/* a list that is not weighted refuses a weight column, and says what would take it */
	msg = parse_bad("10.0.0.1\n10.0.0.2 5\n10.0.0.3 five\n", 34, AF_INET);
	assert_string_equal(
	    msg, "f.txt:2: error: \"10.0.0.2 5\": a weight column needs \"policy\": \"weighted\"|"
		 "f.txt:3: error: \"10.0.0.3 five\": unexpected text after the address");
	free(msg);
}

/* Shares of each address over positions [from, from + count) of the schedule. */
static void shares(const struct addrlist *l, uint64_t from, uint64_t count, uint64_t *got)
{
	memset(got, 0, l->n * sizeof(*got));
	for (uint64_t k = from; k < from + count; k++)
		got[addrlist_weighted_at(l, k)]++;
}

static struct addrlist *weighted_list(const uint32_t *w, size_t n)
{
	size_t size = n * 32 + 1, o = 0;
	char *text = malloc(size);
	struct addrlist *l;

	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(text + o, size - o, "10.%zu.%zu.%zu %u\n", i >> 16,
				      (i >> 8) & 255, i & 255, w[i]);
	l = parse_weighted(text, AF_INET);
	free(text);
	return l;
}

static void test_weighted_schedule(void **state)
{
	static const uint32_t w1[] = {5, 3, 2};
	static const uint32_t w2[] = {1, 0, 1};
	static const uint32_t w3[] = {70, 20, 10, 0};
	static const uint32_t w4[] = {1000000, 1, 999999, 500000, 0, 3};
	static const struct {
		const uint32_t *w;
		size_t n;
	} sets[] = {{w1, 3}, {w2, 3}, {w3, 4}, {w4, 6}};
	uint64_t got[1024];
	uint32_t w[1024];
	unsigned seed = 1;

	/* 5:3:2 is spread out, not AAAAABBBCC */
	{
		struct addrlist *l = weighted_list(w1, 3);
		char seq[11] = {0};

		for (int k = 0; k < 10; k++)
			seq[k] = (char)('A' + addrlist_weighted_at(l, (uint64_t)k));
		assert_string_equal(seq, "ABAACBACBA");
		addrlist_unref(l);
	}
	/* 1:1 alternates, and weight 0 is never served */
	{
		struct addrlist *l = weighted_list(w2, 3);

		for (uint64_t k = 0; k < 100; k++)
			assert_int_equal(addrlist_weighted_at(l, k), k % 2 ? 2 : 0);
		addrlist_unref(l);
	}
	for (size_t s = 0; s < ELEMENTSOF(sets) + 20; s++) {
		size_t n = s < ELEMENTSOF(sets) ? sets[s].n : 2 + (size_t)(rand_r(&seed) % 1000);
		struct addrlist *l;
		uint64_t total = 0;

		for (size_t i = 0; i < n; i++) {
			/* random sets: some drained, small and huge weights */
			w[i] = s < ELEMENTSOF(sets)	? sets[s].w[i]
			       : rand_r(&seed) % 5 == 0 ? 0
			       : s % 2			? (uint32_t)(rand_r(&seed) % 1000001)
							: (uint32_t)(rand_r(&seed) % 10);
			total += w[i];
		}
		if (!total)
			w[0] = total = 1;
		l = weighted_list(w, n);
		assert_int_equal(l->total, total);
		/* a whole run of the schedule serves each address exactly its weight */
		if (total <= 2000000) {
			shares(l, 12345 * total, total, got);
			for (size_t i = 0; i < n; i++)
				assert_int_equal(got[i], w[i]);
		}
		/* any 10,000 answers: each share within 2 % of its weight's (absolute share
		 * error at most 0.02), from the start and from anywhere */
		for (uint64_t from = 0; from < 3; from++) {
			uint64_t start = from * 0x123456789abull;

			shares(l, start, 10000, got);
			for (size_t i = 0; i < n; i++) {
				double want = (double)w[i] / (double)total,
				       have = (double)got[i] / 10000;

				if (w[i] == 0)
					assert_int_equal(got[i], 0);
				if (have - want > 0.02 || want - have > 0.02)
					fail_msg(
					    "set %zu (n %zu, total %llu), address %zu: weight %u, share %.4f, want %.4f",
					    s, n, (unsigned long long)total, i, w[i], have, want);
			}
		}
		addrlist_unref(l);
	}
}

/* The text of every address of l, joined by ' '. */
static char *all_text(const struct addrlist *l)
{
	size_t size = (size_t)l->n * ADDR_TEXT_MAX + 1, o = 0;
	char *all = malloc(size), text[ADDR_TEXT_MAX];

	all[0] = 0;
	for (uint32_t i = 0; i < l->n; i++) {
		addrlist_format(l, i, text);
		o += (size_t)snprintf(all + o, size - o, "%s%s", i ? " " : "", text);
	}
	return all;
}

static void test_prefix_expansion(void **state)
{
	struct addrlist *l = parse_ok("10.1.2.0/28\n", AF_INET);
	char text[ADDR_TEXT_MAX], want[ADDR_TEXT_MAX], *all;
	uint8_t a[16];

	/* every address, network and last included, in order */
	assert_int_equal(l->n, 16);
	assert_non_null(l->runs);
	assert_int_equal(l->n_runs, 1);
	for (uint32_t i = 0; i < 16; i++) {
		snprintf(want, sizeof(want), "10.1.2.%u", i);
		addrlist_format(l, i, text);
		assert_string_equal(text, want);
		addrlist_get(l, i, a);
		assert_memory_equal(a, ((uint8_t[]){10, 1, 2, (uint8_t)i}), 4);
	}
	addrlist_unref(l);

	l = parse_ok("# v6\n  2001:DB8::/120  # 256\n", AF_INET6);
	assert_int_equal(l->n, 256);
	for (uint32_t i = 0; i < 256; i++) {
		snprintf(want, sizeof(want), i ? "2001:db8::%x" : "2001:db8::", i);
		addrlist_format(l, i, text);
		assert_string_equal(text, want);
	}
	addrlist_unref(l);

	/* /32 and /128: one address */
	l = parse_ok("192.0.2.7/32\n", AF_INET);
	assert_int_equal(l->n, 1);
	addrlist_format(l, 0, text);
	assert_string_equal(text, "192.0.2.7");
	addrlist_unref(l);
	l = parse_ok("2001:db8::1/128\n::/128\n", AF_INET6);
	all = all_text(l);
	assert_string_equal(all, "2001:db8::1 ::");
	free(all);
	addrlist_unref(l);
	/* /0 length syntax, /31, and IPv4-mapped IPv6 */
	l = parse_ok("::ffff:192.0.2.0/126\n", AF_INET6);
	all = all_text(l);
	assert_string_equal(all,
			    "::ffff:192.0.2.0 ::ffff:192.0.2.1 ::ffff:192.0.2.2 ::ffff:192.0.2.3");
	free(all);
	addrlist_unref(l);
}

static void test_prefix_mixed(void **state)
{
	struct addrlist *l = parse_ok("10.0.0.1\n10.1.2.0/30\n10.0.0.2\n10.0.0.3 # two plain\n"
				      "192.168.0.0/31\n192.168.0.8/31\n10.0.0.9\n",
				      AF_INET);
	char *all = all_text(l);
	uint8_t a[16];

	/* file order: index i is the i-th address of the expansion */
	assert_int_equal(l->n, 12);
	assert_string_equal(all, "10.0.0.1 10.1.2.0 10.1.2.1 10.1.2.2 10.1.2.3 10.0.0.2 10.0.0.3 "
				 "192.168.0.0 192.168.0.1 192.168.0.8 192.168.0.9 10.0.0.9");
	/* runs: plain, prefix, plain, prefix, prefix, plain */
	assert_int_equal(l->n_runs, 6);
	addrlist_get(l, 4, a);
	assert_memory_equal(a, "\x0a\x01\x02\x03", 4);
	addrlist_get(l, 5, a);
	assert_memory_equal(a, "\x0a\x00\x00\x02", 4);
	addrlist_get(l, 11, a);
	assert_memory_equal(a, "\x0a\x00\x00\x09", 4);
	free(all);
	addrlist_unref(l);

	l = parse_ok("2001:db8::/126\n2001:db8:1::1\n2001:db8:ff::10/127\n", AF_INET6);
	all = all_text(l);
	assert_string_equal(all, "2001:db8:: 2001:db8::1 2001:db8::2 2001:db8::3 2001:db8:1::1 "
				 "2001:db8:ff::10 2001:db8:ff::11");
	free(all);
	addrlist_unref(l);
}

static void test_prefix_caps(void **state)
{
	struct addrlist *l;
	char *m;

	l = parse_ok("10.0.0.0/8\n", AF_INET);
	assert_int_equal(l->n, 1u << 24);
	addrlist_unref(l);
	l = parse_ok("2001:db8::/104\n", AF_INET6);
	assert_int_equal(l->n, 1u << 24);
	addrlist_unref(l);
	m = parse_bad("10.0.0.0/7\n", 11, AF_INET);
	assert_string_equal(
	    m, "f.txt:1: error: \"10.0.0.0/7\" is too large: a prefix line of an A list "
	       "is /8 to /32 (at most 16777216 addresses)");
	free(m);
	m = parse_bad("0.0.0.0/0\n", 10, AF_INET);
	assert_string_equal(
	    m, "f.txt:1: error: \"0.0.0.0/0\" is too large: a prefix line of an A list "
	       "is /8 to /32 (at most 16777216 addresses)");
	free(m);
	m = parse_bad("2001:db8::/103\n", 15, AF_INET6);
	assert_string_equal(
	    m, "f.txt:1: error: \"2001:db8::/103\" is too large: a prefix line of an AAAA "
	       "list is /104 to /128 (at most 16777216 addresses)");
	free(m);
	m = parse_bad("::/64\n", 6, AF_INET6);
	assert_string_equal(m, "f.txt:1: error: \"::/64\" is too large: a prefix line of an AAAA "
			       "list is /104 to /128 (at most 16777216 addresses)");
	free(m);
}

static void test_prefix_bad(void **state)
{
	const char *text = "10.1.2.3/28\n10.0.0.0/33\n10.0.0.0/-1\n10.0.0.0/\n10.0.0.0/08\n"
			   "10.0.0.0/ 8\n10.0.0.0/8/8\n10.0.0/8\n2001:db8::/120\n10.0.0.0/+8\n"
			   "10.0.0.0/8 x\n/8\n10.0.0.0 /8\n";
	char *m = parse_bad(text, strlen(text), AF_INET);

	assert_string_equal(
	    m,
	    "f.txt:1: error: \"10.1.2.3/28\" has host bits set: the prefix is \"10.1.2.0/28\"|"
	    "f.txt:2: error: \"10.0.0.0/33\" is not an IPv4 prefix: the length after \"/\" is a "
	    "decimal from 0 to 32 without leading zeros|"
	    "f.txt:3: error: \"10.0.0.0/-1\" is not an IPv4 prefix: the length after \"/\" is a "
	    "decimal from 0 to 32 without leading zeros|"
	    "f.txt:4: error: \"10.0.0.0/\" is not an IPv4 prefix: the length after \"/\" is a "
	    "decimal from 0 to 32 without leading zeros|"
	    "f.txt:5: error: \"10.0.0.0/08\" is not an IPv4 prefix: the length after \"/\" is a "
	    "decimal from 0 to 32 without leading zeros|"
	    "f.txt:6: error: \"10.0.0.0/ 8\" is not an IPv4 prefix: the length after \"/\" is a "
	    "decimal from 0 to 32 without leading zeros|"
	    "f.txt:7: error: \"10.0.0.0/8/8\" is not an IPv4 prefix: the length after \"/\" is a "
	    "decimal from 0 to 32 without leading zeros|"
	    "f.txt:8: error: \"10.0.0/8\" is not an IPv4 prefix: \"10.0.0\" is not an IPv4 address|"
	    "f.txt:9: error: \"2001:db8::/120\" is an IPv6 prefix; an A list takes IPv4 only|"
	    "f.txt:10: error: \"10.0.0.0/+8\" is not an IPv4 prefix: the length after \"/\" is a "
	    "decimal from 0 to 32 without leading zeros|"
	    "f.txt:11: error: \"10.0.0.0/8 x\": unexpected text after the prefix|"
	    "f.txt:12: error: \"/8\" is not an IPv4 prefix: \"\" is not an IPv4 address|"
	    "f.txt:13: error: \"10.0.0.0 /8\": unexpected text after the address");
	free(m);

	text = "2001:db8::1/120\n2001:db8::/129\n2001:db8::/0120\n10.0.0.0/24\n2001:db8::/120/\n";
	m = parse_bad(text, strlen(text), AF_INET6);
	assert_string_equal(
	    m,
	    "f.txt:1: error: \"2001:db8::1/120\" has host bits set: the prefix is "
	    "\"2001:db8::/120\"|"
	    "f.txt:2: error: \"2001:db8::/129\" is not an IPv6 prefix: the length after \"/\" is a "
	    "decimal from 0 to 128 without leading zeros|"
	    "f.txt:3: error: \"2001:db8::/0120\" is not an IPv6 prefix: the length after \"/\" is "
	    "a "
	    "decimal from 0 to 128 without leading zeros|"
	    "f.txt:4: error: \"10.0.0.0/24\" is an IPv4 prefix; an AAAA list takes IPv6 only|"
	    "f.txt:5: error: \"2001:db8::/120/\" is not an IPv6 prefix: the length after \"/\" is "
	    "a "
	    "decimal from 0 to 128 without leading zeros");
	free(m);
	/* host bits below a /104 and in the middle of a byte */
	text = "2001:db8::1:0/104\n2001:db8::100:0/104\n10.0.0.128/25\n10.0.0.64/25\n";
	m = parse_bad(text, strlen(text), AF_INET6);
	assert_string_equal(
	    m, "f.txt:1: error: \"2001:db8::1:0/104\" has host bits set: the prefix is "
	       "\"2001:db8::/104\"|"
	       "f.txt:3: error: \"10.0.0.128/25\" is an IPv4 prefix; an AAAA list takes IPv6 only|"
	       "f.txt:4: error: \"10.0.0.64/25\" is an IPv4 prefix; an AAAA list takes IPv6 only");
	free(m);
	m = parse_bad("10.0.0.128/25\n10.0.0.64/25\n10.0.0.64/26\n", 40, AF_INET);
	assert_string_equal(
	    m, "f.txt:2: error: \"10.0.0.64/25\" has host bits set: the prefix is \"10.0.0.0/25\"");
	free(m);
}

static void test_prefix_weighted(void **state)
{
	char *m = parse_weighted_bad("10.0.0.1 5\n10.0.0.0/28\n10.0.1.0/30 2\n");

	assert_string_equal(
	    m, "w.txt:2: error: \"10.0.0.0/28\": a prefix line cannot be weighted; list "
	       "its addresses one per line|"
	       "w.txt:3: error: \"10.0.1.0/30 2\": a prefix line cannot be weighted; list "
	       "its addresses one per line");
	free(m);
}

static void test_prefix_equal(void **state)
{
	struct addrlist *a = parse_ok("10.0.0.0/31\n", AF_INET),
			*b = parse_ok("10.0.0.0\n10.0.0.1\n", AF_INET),
			*c = parse_ok("10.0.0.1\n10.0.0.0\n", AF_INET), *d;
	size_t size = 4096 * 20 + 64, o = 0;
	char *text = malloc(size);

	/* the same addresses in the same order, whatever the spelling */
	assert_true(addrlist_equal(a, b));
	assert_true(addrlist_equal(b, a));
	assert_true(a->hash == b->hash);
	assert_false(addrlist_equal(a, c));
	assert_false(a->hash == c->hash);
	addrlist_unref(a);
	addrlist_unref(b);
	addrlist_unref(c);

	/* plain lines and prefixes interleaved, 4-byte addresses across the hash's 8-byte words */
	a = parse_ok("10.0.0.5\n10.2.0.0/20\n10.0.0.6\n10.3.0.0/31\n10.3.0.2/31\n", AF_INET);
	o += (size_t)snprintf(text + o, size - o, "10.0.0.5\n");
	for (unsigned i = 0; i < 4096; i++)
		o += (size_t)snprintf(text + o, size - o, "10.2.%u.%u\n", i >> 8, i & 255);
	o += (size_t)snprintf(text + o, size - o, "10.0.0.6\n10.3.0.0/30\n");
	b = parse_ok(text, AF_INET);
	assert_int_equal(a->n, 4102);
	assert_int_equal(b->n, 4102);
	assert_true(addrlist_equal(a, b));
	assert_true(a->hash == b->hash);
	/* one address changed, deep in a prefix: not equal */
	o = (size_t)snprintf(text, size, "10.0.0.5\n10.2.0.0/21\n10.0.0.6\n10.3.0.0/30\n");
	c = parse_ok(text, AF_INET);
	assert_false(addrlist_equal(a, c));
	addrlist_unref(c);
	c = parse_ok("10.0.0.5\n10.2.0.0/20\n10.0.0.6\n10.3.0.0/31\n10.3.0.4/31\n", AF_INET);
	assert_int_equal(c->n, a->n);
	assert_false(addrlist_equal(a, c));
	assert_false(a->hash == c->hash);
	addrlist_unref(c);

	/* IPv6 likewise; the other family is never equal */
	c = parse_ok("2001:db8::/127\n", AF_INET6);
	d = parse_ok("2001:db8::\n2001:db8::1\n", AF_INET6);
	assert_true(addrlist_equal(c, d));
	assert_true(c->hash == d->hash);
	addrlist_unref(d);
	d = parse_ok("2001:db8::/128\n2001:db8::2\n", AF_INET6);
	assert_false(addrlist_equal(c, d));
	addrlist_unref(d);
	addrlist_unref(c);
	addrlist_unref(a);
	addrlist_unref(b);
	free(text);
}

static void test_prefix_total_cap(void **state)
{
	/* 8 /8s are ADDRLIST_MAX_ADDRS exactly; one address more is refused */
	const char *eight =
	    "10.0.0.0/8\n11.0.0.0/8\n12.0.0.0/8\n13.0.0.0/8\n14.0.0.0/8\n15.0.0.0/8\n"
	    "16.0.0.0/8\n17.0.0.0/8\n";
	size_t len = strlen(eight);
	char text[256], *m, out[ADDR_TEXT_MAX];
	struct addrlist *l = parse_ok(eight, AF_INET);

	assert_int_equal(l->n, ADDRLIST_MAX_ADDRS);
	addrlist_format(l, ADDRLIST_MAX_ADDRS - 1, out);
	assert_string_equal(out, "17.255.255.255");
	addrlist_format(l, 5u << 24 | 0x010203, out);
	assert_string_equal(out, "15.1.2.3");
	addrlist_unref(l);

	snprintf(text, sizeof(text), "%s192.0.2.1\n", eight);
	m = parse_bad(text, strlen(text), AF_INET);
	assert_string_equal(m, "f.txt:9: error: more than 134217728 addresses");
	free(m);
	snprintf(text, sizeof(text), "192.0.2.1\n%s", eight);
	m = parse_bad(text, strlen(text), AF_INET);
	assert_string_equal(m, "f.txt:9: error: more than 134217728 addresses");
	free(m);
	snprintf(text, sizeof(text), "%.*s192.0.2.0/31\n18.0.0.0/8\n", (int)len, eight);
	m = parse_bad(text, strlen(text), AF_INET);
	assert_string_equal(m, "f.txt:9: error: more than 134217728 addresses");
	free(m);
}

static void test_prefix_format_agrees_with_inet_ntop(void **state)
{
	struct addrlist *l6 = parse_ok("2001:db8:1234:5678:9abc:def0:ff00:0/104\n", AF_INET6),
			*l4 = parse_ok("192.0.2.1\n10.0.0.0/8\n", AF_INET);
	uint8_t a[16], b[16];
	char mine[ADDR_TEXT_MAX], libc[ADDR_TEXT_MAX];
	unsigned seed = 11;

	assert_int_equal(l6->n, 1u << 24);
	assert_int_equal(l4->n, (1u << 24) + 1);
	for (int n = 0; n < 100000; n++) {
		uint32_t i = n < 4 ? (uint32_t[]){0, 1, 0xffff, 0xffffff}[n]
				   : (uint32_t)rand_r(&seed) & 0xffffff;

		memcpy(a, "\x20\x01\x0d\xb8\x12\x34\x56\x78\x9a\xbc\xde\xf0\xff\x00\x00\x00", 16);
		a[13] = (uint8_t)(i >> 16);
		a[14] = (uint8_t)(i >> 8);
		a[15] = (uint8_t)i;
		inet_ntop(AF_INET6, a, libc, sizeof(libc));
		addrlist_format(l6, i, mine);
		assert_string_equal(mine, libc);
		addrlist_get(l6, i, b);
		assert_memory_equal(a, b, 16);

		a[0] = 10;
		a[1] = (uint8_t)(i >> 16);
		a[2] = (uint8_t)(i >> 8);
		a[3] = (uint8_t)i;
		inet_ntop(AF_INET, a, libc, sizeof(libc));
		addrlist_format(l4, i + 1, mine);
		assert_string_equal(mine, libc);
	}
	addrlist_format(l4, 0, mine);
	assert_string_equal(mine, "192.0.2.1");
	addrlist_unref(l6);
	addrlist_unref(l4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order_comments_blanks),
	    cmocka_unit_test(test_bad_lines),
	    cmocka_unit_test(test_many_bad_lines_counted),
	    cmocka_unit_test(test_parse4_agrees_with_inet_pton),
	    cmocka_unit_test(test_format6_agrees_with_inet_ntop),
	    cmocka_unit_test(test_load),
	    cmocka_unit_test(test_load_caps),
	    cmocka_unit_test(test_equal),
	    cmocka_unit_test(test_weights),
	    cmocka_unit_test(test_weighted_schedule),
	    cmocka_unit_test(test_prefix_expansion),
	    cmocka_unit_test(test_prefix_mixed),
	    cmocka_unit_test(test_prefix_caps),
	    cmocka_unit_test(test_prefix_bad),
	    cmocka_unit_test(test_prefix_weighted),
	    cmocka_unit_test(test_prefix_equal),
	    cmocka_unit_test(test_prefix_total_cap),
	    cmocka_unit_test(test_prefix_format_agrees_with_inet_ntop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
