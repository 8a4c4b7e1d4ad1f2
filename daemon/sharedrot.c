/* SPDX-License-Identifier: MIT */
/* Why no size or content of the counter file can crash a copy.
 *
 * Content: the table's size (mask) and the layout are validated once, when the file is
 * mapped, and kept here; nothing read back from the file later sizes or indexes anything.
 * Keys, counts and times found in it only decide which counter a handler uses and where a
 * rotation stands.
 *
 * Size: the counters are a MAP_SHARED mapping of a file that any process of the user can
 * truncate at any moment, and touching a page past its end raises SIGBUS. No check can
 * prevent that (the file may shrink between the check and the access), and the question
 * path must stay one atomic add, so a SIGBUS handler makes it harmless, as systemd's journal
 * reader does (src/basic/sigbus.c): a fault inside one of these mappings replaces the whole
 * mapping, in place, with anonymous zeroed memory (mmap MAP_FIXED: one system call, safe in
 * a handler on Linux) and returns. The interrupted access then completes on that private
 * memory (the question is answered from a counter at 0), and the handler wakes the loop
 * through an eventfd; there the copy warns once and takes the file up again, or goes on with
 * its own counters. A fault anywhere else goes to the previous handler, or kills as before.
 * Weighed and not taken: sigsetjmp around each access (a cost on every answer, and every
 * access site must be wrapped); a memfd sealed against shrinking (the copies, started apart
 * by PowerDNS, would have to pass it around over a socket); a private copy (shares nothing).
 *
 * Replacement and damage the mapping does not see (the file removed, renamed over, its
 * header overwritten, set up again by another copy) are found by a check every CHECK_USEC:
 * one fstat, one lstat and three loads. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctlfile.h"
#include "fileid.h"
#include "log.h"
#include "pipeproto.h"
#include "sharedrot.h"

#define MAGIC		 0x31544f524e594450ull /* "PDYNROT1" */
#define PROBES		 64
#define IDLE_RECLAIM_SEC 3600		  /* a counter nobody touched for this long may be reused */
#define CHECK_USEC	 (2 * 1000000ull) /* how often the file is checked */
#define TOUCH_CHECKS	 30 /* every live counter is touched once in 30 checks (a minute) */
#define SLOTS_MIN	 1024u
#define SLOTS_MAX	 (1u << 20) /* 24 MiB of counters */

struct counter {
	uint64_t key; /* 0: free */
	uint64_t count;
	uint64_t used; /* CLOCK_BOOTTIME seconds when a copy last held it */
};

struct table {
	uint64_t magic;
	uint64_t
	    slots; /* a power of two, SLOTS_MIN to SLOTS_MAX; 0 while a copy sets the file up */
	uint64_t epoch; /* drawn by the copy that set the file up (0 in files of older copies) */
	uint64_t hint;	/* rotation.h's hints (0 in files of older copies, which leave it) */
	uint64_t pad[4];
	struct counter c[];
};

/* One mapping of the file, and what was validated when it was made. */
struct map {
	struct table *t; /* NULL: none */
	size_t size;
	uint64_t mask; /* slots - 1 */
	uint64_t epoch;
	int fd; /* the file mapped, kept to see its size */
	dev_t dev;
	ino_t ino;
	int region; /* in regions[] */
	bool fresh; /* this copy set the file up (it was new, empty or short) */
};

struct sharedrot {
	struct serving *sv; /* the live snapshot and rotation, to attach again */
	char *path;
	struct map m; /* m.t NULL: this copy rotates alone, with its own counters */
	int efd;      /* the bus error handler wakes the loop through it */
	sd_event_source *timer, *bus;
	size_t touch;	 /* the next handler whose counter is touched */
	uint64_t bus_at; /* the last bus error (mono usec), 0: none */
	bool full_warned;
};

/* The mappings a bus error may hit: per sharedrot the one in use, and its successor while it
 * takes over. Written by the loop (base last, with release), read by the handler. */
