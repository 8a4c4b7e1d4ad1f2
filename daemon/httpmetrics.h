/* SPDX-License-Identifier: MIT */
/* The HTTP endpoint Prometheus scrapes (socket mode): GET (or HEAD) /metrics on a TCP socket,
 * served by libmicrohttpd, which parses the requests, driven from the loop (its epoll fd and
 * its timeout are sd-event sources; no thread of its own). Other paths get 404, other methods
 * 405. Connections, per-address connections, request memory and idle time are bounded (the
 * HTTPMETRICS_* below).
 *
 * A scrape never runs on the question path and never in one go: the figures are built by
 * the source's step(), one slice per loop turn, while the request waits (suspended); then the
 * text is written in slices as the client takes it. Requests that come during a build share
 * its figures. */
#pragma once

#include <stddef.h>
#include <systemd/sd-event.h>

struct promtext;
struct httpmetrics;

#define HTTPMETRICS_MAX_CONNS	     64
#define HTTPMETRICS_MAX_CONNS_PER_IP 16
#define HTTPMETRICS_TIMEOUT_SEC	     10		 /* idle, or a request that comes too slowly */
#define HTTPMETRICS_CONN_MEMORY	     (32 * 1024) /* a request's line and headers, at most */
#define HTTPMETRICS_CONTENT_TYPE     "text/plain; version=0.0.4; charset=utf-8"
#define HTTPMETRICS_DEFAULT_PORT     9153
#define HTTPMETRICS_WHY_MAX	     256

/* Where the figures come from. */
struct httpmetrics_source {
	/* Begins a build of the figures: an opaque build, or NULL when out of memory. */
	void *(*begin)(void *userdata);
	/* Adds one slice to the build: returns 0 while more are needed, 1 once complete (then
	 * *out holds the figures, taken over), or a negative errno (the build failed). */
	int (*step)(void *userdata, void *build, struct promtext **out);
	/* Frees a build (complete or not). */
	void (*end)(void *userdata, void *build);
};

/* Parses ADDR:PORT (an IPv4 address, or an IPv6 one in brackets: [::1]:9153) and binds and
 * listens on it. Returns the socket, or a negative errno with why (a sentence) filled. */
int httpmetrics_bind(const char *addr_port, char why[HTTPMETRICS_WHY_MAX]);

/* An endpoint on the listening TCP socket fd (taken over, also on failure), on the loop e,
 * with the figures from src (copied) called with userdata. Nothing is served before
 * httpmetrics_start(). Returns 0 or a negative errno. */
int httpmetrics_new(sd_event *e, int fd, const struct httpmetrics_source *src, void *userdata,
		    struct httpmetrics **out);
/* Starts serving: libmicrohttpd's daemon and its sources on the loop. Returns 0 or a
 * negative errno (with the reason logged). */
int httpmetrics_start(struct httpmetrics *h);
/* Closes every connection and the socket; NULL. */
struct httpmetrics *httpmetrics_free(struct httpmetrics *h);
