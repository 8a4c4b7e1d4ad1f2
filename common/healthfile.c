/* SPDX-License-Identifier: MIT */
/* The health file's codec (healthfile.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hash.h"
#include "healthfile.h"

#define SINCE_MAX ((int64_t)1 << 40) /* seconds: beyond any clock this file meets */
#define LOAD_MAX  1e15

_Static_assert(sizeof(struct healthfile_header) == 56, "the header's layout");
_Static_assert(sizeof(struct healthfile_record) == 128, "the record's layout");

uint64_t healthfile_handler_key(const char *qname, uint16_t qtype, uint16_t view)
{
	uint64_t k = fnv1a_str(qname);

	k = fnv1a(k, &qtype, sizeof(qtype));
	k = fnv1a(k, &view, sizeof(view));
	return k ? k : 1; /* 0 is no handler */
}

void healthfile_put(struct healthfile_record *r, uint64_t handler, int family, const uint8_t *addr,
		    const struct health_addr *a)
{
	memset(r, 0, sizeof(*r));
	r->handler = handler;
	r->family = family == 4 ? 4 : 6;
	memcpy(r->addr, addr, family == 4 ? 4 : 16);
	r->flags = (a->up ? HEALTHFILE_UP : 0) | (a->checked ? HEALTHFILE_CHECKED : 0) |
		   (a->last_ok ? HEALTHFILE_LAST_OK : 0) | (a->has_load ? HEALTHFILE_HAS_LOAD : 0);
	r->latency_us = a->latency_us;
	r->good = a->good;
	r->bad = a->bad;
	r->since = a->since;
	r->next_check_ms = a->next_ms > 0 ? a->next_ms : 0;
	r->load = a->has_load ? a->load : 0;
	memcpy(r->reason, a->reason, strnlen(a->reason, sizeof(r->reason) - 1));
}

/* FNV-1a over 8-byte words (the file is made of them; a tail of fewer bytes goes byte by
 * byte): a file of 10,000 records is written every second, and byte-wise FNV cost milliseconds
 * of the loop. Not a defence against chosen damage: a check of what the copies wrote. */
static uint64_t fnv_words(uint64_t h, const uint8_t *p, size_t n)
{
	uint64_t w;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0x100000001b3u;
		h ^= h >> 29;
	}
	return fnv1a(h, p, n);
}

static uint64_t checksum(const void *buf, size_t len)
{
	const struct healthfile_header *h = buf;
	uint64_t zero = 0,
		 c = fnv_words(FNV_OFFSET, buf, offsetof(struct healthfile_header, checksum));

	c = fnv_words(c, (const uint8_t *)&zero, sizeof(zero));
	return fnv_words(c, (const uint8_t *)buf + sizeof(*h), len - sizeof(*h));
}

void healthfile_seal(void *buf, size_t len, uint64_t generation, int64_t written_ms, uint32_t pid)
{
	struct healthfile_header *h = buf;

	memset(h, 0, sizeof(*h));
	memcpy(h->magic, HEALTHFILE_MAGIC, sizeof(h->magic));
	h->version = HEALTHFILE_VERSION;
	h->header_size = sizeof(*h);
	h->record_size = sizeof(struct healthfile_record);
	h->n_records = (uint32_t)((len - sizeof(*h)) / sizeof(struct healthfile_record));
	h->generation = generation;
	h->written_ms = written_ms;
	h->pid = pid;
	h->checksum = checksum(buf, len);
}

/* What is wrong with record r, or NULL. */
static const char *bad_record(const struct healthfile_record *r)
{
	static const uint8_t zero[12];

	if (!r->handler)
		return "no handler";
	if (r->family != 4 && r->family != 6)
		return "not an address family (4 or 6)";
	if (r->family == 4 && memcmp(r->addr + 4, zero, sizeof(zero)) != 0)
		return "bytes past an IPv4 address";
	if (r->flags & ~HEALTHFILE_FLAGS)
		return "unknown flags";
	if (r->reserved)
		return "reserved bytes set";
	if (r->since < 0 || r->since > SINCE_MAX)
		return "a time of change out of range";
	if (r->next_check_ms < 0 || r->next_check_ms > SINCE_MAX * 1000)
		return "a next check out of range";
	if (r->flags & HEALTHFILE_HAS_LOAD ? !isfinite(r->load) || r->load < 0 || r->load > LOAD_MAX
					   : r->load != 0)
		return "a load out of range";
	if (!memchr(r->reason, 0, sizeof(r->reason)))
		return "a reason without its end";
	if (!(r->flags & HEALTHFILE_CHECKED) && (r->good || r->bad))
		return "checks counted before any check";
	return NULL;
}

int healthfile_parse(const void *buf, size_t len, const struct healthfile_header **hdr, char *why,
		     size_t size)
{
	const struct healthfile_header *h = buf;
	const struct healthfile_record *r;
	const char *bad;

	if (len < sizeof(*h)) {
		snprintf(why, size, "%zu bytes, shorter than a header", len);
		return -EINVAL;
	}
	if (memcmp(h->magic, HEALTHFILE_MAGIC, sizeof(h->magic)) != 0) {
		snprintf(why, size, "bad magic (not a pdyndns health file)");
		return -EINVAL;
	}
	if (h->version != HEALTHFILE_VERSION) {
		snprintf(why, size, "version %u (%u expected)", h->version, HEALTHFILE_VERSION);
		return -EINVAL;
	}
	if (h->header_size != sizeof(*h) || h->reserved) {
		snprintf(why, size, "a header of %u bytes (%zu expected)", h->header_size,
			 sizeof(*h));
		return -EINVAL;
	}
	if (h->record_size != sizeof(*r)) {
		snprintf(why, size, "records of %u bytes (%zu expected)", h->record_size,
			 sizeof(*r));
		return -EINVAL;
	}
	if (h->n_records > HEALTHFILE_MAX || healthfile_size(h->n_records) != len) {
		snprintf(why, size, "%u records in %zu bytes", h->n_records, len);
		return -EINVAL;
	}
	if (checksum(buf, len) != h->checksum) {
		snprintf(why, size, "checksum mismatch (damaged)");
		return -EINVAL;
	}
	r = healthfile_records(h);
	for (uint32_t k = 0; k < h->n_records; k++)
		if ((bad = bad_record(&r[k]))) {
			snprintf(why, size, "record %u: %s", k, bad);
			return -EINVAL;
		}
	*hdr = h;
	return 0;
}

bool healthfile_get(const struct healthfile_record *r, struct health_addr *a)
{
	bool up = r->flags & HEALTHFILE_UP, has_load = r->flags & HEALTHFILE_HAS_LOAD;
	bool changed = a->up != up || a->has_load != has_load || (has_load && a->load != r->load);

	a->up = up;
	a->checked = r->flags & HEALTHFILE_CHECKED;
	a->last_ok = r->flags & HEALTHFILE_LAST_OK;
	a->has_load = has_load;
	a->load = has_load ? r->load : 0;
	a->good = r->good;
	a->bad = r->bad;
	a->since = r->since;
	a->latency_us = r->latency_us;
	a->next_ms = r->next_check_ms;
	memcpy(a->reason, r->reason, sizeof(a->reason));
	a->reason[sizeof(a->reason) - 1] = 0;
	return changed;
}
