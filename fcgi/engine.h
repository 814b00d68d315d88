/* A client for the Docker Engine API, over a Unix socket or TLS: libcurl. */
#ifndef CLOUDFUNC_ENGINE_H
#define CLOUDFUNC_ENGINE_H

#include <stddef.h>

#include "buf.h"

/* The newest API version this program speaks; older engines get theirs. */
#define ENGINE_API_VERSION	"1.41"
#define ENGINE_API_MINIMUM	"1.25"

enum engine_fault {
	ENGINE_FAULT_NONE,
	ENGINE_FAULT_UNAVAILABLE,	/* nothing listening, refused, dropped */
	ENGINE_FAULT_TIMEOUT,		/* the call passed its time limit */
	ENGINE_FAULT_PROTOCOL,		/* a reply that makes no sense */
	ENGINE_FAULT_INTERNAL		/* our side: memory, libcurl set-up */
};

struct engine_error {
	enum engine_fault kind;
	char		  message[512];
};

struct engine_config {
	const char	*base_url;	/* http://docker, https://host:port */
	const char	*socket_path;	/* NULL over TCP */
	const char	*tls_ca;	/* NULL without TLS */
	const char	*tls_cert;
	const char	*tls_key;
	long		 timeout_ms;		/* default limit of one call */
	long		 connect_timeout_ms;
};

/* One worker's client: it owns a keep-alive connection and a reply buffer. */
struct engine;

/*
 * Global set-up, once before any thread starts: libcurl's initialisation.
 * Returns 0 or -1.
 */
int	engine_global_init(void);
void	engine_global_cleanup(void);

/*
 * A client for one thread; cfg must outlive it.  Returns NULL when memory
 * or libcurl fails.  Free with engine_free().
 */
struct engine *engine_new(const struct engine_config *cfg);
void	engine_free(struct engine *e);

/*
 * Sends one API call: method, a path below the version prefix (such as
 * "/containers/create"), and a JSON body or NULL.  timeout_ms of 0 takes the
 * configured limit.  Returns the HTTP status, whatever it is, and keeps the
 * reply body for engine_body(); returns -1 with err filled when no answer
 * came.
 */
int	engine_call(struct engine *e, const char *method, const char *path,
	    const char *json, long timeout_ms, struct engine_error *err);

/*
 * engine_call with one more request header ("Name: value"), or NULL.  The
 * header is not kept after the call.
 */
int	engine_call_header(struct engine *e, const char *method,
	    const char *path, const char *json, const char *header,
	    long timeout_ms, struct engine_error *err);

/* The body of the last reply, NUL-terminated; valid until the next call. */
const struct buf *engine_body(const struct engine *e);

/*
 * The engine's own words from the last error reply ({"message": ...}), or
 * the start of the body when it is not in that form.  Never NULL.
 */
const char *engine_message(struct engine *e);

/* The API version in use ("1.41"), or "" before the engine first answered. */
const char *engine_version(const struct engine *e);

/*
 * Asks /_ping for the engine's API version, once per process unless
 * force is set.  Returns 0 or -1 with err filled.
 */
int	engine_ping(struct engine *e, int force, struct engine_error *err);

/*
 * A hijacked connection for a container's attach stream.  The engine
 * switches protocols on it, after which it carries the raw stream.
 */
struct engine_stream;

/*
 * Opens the attach stream at path (below the version prefix) and waits
 * for the engine to accept it, so that nothing the container writes after
 * this returns is lost.  Returns a stream to close with
 * engine_stream_close(), or NULL with err filled.
 */
struct engine_stream *engine_attach(struct engine *e, const char *path,
	    struct engine_error *err);

#define ENGINE_STREAM_READABLE	1
#define ENGINE_STREAM_WRITABLE	2
#define ENGINE_STREAM_WATCHED	4
#define ENGINE_STREAM_AGAIN	(-2)

/*
 * Waits until the stream has something to read or, with want_write, room
 * to write, or until watch_fd (when not -1) is readable or closed, at most
 * timeout_ms.  Returns a mask of ENGINE_STREAM_READABLE,
 * ENGINE_STREAM_WRITABLE and ENGINE_STREAM_WATCHED, 0 when the time
 * passed, or -1 with err.
 */
int	engine_stream_wait(struct engine_stream *s, int want_write,
	    int watch_fd, long timeout_ms, struct engine_error *err);

/*
 * Reads what the stream has, without waiting.  Returns the number of bytes
 * read, 0 at the end of the stream, ENGINE_STREAM_AGAIN when nothing is
 * there yet, or -1 with err filled.
 */
long	engine_stream_read(struct engine_stream *s, char *data, size_t len,
	    struct engine_error *err);

/*
 * Writes what the connection takes now, without waiting.  Returns the
 * number of bytes written (0 when it is full), or -1 with err filled.
 */
long	engine_stream_write(struct engine_stream *s, const char *data,
	    size_t len, struct engine_error *err);

/* Ends the container's stdin; it reads end of file.  Returns 0 or -1. */
int	engine_stream_close_write(struct engine_stream *s,
	    struct engine_error *err);

void	engine_stream_close(struct engine_stream *s);

#endif
