/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keeper.h"
#include "kind.h"
#include "log.h"
#include "session.h"

#define FLUSH_AT	(64 * 1024)
#define REPEAT_LINE_MAX 512
#define REPEAT_OUT_MAX	4096

int session_new(struct serving *sv, const struct session_ops *ops, void *userdata, int in_fd,
		int out_fd, struct session **ret)
{
	struct session *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->rbuf = malloc(SESSION_MAX_LINE + 1);
	s->rep_line = malloc(REPEAT_LINE_MAX);
	if (!s->rbuf || !s->rep_line || !buf_reserve(&s->out, FLUSH_AT + 4096) ||
	    !buf_reserve(&s->rep_out, REPEAT_OUT_MAX)) {
		session_free(s);
		return -ENOMEM;
	}
	s->sv = sv;
	s->ops = ops;
	s->userdata = userdata;
	s->in_fd = in_fd;
	s->out_fd = out_fd;
	s->next = sv->sessions;
	sv->sessions = s;
	*ret = s;
	return 0;
}

struct session *session_free(struct session *s)
{
	if (!s)
		return NULL;
	for (struct session **p = s->sv ? &s->sv->sessions : NULL; p && *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
	free(s->rbuf);
	free(s->rep_line);
	buf_free(&s->out);
	buf_free(&s->rep_out);
	free(s);
	return NULL;
}

/* Counts what the memo noticed since the last lookup and warns once per process: a rotation
 * that PowerDNS's caches keep from seeing each question must not stop without a word. */
static void note_stall(struct session *s)
{
	struct serving *sv = s->sv;
	const struct snapshot *snap = sv->snap;
	uint32_t slot = s->memo.mismatch_slot;
	char what[400];

	sv->stalls += s->memo.mismatches - s->mismatches_seen;
	s->mismatches_seen = s->memo.mismatches;
	if (sv->stall_warned)
		return;
	sv->stall_warned = true;
	if (snap && slot < snap->n_handlers)
		snprintf(what, sizeof(what),
			 "lookups of %s came without the SOA lookups that begin each question",
			 snap->handlers[slot].cfg->qname);
	else
		snprintf(what, sizeof(what), "an SOA walk stopped short of the zone's apex");
	log_warning(
	    "rotation stalled: %s. PowerDNS's caches (query-cache-ttl, negquery-cache-ttl) answer the "
	    "SOA lookups by which \"advance\": \"per-question\" tells questions apart. Set \"advance\": "
	    "\"per-lookup\" in the config with consistent-backends=no and pipe-abi-version=3 or later "
	    "(README, \"Fewer lookups per question\"), or query-cache-ttl=0 and negquery-cache-ttl=0 "
	    "in pdns.conf. %s",
	    what,
	    s->abi >= 3
		? "Until then pdyndns counts the lookups of each question and goes on rotating "
		  "(README, \"Rotation\")"
		: "With pipe-abi-version 1 or 2 PowerDNS keeps each answer for query-cache-ttl: until "
		  "then the rotation moves at most once per query-cache-ttl");
}

static void handle_line(struct session *s, char *line, size_t len)
{
	struct answer_ctx ctx = {.snap = s->sv->snap,
				 .rot = &s->sv->rot,
				 .health = &s->sv->health,
				 .memo = &s->memo,
				 .metrics = &s->sv->metrics};
	size_t out_start = s->out.len;
	bool may_repeat;
	const char *why;
	struct pp_msg m;

	if (len && line[len - 1] == '\r')
		len--;
	line[len] = 0;
	if (s->ks)
		keeper_note(s->ks, line, len);
	if (s->rep_len && s->rep_len == len && s->rep_gen == s->sv->generation &&
	    memcmp(line, s->rep_line, len) == 0 && answer_memo_repeat(&s->memo)) {
		s->sv->lookups++;
		s->sv->metrics.lookups[s->rep_qtype]++;
		buf_put(&s->out, s->rep_out.data, s->rep_out.len);
		return;
	}
	s->rep_len = 0;
	may_repeat = len <= REPEAT_LINE_MAX && len > 2 && line[0] == 'Q' && line[1] == '\t';
	if (may_repeat)
		memcpy(s->rep_line, line, len); /* before pp_parse() cuts it at its tabs */
	if (pp_parse(line, len, s->abi, &m, &why) < 0) {
		/* the parser cut the line at its tabs: show it whole again */
		for (size_t i = 0; i < len; i++)
			if (!line[i])
				line[i] = '\t';
		log_debug("refused line (%s): %.200s", why, line);
		pp_fail(&s->out);
		return;
	}
	ctx.abi = s->abi;
	switch (m.kind) {
	case PP_HELO: {
		_cleanup_free_ char *banner = s->ops->banner(s->userdata);

		s->abi = m.abi;
		if (s->ks)
			s->ks->abi = m.abi;
		s->memo = (struct answer_memo){
		    0}; /* a new handshake: what PowerDNS sends is learnt again */
		s->mismatches_seen = 0;
		if (m.abi < 3 && s->sv->snap &&
		    s->sv->snap->config->advance == CONFIG_ADVANCE_PER_LOOKUP)
			log_warning(
			    "pipe-abi-version %d cannot mark answers uncacheable (ECS scope bits "
			    "need 3 or later): with \"advance\": \"per-lookup\", PowerDNS's "
			    "query cache must stay off (query-cache-ttl=0)",
			    m.abi);
		/* Exactly one line: PowerDNS logs it as the banner. */
		buf_puts(&s->out, "OK\t");
		buf_puts(&s->out, banner ? banner : "pdyndns");
		buf_putc(&s->out, '\n');
		log_debug("HELO: ABI %d", m.abi);
		break;
	}
	case PP_Q:
		s->sv->lookups++;
		s->sv->metrics.lookups[metrics_qtype_index(pp_qtype(m.qtype))]++;
		answer_query(&ctx, &m, &s->out);
		if (s->memo.mismatches != s->mismatches_seen)
			note_stall(s);
		if (may_repeat && ctx.snap &&
		    ctx.snap->config->advance == CONFIG_ADVANCE_PER_QUESTION &&
		    pp_qtype(m.qtype) != PP_TYPE_SOA && s->out.len - out_start <= REPEAT_OUT_MAX) {
			/* the same line again before an SOA lookup is the same question */
			buf_truncate(&s->rep_out, 0);
			buf_put(&s->rep_out, s->out.data + out_start, s->out.len - out_start);
			s->rep_len = len;
			s->rep_qtype = metrics_qtype_index(pp_qtype(m.qtype));
			s->rep_gen = s->sv->generation;
		}
		break;
	case PP_AXFR: answer_axfr(&ctx, &m, &s->out); break;
	case PP_CMD:
		s->ops->cmd(s->userdata, m.cmd, &s->out);
		pp_end(&s->out);
		break;
	}
}

int session_flush(struct session *s)
{
	size_t off = 0;

	if (!buf_ok(&s->out)) {
		/* An answer could not be built: the stream would desynchronise. */
		log_error("out of memory while building an answer");
		return -ENOMEM;
	}
	/* Before the write: a SIGKILL lands most often as a system call returns, and one that
	 * ends this write must not leave the line looking unanswered (the next pdyndns would
	 * answer it twice). A partial write stays unanswered for good (keeper.h). */
	if (s->ks)
		keeper_answered(s->ks);
	while (off < s->out.len) {
		ssize_t n = write(s->out_fd, s->out.data + off, s->out.len - off);

		if (n < 0) {
			int r = -errno;

			if (r == -EINTR)
				continue;
			/* keep what was not written (a non-blocking socket: -EAGAIN) */
			memmove(s->out.data, s->out.data + off, s->out.len - off);
			buf_truncate(&s->out, s->out.len - off);
			return r;
		}
		off += (size_t)n;
	}
	buf_truncate(&s->out, 0);
	return 0;
}

/* Handles the complete lines in rbuf and keeps the rest. */
static int process(struct session *s)
{
	char *p = s->rbuf, *end = s->rbuf + s->rlen;
	int r = 0;

	for (;;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl)
			break;
		if (s->discarding) {
			s->discarding = false;
			log_warning("refused a line longer than %d bytes", SESSION_MAX_LINE);
			pp_fail(&s->out);
		} else
			handle_line(s, p, (size_t)(nl - p));
		p = nl + 1;
		if (s->out.len >= FLUSH_AT && (r = session_flush(s)) < 0)
			break;
	}
	s->rlen = (size_t)(end - p);
	if (r < 0) {
		/* the lines not answered yet stay for session_continue() */
		memmove(s->rbuf, p, s->rlen);
		return r;
	}
	if (s->rlen == SESSION_MAX_LINE) {
		s->discarding = true;
		s->rlen = 0;
	} else
		memmove(s->rbuf, p, s->rlen);
	return session_flush(s);
}

