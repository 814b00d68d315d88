/* The FastCGI side: worker threads that accept, route and answer requests. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fcgiapp.h>

#include "clock.h"
#include "engine.h"
#include "log.h"
#include "pool.h"
#include "request.h"
#include "server.h"
#include "slots.h"
#include "sweep.h"

#define SERVER_BACKLOG		128
#define SERVER_STACK_SIZE	(512 * 1024)
/* How often the main thread looks at workers, signals and sweeps. */
#define SERVER_TICK_MS		250
/* How soon a failed removal is tried again. */
#define SERVER_RETRY_SWEEP_MS	2000

/* Set once, by the main thread: stop taking requests; cut runs short. */
static atomic_int	server_stopping;
static atomic_int	server_cancel;

enum worker_state {
	WORKER_ACCEPTING,	/* waiting in accept: a signal may wake it */
	WORKER_SERVING,
	WORKER_DONE
};

struct worker {
	const struct server_config *sc;
	struct request_context	 ctx;
	struct engine_config	 ecfg;
	struct engine		*engine;
	pthread_t		 thread;
	int			 started;
	atomic_int		 state;
};

int
server_listen(const char *address, char *err, size_t errlen)
{
	int fd;

	if (FCGX_Init() != 0) {
		snprintf(err, errlen, "cannot initialise libfcgi");
		return -1;
	}
	if (address == NULL) {
		if (FCGX_IsCGI()) {
			snprintf(err, errlen, "standard input is not a FastCGI "
			    "listening socket: give -s PATH or -b HOST:PORT, "
			    "or start under spawn-fcgi");
			return -1;
		}
		return 0;
	}
	fd = FCGX_OpenSocket(address, SERVER_BACKLOG);
	if (fd < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", address,
		    strerror(errno));
		return -1;
	}
	return fd;
}

static void *
server_worker(void *arg)
{
	struct worker *w = arg;
	FCGX_Request req;

	if (FCGX_InitRequest(&req, w->sc->listen_fd, 0) != 0) {
		log_warnx("worker cannot initialise its FastCGI request");
		atomic_store(&w->state, WORKER_DONE);
		return NULL;
	}
	while (!atomic_load(&server_stopping)) {
		atomic_store(&w->state, WORKER_ACCEPTING);
		if (FCGX_Accept_r(&req) < 0)
			break;
		atomic_store(&w->state, WORKER_SERVING);
		request_serve(&w->ctx, w->engine, &req);
	}
	FCGX_Free(&req, 1);
	atomic_store(&w->state, WORKER_DONE);
	return NULL;
}

static void
server_free_workers(struct worker *workers, int n)
{
	int i;

	for (i = 0; i < n; i++)
		engine_free(workers[i].engine);
	free(workers);
}

void
server_engine_config(const struct conf *c, struct engine_config *ecfg)
{
	ecfg->base_url = c->engine_url;
	ecfg->socket_path = c->socket_path;
	ecfg->tls_ca = c->tls_ca;
	ecfg->tls_cert = c->tls_cert;
	ecfg->tls_key = c->tls_key;
	ecfg->timeout_ms = c->engine_timeout_ms;
	ecfg->connect_timeout_ms = c->connect_timeout_ms;
}

static int
server_start_worker(const struct server_config *sc, struct worker *w, int i,
    const pthread_attr_t *attr)
{
	int rc;

	w->sc = sc;
	w->ctx.conf = sc->conf;
	w->ctx.instance = sc->instance;
	w->ctx.stopping = &server_stopping;
	w->ctx.cancel = &server_cancel;
	server_engine_config(sc->conf, &w->ecfg);
	w->engine = engine_new(&w->ecfg);
	if (w->engine == NULL) {
		log_warnx("worker %d: cannot create its engine client", i);
		return -1;
	}
	atomic_store(&w->state, WORKER_ACCEPTING);
	rc = pthread_create(&w->thread, attr, server_worker, w);
	if (rc != 0) {
		atomic_store(&w->state, WORKER_DONE);
		errno = rc;
		log_warn("worker %d: cannot start its thread", i);
		return -1;
	}
	w->started = 1;
	return 0;
}

/* Interrupts accept; does nothing else, and restarts no call. */
static void
server_wake(int sig)
{
	(void)sig;
}

/*
 * Counts the workers that still run; with wake set, interrupts those
 * blocked in accept (only when stopping: a signal that lands while a
 * worker reads a request makes libfcgi drop it).
 */
static int
server_live_workers(struct worker *workers, int n, int wake)
{
	int i, alive = 0;

	for (i = 0; i < n; i++) {
		if (!workers[i].started ||
		    atomic_load(&workers[i].state) == WORKER_DONE)
			continue;
		alive++;
		if (wake && atomic_load(&workers[i].state) == WORKER_ACCEPTING)
			pthread_kill(workers[i].thread, SIGUSR1);
	}
	return alive;
}

