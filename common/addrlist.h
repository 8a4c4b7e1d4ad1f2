/* SPDX-License-Identifier: MIT */
/* Address lists: a text file of IPv4 or IPv6 addresses, one per line, parsed into a packed
 * array (4 or 16 bytes per address). Blank lines, '#' comments (whole-line or after the
 * address) and surrounding blanks are allowed. A token is accepted iff inet_pton() accepts
 * it for the list's family. Any bad line rejects the whole file.
 *
 * A line may also be a prefix, ADDRESS/LENGTH: ADDRESS as inet_pton() accepts it for the
 * family, LENGTH a decimal from 0 to 32 (IPv4) or 128 (IPv6) without sign or leading zeros,
 * no blank around the '/'. It stands for every address of the prefix in ascending order,
 * network and last address included, and is stored in O(1) memory. Prefixes are capped at
 * ADDRLIST_MAX_PREFIX_ADDRS addresses (IPv4 /8 to /32, IPv6 /104 to /128), the host bits
 * must be zero (the message names the network), and a weighted list refuses prefix lines.
 * Plain and prefix lines mix freely: index i of the list is the i-th address of the file's
 * expansion, n counts every address, and ADDRLIST_MAX_ADDRS caps that count.
 *
 * A weighted list (ADDRLIST_WEIGHTS) also takes "ADDRESS WEIGHT" lines, WEIGHT a decimal
 * integer from 0 to ADDRLIST_MAX_WEIGHT (1 when the column is left out), and serves its
 * addresses on a deterministic schedule in which each address has its weight's share.
 *
 * addrparse.c reads the text (addrlist_parse(), addrlist_load*()); addrlist.c holds the
 * packed list (addrlist_get(), _format(), _equal(), _ref(), ...). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "addr.h"
#include "diag.h"
#include "fileid.h"

#define ADDRLIST_MAX_LINE	  1024	     /* longer lines are errors, and are not buffered */
#define ADDRLIST_MAX_ADDRS	  (1u << 27) /* 134 M addresses */
#define ADDRLIST_MAX_WEIGHT	  1000000
#define ADDRLIST_MAX_PREFIX_ADDRS (1u << 24)   /* a prefix line: IPv4 /8, IPv6 /104 at most */
#define ADDRLIST_MAX_FILE	  (256u << 20) /* bytes in a file: about 20 M lines of IPv4 */

/* addrlist_parse() and addrlist_load_id() flags */
#define ADDRLIST_WEIGHTS 1u /* a weight column is allowed: the list is weighted */

/* Lists with prefix lines are stored as runs in file order: a prefix line is one run, and
 * the plain lines between two prefix lines are one run of the packed array. */
#define ADDRLIST_RUN_PREFIX UINT32_MAX
struct addrlist_run {
	uint32_t first; /* list index of the run's first address */
	uint32_t len;	/* addresses in the run, at least 1 */
	uint32_t off;	/* plain lines: index in addrs of the first; prefix: ADDRLIST_RUN_PREFIX */
	uint8_t base[16]; /* prefix: its network address (the first 4 bytes in an A list) */
};

struct addrlist {
	int family;	/* AF_INET or AF_INET6 */
	uint32_t n;	/* number of addresses, at least 1, every address of a prefix counted */
	uint8_t *addrs; /* the plain lines' addresses, 4 or 16 bytes each: all n of them when
			 * runs is NULL; NULL when every line is a prefix */
	uint64_t hash;	/* of the addresses in list order (and weights), whatever their
			 * spelling: equal lists have equal hashes in every process */
	unsigned refs;	/* atomic: snapshots on different threads may share a list */
	/* weighted lists only (cum is NULL otherwise): */
	uint64_t *cum;	/* cum[i]: the sum of the weights of addresses 0 to i */
	uint64_t total; /* the sum of all weights; 0 when every address is drained */
	uint64_t step;	/* the schedule's stride: coprime with total, near total / golden ratio */
	uint32_t n_drained; /* addresses of weight 0 */
	/* lists with a prefix line only (NULL otherwise): runs[k].first ascends from 0, and the
	 * runs' lengths add up to n */
	struct addrlist_run *runs;
	uint32_t n_runs;
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
 * regular file, -EFBIG with a message when it is larger than ADDRLIST_MAX_FILE bytes (told
 * by its size before a byte is read, or by what was read when it grows meanwhile). */
int addrlist_load(const char *path, int family, struct diag *d, struct addrlist **ret);

/* The same with flags (as for addrlist_parse()), and *id gets the identity of the file
 * whenever it could be stat'ed (also when it or its content is rejected); id->dev and
 * id->ino stay 0 otherwise. */
int addrlist_load_id(const char *path, int family, unsigned flags, struct diag *d,
		     struct file_id *id, struct addrlist **ret);

/* addrlist_load_id() with a cap of max bytes instead of ADDRLIST_MAX_FILE. */
int addrlist_load_max(const char *path, int family, unsigned flags, size_t max, struct diag *d,
		      struct file_id *id, struct addrlist **ret);

/* The hash of l's addresses in list order, the same for any spelling of them (prefix lines or
 * one address a line): the parser's l->hash, before the weights are folded in. */
uint64_t addrlist_hash(const struct addrlist *l);

/* True if both lists hold the same addresses in the same order, with the same weights (or
 * both none), however they were written: a list "10.0.0.0/31" equals one with the lines
 * "10.0.0.0" and "10.0.0.1" (so a rotation carries over such a rewrite). */
bool addrlist_equal(const struct addrlist *a, const struct addrlist *b);

struct addrlist *addrlist_ref(struct addrlist *l);
/* Drops one reference; frees the list with the last one. Returns NULL. */
struct addrlist *addrlist_unref(struct addrlist *l);

/* Copies address i (i < n) into out: 4 bytes in an A list, 16 in an AAAA list. A list
 * without prefix lines indexes its array; one with prefix lines finds i's run by binary
 * search. */
void addrlist_get(const struct addrlist *l, uint32_t i, uint8_t out[16]);

static inline uint64_t addrlist_weight(const struct addrlist *l, uint32_t i)
{
	return l->cum ? l->cum[i] - (i ? l->cum[i - 1] : 0) : 1;
}

/* Weighted lists: the address at position pos of the schedule, a walk with stride step over
 * the cumulative weights that gives every address exactly its weight in each run of total
 * positions, spread out evenly (no run of one address where others are due). total > 0. */
uint32_t addrlist_weighted_at(const struct addrlist *l, uint64_t pos);

/* Writes the canonical text form of address i (i < n) into out (ADDR_TEXT_MAX bytes, NUL
 * terminated), as addrlist_get() finds it; returns its length. */
size_t addrlist_format(const struct addrlist *l, uint32_t i, char *out);
