/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "answer.h"
#include "kind.h"

uint32_t answer_memo_per_question(const struct answer_memo *memo, int abi, bool apex)
{
	return memo->ns_probes || apex || (memo->stalled && abi < 3) ? 1 : 2;
}

/* Per question: the index slot's answer in this question was drawn from, true; false when
 * this lookup begins a new question for it, with *at the entry to fill (ANSWER_MEMO_SIZE
 * when the memo is full). A lookup beyond what one question asks means the questions came
 * without their SOA lookups: noted, and the memo goes on counting. */
static bool memo_reuse(const struct answer_ctx *ctx, uint32_t slot, uint64_t *index, uint32_t *at)
{
	struct answer_memo *memo = ctx->memo;

	for (uint32_t i = 0; i < memo->n; i++) {
		if (memo->e[i].slot != slot)
			continue;
		memo->touched |= 1u << i;
		if (memo->e[i].uses >= answer_memo_per_question(memo, ctx->abi, ctx->at_apex)) {
			memo->stalled = true;
			if (!memo->mismatch_now) /* once for a lookup, whatever its lists */
				memo->mismatches++;
			memo->mismatch_now = true;
			memo->mismatch_slot = slot;
			*at = i;
			return false;
		}
		memo->e[i].uses++;
		*index = memo->e[i].index;
		return true;
	}
	*at = memo->n < ANSWER_MEMO_SIZE ? memo->n : ANSWER_MEMO_SIZE;
	return false;
}

static void memo_store(struct answer_memo *memo, uint32_t at, uint32_t slot, uint64_t index)
{
	if (at >= ANSWER_MEMO_SIZE)
		return;
	if (at == memo->n)
		memo->n++;
	memo->e[at].slot = slot;
	memo->e[at].uses = 1;
	memo->e[at].index = index;
	memo->touched |= 1u << at;
}

/* The counters of handler h, or NULL when nothing counts (peeking, or no metrics). */
static struct metrics_slot *counters(const struct answer_ctx *ctx, const struct handler *h)
{
	uint32_t slot;

	if (!ctx->metrics || ctx->peek)
		return NULL;
	slot = snapshot_slot(ctx->snap, h);
	return slot < ctx->metrics->n ? &ctx->metrics->slot[slot] : NULL;
}

/* The counters an answer of h counts in: once per answer drawn (fresh), not for a repeated
 * lookup of the same question; NULL when it does not count. */
static struct metrics_slot *count_answer(const struct answer_ctx *ctx, const struct handler *h,
					 bool fresh)
{
	struct metrics_slot *ms = fresh ? counters(ctx, h) : NULL;

	if (ms)
		ms->answers++;
	return ms;
}

/* Whether an answer that draws nothing (the whole list) is a new one: per lookup always, per
 * question at the lookup that begins it. */
static bool fresh_undrawn(const struct answer_ctx *ctx)
{
	return ctx->snap->config->advance == CONFIG_ADVANCE_PER_LOOKUP || ctx->opens;
}

static uint32_t pick(const struct answer_ctx *ctx, const struct handler *h, bool *fresh)
{
	uint32_t slot = snapshot_slot(ctx->snap, h), idx, at;
	uint64_t v;

	*fresh = false;
	if (ctx->peek)
		return rotation_peek(ctx->rot, slot, h->list->n);
	*fresh = true;
	if (ctx->snap->config->advance == CONFIG_ADVANCE_PER_LOOKUP)
		return rotation_take(ctx->rot, slot, h->list->n);
	if (memo_reuse(ctx, slot, &v, &at)) {
		*fresh = false;
		return (uint32_t)(v % h->list->n);
	}
	idx = rotation_take(ctx->rot, slot, h->list->n);
	memo_store(ctx->memo, at, slot, idx);
	return idx;
}

/* What an answer of h is drawn from, once per question (or per lookup): the rotation count
 * before it advances by step, or with step 0 random bits. Peeking moves nothing. */
