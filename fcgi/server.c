/* The FastCGI side: worker threads that accept, route and answer requests. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#include <fcgiapp.h>

#include "engine.h"
#include "log.h"
#include "reply.h"
#include "route.h"
#include "run.h"
#include "server.h"

#define SERVER_BACKLOG		128
#define SERVER_MAX_REQUEST_ID	64

/* Workers still in their accept loop; the main thread watches it. */
static atomic_int	workers_alive;

struct worker {
	const struct server_config *sc;
	struct engine_config	 ecfg;
	struct engine		*engine;
	pthread_t		 thread;
	int			 started;
};

/* What one request has gathered by the time it is answered. */
struct exchange {
	FCGX_Request	*req;
	const char	*method;
	char		 request_id[SERVER_MAX_REQUEST_ID + 1];
	struct route	 route;
	int		 status;
	enum reply_code	 code;
	char		*body;		/* JSON, owned */
	struct run_result res;
	long long	 started_ms;
};

static long long
server_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

/* Whether a request id from the front-end is safe to log and label. */
static int
server_valid_request_id(const char *id)
{
	size_t i, n = strlen(id);

	if (n == 0 || n > SERVER_MAX_REQUEST_ID)
		return 0;
	for (i = 0; i < n; i++) {
		char c = id[i];

		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !(c >= '0' && c <= '9') && c != '-' && c != '_' && c != '.')
			return 0;
	}
	return 1;
}

/* Takes nginx's $request_id when it is passed, else makes one. */
static void
server_request_id(struct exchange *x)
{
	const char *given = FCGX_GetParam("REQUEST_ID", x->req->envp);
	unsigned char raw[16];
	size_t i;

	if (given != NULL && server_valid_request_id(given)) {
		snprintf(x->request_id, sizeof(x->request_id), "%s", given);
		return;
	}
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		unsigned long long t = (unsigned long long)server_now_ms();

		memset(raw, 0, sizeof(raw));
		memcpy(raw, &t, sizeof(t));
		memcpy(raw + 8, &x, sizeof(x) < 8 ? sizeof(x) : 8);
	}
	for (i = 0; i < sizeof(raw); i++)
		snprintf(x->request_id + 2 * i, 3, "%02x", raw[i]);
}

/* Sets the answer to an error with its JSON body. */
static void
server_error(struct exchange *x, enum reply_code code, const char *message,
    const struct reply_output *out)
{
	free(x->body);
	x->code = code;
	x->status = reply_status(code);
	x->body = reply_error(code, message, out);
}

/* Runs the function behind the route and turns the result into a body. */
static void
server_invoke(struct worker *w, struct exchange *x,
    const struct conf_function *fn)
{
	struct run_request rq = {
		.fn = fn,
		.request_id = x->request_id,
		.instance = w->sc->instance,
	};
	struct reply_output out;

	run_function(w->engine, &rq, &x->res);
	out.stdout_data = x->res.out.data ? x->res.out.data : "";
	out.stdout_len = x->res.out.len;
	out.exit_code = x->res.exit_code;

	if (x->res.code == REPLY_OK) {
		x->code = REPLY_OK;
		x->status = 200;
		x->body = reply_success(&out);
		return;
	}
	if (x->res.code == REPLY_FUNCTION_FAILED || x->res.code == REPLY_TIMEOUT)
		server_error(x, x->res.code, x->res.message, &out);
	else
		server_error(x, x->res.code, x->res.message, NULL);
}

