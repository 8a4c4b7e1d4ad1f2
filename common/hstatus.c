/* SPDX-License-Identifier: MIT */
/* The handler status record (hstatus.h). */
#include <string.h>

#include "answer.h"
#include "hstatus.h"
#include "kind.h"
#include "pipeproto.h"

void hstatus_get(const struct snapshot *s, const struct rotation *rot, const struct handler *h,
		 char *serves, size_t size, struct hstatus *st)
{
	const struct config_handler *c = h->cfg;
	const struct addrlist *l = h->list;

	*st = (struct hstatus){.h = h, .qname = c->qname, .qtype = c->qtype, .error = h->error};
	if (c->kind) {
		c->kind->describe(c, s->config->zones[c->zone].ttl, serves, size);
		st->kind = c->kind->name;
		st->serves = serves;
		return;
	}
	st->kind = "addresses";
	if (c->view) {
		st->view = c->view_name;
		st->prefix_file = c->prefix_path;
		st->inline_prefixes = c->n_prefixes;
	} else if (c->n_views) {
		st->n_views = c->n_views;
		st->match = c->match == CONFIG_MATCH_RESOLVER ? "resolver" : "subnet";
		st->prefixes = h->views ? h->views->trie.prefixes : 0;
		st->views_error = h->views_error;
	}
	st->file = c->path;
	st->policy = config_policy_names[c->policy];
	st->count = c->count;
	st->n_addresses = l ? l->n : 0;
	if (l && l->cum) {
		st->weighted = true;
		st->total_weight = l->total;
		st->drained = l->n_drained;
	}
	if (answer_next(s, rot, h, &st->next_index, &st->pos)) {
		/* the counter moves by count per answer (round-robin: at most the list length) */
		uint32_t step = c->count < l->n ? c->count : l->n;

		st->rotates = true;
		st->answers = st->pos / (c->policy == CONFIG_POLICY_WEIGHTED ? c->count : step);
	}
}

void hstatus_health(struct hstatus *st, const struct snapshot *s, const struct health *h)
{
	const struct handler *hd = st->h;

	if (!hd->cfg->health || hd->cfg->kind)
		return;
	st->check = hd->cfg->health;
	if (hd->list)
		st->health = health_get(h, snapshot_slot(s, hd), hd->list->n);
	/* round-robin with some down counts over the up ones (answer.h) */
	if (st->health && st->rotates && hd->cfg->policy == CONFIG_POLICY_ROUND_ROBIN &&
	    st->health->n_down && st->health->n_up)
		st->next_index = st->health->up[st->pos % st->health->n_up];
}

uint64_t hstatus_served(const struct hstatus *st, uint32_t i)
{
	uint32_t n = st->n_addresses;

	if (st->check)
		return UINT64_MAX;
	/* strict rotation: address i was served pos/n times, once more if i < pos%n */
	if (!st->rotates || st->h->cfg->policy != CONFIG_POLICY_ROUND_ROBIN || !n)
		return UINT64_MAX;
	return st->pos / n + (i < st->pos % n);
}
