/* Pre-started containers, refilled in the background, each used once. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "run.h"
#include "slots.h"

/* After a failed start, the next try waits this long, doubling up to max. */
#define POOL_BACKOFF_MS		1000
#define POOL_BACKOFF_MAX_MS	30000
/* The thread looks at the pool at least this often. */
#define POOL_TICK_MS		1000

struct pool_entry {
	char		      id[72];
	struct engine_stream *stream;	/* attached before the start */
	long long	      born;	/* when it was started, clock_ms() */
};

struct pool_function {
	struct pool_entry *ready;	/* oldest first */
	size_t		   n;
	size_t		   want;	/* the function's "prewarm" */
};

static struct {
	pthread_mutex_t		 lock;
	pthread_cond_t		 wake;
	pthread_t		 thread;
	int			 running;	/* the thread was started */
	int			 stopping;
	long			 total;		/* ready, all functions */
	const struct conf	*conf;
	const struct engine_config *ecfg;
	const char		*instance;
	struct pool_function	*fns;
} pool = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER
};

/* Removes a container the pool gave up on; the sweep takes what fails. */
static void
pool_discard(struct engine *e, size_t i, struct pool_entry *p,
    const char *why)
{
	struct run_request rq = { .fn = conf_function_at(pool.conf, i),
	    .conf = pool.conf, .request_id = "prewarm",
	    .instance = pool.instance, .client_fd = -1 };
	struct run_result res;

	engine_stream_close(p->stream);
	p->stream = NULL;
	run_result_init(&res);
	snprintf(res.container, sizeof(res.container), "%s", p->id);
	run_cleanup(e, &rq, &res);
	run_result_free(&res);
	log_debug("event=pool-remove function=%s container=%.12s reason=%s",
	    rq.fn->name, p->id, why);
}

/* Takes out one container past its idle time; returns its function or -1. */
static long
pool_take_expired(struct pool_entry *out)
{
	long long now = clock_ms();
	struct pool_function *f;
	size_t i, nf = pool.conf->nfunctions;

	for (i = 0; i < nf; i++) {
		f = &pool.fns[i];
		if (f->n == 0 || f->ready[0].born + pool.conf->prewarm_max_idle_ms >
		    now)
			continue;
		*out = f->ready[0];
		memmove(&f->ready[0], &f->ready[1], (f->n - 1) *
		    sizeof(f->ready[0]));
		f->n--;
		pool.total--;
		return (long)i;
	}
	return -1;
}

/*
 * Takes out one container whose stream has something to say: the gate
 * writes nothing before its request, so the container died or its
 * engine went away.  Returns its function, or -1.
 */
static long
pool_take_dead(struct pool_entry *out)
{
	struct engine_error err;
	struct pool_function *f;
	size_t i, j;

	for (i = 0; i < pool.conf->nfunctions; i++) {
		f = &pool.fns[i];
		for (j = 0; j < f->n; j++) {
			if (engine_stream_wait(f->ready[j].stream, 0, -1, 0,
			    &err) == 0)
				continue;
			*out = f->ready[j];
			memmove(&f->ready[j], &f->ready[j + 1],
			    (f->n - j - 1) * sizeof(f->ready[0]));
			f->n--;
			pool.total--;
			return (long)i;
		}
	}
	return -1;
}

/*
 * The function most short of its pool, or -1 when none is, or when the
 * engine may not take another container: the backpressure limit counts
 * the waiting containers with the running ones.
 */
static long
pool_neediest(void)
{
	size_t i, nf = pool.conf->nfunctions;
	long best = -1;
	double gap, best_gap = 0;

	if (slots_in_use() + pool.total >= pool.conf->max_running)
		return -1;
	for (i = 0; i < nf; i++) {
		if (pool.fns[i].n >= pool.fns[i].want)
			continue;
		gap = 1.0 - (double)pool.fns[i].n / (double)pool.fns[i].want;
		if (gap > best_gap) {
			best_gap = gap;
			best = (long)i;
		}
	}
	return best;
}

