/* One function run: create, attach, start, read, wait, remove. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "log.h"
#include "run.h"
#include "stream.h"

#define RUN_REMOVE_TRIES	4
/* Time the engine gets, past the function's limit, to report the exit. */
#define RUN_WAIT_GRACE_MS	5000

/* State of one run, threaded through its phases. */
struct run {
	struct engine		*engine;
	const struct run_request *rq;
	struct run_result	*res;
	long long		 deadline;	/* of the function's time limit */
	struct engine_error	 err;
};

static long long
run_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int run_fail(struct run *r, enum reply_code code, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

/* Records the first failure of a run; later ones only follow from it. */
static int
run_fail(struct run *r, enum reply_code code, const char *fmt, ...)
{
	va_list ap;

	if (r->res->code != REPLY_OK)
		return -1;
	r->res->code = code;
	va_start(ap, fmt);
	vsnprintf(r->res->message, sizeof(r->res->message), fmt, ap);
	va_end(ap);
	return -1;
}

/* Turns an engine client failure into the client's answer. */
static int
run_engine_fault(struct run *r)
{
	enum reply_code code;

	switch (r->err.kind) {
	case ENGINE_FAULT_UNAVAILABLE:
	case ENGINE_FAULT_TIMEOUT:
		code = REPLY_ENGINE_UNAVAILABLE;
		break;
	case ENGINE_FAULT_PROTOCOL:
		code = REPLY_ENGINE_ERROR;
		break;
	default:
		code = REPLY_INTERNAL;
		break;
	}
	return run_fail(r, code, "%s", r->err.message);
}

/* An answer the engine gave with an unexpected HTTP status. */
static int
run_engine_status(struct run *r, const char *what, int status)
{
	return run_fail(r, REPLY_ENGINE_ERROR, "engine refused to %s "
	    "(HTTP %d): %s", what, status, engine_message(r->engine));
}

void
run_result_init(struct run_result *res)
{
	memset(res, 0, sizeof(*res));
	res->code = REPLY_OK;
	res->exit_code = -1;
	buf_init(&res->out, 0);
	buf_init(&res->err, 0);
}

void
run_result_free(struct run_result *res)
{
	buf_free(&res->out);
	buf_free(&res->err);
}

static json_object *
run_labels(const struct run_request *rq)
{
	json_object *labels = json_object_new_object();

	if (labels == NULL)
		return NULL;
	if (json_object_object_add(labels, RUN_LABEL_OWNER,
	    json_object_new_string("cloudfunc")) != 0 ||
	    json_object_object_add(labels, RUN_LABEL_INSTANCE,
	    json_object_new_string(rq->instance)) != 0 ||
	    json_object_object_add(labels, RUN_LABEL_FUNCTION,
	    json_object_new_string(rq->fn->name)) != 0 ||
	    json_object_object_add(labels, RUN_LABEL_REQUEST,
	    json_object_new_string(rq->request_id)) != 0) {
		json_object_put(labels);
		return NULL;
	}
	return labels;
}

static json_object *
run_cmd(char **cmd)
{
	json_object *arr = json_object_new_array();
	size_t i;

	if (arr == NULL)
		return NULL;
	for (i = 0; cmd[i] != NULL; i++) {
		if (json_object_array_add(arr,
		    json_object_new_string(cmd[i])) != 0) {
			json_object_put(arr);
			return NULL;
		}
	}
	return arr;
}

/* The body of the create call; returns a json-c object or NULL. */
static json_object *
run_create_body(const struct run_request *rq)
{
	json_object *body, *host;
	int rc = 0;

	body = json_object_new_object();
	host = json_object_new_object();
	if (body == NULL || host == NULL) {
		json_object_put(body);
		json_object_put(host);
		return NULL;
	}
	rc |= json_object_object_add(host, "NetworkMode",
	    json_object_new_string(rq->fn->network));
	rc |= json_object_object_add(body, "Image",
	    json_object_new_string(rq->fn->image));
	if (rq->fn->cmd != NULL)
		rc |= json_object_object_add(body, "Cmd", run_cmd(rq->fn->cmd));
	rc |= json_object_object_add(body, "Tty", json_object_new_boolean(0));
	rc |= json_object_object_add(body, "AttachStdout",
	    json_object_new_boolean(1));
	rc |= json_object_object_add(body, "AttachStderr",
	    json_object_new_boolean(1));
	rc |= json_object_object_add(body, "Labels", run_labels(rq));
	rc |= json_object_object_add(body, "HostConfig", host);
	if (rc != 0) {
		json_object_put(body);
		return NULL;
	}
	return body;
}

/* Reads a string member of the last reply body into dst. */
static int
run_reply_string(struct run *r, const char *key, char *dst, size_t len)
{
	json_object *obj, *val;
	int rc = -1;

	obj = json_tokener_parse(engine_body(r->engine)->data ?
	    engine_body(r->engine)->data : "");
	if (json_object_object_get_ex(obj, key, &val) &&
	    json_object_is_type(val, json_type_string) &&
	    (size_t)json_object_get_string_len(val) < len) {
		snprintf(dst, len, "%s", json_object_get_string(val));
		rc = 0;
	}
	json_object_put(obj);
	return rc;
}

static int
run_create(struct run *r)
{
	json_object *body;
	const char *json;
	int status;

	body = run_create_body(r->rq);
	if (body == NULL)
		return run_fail(r, REPLY_INTERNAL, "out of memory");
	json = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
	status = engine_call(r->engine, "POST", "/containers/create", json, 0,
	    &r->err);
	json_object_put(body);

	if (status == -1)
		return run_engine_fault(r);
	if (status == 404)
		return run_fail(r, REPLY_IMAGE_NOT_FOUND, "image \"%s\" is not "
		    "on the engine: %s", r->rq->fn->image,
		    engine_message(r->engine));
	if (status != 201)
		return run_engine_status(r, "create the container", status);
	if (run_reply_string(r, "Id", r->res->container,
	    sizeof(r->res->container)) == -1)
		return run_fail(r, REPLY_ENGINE_ERROR,
		    "engine created a container but gave no id");
	return 0;
}

static int
run_start(struct run *r)
{
	char path[128];
	int status;

	snprintf(path, sizeof(path), "/containers/%s/start", r->res->container);
	status = engine_call(r->engine, "POST", path, NULL, 0, &r->err);
	if (status == -1)
		return run_engine_fault(r);
	if (status != 204 && status != 304)
		return run_engine_status(r, "start the container", status);
	return 0;
}

/* Keeps stdout and stderr apart, each up to the function's cap. */
static int
run_sink(enum stream_type type, const char *data, size_t len, void *arg)
{
	struct run_result *res = arg;
	struct buf *b;

	if (type == STREAM_STDOUT)
		b = &res->out;
	else if (type == STREAM_STDERR || type == STREAM_SYSTEMERR)
		b = &res->err;
	else
		return 0;
	if (buf_append(b, data, len) == -1)
		return -1;
	return res->out.truncated ? -1 : 0;
}

/* Reads the attach stream to its end, within the function's time limit. */
static int
run_read(struct run *r, struct engine_stream *s)
{
	struct stream_parser p;
	char chunk[16384];
	long n;

	stream_init(&p, run_sink, r->res);
	for (;;) {
		n = engine_stream_read(s, chunk, sizeof(chunk),
		    (long)(r->deadline - run_now_ms()), &r->err);
		if (n == 0)
			break;
		if (n == -1 && r->err.kind == ENGINE_FAULT_TIMEOUT)
			return run_fail(r, REPLY_TIMEOUT, "function \"%s\" "
			    "passed its time limit of %ld ms and was killed",
			    r->rq->fn->name, r->rq->fn->timeout_ms);
		if (n == -1)
			return run_engine_fault(r);
		if (stream_feed(&p, chunk, (size_t)n) == -1)
			break;
	}

	if (r->res->out.truncated)
		return 0;
	if (!stream_complete(&p) || n != 0)
		return run_fail(r, REPLY_ENGINE_ERROR,
		    "the container's output stream was cut or malformed");
	return 0;
}

/* Waits for the exit status, which the stream's end does not carry. */
static int
run_wait(struct run *r)
{
	long left = (long)(r->deadline - run_now_ms()) + RUN_WAIT_GRACE_MS;
	json_object *obj, *code;
	char path[128];
	int status;

	snprintf(path, sizeof(path), "/containers/%s/wait", r->res->container);
	status = engine_call(r->engine, "POST", path, NULL, left, &r->err);
	if (status == -1)
		return run_engine_fault(r);
	if (status != 200)
		return run_engine_status(r, "report the exit status", status);

	obj = json_tokener_parse(engine_body(r->engine)->data);
	if (json_object_object_get_ex(obj, "StatusCode", &code) &&
	    json_object_is_type(code, json_type_int))
		r->res->exit_code = json_object_get_int(code);
	json_object_put(obj);
	if (r->res->exit_code < 0)
		return run_fail(r, REPLY_ENGINE_ERROR,
		    "engine gave no exit status for the container");
	return 0;
}

/*
 * Removes the container, killing it if it still runs.  A busy engine
 * ("removal in progress") gets a few tries with growing pauses.
 */
static void
run_remove(struct run *r)
{
	struct timespec pause = { 0, 50 * 1000000L };
	struct engine_error err;
	char path[128];
	int status = -1, i;

	snprintf(path, sizeof(path), "/containers/%s?force=1&v=1",
	    r->res->container);
	for (i = 0; i < RUN_REMOVE_TRIES; i++) {
		status = engine_call(r->engine, "DELETE", path, NULL, 0, &err);
		if (status == 204 || status == 404) {
			r->res->removed = 1;
			return;
		}
		if (status == -1 && err.kind != ENGINE_FAULT_TIMEOUT)
			break;
		nanosleep(&pause, NULL);
		pause.tv_nsec *= 2;
	}
	log_warnx("remove container=%.12s request=%s: %s", r->res->container,
	    r->rq->request_id, status == -1 ? err.message :
	    engine_message(r->engine));
}

/* The steps from attach to the exit status; the caller removes. */
static int
run_attached(struct run *r)
{
	struct engine_stream *s;
	char path[160];
	long long t0;
	int rc;

	snprintf(path, sizeof(path),
	    "/containers/%s/attach?stream=1&stdout=1&stderr=1",
	    r->res->container);
	s = engine_attach(r->engine, path, &r->err);
	if (s == NULL)
		return run_engine_fault(r);

	t0 = run_now_ms();
	rc = run_start(r);
	r->res->ms_start = (long)(run_now_ms() - t0);
	if (rc == 0)
		rc = run_read(r, s);
	engine_stream_close(s);
	if (rc == -1 || r->res->out.truncated)
		return rc;
	return run_wait(r);
}

int
run_function(struct engine *e, const struct run_request *rq,
    struct run_result *res)
{
	struct run r = { .engine = e, .rq = rq, .res = res };
	long long t0, t1;

	t0 = run_now_ms();
	r.deadline = t0 + rq->fn->timeout_ms;
	res->out.limit = rq->fn->max_output_bytes;
	res->err.limit = rq->fn->max_output_bytes;

	if (run_create(&r) == 0) {
		t1 = run_now_ms();
		res->ms_create = (long)(t1 - t0);
		run_attached(&r);
		res->ms_run = (long)(run_now_ms() - t1) - res->ms_start;
	}
	if (res->container[0] != '\0') {
		t1 = run_now_ms();
		run_remove(&r);
		res->ms_remove = (long)(run_now_ms() - t1);
	}

	if (res->code == REPLY_OK && res->exit_code != 0 &&
	    !res->out.truncated)
		run_fail(&r, REPLY_FUNCTION_FAILED, "function \"%s\" exited "
		    "with status %d", rq->fn->name, res->exit_code);
	return res->code == REPLY_OK ? 0 : -1;
}
