/* The FastCGI side: worker threads that accept, route and answer requests. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <fcgiapp.h>

#include "engine.h"
#include "log.h"
#include "request.h"
#include "server.h"

#define SERVER_BACKLOG		128

/* Workers still in their accept loop; the main thread watches it. */
static atomic_int	workers_alive;

struct worker {
	const struct server_config *sc;
	struct request_context	 ctx;
	struct engine_config	 ecfg;
	struct engine		*engine;
	pthread_t		 thread;
	int			 started;
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
		atomic_fetch_sub(&workers_alive, 1);
		return NULL;
	}
	while (FCGX_Accept_r(&req) >= 0) {
		request_serve(&w->ctx, w->engine, &req);
		FCGX_Finish_r(&req);
	}
	FCGX_Free(&req, 1);
	atomic_fetch_sub(&workers_alive, 1);
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

static int
server_start_worker(const struct server_config *sc, struct worker *w, int i)
{
	int rc;

	w->sc = sc;
	w->ctx.conf = sc->conf;
	w->ctx.instance = sc->instance;
	w->ecfg.socket_path = sc->conf->socket_path;
	w->ecfg.timeout_ms = sc->conf->engine_timeout_ms;
	w->ecfg.connect_timeout_ms = sc->conf->connect_timeout_ms;
	w->engine = engine_new(&w->ecfg);
	if (w->engine == NULL) {
		log_warnx("worker %d: cannot create its engine client", i);
		return -1;
	}
	atomic_fetch_add(&workers_alive, 1);
	rc = pthread_create(&w->thread, NULL, server_worker, w);
	if (rc != 0) {
		atomic_fetch_sub(&workers_alive, 1);
		errno = rc;
		log_warn("worker %d: cannot start its thread", i);
		return -1;
	}
	w->started = 1;
	return 0;
}

/*
 * Waits for SIGTERM or SIGINT (spawn-fcgi, lighttpd and systemd stop us
 * with them), or for every worker to have stopped on its own.
 */
static int
server_wait_for_stop(const sigset_t *stop)
{
	struct timespec tick = { 1, 0 };
	int sig;

	while (atomic_load(&workers_alive) > 0) {
		sig = sigtimedwait(stop, NULL, &tick);
		if (sig > 0)
			return sig;
	}
	return 0;
}

int
server_run(const struct server_config *sc)
{
	struct worker *workers;
	sigset_t stop;
	int i, started = 0, sig;

	/* Only the main thread takes the stop signals; workers inherit this. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);

	workers = calloc((size_t)sc->threads, sizeof(*workers));
	if (workers == NULL) {
		log_warn("cannot allocate %d workers", sc->threads);
		return -1;
	}
	for (i = 0; i < sc->threads; i++)
		if (server_start_worker(sc, &workers[i], i) == 0)
			started++;
	if (started == 0) {
		server_free_workers(workers, sc->threads);
		return -1;
	}
	log_info("serving with %d workers, engine %s, instance %s", started,
	    sc->conf->engine, sc->instance);

	sig = server_wait_for_stop(&stop);
	if (sig > 0)
		log_info("signal %d: finishing the requests in progress", sig);
	else
		log_warnx("every worker stopped; exiting");

	/* Wakes workers blocked in accept; those mid-request finish first. */
	FCGX_ShutdownPending();
	shutdown(sc->listen_fd, SHUT_RDWR);
	for (i = 0; i < sc->threads; i++)
		if (workers[i].started)
			pthread_join(workers[i].thread, NULL);
	server_free_workers(workers, sc->threads);
	log_info("stopped");
	return sig > 0 ? 0 : -1;
}