/* When the oldest waiting container comes of age, or a tick from now. */
static long long
pool_next_check(void)
{
	long long next = clock_ms() + POOL_TICK_MS, at;
	size_t i;

	for (i = 0; i < pool.conf->nfunctions; i++) {
		if (pool.fns[i].n == 0)
			continue;
		at = pool.fns[i].ready[0].born + pool.conf->prewarm_max_idle_ms;
		if (at < next)
			next = at;
	}
	return next;
}

static void
pool_sleep_until(long long when)
{
	long long ms = when - clock_ms();
	struct timespec ts;

	if (ms <= 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&pool.wake, &pool.lock, &ts);
}

/* Creates, attaches to and starts one container for function i; unlocked. */
static int
pool_fill(struct engine *e, size_t i, struct pool_entry *p)
{
	struct run_request rq = { .fn = conf_function_at(pool.conf, i),
	    .conf = pool.conf, .request_id = "prewarm",
	    .instance = pool.instance, .client_fd = -1, .prestart = 1 };
	struct run_result res;
	int rc;

	run_result_init(&res);
	rc = run_prestart(e, &rq, &res, &p->stream);
	if (rc == 0) {
		snprintf(p->id, sizeof(p->id), "%s", res.container);
	} else {
		log_warnx("event=pool-fail function=%s code=%s msg=\"%s\"",
		    rq.fn->name, reply_code_name(res.code), res.message);
		run_cleanup(e, &rq, &res);
	}
	run_result_free(&res);
	return rc;
}

/*
 * Removes one container that waited too long or died waiting; called and
 * returns locked.  Returns 1 when it removed one, else 0.
 */
static int
pool_prune(struct engine *e)
{
	struct pool_entry p;
	long i;

	i = pool_take_expired(&p);
	if (i >= 0) {
		pthread_mutex_unlock(&pool.lock);
		pool_discard(e, (size_t)i, &p, "idle");
		metrics_pool(METRICS_POOL_EXPIRED);
		pthread_mutex_lock(&pool.lock);
		return 1;
	}
	i = pool_take_dead(&p);
	if (i >= 0) {
		pthread_mutex_unlock(&pool.lock);
		log_warnx("event=pool-lost function=%s container=%.12s "
		    "msg=\"stopped while waiting; replaced\"",
		    conf_function_at(pool.conf, (size_t)i)->name, p.id);
		pool_discard(e, (size_t)i, &p, "died");
		pthread_mutex_lock(&pool.lock);
		return 1;
	}
	return 0;
}

static void *
pool_main(void *arg)
{
	struct engine *e = arg;
	struct pool_entry p;
	long long retry_at = 0;
	long backoff = POOL_BACKOFF_MS, i;
	size_t j;

	pthread_mutex_lock(&pool.lock);
	while (!pool.stopping) {
		if (pool_prune(e))
			continue;
		i = clock_ms() >= retry_at ? pool_neediest() : -1;
		if (i < 0) {
			pool_sleep_until(retry_at > clock_ms() &&
			    retry_at < pool_next_check() ? retry_at :
			    pool_next_check());
			continue;
		}
		pthread_mutex_unlock(&pool.lock);
		if (pool_fill(e, (size_t)i, &p) == -1) {
			pthread_mutex_lock(&pool.lock);
			retry_at = clock_ms() + backoff;
			backoff = backoff * 2 > POOL_BACKOFF_MAX_MS ?
			    POOL_BACKOFF_MAX_MS : backoff * 2;
			continue;
		}
		backoff = POOL_BACKOFF_MS;
		metrics_pool(METRICS_POOL_STARTED);
		pthread_mutex_lock(&pool.lock);
		if (pool.stopping) {
			pthread_mutex_unlock(&pool.lock);
			pool_discard(e, (size_t)i, &p, "stopping");
			pthread_mutex_lock(&pool.lock);
			break;
		}
		p.born = clock_ms();
		pool.fns[i].ready[pool.fns[i].n++] = p;
		pool.total++;
	}

	/* Stopping: what still waits goes now, not at the next sweep. */
	for (j = 0; j < pool.conf->nfunctions; j++) {
		while (pool.fns[j].n > 0) {
			p = pool.fns[j].ready[--pool.fns[j].n];
			pool.total--;
			pthread_mutex_unlock(&pool.lock);
			pool_discard(e, j, &p, "stopping");
			pthread_mutex_lock(&pool.lock);
		}
	}
	pthread_mutex_unlock(&pool.lock);
	engine_free(e);
	return NULL;
}

