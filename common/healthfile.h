/* SPDX-License-Identifier: MIT */
/* The health file: how the copy that probes (the one that holds the health lock of the
 * control directory) tells the other copies of one PowerDNS what its checks found. One file,
 * written whole and renamed into place, so that a reader never sees half of it:
 *
 *   a header (struct healthfile_header), then n_records records (struct healthfile_record),
 *   each naming its handler (a hash of qname, qtype and view) and its address, so that
 *   copies whose configs differ for a moment (a reload under way) never mix addresses up.
 *
 * Anybody who can write the control directory can put anything there, so a reader trusts
 * nothing in it: healthfile_parse() checks the size, the magic, the version, the header's
 * and records' sizes, the count against the size, a checksum over the whole file, and every
 * field of every record, before any of it is used. The layout is the machine's own (native
 * byte order): the file never leaves the machine. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "health.h"

#define HEALTHFILE_MAGIC   "PDYNHLT1"
#define HEALTHFILE_VERSION 1u
#define HEALTHFILE_MAX	   (1u << 22) /* records in one file */

struct healthfile_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size; /* sizeof(struct healthfile_header) */
	uint32_t record_size; /* sizeof(struct healthfile_record) */
	uint32_t n_records;
	uint64_t generation; /* grows when an answer may change (an up/down, a load) */
	int64_t written_ms;  /* wall clock of the writing, milliseconds */
	uint32_t pid;	     /* of the copy that probes */
	uint32_t reserved;   /* 0 */
	uint64_t checksum;   /* FNV-1a of the file, this field counted as 0 */
};

#define HEALTHFILE_UP	    0x01u
#define HEALTHFILE_CHECKED  0x02u
#define HEALTHFILE_LAST_OK  0x04u
#define HEALTHFILE_HAS_LOAD 0x08u
#define HEALTHFILE_FLAGS    0x0fu

struct healthfile_record {
	uint64_t handler;  /* healthfile_handler_key() */
	uint8_t addr[16];  /* an IPv4 address in the first 4, the rest 0 */
	uint8_t family;	   /* 4 or 6 */
	uint8_t flags;	   /* HEALTHFILE_* */
	uint16_t reserved; /* 0 */
	uint32_t latency_us;
	uint32_t good, bad;
	int64_t since;			 /* wall clock, seconds */
	int64_t next_check_ms;		 /* wall clock of the next check, 0 when none is planned */
	double load;			 /* 0 without HEALTHFILE_HAS_LOAD */
	char reason[HEALTH_REASON_SIZE]; /* NUL-terminated, NUL-padded */
};

/* The key of a handler's records: its name, type and view. */
uint64_t healthfile_handler_key(const char *qname, uint16_t qtype, uint16_t view);

/* The size of a file of n records. */
static inline size_t healthfile_size(uint32_t n)
{
	return sizeof(struct healthfile_header) + (size_t)n * sizeof(struct healthfile_record);
}

/* Fills record r from address a (family 4 or 6, addr its 4 or 16 bytes). */
void healthfile_put(struct healthfile_record *r, uint64_t handler, int family, const uint8_t *addr,
		    const struct health_addr *a);

/* Writes the header of the len bytes at buf (records already in place) and its checksum. */
void healthfile_seal(void *buf, size_t len, uint64_t generation, int64_t written_ms, uint32_t pid);

/* Checks the len bytes at buf as a health file. Returns 0 with *hdr pointing at the header
 * (the records follow it), or -EINVAL with why (size bytes) saying what is wrong: "N bytes,
 * shorter than a header", "bad magic", "version V", "a header of N bytes", "records of N
 * bytes", "N records in M bytes", "checksum mismatch", "record K: ...". */
int healthfile_parse(const void *buf, size_t len, const struct healthfile_header **hdr, char *why,
		     size_t size);

/* The records of a header that healthfile_parse() accepted. */
static inline const struct healthfile_record *healthfile_records(const struct healthfile_header *h)
{
	return (const struct healthfile_record *)(h + 1);
}

/* Copies what record r says into address a (whose log rate limit it keeps); returns whether
 * a changed in a way that changes answers (up, or the load). r must have passed
 * healthfile_parse(). */
bool healthfile_get(const struct healthfile_record *r, struct health_addr *a);