static uint64_t draw(const struct answer_ctx *ctx, const struct handler *h, uint64_t step,
		     bool *fresh)
{
	uint32_t slot = snapshot_slot(ctx->snap, h), at = ANSWER_MEMO_SIZE;
	bool per_question = ctx->snap->config->advance == CONFIG_ADVANCE_PER_QUESTION;
	uint64_t v;

	*fresh = false;
	if (ctx->peek)
		return step ? rotation_count(ctx->rot, slot) : rotation_mix(ctx->rot->rng ^ slot);
	if (per_question && memo_reuse(ctx, slot, &v, &at))
		return v;
	*fresh = true;
	v = step ? rotation_advance(ctx->rot, slot, step) : rotation_random(ctx->rot);
	if (per_question)
		memo_store(ctx->memo, at, slot, v);
	return v;
}

/* Element x of a permutation of [0, n) chosen by key: a 4-round Feistel network on the
 * smallest even number of bits that holds n, walking the cycle until it lands below n
 * (fewer than 4 steps on average). Distinct x give distinct elements, with no memory. */
static uint32_t permute(uint64_t key, uint32_t x, uint32_t n)
{
	unsigned bits = n > 1 ? 32 - (unsigned)__builtin_clz(n - 1) : 2, half;
	uint32_t mask;

	bits += bits & 1;
	half = bits / 2;
	mask = (1u << half) - 1;
	do {
		uint32_t l = x >> half, r = x & mask;

		for (uint64_t round = 0; round < 4; round++) {
			uint32_t t =
			    l ^
			    ((uint32_t)rotation_mix(key + round * 0x9e3779b97f4a7c15u + r) & mask);

			l = r;
			r = t;
		}
		x = l << half | r;
	} while (x >= n);
	return x;
}

static void put_address(const struct answer_ctx *ctx, const char *owner, size_t len,
			const struct handler *h, uint32_t idx, struct metrics_slot *ms,
			struct buf *out);

/* The addresses of every policy but plain round-robin with count 1. */
static void put_policy(const struct answer_ctx *ctx, const char *owner, size_t len,
		       const struct handler *h, struct buf *out)
{
	const struct addrlist *l = h->list;
	uint32_t n = l->n, k = h->cfg->count < n ? h->cfg->count : n;
	struct metrics_slot *ms;
	bool fresh;

	switch (h->cfg->policy) {
	case CONFIG_POLICY_LEAST_LOADED: /* no loads to go by (all down, or not checked yet) */
	case CONFIG_POLICY_ROUND_ROBIN: {
		uint64_t start = draw(ctx, h, k, &fresh) % n;

		ms = count_answer(ctx, h, fresh);
		for (uint32_t j = 0; j < k; j++)
			put_address(ctx, owner, len, h, (uint32_t)((start + j) % n), ms, out);
		break;
	}
	case CONFIG_POLICY_WEIGHTED: {
		uint32_t got[CONFIG_COUNT_MAX], m = 0;
		uint64_t pos;

		if (!l->total)
			break;
		pos = draw(ctx, h, h->cfg->count, &fresh);
		ms = count_answer(ctx, h, fresh);
		if (h->cfg->count >= n - l->n_drained) {
			for (uint32_t i = 0; i < n; i++)
				if (addrlist_weight(l, i))
					put_address(ctx, owner, len, h, i, ms, out);
			break;
		}
		/* count positions of the schedule, each address once */
		for (uint32_t j = 0; j < h->cfg->count; j++) {
			uint32_t i = addrlist_weighted_at(l, pos + j), c = 0;

			while (c < m && got[c] != i)
				c++;
			if (c == m) {
				got[m++] = i;
				put_address(ctx, owner, len, h, i, ms, out);
			}
		}
		break;
	}
	case CONFIG_POLICY_RANDOM: {
		uint64_t bits;

		if (k == n) {
			ms = count_answer(ctx, h, fresh_undrawn(ctx));
			for (uint32_t i = 0; i < n; i++)
				put_address(ctx, owner, len, h, i, ms, out);
			break;
		}
		bits = draw(ctx, h, 0, &fresh);
		ms = count_answer(ctx, h, fresh);
		if (k == 1)
			put_address(ctx, owner, len, h,
				    (uint32_t)(((unsigned __int128)bits * n) >> 64), ms, out);
		else
			for (uint32_t j = 0; j < k; j++)
				put_address(ctx, owner, len, h, permute(bits, j, n), ms, out);
		break;
	}
	case CONFIG_POLICY_ALL:
		ms = count_answer(ctx, h, fresh_undrawn(ctx));
		for (uint32_t i = 0; i < n && i < CONFIG_ALL_MAX; i++)
			put_address(ctx, owner, len, h, i, ms, out);
		break;
	}
}

