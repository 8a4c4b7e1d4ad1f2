/* SPDX-License-Identifier: MIT */
/* Address lists: a text file of IPv4 or IPv6 addresses, one per line, parsed into a packed
 * array (4 or 16 bytes per address). Blank lines, '#' comments (whole-line or after the
 * address) and surrounding blanks are allowed. A token is accepted iff inet_pton() accepts
 * it for the list's family. Any bad line rejects the whole file. */
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

struct addrlist {
	int family;        /* AF_INET or AF_INET6 */
	uint32_t n;        /* number of addresses, at least 1 */
	uint8_t *addrs;    /* n * 4 or n * 16 bytes */
	uint64_t hash;     /* of the addresses: equal lists have equal hashes in every process */
	unsigned refs;     /* atomic: snapshots on different threads may share a list */
};

/* Parses len bytes of address-file text. name is used in messages ("NAME:LINE: error: ...").
 * On success returns 0 and a new list with one reference. On failure returns -EINVAL
 * (bad lines or no address; every problem is added to d) or -ENOMEM. */
int addrlist_parse(const char *text, size_t len, int family, const char *name, struct diag *d,
		   struct addrlist **ret);

/* Reads and parses the regular file at path. Besides addrlist_parse()'s errors: a negative
 * errno when the file cannot be opened or read, -EINVAL with a message when it is not a
 * regular file. */
int addrlist_load(const char *path, int family, struct diag *d, struct addrlist **ret);

/* The same, and *id gets the identity of the file that was read whenever it could be opened
 * (also when its content is rejected); id->dev and id->ino stay 0 otherwise. */
int addrlist_load_id(const char *path, int family, struct diag *d, struct file_id *id,
		     struct addrlist **ret);

/* True if both lists hold the same addresses in the same order. */
bool addrlist_equal(const struct addrlist *a, const struct addrlist *b);

struct addrlist *addrlist_ref(struct addrlist *l);
/* Drops one reference; frees the list with the last one. Returns NULL. */
struct addrlist *addrlist_unref(struct addrlist *l);

static inline const uint8_t *addrlist_at(const struct addrlist *l, uint32_t i)
{
	return l->addrs + (size_t)i * (l->family == 2 /* AF_INET */ ? 4 : 16);
}

/* Writes the canonical text form of address i into out (ADDR_TEXT_MAX bytes, NUL
 * terminated); returns its length. */
size_t addrlist_format(const struct addrlist *l, uint32_t i, char *out);

/* Writes the text inet_ntop(AF_INET6) gives for a (ADDR_TEXT_MAX bytes); returns its length. */
size_t addr_format6(const uint8_t *a, char *out);

/* Parses one IPv4 token exactly as inet_pton(AF_INET) does. Returns true on success. */
bool addr_parse4(const char *s, size_t len, uint8_t out[4]);
