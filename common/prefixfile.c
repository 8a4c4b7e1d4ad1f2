/* SPDX-License-Identifier: MIT */
/* Prefix files (prefixfile.h): one prefix a line, "#" comments, read whole and checked line
 * by line; the first ten bad lines are reported, then their count. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "configtypes.h"
#include "diag.h"
#include "fileid.h"
#include "macro.h"
#include "prefixfile.h"

#define PREFIXFILE_MAX	(256u << 20) /* bytes */
#define PREFIXFILE_LINE 200

int prefixfile_load(struct prefixtrie *t, const char *path, uint32_t value,
		    const char *const *names, struct diag *d)
{
	_cleanup_free_ char *text = NULL;
	size_t have = 0, line = 0, bad = 0;
	struct stat st;
	char *p, *end;
	int r = file_read_all(path, PREFIXFILE_MAX, d, &text, &have, &st);

	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return -EINVAL;
	for (p = text, end = text + have; p < end; p = p + strcspn(p, "\n") + 1) {
		size_t n = (size_t)(end - p), len;
		char *nl = memchr(p, '\n', n), *hash, why[128], q[DIAG_QUOTE_SIZE(60)];
		struct config_prefix pf;

		line++;
		if (nl)
			*nl = 0;
		else
			p[n] = 0; /* the byte after the text is ours */
		len = nl ? (size_t)(nl - p) : n;
		if ((hash = memchr(p, '#', len)))
			len = (size_t)(hash - p);
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r'))
			len--;
		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		if (!len)
			continue;
		if (len > PREFIXFILE_LINE)
			r = -EINVAL,
			snprintf(why, sizeof(why), "is not a prefix (longer than %d bytes)",
				 PREFIXFILE_LINE);
		else
			r = config_prefix_parse(p, len, &pf, why, sizeof(why));
		if (r == 0) {
			r = prefixtrie_add(t, pf.family, pf.addr, pf.len, value);
			if (r == -EEXIST) {
				uint32_t owner = prefixtrie_get(t, pf.family, pf.addr, pf.len);

				if (owner == value)
					continue; /* the same prefix twice for one view: harmless */
				r = -EINVAL;
				snprintf(why, sizeof(why), "is also in view \"%s\"", names[owner]);
			}
			if (r == -ENOMEM)
				return r;
		}
		if (r < 0 && ++bad <= 10)
			diag_add_at(d, path, line, "%s:%zu: error: %s %s", path, line,
				    diag_quote(q, p, len, 60), why);
	}
	if (bad > 10)
		diag_add_at(d, path, 0, "%s: %zu bad lines in all", path, bad);
	return bad ? -EINVAL : 0;
}
