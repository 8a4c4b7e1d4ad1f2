/* SPDX-License-Identifier: MIT */
/* The pipe session (line framing, the parser, the answer builder) fed line by line: every
 * complete line gets exactly one OK, END or FAIL, which ends its output; a DATA line has
 * the field count of the session's ABI, integers where PowerDNS wants them (a bad one
 * desynchronises it: shared/pipe-protocol.md §6) and a type it knows; a partial line gets
 * nothing yet. The zone is tests/unit/fixture.c's fixture_zone_all(): every kind, views,
 * several zones. */
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "fuzz.h"
#include "log.h"
#include "session.h"
#include "status.h"

static struct daemon dmn;
static char dir[64];
static int out_fd = -1;

/* What the session wrote for the current line. Linked with --wrap=write, so that its
 * answers land here without two system calls per line (they made up half the time). */
static char out[(1 << 20) + 1];
static size_t out_len;

ssize_t __real_write(int fd, const void *data, size_t n);
ssize_t __wrap_write(int fd, const void *data, size_t n);
ssize_t __wrap_write(int fd, const void *data, size_t n)
{
	if (fd != out_fd || out_fd < 0)
		return __real_write(fd, data, n);
	fuzz_assert(n <= sizeof(out) - 1 - out_len);
	memcpy(out + out_len, data, n);
	out_len += n;
	return (ssize_t)n;
}

static void setup(void)
{
	log_set_level(LOG_CRIT);
	dmn.sv.snap = fixture_zone_all(dir);
	fuzz_assert(rotation_resize(&dmn.sv.rot, dmn.sv.snap->n_handlers) == 0);
	out_fd = open("/dev/null", O_WRONLY | O_CLOEXEC); /* a descriptor of our own */
	fuzz_assert(out_fd >= 0);
}

static bool integer(const char *s, bool sign)
{
	if (sign && *s == '-')
		s++;
	if (!*s || strlen(s) > 10)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static void check_data(char *line, int abi)
{
	char *f[16];
	size_t n = 0, o = abi >= 3 ? 2 : 0; /* ABI 3+: scopebits and auth come first */

	for (char *p = line; n < 16; n++) {
		f[n] = p;
		p = strchr(p, '\t');
		if (!p) {
			n++;
			break;
		}
		*p++ = 0;
	}
	fuzz_assert(n >= 7 + o);
	fuzz_assert(strcmp(f[0], "DATA") == 0);
	if (abi >= 3) {
		fuzz_assert(integer(f[1], false) && atoi(f[1]) <= 128);
		fuzz_assert(strcmp(f[2], "1") == 0);
	}
	fuzz_assert(*f[1 + o] && strcmp(f[2 + o], "IN") == 0);
	fuzz_assert(!strcmp(f[3 + o], "A") || !strcmp(f[3 + o], "AAAA") ||
		    !strcmp(f[3 + o], "SOA") || !strcmp(f[3 + o], "NS") ||
		    !strcmp(f[3 + o], "TXT") || !strcmp(f[3 + o], "MX") ||
		    !strcmp(f[3 + o], "SRV") || !strcmp(f[3 + o], "CNAME") ||
		    !strcmp(f[3 + o], "CAA") || !strcmp(f[3 + o], "PTR"));
	fuzz_assert(integer(f[4 + o], false) && integer(f[5 + o], true) && *f[6 + o]);
	/* MX and SRV: the priority in a field of its own, the rest in the one after it */
	if (!strcmp(f[3 + o], "MX") || !strcmp(f[3 + o], "SRV"))
		fuzz_assert(n == 8 + o && integer(f[6 + o], false) && *f[7 + o]);
	else
		fuzz_assert(n == 7 + o);
}

/* Checks what one fed line produced. complete: it ended with '\n'. */
static void check_output(bool complete, bool cmd, int abi)
{
	char *buf = out, *p, *nl;
	size_t n = out_len;
	int ends = 0;

	out_len = 0;
	buf[n] = 0;
	if (!complete) {
		fuzz_assert(n == 0);
		return;
	}
	fuzz_assert(n > 0 && buf[n - 1] == '\n' && !memchr(buf, 0, n));
	for (p = buf; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		*nl = 0;
		fuzz_assert(ends == 0); /* nothing after the end of the answer */
		if (!strcmp(p, "END") || !strcmp(p, "FAIL") || !strncmp(p, "OK\t", 3))
			ends++;
		else if (!strncmp(p, "DATA\t", 5))
			check_data(p, abi);
		else
			fuzz_assert(cmd); /* free text only in a CMD answer */
	}
	fuzz_assert(ends == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	static struct session *s;

	if (out_fd < 0) {
		setup();
		fuzz_assert(session_new(&dmn.sv, &daemon_session_ops, &dmn, -1, out_fd, &s) == 0);
	}
	/* a fresh conversation (one session for all inputs: its buffers are large); also the
	 * repeated answer, which was made for the previous input's ABI (in a real conversation
	 * the HELO that changes the ABI clears it) */
	s->abi = 0;
	s->rlen = 0;
	s->discarding = false;
	s->memo.n = 0;
	s->rep_len = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		/* a line over the limit is refused when it ends, whatever it starts with */
		bool cmd = len >= 4 && !memcmp(p, "CMD\t", 4) && s->rlen == 0 && !s->discarding;

		session_feed(s, p, len);
		check_output(nl != NULL, cmd, s->abi);
		p += len;
	}
	return 0;
}
