/* SPDX-License-Identifier: MIT */
/* Live updates against a model: the input is a script of steps (write an address file by
 * rename or in place, write a bad one, delete one, write the config or a broken one, reload,
 * ask) run on real files with the reload path pdyndns uses (config_load, snapshot_new with
 * the live snapshot, snapshot_rotation), and every answer must be the one a model of the
 * documented rules predicts:
 *   - a reload reads every file again unless it cannot have changed; a broken config keeps
 *     everything;
 *   - a good file serves its addresses; the rotation of a handler (name and type) whose
 *     addresses did not change goes on, a changed list starts at its first address;
 *   - a bad or missing file keeps the handler's previous list and position, or serves
 *     nothing if it had none; a handler the config drops starts afresh when it comes back.
 * Steps happen within microseconds, far inside one tick of file timestamps, so same-size
 * rewrites in place are the rule here, not the exception. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "answer.h"
#include "config.h"
#include "diag.h"
#include "fuzz.h"
#include "pipeproto.h"
#include "snapshot.h"

#define N_FILES	   3 /* a.txt, b.txt: IPv4; c.txt: IPv6 */
#define N_HANDLERS 3 /* a A -> a.txt, b A -> b.txt (or a.txt), a AAAA -> c.txt */
#define MAX_ADDRS  6

static const char *const file_names[N_FILES] = {"a.txt", "b.txt", "c.txt"};
static const char *const qnames[N_HANDLERS] = {"a.dyn.example.test", "b.dyn.example.test",
					       "a.dyn.example.test"};
static const char *const qtypes[N_HANDLERS] = {"A", "A", "AAAA"};

struct list {
	int n; /* -1: none (a bad or missing file) */
	int f; /* the file it was written to: the addresses are 10.0.F.x or 2001:db8::x */
	uint8_t a[MAX_ADDRS];
};

/* What is on disk, and what the model says is served. */
static struct {
	struct list file[N_FILES]; /* n = -1: bad or missing */
	bool config_ok;
	unsigned mask; /* handlers in the config on disk */
	bool b_uses_a; /* handler b reads a.txt */
} disk;

static struct {
	bool present[N_HANDLERS];
	struct list list[N_HANDLERS];
	uint64_t pos[N_HANDLERS];
} live;

/* The files live in memory, on /dev/shm where there is one: on a disk file system every
 * rename over a file flushes it (ext4's auto_da_alloc), and that writeback was most of the
 * time per input. */
static char dir[64];
static struct snapshot *snap;
static struct rotation rot;

static int file_of(unsigned h, bool b_uses_a)
{
	return h == 1 && b_uses_a ? 0 : (int)h;
}

/* The address file F's byte v stands for, in the canonical text pdyndns answers with. */
static void format_addr(int file, uint8_t v, char *out, size_t size)
{
	int family = file == N_FILES - 1 ? AF_INET6 : AF_INET;
	unsigned char a[16];
	char text[48];

	if (family == AF_INET6)
		snprintf(text, sizeof(text), "2001:db8::%x", v);
	else
		snprintf(text, sizeof(text), "10.0.%d.%u", file, v);
	fuzz_assert(inet_pton(family, text, a) == 1 && inet_ntop(family, a, out, (socklen_t)size));
}

