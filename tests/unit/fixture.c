/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

struct snapshot *fixture_zone(char *dir)
{
	struct snapshot *s = NULL;
	struct config *c = NULL;
	char path[128];
	struct diag d;

	strcpy(dir, "/tmp/pdyndns-unit.XXXXXX");
	assert_non_null(mkdtemp(dir));
	fixture_write(dir, "t1-v4.txt", "192.0.2.1\n192.0.2.2\n192.0.2.3\n");
	fixture_write(dir, "t1-v6.txt", "2001:db8::1\n2001:db8::2\n2001:db8::3\n2001:db8::4\n");
	fixture_write(dir, "abc.txt", "198.51.100.1\n198.51.100.2\n");
	fixture_write(dir, "broken.txt", "192.0.2.9\nnot-an-address\n");
	fixture_write(dir, "config.json",
	    "{\"domain\": \"dyn.example.test\", \"soa\": \"ns1.example.test. h.example.test. 7 7200 3600 7200 120\",\n"
	    " \"nameservers\": [\"ns1.example.test\", \"ns2.example.test.\"], \"ttl\": 3600,\n"
	    " \"handlers\": [{\"qname\": \"t1.dyn.example.test\", \"qtype\": \"A\", \"file\": \"t1-v4.txt\"},\n"
	    "   {\"qname\": \"t1.dyn.example.test\", \"qtype\": \"AAAA\", \"file\": \"t1-v6.txt\"},\n"
	    "   {\"qname\": \"a.b.c.dyn.example.test\", \"qtype\": \"A\", \"file\": \"abc.txt\"},\n"
	    "   {\"qname\": \"broken.dyn.example.test\", \"qtype\": \"A\", \"file\": \"broken.txt\"}]}\n");
	snprintf(path, sizeof(path), "%s/config.json", dir);
	diag_init(&d);
	assert_int_equal(config_load(path, &d, &c), 0);
	assert_int_equal(snapshot_new(c, NULL, &d, &s), 0);
	assert_int_equal(d.n_errors, 1); /* the broken file */
	diag_clear(&d);
	return s;
}

void fixture_cleanup(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}