#define REGIONS 8
static struct region {
	uintptr_t base; /* 0: free */
	size_t size;
	int efd;
	bool lost; /* the handler replaced it */
} regions[REGIONS];
static struct sigaction bus_previous;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr;
	int saved = errno;

	for (size_t i = 0; si->si_code > 0 && i < REGIONS; i++) { /* > 0: raised by the kernel */
		uintptr_t base = __atomic_load_n(&regions[i].base, __ATOMIC_ACQUIRE);
		uint64_t one = 1;

		if (!base || a - base >= regions[i].size)
			continue;
		if (mmap((void *)base, regions[i].size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			break;
		__atomic_store_n(&regions[i].lost, true, __ATOMIC_RELEASE);
		(void)!write(regions[i].efd, &one, sizeof(one));
		errno = saved;
		return;
	}
	errno = saved;
	if ((bus_previous.sa_flags & SA_SIGINFO) && bus_previous.sa_sigaction)
		bus_previous.sa_sigaction(sig, si, uc);
	else if (!(bus_previous.sa_flags & SA_SIGINFO) && bus_previous.sa_handler != SIG_DFL &&
		 bus_previous.sa_handler != SIG_IGN)
		bus_previous.sa_handler(sig);
	else /* the default action: returning repeats the fault, which now kills */
		(void)sigaction(SIGBUS, &(struct sigaction){.sa_handler = SIG_DFL}, NULL);
}

/* Installs on_sigbus, unless it is the handler already. */
static int bus_install(void)
{
	struct sigaction sa = {.sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO}, cur;

	if (sigaction(SIGBUS, NULL, &cur) < 0)
		return -errno;
	if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_sigbus)
		return 0;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &bus_previous) < 0)
		return -errno;
	return 0;
}

static int region_add(void *base, size_t size, int efd)
{
	for (int i = 0; i < REGIONS; i++)
		if (!regions[i].base) {
			regions[i].size = size;
			regions[i].efd = efd;
			regions[i].lost = false;
			__atomic_store_n(&regions[i].base, (uintptr_t)base, __ATOMIC_RELEASE);
			return i;
		}
	return -ENOSPC;
}

static void map_release(struct map *m)
{
	if (!m->t)
		return;
	__atomic_store_n(&regions[m->region].base, 0, __ATOMIC_RELEASE);
	munmap(m->t, m->size);
	close(m->fd);
	m->t = NULL;
}

static uint64_t random_epoch(void)
{
	uint64_t e = 0;
	struct timespec ts;

	if (getrandom(&e, sizeof(e), GRND_NONBLOCK) != sizeof(e)) {
		clock_gettime(CLOCK_REALTIME, &ts);
		e = ((uint64_t)ts.tv_sec << 32 ^ (uint64_t)ts.tv_nsec) * 0x9e3779b97f4a7c15u ^
		    (uint64_t)getpid();
	}
	return e ? e : 1;
}

/* Maps the counter file at path, setting it up with want counters if it is new, empty or
 * short. Returns 0, or a negative errno with why (len bytes) saying what is wrong with the
 * file. */
