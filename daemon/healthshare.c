/* SPDX-License-Identifier: MIT */
/* One prober per machine (healthshare.h).
 *
 * Why a file written whole and renamed rather than a shared mapping read by every answer:
 * the answers already read the copy's own health state, which costs nothing more, and a
 * reader that open()s and read()s a file that nobody modifies in place sees either the old
 * file or the new one, never half of either, with no lock and no bus error when somebody
 * truncates it (a mapping would need sharedrot.c's SIGBUS handler). What a follower gives up
 * is at most one tick (HEALTHSHARE_TICK_MS) between the prober's verdict and its own. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctlfile.h"
#include "fileid.h"
#include "healthshare.h"
#include "log.h"
#include "macro.h"

#define READ_MAX healthfile_size(1u << 20) /* bytes of a file read: 128 MiB */
/* The prober writes the file every HEALTHSHARE_REFRESH_MS even when nothing changed: no new
 * file for three times as long (missing, or left as it was) is a prober that is stopped,
 * stuck or cannot write. */
#define QUIET_USEC (3 * HEALTHSHARE_REFRESH_MS * 1000ull)

enum role {
	ROLE_FOLLOWER,
	ROLE_ELECTED,
	ROLE_ALONE,
};

struct healthshare {
	sd_event *event;
	struct prober *p;
	char *lock_path, *state_path, *tmp_path;
	int lock_fd;
	enum role role;
	bool any; /* the config has checks */
	sd_event_source *tick, *publish;
	uint64_t ticks;
	/* the elected copy */
	uint64_t generation;
	bool pending;	     /* results not written yet */
	uint64_t published;  /* when the file was last written (mono usec) */
	uint64_t gap;	     /* the least time between two writings (usec) */
	char *write_problem; /* said once */
	/* a follower: the file as last read */
	struct stat seen;
	bool have_seen;
	uint64_t
	    news_at; /* when it last changed, or since when this copy waits for it (mono usec) */
	uint32_t prober_pid;
	char *problem; /* the file's problem said last, or NULL */
};

