/* A client for the Docker Engine API, over a Unix socket or TLS: libcurl. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "clock.h"
#include "engine.h"

#define ENGINE_MAX_BODY		(4 * 1024 * 1024)
#define ENGINE_MAX_HEADERS	8192

struct engine {
	const struct engine_config *cfg;
	CURL		*api;
	struct buf	 body;
	char		 version[16];
	char		 api_version_header[16];	/* from the last reply */
	char		 curl_error[CURL_ERROR_SIZE];
	char		 message[512];
};

struct engine_stream {
	CURL		*handle;
	curl_socket_t	 fd;
	char		 pending[ENGINE_MAX_HEADERS];	/* read past the headers */
	size_t		 pending_len;
	size_t		 pending_off;
	char		 curl_error[CURL_ERROR_SIZE];
};

/* The version every worker uses, learnt from the first ping. */
static pthread_mutex_t	version_lock = PTHREAD_MUTEX_INITIALIZER;
static char		version_shared[16];

static void engine_fail(struct engine_error *err, enum engine_fault kind,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
engine_fail(struct engine_error *err, enum engine_fault kind,
    const char *fmt, ...)
{
	va_list ap;

	err->kind = kind;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

int
engine_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void
engine_global_cleanup(void)
{
	curl_global_cleanup();
}

struct engine *
engine_new(const struct engine_config *cfg)
{
	struct engine *e;

	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	e->cfg = cfg;
	buf_init(&e->body, ENGINE_MAX_BODY);
	e->api = curl_easy_init();
	if (e->api == NULL) {
		free(e);
		return NULL;
	}
	return e;
}

void
engine_free(struct engine *e)
{
	if (e == NULL)
		return;
	curl_easy_cleanup(e->api);
	buf_free(&e->body);
	free(e);
}

const struct buf *
engine_body(const struct engine *e)
{
	return &e->body;
}

const char *
engine_version(const struct engine *e)
{
	return e->version;
}

/* Sorts a libcurl failure into what the caller can tell the client. */
static void
engine_curl_fault(CURLcode rc, const char *detail, const char *what,
    struct engine_error *err)
{
	const char *why = detail[0] != '\0' ? detail : curl_easy_strerror(rc);

	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
	/* An engine we cannot trust is as good as none. */
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		engine_fail(err, ENGINE_FAULT_UNAVAILABLE,
		    "engine unavailable during %s: %s", what, why);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		engine_fail(err, ENGINE_FAULT_TIMEOUT,
		    "engine did not answer %s in time: %s", what, why);
		break;
	case CURLE_OUT_OF_MEMORY:
	case CURLE_FAILED_INIT:
	case CURLE_UNKNOWN_OPTION:
	case CURLE_BAD_FUNCTION_ARGUMENT:
		engine_fail(err, ENGINE_FAULT_INTERNAL,
		    "cannot call the engine (%s): %s", what, why);
		break;
	default:
		engine_fail(err, ENGINE_FAULT_PROTOCOL,
		    "bad reply from the engine to %s: %s", what, why);
		break;
	}
}

static size_t
engine_write_body(char *data, size_t size, size_t n, void *arg)
{
	struct engine *e = arg;

	if (buf_append(&e->body, data, size * n) == -1)
		return 0;
	return size * n;
}

/* Keeps the Api-Version header of a reply, which /_ping carries. */
static size_t
engine_write_header(char *data, size_t size, size_t n, void *arg)
{
	static const char name[] = "Api-Version:";
	struct engine *e = arg;
	size_t len = size * n, vlen;
	const char *v;

	if (len <= strlen(name) || strncasecmp(data, name, strlen(name)) != 0)
		return len;
	v = data + strlen(name);
	vlen = len - strlen(name);
	while (vlen > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' ||
	    v[vlen - 1] == ' '))
		vlen--;
	if (vlen < sizeof(e->api_version_header)) {
		memcpy(e->api_version_header, v, vlen);
		e->api_version_header[vlen] = '\0';
	}
	return len;
}