int
pool_start(const struct conf *c, const struct engine_config *ecfg,
    const char *instance)
{
	struct engine *e;
	size_t i, wanted = 0;

	for (i = 0; i < c->nfunctions; i++)
		wanted += (size_t)conf_function_at(c, i)->prewarm;
	if (wanted == 0)
		return 0;
	pool.fns = calloc(c->nfunctions, sizeof(*pool.fns));
	if (pool.fns == NULL)
		return -1;
	for (i = 0; i < c->nfunctions; i++) {
		pool.fns[i].want = (size_t)conf_function_at(c, i)->prewarm;
		pool.fns[i].ready = calloc(pool.fns[i].want + 1,
		    sizeof(*pool.fns[i].ready));
		if (pool.fns[i].ready == NULL)
			goto fail;
	}
	pool.conf = c;
	pool.ecfg = ecfg;
	pool.instance = instance;
	e = engine_new(ecfg);
	if (e == NULL)
		goto fail;
	if (pthread_create(&pool.thread, NULL, pool_main, e) != 0) {
		engine_free(e);
		goto fail;
	}
	pthread_mutex_lock(&pool.lock);
	pool.running = 1;
	pthread_mutex_unlock(&pool.lock);
	log_info("pool: keeping %zu containers started", wanted);
	return 0;
fail:
	for (i = 0; i < c->nfunctions; i++)
		free(pool.fns[i].ready);
	free(pool.fns);
	pool.fns = NULL;
	return -1;
}

int
pool_take(size_t i, char *id, size_t len, struct engine_stream **stream)
{
	struct pool_function *f;
	int rc = -1;

	pthread_mutex_lock(&pool.lock);
	if (pool.running && !pool.stopping && pool.fns[i].n > 0) {
		f = &pool.fns[i];
		snprintf(id, len, "%s", f->ready[0].id);
		*stream = f->ready[0].stream;
		memmove(&f->ready[0], &f->ready[1], (f->n - 1) *
		    sizeof(f->ready[0]));
		f->n--;
		pool.total--;
		rc = 0;
		pthread_cond_signal(&pool.wake);
	}
	pthread_mutex_unlock(&pool.lock);
	metrics_pool(rc == 0 ? METRICS_POOL_HIT : METRICS_POOL_MISS);
	return rc;
}

long
pool_ready(void)
{
	long n;

	pthread_mutex_lock(&pool.lock);
	n = pool.total;
	pthread_mutex_unlock(&pool.lock);
	return n;
}

int
pool_enabled(void)
{
	int on;

	pthread_mutex_lock(&pool.lock);
	on = pool.running && !pool.stopping;
	pthread_mutex_unlock(&pool.lock);
	return on;
}

void
pool_stop(void)
{
	size_t i;

	if (!pool.running)
		return;
	pthread_mutex_lock(&pool.lock);
	pool.stopping = 1;
	pthread_cond_signal(&pool.wake);
	pthread_mutex_unlock(&pool.lock);
	pthread_join(pool.thread, NULL);
	pthread_mutex_lock(&pool.lock);
	pool.running = 0;
	pthread_mutex_unlock(&pool.lock);
	for (i = 0; i < pool.conf->nfunctions; i++)
		free(pool.fns[i].ready);
	free(pool.fns);
	pool.fns = NULL;
}
