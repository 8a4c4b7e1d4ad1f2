/* SPDX-License-Identifier: MIT */
/* Small helpers used everywhere: cleanup attributes, array sizes, the monotonic clock. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ELEMENTSOF(x)  (sizeof(x) / sizeof((x)[0]))
#define _unused_       __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _likely_(x)    __builtin_expect(!!(x), 1)
#define _unlikely_(x)  __builtin_expect(!!(x), 0)
/* A loop that only moves or hashes bytes gets no coverage callbacks in a fuzzing build
 * (clang): there is nothing in it for the fuzzer to steer by, and a list of one prefix
 * expanded to millions of addresses spent most of its time in them. */
#if defined(__clang__)
#define _no_coverage_ __attribute__((no_sanitize("coverage")))
#else
#define _no_coverage_
#endif

static inline void freep(void *p)
{
	free(*(void **)p);
}
static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int e = errno;
		close(*fd);
		errno = e;
	}
}

#define _cleanup_(f)	__attribute__((cleanup(f)))
#define _cleanup_free_	_cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

/* Hand ownership out of a cleanup variable. */
#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _p_ = (p);                                                           \
		(p) = NULL;                                                                        \
		_p_;                                                                               \
	})
#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _fd_ = (fd);                                                                   \
		(fd) = -1;                                                                         \
		_fd_;                                                                              \
	})

/* Declare a cleanup function for a type with a _free() that returns NULL. */
#define DEFINE_FREE_FUNC(type, func)                                                               \
	static inline void func##p(type **p)                                                       \
	{                                                                                          \
		if (*p)                                                                            \
			func(*p);                                                                  \
	}

static inline void *mfree(void *p)
{
	free(p);
	return NULL;
}

/* True if a and b are both NULL, or equal strings. */
static inline bool streq_ptr(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Frees the n strings of v, then v. */
static inline void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* CLOCK_MONOTONIC now, in microseconds (sd_event_now() gives the loop iteration's start). */
static inline uint64_t mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}
