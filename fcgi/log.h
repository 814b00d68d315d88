/* Diagnostics for operators: one line per event, on stderr or syslog. */
#ifndef CLOUDFUNC_LOG_H
#define CLOUDFUNC_LOG_H

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG
};

/*
 * Sets the lowest level that is written and where lines go.  With
 * use_syslog non-zero, lines go to syslog under the name "cloudfunc-fcgi";
 * otherwise to stderr, which the front-end or spawn-fcgi collects.  Safe to
 * call once, before any thread starts.
 */
void	log_init(enum log_level level, int use_syslog);

/* Whether lines of this level are written, to skip building costly ones. */
int	log_enabled(enum log_level level);

/* A failure, followed by ": " and the text of the current errno. */
void	log_warn(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* A failure whose cause is already in the message. */
void	log_warnx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* Start-up failures only: writes the line and exits with status 1. */
void	log_fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
