/* SPDX-License-Identifier: MIT */
/* The control request decoder: a request it accepts encodes back to one line that decodes
 * to the same request; a refusal always says why. */
#include <string.h>

#include "ctlproto.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_request req, again;
	const char *why = NULL;
	char *line;

	memset(&req, 0, sizeof(req));
	if (ctl_request_decode((const char *)data, size, &req, &why) < 0) {
		fuzz_assert(why && *why);
		return 0;
	}
	line = ctl_request_encode(&req);
	fuzz_assert(line);
	fuzz_assert(strchr(line, '\n') == line + strlen(line) - 1);
	memset(&again, 0, sizeof(again));
	fuzz_assert(ctl_request_decode(line, strlen(line) - 1, &again, &why) == 0);
	fuzz_assert(again.cmd == req.cmd && strcmp(again.name, req.name) == 0 &&
		    strcmp(again.type, req.type) == 0 && strcmp(again.client, req.client) == 0);
	free(line);
	return 0;
}
