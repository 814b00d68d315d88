/* One FastCGI request: read it, route it, run it, answer it, log it. */
#ifndef CLOUDFUNC_REQUEST_H
#define CLOUDFUNC_REQUEST_H

#include <stdatomic.h>

#include <fcgiapp.h>

#include "conf.h"
#include "engine.h"

/* What every request of a process shares; read-only while serving. */
struct request_context {
	const struct conf	*conf;
	const char		*instance;	/* this process, on labels */
	const atomic_int	*stopping;	/* set: take no new runs */
	const atomic_int	*cancel;	/* set: cut runs short */
};

/*
 * Answers one accepted request and finishes it (FCGX_Finish_r), using the
 * calling worker's engine client.  Every request gets an answer (a JSON
 * error when anything fails) and one log line; the container it made is
 * removed after the answer, before this returns.
 */
void	request_serve(const struct request_context *ctx, struct engine *e,
	    FCGX_Request *req);

#endif
