/* One function run: create, attach, start, feed stdin, read, wait, remove. */
#ifndef CLOUDFUNC_RUN_H
#define CLOUDFUNC_RUN_H

#include <stdatomic.h>

#include "buf.h"
#include "conf.h"
#include "engine.h"
#include "reply.h"

/* Labels put on every container, so that each can be traced and swept. */
#define RUN_LABEL_OWNER		"cloudfunc.owner"
#define RUN_LABEL_INSTANCE	"cloudfunc.instance"
#define RUN_LABEL_FUNCTION	"cloudfunc.function"
#define RUN_LABEL_REQUEST	"cloudfunc.request"
#define RUN_LABEL_HOST		"cloudfunc.host"
/* Unix time after which no live request can still need the container. */
#define RUN_LABEL_DEADLINE	"cloudfunc.deadline"

struct run_request {
	const struct conf_function *fn;
	const struct conf *conf;
	const char	*request_id;
	const char	*instance;	/* this responder process */
	const char *const *env;		/* "K=V" of the request, or NULL */
	const char	*stdin_data;	/* the request body */
	size_t		 stdin_len;
	int		 client_fd;	/* watched: the client going away */
	const atomic_int *cancel;	/* set: stop now, answer 503 */
	const char	*warm;		/* a pre-started container, or NULL */
	struct engine_stream *warm_stream;	/* its attach, closed by the run */
	int		 prestart;	/* made for the pool, to wait */
};

struct run_result {
	enum reply_code	 code;
	char		 message[600];	/* why, when code is not REPLY_OK */
	char		 container[72];	/* id, or "" when none was made */
	struct buf	 out;		/* stdout, up to the function's cap */
	struct buf	 err;		/* stderr, up to the same cap */
	int		 exit_code;	/* -1 until known */
	int		 removed;	/* the container is known to be gone */
	int		 pulled;	/* the image was pulled for this run */
	int		 client_gone;	/* the run was cut short for it */
	int		 warm;		/* a pre-started container ran it */
	long		 ms_create, ms_start, ms_run, ms_remove, ms_total;
};

/* Prepares a result to receive one run; free with run_result_free(). */
void	run_result_init(struct run_result *res);
void	run_result_free(struct run_result *res);

/*
 * Runs rq->fn once in a new container, or in rq->warm when that is set
 * and still waits at its gate (rq->warm_stream is closed either way).
 * Returns 0 when the run finished with status 0, else -1; either way res
 * says what happened, with its code, message and output.  Output cut at
 * the function's cap (res->out.truncated) counts as finished.  The
 * container outlives the call, so that the client can be answered first:
 * run_cleanup() must follow on every path.
 */
int	run_function(struct engine *e, const struct run_request *rq,
	    struct run_result *res);

/*
 * Creates, attaches to and starts a container for rq->fn whose gate waits
 * for a request: a later run_function() with rq->warm and
 * rq->warm_stream set to the container and *stream releases it.  Returns
 * 0 with res->container and *stream set, or -1 with res saying why;
 * run_cleanup() must follow a failure.
 */
int	run_prestart(struct engine *e, const struct run_request *rq,
	    struct run_result *res, struct engine_stream **stream);

/*
 * Removes the container of a run, killing it if it still runs; a removal
 * that keeps failing is left to the sweep.  Does nothing when no container
 * was made or it is gone already.
 */
void	run_cleanup(struct engine *e, const struct run_request *rq,
	    struct run_result *res);

#endif
