/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>

#include "acceptor.h"
#include "log.h"

#define PAUSE_USEC (100 * 1000)

static int on_backoff(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct acceptor *a = userdata;

	sd_event_source_set_enabled(a->src, SD_EVENT_ON);
	return 0;
}

int acceptor_init(struct acceptor *a, sd_event *e, int fd, const char *what,
		  sd_event_io_handler_t on_ready, void *userdata)
{
	int r;

	*a = (struct acceptor){.what = what, .fd = fd};
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	r = sd_event_add_io(e, &a->src, fd, EPOLLIN, on_ready, userdata);
	if (r >= 0) /* 10 ms accuracy: sd-event's default of 250 ms would stretch the pause */
		r = sd_event_add_time(e, &a->backoff, CLOCK_MONOTONIC, 0, 10 * 1000, on_backoff, a);
	if (r >= 0)
		r = sd_event_source_set_enabled(a->backoff, SD_EVENT_OFF);
	if (r < 0)
		acceptor_done(a);
	return r;
}

void acceptor_set_make_room(struct acceptor *a, bool (*make_room)(void *userdata), void *userdata)
{
	a->make_room = make_room;
	a->room_userdata = userdata;
}

int acceptor_accept(struct acceptor *a)
{
	int cfd = accept4(a->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), e = errno;
	uint64_t now;

	/* one descriptor freed is one more client taken (the next one in the backlog) */
	if (cfd < 0 && (e == EMFILE || e == ENFILE) && a->make_room &&
	    a->make_room(a->room_userdata)) {
		cfd = accept4(a->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		e = errno;
	}
	if (cfd < 0) {
		if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
			sd_event_now(sd_event_source_get_event(a->src), CLOCK_MONOTONIC, &now);
			if (a->failures++ == 0) {
				a->failed_since = now;
				log_warning(
				    "%s: cannot accept (%s); new clients wait, retrying every 100 ms",
				    a->what, strerror(e));
			}
			sd_event_source_set_enabled(a->src, SD_EVENT_OFF);
			sd_event_source_set_time(a->backoff, now + PAUSE_USEC);
			sd_event_source_set_enabled(a->backoff, SD_EVENT_ONESHOT);
		}
		return -1;
	}
	if (a->failures) {
		sd_event_now(sd_event_source_get_event(a->src), CLOCK_MONOTONIC, &now);
		log_info("%s: accepting again after %.1f s (%u attempts failed)", a->what,
			 (double)(now - a->failed_since) / 1e6, a->failures);
		a->failures = 0;
	}
	return cfd;
}

void acceptor_done(struct acceptor *a)
{
	a->src = sd_event_source_disable_unref(a->src);
	a->backoff = sd_event_source_disable_unref(a->backoff);
}
