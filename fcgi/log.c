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

/* Copies src into dst as the inside of a logfmt quoted value. */
static void
log_escape(char *dst, size_t len, const char *src)
{
	size_t o = 0;

	for (; *src != '\0' && o + 2 < len; src++) {
		if (*src == '"' || *src == '\\')
			dst[o++] = '\\';
		dst[o++] = (unsigned char)*src < 0x20 ? ' ' : *src;
	}
	dst[o] = '\0';
}

/*
 * Builds the whole line first and writes it with one call, so that lines
 * from concurrent workers never interleave.  Lines are logfmt: a message
 * that starts with "event=" is already key=value pairs; any other becomes
 * msg="...".
 */
static void
log_vwrite(enum log_level level, const char *reason, const char *fmt,
    va_list ap)
{
	static const char *const names[] = { "error", "info", "debug" };
	static const int priorities[] = { LOG_ERR, LOG_INFO, LOG_DEBUG };
	char msg[2048], body[4400], why[600] = "", stamp[32];
	struct tm tm;
	time_t now;

	if (!log_enabled(level))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (strncmp(msg, "event=", 6) == 0) {
		snprintf(body, sizeof(body), "%s", msg);
	} else {
		char quoted[4200];

		log_escape(quoted, sizeof(quoted), msg);
		snprintf(body, sizeof(body), "msg=\"%s\"", quoted);
	}
	if (reason != NULL) {
		char quoted[520];

		log_escape(quoted, sizeof(quoted), reason);
		snprintf(why, sizeof(why), " error=\"%s\"", quoted);
	}

	if (log_to_syslog) {
		syslog(priorities[level], "level=%s %s%s", names[level], body,
		    why);
		return;
	}
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "ts=%s level=%s %s%s\n", stamp, names[level], body,
	    why);
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
