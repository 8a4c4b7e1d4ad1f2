/* SPDX-License-Identifier: MIT */
/* pdynctl: the command-line tool of pdyndns. Commands come from one table, which also
 * makes the usage text. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "macro.h"

struct command {
	const char *name;
	const char *args;
	const char *help;
	int (*run)(int argc, char **argv);
};

static int cmd_check(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "pdynctl: check takes one FILE\n");
		return 2;
	}
	return check_config_print(argv[1], stdout, stderr);
}

static const struct command commands[] = {
	{"check", "FILE", "validate a config and its address files offline (as pdyndns --check)", cmd_check},
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: pdynctl [--version] [--help] COMMAND [ARGS]\n\nCommands:\n");
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		fprintf(f, "  %-6s %-6s %s\n", commands[i].name, commands[i].args, commands[i].help);
	fprintf(f, "\nExit status: 0 success, 1 the command failed, 2 usage error.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "+Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'V':
			printf("pdynctl %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			return commands[i].run(argc - optind, argv + optind);
	fprintf(stderr, "pdynctl: unknown command '%s'\n", argv[optind]);
	usage(stderr);
	return 2;
}
