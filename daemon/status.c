/* SPDX-License-Identifier: MIT */
/* What a copy says of itself to PowerDNS (status.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "hstatus.h"
#include "pipeproto.h"
#include "status.h"

char *daemon_status_line(const struct daemon *d)
{
	const struct snapshot *s = d->sv.snap;
	char *line = NULL, counts[CONFIG_COUNTS_MAX];
	int r;

	if (s)
		config_counts(s->config, counts);
	if (!s)
		r = asprintf(&line, "pdyndns %s: config error, serving nothing: %s",
			     PACKAGE_VERSION, d->startup_error ? d->startup_error : "unknown");
	else
		r = asprintf(&line,
			     "pdyndns %s pid %d: zone %s, generation %llu, %s (%zu without "
			     "addresses%s%.0zu%s), %llu addresses, %llu lookups",
			     PACKAGE_VERSION, (int)getpid(), s->config->domain,
			     (unsigned long long)d->sv.generation, counts, s->n_failed,
			     /* ", N with every weight 0" (%.0zu prints nothing for 0): they answer
			      * no address either */
			     s->n_drained ? ", " : "", s->n_drained,
			     s->n_drained ? " with every weight 0" : "",
			     (unsigned long long)s->n_addresses, (unsigned long long)d->sv.lookups);
	if (r < 0)
		return NULL;
	/* the banner and CMD lines must stay one line */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\t' || *p == '\r')
			*p = ' ';
	return line;
}

/* Coprocess mode: PowerDNS itself never sends CMD; pdnsutil backend-cmd starts a copy of
 * its own for its commands, which serves no question. Its counters say nothing of the
 * copies that do: say so, and what those say of themselves. */
static void describe_copies(const struct daemon *d, struct buf *out)
{
	size_t at = out->len, n;

	buf_puts(
	    out,
	    "this copy was started for this command (pdnsutil backend-cmd) and serves no question; "
	    "the other copies running, as they say of themselves:\n");
	n = d->describe_copies(d->control_activated ? NULL : d->control_dir, out);
	if (!n) {
		buf_truncate(out, at);
		buf_puts(
		    out,
		    "this copy was started for this command (pdnsutil backend-cmd) and serves no question; "
		    "no other copy has a control socket in ");
		buf_puts(out, d->control_dir ? d->control_dir : "(none)");
		buf_puts(out, " (is pdns_server running, with the same --control-dir?)\n");
	}
	buf_puts(out, "their handlers and rotations: pdynctl --dir ");
	buf_puts(out, d->control_dir ? d->control_dir : "DIR");
	buf_puts(out, " status\n");
}

static void cmd(void *userdata, const char *name, struct buf *out)
{
	const struct daemon *d = userdata;
	const struct snapshot *snap = d->sv.snap;
	char *line = daemon_status_line(d);

	/* PowerDNS prints every line up to END verbatim. */
	if (strcmp(name, "status") == 0) {
		buf_puts(out, line ? line : "out of memory");
		buf_putc(out, '\n');
		if (d->describe_copies)
			describe_copies(d, out);
		for (size_t i = 0; snap && i < snap->n_handlers; i++) {
			const struct handler *h = &snap->handlers[i];
			char what[512], text[ADDR_TEXT_MAX];
			struct hstatus st;

			hstatus_get(snap, &d->sv.rot, h, what, sizeof(what), &st);
			buf_puts(out, st.qname);
			if (st.serves) {
				buf_putc(out, ' ');
				buf_puts(out, st.kind);
				buf_puts(out, ": ");
				buf_puts(out, st.serves);
				buf_putc(out, '\n');
				continue;
			}
			buf_puts(out, st.qtype == PP_TYPE_A ? " A " : " AAAA ");
			if (st.view) {
				buf_puts(out, "view \"");
				buf_puts(out, st.view);
				buf_puts(out, "\" ");
			}
			buf_puts(out, st.file);
			buf_puts(out, " (");
			buf_puts(out, st.policy);
			if (st.count > 1) {
				buf_putc(out, '/');
				buf_putu(out, st.count);
			}
			buf_putc(out, ')');
			if (h->list) {
				buf_puts(out, ": ");
				buf_putu(out, st.n_addresses);
				buf_puts(out, " addresses");
				if (st.rotates) {
					addrlist_format(h->list, st.next_index, text);
					buf_puts(out, ", next #");
					buf_putu(out, st.next_index);
					buf_puts(out, " ");
					buf_puts(out, text);
				} else if (st.weighted && !st.total_weight)
					buf_puts(
					    out,
					    ", every weight 0: no address is answered, as from a list that did not load");
			} else
				buf_puts(out, ": serving nothing");
			if (st.error) {
				buf_puts(out, "; last error: ");
				buf_puts(out, st.error);
			}
			buf_putc(out, '\n');
		}
	} else if (strcmp(name, "help") == 0) {
		buf_puts(out, "pdyndns commands: status (state and every handler), help\n");
	} else {
		buf_puts(out, "unknown command; try: status, help\n");
	}
	free(line);
}

static char *banner(void *userdata)
{
	return daemon_status_line(userdata);
}

const struct session_ops daemon_session_ops = {.banner = banner, .cmd = cmd};