/* Writes text to dir/name: by rename of a temp file, or in place (same inode). */
static void put_file(const char *name, const char *text, bool in_place)
{
	char path[128], tmp[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	fd = open(in_place ? path : tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	fuzz_assert(fd >= 0);
	fuzz_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	if (!in_place)
		fuzz_assert(rename(tmp, path) == 0);
}

static void write_list(int f, const struct list *l, bool in_place)
{
	char text[MAX_ADDRS * 48] = "", a[48];

	for (int i = 0; i < l->n; i++) {
		format_addr(f, l->a[i], a, sizeof(a));
		strcat(text, a);
		strcat(text, "\n");
	}
	put_file(file_names[f], text, in_place);
	disk.file[f] = *l;
}

static void write_config(unsigned mask, bool b_uses_a, bool in_place)
{
	char text[1024];
	size_t n;

	n = (size_t)snprintf(text, sizeof(text),
			     "{\"domain\": \"dyn.example.test\", \"soa\": \"ns1.example.test. "
			     "h.example.test. 1 7200 3600 7200 120\", \"nameservers\": "
			     "[\"ns1.example.test\"], \"ttl\": 60, \"handlers\": [");
	for (unsigned h = 0, first = 1; h < N_HANDLERS; h++)
		if (mask & 1u << h) {
			n += (size_t)snprintf(
			    text + n, sizeof(text) - n,
			    "%s{\"qname\": \"%s\", \"qtype\": \"%s\", \"file\": \"%s\"}",
			    first ? "" : ", ", qnames[h], qtypes[h],
			    file_names[file_of(h, b_uses_a)]);
			first = 0;
		}
	snprintf(text + n, sizeof(text) - n, "]}\n");
	put_file("config.json", text, in_place);
	disk.config_ok = true;
	disk.mask = mask;
	disk.b_uses_a = b_uses_a;
}

static bool same_list(const struct list *a, const struct list *b)
{
	return a->n == b->n &&
	       (a->n <= 0 || (a->f == b->f && memcmp(a->a, b->a, (size_t)a->n) == 0));
}

/* The model's reload, then the real one. */
static void reload(void)
{
	char path[128];
	struct config *c = NULL;
	struct snapshot *next = NULL;
	struct rotation r;
	struct diag d;

	if (disk.config_ok) {
		for (unsigned h = 0; h < N_HANDLERS; h++) {
			const struct list *l = &disk.file[file_of(h, disk.b_uses_a)];

			if (!(disk.mask & 1u << h)) {
				live.present[h] = false;
				continue;
			}
			if (!live.present[h]) {
				live.list[h] = (struct list){.n = -1};
				live.pos[h] = 0;
			}
			live.present[h] = true;
			if (l->n > 0) {
				if (!same_list(l, &live.list[h]))
					live.pos[h] = 0;
				live.list[h] = *l;
			}
		}
	}

	snprintf(path, sizeof(path), "%s/config.json", dir);
	diag_init(&d);
	if (config_load(path, &d, &c) == 0) {
		struct snapshot_opts o = {
		    .prev = snap, .reuse_unchanged = true, .keep_prev_on_error = true};

		fuzz_assert(disk.config_ok);
		fuzz_assert(snapshot_new(c, &o, &d, &next) == 0);
		fuzz_assert(snapshot_rotation(next, &rot, snap ? snap->n_handlers : 0, &r, NULL) ==
			    0);
		rotation_done(&rot);
		rot = r;
		snapshot_free(snap);
		snap = next;
	} else
		fuzz_assert(!disk.config_ok);
	diag_clear(&d);
}

/* Asks handler h's name and type as PowerDNS does (an SOA lookup starts the question, then
 * the lookup) and checks the address against the model. */
static void ask(unsigned h)
{
	struct answer_memo memo = {0};
	struct answer_ctx ctx = {.snap = snap, .rot = &rot, .memo = &memo, .abi = 1};
	char line[128], want[48], *got = NULL, *end;
	const char *why;
	struct pp_msg m;
	struct buf out;

	buf_init(&out);
	snprintf(line, sizeof(line), "Q\t%s\tIN\tSOA\t-1\t127.0.0.1", qnames[h]);
	fuzz_assert(pp_parse(line, strlen(line), 1, &m, &why) == 0);
	answer_query(&ctx, &m, &out);
	buf_truncate(&out, 0);
	snprintf(line, sizeof(line), "Q\t%s\tIN\t%s\t-1\t127.0.0.1", qnames[h], qtypes[h]);
	fuzz_assert(pp_parse(line, strlen(line), 1, &m, &why) == 0);
	answer_query(&ctx, &m, &out);
	buf_putc(&out, 0);
	fuzz_assert(buf_ok(&out));

	/* at most one DATA line, then END */
	end = strstr(out.data, "END\n");
	fuzz_assert(end && end[4] == 0);
	*end = 0;
	if (*out.data) {
		char *nl = strchr(out.data, '\n');

		fuzz_assert(!strncmp(out.data, "DATA\t", 5) && nl && nl[1] == 0);
		*nl = 0;
		got = strrchr(out.data, '\t') + 1;
	}
	if (live.present[h] && live.list[h].n > 0) {
		const struct list *l = &live.list[h];

		format_addr(l->f, l->a[live.pos[h]++ % (uint64_t)l->n], want, sizeof(want));
		if (!got || strcmp(got, want) != 0)
			fprintf(stderr, "fuzz-script: %s %s served %s; the model says %s\n",
				qnames[h], qtypes[h], got ? got : "nothing", want);
		fuzz_assert(got && strcmp(got, want) == 0);
	} else {
		if (got)
			fprintf(stderr, "fuzz-script: %s %s served %s; the model says nothing\n",
				qnames[h], qtypes[h], got);
		fuzz_assert(!got);
	}
	buf_free(&out);
}

/* At exit: the scratch directory and what the last input left in it. */
static void remove_dir(void)
{
	static const char *const names[] = {"a.txt",	   "b.txt",	      "c.txt",
					    "config.json", ".a.txt.tmp",      ".b.txt.tmp",
					    ".c.txt.tmp",  ".config.json.tmp"};
	char path[128];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		(void)unlink(path);
	}
	(void)rmdir(dir);
}

static void make_dir(void)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	snprintf(dir, sizeof(dir), "%s/pdyndns-fuzz-script.XXXXXX", base);
	fuzz_assert(mkdtemp(dir));
	atexit(remove_dir);
}

