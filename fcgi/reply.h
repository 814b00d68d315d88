/* What the client receives: result codes, HTTP statuses and JSON bodies. */
#ifndef CLOUDFUNC_REPLY_H
#define CLOUDFUNC_REPLY_H

#include <stddef.h>

#include "buf.h"

/*
 * Every outcome of a request; each has a stable name and an HTTP status.
 * A 503 always means the function did not start for this request, so a
 * front-end may retry it elsewhere.
 */
enum reply_code {
	REPLY_OK,
	REPLY_NOT_FOUND,
	REPLY_METHOD_NOT_ALLOWED,
	REPLY_REQUEST_TIMEOUT,
	REPLY_BODY_TOO_LARGE,
	REPLY_FUNCTION_FAILED,
	REPLY_OUT_OF_MEMORY,
	REPLY_TIMEOUT,
	REPLY_IMAGE_NOT_FOUND,
	REPLY_IMAGE_PULL_FAILED,
	REPLY_ENGINE_ERROR,
	REPLY_ENGINE_UNAVAILABLE,
	REPLY_ENGINE_LOST,
	REPLY_INTERRUPTED,
	REPLY_BUSY,
	REPLY_SHUTTING_DOWN,
	REPLY_CLIENT_GONE,
	REPLY_INTERNAL
};

/* The HTTP status for a code, e.g. 503 for REPLY_ENGINE_UNAVAILABLE. */
int	reply_status(enum reply_code code);

/* The stable name clients match on, e.g. "engine_unavailable". */
const char *reply_code_name(enum reply_code code);

/* The reason phrase for an HTTP status, e.g. "Bad Gateway". */
const char *reply_reason(int status);

/* What a run produced, for replies that carry it. */
struct reply_output {
	const char	*stdout_data;
	size_t		 stdout_len;
	const char	*stderr_data;
	size_t		 stderr_len;
	int		 exit_code;	/* -1 when unknown */
	long		 duration_ms;
	int		 truncated;	/* stdout was cut at its cap */
	int		 detail;	/* add stderr, duration, truncation */
};

/*
 * The body for a successful run: {"success":true,"output":"..."}, and with
 * out->detail also stderr, exit_code, duration_ms and truncated.  Returns a
 * string the caller frees, or NULL when memory runs out.
 */
char	*reply_success(const struct reply_output *out);

/*
 * The body for a failure: {"success":false,"code":...,"error":...}, with
 * what the run produced when out is not NULL.  Returns a string the caller
 * frees, or NULL when memory runs out.
 */
char	*reply_error(enum reply_code code, const char *message,
	    const struct reply_output *out);

/*
 * The body listing function names: {"success":true,"functions":[...]}.
 * Returns a string the caller frees, or NULL when memory runs out.
 */
char	*reply_names(const char *const *names, size_t n);

/*
 * The body of a healthy answer: {"success":true,"engine":{"api_version":
 * ...},"instance":...,"containers_running":N,"pool":{"enabled":...,
 * "ready":N}}, with pool_ready -1 when no function keeps a pool.  Returns
 * a string the caller frees, or NULL when memory runs out.
 */
char	*reply_health(const char *api_version, const char *instance,
	    long running, long pool_ready);

/*
 * Appends data to dst as valid UTF-8, each invalid byte replaced by U+FFFD,
 * so that any output can travel in a JSON string.  Returns 0 or -1 without
 * memory.
 */
int	reply_utf8(struct buf *dst, const char *data, size_t len);

/* The length of data without its trailing newlines, as $(...) trims them. */
size_t	reply_trim_newlines(const char *data, size_t len);

#endif
