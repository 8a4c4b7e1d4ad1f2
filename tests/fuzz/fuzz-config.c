/* SPDX-License-Identifier: MIT */
/* The config loader and validator: any bytes give a config or at least one message, every
 * message names the file, and nothing leaks or crashes. */
#include <errno.h>
#include <string.h>

#include "config.h"
#include "diag.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c = NULL;
	struct diag d;
	int r;

	diag_init(&d);
	r = config_parse((const char *)data, size, "/fuzz/config.json", &d, &c);
	fuzz_assert(r == 0 || r == -EINVAL || r == -ENOMEM);
	if (r == 0) {
		size_t views = 0, owned = 0;

		fuzz_assert(c && c->domain && c->soa && c->n_nameservers > 0);
		fuzz_assert(c->n_zones >= 1 && c->zones[0].domain == c->domain);
		for (size_t i = 0; i < c->n_handlers; i++) {
			const struct config_handler *h = &c->handlers[i];

			fuzz_assert(h->qname && h->zone < c->n_zones);
			fuzz_assert(!h->kind || h->data); /* a kind keeps what it parsed */
			fuzz_assert(h->n_types <= 4);
			views += h->n_views;
			owned += h->view != 0;
			/* a view is an address list after the config's own handlers, named like its
			 * handler */
			fuzz_assert(!h->view || (!h->kind && h->path && h->view_name &&
						 (h->n_prefixes || h->prefix_path)));
		}
		fuzz_assert(views == owned);
		config_free(c);
	} else {
		fuzz_assert(!c); /* a refused config is never handed out */
		fuzz_assert(r == -ENOMEM || d.n_msgs > 0);
	}
	for (size_t i = 0; i < d.n_msgs; i++)
		fuzz_assert(strncmp(d.msgs[i], "/fuzz/config.json", 17) == 0);
	diag_clear(&d);
	return 0;
}
