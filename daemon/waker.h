/* SPDX-License-Identifier: MIT */
/* The pipe loop blocks in read(2) on stdin, which costs less per lookup than waiting in
 * epoll first (one system call less, and the pipe wakes the reader directly). Everything
 * else (reloads, watches, control clients, signals, timers) lives in sd-event, on the same
 * thread. The waker is a small thread that waits on sd-event's fd for that thread and,
 * when there is work, interrupts its read with SIGURG (a handler without SA_RESTART).
 *
 * The loop calls waker_begin() before each read: true means events are pending, and SIGURG
 * is then blocked until waker_end(), so that nothing in sd-event's callbacks sees EINTR. A
 * signal that lands just before read(2) starts is not lost: the waker repeats it until the
 * loop has taken the work. */
#pragma once

#include <signal.h>
#include <stdbool.h>

#define WAKER_SIGNAL SIGURG

struct waker;

/* Blocks WAKER_SIGNAL in the calling thread (and so in threads it starts later); call it
 * before starting any thread. */
void waker_block_signal(void);

/* Starts watching fd (sd_event_get_fd()) for the calling thread, and unblocks
 * WAKER_SIGNAL in it. */
int waker_start(int fd, struct waker **ret);

/* True when the loop must dispatch events; WAKER_SIGNAL stays blocked until waker_end(). */
bool waker_begin(struct waker *w);

/* After dispatching: watch again and unblock WAKER_SIGNAL. */
void waker_end(struct waker *w);

/* Stops and joins the thread; NULL is fine. Returns NULL. */
struct waker *waker_stop(struct waker *w);
