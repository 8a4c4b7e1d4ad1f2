/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "pipeproto.h"

#define MAX_FIELDS 9

/* Splits line on TABs into at most MAX_FIELDS fields; returns the count, or -1 if there are
 * more fields or an empty one (PowerDNS never sends either). */
static int split(char *line, size_t len, char **f)
{
	int n = 0;
	char *p = line, *end = line + len;

	for (;;) {
		char *t = memchr(p, '\t', (size_t)(end - p));

		if (n == MAX_FIELDS)
			return -1;
		f[n++] = p;
		if (!t) {
			if (p == end)
				return -1;
			break;
		}
		if (t == p)
			return -1;
		*t = 0;
		p = t + 1;
	}
	return n;
}

static bool parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	bool neg = false;
	int64_t v = 0;

	if (*s == '-') {
		neg = true;
		s++;
	}
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (*s - '0');
	}
	v = neg ? -v : v;
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

int pp_parse(char *line, size_t len, int abi, struct pp_msg *m, const char **why)
{
	char *f[MAX_FIELDS];
	int n;

	if (memchr(line, 0, len)) {
		*why = "NUL byte in line";
		return -EINVAL;
	}
	n = split(line, len, f);
	if (n < 0) {
		*why = "empty field or too many fields";
		return -EINVAL;
	}
	*m = (struct pp_msg){0};
	if (strcmp(f[0], "HELO") == 0) {
		int64_t v;

		if (n != 2 || !parse_int(f[1], PP_ABI_MIN, PP_ABI_MAX, &v)) {
			*why = "HELO needs an ABI version from 1 to 5";
			return -EINVAL;
		}
		m->kind = PP_HELO;
		m->abi = (int)v;
		return 0;
	}
	if (abi == 0) {
		*why = "no HELO yet";
		return -EINVAL;
	}
	if (strcmp(f[0], "Q") == 0) {
		int want = abi == 1 ? 6 : abi == 2 ? 7 : 8;

		if (n != want) {
			*why = "wrong number of fields in Q for this ABI";
			return -EINVAL;
		}
		if (strcmp(f[2], "IN") != 0) {
			*why = "qclass is not IN";
			return -EINVAL;
		}
		if (!parse_int(f[4], INT32_MIN, INT32_MAX, &m->id)) {
			*why = "id is not an integer";
			return -EINVAL;
		}
		m->kind = PP_Q;
		m->qname = f[1];
		m->qname_len = strlen(f[1]);
		m->qtype = f[3];
		m->remote = f[5];
		m->local = n > 6 ? f[6] : NULL;
		m->real_remote = n > 7 ? f[7] : NULL;
		return 0;
	}
	if (strcmp(f[0], "AXFR") == 0) {
		if (n != (abi >= 4 ? 3 : 2) || !parse_int(f[1], INT32_MIN, INT32_MAX, &m->id)) {
			*why = "AXFR needs a zone id (and a zone name from ABI 4)";
			return -EINVAL;
		}
		m->kind = PP_AXFR;
		if (n == 3) {
			m->qname = f[2];
			m->qname_len = strlen(f[2]);
		}
		return 0;
	}
	if (strcmp(f[0], "CMD") == 0) {
		if (abi < 5 || n != 2) {
			*why = "CMD needs ABI 5 and one field";
			return -EINVAL;
		}
		m->kind = PP_CMD;
		m->cmd = f[1];
		return 0;
	}
	*why = "unknown command";
	return -EINVAL;
}

static const struct {
	const char *name;
	uint16_t type;
} types[] = {
    {"A", 1},	    {"NS", 2},	    {"CNAME", 5},  {"SOA", 6},	     {"PTR", 12},
    {"HINFO", 13},  {"MX", 15},	    {"TXT", 16},   {"RP", 17},	     {"AFSDB", 18},
    {"SIG", 24},    {"KEY", 25},    {"AAAA", 28},  {"LOC", 29},	     {"SRV", 33},
    {"NAPTR", 35},  {"KX", 36},	    {"CERT", 37},  {"DNAME", 39},    {"OPT", 41},
    {"APL", 42},    {"DS", 43},	    {"SSHFP", 44}, {"IPSECKEY", 45}, {"RRSIG", 46},
    {"NSEC", 47},   {"DNSKEY", 48}, {"DHCID", 49}, {"NSEC3", 50},    {"NSEC3PARAM", 51},
    {"TLSA", 52},   {"SMIMEA", 53}, {"CDS", 59},   {"CDNSKEY", 60},  {"OPENPGPKEY", 61},
    {"CSYNC", 62},  {"ZONEMD", 63}, {"SVCB", 64},  {"HTTPS", 65},    {"SPF", 99},
    {"EUI48", 108}, {"EUI64", 109}, {"TKEY", 249}, {"TSIG", 250},    {"IXFR", 251},
    {"AXFR", 252},  {"ANY", 255},   {"URI", 256},  {"CAA", 257},     {"DLV", 32769},
};