/* Sets the options every request shares; returns 0 or -1. */
static int
engine_setup(struct engine *e, CURL *h, const char *url, long timeout_ms)
{
	int rc = 0;

	rc |= curl_easy_setopt(h, CURLOPT_URL, url);
	if (e->cfg->socket_path != NULL)
		rc |= curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH,
		    e->cfg->socket_path);
	if (e->cfg->tls_ca != NULL) {
		/* The engine must prove itself with the CA; so must we. */
		rc |= curl_easy_setopt(h, CURLOPT_CAINFO, e->cfg->tls_ca);
		rc |= curl_easy_setopt(h, CURLOPT_SSLCERT, e->cfg->tls_cert);
		rc |= curl_easy_setopt(h, CURLOPT_SSLKEY, e->cfg->tls_key);
		rc |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
		rc |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	}
	rc |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	    e->cfg->connect_timeout_ms);
	rc |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	return rc == 0 ? 0 : -1;
}

/* Compares dotted versions numerically: "1.9" comes before "1.41". */
static int
engine_version_cmp(const char *a, const char *b)
{
	unsigned long amaj = 0, amin = 0, bmaj = 0, bmin = 0;

	sscanf(a, "%lu.%lu", &amaj, &amin);
	sscanf(b, "%lu.%lu", &bmaj, &bmin);
	if (amaj != bmaj)
		return amaj < bmaj ? -1 : 1;
	if (amin != bmin)
		return amin < bmin ? -1 : 1;
	return 0;
}

/* One request on the keep-alive handle; path is the full path. */
static int
engine_perform(struct engine *e, const char *method, const char *path,
    const char *json, const char *header, long timeout_ms,
    struct engine_error *err)
{
	struct curl_slist *headers = NULL;
	char url[1024];
	long status = 0;
	CURLcode rc;
	int bad = 0;

	snprintf(url, sizeof(url), "%s%s", e->cfg->base_url, path);
	buf_reset(&e->body);
	e->curl_error[0] = '\0';
	e->api_version_header[0] = '\0';

	curl_easy_reset(e->api);
	bad |= engine_setup(e, e->api, url, timeout_ms);
	bad |= curl_easy_setopt(e->api, CURLOPT_ERRORBUFFER, e->curl_error);
	bad |= curl_easy_setopt(e->api, CURLOPT_WRITEFUNCTION,
	    engine_write_body);
	bad |= curl_easy_setopt(e->api, CURLOPT_WRITEDATA, e);
	bad |= curl_easy_setopt(e->api, CURLOPT_HEADERFUNCTION,
	    engine_write_header);
	bad |= curl_easy_setopt(e->api, CURLOPT_HEADERDATA, e);
	if (strcmp(method, "POST") == 0) {
		headers = curl_slist_append(NULL,
		    "Content-Type: application/json");
		bad |= headers == NULL;
		bad |= curl_easy_setopt(e->api, CURLOPT_POSTFIELDS,
		    json ? json : "");
	} else if (strcmp(method, "GET") != 0) {
		bad |= curl_easy_setopt(e->api, CURLOPT_CUSTOMREQUEST, method);
	}
	if (header != NULL) {
		struct curl_slist *more = curl_slist_append(headers, header);

		bad |= more == NULL;
		headers = more ? more : headers;
	}
	if (headers != NULL)
		bad |= curl_easy_setopt(e->api, CURLOPT_HTTPHEADER, headers);
	if (bad) {
		curl_slist_free_all(headers);
		engine_fail(err, ENGINE_FAULT_INTERNAL,
		    "cannot set up the engine call %s %s", method, path);
		return -1;
	}

	rc = curl_easy_perform(e->api);
	curl_slist_free_all(headers);
	if (rc != CURLE_OK) {
		engine_curl_fault(rc, e->curl_error, path, err);
		return -1;
	}
	curl_easy_getinfo(e->api, CURLINFO_RESPONSE_CODE, &status);
	return (int)status;
}

