/* Diagnostics for operators: one line per event, on stderr or syslog. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static enum log_level	log_level = LOG_LEVEL_INFO;
static int		log_to_syslog;

void
log_init(enum log_level level, int use_syslog)
{
	log_level = level;
	log_to_syslog = use_syslog;
	if (use_syslog)
		openlog("cloudfunc-fcgi", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int
log_enabled(enum log_level level)
{
	return level <= log_level;
}

/*
 * Builds the whole line first and writes it with one call, so that lines
 * from concurrent workers never interleave.
 */
static void
log_vwrite(enum log_level level, const char *suffix, const char *fmt,
    va_list ap)
{
	static const char *const names[] = { "error", "info", "debug" };
	static const int priorities[] = { LOG_ERR, LOG_INFO, LOG_DEBUG };
	char msg[2048], stamp[32];
	struct tm tm;
	time_t now;

	if (!log_enabled(level))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);

	if (log_to_syslog) {
		syslog(priorities[level], "%s%s%s", msg, suffix ? ": " : "",
		    suffix ? suffix : "");
		return;
	}

	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s cloudfunc-fcgi %s: %s%s%s\n", stamp, names[level],
	    msg, suffix ? ": " : "", suffix ? suffix : "");
}

void
log_warn(const char *fmt, ...)
{
	char reason[256];
	int saved = errno;
	va_list ap;

	if (strerror_r(saved, reason, sizeof(reason)) != 0)
		snprintf(reason, sizeof(reason), "error %d", saved);
	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, reason, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, NULL, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_INFO, NULL, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_DEBUG, NULL, fmt, ap);
	va_end(ap);
}

void
log_fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
