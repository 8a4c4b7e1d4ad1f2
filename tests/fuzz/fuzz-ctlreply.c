/* SPDX-License-Identifier: MIT */
/* pdynctl's reading of a reply (ctl/render.c), as pdynctl runs it: the input is the lines
 * a daemon sent. The first line is decoded as a response; an ok one is rendered as a
 * status header, a list line, a reload and a query (whichever it is, a daemon or an
 * impostor may send anything); the lines after it as stream lines: items are rendered as
 * handlers, an end as the end of a status. The same lines go through pdynctl metrics's
 * reading (common/exposition.c): the header as a copy's figures, the items as handlers, and
 * what they made is written. Nothing may crash, abort or leak, and a render that refuses
 * says why. */
#include <errno.h>
#include <string.h>

#include "ctlproto.h"
#include "exposition.h"
#include "fuzz.h"
#include "render.h"

static void check(int r, const char *why)
{
	fuzz_assert(r == 0 || (r == -EBADMSG && why[0]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE
	    *out; /* opened once (an open, a buffer and a close per input: 3 % of the time) */
	const char *p = (const char *)data, *end = p + size;
	struct promtext *expo = promtext_new();
	bool first = true;

	if (!out)
		out = fopen("/dev/null", "w");
	fuzz_assert(out && expo && expo_declare(expo) == 0);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char why[RENDER_WHY_MAX] = "";
		json_object *res = NULL, *item = NULL, *fin = NULL;
		char *err = NULL;
		bool ok = false, stream = false;

		if (first) {
			if (ctl_response_decode(p, n, &ok, &res, &err, &stream) == 0) {
				fuzz_assert(ok ? !err : err && !res);
				if (ok) {
					int problems = -1;

					check(render_status_header(out, res, why), why);
					why[0] = 0;
					check(render_list(out, render_pid(res), "/run/x.sock", res,
							  why),
					      why);
					why[0] = 0;
					check(render_reload(out, out, 1, res, &problems, why), why);
					fuzz_assert(problems == 0 || problems == 1);
					why[0] = 0;
					check(render_query(out, 1, res, why), why);
					why[0] = 0;
					check(render_handler(out, res, why), why);
					why[0] = 0;
					check(expo_add_copy(expo, res, 7, why), why);
				}
			}
			first = false;
		} else if (ctl_stream_decode(p, n, &item, &fin, &err) == 0) {
			fuzz_assert(!!item + !!fin + !!err == 1);
			if (item) {
				check(render_handler(out, item, why), why);
				why[0] = 0;
				check(expo_add_handler(expo, item, 7, why), why);
			}
			if (fin) {
				long long count;
				size_t missing;

				check(render_status_end(out, 1, fin, &count, &missing, why), why);
			}
		}
		json_object_put(res);
		json_object_put(item);
		json_object_put(fin);
		free(err);
		p += n + (nl != NULL);
	}
	fuzz_assert(promtext_write(expo, out) == 0);
	promtext_free(expo);
	return 0;
}