/* The weighted schedule's positions walked for a checked answer with some down, and the
 * positions drawn for each that holds a down address. */
#define WEIGHTED_WALK_MAX 65536u
#define WEIGHTED_REDRAWS  64u

/* Least-loaded over the up addresses of hs: count of them, from the lowest load up, each
 * group of equal loads rotated by the rotation so that equal ones alternate exactly; or
 * with choices 2, the less loaded of two drawn at random. */
static void put_least_loaded(const struct answer_ctx *ctx, const char *owner, size_t len,
			     const struct handler *h, const struct health_slot *hs, struct buf *out)
{
	uint32_t k = h->cfg->count < hs->n_up ? h->cfg->count : hs->n_up, done = 0, from = 0;
	struct metrics_slot *ms;
	bool fresh;
	uint64_t c;

	if (h->cfg->choices == 2 && hs->n_up >= 2) {
		uint64_t bits = draw(ctx, h, 0, &fresh);
		uint32_t x = hs->up[permute(bits, 0, hs->n_up)],
			 y = hs->up[permute(bits, 1, hs->n_up)];
		const struct health_addr *a = &hs->a[x], *b = &hs->a[y];
		bool second = b->has_load && (!a->has_load || b->load < a->load);

		put_address(ctx, owner, len, h, second ? y : x, count_answer(ctx, h, fresh), out);
		return;
	}
	c = draw(ctx, h, 1, &fresh);
	ms = count_answer(ctx, h, fresh);
	for (uint32_t g = 0; g < hs->n_groups && done < k; g++) {
		uint32_t size = hs->group_end[g] - from, take = k - done < size ? k - done : size;
		uint64_t start = c % size;

		for (uint32_t j = 0; j < take; j++)
			put_address(ctx, owner, len, h, hs->order[from + (start + j) % size], ms,
				    out);
		done += take;
		from = hs->group_end[g];
	}
}

/* The addresses of checked handler h, with some of them down (or under least-loaded). */
static void put_checked(const struct answer_ctx *ctx, const char *owner, size_t len,
			const struct handler *h, const struct health_slot *hs, struct buf *out)
{
	const struct addrlist *l = h->list;
	uint32_t n = hs->n_up, k = h->cfg->count < n ? h->cfg->count : n;
	struct metrics_slot *ms;
	bool fresh;

	switch (h->cfg->policy) {
	case CONFIG_POLICY_LEAST_LOADED: put_least_loaded(ctx, owner, len, h, hs, out); break;
	case CONFIG_POLICY_ROUND_ROBIN: {
		uint64_t start = draw(ctx, h, k, &fresh) % n;

		ms = count_answer(ctx, h, fresh);
		for (uint32_t j = 0; j < k; j++)
			put_address(ctx, owner, len, h, hs->up[(start + j) % n], ms, out);
		break;
	}
	case CONFIG_POLICY_WEIGHTED: {
		uint32_t got[CONFIG_COUNT_MAX], m = 0;
		uint64_t pos;

		if (!l->total)
			break;
		pos = draw(ctx, h, h->cfg->count, &fresh);
		ms = count_answer(ctx, h, fresh);
		for (uint32_t j = 0; j < WEIGHTED_WALK_MAX && m < h->cfg->count && m < n; j++) {
			uint32_t i = addrlist_weighted_at(l, pos + j), c = 0;

			/* a down address's turn goes to positions drawn from it: to the up ones by
			 * their weights, on average */
			for (uint64_t t = 1; !hs->a[i].up && t <= WEIGHTED_REDRAWS; t++)
				i = addrlist_weighted_at(
				    l, rotation_mix((pos + j) * WEIGHTED_REDRAWS + t));
			if (!hs->a[i].up)
				continue;
			while (c < m && got[c] != i)
				c++;
			if (c == m) {
				got[m++] = i;
				put_address(ctx, owner, len, h, i, ms, out);
			}
		}
		break;
	}
	case CONFIG_POLICY_RANDOM: {
		uint64_t bits;

		if (k == n) {
			ms = count_answer(ctx, h, fresh_undrawn(ctx));
			for (uint32_t j = 0; j < n; j++)
				put_address(ctx, owner, len, h, hs->up[j], ms, out);
			break;
		}
		bits = draw(ctx, h, 0, &fresh);
		ms = count_answer(ctx, h, fresh);
		if (k == 1)
			put_address(ctx, owner, len, h, hs->up[((unsigned __int128)bits * n) >> 64],
				    ms, out);
		else
			for (uint32_t j = 0; j < k; j++)
				put_address(ctx, owner, len, h, hs->up[permute(bits, j, n)], ms,
					    out);
		break;
	}
	case CONFIG_POLICY_ALL:
		ms = count_answer(ctx, h, fresh_undrawn(ctx));
		for (uint32_t j = 0; j < n && j < CONFIG_ALL_MAX; j++)
			put_address(ctx, owner, len, h, hs->up[j], ms, out);
		break;
	}
}