static void
server_dispatch(struct worker *w, struct exchange *x)
{
	struct route_params params = {
		.request_uri = FCGX_GetParam("REQUEST_URI", x->req->envp),
		.document_uri = FCGX_GetParam("DOCUMENT_URI", x->req->envp),
		.script_name = FCGX_GetParam("SCRIPT_NAME", x->req->envp),
		.path_info = FCGX_GetParam("PATH_INFO", x->req->envp),
	};
	const struct conf_function *fn;
	char message[ROUTE_MAX_PATH + 64];

	if (x->method == NULL) {
		server_error(x, REPLY_INTERNAL, "the front-end passed no "
		    "REQUEST_METHOD", NULL);
		return;
	}
	route_resolve(&params, &x->route);
	if (x->route.kind == ROUTE_NONE) {
		snprintf(message, sizeof(message), "no endpoint at \"%s\"",
		    x->route.path);
		server_error(x, REPLY_NOT_FOUND, message, NULL);
		return;
	}
	if (!route_method_allowed(x->route.kind, x->method)) {
		snprintf(message, sizeof(message), "%s is not allowed here; "
		    "use %s", x->method, route_allow(x->route.kind));
		server_error(x, REPLY_METHOD_NOT_ALLOWED, message, NULL);
		return;
	}

	fn = conf_function(w->sc->conf, CONF_SEED_FUNCTION);
	server_invoke(w, x, fn);
}

/*
 * Writes the headers and, except for HEAD, the body.  The headers are
 * formatted here: libfcgi's own printf knows no size_t.
 */
static int
server_respond(struct exchange *x)
{
	char head[512], allow[64] = "";
	size_t len = strlen(x->body);
	int n;

	if (x->code == REPLY_METHOD_NOT_ALLOWED)
		snprintf(allow, sizeof(allow), "Allow: %s\r\n",
		    route_allow(x->route.kind));
	n = snprintf(head, sizeof(head), "Status: %d %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Request-Id: %s\r\n%s\r\n", x->status,
	    reply_reason(x->status), len, x->request_id, allow);
	if (n < 0 || (size_t)n >= sizeof(head))
		return -1;

	if (FCGX_PutStr(head, n, x->req->out) != n)
		return -1;
	if (x->method != NULL && strcmp(x->method, "HEAD") == 0)
		return 0;
	if (FCGX_PutStr(x->body, (int)len, x->req->out) != (int)len)
		return -1;
	return 0;
}

/* The request's log line: what happened to what, and how long it took. */
static void
server_log(const struct exchange *x, int sent)
{
	long ms = (long)(server_now_ms() - x->started_ms);
	char phases[128] = "";

	if (log_enabled(LOG_LEVEL_DEBUG) && x->res.container[0] != '\0')
		snprintf(phases, sizeof(phases), " create_ms=%ld start_ms=%ld "
		    "run_ms=%ld remove_ms=%ld", x->res.ms_create,
		    x->res.ms_start, x->res.ms_run, x->res.ms_remove);
	log_info("request id=%s method=%s path=\"%s\" container=%.12s "
	    "status=%d code=%s ms=%ld%s%s", x->request_id,
	    x->method ? x->method : "-", x->route.path,
	    x->res.container[0] ? x->res.container : "-", x->status,
	    reply_code_name(x->code), ms, phases,
	    sent ? "" : " client=gone");
	if (x->code != REPLY_OK && x->code != REPLY_NOT_FOUND &&
	    x->code != REPLY_METHOD_NOT_ALLOWED)
		log_warnx("request id=%s failed: %s", x->request_id,
		    x->res.message[0] ? x->res.message : reply_code_name(x->code));
}

static void
server_handle(struct worker *w, FCGX_Request *req)
{
	struct exchange x;
	int sent;

	memset(&x, 0, sizeof(x));
	x.req = req;
	x.started_ms = server_now_ms();
	x.method = FCGX_GetParam("REQUEST_METHOD", req->envp);
	run_result_init(&x.res);
	server_request_id(&x);

	server_dispatch(w, &x);
	if (x.body == NULL) {
		x.code = REPLY_INTERNAL;
		x.status = 500;
		x.body = strdup("{\"success\":false,\"code\":\"internal\","
		    "\"error\":\"out of memory\"}");
	}
	sent = x.body != NULL && server_respond(&x) == 0;
	server_log(&x, sent);

	free(x.body);
	run_result_free(&x.res);
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
		server_handle(w, &req);
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
