/* What the client receives: result codes, HTTP statuses and JSON bodies. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "reply.h"

static const struct {
	const char	*name;
	int		 status;
} reply_codes[] = {
	[REPLY_OK] =			{ "ok", 200 },
	[REPLY_NOT_FOUND] =		{ "not_found", 404 },
	[REPLY_METHOD_NOT_ALLOWED] =	{ "method_not_allowed", 405 },
	[REPLY_REQUEST_TIMEOUT] =	{ "request_timeout", 408 },
	[REPLY_BODY_TOO_LARGE] =	{ "body_too_large", 413 },
	[REPLY_FUNCTION_FAILED] =	{ "function_failed", 500 },
	[REPLY_OUT_OF_MEMORY] =		{ "out_of_memory", 500 },
	[REPLY_TIMEOUT] =		{ "timeout", 504 },
	[REPLY_IMAGE_NOT_FOUND] =	{ "image_not_found", 502 },
	[REPLY_IMAGE_PULL_FAILED] =	{ "image_pull_failed", 502 },
	[REPLY_ENGINE_ERROR] =		{ "engine_error", 502 },
	[REPLY_ENGINE_UNAVAILABLE] =	{ "engine_unavailable", 503 },
	[REPLY_ENGINE_LOST] =		{ "engine_lost", 502 },
	[REPLY_INTERRUPTED] =		{ "interrupted", 502 },
	[REPLY_BUSY] =			{ "busy", 503 },
	[REPLY_SHUTTING_DOWN] =		{ "shutting_down", 503 },
	/* Nobody reads it; nginx logs a closed client as 499. */
	[REPLY_CLIENT_GONE] =		{ "client_gone", 499 },
	[REPLY_INTERNAL] =		{ "internal", 500 },
};

int
reply_status(enum reply_code code)
{
	return reply_codes[code].status;
}

const char *
reply_code_name(enum reply_code code)
{
	return reply_codes[code].name;
}

const char *
reply_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Payload Too Large";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 499: return "Client Closed Request";
	default: return "Unknown";
	}
}

size_t
reply_trim_newlines(const char *data, size_t len)
{
	while (len > 0 && data[len - 1] == '\n')
		len--;
	return len;
}

/*
 * The length of the valid UTF-8 sequence at s, or 0 when the first byte
 * does not start one.  Overlong forms, surrogates and code points past
 * U+10FFFF are invalid.
 */
static size_t
reply_utf8_seq(const unsigned char *s, size_t len)
{
	size_t n, i;
	unsigned long cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

int
reply_utf8(struct buf *dst, const char *data, size_t len)
{
	static const char replacement[] = "\xef\xbf\xbd";
	const unsigned char *s = (const unsigned char *)data;
	size_t start = 0, i = 0, n;

	while (i < len) {
		n = reply_utf8_seq(s + i, len - i);
		if (n > 0) {
			i += n;
			continue;
		}
		if (buf_append(dst, data + start, i - start) == -1 ||
		    buf_append(dst, replacement, 3) == -1)
			return -1;
		i++;
		start = i;
	}
	return buf_append(dst, data + start, i - start);
}

/* Adds key: data made valid UTF-8, trimmed of trailing newlines if asked. */
static int
reply_add_text(json_object *obj, const char *key, const char *data,
    size_t len, int trim)
{
	json_object *str;
	struct buf b;

	buf_init(&b, 0);
	if (trim)
		len = reply_trim_newlines(data, len);
	if (reply_utf8(&b, data ? data : "", len) == -1) {
		buf_free(&b);
		return -1;
	}
	str = json_object_new_string_len(b.data ? b.data : "", (int)b.len);
	buf_free(&b);
	if (str == NULL)
		return -1;
	return json_object_object_add(obj, key, str);
}

/* Adds what a run produced: output always, the rest with detail. */
static int
reply_add_output(json_object *obj, const struct reply_output *out)
{
	int rc = 0;

	rc |= reply_add_text(obj, "output", out->stdout_data, out->stdout_len,
	    1);
	if (out->detail)
		rc |= reply_add_text(obj, "stderr", out->stderr_data,
		    out->stderr_len, 0);
	if (out->exit_code >= 0)
		rc |= json_object_object_add(obj, "exit_code",
		    json_object_new_int(out->exit_code));
	else if (out->detail)
		rc |= json_object_object_add(obj, "exit_code", NULL);
	if (out->detail) {
		rc |= json_object_object_add(obj, "duration_ms",
		    json_object_new_int64(out->duration_ms));
		rc |= json_object_object_add(obj, "truncated",
		    json_object_new_boolean(out->truncated));
	}
	return rc;
}

/* Serialises obj into a string the caller frees, and releases obj. */
static char *
reply_finish(json_object *obj)
{
	const char *text;
	char *copy = NULL;

	text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text != NULL)
		copy = strdup(text);
	json_object_put(obj);
	return copy;
}

