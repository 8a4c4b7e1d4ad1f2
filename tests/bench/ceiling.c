/* SPDX-License-Identifier: MIT */
/* ceiling: the reference backends pdyndns is measured against (not product code).
 *
 *   ceiling stub DOMAIN   fixed answers PowerDNS accepts: an SOA for DOMAIN itself, one A and
 *                         one AAAA (TTL 0) for any name below it, nothing else. No files, no
 *                         rotation: what any pipe backend can reach at best end to end.
 *   ceiling stick         "END" for every line after the banner: the cost of the pipe alone.
 *   ceiling stub-socket DOMAIN PATH
 *                         the stub on a unix socket at PATH, as socket mode serves PowerDNS:
 *                         a thread per connection, each blocking in read(2) on its own, which
 *                         is the least any server of that socket can do per lookup.
 *   ceiling probe PORT N  tcp checks of N addresses (127.1.0.1 to 127.1.x.y, 250 per /24, as
 *                         make bench lists them) at PORT every second, spread over the first
 *                         half of it in batches 20 ms apart: a non-blocking connect each, one
 *                         epoll for all, the socket closed when it has its result. The least
 *                         any prober can spend on those checks.
 *
 * Each reads whatever its input has, answers every complete line, and writes the answers of
 * one read with one write, as pdyndns does. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define IN_MAX	(64 * 1024)
#define OUT_MAX (IN_MAX * 4)

/* One conversation: stdin/stdout, or one connection. */
struct conv {
	int in_fd, out_fd;
	const char *dom; /* NULL: stick */
	size_t dlen;
	char in[IN_MAX];
	char out[OUT_MAX + 1024];
	size_t olen;
};

static void put(struct conv *c, const char *s, size_t n)
{
	memcpy(c->out + c->olen, s, n);
	c->olen += n;
}

/* "DATA\t0\t1\t<name>\tIN\t<rest>\n" */
static void data(struct conv *c, const char *name, size_t len, const char *rest)
{
	put(c, "DATA\t0\t1\t", 9);
	put(c, name, len);
	put(c, "\tIN\t", 4);
	put(c, rest, strlen(rest));
}

static void answer_stub(struct conv *c, char *line)
{
	const char *dom = c->dom;
	size_t dlen = c->dlen;
	char *f[4] = {line};
	size_t nf = 1, qlen;
	bool apex, below;

	for (char *ch = line; *ch && nf < 4; ch++)
		if (*ch == '\t') {
			*ch = 0;
			f[nf++] = ch + 1;
		}
	if (nf < 4 || strcmp(f[0], "Q") != 0) {
		put(c, "FAIL\n", 5);
		return;
	}
	/* f[1] is the name, f[3] the type; the rest of the line is not needed */
	f[3][strcspn(f[3], "\t")] = 0;
	qlen = strlen(f[1]);
	apex = qlen == dlen && strcasecmp(f[1], dom) == 0;
	below =
	    qlen > dlen && f[1][qlen - dlen - 1] == '.' && strcasecmp(f[1] + qlen - dlen, dom) == 0;
	if (apex && (!strcmp(f[3], "SOA") || !strcmp(f[3], "ANY")))
		data(c, f[1], qlen,
		     "SOA\t60\t-1\tns.invalid. admin.invalid. 1 3600 600 86400 60\n");
	if (below && (!strcmp(f[3], "A") || !strcmp(f[3], "ANY")))
		data(c, f[1], qlen, "A\t0\t-1\t192.0.2.1\n");
	if (below && (!strcmp(f[3], "AAAA") || !strcmp(f[3], "ANY")))
		data(c, f[1], qlen, "AAAA\t0\t-1\t2001:db8::1\n");
	put(c, "END\n", 4);
}

/* Answers c's input until it ends. */
static void *serve(void *arg)
{
	struct conv *c = arg;
	size_t have = 0;
	bool helo = true;

	for (;;) {
		ssize_t n = read(c->in_fd, c->in + have, sizeof(c->in) - have);
		char *p = c->in, *end, *nl;

		if (n <= 0)
			break;
		have += (size_t)n;
		end = c->in + have;
		c->olen = 0;
		while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
			*nl = 0;
			if (helo) {
				put(c, "OK\tceiling\n", 11);
				helo = false;
			} else if (c->dom)
				answer_stub(c, p);
			else
				put(c, "END\n", 4);
			p = nl + 1;
			if (c->olen > OUT_MAX) {
				if (write(c->out_fd, c->out, c->olen) != (ssize_t)c->olen)
					return NULL;
				c->olen = 0;
			}
		}
		if (c->olen && write(c->out_fd, c->out, c->olen) != (ssize_t)c->olen)
			break;
		have = (size_t)(end - p);
		if (have == sizeof(c->in))
			have = 0; /* a line this long is not a question */
		memmove(c->in, p, have);
	}
	if (c->in_fd > 2)
		close(c->in_fd);
	free(c);
	return NULL;
}

static struct conv *conv_new(int in_fd, int out_fd, const char *dom)
{
	struct conv *c = calloc(1, sizeof(*c));

	if (!c)
		exit(1);
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	c->dom = dom;
	c->dlen = dom ? strlen(dom) : 0;
	return c;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void probe_one(int ep, unsigned port, unsigned i)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	sa.sin_addr.s_addr = htonl(0x7f010000u | (i / 250) << 8 | (i % 250 + 1));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		close(fd); /* refused at once */
		return;
	}
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd,
		      &(struct epoll_event){.events = EPOLLOUT | EPOLLET, .data.fd = fd}) < 0)
		close(fd);
}

static int probe(unsigned port, unsigned n)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	unsigned batches = 25, next = 0; /* 25 batches 20 ms apart: the first half second */
	long long round = now_ms(), at = round;

	if (ep < 0)
		return 1;
	for (;;) {
		struct epoll_event ev[256];
		long long now = now_ms();
		int k;

		if (now >= at) {
			unsigned b = next++ % batches, lo = n * b / batches,
				 hi = n * (b + 1) / batches;

			for (unsigned i = lo; i < hi; i++)
				probe_one(ep, port, i);
			if (next % batches == 0)
				round += 1000;
			at = next % batches ? at + 20 : round;
		}
		k = epoll_wait(ep, ev, 256, (int)(at > now ? at - now : 0));
		for (int j = 0; j < k; j++) {
			int err = 0;
			socklen_t len = sizeof(err);

			(void)getsockopt(ev[j].data.fd, SOL_SOCKET, SO_ERROR, &err, &len);
			close(ev[j].data.fd);
		}
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (argc == 3 && strcmp(argv[1], "stub") == 0) {
		serve(conv_new(0, 1, argv[2]));
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "probe") == 0)
		return probe((unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]));
	if (argc == 2 && strcmp(argv[1], "stick") == 0) {
		serve(conv_new(0, 1, NULL));
		return 0;
	}
	if (argc != 4 || strcmp(argv[1], "stub-socket") != 0 ||
	    strlen(argv[3]) >= sizeof(sa.sun_path)) {
		fprintf(
		    stderr,
		    "usage: ceiling stub DOMAIN | ceiling stick | ceiling stub-socket DOMAIN PATH | "
		    "ceiling probe PORT N\n");
		return 2;
	}
	strcpy(sa.sun_path, argv[3]);
	(void)unlink(argv[3]);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		perror("ceiling: listen");
		return 1;
	}
	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		pthread_t t;

		if (cfd < 0)
			continue;
		if (pthread_create(&t, NULL, serve, conv_new(cfd, cfd, argv[2])) != 0)
			close(cfd);
		else
			pthread_detach(t);
	}
}
