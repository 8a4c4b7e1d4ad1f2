/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "waker.h"

enum { EV_WORK, EV_STOP };

struct waker {
	pthread_t thread, target;
	int ep;	     /* the waker's own epoll: fd (one-shot) and stop_fd */
	int fd;	     /* sd-event's */
	int stop_fd; /* an eventfd */
	atomic_bool pending, stopping;
};

static void on_signal(int sig)
{
	(void)sig; /* only here to interrupt read(2) */
}

static void signal_mask(int how)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, WAKER_SIGNAL);
	pthread_sigmask(how, &set, NULL);
}

void waker_block_signal(void)
{
	signal_mask(SIG_BLOCK);
}

static void *waker_main(void *arg)
{
	struct waker *w = arg;

	while (!atomic_load(&w->stopping)) {
		struct epoll_event ev;
		int n = epoll_wait(w->ep, &ev, 1, -1);

		if (n < 0 && errno != EINTR)
			break; /* cannot happen with valid fds; the loop then only answers */
		if (n <= 0 || ev.data.u32 == EV_STOP)
			continue;
		atomic_store(&w->pending, true);
		/* Repeat until the loop has taken the work: a signal that arrives after its last
		 * look at pending but before read(2) starts only runs the empty handler. */
		for (unsigned i = 0; atomic_load(&w->pending) && !atomic_load(&w->stopping); i++) {
			struct timespec ts = {0, i < 10 ? 100 * 1000 : 2 * 1000 * 1000};

			pthread_kill(w->target, WAKER_SIGNAL);
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

int waker_start(int fd, struct waker **ret)
{
	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART */
	struct epoll_event work = {.events = EPOLLIN | EPOLLONESHOT, .data.u32 = EV_WORK};
	struct epoll_event stop = {.events = EPOLLIN, .data.u32 = EV_STOP};
	struct waker *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	w->fd = fd;
	w->target = pthread_self();
	w->ep = epoll_create1(EPOLL_CLOEXEC);
	w->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->ep < 0 || w->stop_fd < 0 || epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &work) < 0 ||
	    epoll_ctl(w->ep, EPOLL_CTL_ADD, w->stop_fd, &stop) < 0 ||
	    sigaction(WAKER_SIGNAL, &sa, NULL) < 0) {
		r = -errno;
		goto fail;
	}
	/* the thread inherits the blocked WAKER_SIGNAL */
	r = -pthread_create(&w->thread, NULL, waker_main, w);
	if (r < 0)
		goto fail;
	signal_mask(SIG_UNBLOCK);
	*ret = w;
	return 0;
fail:
	if (w->ep >= 0)
		close(w->ep);
	if (w->stop_fd >= 0)
		close(w->stop_fd);
	free(w);
	return r;
}

bool waker_begin(struct waker *w)
{
	if (!atomic_load_explicit(&w->pending, memory_order_relaxed))
		return false;
	signal_mask(SIG_BLOCK);
	atomic_store(&w->pending, false);
	return true;
}

void waker_end(struct waker *w)
{
	struct epoll_event work = {.events = EPOLLIN | EPOLLONESHOT, .data.u32 = EV_WORK};

	epoll_ctl(w->ep, EPOLL_CTL_MOD, w->fd, &work);
	signal_mask(SIG_UNBLOCK);
}

struct waker *waker_stop(struct waker *w)
{
	uint64_t one = 1;

	if (!w)
		return NULL;
	signal_mask(SIG_BLOCK);
	atomic_store(&w->stopping, true);
	if (write(w->stop_fd, &one, sizeof(one)) < 0) {
		/* an eventfd write of 1 cannot fail here */
	}
	pthread_join(w->thread, NULL);
	close(w->ep);
	close(w->stop_fd);
	free(w);
	return NULL;
}
