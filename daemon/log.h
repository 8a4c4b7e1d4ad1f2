/* SPDX-License-Identifier: MIT */
/* Logging for the daemon: one line per message on stderr ("pdyndns[PID]: LEVEL: text").
 * stdout is the pipe protocol and never carries logs. When stderr is the journal's stream
 * (JOURNAL_STREAM names it, as systemd sets it for a service), each message goes to the
 * journal as a record of its own instead, with PRIORITY, PDYNDNS_GENERATION, and the
 * fields the caller passes with log_at()/log_diag(): PDYNDNS_FILE, PDYNDNS_LINE and
 * PDYNDNS_HANDLER ("NAME TYPE"). Fields and message arrive whole, whatever their length
 * or bytes (a newline included). */
#pragma once

#include <stdarg.h>
#include <syslog.h>

#include "diag.h"
#include "macro.h"

/* Logging never waits for whoever reads stderr: a pipe is written through a non-blocking
 * descriptor of its own, a socket with MSG_DONTWAIT, and a line that does not fit is
 * dropped and counted. Call once at start. */
void log_init(void);
/* Lines dropped because stderr was full (or gone). */
unsigned long long log_dropped(void);

void log_set_level(int level);
/* The snapshot generation that journal records carry. */
void log_set_generation(unsigned long long generation);
int log_get_level(void);
void log_msg(int level, const char *fmt, ...) _printf_(2, 3);
/* A message about what at says (NULL: nothing); the fields go to the journal only, stderr
 * shows the text alone. */
void log_at(int level, const struct diag_at *at, const char *fmt, ...) _printf_(3, 4);
void log_atv(int level, const struct diag_at *at, const char *fmt, va_list ap) _printf_(3, 0);
/* Every kept message of d at level, each with what it is about. */
void log_diag(int level, const struct diag *d);

#define log_error(...)	 log_msg(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...)	 log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	 log_msg(LOG_DEBUG, __VA_ARGS__)
