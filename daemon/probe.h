/* SPDX-License-Identifier: MIT */
/* Inside the prober (prober.h), shared by prober.c (the groups of checked handlers: when each
 * address is checked, what its results do, sharing with other copies) and probecheck.c (one
 * check: tcp, http(s) through libcurl, a state file). Not for use outside the two. */
#pragma once

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "fileid.h"
#include "health.h"
#include "probertypes.h"

#define BODY_MAX  4096 /* bytes of an http body kept for its load */
#define BATCH_MS  20   /* between two batches of checks of a long list */
#define BATCH_ALL 256  /* a list up to this long is checked all at once */
/* sd-event's default accuracy (0) is 250 ms: the checks keep their interval and timeout */
#define TIMER_ACCURACY 1000 /* µs */
#define MIN(a, b)      ((a) < (b) ? (a) : (b))

struct group;

struct check {
	struct group *g;
	uint32_t i;
	uint64_t started; /* mono_usec() */
	int fd;		  /* tcp */
	sd_event_source *io, *timer;
	CURL *easy; /* http(s) */
	struct curl_slist *headers, *connect_to;
	char *body; /* BODY_MAX bytes once the body starts */
	size_t body_len;
	char error[CURL_ERROR_SIZE];
};

struct group {
	struct prober *p;
	uint32_t slot;
	const struct handler *h;	/* of the live snapshot */
	struct addrlist *list;		/* a reference: checks in flight format from it */
	const struct config_health *hc; /* the live config's */
	/* what decides whether the group goes on over a reload */
	struct config_health key;
	char *path, *host, *file_path; /* the key's strings, owned */
	sd_event_source *timer;
	sd_event_source *batch; /* the next batch of checks of a long list (start_batch()) */
	uint32_t cursor;	/* the next address to check in this round */
	struct check **running; /* per address, NULL when none runs */
	/* check "file" */
	struct health_verdict *verdicts; /* of the last good reading, or NULL */
	struct file_id fid;
	struct timespec read_at;
	char *file_problem; /* the problem said last, or NULL */
	bool taken;	    /* prober_apply(): it goes on */
	/* sharing (prober_import()) */
	uint64_t hkey;	 /* healthfile_handler_key() */
	bool seen;	 /* the last file read had records of it */
	uint32_t missed; /* file reads in a row without them */
	bool local;	 /* checked here although the prober is not active: the file lacks it */
};

struct prober {
	sd_event *event;
	struct health *state;
	prober_changed_fn changed;
	prober_file_fn file;
	/* one result for address i of g, recorded in the health state (and logged, the copies
	 * told): prober.c's, called by the checks (probecheck.c) when they end */
	void (*record)(struct group *g, uint32_t i, const struct health_result *r);
	void *userdata;
	struct group **groups;
	size_t n_groups;
	CURLM *multi;
	sd_event_source *curl_timer;
	sd_event_source *update; /* deferred: rebuilds the slots' up[] and order[] */
	bool active;		 /* the checks run (prober_set_active()) */
	prober_notify_fn notify;
	void *notify_data;
	/* prober_import(): the groups' addresses by handler key and address, open addressing,
	 * built on the first import after prober_apply() */
	struct slotref {
		uint32_t group; /* + 1; 0: empty */
		uint32_t i;
	} * index;
	size_t index_mask;
	bool index_stale;
};

static inline bool probe_same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* probecheck.c */
/* Starts the check of address i of g (tcp or http(s)); its result comes later. */
void probe_start_check(struct group *g, uint32_t i);
/* Reads g's state file (when it changed) and records a result for each address it names. */
void probe_check_file(struct group *g);
void probe_check_free(struct check *c);
/* libcurl's multi handle on p's loop, and its end. Returns 0 or -ENOMEM. */
int probe_curl_new(struct prober *p);
void probe_curl_free(struct prober *p);