/* Whether the addresses of h were answered from its health: some are down (or its loads
 * decide), and if all are, "all_down": "none" answers none. false: answer as unchecked. */
static bool put_health(const struct answer_ctx *ctx, const char *owner, size_t len,
		       const struct handler *h, struct buf *out)
{
	const struct health_slot *hs;

	if (!h->cfg->health)
		return false;
	hs = health_get(ctx->health, snapshot_slot(ctx->snap, h), h->list->n);
	/* the fast path: nothing down, and no loads to go by */
	if (!hs || (!hs->n_down && h->cfg->policy != CONFIG_POLICY_LEAST_LOADED))
		return false;
	if (!hs->n_up)
		return h->cfg->health->all_down_none; /* fail open, or nothing */
	if (h->cfg->policy == CONFIG_POLICY_LEAST_LOADED && !hs->n_groups)
		return false; /* not ordered yet */
	put_checked(ctx, owner, len, h, hs, out);
	return true;
}

/* Zone k of the config, or its catch-all (k == n_zones). */
static const struct config_zone *zone_at(const struct snapshot *s, uint16_t k)
{
	return k < s->config->n_zones ? &s->config->zones[k] : s->config->catch_all;
}

/* With a catch-all: whether name, in none of the zones and not the root, gets its SOA and NS
 * (each such name is an apex of its own to PowerDNS, which asks for the full name first). */
static bool caught(const struct snapshot *s, const struct dname *name)
{
	if (!s || !s->config->catch_all || name->labels == 0)
		return false;
	for (size_t z = 0; z < s->config->n_zones; z++)
		if (dname_is_below_or_at(name, &s->config->zones[z].apex))
			return false;
	return true;
}

static void put_soa(const struct answer_ctx *ctx, uint16_t zone, const char *owner, size_t len,
		    struct buf *out)
{
	const struct config_zone *z = zone_at(ctx->snap, zone);

	pp_data(out, ctx->abi, owner, len, PP_TYPE_SOA, z->ttl, zone + 1, 0, z->soa,
		strlen(z->soa));
}

static void put_ns(const struct answer_ctx *ctx, uint16_t zone, const char *owner, size_t len,
		   struct buf *out)
{
	const struct config_zone *z = zone_at(ctx->snap, zone);
	char *const *ns = ctx->snap->ns[zone];

	for (size_t i = 0; i < z->n_nameservers; i++)
		pp_data(out, ctx->abi, owner, len, PP_TYPE_NS, z->ttl, zone + 1, 0, ns[i],
			strlen(ns[i]));
}

/* Address idx of h's list, counted in ms (NULL: not counted). */
static void put_address(const struct answer_ctx *ctx, const char *owner, size_t len,
			const struct handler *h, uint32_t idx, struct metrics_slot *ms,
			struct buf *out)
{
	char text[ADDR_TEXT_MAX];
	size_t n = addrlist_format(h->list, idx, text);
	/* A nonzero scope keeps PowerDNS's query cache from storing the answer: per lookup it
	 * may be on, and per question it must not freeze the rotation where it is on by
	 * mistake (the lookups then show it, answer.h). */
	uint8_t scope = ANSWER_SCOPE;

	if (ctx->has_scope && ctx->scope)
		scope = ctx->scope; /* a view's decision */
	if (ms && idx < ms->n_served)
		ms->served[idx]++;

	pp_data(out, ctx->abi, owner, len, h->cfg->qtype, 0, h->cfg->zone + 1, scope, text, n);
}