static uint64_t now_usec(void)
{
	return mono_usec();
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Writes the state file: whole, then renamed over the one there. */
static void publish(struct healthshare *hs)
{
	_cleanup_free_ void *buf = NULL;
	_cleanup_close_ int fd = -1;
	size_t len, off = 0;
	int r;

	hs->pending = false;
	hs->published = now_usec();
	r = prober_export(hs->p, hs->generation, (uint32_t)getpid(), &buf, &len);
	if (r >= 0) {
		fd =
		    open(hs->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
		r = fd < 0 ? -errno : 0;
	}
	while (r >= 0 && off < len) {
		ssize_t n = write(fd, (const char *)buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			r = n < 0 ? -errno : -EIO;
		else
			off += (size_t)n;
	}
	if (r >= 0 && rename(hs->tmp_path, hs->state_path) < 0)
		r = -errno;
	/* urgent writings at most every HEALTHSHARE_URGENT_MS, and at most a tenth of the loop's
	 * time when the file is large (a storm of changes at the first checks of a long list) */
	hs->gap = (now_usec() - hs->published) * 10;
	if (hs->gap < HEALTHSHARE_URGENT_MS * 1000ull)
		hs->gap = HEALTHSHARE_URGENT_MS * 1000ull;
	if (r < 0) {
		if (fd >= 0)
			(void)unlink(hs->tmp_path);
		if (!hs->write_problem || strcmp(hs->write_problem, strerror(-r)) != 0) {
			log_warning("health: cannot write %s: %s; the other copies keep the states "
				    "they had (they check themselves once they find no news)",
				    hs->state_path, strerror(-r));
			free(hs->write_problem);
			hs->write_problem = strdup(strerror(-r));
		}
		return;
	}
	if (hs->write_problem) {
		log_info("health: %s written again", hs->state_path);
		hs->write_problem = mfree(hs->write_problem);
	}
}

static int on_publish(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)s;
	(void)usec;
	publish(userdata);
	return 0;
}

/* prober_notify_fn */
static void on_result(void *userdata, bool urgent)
{
	struct healthshare *hs = userdata;
	uint64_t at;
	int on = SD_EVENT_OFF;

	if (hs->role != ROLE_ELECTED)
		return;
	hs->pending = true;
	if (!urgent)
		return; /* the next refresh writes it */
	hs->generation++;
	(void)sd_event_source_get_enabled(hs->publish, &on);
	if (on != SD_EVENT_OFF)
		return;
	at = hs->published + hs->gap;
	(void)sd_event_source_set_time(hs->publish, at);
	(void)sd_event_source_set_enabled(hs->publish, SD_EVENT_ONESHOT);
}

/* The file's problem (or its end, why NULL), said once per problem; the copy checks itself
 * meanwhile. */
static void set_problem(struct healthshare *hs, const char *why)
{
	if (why) {
		if (!hs->problem || strcmp(hs->problem, why) != 0) {
			log_warning("health: %s: %s; this copy checks its addresses itself until "
				    "the file is good again",
				    hs->state_path, why);
			free(hs->problem);
			hs->problem = strdup(why);
		}
		hs->role = ROLE_ALONE;
		prober_set_active(hs->p, true);
		return;
	}
	if (hs->problem) {
		log_info("health: %s is good again; this copy follows the prober (pid %u)",
			 hs->state_path, hs->prober_pid);
		hs->problem = mfree(hs->problem);
	}
	hs->role = ROLE_FOLLOWER;
	prober_set_active(hs->p, false);
}

/* A follower reads the file when it changed. */
static void follow(struct healthshare *hs)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = -1;
	const struct healthfile_header *h;
	struct stat st;
	char why[200];
	size_t off = 0;
	bool quiet = now_usec() - hs->news_at >= QUIET_USEC;
	int r;

	if (lstat(hs->state_path, &st) < 0) {
		/* not written yet, or removed: the prober writes it within a second; until then
		 * the states stay */
		if (errno == ENOENT && !quiet)
			return;
		snprintf(why, sizeof(why), "%s",
			 errno == ENOENT ? "missing (the prober has not written it for 3 s)"
					 : strerror(errno));
		goto bad;
	}
	if (hs->have_seen && same_file(&st, &hs->seen)) {
		/* (a copy that does not follow the file already checks itself) */
		if (hs->role != ROLE_FOLLOWER || !quiet)
			return;
		snprintf(why, sizeof(why),
			 "not written again for 3 s (its prober, pid %u, is stopped, stuck or "
			 "cannot write it)",
			 (unsigned)hs->prober_pid);
		goto bad;
	}
	fd = open(hs->state_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(why, sizeof(why), "%s", strerror(errno));
		goto bad;
	}
	hs->seen = st;
	hs->have_seen = true;
	hs->news_at = now_usec();
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, sizeof(why), "not a regular file (%s)", file_kind(st.st_mode));
		goto bad;
	}
	if ((uint64_t)st.st_size > READ_MAX) {
		snprintf(why, sizeof(why), "%lld bytes, more than a health file can hold",
			 (long long)st.st_size);
		goto bad;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		snprintf(why, sizeof(why), "out of memory");
		goto bad;
	}
	while (off < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + off, (size_t)st.st_size - off, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* shorter than fstat said: healthfile_parse() says so */
		off += (size_t)n;
	}
	if (healthfile_parse(buf, off, &h, why, sizeof(why)) < 0)
		goto bad;
	r = prober_import(hs->p, h);
	if (r < 0) {
		hs->have_seen = false; /* again at the next tick */
		return;
	}
	hs->prober_pid = h->pid;
	set_problem(hs, NULL);
	return;
bad:
	set_problem(hs, why);
}