void session_feed(struct session *s, const char *data, size_t len)
{
	while (len) {
		size_t n = SESSION_MAX_LINE - s->rlen;

		if (n > len)
			n = len;
		memcpy(s->rbuf + s->rlen, data, n);
		s->rlen += n;
		data += n;
		len -= n;
		if (process(s) < 0)
			return;
	}
}

int session_continue(struct session *s)
{
	int r = session_flush(s);

	return r < 0 ? r : process(s);
}

int session_read(struct session *s)
{
	ssize_t n;

	if (s->ks) {
		/* socket mode: a line read from here on is PowerDNS's to be answered, and it is
		 * read into memory the connection keeper shares (keeper.h) */
		size_t room = SESSION_MAX_LINE - s->rlen;

		keeper_reading(s->ks);
		n = read(s->in_fd, s->ks->raw, room < KEEPER_LINE_MAX ? room : KEEPER_LINE_MAX);
		if (n > 0)
			memcpy(s->rbuf + s->rlen, s->ks->raw, (size_t)n);
		else
			keeper_answered(s->ks); /* nothing was read */
	} else
		n = read(s->in_fd, s->rbuf + s->rlen, SESSION_MAX_LINE - s->rlen);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -errno;
	if (n == 0) {
		/* A last line without a newline still gets its answer. */
		if (s->rlen && !s->discarding) {
			s->rbuf[s->rlen] = '\n';
			s->rlen++;
			process(s);
		}
		return 1;
	}
	s->rlen += (size_t)n;
	return process(s);
}