uint16_t pp_qtype(const char *s)
{
	int64_t v;

	/* what PowerDNS sends nearly always: ANY, SOA, then NS */
	if (s[0] == 'A' && s[1] == 'N' && s[2] == 'Y' && !s[3])
		return PP_TYPE_ANY;
	if (s[0] == 'S' && s[1] == 'O' && s[2] == 'A' && !s[3])
		return PP_TYPE_SOA;
	for (size_t i = 0; i < ELEMENTSOF(types); i++)
		if (strcmp(s, types[i].name) == 0)
			return types[i].type;
	if (strncasecmp(s, "TYPE", 4) == 0 && parse_int(s + 4, 1, 65535, &v))
		return (uint16_t)v;
	return 0;
}

const char *pp_type_name(uint16_t type)
{
	switch (type) {
	case PP_TYPE_A: return "A";
	case PP_TYPE_AAAA: return "AAAA";
	case PP_TYPE_NS: return "NS";
	case PP_TYPE_SOA: return "SOA";
	}
	for (size_t i = 0; i < ELEMENTSOF(types); i++)
		if (types[i].type == type)
			return types[i].name;
	return "TYPE0";
}

void pp_data(struct buf *b, int abi, const char *qname, size_t qname_len, uint16_t type,
	     uint32_t ttl, int64_t id, uint8_t scope, const char *content, size_t content_len)
{
	buf_put(b, "DATA\t", 5);
	if (abi >= 3) {
		buf_putu(b, scope);
		buf_put(b, "\t1\t", 3); /* authoritative */
	}
	buf_put(b, qname, qname_len);
	buf_put(b, "\tIN\t", 4);
	buf_puts(b, pp_type_name(type));
	buf_putc(b, '\t');
	buf_putu(b, ttl);
	buf_putc(b, '\t');
	buf_puti(b, id);
	buf_putc(b, '\t');
	buf_put(b, content, content_len);
	buf_putc(b, '\n');
}

void pp_ent(struct buf *b, int abi, const char *qname, size_t qname_len, uint32_t ttl, int64_t id)
{
	buf_put(b, "DATA\t", 5);
	if (abi >= 3)
		buf_put(b, "0\t1\t", 4);
	buf_put(b, qname, qname_len);
	buf_puts(b, "\tIN\tENT\t");
	buf_putu(b, ttl);
	buf_putc(b, '\t');
	buf_puti(b, id);
	buf_putc(b, '\n');
}

int pp_addr(const char *s, uint8_t addr[16])
{
	char copy[INET6_ADDRSTRLEN + 1];
	size_t n = s ? strcspn(s, "/%") : sizeof(copy);

	if (n >= sizeof(copy))
		return 0;
	memcpy(copy, s, n);
	copy[n] = 0;
	if (inet_pton(AF_INET, copy, addr) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, copy, addr) == 1)
		return AF_INET6;
	return 0;
}

int pp_parse_data(char *line, size_t len, int abi, struct pp_record *r)
{
	char *f[9], *t = line, *end = line + len, *num;
	size_t want = abi >= 3 ? 9 : 7, n = 0;
	unsigned long long v;

	/* DATA [scope auth] qname IN type ttl id content: the content takes the rest; an ENT
	 * line has no content field */
	*end = 0;
	for (;;) {
		char *tab = n + 1 < want ? strchr(t, '\t') : NULL;

		f[n++] = t;
		if (!tab)
			break;
		*tab = 0;
		t = tab + 1;
	}
	if (n == want - 1 && strcmp(f[want - 4], "ENT") == 0)
		f[n++] = end; /* "" */
	if (n != want || strcmp(f[0], "DATA") != 0 || strcmp(f[want - 5], "IN") != 0)
		return -EINVAL;
	*r = (struct pp_record){.qname = f[want - 6], .type = f[want - 4], .content = f[want - 1]};
	if (abi >= 3) {
		v = strtoull(f[1], &num, 10);
		if (*num || !*f[1] || v > 128)
			return -EINVAL;
		r->scope = (uint8_t)v;
	}
	v = strtoull(f[want - 3], &num, 10);
	if (*num || !*f[want - 3] || *f[want - 3] == '-' || v > UINT32_MAX)
		return -EINVAL;
	r->ttl = (uint32_t)v;
	r->id = strtoll(f[want - 2], &num, 10);
	if (*num || !*f[want - 2])
		return -EINVAL;
	for (char *c = f[want - 1]; *c; c++)
		if (*c == '\t')
			*c = ' ';
	return 0;
}