uint16_t answer_view(const struct handler *h, const struct pp_msg *m, uint8_t *scope)
{
	const char *client = m->remote;
	uint8_t addr[16];
	unsigned len, bits = 0;
	uint32_t v = PREFIXTRIE_NONE;
	int family;

	/* the client subnet, unless it is the SOA walk's 0.0.0.0/0 or the handler wants the
	 * resolver */
	if (h->cfg->match == CONFIG_MATCH_SUBNET && m->real_remote &&
	    strcmp(m->real_remote, "0.0.0.0/0") != 0)
		client = m->real_remote;
	family = pp_addr(client, addr);
	if (family)
		v = prefixtrie_lookup_scope(&h->views->trie, family, addr, &len, &bits);
	*scope = (uint8_t)bits;
	return v == PREFIXTRIE_NONE || v >= h->cfg->n_views ? 0 : (uint16_t)(v + 1);
}

/* The addresses of address-list handler h. */
static void answer_list(const struct answer_ctx *ctx, const struct pp_msg *m,
			const struct handler *h, struct buf *out)
{
	size_t before = out->len;
	struct metrics_slot *ms;

	if (!h->list || put_health(ctx, m->qname, m->qname_len, h, out))
		; /* nothing, or the health decided (checked handlers with something down) */
	else if (h->cfg->policy == CONFIG_POLICY_ROUND_ROBIN && h->cfg->count == 1) {
		bool fresh;
		uint32_t idx = pick(ctx, h, &fresh);

		put_address(ctx, m->qname, m->qname_len, h, idx, count_answer(ctx, h, fresh), out);
	} else
		put_policy(ctx, m->qname, m->qname_len, h, out);
	if (ctx->opens && (ms = counters(ctx, h)))
		ms->questions[out->len > before ? 0 : 1]++;
}

/* Whether kind handler h answers lookups of type t (ANY: any of its types). */
static bool kind_answers(const struct config_handler *h, uint16_t t)
{
	if (t == PP_TYPE_ANY)
		return true;
	for (uint8_t i = 0; i < h->n_types; i++)
		if (h->types[i] == t)
			return true;
	return false;
}

/* What handler h of a kind (kind.h) answers to lookup m of name, type t. */
static void answer_kind(const struct answer_ctx *ctx, const struct pp_msg *m,
			const struct dname *name, uint16_t t, const struct handler *h,
			struct buf *out)
{
	const struct kind_question q = {
	    .name = name,
	    .owner = m->qname,
	    .owner_len = m->qname_len,
	    .qtype = t,
	    .abi = ctx->abi,
	    .zone_id = h->cfg->zone + 1,
	    .zone_ttl = ctx->snap->config->zones[h->cfg->zone].ttl,
	    .remote = m->remote,
	    .real_remote = m->real_remote,
	};

	h->cfg->kind->answer(h->cfg, &q, out);
}

/* Per question, before a lookup other than SOA: whether the SOA walk before it stopped
 * short. With caches off an SOA lookup answered with nothing is always followed by the
 * parent's; a lookup in one of the zones right after it means PowerDNS's query cache
 * answered the rest of the walk. */
static void check_walk(const struct answer_ctx *ctx, const struct pp_msg *m,
		       const struct dname *name)
{
	struct answer_memo *memo = ctx->memo;
	const struct config *c;

	if (!memo->soa_empty)
		return;
	memo->soa_empty = false;
	if (!ctx->snap || ctx->snap->config->advance != CONFIG_ADVANCE_PER_QUESTION)
		return;
	c = ctx->snap->config;
	if (m->id >= 1 && (uint64_t)m->id <= c->n_zones &&
	    dname_is_below_or_at(name, &c->zones[m->id - 1].apex)) {
		memo->stalled = true;
		memo->mismatches++;
		memo->mismatch_slot = UINT32_MAX;
	}
}

