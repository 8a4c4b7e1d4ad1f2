/* SPDX-License-Identifier: MIT */
/* Kind "whoami": tells the asker who it is.
 *
 *   {"qname": "whoami.dyn.example.test", "kind": "whoami", "ttl": 0}
 *
 * A: the resolver's address when it asked over IPv4, AAAA when over IPv6 (the other type
 * is then NODATA), TXT: the client subnet PowerDNS passed on (ABI >= 3: the EDNS client
 * subnet with edns-subnet-processing=yes, else the resolver's address as a /32 or /128).
 * The answers carry the subnet's length as their ECS scope (a /0 subnet the full length:
 * scope 0 would let PowerDNS's query cache keep them), so that a cache in front keeps
 * them per client. This file is the example of README's "Writing a handler kind". */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "configtypes.h"
#include "kind.h"
#include "pipeproto.h"

struct whoami {
	uint32_t ttl;
};

static void whoami_parse(struct cc *v, json_object *o, const struct config *c,
			 struct config_handler *h)
{
	struct whoami *w;
	json_object *x;
	int64_t ttl = 0; /* answers differ per client: nothing to cache by default */

	(void)c;
	if (json_object_object_get_ex(o, "ttl", &x)) {
		size_t old = cc_push(v, "ttl");

		if (!cc_integer(v, x, 0, 2147483647, &ttl))
			ttl = 0;
		cc_pop(v, old);
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		cc_error(v, "out of memory");
		return;
	}
	w->ttl = (uint32_t)ttl;
	h->data = w;
	h->types[0] = PP_TYPE_A;
	h->types[1] = PP_TYPE_AAAA;
	h->types[2] = PP_TYPE_TXT;
	h->n_types = 3;
	h->qtype = PP_TYPE_A;
}

static void whoami_answer(const struct config_handler *h, const struct kind_question *q,
			  struct buf *out)
{
	const struct whoami *w = h->data;
	unsigned char addr[16], net[16];
	char text[INET6_ADDRSTRLEN], subnet[INET6_ADDRSTRLEN + 8];
	int family = pp_addr(q->remote, addr), sfamily = 0;
	unsigned len = 0, scope;

	if (!family)
		return;
	/* the client subnet: real-remote (ABI >= 3), else the resolver's own address */
	if (q->real_remote && (sfamily = pp_addr(q->real_remote, net)) != 0) {
		const char *slash = strchr(q->real_remote, '/');

		len = slash		   ? (unsigned)strtoul(slash + 1, NULL, 10)
		      : sfamily == AF_INET ? 32
					   : 128;
	} else {
		sfamily = family;
		memcpy(net, addr, 16);
		len = family == AF_INET ? 32 : 128;
	}
	if (len > (sfamily == AF_INET ? 32u : 128u))
		len = sfamily == AF_INET ? 32 : 128;
	/* The scope is the subnet's length, but never 0: PowerDNS's query cache keeps an
	 * answer of scope 0 and gives it to every client after (a client that sends ECS
	 * 0.0.0.0/0 would have its address served to all). A /0 subnet gets the full length. */
	scope = len ? len : sfamily == AF_INET ? 32 : 128;
	inet_ntop(family, addr, text, sizeof(text));
	if ((q->qtype == PP_TYPE_ANY || q->qtype == PP_TYPE_A) && family == AF_INET)
		pp_data(out, q->abi, q->owner, q->owner_len, PP_TYPE_A, w->ttl, q->zone_id,
			(uint8_t)scope, text, strlen(text));
	if ((q->qtype == PP_TYPE_ANY || q->qtype == PP_TYPE_AAAA) && family == AF_INET6)
		pp_data(out, q->abi, q->owner, q->owner_len, PP_TYPE_AAAA, w->ttl, q->zone_id,
			(uint8_t)scope, text, strlen(text));
	if (q->qtype == PP_TYPE_ANY || q->qtype == PP_TYPE_TXT) {
		int n;

		inet_ntop(sfamily, net, text, sizeof(text));
		n = snprintf(subnet, sizeof(subnet), "\"%s/%u\"", text, len);
		pp_data(out, q->abi, q->owner, q->owner_len, PP_TYPE_TXT, w->ttl, q->zone_id,
			(uint8_t)scope, subnet, (size_t)n);
	}
}

static void whoami_describe(const struct config_handler *h, uint32_t zone_ttl, char *out,
			    size_t size)
{
	const struct whoami *w = h->data;

	(void)zone_ttl; /* its own default is 0 */
	snprintf(out, size,
		 "the resolver's address (A or AAAA) and the client subnet (TXT), ttl %u", w->ttl);
}

static const char *const keys[] = {"qname", "kind", "ttl"};

const struct kind kind_whoami = {
    .name = "whoami",
    .keys = keys,
    .n_keys = ELEMENTSOF(keys),
    .required = keys,
    .n_required = 2,
    .parse = whoami_parse,
    .free_data = free,
    .answer = whoami_answer,
    .list = NULL, /* its records depend on the client */
    .describe = whoami_describe,
};
