/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"

void fixture_write(const char *dir, const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The snapshot of dir/config.json built as o says, with that many problems (any: -1). */
static struct snapshot *load_with(const char *dir, const struct snapshot_opts *o, int errors)
{
	struct snapshot *s = NULL;
	struct config *c = NULL;
	char path[128];
	struct diag d;

	snprintf(path, sizeof(path), "%s/config.json", dir);
	diag_init(&d);
	if (config_load(path, &d, &c) != 0)
		fail_msg("%s", d.n_msgs ? d.msgs[0] : "?");
	assert_int_equal(snapshot_new(c, o, &d, &s), 0);
	if (errors >= 0)
		assert_int_equal(d.n_errors, errors);
	diag_clear(&d);
	return s;
}

static struct snapshot *load(const char *dir, unsigned errors)
{
	return load_with(dir, NULL, (int)errors);
}

struct snapshot *fixture_reload(const char *dir, const struct snapshot *prev)
{
	struct snapshot_opts o = {.prev = prev, .reuse_unchanged = true};

	return load_with(dir, &o, -1);
}

struct snapshot *fixture_zone(char *dir)
{
	strcpy(dir, "/tmp/pdyndns-unit.XXXXXX");
	assert_non_null(mkdtemp(dir));
	fixture_write(dir, "t1-v4.txt", "192.0.2.1\n192.0.2.2\n192.0.2.3\n");
	fixture_write(dir, "t1-v6.txt", "2001:db8::1\n2001:db8::2\n2001:db8::3\n2001:db8::4\n");
	fixture_write(dir, "abc.txt", "198.51.100.1\n198.51.100.2\n");
	fixture_write(dir, "broken.txt", "192.0.2.9\nnot-an-address\n");
	fixture_write(
	    dir, "config.json",
	    "{\"domain\": \"dyn.example.test\", \"soa\": \"ns1.example.test. h.example.test. 7 7200 3600 7200 120\",\n"
	    " \"nameservers\": [\"ns1.example.test\", \"ns2.example.test.\"], \"ttl\": 3600,\n"
	    " \"handlers\": [{\"qname\": \"t1.dyn.example.test\", \"qtype\": \"A\", \"file\": \"t1-v4.txt\"},\n"
	    "   {\"qname\": \"t1.dyn.example.test\", \"qtype\": \"AAAA\", \"file\": \"t1-v6.txt\"},\n"
	    "   {\"qname\": \"a.b.c.dyn.example.test\", \"qtype\": \"A\", \"file\": \"abc.txt\"},\n"
	    "   {\"qname\": \"broken.dyn.example.test\", \"qtype\": \"A\", \"file\": \"broken.txt\"}]}\n");
	return load(dir, 1); /* the broken file */
}

struct snapshot *fixture_zone_all(char *dir)
{
	strcpy(dir, "/tmp/pdyndns-unit.XXXXXX");
	assert_non_null(mkdtemp(dir));
	fixture_write(dir, "t1-v4.txt", "192.0.2.1\n192.0.2.2\n192.0.2.3\n");
	fixture_write(dir, "t1-v6.txt", "2001:db8::1\n2001:db8::2\n2001:db8::3\n2001:db8::4\n");
	fixture_write(dir, "abc.txt", "198.51.100.1\n198.51.100.2\n");
	fixture_write(dir, "w.txt", "192.0.2.1 3\n192.0.2.2 0\n192.0.2.3 1\n");
	fixture_write(dir, "cidr.txt", "10.0.0.0/30\n192.0.2.99\n");
	fixture_write(dir, "nl.txt", "192.0.2.101\n");
	fixture_write(dir, "probes.txt", "203.0.113.0/24\n2001:db8:99::/48\n");
	fixture_write(
	    dir, "config.json",
	    "{\"domain\": \"dyn.example.test\", \"soa\": \"ns1.example.test. h.example.test. 7 7200 3600 7200 120\",\n"
	    " \"nameservers\": [\"ns1.example.test\", \"ns2.example.test.\"], \"ttl\": 3600,\n"
	    " \"zones\": [{\"domain\": \"2.0.192.in-addr.arpa\", \"soa\": \"ns1.example.test. h.example.test. 1 2 3 4 5\",\n"
	    "   \"nameservers\": [\"ns1.example.test\"], \"ttl\": 60},\n"
	    "   {\"domain\": \"8.b.d.0.1.0.0.2.ip6.arpa\", \"soa\": \"ns1.example.test. h.example.test. 1 2 3 4 5\",\n"
	    "   \"nameservers\": [\"ns1.example.test\"]}],\n"
	    " \"handlers\": [{\"qname\": \"t1.dyn.example.test\", \"qtype\": \"A\", \"file\": \"t1-v4.txt\", \"views\": [\n"
	    "     {\"prefixes\": [\"198.51.100.0/24\", \"2001:db8:1::/48\"], \"file\": \"nl.txt\"},\n"
	    "     {\"prefix_file\": \"probes.txt\", \"file\": \"abc.txt\", \"policy\": \"all\"}]},\n"
	    "   {\"qname\": \"t1.dyn.example.test\", \"qtype\": \"AAAA\", \"file\": \"t1-v6.txt\", \"match\": \"resolver\",\n"
	    "    \"views\": [{\"prefixes\": [\"127.0.0.0/8\"], \"file\": \"t1-v6.txt\", \"count\": 2}]},\n"
	    "   {\"qname\": \"a.b.c.dyn.example.test\", \"qtype\": \"A\", \"file\": \"abc.txt\", \"policy\": \"random\", \"count\": 2},\n"
	    "   {\"qname\": \"w.dyn.example.test\", \"qtype\": \"A\", \"file\": \"w.txt\", \"policy\": \"weighted\", \"count\": 2},\n"
	    "   {\"qname\": \"cidr.dyn.example.test\", \"qtype\": \"A\", \"file\": \"cidr.txt\", \"count\": 3},\n"
	    "   {\"qname\": \"*.wild.dyn.example.test\", \"qtype\": \"A\", \"file\": \"cidr.txt\"},\n"
	    "   {\"qname\": \"t1.dyn.example.test\", \"kind\": \"static\", \"qtype\": \"TXT\", \"content\": [\"a \\\"b\\\" c\"]},\n"
	    "   {\"qname\": \"t1.dyn.example.test\", \"kind\": \"static\", \"qtype\": \"MX\", \"content\": [\"10 mx.example.test\", \"0 .\"]},\n"
	    "   {\"qname\": \"_s._udp.dyn.example.test\", \"kind\": \"static\", \"qtype\": \"SRV\", \"content\": [\"1 2 3 t.example.test\"]},\n"
	    "   {\"qname\": \"alias.dyn.example.test\", \"kind\": \"static\", \"qtype\": \"CNAME\", \"content\": [\"t1.dyn.example.test\"]},\n"
	    "   {\"qname\": \"dyn.example.test\", \"kind\": \"static\", \"qtype\": \"CAA\", \"content\": [\"0 issue ca.example\"]},\n"
	    "   {\"qname\": \"sub.dyn.example.test\", \"kind\": \"static\", \"qtype\": \"NS\", \"content\": [\"ns.sub.dyn.example.test\"]},\n"
	    "   {\"qname\": \"me.dyn.example.test\", \"kind\": \"whoami\"},\n"
	    "   {\"qname\": \"ip-*.dyn.example.test\", \"kind\": \"reverse\", \"prefix\": \"192.0.2.0/25\"},\n"
	    "   {\"qname\": \"v6-*.dyn.example.test\", \"kind\": \"reverse\", \"prefix\": \"2001:db8::/64\"}]}\n");
	return load(dir, 0);
}

void fixture_cleanup(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}
