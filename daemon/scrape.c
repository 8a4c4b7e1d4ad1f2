/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "ctlcmd.h"
#include "ctlproto.h"
#include "exposition.h"
#include "log.h"
#include "promtext.h"
#include "scrape.h"

#define MAX_RESTARTS 3 /* builds in a row cut short by a reload, before giving up */

struct scrape {
	struct promtext *p;
	struct status_stream *st;
	struct buf lines; /* a slice of the stream */
	size_t off;	  /* what of it was read */
	bool stream_done; /* the stream's last slice is in lines */
	uint64_t count;	  /* handler lines read */
	unsigned restarts;
};

static void clear(struct scrape *s)
{
	s->p = promtext_free(s->p);
	s->st = status_stream_free(s->st);
	s->lines.len = s->off = 0;
	s->stream_done = false;
	s->count = 0;
}

/* Begins with the header line, as a control client gets it. */
static int restart(struct scrape *s, const struct daemon *d)
{
	_cleanup_free_ char *line = NULL, *error = NULL;
	json_object *header = NULL;
	char why[EXPO_WHY_MAX];
	bool ok, stream;
	int r;

	clear(s);
	s->p = promtext_new();
	s->st = metrics_stream_new(d);
	line = ctlcmd_metrics_header(d);
	if (!s->p || !s->st || !line || expo_declare(s->p) < 0)
		return -ENOMEM;
	r = ctl_response_decode(line, strlen(line), &ok, &header, &error, &stream);
	if (r < 0 || !ok || !header)
		r = -EBADMSG;
	else if ((r = expo_add_copy(s->p, header, (int)getpid(), why)) < 0 && r != -ENOMEM)
		log_error("metrics: the header of the figures does not read: %s", why);
	json_object_put(header);
	return r < 0 ? r : 0;
}

static void end(void *userdata, void *build)
{
	struct scrape *s = build;

	if (!s)
		return;
	clear(s);
	buf_free(&s->lines);
	free(s);
}

static void *begin(void *userdata)
{
	struct scrape *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	buf_init(&s->lines);
	if (restart(s, userdata) < 0) {
		end(userdata, s);
		return NULL;
	}
	return s;
}

/* Reads lines of the slice for at most STATUS_SLICE_USEC (at least one): 1 at the end line, 0
 * for more, -EAGAIN when the stream ended with an error (a reload in between), another
 * negative errno otherwise. */
static int read_lines(struct scrape *s)
{
	char *p = s->lines.data + s->off, *stop = s->lines.data + s->lines.len;
	uint64_t t0 = mono_usec();

	for (; p < stop; s->off = (size_t)(p - s->lines.data)) {
		char *nl = memchr(p, '\n', (size_t)(stop - p));
		json_object *item = NULL, *end = NULL, *count;
		_cleanup_free_ char *error = NULL;
		char why[EXPO_WHY_MAX];
		int r;

		if (!nl)
			return -EBADMSG;
		if (ctl_stream_decode(p, (size_t)(nl - p), &item, &end, &error) < 0)
			return -EBADMSG;
		p = nl + 1;
		if (error)
			return -EAGAIN;
		if (end) {
			bool same = json_object_object_get_ex(end, "count", &count) &&
				    json_object_get_int64(count) == (int64_t)s->count;

			json_object_put(end);
			return same ? 1 : -EBADMSG;
		}
		r = expo_add_handler(s->p, item, (int)getpid(), why);
		json_object_put(item);
		if (r < 0) {
			if (r != -ENOMEM)
				log_error("metrics: a handler's figures do not read: %s", why);
			return r;
		}
		s->count++;
		if (mono_usec() - t0 >= STATUS_SLICE_USEC) {
			s->off = (size_t)(p - s->lines.data);
			return 0;
		}
	}
	s->off = s->lines.len;
	return 0;
}

static int step(void *userdata, void *build, struct promtext **out)
{
	const struct daemon *d = userdata;
	struct scrape *s = build;
	int r;

	/* A step either takes a slice of the stream or reads (part of) it, each within
	 * STATUS_SLICE_USEC: reading a line costs more than writing it. */
	if (s->off == s->lines.len) {
		if (s->stream_done)
			return -EBADMSG; /* a stream without its end line */
		s->lines.len = s->off = 0;
		s->stream_done = status_stream_fill(s->st, d, &s->lines);
		return buf_ok(&s->lines) ? 0 : -ENOMEM;
	}
	r = read_lines(s);
	if (r == -EAGAIN) {
		if (++s->restarts > MAX_RESTARTS)
			return -EAGAIN;
		return restart(s, d) < 0 ? -ENOMEM : 0;
	}
	if (r <= 0)
		return r;
	*out = TAKE_PTR(s->p);
	return 1;
}

const struct httpmetrics_source scrape_source = {.begin = begin, .step = step, .end = end};
