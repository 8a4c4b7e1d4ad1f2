/* SPDX-License-Identifier: MIT */
/* The config model: what a config holds once parsed (config.h reads it), the names of its
 * values, and what every holder of one does with it: count, free, and the text form of a
 * view's prefix. The handler kinds (kind.h) and the checks across handlers (configsem.c)
 * work on these types alone. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "dname.h"
#include "fileid.h"

/* syslog-style levels, as in <syslog.h> */
enum config_loglevel {
	CONFIG_LOG_CRIT = 2,
	CONFIG_LOG_ERR = 3,
	CONFIG_LOG_WARNING = 4,
	CONFIG_LOG_INFO = 6,
	CONFIG_LOG_DEBUG = 7,
};

/* How a handler picks the addresses of an answer (README, "Selection policies"). */
enum config_policy {
	CONFIG_POLICY_ROUND_ROBIN,  /* the default: count addresses from the rotation position */
	CONFIG_POLICY_RANDOM,	    /* count distinct addresses, uniformly at random */
	CONFIG_POLICY_WEIGHTED,	    /* "ADDRESS WEIGHT" lines, a deterministic smooth schedule */
	CONFIG_POLICY_ALL,	    /* every address, in file order */
	CONFIG_POLICY_LEAST_LOADED, /* the up address with the lowest load (needs "health") */
};

#define CONFIG_COUNT_MAX 256 /* addresses per answer */
/* Policy "all" serves at most this many addresses, the first in file order: a DNS message
 * of 64 KiB holds about 2,300 AAAA records (and a prefix line can stand for 16 M). */
#define CONFIG_ALL_MAX 2048

/* The policy names as the config spells them, by enum value. */
extern const char *const config_policy_names[5];

struct kind;

/* What a handler's views are matched against. */
enum config_match {
	CONFIG_MATCH_SUBNET, /* the client subnet (ABI >= 3 real-remote: ECS), else the resolver */
	CONFIG_MATCH_RESOLVER, /* the resolver's address (remote), whatever ECS says */
};

#define CONFIG_VIEWS_MAX 1024 /* views per handler */

/* A prefix of a view, as written in the config. */
struct config_prefix {
	uint8_t addr[16]; /* network byte order; 4 bytes used for IPv4 */
	uint8_t family;	  /* AF_INET or AF_INET6 */
	uint8_t len;
};

/* How a handler's addresses are checked ("health", README and pdyndns.json(5)). */
enum config_check {
	CONFIG_CHECK_TCP,   /* a connect to port */
	CONFIG_CHECK_HTTP,  /* a GET of path with Host: host; up when the status is in expect */
	CONFIG_CHECK_HTTPS, /* the same over TLS, verified unless tls_verify is false */
	CONFIG_CHECK_FILE,  /* a state file of "ADDRESS up|down [load N]" lines */
};

extern const char *const config_check_names[4];

#define CONFIG_EXPECT_MAX 16 /* status codes in "expect" */

/* Lists longer than this are not checked: their state would cost more than it tells. */
#define HEALTH_ADDRESSES_MAX 65536u

struct config_health {
	enum config_check check;
	uint16_t port; /* tcp, http(s): 0 = http 80, https 443 */
	char *path;    /* http(s): starts with "/"; "/" when not set */
	char *host;    /* http(s): the Host header; NULL: the handler's qname */
	uint16_t expect[CONFIG_EXPECT_MAX]; /* http(s): the status codes that mean up */
	uint8_t n_expect;
	bool tls_verify;		  /* https */
	char *file;			  /* check file: as written */
	char *file_path;		  /* ... resolved against the config's directory */
	uint32_t interval_ms, timeout_ms; /* timeout_ms <= interval_ms */
	uint32_t rise, fall;		  /* good checks in a row to come up, bad ones to go down */
	bool all_down_none; /* "all_down": "none": no address when every one is down */
};