/* Opens the lock file again when the one held open is no longer the one at its path. */
static void lock_reopen(struct healthshare *hs)
{
	struct stat a, b;

	if (hs->lock_fd >= 0 && fstat(hs->lock_fd, &a) == 0 && stat(hs->lock_path, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return;
	if (hs->lock_fd >= 0)
		close(hs->lock_fd);
	hs->lock_fd =
	    open(hs->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (hs->lock_fd >= 0 && fstat(hs->lock_fd, &a) == 0 && a.st_size == 0 &&
	    a.st_uid == geteuid())
		ctlfile_give_to_dir(hs->lock_fd, hs->lock_path);
	if (hs->role == ROLE_ELECTED) {
		log_warning("health: %s was removed or replaced; electing the prober again",
			    hs->lock_path);
		hs->role = ROLE_FOLLOWER;
		hs->news_at = now_usec();
		prober_set_active(hs->p, false);
	}
}

void healthshare_tick(struct healthshare *hs)
{
	hs->ticks++;
	if (hs->role != ROLE_ELECTED ||
	    hs->ticks % (HEALTHSHARE_REFRESH_MS / HEALTHSHARE_TICK_MS) == 0)
		lock_reopen(hs);
	if (hs->role != ROLE_ELECTED && hs->lock_fd >= 0 &&
	    flock(hs->lock_fd, LOCK_EX | LOCK_NB) == 0) {
		log_info("health: this copy (pid %u) now checks the addresses for every copy (it "
			 "holds %s)",
			 (unsigned)getpid(), hs->lock_path);
		hs->role = ROLE_ELECTED;
		hs->problem = mfree(hs->problem);
		prober_set_active(hs->p, true);
		publish(hs); /* at once: the copies learn who probes */
		return;
	}
	if (hs->role != ROLE_ELECTED)
		follow(hs);
	else if (now_usec() - hs->published >= HEALTHSHARE_REFRESH_MS * 1000ull - 1000)
		publish(hs);
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct healthshare *hs = userdata;

	(void)sd_event_source_set_time(s, usec + HEALTHSHARE_TICK_MS * 1000ull);
	healthshare_tick(hs);
	return 0;
}

void healthshare_apply(struct healthshare *hs, bool any)
{
	bool was = hs->any;

	hs->any = any;
	(void)sd_event_source_set_enabled(hs->tick, any ? SD_EVENT_ON : SD_EVENT_OFF);
	if (!any)
		return;
	if (!was) {
		/* the election at once: the first copy with checks probes from the start */
		hs->news_at = now_usec();
		healthshare_tick(hs);
	} else if (hs->role == ROLE_ELECTED)
		publish(hs); /* the new config's records */
	else
		hs->have_seen = false; /* the file read again for the new handlers */
}

uint32_t healthshare_prober(const struct healthshare *hs)
{
	return hs->role == ROLE_FOLLOWER ? hs->prober_pid : (uint32_t)getpid();
}

const char *healthshare_role(const struct healthshare *hs)
{
	static const char *const names[] = {"follower", "elected", "alone"};

	return names[hs->role];
}

int healthshare_new(sd_event *event, const char *dir, struct prober *p, struct healthshare **ret)
{
	struct healthshare *hs = calloc(1, sizeof(*hs));
	int r = -ENOMEM;

	if (!hs)
		return -ENOMEM;
	hs->event = sd_event_ref(event);
	hs->p = p;
	hs->lock_fd = -1;
	if (asprintf(&hs->lock_path, "%s/%s", dir, HEALTHSHARE_LOCK) < 0)
		hs->lock_path = NULL;
	if (asprintf(&hs->state_path, "%s/%s", dir, HEALTHSHARE_STATE) < 0)
		hs->state_path = NULL;
	if (asprintf(&hs->tmp_path, "%s/.%s.%u", dir, HEALTHSHARE_STATE, (unsigned)getpid()) < 0)
		hs->tmp_path = NULL;
	if (!hs->lock_path || !hs->state_path || !hs->tmp_path)
		goto fail;
	r = sd_event_add_time_relative(event, &hs->tick, CLOCK_MONOTONIC, 0, 0, on_tick, hs);
	if (r >= 0)
		r = sd_event_source_set_enabled(hs->tick, SD_EVENT_OFF);
	if (r >= 0)
		r = sd_event_add_time(event, &hs->publish, CLOCK_MONOTONIC, 0, 0, on_publish, hs);
	if (r >= 0)
		r = sd_event_source_set_enabled(hs->publish, SD_EVENT_OFF);
	if (r < 0)
		goto fail;
	hs->role = ROLE_FOLLOWER;
	prober_set_active(p, false);
	prober_set_notify(p, on_result, hs);
	*ret = hs;
	return 0;
fail:
	healthshare_free(hs);
	return r;
}

struct healthshare *healthshare_free(struct healthshare *hs)
{
	if (!hs)
		return NULL;
	if (hs->p)
		prober_set_notify(hs->p, NULL, NULL);
	sd_event_source_disable_unref(hs->tick);
	sd_event_source_disable_unref(hs->publish);
	if (hs->lock_fd >= 0)
		close(hs->lock_fd);
	sd_event_unref(hs->event);
	free(hs->lock_path);
	free(hs->state_path);
	free(hs->tmp_path);
	free(hs->write_problem);
	free(hs->problem);
	free(hs);
	return NULL;
}