static int map_open(const char *path, int efd, uint64_t want, struct map *ret, char *why,
		    size_t len)
{
	_cleanup_close_ int fd = -1;
	struct map m = {.fd = -1, .region = -1};
	struct table h = {0};
	struct stat st;
	uint64_t slots, zero = 0;
	ssize_t n;
	int r;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0600);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		snprintf(why, len, r == -ELOOP ? "it is a symbolic link (not followed)" : "%s",
			 strerror(-r));
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, len, "it is not a regular file (%s)", file_kind(st.st_mode));
		return -EINVAL;
	}
	if (st.st_size == 0)
		ctlfile_give_to_dir(fd, path);
	/* a short file reads as zeros past its end, as it will after it is grown */
	n = pread(fd, &h, sizeof(h), 0);
	if (n < 0) {
		r = -errno;
		snprintf(why, len, "cannot read it: %s", strerror(-r));
		return r;
	}
	if (h.magic != 0 && h.magic != MAGIC) {
		snprintf(why, len,
			 "it is not a pdyndns counter file (it starts with %016" PRIx64 ")",
			 h.magic);
		return -EINVAL;
	}
	slots = h.slots ? h.slots : want; /* 0: set up now, by this copy or another */
	if (slots < SLOTS_MIN || slots > SLOTS_MAX || (slots & (slots - 1))) {
		snprintf(why, len,
			 "its header says %" PRIu64
			 " counters (a power of two from %u to %u expected)",
			 slots, SLOTS_MIN, SLOTS_MAX);
		return -EINVAL;
	}
	m.size = sizeof(struct table) + slots * sizeof(struct counter);
	/* new, or wiped (short: its counters are gone; no size: its header was damaged) */
	m.fresh = h.magic == 0 || h.slots == 0 || (uint64_t)st.st_size < m.size;
	/* Its blocks reserved, not a sparse file: touching a page of a sparse file on a full
	 * filesystem (a full /run) raises SIGBUS, at every question. Reserved, a full
	 * filesystem is this error, once. (Only where the filesystem cannot reserve, the file
	 * is grown sparse, as before.) */
	if (fallocate(fd, 0, 0, (off_t)m.size) < 0 &&
	    (errno != EOPNOTSUPP ||
	     ((uint64_t)st.st_size < m.size && ftruncate(fd, (off_t)m.size) < 0))) {
		r = -errno;
		snprintf(why, len, "cannot reserve %zu bytes for it: %s", m.size, strerror(-r));
		return r;
	}
	m.t = mmap(NULL, m.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m.t == MAP_FAILED) {
		r = -errno;
		snprintf(why, len, "cannot map it: %s", strerror(-r));
		return r;
	}
	m.region = region_add(m.t, m.size, efd);
	if (m.region < 0) {
		munmap(m.t, m.size);
		snprintf(why, len, "too many mappings");
		return -ENOSPC;
	}
	/* the first copy sets the file up: its size, a new epoch (which tells the copies still
	 * on it that its counters were wiped), then the magic that makes it valid; the others
	 * adopt what it wrote */
	(void)__atomic_compare_exchange_n(&m.t->slots, &zero, slots, false, __ATOMIC_ACQ_REL,
					  __ATOMIC_ACQUIRE);
	if (m.fresh)
		(void)__atomic_compare_exchange_n(&m.t->epoch, &h.epoch, random_epoch(), false,
						  __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	zero = 0;
	(void)__atomic_compare_exchange_n(&m.t->magic, &zero, MAGIC, false, __ATOMIC_ACQ_REL,
					  __ATOMIC_ACQUIRE);
	/* what the file says now must be what was validated */
	if (__atomic_load_n(&m.t->magic, __ATOMIC_ACQUIRE) != MAGIC ||
	    __atomic_load_n(&m.t->slots, __ATOMIC_ACQUIRE) != slots) {
		m.fd = TAKE_FD(fd);
		map_release(&m);
		snprintf(why, len, "its header changed while it was set up");
		return -EAGAIN;
	}
	m.epoch = __atomic_load_n(&m.t->epoch, __ATOMIC_ACQUIRE);
	m.mask = slots - 1;
	m.dev = st.st_dev;
	m.ino = st.st_ino;
	m.fd = TAKE_FD(fd);
	*ret = m;
	return 0;
}

/* Counters for a new file: twice the live snapshot's handlers (room for the versions of
 * changed lists still alive), at least SHAREDROT_SLOTS, a power of two. */
