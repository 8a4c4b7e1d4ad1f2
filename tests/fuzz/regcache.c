/* SPDX-License-Identifier: MIT */
/* A cache of compiled regular expressions for the fuzz targets that parse configs (linked
 * by fuzz.sh with -Wl,--wrap=regcomp,--wrap=regfree; the replays of make check use libc's).
 *
 * config_parse() compiles its four patterns on every call and frees them at the end. That
 * is nothing to the daemon, which parses a config per reload, but under ASan each of the
 * hundreds of small allocations glibc's regcomp makes records a stack trace, and perf put
 * two thirds of fuzz-config's time (and most of fuzz-script's) in regcomp and regfree.
 * Here a pattern is compiled once per process and each regcomp() hands out a copy of that
 * compiled form: regexec() reads the same automaton libc built for the same pattern and
 * flags, so every match gives what it gave before.
 *
 * Leaks and double frees are still caught: each copy gets a fastmap of its own (glibc's
 * 256-byte table of possible first bytes, which regfree() frees), so a regcomp() without its
 * regfree() leaks that block for LeakSanitizer to report, and a second regfree() of a copy
 * goes to libc with nothing left to free, as it would have. */
#ifndef _GNU_SOURCE /* (fuzz.sh includes config.h, which defines it) */
#define _GNU_SOURCE
#endif
#include <regex.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int __real_regcomp(regex_t *preg, const char *pattern, int cflags);
void __real_regfree(regex_t *preg);
int __wrap_regcomp(regex_t *preg, const char *pattern, int cflags);
void __wrap_regfree(regex_t *preg);

#define FASTMAP_SIZE 256 /* glibc: SBC_MAX, one entry per byte value */
#define CACHED	     8	 /* config.c has four patterns; more are compiled the usual way */

static struct {
	char *pattern;
	int cflags;
	regex_t re;
} cache[CACHED];
static size_t n_cached;

static bool cached(const regex_t *preg)
{
	for (size_t i = 0; i < n_cached; i++)
		if (preg->buffer && preg->buffer == cache[i].re.buffer)
			return true;
	return false;
}

int __wrap_regcomp(regex_t *preg, const char *pattern, int cflags)
{
	size_t i;

	/* REG_ICASE makes a translation table of each regex's own: not cached */
	if (cflags & REG_ICASE)
		return __real_regcomp(preg, pattern, cflags);
	for (i = 0; i < n_cached; i++)
		if (cache[i].cflags == cflags && strcmp(cache[i].pattern, pattern) == 0)
			break;
	if (i == n_cached) {
		int r;

		if (n_cached == CACHED)
			return __real_regcomp(preg, pattern, cflags);
		r = __real_regcomp(&cache[i].re, pattern, cflags);
		if (r != 0)
			return r; /* errors are not cached: the caller sees libc's every time */
		cache[i].pattern = strdup(pattern);
		if (!cache[i].pattern) {
			__real_regfree(&cache[i].re);
			return REG_ESPACE;
		}
		cache[i].cflags = cflags;
		n_cached++;
	}
	*preg = cache[i].re;
	if (cache[i].re.fastmap) {
		preg->fastmap = malloc(FASTMAP_SIZE);
		if (!preg->fastmap)
			return REG_ESPACE;
		memcpy(preg->fastmap, cache[i].re.fastmap, FASTMAP_SIZE);
	}
	return 0;
}

void __wrap_regfree(regex_t *preg)
{
	if (!cached(preg)) {
		__real_regfree(preg);
		return;
	}
	free(preg->fastmap);
	preg->fastmap = NULL;
	preg->buffer = NULL; /* the automaton stays in the cache */
	preg->allocated = 0;
}
