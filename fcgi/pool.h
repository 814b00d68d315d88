/*
 * Pre-started containers: each waits at its gate for one request, and is
 * removed after it, never reused.  Creating and starting a container is
 * most of the cost of a run; the pool pays it before the request comes.
 */
#ifndef CLOUDFUNC_POOL_H
#define CLOUDFUNC_POOL_H

#include <stddef.h>

#include "conf.h"
#include "engine.h"

/*
 * Starts the thread that keeps every function's "prewarm" containers
 * ready, with a client of its own to the engine; c and ecfg must outlive
 * the pool.  Returns 0, or -1 when the thread cannot start (requests then
 * take the cold path).  Does nothing when no function asks for a pool.
 */
int	pool_start(const struct conf *c, const struct engine_config *ecfg,
	    const char *instance);

/*
 * Takes a ready container of function i: 0 with its id in id and its
 * attach stream in *stream, or -1 when none is ready.  The container and
 * the stream are the caller's from then on.
 */
int	pool_take(size_t i, char *id, size_t len,
	    struct engine_stream **stream);

/* Containers waiting now, in all. */
long	pool_ready(void);

/* Whether some function keeps a pool and its thread runs. */
int	pool_enabled(void);

/* Stops refilling and removes every container still waiting. */
void	pool_stop(void);

#endif
