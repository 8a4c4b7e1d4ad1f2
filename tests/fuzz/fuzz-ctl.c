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
		    strcmp(again.type, req.type) == 0 && strcmp(again.client, req.client) == 0 &&
		    again.summary == req.summary && again.n_names == req.n_names);
	for (size_t i = 0; i < req.n_names; i++)
		fuzz_assert(strcmp(again.names[i], req.names[i]) == 0);
	ctl_request_done(&req);
	ctl_request_done(&again);
	free(line);
	return 0;
}
