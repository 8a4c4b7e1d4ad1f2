/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "answer.h"

static uint32_t pick(const struct answer_ctx *ctx, const struct handler *h)
{
	struct answer_memo *memo = ctx->memo;
	uint32_t slot = snapshot_slot(ctx->snap, h), idx;

	if (ctx->peek)
		return rotation_peek(ctx->rot, slot, h->list->n);
	if (ctx->snap->config->advance == CONFIG_ADVANCE_PER_LOOKUP)
		return rotation_take(ctx->rot, slot, h->list->n);
	for (uint32_t i = 0; i < memo->n; i++)
		if (memo->e[i].slot == slot)
			return memo->e[i].index % h->list->n;
	idx = rotation_take(ctx->rot, slot, h->list->n);
	if (memo->n < ANSWER_MEMO_SIZE) {
		memo->e[memo->n].slot = slot;
		memo->e[memo->n].index = idx;
		memo->n++;
	}
	return idx;
}

static void put_soa(const struct answer_ctx *ctx, const char *owner, size_t len, struct buf *out)
{
	const struct snapshot *s = ctx->snap;

	pp_data(out, ctx->abi, owner, len, PP_TYPE_SOA, s->config->ttl, SNAPSHOT_ZONE_ID, 0, s->soa,
		strlen(s->soa));
}

static void put_ns(const struct answer_ctx *ctx, const char *owner, size_t len, struct buf *out)
{
	const struct snapshot *s = ctx->snap;

	for (size_t i = 0; i < s->config->n_nameservers; i++)
		pp_data(out, ctx->abi, owner, len, PP_TYPE_NS, s->config->ttl, SNAPSHOT_ZONE_ID, 0, s->ns[i],
			strlen(s->ns[i]));
}

static void put_address(const struct answer_ctx *ctx, const char *owner, size_t len,
			const struct handler *h, uint32_t idx, struct buf *out)
{
	char text[ADDR_TEXT_MAX];
	size_t n = addrlist_format(h->list, idx, text);
	/* Per lookup, PowerDNS's query cache may be on; a nonzero scope keeps it from storing
	 * the answer. Per question, caches are off and scope 0 is the honest value. */
	uint8_t scope = ctx->snap->config->advance == CONFIG_ADVANCE_PER_LOOKUP ? ANSWER_SCOPE : 0;

	pp_data(out, ctx->abi, owner, len, h->cfg->qtype, 0, SNAPSHOT_ZONE_ID, scope, text, n);
}

void answer_query(const struct answer_ctx *ctx, const struct pp_msg *m, struct buf *out)
{
	const struct snapshot *s = ctx->snap;
	const struct node *node;
	struct dname name;
	uint16_t t = pp_qtype(m->qtype);

	if (dname_parse(m->qname, m->qname_len, &name) < 0) {
		pp_fail(out);
		return;
	}
	if (t == PP_TYPE_SOA) {
		/* Every client question begins with SOA lookups: a new question. */
		ctx->memo->n = 0;
		if (s && dname_equal(&name, &s->config->apex))
			put_soa(ctx, m->qname, m->qname_len, out);
		pp_end(out);
		return;
	}
	node = s ? snapshot_find(s, &name) : NULL;
	if (node) {
		if (node->apex && t == PP_TYPE_ANY)
			put_soa(ctx, m->qname, m->qname_len, out);
		if (node->apex && (t == PP_TYPE_ANY || t == PP_TYPE_NS))
			put_ns(ctx, m->qname, m->qname_len, out);
		for (uint32_t i = node->first; i < node->first + node->count; i++) {
			const struct handler *h = &s->handlers[i];

			if (h->list && (t == PP_TYPE_ANY || t == h->cfg->qtype))
				put_address(ctx, m->qname, m->qname_len, h, pick(ctx, h), out);
		}
	}
	pp_end(out);
}

void answer_axfr(const struct answer_ctx *ctx, const struct pp_msg *m, struct buf *out)
{
	const struct snapshot *s = ctx->snap;
	const char *apex;
	struct dname zone;

	if (!s || m->id != SNAPSHOT_ZONE_ID) {
		pp_fail(out);
		return;
	}
	if (m->qname && (dname_parse(m->qname, m->qname_len, &zone) < 0 ||
			 !dname_equal(&zone, &s->config->apex))) {
		pp_fail(out);
		return;
	}
	apex = s->config->domain;
	put_soa(ctx, apex, strlen(apex), out);
	put_ns(ctx, apex, strlen(apex), out);
	for (size_t i = 0; i < s->n_handlers; i++) {
		const struct handler *h = &s->handlers[i];

		if (h->list)
			put_address(ctx, h->cfg->qname, strlen(h->cfg->qname), h,
				    rotation_peek(ctx->rot, (uint32_t)i, h->list->n), out);
	}
	pp_end(out);
}

void answer_memo_remap(struct answer_memo *memo, const uint32_t *map, size_t n_old)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < memo->n; i++) {
		uint32_t slot = memo->e[i].slot;

		if (slot < n_old && map[slot]) {
			memo->e[k] = memo->e[i];
			memo->e[k].slot = map[slot] - 1;
			k++;
		}
	}
	memo->n = k;
}