int
engine_ping(struct engine *e, int force, struct engine_error *err)
{
	const char *theirs;
	int status;

	pthread_mutex_lock(&version_lock);
	snprintf(e->version, sizeof(e->version), "%s", version_shared);
	pthread_mutex_unlock(&version_lock);
	if (e->version[0] != '\0' && !force)
		return 0;

	status = engine_perform(e, "GET", "/_ping", NULL, NULL,
	    e->cfg->timeout_ms, err);
	if (status == -1)
		return -1;
	if (status != 200) {
		engine_fail(err, ENGINE_FAULT_PROTOCOL,
		    "engine answered /_ping with HTTP %d", status);
		return -1;
	}

	theirs = e->api_version_header;
	if (theirs[0] == '\0')
		theirs = ENGINE_API_VERSION;
	if (engine_version_cmp(theirs, ENGINE_API_MINIMUM) < 0) {
		engine_fail(err, ENGINE_FAULT_PROTOCOL, "engine API %s is "
		    "older than %s, the oldest supported", theirs,
		    ENGINE_API_MINIMUM);
		return -1;
	}
	if (engine_version_cmp(theirs, ENGINE_API_VERSION) > 0)
		theirs = ENGINE_API_VERSION;
	snprintf(e->version, sizeof(e->version), "%s", theirs);

	pthread_mutex_lock(&version_lock);
	snprintf(version_shared, sizeof(version_shared), "%s", e->version);
	pthread_mutex_unlock(&version_lock);
	return 0;
}

int
engine_call_header(struct engine *e, const char *method, const char *path,
    const char *json, const char *header, long timeout_ms,
    struct engine_error *err)
{
	char full[1024];

	if (engine_ping(e, 0, err) == -1)
		return -1;
	if (timeout_ms <= 0)
		timeout_ms = e->cfg->timeout_ms;
	snprintf(full, sizeof(full), "/v%s%s", e->version, path);
	return engine_perform(e, method, full, json, header, timeout_ms, err);
}

int
engine_call(struct engine *e, const char *method, const char *path,
    const char *json, long timeout_ms, struct engine_error *err)
{
	return engine_call_header(e, method, path, json, NULL, timeout_ms,
	    err);
}

const char *
engine_message(struct engine *e)
{
	json_object *obj, *msg;
	size_t n;

	e->message[0] = '\0';
	obj = json_tokener_parse(e->body.data ? e->body.data : "");
	if (json_object_object_get_ex(obj, "message", &msg) &&
	    json_object_is_type(msg, json_type_string))
		snprintf(e->message, sizeof(e->message), "%s",
		    json_object_get_string(msg));
	json_object_put(obj);
	if (e->message[0] != '\0' || e->body.data == NULL)
		return e->message;

	snprintf(e->message, sizeof(e->message), "%s", e->body.data);
	n = strlen(e->message);
	while (n > 0 && (e->message[n - 1] == '\n' || e->message[n - 1] == '\r'))
		e->message[--n] = '\0';
	return e->message;
}

/* Waits until the socket is ready for events or the deadline passes. */
static int
engine_wait_socket(curl_socket_t fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	long long left;
	int n;

	for (;;) {
		left = deadline - clock_ms();
		if (left <= 0)
			return 0;
		n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return 1;
		if (n == -1 && errno != EINTR)
			return -1;
	}
}

static int
engine_stream_send(struct engine_stream *s, const char *data, size_t len,
    long long deadline, struct engine_error *err)
{
	size_t sent;
	CURLcode rc;

	while (len > 0) {
		rc = curl_easy_send(s->handle, data, len, &sent);
		if (rc == CURLE_AGAIN) {
			if (engine_wait_socket(s->fd, POLLOUT, deadline) <= 0) {
				engine_fail(err, ENGINE_FAULT_TIMEOUT,
				    "engine did not take the attach request "
				    "in time");
				return -1;
			}
			continue;
		}
		if (rc != CURLE_OK) {
			engine_curl_fault(rc, "", "attach", err);
			return -1;
		}
		data += sent;
		len -= sent;
	}
	return 0;
}

