/* One FastCGI request: read it, route it, run it, answer it, log it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "reply.h"
#include "request.h"
#include "route.h"
#include "run.h"
#include "slots.h"

#define REQUEST_MAX_ID		64
#define REQUEST_ENV_VARS	6

/* What one request has gathered by the time it is answered. */
struct exchange {
	const struct request_context *ctx;
	FCGX_Request	*req;
	const char	*method;	/* into the params: gone after finish */
	char		 method_copy[16];	/* what the log line uses */
	char		 id[REQUEST_MAX_ID + 1];
	struct route	 route;
	const struct conf_function *fn;
	struct buf	 input;		/* the request body */

	int		 status;
	enum reply_code	 code;
	char		*body;		/* owned; JSON unless raw is set */
	size_t		 body_len;
	int		 raw;		/* body is not JSON */
	const char	*content_type;	/* of a raw body */
	struct run_result res;
	struct run_request rq;		/* of the run, for its cleanup */
	char		warm[72];	/* a pre-started container taken */
	int		 slot;		/* a slot is held until the cleanup */
	long long	 started_ms;
	long		 answered_ms;	/* to the client, cleanup excluded */
};

static const char *
request_param(const struct exchange *x, const char *name)
{
	return FCGX_GetParam(name, x->req->envp);
}

/* Whether a request id from the front-end is safe to log and label. */
static int
request_valid_id(const char *id)
{
	size_t n = strlen(id);

	return n > 0 && n <= REQUEST_MAX_ID && strspn(id,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-_.") == n;
}

/* Takes nginx's $request_id when it is passed, else makes one. */
static void
request_make_id(struct exchange *x)
{
	const char *given = request_param(x, "REQUEST_ID");
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[16];
	long long now;
	size_t i;

	if (given != NULL && request_valid_id(given)) {
		snprintf(x->id, sizeof(x->id), "%s", given);
		return;
	}
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		now = clock_ms();
		memset(raw, 0, sizeof(raw));
		memcpy(raw, &now, sizeof(now));
	}
	for (i = 0; i < sizeof(raw); i++) {
		x->id[2 * i] = hex[raw[i] >> 4];
		x->id[2 * i + 1] = hex[raw[i] & 15];
	}
	x->id[2 * sizeof(raw)] = '\0';
}

/* Sets the answer to an error with its JSON body. */
static void
request_error(struct exchange *x, enum reply_code code, const char *message,
    const struct reply_output *out)
{
	free(x->body);
	x->code = code;
	x->status = reply_status(code);
	x->raw = 0;
	x->body = reply_error(code, message, out);
	x->body_len = x->body ? strlen(x->body) : 0;
}

static void
request_json(struct exchange *x, int status, char *body)
{
	free(x->body);
	x->code = REPLY_OK;
	x->status = status;
	x->raw = 0;
	x->body = body;
	x->body_len = body ? strlen(body) : 0;
}

/* Sets the SO_RCVTIMEO of the FastCGI connection; 0 clears it. */
static void
request_recv_timeout(struct exchange *x, long ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	if (setsockopt(x->req->ipcFd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) == -1)
		log_warn("request %s: cannot limit the body's time", x->id);
}

/*
 * Reads the body into x->input, within the function's size and time
 * limits.  Returns 0, or -1 with the error answer set.
 */
static int
request_read_body(struct exchange *x)
{
	const char *cl = request_param(x, "CONTENT_LENGTH");
	long long deadline = clock_ms() + x->fn->timeout_ms, left;
	size_t max = (size_t)x->fn->max_body_bytes;
	char chunk[16384], message[128];
	int n;

	snprintf(message, sizeof(message), "the body may be at most %zu bytes "
	    "for function \"%s\"", max, x->fn->name);
	if (cl != NULL && strtoull(cl, NULL, 10) > max) {
		request_error(x, REPLY_BODY_TOO_LARGE, message, NULL);
		return -1;
	}

	buf_init(&x->input, max + 1);
	for (;;) {
		left = deadline - clock_ms();
		if (left <= 0)
			break;
		request_recv_timeout(x, (long)left);
		n = FCGX_GetStr(chunk, sizeof(chunk), x->req->in);
		if (n > 0 && buf_append(&x->input, chunk, (size_t)n) == -1) {
			request_error(x, REPLY_INTERNAL, "out of memory", NULL);
			return -1;
		}
		if (x->input.len > max) {
			request_error(x, REPLY_BODY_TOO_LARGE, message, NULL);
			return -1;
		}
		if (n < (int)sizeof(chunk))
			break;
	}
	request_recv_timeout(x, 0);

	if (FCGX_GetError(x->req->in) != 0 || clock_ms() >= deadline) {
		request_error(x, REPLY_REQUEST_TIMEOUT, "the request body did "
		    "not arrive within the function's time limit", NULL);
		return -1;
	}
	return 0;
}

