/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hstatus.h"
#include "keeper.h"
#include "kind.h"
#include "log.h"
#include "session.h"
#include "status.h"

#define FLUSH_AT	(64 * 1024)
#define REPEAT_LINE_MAX 512
#define REPEAT_OUT_MAX	4096

int session_new(struct daemon *d, int in_fd, int out_fd, struct session **ret)
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
	s->d = d;
	s->in_fd = in_fd;
	s->out_fd = out_fd;
	*ret = s;
	return 0;
}

struct session *session_free(struct session *s)
{
	if (!s)
		return NULL;
	free(s->rbuf);
	free(s->rep_line);
	buf_free(&s->out);
	buf_free(&s->rep_out);
	free(s);
	return NULL;
}

/* Coprocess mode: PowerDNS itself never sends CMD; pdnsutil backend-cmd starts a copy of
 * its own for its commands, which serves no question. Its counters say nothing of the
 * copies that do: say so, and what those say of themselves. */
static void describe_copies(struct session *s)
{
	const struct daemon *d = s->d;
	size_t at = s->out.len, n;

	buf_puts(
	    &s->out,
	    "this copy was started for this command (pdnsutil backend-cmd) and serves no question; "
	    "the other copies running, as they say of themselves:\n");
	n = d->describe_copies(d, &s->out);
	if (!n) {
		buf_truncate(&s->out, at);
		buf_puts(
		    &s->out,
		    "this copy was started for this command (pdnsutil backend-cmd) and serves no question; "
		    "no other copy has a control socket in ");
		buf_puts(&s->out, d->control_dir ? d->control_dir : "(none)");
		buf_puts(&s->out, " (is pdns_server running, with the same --control-dir?)\n");
	}
	buf_puts(&s->out, "their handlers and rotations: pdynctl --dir ");
	buf_puts(&s->out, d->control_dir ? d->control_dir : "DIR");
	buf_puts(&s->out, " status\n");
}

static void answer_cmd(struct session *s, const struct pp_msg *m)
{
	const struct snapshot *snap = s->d->snap;
	char *line = daemon_status_line(s->d);

	/* PowerDNS prints every line up to END verbatim. */
	if (strcmp(m->cmd, "status") == 0) {
		buf_puts(&s->out, line ? line : "out of memory");
		buf_putc(&s->out, '\n');
		if (s->d->describe_copies)
			describe_copies(s);
		for (size_t i = 0; snap && i < snap->n_handlers; i++) {
			const struct handler *h = &snap->handlers[i];
			char what[512], text[ADDR_TEXT_MAX];
			struct hstatus st;

			hstatus_get(snap, &s->d->rot, h, what, sizeof(what), &st);
			buf_puts(&s->out, st.qname);
			if (st.serves) {
				buf_putc(&s->out, ' ');
				buf_puts(&s->out, st.kind);
				buf_puts(&s->out, ": ");
				buf_puts(&s->out, st.serves);
				buf_putc(&s->out, '\n');
				continue;
			}
			buf_puts(&s->out, st.qtype == PP_TYPE_A ? " A " : " AAAA ");
			if (st.view) {
				buf_puts(&s->out, "view \"");
				buf_puts(&s->out, st.view);
				buf_puts(&s->out, "\" ");
			}
			buf_puts(&s->out, st.file);
			buf_puts(&s->out, " (");
			buf_puts(&s->out, st.policy);
			if (st.count > 1) {
				buf_putc(&s->out, '/');
				buf_putu(&s->out, st.count);
			}
			buf_putc(&s->out, ')');
			if (h->list) {
				buf_puts(&s->out, ": ");
				buf_putu(&s->out, st.n_addresses);
				buf_puts(&s->out, " addresses");
				if (st.rotates) {
					addrlist_format(h->list, st.next_index, text);
					buf_puts(&s->out, ", next #");
					buf_putu(&s->out, st.next_index);
					buf_puts(&s->out, " ");
					buf_puts(&s->out, text);
				} else if (st.weighted && !st.total_weight)
					buf_puts(
					    &s->out,
					    ", every weight 0: no address is answered, as from a list that did not load");
			} else
				buf_puts(&s->out, ": serving nothing");
			if (st.error) {
				buf_puts(&s->out, "; last error: ");
				buf_puts(&s->out, st.error);
			}
			buf_putc(&s->out, '\n');
		}
	} else if (strcmp(m->cmd, "help") == 0) {
		buf_puts(&s->out, "pdyndns commands: status (state and every handler), help\n");
	} else {
		buf_puts(&s->out, "unknown command; try: status, help\n");
	}
	free(line);
	pp_end(&s->out);
}

/* Counts what the memo noticed since the last lookup and warns once per process: a rotation
 * that PowerDNS's caches keep from seeing each question must not stop without a word. */
static void note_stall(struct session *s)
{
	struct daemon *d = s->d;
	const struct snapshot *snap = d->snap;
	uint32_t slot = s->memo.mismatch_slot;
	char what[400];

	d->stalls += s->memo.mismatches - s->mismatches_seen;
	s->mismatches_seen = s->memo.mismatches;
	if (d->stall_warned)
		return;
	d->stall_warned = true;
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
	struct answer_ctx ctx = {.snap = s->d->snap,
				 .rot = &s->d->rot,
				 .health = &s->d->health,
				 .memo = &s->memo,
				 .metrics = &s->d->metrics};
	size_t out_start = s->out.len;
	bool may_repeat;
	const char *why;
	struct pp_msg m;

	if (len && line[len - 1] == '\r')
		len--;
	line[len] = 0;
	if (s->ks)
		keeper_note(s->ks, line, len);
	if (s->rep_len && s->rep_len == len && s->rep_gen == s->d->generation &&
	    memcmp(line, s->rep_line, len) == 0 && answer_memo_repeat(&s->memo)) {
		s->d->lookups++;
		s->d->metrics.lookups[s->rep_qtype]++;
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
		_cleanup_free_ char *banner = daemon_status_line(s->d);

		s->abi = m.abi;
		if (s->ks)
			s->ks->abi = m.abi;
		s->memo = (struct answer_memo){
		    0}; /* a new handshake: what PowerDNS sends is learnt again */
		s->mismatches_seen = 0;
		if (m.abi < 3 && s->d->snap &&
		    s->d->snap->config->advance == CONFIG_ADVANCE_PER_LOOKUP)
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
		s->d->lookups++;
		s->d->metrics.lookups[metrics_qtype_index(pp_qtype(m.qtype))]++;
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
			s->rep_gen = s->d->generation;
		}
		break;
	case PP_AXFR: answer_axfr(&ctx, &m, &s->out); break;
	case PP_CMD: answer_cmd(s, &m); break;
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
