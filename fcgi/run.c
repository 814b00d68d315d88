/* One function run: create, attach, start, feed stdin, read, wait, remove. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <json-c/json.h>

#include "clock.h"
#include "gate.h"
#include "image.h"
#include "instance.h"
#include "log.h"
#include "metrics.h"
#include "run.h"
#include "stream.h"
#include "sweep.h"

#define RUN_REMOVE_TRIES	4
/* Time the engine gets, past the function's limit, to report the exit. */
#define RUN_WAIT_GRACE_MS	5000
/* How often, and how far apart, to ask whether a 137 was the OOM killer. */
#define RUN_OOM_TRIES		20
#define RUN_OOM_PAUSE_MS	50
/* What the init process reports for a command killed by a signal. */
#define RUN_STATUS_SIGKILL	137
#define RUN_STATUS_SIGTERM	143
/* How often a run looks at its cancel flag while waiting for output. */
#define RUN_SLICE_MS		200
/* Past a container's own limits, when a sweep may take it for an orphan. */
#define RUN_DEADLINE_SLACK_S	60

/* State of one run, threaded through its phases. */
struct run {
	struct engine		*engine;
	const struct run_request *rq;
	struct run_result	*res;
	long long		 deadline;	/* of the function's time limit */
	int			 started;	/* the function may have run */
	struct engine_error	 err;
};

