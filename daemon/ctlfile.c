/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctlfile.h"
#include "macro.h"

void ctlfile_give_to_dir(int fd, const char *path)
{
	_cleanup_free_ char *dir = NULL;
	char *slash;
	struct stat d;

	if (geteuid() != 0 || !(dir = strdup(path)) || !(slash = strrchr(dir, '/')))
		return;
	*slash = 0;
	if (stat(*dir ? dir : "/", &d) == 0 && (d.st_uid != 0 || d.st_gid != 0)) {
		(void)!fchown(fd, d.st_uid, d.st_gid);
		(void)fchmod(fd, 0660);
	}
}