void answer_query(const struct answer_ctx *ctx_in, const struct pp_msg *m, struct buf *out)
{
	struct answer_ctx c = *ctx_in, *ctx = &c;
	const struct snapshot *s = ctx->snap;
	const struct node *node;
	struct dname name;
	uint16_t t = pp_qtype(m->qtype);
	size_t before = out->len;
	bool counting = s && !ctx->peek && s->config->advance == CONFIG_ADVANCE_PER_QUESTION;
	bool ent = false;

	if (dname_parse(m->qname, m->qname_len, &name) < 0) {
		pp_fail(out);
		return;
	}
	if (!ctx->peek) {
		ctx->memo->touched = 0;
		ctx->memo->mismatch_now = false;
	}
	if (t == PP_TYPE_SOA) {
		/* Every client question begins with SOA lookups: a new question. */
		if (!ctx->peek) {
			ctx->memo->n = 0;
			ctx->memo->after_soa = true;
		}
		node = s ? snapshot_find(s, &name) : NULL;
		if (node && node->apex)
			put_soa(ctx, node->zone, m->qname, m->qname_len, out);
		else if (!node && caught(s, &name))
			put_soa(ctx, (uint16_t)s->config->n_zones, m->qname, m->qname_len, out);
		if (!ctx->peek)
			ctx->memo->soa_empty = counting && out->len == before && name.labels > 0;
		pp_end(out);
		return;
	}
	node = s ? snapshot_find(s, &name) : NULL;
	if (!ctx->peek)
		check_walk(ctx, m, &name);
	if (!ctx->peek && ctx->memo->after_soa && t != PP_TYPE_NS) {
		/* the first lookup after the SOA walk that is not an NS probe is for the question's
		 * name (pipe-protocol.md §5) */
		ctx->memo->after_soa = false;
		ctx->opens = ctx->metrics != NULL;
	}
	if (counting) {
		/* PowerDNS probes for a delegation with NS lookups only under
		 * consistent-backends=no */
		if (t == PP_TYPE_NS && (node ? !node->apex : !caught(s, &name))) {
			ctx->memo->ns_probes = true;
			rotation_hint_set(ctx->rot, ROTATION_HINT_NS_PROBES);
		} else if (!ctx->memo->ns_probes &&
			   rotation_hint(ctx->rot, ROTATION_HINT_NS_PROBES))
			/* another copy saw them; the query cache kept this one's from it */
			ctx->memo->ns_probes = true;
	}
	ctx->at_apex = node && node->apex;
	if (!node && caught(s, &name)) {
		if (t == PP_TYPE_ANY)
			put_soa(ctx, (uint16_t)s->config->n_zones, m->qname, m->qname_len, out);
		if (t == PP_TYPE_ANY || t == PP_TYPE_NS)
			put_ns(ctx, (uint16_t)s->config->n_zones, m->qname, m->qname_len, out);
	} else if (s && (!node || (!node->apex && !node->count)))
		/* a name no handler has (an empty non-terminal at most): one that a handler makes
		 * up? */
		for (size_t i = s->first_covering; i < s->n_handlers; i++) {
			const struct handler *h = &s->handlers[i];

			if (h->cfg->kind->covers(h->cfg, &name)) {
				answer_kind(ctx, m, &name, t, h, out);
				break;
			}
		}
	if (node) {
		if (node->apex && t == PP_TYPE_ANY)
			put_soa(ctx, node->zone, m->qname, m->qname_len, out);
		if (node->apex && (t == PP_TYPE_ANY || t == PP_TYPE_NS))
			put_ns(ctx, node->zone, m->qname, m->qname_len, out);
		for (uint32_t i = node->first; i < node->first + node->count; i++) {
			const struct handler *h = &s->handlers[i];

			if (h->cfg->kind) {
				if (kind_answers(h->cfg, t))
					answer_kind(ctx, m, &name, t, h, out);
				continue;
			}
			if (h->cfg->view || (t != PP_TYPE_ANY && t != h->cfg->qtype))
				continue; /* a view answers through its handler */
			if (h->views) {
				struct answer_ctx vc = *ctx;
				uint16_t k;

				vc.has_scope = true;
				k = answer_view(h, m, &vc.scope);
				if (k && ctx->opens && counters(ctx, &h[k]))
					counters(ctx, &h[k])->view_hits++;
				/* a view whose file never loaded: the handler's own list */
				answer_list(&vc, m, k && h[k].list ? &h[k] : h, out);
				continue;
			}
			answer_list(ctx, m, h, out);
		}
		/* a name that exists with nothing to serve (above a handler's name, or a handler
		 * without data): with ENT lines PowerDNS knows it exists, so the question gets
		 * NODATA, and no wildcard above it applies (RFC 4592) */
		if (t == PP_TYPE_ANY && !node->apex && out->len == before &&
		    s->config->empty_non_terminals) {
			pp_ent(out, ctx->abi, m->qname, m->qname_len, zone_at(s, node->zone)->ttl,
			       node->zone + 1);
			ent = true;
		}
	}
	if (ctx->opens) {
		/* as PowerDNS will take it: nothing at all is NXDOMAIN (pipe-protocol.md §7) */
		enum metrics_rcode rc = out->len > before && !ent	    ? METRICS_NOERROR
					: ent || (node && t != PP_TYPE_ANY) ? METRICS_NODATA
									    : METRICS_NXDOMAIN;

		ctx->metrics->questions[rc]++;
	}
	pp_end(out);
}