struct config_handler {
	char *qname;	   /* as written in the config */
	struct dname name; /* lowercased wire form */
	uint16_t qtype;	   /* address lists: 1 (A) or 28 (AAAA); other kinds: their first type */
	uint16_t types[4]; /* every record type it answers (KIND_TYPES_MAX) */
	uint8_t n_types;
	const struct kind *kind; /* NULL: an address list (kind "addresses"); else kind.h */
	void *data;		 /* the kind's own (kind->free_data), NULL for address lists */
	/* address lists only: */
	char *file; /* as written in the config */
	char *path; /* resolved against the config file's directory */
	enum config_policy policy;
	uint32_t count; /* addresses per answer, 1 to CONFIG_COUNT_MAX (1 when not set) */
	struct config_health *health; /* checks of the addresses, or NULL */
	uint8_t choices; /* least-loaded: 2 = the better of two random up addresses; else 0 */
	/* Per-client views (README, "Per-client views"). A handler with views is followed, in
	 * the snapshot's order, by one address-list handler per view (view = 1, 2, ...), each
	 * with its own file, policy and rotation; those come after the config's own handlers
	 * in config.handlers and answer only through their handler. */
	uint16_t n_views;	 /* on the handler: how many views follow it */
	uint16_t view;		 /* 0: a handler of the config; k: the k-th view of its handler */
	enum config_match match; /* on the handler */
	uint16_t zone;		 /* the zone it is in: the longest apex at or above qname */
	char *view_name;	 /* on a view: its "name", or "view K" */
	struct config_prefix *prefixes; /* on a view: its inline "prefixes" */
	size_t n_prefixes;
	char *prefix_file; /* on a view: "prefix_file" as written, or NULL */
	char *prefix_path; /* resolved like path */
};

/* When a list moves on (README, "Rotation"). */
enum config_advance {
	/* once per client question: PowerDNS starts each with SOA lookups, and a list moves at
	 * most once between them, however often the name is looked up (caches off) */
	CONFIG_ADVANCE_PER_QUESTION,
	/* at every lookup of the name: for consistent-backends=no, where one question makes one
	 * ANY lookup; answers then carry ECS scope bits so that PowerDNS's query cache, which may
	 * stay on for SOA and negative answers, does not keep them */
	CONFIG_ADVANCE_PER_LOOKUP,
};

/* A zone pdyndns is authoritative for: the config's own ("domain", "soa", "nameservers",
 * "ttl"), and each of "zones". Zone k (from 0) has the id k + 1 in the pipe protocol. */
struct config_zone {
	char *domain; /* NULL for the catch-all */
	struct dname apex;
	char *soa;
	char **nameservers;
	size_t n_nameservers;
	uint32_t ttl;
};

/* "metrics_max_addresses": its default and its bound (metrics.h counts per address) */
#define METRICS_MAX_ADDRESSES_DEFAULT 256
#define METRICS_MAX_ADDRESSES_MAX     65536

struct config {
	char *path;	    /* the config file, as given */
	struct file_id id;  /* of the file read by config_load() */
	uint64_t text_hash; /* FNV-1a (by words) of the text: a same-size rewrite can keep the
			       identity */
	char *dir;	    /* its directory, absolute when it could be resolved */
	/* the config's own zone, zones[0] (these point into it) */
	char *domain;
	struct dname apex;
	char *soa;
	char **nameservers;
	size_t n_nameservers;
	uint32_t ttl;
	struct config_zone *zones; /* every zone, the config's own first */
	size_t n_zones;
	/* "catch_all": the SOA and NS answered at any name in none of the zones (no domain;
	 * zone id n_zones + 1), or NULL */
	struct config_zone *catch_all;
	enum config_loglevel loglevel;
	enum config_advance advance;
	/* "empty_non_terminals" (PowerDNS >= 5.1): a name that exists without records of its own
	 * (above a handler's name, or a handler with nothing to serve) answers an ANY lookup
	 * with an ENT line, so that wildcards and NXDOMAIN follow RFC 4592 */
	bool empty_non_terminals;
	/* "metrics_max_addresses": lists up to this long count answers per address (metrics.h) */
	uint32_t metrics_max_addresses;
	struct config_handler *handlers; /* the config's, then the views of each (see above) */
	size_t n_handlers;		 /* views included */
	size_t n_views;	     /* the views among them: handlers[n_handlers - n_views ..] */
	size_t n_health;     /* handlers with "health" */
	char *control_dir;   /* NULL: not set */
	char *control_group; /* NULL: not set */
};

#define CONFIG_COUNTS_MAX 64
/* "N handlers" or, with views, "N handlers, M views": what c holds, as a person counts it
 * (views are handlers only inside pdyndns), into buf (CONFIG_COUNTS_MAX bytes). */
void config_counts(const struct config *c, char *buf);

/* Parses n bytes of "ADDRESS/LENGTH" or "ADDRESS" (a host prefix), IPv4 or IPv6, as view
 * prefixes are written: inet_pton() for the address, a decimal length without leading zeros,
 * and no bit set past the length. Returns 0, or -EINVAL with why (why_size bytes) saying
 * what is wrong ("is not a prefix ...", "has bits set past its length: the prefix is
 * 10.1.2.0/24"), to follow the quoted text in a message. */
int config_prefix_parse(const char *s, size_t n, struct config_prefix *p, char *why,
			size_t why_size);

struct config *config_free(struct config *c);
DEFINE_FREE_FUNC(struct config, config_free)
