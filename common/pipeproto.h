/* SPDX-License-Identifier: MIT */
/* The PowerDNS pipe-backend protocol, ABI 1 to 5 (see shared/pipe-protocol.md): parsing of
 * the lines PowerDNS sends and formatting of the lines it reads. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define PP_ABI_MIN 1
#define PP_ABI_MAX 5

enum pp_kind {
	PP_HELO,
	PP_Q,
	PP_AXFR,
	PP_CMD,
};

/* A parsed line. Every pointer points into the line that was parsed (NUL-terminated
 * fields); absent fields are NULL. */
struct pp_msg {
	enum pp_kind kind;
	int abi;	   /* HELO: the version asked for */
	const char *qname; /* Q: presentation form, no trailing dot; AXFR (ABI>=4): the zone */
	size_t qname_len;
	const char *qtype;	 /* Q: mnemonic as sent */
	int64_t id;		 /* Q, AXFR: the zone id (-1 for SOA probes) */
	const char *remote;	 /* Q: client address (ABI >= 1) */
	const char *local;	 /* Q: server address (ABI >= 2) */
	const char *real_remote; /* Q: client subnet (ABI >= 3) */
	const char *cmd;	 /* CMD: the command text */
};

/* Parses one line (without its '\n'; may be modified: tabs become NULs). abi is the
 * session's version (0 before HELO). Returns 0, or -EINVAL with *why set to a static
 * description for a malformed or unknown line, or one not allowed at this ABI. */
int pp_parse(char *line, size_t len, int abi, struct pp_msg *m, const char **why);

/* RR types used by pdyndns, by number. */
enum {
	PP_TYPE_A = 1,
	PP_TYPE_NS = 2,
	PP_TYPE_CNAME = 5,
	PP_TYPE_SOA = 6,
	PP_TYPE_PTR = 12,
	PP_TYPE_MX = 15,
	PP_TYPE_TXT = 16,
	PP_TYPE_AAAA = 28,
	PP_TYPE_SRV = 33,
	PP_TYPE_ANY = 255,
	PP_TYPE_CAA = 257,
};

/* Maps a qtype mnemonic ("A", "ANY", "TYPE28", ...) to its number; 0 if unknown. */
uint16_t pp_qtype(const char *mnemonic);
/* The mnemonic of type ("TYPE0" for one it does not know). */
const char *pp_type_name(uint16_t type);

/* Parses an address as PowerDNS writes the remote, local and real-remote fields: "ADDR",
 * "ADDR/LEN" or "ADDR%IFACE", IPv4 or IPv6, into addr (4 or 16 bytes used). Returns AF_INET,
 * AF_INET6, or 0 for anything else (NULL included). */
int pp_addr(const char *s, uint8_t addr[16]);

/* Appends one DATA line for the given ABI, authoritative. scope is the ECS scope prefix
 * length (ABI >= 3; older ABIs cannot carry it). */
void pp_data(struct buf *b, int abi, const char *qname, size_t qname_len, uint16_t type,
	     uint32_t ttl, int64_t id, uint8_t scope, const char *content, size_t content_len);
/* A DATA line read back: pp_data()'s fields (pointers into the line). */
struct pp_record {
	const char *qname;
	const char *type; /* mnemonic */
	uint32_t ttl;
	int64_t id;
	uint8_t scope;	     /* ABI >= 3 */
	const char *content; /* MX and SRV: the priority's tab is a space */
};
/* Parses one DATA line (without its '\n'; modified: tabs become NULs) as pp_data() or
 * pp_ent() (type "ENT", content "") writes it for abi. Returns 0, or -EINVAL for any other
 * line. */
int pp_parse_data(char *line, size_t len, int abi, struct pp_record *r);
/* Appends one DATA line of type ENT (an empty non-terminal: the name exists, without
 * records), which PowerDNS reads from 5.1 on; 4.x fails the lookup. No content field. */
void pp_ent(struct buf *b, int abi, const char *qname, size_t qname_len, uint32_t ttl, int64_t id);
static inline void pp_end(struct buf *b)
{
	buf_put(b, "END\n", 4);
}
static inline void pp_fail(struct buf *b)
{
	buf_put(b, "FAIL\n", 5);
}