char *
reply_success(const struct reply_output *out)
{
	json_object *obj;
	int rc = 0;

	obj = json_object_new_object();
	if (obj == NULL)
		return NULL;
	rc |= json_object_object_add(obj, "success",
	    json_object_new_boolean(1));
	if (out->detail) {
		rc |= reply_add_output(obj, out);
	} else {
		rc |= reply_add_text(obj, "output", out->stdout_data,
		    out->stdout_len, 1);
	}
	if (rc != 0) {
		json_object_put(obj);
		return NULL;
	}
	return reply_finish(obj);
}

char *
reply_error(enum reply_code code, const char *message,
    const struct reply_output *out)
{
	json_object *obj;
	int rc = 0;

	obj = json_object_new_object();
	if (obj == NULL)
		return NULL;
	rc |= json_object_object_add(obj, "success",
	    json_object_new_boolean(0));
	rc |= json_object_object_add(obj, "code",
	    json_object_new_string(reply_code_name(code)));
	rc |= reply_add_text(obj, "error", message, strlen(message), 0);
	if (out != NULL)
		rc |= reply_add_output(obj, out);
	if (rc != 0) {
		json_object_put(obj);
		return NULL;
	}
	return reply_finish(obj);
}

char *
reply_names(const char *const *names, size_t n)
{
	json_object *obj, *arr;
	size_t i;
	int rc = 0;

	obj = json_object_new_object();
	arr = json_object_new_array();
	if (obj == NULL || arr == NULL) {
		json_object_put(obj);
		json_object_put(arr);
		return NULL;
	}
	for (i = 0; i < n; i++)
		rc |= json_object_array_add(arr, json_object_new_string(names[i]));
	rc |= json_object_object_add(obj, "success", json_object_new_boolean(1));
	rc |= json_object_object_add(obj, "functions", arr);
	if (rc != 0) {
		json_object_put(obj);
		return NULL;
	}
	return reply_finish(obj);
}

char *
reply_health(const char *api_version, const char *instance, long running,
    long pool_ready)
{
	json_object *obj, *engine, *pool;
	int rc = 0;

	obj = json_object_new_object();
	engine = json_object_new_object();
	pool = json_object_new_object();
	if (obj == NULL || engine == NULL || pool == NULL) {
		json_object_put(obj);
		json_object_put(engine);
		json_object_put(pool);
		return NULL;
	}
	rc |= json_object_object_add(engine, "api_version",
	    json_object_new_string(api_version));
	rc |= json_object_object_add(pool, "enabled",
	    json_object_new_boolean(pool_ready >= 0));
	if (pool_ready >= 0)
		rc |= json_object_object_add(pool, "ready",
		    json_object_new_int64(pool_ready));
	rc |= json_object_object_add(obj, "success", json_object_new_boolean(1));
	rc |= json_object_object_add(obj, "engine", engine);
	rc |= json_object_object_add(obj, "instance",
	    json_object_new_string(instance));
	rc |= json_object_object_add(obj, "containers_running",
	    json_object_new_int64(running));
	rc |= json_object_object_add(obj, "pool", pool);
	if (rc != 0) {
		json_object_put(obj);
		return NULL;
	}
	return reply_finish(obj);
}