static uint64_t want_slots(const struct sharedrot *sr)
{
	size_t n = sr->sv->snap ? sr->sv->snap->n_handlers : 0;
	uint64_t slots = SHAREDROT_SLOTS;

	while (slots < 2 * (uint64_t)n && slots < SLOTS_MAX)
		slots <<= 1;
	return slots;
}

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

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
	struct table *t = sr->m.t;
	uint64_t mask = sr->m.mask, now = now_sec();
	struct counter *oldest = NULL;

	for (uint64_t i = 0; i < PROBES; i++) {
		struct counter *c = &t->c[(key + i) & mask];
		uint64_t k = __atomic_load_n(&c->key, __ATOMIC_ACQUIRE), free_key = 0;

		if (k == key ||
		    (k == 0 && (__atomic_compare_exchange_n(&c->key, &free_key, key, false,
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

/* The counter slot i of r (for s) advances: the shared one of its handler, or r's own. */
static uint64_t *counter_of(struct sharedrot *sr, const struct snapshot *s, struct rotation *r,
			    size_t i)
{
	const struct handler *h = s && i < s->n_handlers ? &s->handlers[i] : NULL;
	uint64_t *c = h && h->list ? find(sr, key_of(h)) : NULL;

	if (c)
		return c;
	if (h && h->list && !sr->full_warned) {
		log_warning("shared rotation: no room for %s %s in %" PRIu64
			    " counters; it rotates in this copy alone",
			    h->cfg->qname, h->cfg->qtype == PP_TYPE_A ? "A" : "AAAA",
			    sr->m.mask + 1);
		sr->full_warned = true;
	}
	return &r->next[i];
}

/* Whether slot k of old advances a shared counter (not its own next[] entry). */
static bool shares(const struct rotation *old, size_t k)
{
	return old->shared && k < old->n && old->shared[k] != &old->next[k];
}

/* r shares the hints of the copies of our PowerDNS (our parent) through the mapped file. */
static void set_hint(const struct sharedrot *sr, struct rotation *r)
{
	r->hint = &sr->m.t->hint;
	r->hint_owner = (uint32_t)getppid();
}

/* Slot k of old leaves the counter of handler oh for nh's (NULL: none): the counter, if
 * shared and of another key, starts over. So a list that comes back (an operator switching
 * A -> B -> A) starts at its first address, as every changed list does, instead of where it
 * was; a copy still on it until its own reload, a moment later, goes on from there. */
static void retire(const struct rotation *old, size_t k, const struct handler *oh,
		   const struct handler *nh)
{
	if (!shares(old, k) || !oh || !oh->list)
		return;
	if (nh && nh->list && key_of(nh) == key_of(oh))
		return;
	__atomic_store_n(old->shared[k], 0, __ATOMIC_RELAXED);
}

int sharedrot_attach_carried(struct sharedrot *sr, const struct snapshot *s, struct rotation *r,
			     const struct rotation *old, const uint32_t *map, size_t n_old)
{
	uint64_t **p;

	if (!sr->m.t || !old->shared) /* alone, or old was not attached: from scratch */
		return sharedrot_attach(sr, s, r);
	p = calloc(r->n ? r->n : 1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	/* Carried on (the same name, type, view and addresses: the same key), the counter
	 * goes along; the lists nothing carries on (removed or changed) start over. Only the
	 * slots' arrays are read: at 100,000 handlers, a look at each handler would be a cache
	 * miss each, on the loop. */
	for (size_t k = 0; k < n_old && k < old->n; k++) {
		if (!shares(old, k))
			continue;
		if (map[k] && map[k] - 1 < r->n)
			p[map[k] - 1] = old->shared[k];
		else if (!map[k])
			__atomic_store_n(old->shared[k], 0, __ATOMIC_RELAXED);
	}
	for (size_t i = 0; i < r->n; i++)
		if (!p[i])
			p[i] = counter_of(sr, s, r, i);
	free(r->shared);
	r->shared = p;
	set_hint(sr, r);
	return 0;
}

void sharedrot_attach_slots(struct sharedrot *sr, const struct snapshot *s, struct rotation *r,
			    const struct snapshot *old_s, const uint32_t *slots, size_t n)
{
	if (!sr->m.t || !r->shared)
		return;
	for (size_t k = 0; k < n; k++) {
		uint32_t i = slots[k];
		const struct handler *h = i < s->n_handlers ? &s->handlers[i] : NULL;

		if (i >= r->n || (h && h->carry_from >= 0))
			continue; /* (its list did not change: the same counter) */
		if (old_s && i < old_s->n_handlers)
			retire(r, i, &old_s->handlers[i], h);
		r->shared[i] = counter_of(sr, s, r, i);
	}
}

int sharedrot_attach(struct sharedrot *sr, const struct snapshot *s, struct rotation *r)
{
	uint64_t **p;

	if (!sr->m.t) { /* no usable file: r's own counters */
		free(r->shared);
		r->shared = NULL;
		r->hint = NULL;
		return 0;
	}
	p = calloc(r->n ? r->n : 1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < r->n; i++)
		p[i] = counter_of(sr, s, r, i);
	free(r->shared);
	r->shared = p;
	set_hint(sr, r);
	return 0;
}

/* The live rotation goes on with its own counters, from where the shared ones stand. */
static void go_alone(struct sharedrot *sr)
{
	struct rotation *r = &sr->sv->rot;

	if (r->shared) {
		for (size_t i = 0; i < r->n; i++)
			r->next[i] = __atomic_load_n(r->shared[i], __ATOMIC_RELAXED);
		free(r->shared);
		r->shared = NULL;
	}
	r->hint = NULL;
	map_release(&sr->m);
}

/* Takes up the file again after what (a phrase: "was removed"), or goes on alone: one
 * warning either way. */
static void recover(struct sharedrot *sr, const char *what)
{
	struct map m, old = sr->m;
	char why[200];

	if (map_open(sr->path, sr->efd, want_slots(sr), &m, why, sizeof(why)) == 0) {
		sr->m = m;
		if (sharedrot_attach(sr, sr->sv->snap, &sr->sv->rot) == 0) {
			map_release(&old);
			log_warning("shared rotation: %s %s; %s", sr->path, what,
				    m.fresh ? "set it up again: the shared counters start over"
					    : "sharing the counters of the file now there");
			return;
		}
		map_release(&m);
		sr->m = old;
		snprintf(why, sizeof(why), "out of memory");
	}
	go_alone(sr);
	log_warning(
	    "shared rotation: %s %s, and cannot be used: %s; this copy rotates alone until it "
	    "can",
	    sr->path, what, why);
}

/* What is wrong with the file in use, in why (a phrase), or false. */
static bool map_broken(const struct sharedrot *sr, char *why, size_t len)
{
	const struct map *m = &sr->m;
	struct stat st, at;
	int gone = lstat(sr->path, &at) < 0 ? errno : 0;

	if (__atomic_load_n(&regions[m->region].lost, __ATOMIC_ACQUIRE))
		snprintf(why, len, "shrank under this copy (a bus error was caught)");
	else if (fstat(m->fd, &st) == 0 && (uint64_t)st.st_size < m->size)
		snprintf(why, len, "was truncated to %lld bytes", (long long)st.st_size);
	else if (gone == ENOENT)
		snprintf(why, len, "was removed");
	else if (!gone && (at.st_dev != m->dev || at.st_ino != m->ino))
		snprintf(why, len, "was replaced by another file");
	else if (__atomic_load_n(&m->t->magic, __ATOMIC_ACQUIRE) != MAGIC ||
		 __atomic_load_n(&m->t->slots, __ATOMIC_ACQUIRE) != m->mask + 1)
		snprintf(why, len, "was overwritten"); /* map_open says how */
	else
		return false;
	return true;
}

bool sharedrot_check(struct sharedrot *sr)
{
	char why[120];
	struct map m;
	uint64_t e;

	if (!sr->m.t) {
		/* alone since a warning: quietly, until the file can be used again */
		if (map_open(sr->path, sr->efd, want_slots(sr), &m, why, sizeof(why)) < 0)
			return false;
		sr->m = m;
		if (sharedrot_attach(sr, sr->sv->snap, &sr->sv->rot) < 0) {
			map_release(&sr->m);
			return false;
		}
		log_info(
		    "shared rotation: %s can be used again; this copy shares its rotation again",
		    sr->path);
		return true;
	}
	if (map_broken(sr, why, sizeof(why)))
		recover(sr, why);
	else if ((e = __atomic_load_n(&sr->m.t->epoch, __ATOMIC_ACQUIRE)) != sr->m.epoch) {
		/* another copy set the file up again (after a truncation): the counters of this
		 * copy's handlers were wiped, and are claimed again */
		sr->m.epoch = e;
		if (sharedrot_attach(sr, sr->sv->snap, &sr->sv->rot) == 0)
			log_info(
			    "shared rotation: %s was set up again by another copy; the shared counters "
			    "start over",
			    sr->path);
	}
	return sr->m.t != NULL;
}

/* Checks the file; keeps the counters of the live snapshot from looking idle: a slice of
 * them at each check, every one of them in TOUCH_CHECKS checks (a minute), so that no check
 * holds the loop for long at any number of handlers. */
static int on_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct sharedrot *sr = userdata;
	const struct snapshot *s = sr->sv->snap;

	if (sharedrot_check(sr) && s && s->n_handlers) {
		size_t per = (s->n_handlers + TOUCH_CHECKS - 1) / TOUCH_CHECKS;

		for (size_t k = 0; k < per; k++) {
			const struct handler *h = &s->handlers[sr->touch++ % s->n_handlers];

			if (h->list)
				(void)find(sr, key_of(h));
		}
	}
	sd_event_source_set_time(src, usec + CHECK_USEC);
	return 0;
}

/* The bus error handler replaced a mapping. */
static int on_bus(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct sharedrot *sr = userdata;
	uint64_t n, now = now_usec();

	(void)!read(fd, &n, sizeof(n));
	/* Again within a check's time: the file faults as soon as it is taken up again (it
	 * cannot be reserved and its filesystem is full?). Alone, once said, until the next
	 * check, never in a loop of faults. */
	if (sr->bus_at && now - sr->bus_at < CHECK_USEC && sr->m.t) {
		sr->bus_at = now;
		go_alone(sr);
		log_warning("shared rotation: %s faults again as soon as it is mapped (is its "
			    "filesystem full?); this copy rotates alone until it can be used",
			    sr->path);
		return 0;
	}
	sr->bus_at = now;
	(void)sharedrot_check(sr);
	return 0;
}

int sharedrot_new(sd_event *event, const char *dir, struct serving *sv, struct sharedrot **ret)
{
	struct sharedrot *sr = calloc(1, sizeof(*sr));
	char why[200];
	int r;

	if (!sr)
		return -ENOMEM;
	sr->sv = sv;
	sr->m.fd = -1;
	sr->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sr->efd < 0 || asprintf(&sr->path, "%s/%s", dir, SHAREDROT_FILE) < 0) {
		r = sr->efd < 0 ? -errno : -ENOMEM;
		sr->path = NULL;
		goto fail;
	}
	r = bus_install();
	if (r >= 0)
		r = sd_event_add_io(event, &sr->bus, sr->efd, EPOLLIN, on_bus, sr);
	if (r >= 0)
		r = sd_event_add_time_relative(event, &sr->timer, CLOCK_MONOTONIC, CHECK_USEC, 0,
					       on_timer, sr);
	if (r < 0)
		goto fail;
	(void)sd_event_source_set_enabled(sr->timer, SD_EVENT_ON);
	(void)mkdir(dir, 0755);
	if (map_open(sr->path, sr->efd, want_slots(sr), &sr->m, why, sizeof(why)) == 0)
		log_info("shared rotation: %s", sr->path);
	else
		log_error("shared rotation: %s: %s; this copy rotates alone until the file can be "
			  "used, so the copies PowerDNS starts (one per thread) do not answer in "
			  "turn (pdynctl status says \"rotation: this copy's own\")",
			  sr->path, why);
	*ret = sr;
	return 0;
fail:
	log_error("shared rotation: %s; this copy rotates alone", strerror(-r));
	sharedrot_free(sr);
	return r;
}

struct sharedrot *sharedrot_free(struct sharedrot *sr)
{
	if (!sr)
		return NULL;
	sd_event_source_disable_unref(sr->timer);
	sd_event_source_disable_unref(sr->bus);
	map_release(&sr->m);
	if (sr->efd >= 0)
		close(sr->efd);
	free(sr->path);
	free(sr);
	return NULL;
}
