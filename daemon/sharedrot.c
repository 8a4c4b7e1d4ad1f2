/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pipeproto.h"
#include "sharedrot.h"

#define MAGIC 0x31544f524e594450ull /* "PDYNROT1" */
#define PROBES 64
#define IDLE_RECLAIM_SEC 3600 /* a counter nobody touched for this long may be reused */
#define TOUCH_USEC (60 * 1000000ull)

struct counter {
	uint64_t key;   /* 0: free */
	uint64_t count;
	uint64_t used;  /* CLOCK_BOOTTIME seconds when a copy last held it */
};

struct table {
	uint64_t magic;
	uint64_t slots;
	uint64_t pad[6];
	struct counter c[];
};

struct sharedrot {
	struct daemon *d;
	struct table *t;
	size_t size;
	sd_event_source *timer;
	bool full_warned;
};

static uint64_t now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec;
}

static uint64_t key_of(const struct handler *h)
{
	uint64_t k = h->list->hash;

	for (const char *p = h->cfg->qname; *p; p++)
		k = (k ^ (uint8_t)*p) * 0x100000001b3u;
	k = (k ^ h->cfg->qtype) * 0x100000001b3u;
	if (h->cfg->view) /* each view rotates apart (a handler's own key stays as it was) */
		k = (k ^ (0x10000u | h->cfg->view)) * 0x100000001b3u;
	return k ? k : 1;
}

/* The counter for key: found, claimed free, or reclaimed from one idle for an hour. */
static uint64_t *find(struct sharedrot *sr, uint64_t key)
{
	struct table *t = sr->t;
	uint64_t mask = t->slots - 1, now = now_sec();
	struct counter *oldest = NULL;

	for (uint64_t i = 0; i < PROBES; i++) {
		struct counter *c = &t->c[(key + i) & mask];
		uint64_t k = __atomic_load_n(&c->key, __ATOMIC_ACQUIRE), free_key = 0;

		if (k == key || (k == 0 && (__atomic_compare_exchange_n(&c->key, &free_key, key, false,
									 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) ||
					     free_key == key))) {
			__atomic_store_n(&c->used, now, __ATOMIC_RELAXED);
			return &c->count;
		}
		if (k != 0 && (!oldest || c->used < oldest->used))
			oldest = c;
	}
	if (oldest && now - __atomic_load_n(&oldest->used, __ATOMIC_RELAXED) > IDLE_RECLAIM_SEC) {
		uint64_t k = __atomic_load_n(&oldest->key, __ATOMIC_ACQUIRE);

		if (__atomic_compare_exchange_n(&oldest->key, &k, key, false, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE)) {
			__atomic_store_n(&oldest->count, 0, __ATOMIC_RELAXED);
			__atomic_store_n(&oldest->used, now, __ATOMIC_RELAXED);
			return &oldest->count;
		}
	}
	return NULL;
}

int sharedrot_attach(struct sharedrot *sr, const struct snapshot *s, struct rotation *r)
{
	uint64_t **p = calloc(r->n ? r->n : 1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < r->n; i++) {
		const struct handler *h = i < s->n_handlers ? &s->handlers[i] : NULL;

		p[i] = h && h->list ? find(sr, key_of(h)) : NULL;
		if (!p[i]) {
			if (h && h->list && !sr->full_warned) {
				log_warning("shared rotation: no room for %s %s in %u counters; it rotates "
					    "in this copy alone", h->cfg->qname,
					    h->cfg->qtype == PP_TYPE_A ? "A" : "AAAA", SHAREDROT_SLOTS);
				sr->full_warned = true;
			}
			p[i] = &r->next[i];
		}
	}
	free(r->shared);
	r->shared = p;
	return 0;
}

/* Keeps the counters of the live snapshot from looking idle. */
static int on_touch(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct sharedrot *sr = userdata;
	const struct snapshot *s = sr->d->snap;

	for (size_t i = 0; s && i < s->n_handlers; i++)
		if (s->handlers[i].list)
			(void)find(sr, key_of(&s->handlers[i]));
	sd_event_source_set_time(src, usec + TOUCH_USEC);
	return 0;
}

int sharedrot_open(struct daemon *d, const char *dir, struct sharedrot **ret)
{
	_cleanup_free_ char *path = NULL;
	struct sharedrot *sr;
	size_t size = sizeof(struct table) + SHAREDROT_SLOTS * sizeof(struct counter);
	uint64_t zero = 0;
	struct stat st;
	int fd, r;

	if (asprintf(&path, "%s/%s", dir, SHAREDROT_FILE) < 0)
		return -ENOMEM;
	(void)mkdir(dir, 0755);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || fstat(fd, &st) < 0 || (!S_ISREG(st.st_mode) && (errno = EINVAL)) ||
	    ((size_t)st.st_size < size && ftruncate(fd, (off_t)size) < 0)) {
		r = -errno;
		log_error("shared rotation: %s: %s; every copy rotates alone", path, strerror(-r));
		if (fd >= 0)
			close(fd);
		return r;
	}
	sr = calloc(1, sizeof(*sr));
	if (!sr) {
		close(fd);
		return -ENOMEM;
	}
	sr->t = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (sr->t == MAP_FAILED) {
		r = -errno;
		free(sr);
		log_error("shared rotation: cannot map %s: %s; every copy rotates alone", path, strerror(-r));
		return r;
	}
	sr->size = size;
	sr->d = d;
	/* the first copy stamps the file; a file of another layout is not used */
	if (!__atomic_compare_exchange_n(&sr->t->magic, &zero, MAGIC, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE) && zero != MAGIC) {
		log_error("shared rotation: %s is not a pdyndns counter file; every copy rotates alone", path);
		sharedrot_close(sr);
		return -EINVAL;
	}
	__atomic_store_n(&sr->t->slots, SHAREDROT_SLOTS, __ATOMIC_RELEASE);
	r = sd_event_add_time_relative(d->event, &sr->timer, CLOCK_MONOTONIC, TOUCH_USEC, 0, on_touch, sr);
	if (r < 0) {
		sharedrot_close(sr);
		return r;
	}
	(void)sd_event_source_set_enabled(sr->timer, SD_EVENT_ON);
	log_info("shared rotation: %s", path);
	*ret = sr;
	return 0;
}

struct sharedrot *sharedrot_close(struct sharedrot *sr)
{
	if (!sr)
		return NULL;
	sd_event_source_disable_unref(sr->timer);
	munmap(sr->t, sr->size);
	free(sr);
	return NULL;
}