void answer_axfr(const struct answer_ctx *ctx, const struct pp_msg *m, struct buf *out)
{
	const struct snapshot *s = ctx->snap;
	struct answer_ctx peek = *ctx;
	const struct config_zone *z;
	struct dname zone;
	uint16_t k;

	if (!s || m->id < 1 || (uint64_t)m->id > s->config->n_zones) {
		pp_fail(out);
		return;
	}
	k = (uint16_t)(m->id - 1);
	z = &s->config->zones[k];
	if (m->qname &&
	    (dname_parse(m->qname, m->qname_len, &zone) < 0 || !dname_equal(&zone, &z->apex))) {
		pp_fail(out);
		return;
	}
	peek.peek = true;
	put_soa(ctx, k, z->domain, strlen(z->domain), out);
	put_ns(ctx, k, z->domain, strlen(z->domain), out);
	for (size_t i = 0; i < s->n_handlers; i++) {
		const struct handler *h = &s->handlers[i];

		if (h->cfg->zone != k)
			continue;
		if (h->cfg->kind && h->cfg->kind->list)
			h->cfg->kind->list(h->cfg, ctx->abi, k + 1, z->ttl, out);
		if (!h->list || h->cfg->view) /* a view's answers depend on the client */
			continue;
		if (put_health(&peek, h->cfg->qname, strlen(h->cfg->qname), h, out))
			continue;
		if (h->cfg->policy == CONFIG_POLICY_ROUND_ROBIN && h->cfg->count == 1)
			put_address(ctx, h->cfg->qname, strlen(h->cfg->qname), h,
				    rotation_peek(ctx->rot, (uint32_t)i, h->list->n), NULL, out);
		else
			put_policy(&peek, h->cfg->qname, strlen(h->cfg->qname), h, out);
	}
	pp_end(out);
}

bool answer_memo_repeat(struct answer_memo *memo)
{
	if (memo->stalled || memo->ns_probes)
		return false;
	for (uint32_t i = 0; i < memo->n; i++)
		if (memo->touched & 1u << i && memo->e[i].uses >= 2)
			return false;
	for (uint32_t i = 0; i < memo->n; i++)
		if (memo->touched & 1u << i)
			memo->e[i].uses++;
	return true;
}

void answer_memo_remap(struct answer_memo *memo, const uint32_t *map, size_t n_old)
{
	uint32_t k = 0;

	memo->touched = 0;

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

void answer_memo_forget(struct answer_memo *memo, uint32_t slot)
{
	uint32_t k = 0;

	memo->touched = 0;

	for (uint32_t i = 0; i < memo->n; i++)
		if (memo->e[i].slot != slot)
			memo->e[k++] = memo->e[i];
	memo->n = k;
}

bool answer_next(const struct snapshot *s, const struct rotation *rot, const struct handler *h,
		 uint32_t *index, uint64_t *pos)
{
	const struct addrlist *l = h->list;
	const struct config_handler *c = h->cfg;
	uint32_t slot = snapshot_slot(s, h);
	uint64_t p;

	if (!l || !(c->policy == CONFIG_POLICY_ROUND_ROBIN ||
		    (c->policy == CONFIG_POLICY_WEIGHTED && l->total)))
		return false;
	p = slot < rot->n ? rotation_count(rot, slot) : 0;
	*index =
	    c->policy == CONFIG_POLICY_WEIGHTED ? addrlist_weighted_at(l, p) : (uint32_t)(p % l->n);
	if (pos)
		*pos = p;
	return true;
}
