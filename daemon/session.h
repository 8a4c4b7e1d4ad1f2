/* SPDX-License-Identifier: MIT */
/* One pipe-protocol conversation with PowerDNS: reads lines from in_fd, answers on out_fd
 * with one write per batch of complete answers. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "answer.h"
#include "buf.h"
#include "serving.h"

#define SESSION_MAX_LINE (64 * 1024) /* longer lines are discarded and answered FAIL */

/* What a session asks of its owner: the one line of the HELO banner (malloc'd, or NULL when
 * out of memory), and the text of a CMD, which PowerDNS prints line by line up to END. */
struct session_ops {
	char *(*banner)(void *userdata);
	void (*cmd)(void *userdata, const char *cmd, struct buf *out);
};

struct session {
	struct serving *sv;
	const struct session_ops *ops;
	void *userdata;
	struct session *next; /* sv->sessions: the pipe, or each socket connection */
	int in_fd, out_fd;
	int abi; /* 0 until HELO */
	char *rbuf;
	size_t rlen;
	bool discarding; /* inside an over-long line */
	bool eof;
	struct buf out;
	struct answer_memo memo;
	uint64_t mismatches_seen; /* memo.mismatches already counted in sv->stalls */
	/* Per question, PowerDNS repeats the ANY lookup (the referral probe, then the main
	 * lookup) and must get the same answer: the last lookup's line and answer, to write
	 * again for an identical next line without parsing it. Kept only while the snapshot
	 * generation is the same. */
	char *rep_line;
	size_t rep_len; /* 0: nothing to repeat */
	uint64_t rep_gen;
	enum metrics_qtype rep_qtype; /* the repeat line's type, for the metrics */
	struct buf rep_out;
	/* socket mode: what the connection keeper must know if pdyndns stops (keeper.h) */
	struct keeper_slot *ks;
};

/* A session answering from sv, linked into sv->sessions until session_free(). */
int session_new(struct serving *sv, const struct session_ops *ops, void *userdata, int in_fd,
		int out_fd, struct session **ret);
struct session *session_free(struct session *s);

/* Reads what in_fd has (blocking if it is a blocking fd) and answers every complete line.
 * Returns 0, 1 at EOF, or a negative errno; -EAGAIN when out_fd is non-blocking and full:
 * the unwritten answers and the unread lines are kept for session_continue(). */
int session_read(struct session *s);

/* After -EAGAIN, once out_fd is writable: writes what is left and answers the lines
 * already read. Returns 0, or a negative errno (-EAGAIN again). */
int session_continue(struct session *s);

/* Handles every complete line in data (used by session_read() and by tests). Answers go to
 * s->out; call session_flush() to write them. */
void session_feed(struct session *s, const char *data, size_t len);
int session_flush(struct session *s);