/* Reads raw bytes from the connection, below any buffered leftovers. */
static long
engine_stream_recv(struct engine_stream *s, char *data, size_t len,
    long long deadline, struct engine_error *err)
{
	size_t got;
	CURLcode rc;
	int ready;

	for (;;) {
		rc = curl_easy_recv(s->handle, data, len, &got);
		if (rc == CURLE_OK)
			return (long)got;
		if (rc != CURLE_AGAIN) {
			engine_curl_fault(rc, "", "the attach stream", err);
			return -1;
		}
		ready = engine_wait_socket(s->fd, POLLIN, deadline);
		if (ready == 0) {
			engine_fail(err, ENGINE_FAULT_TIMEOUT,
			    "no output from the container in time");
			return -1;
		}
		if (ready == -1) {
			engine_fail(err, ENGINE_FAULT_INTERNAL,
			    "poll on the attach stream: %s", strerror(errno));
			return -1;
		}
	}
}

/*
 * Reads the reply headers of the attach request and checks that the
 * engine switched protocols; what follows them is kept as stream data.
 */
static int
engine_stream_headers(struct engine_stream *s, long long deadline,
    struct engine_error *err)
{
	char *end;
	int status;
	long n;

	s->pending_len = 0;
	for (;;) {
		if (s->pending_len == sizeof(s->pending) - 1) {
			engine_fail(err, ENGINE_FAULT_PROTOCOL,
			    "attach reply headers are too long");
			return -1;
		}
		n = engine_stream_recv(s, s->pending + s->pending_len,
		    sizeof(s->pending) - 1 - s->pending_len, deadline, err);
		if (n == -1)
			return -1;
		if (n == 0) {
			engine_fail(err, ENGINE_FAULT_UNAVAILABLE,
			    "engine closed the attach connection");
			return -1;
		}
		s->pending_len += (size_t)n;
		s->pending[s->pending_len] = '\0';
		end = strstr(s->pending, "\r\n\r\n");
		if (end != NULL)
			break;
	}

	if (sscanf(s->pending, "HTTP/1.%*d %d", &status) != 1) {
		engine_fail(err, ENGINE_FAULT_PROTOCOL,
		    "attach reply is not HTTP");
		return -1;
	}
	if (status != 101 && status != 200) {
		engine_fail(err, ENGINE_FAULT_PROTOCOL,
		    "engine refused to attach: HTTP %d", status);
		return -1;
	}
	s->pending_off = (size_t)(end + 4 - s->pending);
	return 0;
}

struct engine_stream *
engine_attach(struct engine *e, const char *path, struct engine_error *err)
{
	long long deadline = clock_ms() + e->cfg->timeout_ms;
	struct engine_stream *s;
	char request[1024];
	CURLcode rc;
	int bad = 0;

	if (engine_ping(e, 0, err) == -1)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s != NULL)
		s->handle = curl_easy_init();
	if (s == NULL || s->handle == NULL) {
		free(s);
		engine_fail(err, ENGINE_FAULT_INTERNAL, "out of memory");
		return NULL;
	}

	snprintf(request, sizeof(request), "%s/", e->cfg->base_url);
	bad |= engine_setup(e, s->handle, request, e->cfg->timeout_ms);
	bad |= curl_easy_setopt(s->handle, CURLOPT_CONNECT_ONLY, 1L);
	bad |= curl_easy_setopt(s->handle, CURLOPT_ERRORBUFFER, s->curl_error);
	if (bad) {
		engine_fail(err, ENGINE_FAULT_INTERNAL,
		    "cannot set up the attach connection");
		goto fail;
	}
	rc = curl_easy_perform(s->handle);
	if (rc != CURLE_OK) {
		engine_curl_fault(rc, s->curl_error, "attach", err);
		goto fail;
	}
	rc = curl_easy_getinfo(s->handle, CURLINFO_ACTIVESOCKET, &s->fd);
	if (rc != CURLE_OK || s->fd == CURL_SOCKET_BAD) {
		engine_fail(err, ENGINE_FAULT_INTERNAL,
		    "no socket for the attach connection");
		goto fail;
	}

	snprintf(request, sizeof(request), "POST /v%s%s HTTP/1.1\r\n"
	    "Host: docker\r\nUpgrade: tcp\r\nConnection: Upgrade\r\n"
	    "Content-Length: 0\r\n\r\n", e->version, path);
	if (engine_stream_send(s, request, strlen(request), deadline, err) == -1)
		goto fail;
	if (engine_stream_headers(s, deadline, err) == -1)
		goto fail;
	return s;