static void reset(void)
{
	snap = snapshot_free(snap);
	rotation_done(&rot);
	memset(&live, 0, sizeof(live));
	for (int f = 0; f < N_FILES; f++) {
		struct list l = {.n = 2, .f = f, .a = {1, 2}};

		write_list(f, &l, false);
	}
	write_config((1u << N_HANDLERS) - 1, false, false);
	reload();
}

/* Steps: an operation byte, an argument byte, and for a list its addresses. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	size_t i = 0;

	if (!ready) {
		make_dir();
		ready = true;
	}
	reset();
	while (i + 2 <= size) {
		uint8_t op = data[i] % 8, arg = data[i + 1];
		int f = arg % N_FILES;
		char path[128];

		i += 2;
		switch (op) {
		case 0: /* a good list, by rename or in place */
		case 1: {
			struct list l = {.n = 1 + (arg >> 2) % MAX_ADDRS, .f = f};

			if (i + (size_t)l.n > size)
				return 0;
			memcpy(l.a, data + i, (size_t)l.n);
			i += (size_t)l.n;
			write_list(f, &l, op == 1);
			break;
		}
		case 2: /* a bad list: one good line, then one the parser refuses */
			put_file(file_names[f],
				 f == N_FILES - 1 ? "2001:db8::1\n10.0.0.1\n"
						  : "10.0.0.1\nnot-an-address\n",
				 arg & 4);
			disk.file[f] = (struct list){.n = -1};
			break;
		case 3: /* gone */
			snprintf(path, sizeof(path), "%s/%s", dir, file_names[f]);
			(void)unlink(path);
			disk.file[f] = (struct list){.n = -1};
			break;
		case 4: /* a config with some of the handlers; b reading a.txt or b.txt */
			write_config(1 + (arg >> 2) % ((1u << N_HANDLERS) - 1), arg & 2, arg & 1);
			break;
		case 5: /* a config that fails validation */
			put_file("config.json", "{\"domain\": \"dyn.example.test\", \"soa\": 1}\n",
				 arg & 1);
			disk.config_ok = false;
			break;
		case 6: reload(); break;
		case 7: /* ask, one to four times */
			for (int k = 0; k <= (arg >> 2) % 4; k++)
				ask(arg % N_HANDLERS);
			break;
		}
	}
	return 0;
}