/* The variables every function sees about its request. */
static void
request_env(const struct exchange *x, char vars[][512],
    const char *env[REQUEST_ENV_VARS])
{
	static const char *const passed[] = {
		"REQUEST_METHOD", "QUERY_STRING", "CONTENT_TYPE"
	};
	const char *v;
	size_t i, n = 0;

	snprintf(vars[n], 512, "CLOUDFUNC_FUNCTION=%s", x->fn->name);
	env[n] = vars[n];
	n++;
	snprintf(vars[n], 512, "CLOUDFUNC_REQUEST_ID=%s", x->id);
	env[n] = vars[n];
	n++;
	for (i = 0; i < sizeof(passed) / sizeof(passed[0]); i++) {
		v = request_param(x, passed[i]);
		snprintf(vars[n], 512, "%s=%s", passed[i], v ? v : "");
		env[n] = vars[n];
		n++;
	}
	env[n] = NULL;
}

/* Turns the run's result into the seed's body or a function's. */
static void
request_answer_run(struct exchange *x, int detail)
{
	struct reply_output out = {
		.stdout_data = x->res.out.data ? x->res.out.data : "",
		.stdout_len = x->res.out.len,
		.stderr_data = x->res.err.data ? x->res.err.data : "",
		.stderr_len = x->res.err.len,
		.exit_code = x->res.exit_code,
		.duration_ms = x->res.ms_total,
		.truncated = x->res.out.truncated,
		.detail = detail,
	};
	enum reply_code code = x->res.code;

	if (x->fn->response == CONF_RESPONSE_RAW && detail &&
	    (code == REPLY_OK || code == REPLY_FUNCTION_FAILED)) {
		x->code = code;
		x->status = reply_status(code);
		x->raw = 1;
		x->content_type = x->fn->content_type;
		x->body = x->res.out.data;
		x->body_len = x->res.out.len;
		buf_init(&x->res.out, 0);
		return;
	}
	if (code == REPLY_OK) {
		request_json(x, 200, reply_success(&out));
		return;
	}
	if (code == REPLY_FUNCTION_FAILED || code == REPLY_TIMEOUT ||
	    code == REPLY_OUT_OF_MEMORY)
		request_error(x, code, x->res.message, &out);
	else
		request_error(x, code, x->res.message, NULL);
}

static size_t
request_fn_index(const struct exchange *x)
{
	return (size_t)(x->fn - x->ctx->conf->functions);
}

/*
 * Waits for room to run, up to queue_ms.  Returns 0 with a slot taken, or
 * -1 with a 503 answer set: busy, or stopping.
 */
static int
request_take_slot(struct exchange *x)
{
	const struct conf *c = x->ctx->conf;
	char message[256];

	if (!atomic_load(x->ctx->stopping) &&
	    slots_acquire(request_fn_index(x), c->queue_ms) == 0)
		return 0;
	if (atomic_load(x->ctx->stopping)) {
		request_error(x, REPLY_SHUTTING_DOWN, "the responder is "
		    "stopping; try again", NULL);
		return -1;
	}
	snprintf(message, sizeof(message), "no room to run \"%s\" within "
	    "%ld ms; try again", x->fn->name, c->queue_ms);
	request_error(x, REPLY_BUSY, message, NULL);
	return -1;
}

static void
request_invoke(struct exchange *x, struct engine *e, int detail,
    char vars[][512], const char **env)
{
	if (request_read_body(x) == -1)
		return;
	if (request_take_slot(x) == -1)
		return;
	x->slot = 1;
	request_env(x, vars, env);
	x->rq.fn = x->fn;
	x->rq.conf = x->ctx->conf;
	x->rq.request_id = x->id;
	x->rq.instance = x->ctx->instance;
	x->rq.env = env;
	x->rq.stdin_data = x->input.data ? x->input.data : "";
	x->rq.stdin_len = x->input.len;
	x->rq.client_fd = x->req->ipcFd;
	x->rq.cancel = x->ctx->cancel;
	if (x->fn->prewarm > 0 && pool_take(request_fn_index(x), x->warm,
	    sizeof(x->warm), &x->rq.warm_stream) == 0)
		x->rq.warm = x->warm;
	run_function(e, &x->rq, &x->res);
	request_answer_run(x, detail);
}