/* Sweeps for orphans when one is due: on schedule, or removals wait. */
static void
server_maybe_sweep(struct engine *e, const struct conf *c,
    long long *next_ms)
{
	long long now = clock_ms();
	int removed;

	if (now < *next_ms && !(sweep_pending() > 0 &&
	    now + c->sweep_interval_ms - *next_ms >= SERVER_RETRY_SWEEP_MS))
		return;
	removed = sweep_run(e, 0);
	if (removed > 0)
		log_info("sweep: %d orphaned containers removed", removed);
	*next_ms = clock_ms() + c->sweep_interval_ms;
}

/*
 * Serves until SIGTERM or SIGINT (spawn-fcgi, lighttpd and systemd stop
 * us with them) or until every worker stopped on its own, sweeping for
 * orphans meanwhile.  Returns the signal, or 0.
 */
static int
server_wait_for_stop(const sigset_t *stop, struct worker *workers, int n,
    struct engine *e, const struct conf *c)
{
	struct timespec tick = { 0, SERVER_TICK_MS * 1000000L };
	long long next_sweep = 0;
	int sig;

	for (;;) {
		if (e != NULL)
			server_maybe_sweep(e, c, &next_sweep);
		sig = sigtimedwait(stop, NULL, &tick);
		if (sig > 0)
			return sig;
		if (server_live_workers(workers, n, 0) == 0)
			return 0;
	}
}

/*
 * Lets the requests in progress finish within the grace period, then cuts
 * the rest short; returns when every worker has stopped.
 */
static void
server_drain(struct worker *workers, int n, long grace_ms)
{
	struct timespec pause = { 0, 50 * 1000000L };
	long long cut = clock_ms() + grace_ms;

	atomic_store(&server_stopping, 1);
	slots_close();
	FCGX_ShutdownPending();
	while (server_live_workers(workers, n, 1) > 0) {
		if (!atomic_load(&server_cancel) && clock_ms() >= cut) {
			log_warnx("grace period of %ld ms over: cutting the "
			    "remaining runs short", grace_ms);
			atomic_store(&server_cancel, 1);
		}
		nanosleep(&pause, NULL);
	}
}

/* Removes whatever this instance still owns; nothing of it runs now. */
static void
server_final_sweep(struct engine *e)
{
	int removed, i;

	for (i = 0; e != NULL && i < 3; i++) {
		removed = sweep_run(e, 1);
		if (removed >= 0) {
			if (removed > 0)
				log_info("stop: %d containers removed", removed);
			return;
		}
	}
	log_warnx("stop: the engine could not be swept; a later instance "
	    "will remove what this one left");
}

static int
server_signals(sigset_t *stop)
{
	struct sigaction sa;

	/* Only the main thread takes the stop signals; workers inherit this. */
	sigemptyset(stop);
	sigaddset(stop, SIGTERM);
	sigaddset(stop, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, stop, NULL) != 0)
		return -1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = server_wake;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGUSR1, &sa, NULL);
}

int
server_run(const struct server_config *sc)
{
	struct engine_config ecfg;
	struct worker *workers;
	struct engine *sweeper;
	pthread_attr_t attr;
	sigset_t stop;
	int i, started = 0, sig;

	if (server_signals(&stop) == -1) {
		log_warn("cannot set up signal handling");
		return -1;
	}
	server_engine_config(sc->conf, &ecfg);
	sweeper = engine_new(&ecfg);
	if (sweeper == NULL)
		log_warnx("no engine client for sweeps; orphans stay");
	workers = calloc((size_t)sc->threads, sizeof(*workers));
	if (workers == NULL) {
		log_warn("cannot allocate %d workers", sc->threads);
		engine_free(sweeper);
		return -1;
	}
	/* A worker's deepest frames are a few KiB: the default 8 MiB is waste. */
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, SERVER_STACK_SIZE);
	for (i = 0; i < sc->threads; i++)
		if (server_start_worker(sc, &workers[i], i, &attr) == 0)
			started++;
	pthread_attr_destroy(&attr);
	if (started == 0) {
		server_free_workers(workers, sc->threads);
		engine_free(sweeper);
		return -1;
	}
	log_info("serving with %d workers, engine %s, instance %s", started,
	    sc->conf->engine, sc->instance);
	if (pool_start(sc->conf, &ecfg, sc->instance) == -1)
		log_warnx("pool: cannot start; every run starts cold");

	sig = server_wait_for_stop(&stop, workers, sc->threads, sweeper,
	    sc->conf);
	if (sig > 0)
		log_info("signal %d: finishing the requests in progress "
		    "(grace %ld ms)", sig, sc->conf->stop_grace_ms);
	else
		log_warnx("every worker stopped; exiting");
	server_drain(workers, sc->threads, sc->conf->stop_grace_ms);
	for (i = 0; i < sc->threads; i++)
		if (workers[i].started)
			pthread_join(workers[i].thread, NULL);
	pool_stop();
	server_final_sweep(sweeper);

	server_free_workers(workers, sc->threads);
	engine_free(sweeper);
	log_info("stopped");
	return sig > 0 ? 0 : -1;
}
