/* SPDX-License-Identifier: MIT */
/* Address lists: a text file of IPv4 or IPv6 addresses, one per line, parsed into a packed
 * array (4 or 16 bytes per address). Blank lines, '#' comments (whole-line or after the
 * address) and surrounding blanks are allowed. A token is accepted iff inet_pton() accepts
 * it for the list's family. Any bad line rejects the whole file.
 *
 * A weighted list (ADDRLIST_WEIGHTS) also takes "ADDRESS WEIGHT" lines, WEIGHT a decimal
 * integer from 0 to ADDRLIST_MAX_WEIGHT (1 when the column is left out), and serves its
 * addresses on a deterministic schedule in which each address has its weight's share. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "diag.h"
#include "fileid.h"

#define ADDRLIST_MAX_LINE 1024           /* longer lines are errors, and are not buffered */
#define ADDRLIST_MAX_ADDRS (1u << 27)    /* 134 M addresses */
#define ADDR_TEXT_MAX 46                 /* INET6_ADDRSTRLEN */
#define ADDRLIST_MAX_WEIGHT 1000000

/* addrlist_parse() and addrlist_load_id() flags */
#define ADDRLIST_WEIGHTS 1u /* a weight column is allowed: the list is weighted */

struct addrlist {
	int family;        /* AF_INET or AF_INET6 */
	uint32_t n;        /* number of addresses, at least 1 */
	uint8_t *addrs;    /* n * 4 or n * 16 bytes */
	uint64_t hash;     /* of the addresses (and weights): equal lists have equal hashes in
			    * every process */
	unsigned refs;     /* atomic: snapshots on different threads may share a list */
	/* weighted lists only (cum is NULL otherwise): */
	uint64_t *cum;     /* cum[i]: the sum of the weights of addresses 0 to i */
	uint64_t total;    /* the sum of all weights; 0 when every address is drained */
	uint64_t step;     /* the schedule's stride: coprime with total, near total / golden ratio */
	uint32_t n_drained; /* addresses of weight 0 */
};

/* Parses len bytes of address-file text. name is used in messages ("NAME:LINE: error: ...").
 * flags: 0 or ADDRLIST_WEIGHTS. On success returns 0 and a new list with one reference. On
 * failure returns -EINVAL (bad lines or no address; every problem is added to d) or -ENOMEM.
 * Without ADDRLIST_WEIGHTS, a line with a weight is an error that says weights need the
 * weighted policy. */
int addrlist_parse(const char *text, size_t len, int family, unsigned flags, const char *name,
		   struct diag *d, struct addrlist **ret);

/* Reads and parses the regular file at path. Besides addrlist_parse()'s errors: a negative
 * errno when the file cannot be opened or read, -EINVAL with a message when it is not a
 * regular file. */
int addrlist_load(const char *path, int family, struct diag *d, struct addrlist **ret);

/* The same with flags (as for addrlist_parse()), and *id gets the identity of the file that
 * was read whenever it could be opened (also when its content is rejected); id->dev and
 * id->ino stay 0 otherwise. */
int addrlist_load_id(const char *path, int family, unsigned flags, struct diag *d,
		     struct file_id *id, struct addrlist **ret);

/* True if both lists hold the same addresses in the same order, with the same weights (or
 * both none). */
bool addrlist_equal(const struct addrlist *a, const struct addrlist *b);

struct addrlist *addrlist_ref(struct addrlist *l);
/* Drops one reference; frees the list with the last one. Returns NULL. */
struct addrlist *addrlist_unref(struct addrlist *l);

static inline const uint8_t *addrlist_at(const struct addrlist *l, uint32_t i)
{
	return l->addrs + (size_t)i * (l->family == 2 /* AF_INET */ ? 4 : 16);
}

static inline uint64_t addrlist_weight(const struct addrlist *l, uint32_t i)
{
	return l->cum ? l->cum[i] - (i ? l->cum[i - 1] : 0) : 1;
}

/* Weighted lists: the address at position pos of the schedule, a walk with stride step over
 * the cumulative weights that gives every address exactly its weight in each run of total
 * positions, spread out evenly (no run of one address where others are due). total > 0. */
uint32_t addrlist_weighted_at(const struct addrlist *l, uint64_t pos);

/* Writes the canonical text form of address i into out (ADDR_TEXT_MAX bytes, NUL
 * terminated); returns its length. */
size_t addrlist_format(const struct addrlist *l, uint32_t i, char *out);

/* Writes the text inet_ntop(AF_INET6) gives for a (ADDR_TEXT_MAX bytes); returns its length. */
size_t addr_format6(const uint8_t *a, char *out);

/* Parses one IPv4 token exactly as inet_pton(AF_INET) does. Returns true on success. */
bool addr_parse4(const char *s, size_t len, uint8_t out[4]);