static void
request_list(struct exchange *x)
{
	const struct conf *c = x->ctx->conf;
	const char **names;
	size_t i;

	names = calloc(c->nfunctions + 1, sizeof(*names));
	if (names == NULL)
		return;
	for (i = 0; i < c->nfunctions; i++)
		names[i] = conf_function_at(c, i)->name;
	request_json(x, 200, reply_names(names, c->nfunctions));
	free(names);
}

/* Cheap: asks the engine for its version, starts no container. */
static void
request_health(struct exchange *x, struct engine *e)
{
	struct engine_error err;
	char message[600];

	if (engine_ping(e, 1, &err) == -1) {
		snprintf(message, sizeof(message), "%s", err.message);
		request_error(x, err.kind == ENGINE_FAULT_PROTOCOL ?
		    REPLY_ENGINE_ERROR : REPLY_ENGINE_UNAVAILABLE, message,
		    NULL);
		return;
	}
	request_json(x, 200, reply_health(engine_version(e),
	    x->ctx->instance, slots_in_use(),
	    pool_enabled() ? pool_ready() : -1));
}

static void
request_metrics(struct exchange *x)
{
	struct buf text;

	buf_init(&text, 0);
	if (metrics_write(&text, slots_in_use()) == -1 || text.data == NULL) {
		buf_free(&text);
		request_error(x, REPLY_INTERNAL, "out of memory", NULL);
		return;
	}
	free(x->body);
	x->code = REPLY_OK;
	x->status = 200;
	x->raw = 1;
	x->content_type = "text/plain; version=0.0.4; charset=utf-8";
	x->body = text.data;
	x->body_len = text.len;
}

static void
request_dispatch(struct exchange *x, struct engine *e, char vars[][512],
    const char **env)
{
	struct route_params params = {
		.request_uri = request_param(x, "REQUEST_URI"),
		.document_uri = request_param(x, "DOCUMENT_URI"),
		.script_name = request_param(x, "SCRIPT_NAME"),
		.path_info = request_param(x, "PATH_INFO"),
	};
	char message[ROUTE_MAX_PATH + 64];

	if (x->method == NULL) {
		request_error(x, REPLY_INTERNAL, "the front-end passed no "
		    "REQUEST_METHOD", NULL);
		return;
	}
	route_resolve(&params, &x->route);
	if (x->route.kind == ROUTE_FUNCTION)
		x->fn = conf_function(x->ctx->conf, x->route.name);
	else if (x->route.kind == ROUTE_SEED)
		x->fn = conf_function(x->ctx->conf, CONF_SEED_FUNCTION);
	if (x->route.kind == ROUTE_NONE ||
	    (x->route.kind == ROUTE_FUNCTION && x->fn == NULL)) {
		snprintf(message, sizeof(message), x->route.kind == ROUTE_NONE ?
		    "no endpoint at \"%.200s\"" : "no function at \"%.200s\"",
		    x->route.path);
		request_error(x, REPLY_NOT_FOUND, message, NULL);
		return;
	}
	if (!route_method_allowed(x->route.kind, x->method)) {
		snprintf(message, sizeof(message), "%.16s is not allowed here; "
		    "use %s", x->method, route_allow(x->route.kind));
		request_error(x, REPLY_METHOD_NOT_ALLOWED, message, NULL);
		return;
	}

	switch (x->route.kind) {
	case ROUTE_FUNCTIONS:
		request_list(x);
		break;
	case ROUTE_HEALTH:
		request_health(x, e);
		break;
	case ROUTE_METRICS:
		request_metrics(x);
		break;
	default:
		request_invoke(x, e, x->route.kind == ROUTE_FUNCTION, vars, env);
		break;
	}
}

/* The headers that only some answers carry. */
static void
request_extra_headers(const struct exchange *x, char *dst, size_t len)
{
	dst[0] = '\0';
	if (x->code == REPLY_METHOD_NOT_ALLOWED)
		snprintf(dst, len, "Allow: %s\r\n", route_allow(x->route.kind));
	else if (x->code == REPLY_BUSY || x->code == REPLY_SHUTTING_DOWN)
		snprintf(dst, len, "Retry-After: 1\r\n");
	else if (x->raw && x->fn != NULL)
		snprintf(dst, len, "X-Cloudfunc-Exit-Code: %d\r\n"
		    "X-Cloudfunc-Truncated: %s\r\n", x->res.exit_code,
		    x->res.out.truncated ? "true" : "false");
}

