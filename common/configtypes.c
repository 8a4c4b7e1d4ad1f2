/* SPDX-License-Identifier: MIT */
/* The config model (configtypes.h): the names of its values, a view's prefix from its text,
 * counting and freeing. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "configtypes.h"
#include "decimal.h"
#include "kind.h"

const char *const config_policy_names[5] = {"round-robin", "random", "weighted", "all",
					    "least-loaded"};
const char *const config_check_names[4] = {"tcp", "http", "https", "file"};

int config_prefix_parse(const char *s, size_t n, struct config_prefix *p, char *why,
			size_t why_size)
{
	const char *slash = memchr(s, '/', n);
	char addr[INET6_ADDRSTRLEN + 1];
	size_t alen = slash ? (size_t)(slash - s) : n;
	uint32_t len, max;

	*p = (struct config_prefix){0};
	if (alen >= sizeof(addr) || memchr(s, 0, n)) {
		snprintf(why, why_size, "is not a prefix (ADDRESS/LENGTH, IPv4 or IPv6)");
		return -EINVAL;
	}
	memcpy(addr, s, alen);
	addr[alen] = 0;
	if (inet_pton(AF_INET, addr, p->addr) == 1)
		p->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, p->addr) == 1)
		p->family = AF_INET6;
	else {
		snprintf(why, why_size, "is not a prefix (ADDRESS/LENGTH, IPv4 or IPv6)");
		return -EINVAL;
	}
	max = p->family == AF_INET ? 32 : 128;
	len = max;
	if (slash && !decimal_parse(slash + 1, (size_t)(s + n - slash - 1), max, &len)) {
		snprintf(why, why_size, "is not a prefix: the length is 0 to %u", max);
		return -EINVAL;
	}
	p->len = (uint8_t)len;
	for (unsigned bit = len; bit < max; bit++)
		if (p->addr[bit / 8] & (0x80 >> (bit % 8))) {
			char net[INET6_ADDRSTRLEN];

			for (unsigned b = len; b < 128; b++)
				p->addr[b / 8] &= (uint8_t) ~(0x80 >> (b % 8));
			inet_ntop(p->family, p->addr, net, sizeof(net));
			snprintf(why, why_size, "has bits set past its length: the prefix is %s/%u",
				 net, len);
			return -EINVAL;
		}
	return 0;
}

struct config *config_free(struct config *c)
{
	if (!c)
		return NULL;
	free(c->path);
	free(c->dir);
	/* c->domain, soa and nameservers are zone 0's */
	for (size_t z = 0; z < c->n_zones; z++) {
		free(c->zones[z].domain);
		free(c->zones[z].soa);
		for (size_t i = 0; i < c->zones[z].n_nameservers; i++)
			free(c->zones[z].nameservers[i]);
		free(c->zones[z].nameservers);
	}
	free(c->zones);
	if (c->catch_all) {
		free(c->catch_all->domain); /* an unknown key there, but parsed */
		free(c->catch_all->soa);
		for (size_t i = 0; i < c->catch_all->n_nameservers; i++)
			free(c->catch_all->nameservers[i]);
		free(c->catch_all->nameservers);
		free(c->catch_all);
	}
	for (size_t i = 0; i < c->n_handlers; i++) {
		free(c->handlers[i].qname);
		free(c->handlers[i].file);
		free(c->handlers[i].path);
		if (c->handlers[i].kind && c->handlers[i].data)
			c->handlers[i].kind->free_data(c->handlers[i].data);
		free(c->handlers[i].view_name);
		free(c->handlers[i].prefixes);
		free(c->handlers[i].prefix_file);
		free(c->handlers[i].prefix_path);
		if (c->handlers[i].health) {
			free(c->handlers[i].health->path);
			free(c->handlers[i].health->host);
			free(c->handlers[i].health->file);
			free(c->handlers[i].health->file_path);
			free(c->handlers[i].health);
		}
	}
	free(c->handlers);
	free(c->control_dir);
	free(c->control_group);
	free(c);
	return NULL;
}

void config_counts(const struct config *c, char *buf)
{
	size_t own = c->n_handlers - c->n_views;

	if (c->n_views)
		snprintf(buf, CONFIG_COUNTS_MAX, "%zu handler%s, %zu view%s", own,
			 own == 1 ? "" : "s", c->n_views, c->n_views == 1 ? "" : "s");
	else
		snprintf(buf, CONFIG_COUNTS_MAX, "%zu handler%s", own, own == 1 ? "" : "s");
}
