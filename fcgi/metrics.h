/* Counters for operators, written in the Prometheus text format. */
#ifndef CLOUDFUNC_METRICS_H
#define CLOUDFUNC_METRICS_H

#include <stddef.h>

#include "buf.h"
#include "conf.h"
#include "engine.h"

enum metrics_phase {
	METRICS_CREATE,
	METRICS_START,
	METRICS_RUN,
	METRICS_REMOVE,
	METRICS_PHASES
};

/*
 * Prepares the counters for the configured functions.  Returns 0, or -1
 * without memory.  Call once, before any thread starts.
 */
int	metrics_init(const struct conf *c);
void	metrics_free(void);

/* A request answered: fn is NULL for requests that named no function. */
void	metrics_request(const struct conf_function *fn, int status);

/* Requests being served now, up or down by one. */
void	metrics_in_flight(int delta);

/* How long one phase of a run took. */
void	metrics_phase(enum metrics_phase phase, long ms);

/* What became of the pre-started containers. */
enum metrics_pool {
	METRICS_POOL_HIT,	/* a request found one ready */
	METRICS_POOL_MISS,	/* a request of a pooled function found none */
	METRICS_POOL_STARTED,
	METRICS_POOL_EXPIRED,	/* replaced after waiting too long */
	METRICS_POOL_EVENTS
};

void	metrics_pool(enum metrics_pool what);
void	metrics_swept(int n);
void	metrics_removal_retry(void);
void	metrics_engine_error(enum engine_fault kind);

/*
 * Appends every metric to out in the text exposition format, with
 * running, the containers running now.  Returns 0 or -1 without memory.
 */
int	metrics_write(struct buf *out, long running);

#endif