/*
 * Writes the headers and, except for HEAD, the body.  The headers are
 * formatted here: libfcgi's own printf knows no size_t.
 */
static int
request_respond(struct exchange *x)
{
	char head[1024], extra[256];
	int n;

	request_extra_headers(x, extra, sizeof(extra));
	n = snprintf(head, sizeof(head), "Status: %d %s\r\n"
	    "Content-Type: %s\r\n"
	    "Content-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Request-Id: %s\r\n%s\r\n", x->status, reply_reason(x->status),
	    x->raw ? x->content_type : "application/json", x->body_len,
	    x->id, extra);
	if (n < 0 || (size_t)n >= sizeof(head))
		return -1;

	if (FCGX_PutStr(head, n, x->req->out) != n)
		return -1;
	if (x->method != NULL && strcmp(x->method, "HEAD") == 0)
		return 0;
	if (x->body_len > 0 && FCGX_PutStr(x->body, (int)x->body_len,
	    x->req->out) != (int)x->body_len)
		return -1;
	return 0;
}

/* The request's log line: what happened to what, and how long it took. */
static void
request_log(const struct exchange *x, int sent)
{
	char phases[128] = "", path[256];
	size_t i, o = 0;

	/* The path as a logfmt value: cut, with quotes and controls tamed. */
	for (i = 0; x->route.path[i] != '\0' && o + 3 < sizeof(path); i++) {
		unsigned char c = (unsigned char)x->route.path[i];

		if (c == '"' || c == '\\')
			path[o++] = '\\';
		path[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	path[o] = '\0';

	if (log_enabled(LOG_LEVEL_DEBUG) && x->res.container[0] != '\0')
		snprintf(phases, sizeof(phases), " create_ms=%ld start_ms=%ld "
		    "run_ms=%ld remove_ms=%ld", x->res.ms_create,
		    x->res.ms_start, x->res.ms_run, x->res.ms_remove);
	log_info("event=request id=%s method=%s path=\"%s\" function=%s "
	    "container=%.12s%s status=%d code=%s ms=%ld%s%s", x->id,
	    x->method ? x->method : "-", path,
	    x->fn ? x->fn->name : "-",
	    x->res.container[0] ? x->res.container : "-",
	    x->res.warm ? " warm=1" : "", x->status,
	    reply_code_name(x->code), x->answered_ms, phases,
	    sent ? "" : " client=gone");
	if (x->status >= 500 && x->code != REPLY_BUSY &&
	    x->code != REPLY_SHUTTING_DOWN)
		log_warnx("request %s failed: %s", x->id,
		    x->res.message[0] ? x->res.message : reply_code_name(x->code));
}

void
request_serve(const struct request_context *ctx, struct engine *e,
    FCGX_Request *req)
{
	char vars[REQUEST_ENV_VARS][512];
	const char *env[REQUEST_ENV_VARS];
	struct exchange x;
	int sent;

	metrics_in_flight(1);
	memset(&x, 0, sizeof(x));
	x.ctx = ctx;
	x.req = req;
	x.started_ms = clock_ms();
	x.method = request_param(&x, "REQUEST_METHOD");
	buf_init(&x.input, 0);
	run_result_init(&x.res);
	request_make_id(&x);

	request_dispatch(&x, e, vars, env);
	if (x.body == NULL && !x.raw)
		request_error(&x, REPLY_INTERNAL, "out of memory", NULL);
	sent = (x.body != NULL || x.raw) && request_respond(&x) == 0;
	x.answered_ms = (long)(clock_ms() - x.started_ms);
	snprintf(x.method_copy, sizeof(x.method_copy), "%s",
	    x.method ? x.method : "-");
	x.method = x.method_copy;
	/* The client has its answer before the container is removed. */
	FCGX_Finish_r(req);

	run_cleanup(e, &x.rq, &x.res);
	if (x.slot)
		slots_release(request_fn_index(&x));
	metrics_request(x.fn, x.status);
	metrics_in_flight(-1);
	request_log(&x, sent);

	free(x.body);
	buf_free(&x.input);
	run_result_free(&x.res);
}