fail:
	engine_stream_close(s);
	return NULL;
}

int
engine_stream_wait(struct engine_stream *s, int want_write, int watch_fd,
    long timeout_ms, struct engine_error *err)
{
	struct pollfd pfd[2] = {
		{ .fd = s->fd, .events = POLLIN },
		{ .fd = watch_fd, .events = POLLIN },
	};
	int n, ready = 0;

	if (s->pending_off < s->pending_len)
		return ENGINE_STREAM_READABLE;
	if (want_write)
		pfd[0].events |= POLLOUT;
	if (timeout_ms < 0)
		timeout_ms = 0;
	n = poll(pfd, watch_fd >= 0 ? 2 : 1,
	    timeout_ms > INT_MAX ? INT_MAX : (int)timeout_ms);
	if (n == -1 && errno == EINTR)
		return 0;
	if (n == -1) {
		engine_fail(err, ENGINE_FAULT_INTERNAL,
		    "poll on the attach stream: %s", strerror(errno));
		return -1;
	}
	/* A hang-up or error is read as the end of the stream. */
	if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
		ready |= ENGINE_STREAM_READABLE;
	if (pfd[0].revents & POLLOUT)
		ready |= ENGINE_STREAM_WRITABLE;
	if (watch_fd >= 0 && pfd[1].revents != 0)
		ready |= ENGINE_STREAM_WATCHED;
	return ready;
}

long
engine_stream_read(struct engine_stream *s, char *data, size_t len,
    struct engine_error *err)
{
	size_t n, got;
	CURLcode rc;

	if (s->pending_off < s->pending_len) {
		n = s->pending_len - s->pending_off;
		if (n > len)
			n = len;
		memcpy(data, s->pending + s->pending_off, n);
		s->pending_off += n;
		return (long)n;
	}
	rc = curl_easy_recv(s->handle, data, len, &got);
	if (rc == CURLE_AGAIN)
		return ENGINE_STREAM_AGAIN;
	if (rc != CURLE_OK) {
		engine_curl_fault(rc, "", "the attach stream", err);
		return -1;
	}
	return (long)got;
}

long
engine_stream_write(struct engine_stream *s, const char *data, size_t len,
    struct engine_error *err)
{
	size_t sent = 0;
	CURLcode rc;

	rc = curl_easy_send(s->handle, data, len, &sent);
	if (rc == CURLE_AGAIN)
		return 0;
	if (rc != CURLE_OK) {
		engine_curl_fault(rc, "", "writing to the container's stdin",
		    err);
		return -1;
	}
	return (long)sent;
}

int
engine_stream_close_write(struct engine_stream *s, struct engine_error *err)
{
	if (shutdown(s->fd, SHUT_WR) == -1) {
		engine_fail(err, ENGINE_FAULT_UNAVAILABLE,
		    "closing the container's stdin: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void
engine_stream_close(struct engine_stream *s)
{
	if (s == NULL)
		return;
	curl_easy_cleanup(s->handle);
	free(s);
}
