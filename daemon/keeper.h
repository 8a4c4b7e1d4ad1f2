/* SPDX-License-Identifier: MIT */
/* Socket mode's connection keeper: a small process of its own that holds a duplicate of every
 * PowerDNS connection, so that none of them closes when pdyndns stops or dies, and hands them
 * to the next pdyndns, which goes on answering them as if nothing happened.
 *
 * Why: PowerDNS 4.7.3's pipe backend never recovers from writing to a closed connection (the
 * error is not one it catches: SERVFAIL until pdns restarts), and on this path it has no
 * timeout, so any line that makes it reconnect during an SOA lookup leaves the thread
 * waiting for ever (its drain reads a fresh connection that was never asked anything). The
 * only safe course is that the connection never ends.
 *
 * How: pdyndns notes in memory shared with the keeper each connection's ABI and the line it is
 * answering, and reads PowerDNS's lines straight into that memory (struct keeper_slot). The
 * line is busy from before the read until just before the answer's write: a SIGKILL mostly
 * lands as a system call returns, and the marks sit on the safe side of both. When pdyndns is
 * gone (the socket pair to it closes), the keeper binds a rendezvous socket, the pipe socket's
 * path with KEEPER_SUFFIX, and waits (so a keeper only ever hands connections to a pdyndns on
 * the same pipe socket). The next pdyndns connects there at start, receives every connection
 * with its state, answers the unanswered line if PowerDNS still waits for it (never anything
 * it did not ask for), and starts a keeper of its own. Questions PowerDNS asks meanwhile wait
 * in the connections. A keeper nobody takes over from within KEEPER_WAIT_S closes the
 * connections and exits; so does one whose connections PowerDNS closed.
 *
 * The keeper is forked (not exec'd) from a threaded process, so it only makes system calls
 * and formats its few messages with snprintf (nothing that allocates or locks); it lives in a
 * session of its own, so a terminal's ^C or a kill of pdyndns leaves it alone. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define KEEPER_SUFFIX	".keeper" /* the rendezvous: the pipe socket's path and this */
#define KEEPER_WAIT_S	600
#define KEEPER_LINE_MAX 500
#define KEEPER_SLOTS	1024 /* connections held at most: the pipe socket's limit */

/* A connection's state, in memory the keeper shares. pdyndns writes it, the keeper reads it
 * once pdyndns is gone. */
struct keeper_slot {
	int32_t abi;   /* 0 until HELO */
	uint32_t busy; /* line is being answered */
	uint32_t len;  /* of line; 0: not known (read but not noted yet, or too long) */
	char line[KEEPER_LINE_MAX];
	/* What the last read(2) got, read straight into this memory: when pdyndns dies as the
	 * read returns, before the line is noted, the line is still here. raw[0] is 0 until
	 * the read brings something. */
	char raw[KEEPER_LINE_MAX];
};

/* Starts a keeper that will offer its connections at the socket path rendezvous. Returns 0,
 * or a negative errno (logged; pdyndns serves without). */
int keeper_start(const char *rendezvous);
/* The shared state of slot (a dummy when there is no keeper). */
struct keeper_slot *keeper_slot(unsigned slot);
/* Hands the keeper a duplicate of connection fd, known as slot from now on. Returns 0, or a
 * negative errno when the keeper is gone (killed): then keeper_start() and hold them all
 * again. */
int keeper_hold(unsigned slot, int fd);
/* The connection in slot ended normally (PowerDNS closed it): the keeper lets it go. */
void keeper_release(unsigned slot);
/* pdyndns is stopping: the keeper takes over every connection it holds. */
void keeper_done(void);

/* At start: takes the connections a previous pdyndns's keeper offers at rendezvous, calling
 * adopt for each (fd is then the caller's). Returns how many, or a negative errno. */
typedef void (*keeper_adopt_fn)(int fd, const struct keeper_slot *state, void *userdata);
int keeper_take_over(const char *rendezvous, keeper_adopt_fn adopt, void *userdata);

/* Notes that a connection's session is about to read: a line it reads is PowerDNS's question
 * even before keeper_note() records it. */
static inline void keeper_reading(struct keeper_slot *k)
{
	k->len = 0;
	k->raw[0] = 0;
	__atomic_store_n(&k->busy, 1, __ATOMIC_RELEASE);
}

/* Notes that a connection's session answers line now (busy until keeper_answered()). */
static inline void keeper_note(struct keeper_slot *k, const char *line, size_t len)
{
	k->len = len <= KEEPER_LINE_MAX ? (uint32_t)len : 0;
	if (k->len)
		__builtin_memcpy(k->line, line, len);
	__atomic_store_n(&k->busy, 1, __ATOMIC_RELEASE);
}

static inline void keeper_answered(struct keeper_slot *k)
{
	__atomic_store_n(&k->busy, 0, __ATOMIC_RELEASE);
}