static void
run_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
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

	metrics_engine_error(r->err.kind);
	switch (r->err.kind) {
	case ENGINE_FAULT_UNAVAILABLE:
	case ENGINE_FAULT_TIMEOUT:
		/* Once started, the function may have run: no retry. */
		code = r->started ? REPLY_ENGINE_LOST :
		    REPLY_ENGINE_UNAVAILABLE;
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

/* json-c helpers that fold allocation failures into one flag. */
static void
run_add(json_object *obj, const char *key, json_object *val, int *bad)
{
	if (val == NULL || json_object_object_add(obj, key, val) != 0) {
		json_object_put(val);
		*bad = 1;
	}
}

static void
run_push(json_object *arr, json_object *val, int *bad)
{
	if (val == NULL || json_object_array_add(arr, val) != 0) {
		json_object_put(val);
		*bad = 1;
	}
}

static json_object *
run_strings(const char *const *v, int *bad)
{
	json_object *arr = json_object_new_array();
	size_t i;

	if (arr == NULL) {
		*bad = 1;
		return NULL;
	}
	for (i = 0; v != NULL && v[i] != NULL; i++)
		run_push(arr, json_object_new_string(v[i]), bad);
	return arr;
}

static json_object *
run_labels(const struct run_request *rq, int *bad)
{
	json_object *labels = json_object_new_object();
	long long deadline;
	char when[32];

	if (labels == NULL) {
		*bad = 1;
		return NULL;
	}
	run_add(labels, RUN_LABEL_OWNER, json_object_new_string("cloudfunc"),
	    bad);
	run_add(labels, RUN_LABEL_INSTANCE, json_object_new_string(rq->instance),
	    bad);
	run_add(labels, RUN_LABEL_FUNCTION, json_object_new_string(rq->fn->name),
	    bad);
	run_add(labels, RUN_LABEL_REQUEST,
	    json_object_new_string(rq->request_id), bad);
	run_add(labels, RUN_LABEL_HOST, json_object_new_string(instance_host()),
	    bad);
	deadline = (long long)time(NULL) + rq->fn->timeout_ms / 1000 +
	    2 * rq->conf->engine_timeout_ms / 1000 + RUN_DEADLINE_SLACK_S;
	/* A pre-started container waits, at most this long, before its run. */
	if (rq->prestart)
		deadline += rq->conf->prewarm_max_idle_ms / 1000;
	snprintf(when, sizeof(when), "%lld", deadline);
	run_add(labels, RUN_LABEL_DEADLINE, json_object_new_string(when), bad);
	return labels;
}

/* The locked-down host configuration, as the function allows it. */
static json_object *
run_host_config(const struct run_request *rq, int *bad)
{
	const struct conf_function *fn = rq->fn;
	json_object *host, *tmpfs, *ulimit, *ulimits, *binds;
	char opts[96], *bind;
	size_t len;

	host = json_object_new_object();
	if (host == NULL) {
		*bad = 1;
		return NULL;
	}
	run_add(host, "NetworkMode", json_object_new_string(fn->network), bad);
	run_add(host, "ReadonlyRootfs", json_object_new_boolean(fn->read_only),
	    bad);
	run_add(host, "CapDrop", run_strings((const char *const[]){ "ALL",
	    NULL }, bad), bad);
	run_add(host, "SecurityOpt", run_strings((const char *const[]){
	    "no-new-privileges", NULL }, bad), bad);
	run_add(host, "Memory", json_object_new_int64(fn->memory_mb << 20),
	    bad);
	run_add(host, "MemorySwap", json_object_new_int64(fn->memory_mb << 20),
	    bad);
	run_add(host, "NanoCpus", json_object_new_int64(
	    (int64_t)(fn->cpus * 1e9)), bad);
	run_add(host, "PidsLimit", json_object_new_int64(fn->pids), bad);
	/* The gate is the first process: it reaps and passes signals on. */
	run_add(host, "Init", json_object_new_boolean(0), bad);
	len = strlen(rq->conf->gate) + sizeof(GATE_MOUNT ":ro") + 1;
	bind = malloc(len);
	binds = json_object_new_array();
	if (bind != NULL) {
		snprintf(bind, len, "%s:%s:ro", rq->conf->gate, GATE_MOUNT);
		run_push(binds, json_object_new_string(bind), bad);
		free(bind);
	} else {
		*bad = 1;
	}
	run_add(host, "Binds", binds, bad);

	ulimit = json_object_new_object();
	run_add(ulimit, "Name", json_object_new_string("nofile"), bad);
	run_add(ulimit, "Soft", json_object_new_int64(fn->nofile), bad);
	run_add(ulimit, "Hard", json_object_new_int64(fn->nofile), bad);
	ulimits = json_object_new_array();
	run_push(ulimits, ulimit, bad);
	run_add(host, "Ulimits", ulimits, bad);

	if (fn->tmp_mb > 0) {
		snprintf(opts, sizeof(opts), "rw,nosuid,nodev,mode=1777,size=%ldm",
		    fn->tmp_mb);
		tmpfs = json_object_new_object();
		run_add(tmpfs, "/tmp", json_object_new_string(opts), bad);
		run_add(host, "Tmpfs", tmpfs, bad);
	}
	return host;
}

/*
 * The body of the create call; returns a json-c object or NULL.  cmd is
 * the command the gate runs, which the body takes over.
 */
static json_object *
run_create_body(const struct run_request *rq, json_object *cmd)
{
	const struct conf_function *fn = rq->fn;
	json_object *body;
	int bad = 0;

	body = json_object_new_object();
	if (body == NULL) {
		json_object_put(cmd);
		return NULL;
	}
	run_add(body, "Image", json_object_new_string(fn->image), &bad);
	run_add(body, "Entrypoint", run_strings((const char *const[]){
	    GATE_MOUNT, NULL }, &bad), &bad);
	run_add(body, "Cmd", cmd, &bad);
	run_add(body, "Env", run_strings((const char *const *)fn->env, &bad),
	    &bad);
	run_add(body, "User", json_object_new_string(fn->user), &bad);
	run_add(body, "Tty", json_object_new_boolean(0), &bad);
	run_add(body, "OpenStdin", json_object_new_boolean(1), &bad);
	run_add(body, "StdinOnce", json_object_new_boolean(1), &bad);
	run_add(body, "AttachStdin", json_object_new_boolean(1), &bad);
	run_add(body, "AttachStdout", json_object_new_boolean(1), &bad);
	run_add(body, "AttachStderr", json_object_new_boolean(1), &bad);
	run_add(body, "Labels", run_labels(rq, &bad), &bad);
	run_add(body, "HostConfig", run_host_config(rq, &bad), &bad);
	if (bad) {
		json_object_put(body);
		return NULL;
	}
	return body;
}

/* Parses the last reply body; the caller puts the object. */
static json_object *
run_reply(struct run *r)
{
	const struct buf *b = engine_body(r->engine);

	return json_tokener_parse(b->data ? b->data : "");
}

/* Reads a string member of the last reply body into dst. */
static int
run_reply_string(struct run *r, const char *key, char *dst, size_t len)
{
	json_object *obj, *val;
	int rc = -1;

	obj = run_reply(r);
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
run_pull(struct run *r)
{
	char msg[512];
	int unavailable;

	if (image_pull(r->engine, r->rq->fn->image,
	    r->rq->conf->registry_auth_file, r->rq->conf->pull_timeout_ms,
	    msg, sizeof(msg), &unavailable) == 0) {
		r->res->pulled = 1;
		return 0;
	}
	if (unavailable)
		return run_fail(r, REPLY_ENGINE_UNAVAILABLE, "%s", msg);
	return run_fail(r, REPLY_IMAGE_PULL_FAILED, "cannot pull image "
	    "\"%s\": %s", r->rq->fn->image, msg);
}

/* Sends the create call; returns its HTTP status or -1. */
static int
run_post_create(struct run *r, json_object *body)
{
	const char *json;

	json = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
	if (json == NULL)
		return run_fail(r, REPLY_INTERNAL, "out of memory");
	return engine_call(r->engine, "POST", "/containers/create", json, 0,
	    &r->err);
}

/* Appends the strings of array src, if it is one, to dst. */
static void
run_append_strings(json_object *dst, json_object *src, int *bad)
{
	size_t i;

	if (!json_object_is_type(src, json_type_array))
		return;
	for (i = 0; i < json_object_array_length(src); i++)
		run_push(dst, json_object_new_string(json_object_get_string(
		    json_object_array_get_idx(src, i))), bad);
}

/*
 * The image's own command, entrypoint and arguments, for a function that
 * names none: the gate takes the entrypoint's place, so it must be told.
 * Returns a json-c array, or NULL with the run failed.
 */
static json_object *
run_image_command(struct run *r)
{
	const struct conf_function *fn = r->rq->fn;
	json_object *obj, *config, *entry = NULL, *args = NULL, *cmd;
	char path[1100];
	int status, bad = 0;

	snprintf(path, sizeof(path), "/images/%s/json", fn->image);
	status = engine_call(r->engine, "GET", path, NULL, 0, &r->err);
	if (status == 404 && fn->pull == CONF_PULL_MISSING &&
	    !r->res->pulled) {
		if (run_pull(r) == -1)
			return NULL;
		status = engine_call(r->engine, "GET", path, NULL, 0, &r->err);
	}
	if (status == -1) {
		run_engine_fault(r);
		return NULL;
	}
	if (status == 404) {
		run_fail(r, REPLY_IMAGE_NOT_FOUND, "image \"%s\" is not on the "
		    "engine: %s", fn->image, engine_message(r->engine));
		return NULL;
	}
	if (status != 200) {
		run_engine_status(r, "describe the image", status);
		return NULL;
	}

	obj = run_reply(r);
	if (json_object_object_get_ex(obj, "Config", &config)) {
		json_object_object_get_ex(config, "Entrypoint", &entry);
		json_object_object_get_ex(config, "Cmd", &args);
	}
	cmd = json_object_new_array();
	if (cmd != NULL) {
		run_append_strings(cmd, entry, &bad);
		run_append_strings(cmd, args, &bad);
	}
	json_object_put(obj);
	if (cmd == NULL || bad) {
		json_object_put(cmd);
		run_fail(r, REPLY_INTERNAL, "out of memory");
		return NULL;
	}
	if (json_object_array_length(cmd) == 0) {
		json_object_put(cmd);
		run_fail(r, REPLY_ENGINE_ERROR, "image \"%s\" names no command "
		    "and function \"%s\" has no cmd", fn->image, fn->name);
		return NULL;
	}
	return cmd;
}

/*
 * A create call that got no answer may have made its container all the
 * same (libcurl sends it again on a fresh connection when a kept-alive
 * one dies under it): the sweep looks for it by the request's label.
 */
static void
run_create_unanswered(struct run *r)
{
	const struct run_request *rq = r->rq;

	/* A pool container's label names no request; its deadline will do. */
	if (rq->prestart)
		return;
	sweep_defer_request(rq->request_id, (long long)time(NULL) +
	    2 * rq->conf->engine_timeout_ms / 1000 + RUN_DEADLINE_SLACK_S);
}

static int
run_create(struct run *r)
{
	const struct conf_function *fn = r->rq->fn;
	json_object *body, *cmd;
	int status, bad = 0;

	if (fn->pull == CONF_PULL_ALWAYS && run_pull(r) == -1)
		return -1;
	if (fn->cmd != NULL)
		cmd = run_strings((const char *const *)fn->cmd, &bad);
	else
		cmd = run_image_command(r);
	if (cmd == NULL)
		return r->res->code != REPLY_OK ? -1 :
		    run_fail(r, REPLY_INTERNAL, "out of memory");
	body = run_create_body(r->rq, cmd);
	if (body == NULL || bad) {
		json_object_put(body);
		return run_fail(r, REPLY_INTERNAL, "out of memory");
	}
	status = run_post_create(r, body);
	if (status == 404 && fn->pull == CONF_PULL_MISSING && !r->res->pulled) {
		if (run_pull(r) == -1) {
			json_object_put(body);
			return -1;
		}
		status = run_post_create(r, body);
	}
	json_object_put(body);

	if (status == -1 && r->res->code != REPLY_OK)
		return -1;
	if (status == -1) {
		run_create_unanswered(r);
		return run_engine_fault(r);
	}
	if (status == 404)
		return run_fail(r, REPLY_IMAGE_NOT_FOUND, "image \"%s\" is not "
		    "on the engine: %s", fn->image, engine_message(r->engine));
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
	r->started = 1;
	return 0;
}

/*
 * Two framings, one inside the other: the engine's stream carries the
 * gate's stdout and stderr, and the gate's stdout carries its own frames
 * of the command's output and, last, the exit record.
 */
struct run_output {
	struct run_result	*res;
	struct stream_parser	 gate;
	unsigned char		 status[GATE_EXIT_LEN];
	size_t			 status_len;
	int			 exited;	/* the exit record is in */
	int			 bad;		/* the gate's frames made no sense */
};

/* Keeps the command's stdout and stderr apart, each up to its cap. */
static int
run_gate_sink(enum stream_type type, const char *data, size_t len,
    void *arg)
{
	struct run_output *o = arg;
	struct run_result *res = o->res;
	const unsigned char *s = o->status;
	size_t n;

	if (o->exited) {
		o->bad = 1;
		return -1;
	}
	switch ((int)type) {
	case GATE_STDOUT:
		if (buf_append(&res->out, data, len) == -1)
			return -1;
		return res->out.truncated ? -1 : 0;
	case GATE_STDERR:
		return buf_append(&res->err, data, len);
	case GATE_EXIT:
		n = sizeof(o->status) - o->status_len;
		if (len > n) {
			o->bad = 1;
			return -1;
		}
		memcpy(o->status + o->status_len, data, len);
		o->status_len += len;
		if (o->status_len < sizeof(o->status))
			return 0;
		res->exit_code = (int)((uint32_t)s[0] << 24 |
		    (uint32_t)s[1] << 16 | (uint32_t)s[2] << 8 | s[3]);
		o->exited = 1;
		/* Nothing may follow: the run is over. */
		return -1;
	default:
		o->bad = 1;
		return -1;
	}
}

/* The engine's level: the gate's stdout is framed, its stderr is not. */
static int
run_sink(enum stream_type type, const char *data, size_t len, void *arg)
{
	struct run_output *o = arg;

	if (type == STREAM_STDOUT)
		return stream_feed(&o->gate, data, len);
	if (type == STREAM_STDERR || type == STREAM_SYSTEMERR)
		return buf_append(&o->res->err, data, len);
	return 0;
}

/* Where feeding stdin stands: the gate's header, then the body. */
struct run_input {
	const char	*data[2];
	size_t		 left[2];
	int		 open;	/* the write side is not closed yet */
};

/*
 * Writes what the stream takes of stdin, and closes it after the last
 * byte.  A container that exits without reading all of its input is not
 * an error: whatever is left is dropped.
 */
static void
run_feed(struct engine_stream *s, struct run_input *in)
{
	struct engine_error err;
	int i = in->left[0] > 0 ? 0 : 1;
	long n;

	if (in->left[i] > 0) {
		n = engine_stream_write(s, in->data[i], in->left[i], &err);
		if (n == -1) {
			in->left[0] = in->left[1] = 0;
		} else {
			in->data[i] += n;
			in->left[i] -= (size_t)n;
		}
	}
	if (in->left[0] == 0 && in->left[1] == 0) {
		engine_stream_close_write(s, &err);
		in->open = 0;
	}
}

/*
 * The gate's header: the request's environment.  Returns 0, or -1 when
 * it is too large for the gate.
 */
static int
run_gate_header(const struct run_request *rq, struct buf *hdr)
{
	size_t i, len = 0;
	unsigned char *p;

	for (i = 0; rq->env != NULL && rq->env[i] != NULL; i++)
		len += strlen(rq->env[i]) + 1;
	if (len > GATE_MAX_ENV)
		return -1;
	hdr->limit = 0;
	if (buf_append(hdr, GATE_MAGIC "\0\0\0\0", GATE_HEADER_LEN) == -1)
		return -1;
	for (i = 0; rq->env != NULL && rq->env[i] != NULL; i++)
		if (buf_append(hdr, rq->env[i], strlen(rq->env[i]) + 1) == -1)
			return -1;
	p = (unsigned char *)hdr->data + 4;
	p[0] = (unsigned char)(len >> 24);
	p[1] = (unsigned char)(len >> 16);
	p[2] = (unsigned char)(len >> 8);
	p[3] = (unsigned char)len;
	return 0;
}

/*
 * Whether the client's connection to us was closed (or an abort arrived:
 * the request's input was read whole, so nothing else may come).
 */
static int
run_client_gone(struct run *r)
{
	char byte;
	ssize_t n;

	n = recv(r->rq->client_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	r->res->client_gone = 1;
	return 1;
}

/* Fails the run when the responder is stopping past its grace period. */
static int
run_cut_short(struct run *r)
{
	if (r->rq->cancel == NULL || !atomic_load(r->rq->cancel))
		return 0;
	return run_fail(r, REPLY_INTERRUPTED, "the responder is stopping; "
	    "the run was cut short");
}

/*
 * One turn of the exchange: waits for the stream, the client or the time
 * limit, feeds what stdin the stream takes, and decodes what arrived.
 * Returns 1 to go on, 0 when the stream ended or the decoders stopped,
 * -1 with the run failed.  *n is what the last read returned.
 */
static int
run_step(struct run *r, struct engine_stream *s, struct run_input *in,
    struct stream_parser *p, long *n)
{
	char chunk[16384];
	long left;
	int ready;

	if (run_cut_short(r) == -1)
		return -1;
	left = (long)(r->deadline - clock_ms());
	ready = engine_stream_wait(s, in->open, r->rq->client_fd,
	    left < RUN_SLICE_MS ? left : RUN_SLICE_MS, &r->err);
	if (ready == -1)
		return run_engine_fault(r);
	if (ready == 0 && clock_ms() >= r->deadline)
		return run_fail(r, REPLY_TIMEOUT, "function \"%s\" passed its "
		    "time limit of %ld ms and was killed", r->rq->fn->name,
		    r->rq->fn->timeout_ms);
	if ((ready & ENGINE_STREAM_WATCHED) && run_client_gone(r))
		return run_fail(r, REPLY_CLIENT_GONE, "the client went away; "
		    "the run was stopped");
	if (ready & ENGINE_STREAM_WRITABLE)
		run_feed(s, in);
	if (!(ready & ENGINE_STREAM_READABLE))
		return 1;

	*n = engine_stream_read(s, chunk, sizeof(chunk), &r->err);
	if (*n == -1)
		return run_engine_fault(r);
	if (*n == 0)
		return 0;
	if (*n > 0 && stream_feed(p, chunk, (size_t)*n) == -1)
		return 0;
	return 1;
}

/*
 * Feeds the gate its header and stdin, and reads the attach stream until
 * the gate's exit record or the stream's end, within the function's time
 * limit.  Returns 0 when the run is over or its output reached the cap,
 * else -1.
 */
static int
run_exchange(struct run *r, struct engine_stream *s, struct run_output *o)
{
	struct run_input in = { { NULL, r->rq->stdin_data },
	    { 0, r->rq->stdin_len }, 1 };
	struct stream_parser p;
	struct buf hdr;
	long n = ENGINE_STREAM_AGAIN;
	int rc;

	buf_init(&hdr, 0);
	if (run_gate_header(r->rq, &hdr) == -1) {
		buf_free(&hdr);
		return run_fail(r, REPLY_INTERNAL, "the request's environment "
		    "is larger than the %d bytes a container is given",
		    GATE_MAX_ENV);
	}
	in.data[0] = hdr.data;
	in.left[0] = hdr.len;
	stream_init(&p, run_sink, o);
	stream_init(&o->gate, run_gate_sink, o);
	do
		rc = run_step(r, s, &in, &p, &n);
	while (rc == 1);
	buf_free(&hdr);

	if (rc == -1 || r->res->out.truncated || o->exited)
		return rc;
	if (o->bad)
		return run_fail(r, REPLY_ENGINE_ERROR, "the gate of the "
		    "container sent frames that make no sense");
	/* The end came without the record: the engine will say why. */
	if (!stream_complete(&p) || n != 0)
		return run_fail(r, REPLY_ENGINE_ERROR,
		    "the container's output stream was cut or malformed");
	return 0;
}

/* Waits for the exit status, which the stream's end does not carry. */
static int
run_wait(struct run *r)
{
	long left = (long)(r->deadline - clock_ms()) + RUN_WAIT_GRACE_MS;
	json_object *obj, *code;
	char path[128];
	int status;

	snprintf(path, sizeof(path), "/containers/%s/wait", r->res->container);
	status = engine_call(r->engine, "POST", path, NULL, left, &r->err);
	if (status == -1)
		return run_engine_fault(r);
	if (status != 200)
		return run_engine_status(r, "report the exit status", status);

	obj = run_reply(r);
	if (json_object_object_get_ex(obj, "StatusCode", &code) &&
	    json_object_is_type(code, json_type_int))
		r->res->exit_code = json_object_get_int(code);
	json_object_put(obj);
	if (r->res->exit_code < 0)
		return run_fail(r, REPLY_ENGINE_ERROR,
		    "engine gave no exit status for the container");
	return 0;
}

/* Whether the engine says the container was killed for memory. */
static int
run_oom_killed(struct run *r)
{
	json_object *obj, *state, *oom;
	struct engine_error err;
	char path[128];
	int i, killed = 0;

	snprintf(path, sizeof(path), "/containers/%s/json", r->res->container);
	/* The flag can be set a moment after the exit is reported. */
	for (i = 0; i < RUN_OOM_TRIES && !killed; i++) {
		if (i > 0)
			run_sleep_ms(RUN_OOM_PAUSE_MS);
		if (engine_call(r->engine, "GET", path, NULL, 0, &err) != 200)
			break;
		obj = run_reply(r);
		if (json_object_object_get_ex(obj, "State", &state) &&
		    json_object_object_get_ex(state, "OOMKilled", &oom))
			killed = json_object_get_boolean(oom);
		json_object_put(obj);
	}
	return killed;
}

/*
 * Removes the container, killing it if it still runs.  A busy engine
 * ("removal in progress") gets a few tries with growing pauses, then the
 * sweep takes over.
 */
static void
run_remove(struct run *r)
{
	struct engine_error err;
	char path[128];
	int status = -1, i;
	long pause = 50;

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
		metrics_removal_retry();
		run_sleep_ms(pause);
		pause *= 2;
	}
	log_warnx("remove container=%.12s request=%s: %s; left to the sweep",
	    r->res->container, r->rq->request_id, status == -1 ? err.message :
	    engine_message(r->engine));
	sweep_defer(r->res->container);
}

/* What run_attached() says of a pre-started container no longer waiting. */
#define RUN_GONE	(-2)

/* Opens the attach stream of the run's container. */
static struct engine_stream *
run_attach(struct run *r)
{
	struct engine_stream *s;
	char path[192];

	snprintf(path, sizeof(path), "/containers/%s/attach?stream=1&stdin=1"
	    "&stdout=1&stderr=1", r->res->container);
	s = engine_attach(r->engine, path, &r->err);
	if (s == NULL)
		run_engine_fault(r);
	return s;
}

/*
 * Whether a pre-started container still waits at its gate.  Its stream
 * was opened before it started, so it ends when the container does; and
 * the gate writes nothing before it has a request.  Anything to read
 * means that the container is of no use.
 */
static int
run_still_waiting(struct engine_stream *s)
{
	struct engine_error err;

	return engine_stream_wait(s, 0, -1, 0, &err) == 0;
}

/*
 * The steps from attach to the exit status; the caller removes.  With
 * warm set, the container of a pre-started stream runs already, its gate
 * waiting for stdin; the stream is closed either way.
 */
static int
run_attached(struct run *r, struct engine_stream *warm)
{
	struct run_output o = { .res = r->res };
	struct engine_stream *s = warm;
	long long t0;
	int rc = 0;

	if (s == NULL)
		s = run_attach(r);
	if (s == NULL)
		return -1;
	if (warm != NULL && !run_still_waiting(warm)) {
		engine_stream_close(warm);
		return RUN_GONE;
	}
	t0 = clock_ms();
	if (warm == NULL)
		rc = run_start(r);
	else
		r->started = 1;
	r->res->ms_start = (long)(clock_ms() - t0);
	if (rc == 0)
		rc = run_exchange(r, s, &o);
	engine_stream_close(s);
	if (rc == -1 || r->res->out.truncated)
		return rc;
	/* Without the gate's record, only the engine knows how it ended. */
	if (!o.exited && run_wait(r) == -1)
		return -1;
	if (r->res->exit_code == RUN_STATUS_SIGKILL && run_oom_killed(r))
		return run_fail(r, REPLY_OUT_OF_MEMORY, "function \"%s\" was "
		    "killed for passing its memory limit of %ld MB",
		    r->rq->fn->name, r->rq->fn->memory_mb);
	return 0;
}

int
run_prestart(struct engine *e, const struct run_request *rq,
    struct run_result *res, struct engine_stream **stream)
{
	struct run r = { .engine = e, .rq = rq, .res = res };
	struct engine_stream *s;

	*stream = NULL;
	if (run_create(&r) == -1)
		return -1;
	s = run_attach(&r);
	if (s == NULL)
		return -1;
	if (run_start(&r) == -1) {
		engine_stream_close(s);
		return -1;
	}
	*stream = s;
	return 0;
}

/* The function's rules, over how the run ended. */
static void
run_judge(struct run *r)
{
	struct run_result *res = r->res;
	const char *name = r->rq->fn->name;

	/*
	 * SIGTERM, or SIGKILL that was not the OOM killer: nothing of ours
	 * sends them, so the engine shutting down or an operator stopped the
	 * container, not the function itself.
	 */
	if (res->code == REPLY_OK && (res->exit_code == RUN_STATUS_SIGTERM ||
	    res->exit_code == RUN_STATUS_SIGKILL))
		run_fail(r, REPLY_ENGINE_ERROR, "the container of \"%s\" was "
		    "stopped from outside (status %d): the engine shut down or "
		    "an operator stopped it", name, res->exit_code);
	if (res->code == REPLY_OK && res->exit_code != 0 &&
	    !res->out.truncated)
		run_fail(r, REPLY_FUNCTION_FAILED, "function \"%s\" exited "
		    "with status %d", name, res->exit_code);
}

/*
 * Releases a pre-started container.  Returns 0 when it ran the function,
 * -1 when it was gone or unusable and the run is still to be made.
 */
static int
run_warm(struct run *r)
{
	struct run_result *res = r->res;
	long long t0 = clock_ms();

	snprintf(res->container, sizeof(res->container), "%s", r->rq->warm);
	r->deadline = t0 + r->rq->fn->timeout_ms;
	if (run_attached(r, r->rq->warm_stream) == RUN_GONE) {
		/* Its gate never read the request: nothing ran. */
		log_warnx("container=%.12s of the pool no longer waits; "
		    "running cold", res->container);
		run_cleanup(r->engine, r->rq, res);
		res->code = REPLY_OK;
		res->message[0] = '\0';
		res->container[0] = '\0';
		res->removed = 0;
		r->started = 0;
		return -1;
	}
	res->warm = 1;
	res->ms_run = (long)(clock_ms() - t0);
	metrics_phase(METRICS_RUN, res->ms_run);
	return 0;
}

int
run_function(struct engine *e, const struct run_request *rq,
    struct run_result *res)
{
	struct run r = { .engine = e, .rq = rq, .res = res };
	long long t0, t1;

	t0 = clock_ms();
	res->out.limit = (size_t)rq->fn->max_output_bytes;
	res->err.limit = (size_t)rq->fn->max_output_bytes;

	if (rq->warm != NULL && run_warm(&r) == 0) {
		res->ms_total = (long)(clock_ms() - t0);
		run_judge(&r);
		return res->code == REPLY_OK ? 0 : -1;
	}
	if (run_create(&r) == 0) {
		t1 = clock_ms();
		res->ms_create = (long)(t1 - t0);
		/* The limit is on the function, not on pulling its image. */
		r.deadline = t1 + rq->fn->timeout_ms;
		run_attached(&r, NULL);
		res->ms_run = (long)(clock_ms() - t1) - res->ms_start;
		metrics_phase(METRICS_CREATE, res->ms_create);
		metrics_phase(METRICS_START, res->ms_start);
		metrics_phase(METRICS_RUN, res->ms_run);
	}
	res->ms_total = (long)(clock_ms() - t0);
	run_judge(&r);
	return res->code == REPLY_OK ? 0 : -1;
}

void
run_cleanup(struct engine *e, const struct run_request *rq,
    struct run_result *res)
{
	struct run r = { .engine = e, .rq = rq, .res = res };
	long long t0;

	if (res->container[0] == '\0' || res->removed)
		return;
	t0 = clock_ms();
	run_remove(&r);
	res->ms_remove = (long)(clock_ms() - t0);
	metrics_phase(METRICS_REMOVE, res->ms_remove);
}
