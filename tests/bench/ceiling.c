/* SPDX-License-Identifier: MIT */
/* ceiling: the reference backends pdyndns is measured against (not product code).
 *
 *   ceiling stub DOMAIN   fixed answers PowerDNS accepts: an SOA for DOMAIN itself, one A and
 *                         one AAAA (TTL 0) for any name below it, nothing else. No files, no
 *                         rotation: what any pipe backend can reach at best end to end.
 *   ceiling stick         "END" for every line after the banner: the cost of the pipe alone.
 *
 * Both read whatever stdin has, answer every complete line, and write the answers of one
 * read with one write, as pdyndns does. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define IN_MAX (64 * 1024)
#define OUT_MAX (IN_MAX * 4)

static char out[OUT_MAX + 1024];
static size_t olen;

static void put(const char *s, size_t n)
{
	memcpy(out + olen, s, n);
	olen += n;
}

/* "DATA\t0\t1\t<name>\tIN\t<rest>\n" */
static void data(const char *name, size_t len, const char *rest)
{
	put("DATA\t0\t1\t", 9);
	put(name, len);
	put("\tIN\t", 4);
	put(rest, strlen(rest));
}

static void answer_stub(char *line, const char *dom, size_t dlen)
{
	char *f[4] = {line};
	size_t nf = 1, qlen;
	bool apex, below;

	for (char *c = line; *c && nf < 4; c++)
		if (*c == '\t') {
			*c = 0;
			f[nf++] = c + 1;
		}
	if (nf < 4 || strcmp(f[0], "Q") != 0) {
		put("FAIL\n", 5);
		return;
	}
	/* f[1] is the name, f[3] the type; the rest of the line is not needed */
	f[3][strcspn(f[3], "\t")] = 0;
	qlen = strlen(f[1]);
	apex = qlen == dlen && strcasecmp(f[1], dom) == 0;
	below = qlen > dlen && f[1][qlen - dlen - 1] == '.' && strcasecmp(f[1] + qlen - dlen, dom) == 0;
	if (apex && (!strcmp(f[3], "SOA") || !strcmp(f[3], "ANY")))
		data(f[1], qlen, "SOA\t60\t-1\tns.invalid. admin.invalid. 1 3600 600 86400 60\n");
	if (below && (!strcmp(f[3], "A") || !strcmp(f[3], "ANY")))
		data(f[1], qlen, "A\t0\t-1\t192.0.2.1\n");
	if (below && (!strcmp(f[3], "AAAA") || !strcmp(f[3], "ANY")))
		data(f[1], qlen, "AAAA\t0\t-1\t2001:db8::1\n");
	put("END\n", 4);
}

int main(int argc, char **argv)
{
	static char in[IN_MAX];
	bool stub = argc == 3 && strcmp(argv[1], "stub") == 0;
	const char *dom = stub ? argv[2] : "";
	size_t dlen = strlen(dom), have = 0;
	bool helo = true;

	if (!stub && !(argc == 2 && strcmp(argv[1], "stick") == 0)) {
		fprintf(stderr, "usage: ceiling stub DOMAIN | ceiling stick\n");
		return 2;
	}
	for (;;) {
		ssize_t n = read(0, in + have, sizeof(in) - have);
		char *p = in, *end, *nl;

		if (n <= 0)
			return 0;
		have += (size_t)n;
		end = in + have;
		olen = 0;
		while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
			*nl = 0;
			if (helo) {
				put("OK\tceiling\n", 11);
				helo = false;
			} else if (stub)
				answer_stub(p, dom, dlen);
			else
				put("END\n", 4);
			p = nl + 1;
			if (olen > OUT_MAX) {
				if (write(1, out, olen) != (ssize_t)olen)
					return 1;
				olen = 0;
			}
		}
		if (olen && write(1, out, olen) != (ssize_t)olen)
			return 1;
		have = (size_t)(end - p);
		if (have == sizeof(in))
			have = 0; /* a line this long is not a question */
		memmove(in, p, have);
	}
}
