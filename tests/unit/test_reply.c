/* Checks the JSON bodies, the status table and the UTF-8 repair. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "reply.h"
#include "tap.h"

static struct reply_output
output(const char *s, int exit_code)
{
	struct reply_output o = {
		.stdout_data = s,
		.stdout_len = strlen(s),
		.stderr_data = "",
		.exit_code = exit_code,
	};

	return o;
}

static void
test_success(void)
{
	struct reply_output o = output("Hello from CloudFunc\n", 0);
	char *body = reply_success(&o);

	tap_streq(body, "{\"success\":true,\"output\":\"Hello from CloudFunc\"}",
	    "the seed reply, byte for byte");
	free(body);

	o = output("a/b\n\n\n", 0);
	body = reply_success(&o);
	tap_streq(body, "{\"success\":true,\"output\":\"a/b\"}",
	    "trailing newlines go, slashes stay unescaped");
	free(body);

	o = output("line1\nline2\n", 0);
	body = reply_success(&o);
	tap_streq(body, "{\"success\":true,\"output\":\"line1\\nline2\"}",
	    "inner newlines stay");
	free(body);
}

static void
test_error(void)
{
	struct reply_output o = output("partial\n", 3);
	json_object *obj, *v;
	char *body;

	body = reply_error(REPLY_ENGINE_UNAVAILABLE, "engine down", NULL);
	tap_streq(body, "{\"success\":false,\"code\":\"engine_unavailable\","
	    "\"error\":\"engine down\"}", "an error body without output");
	free(body);

	body = reply_error(REPLY_FUNCTION_FAILED, "exited with status 3", &o);
	obj = json_tokener_parse(body);
	tap_ok(obj != NULL, "an error body with output parses");
	tap_ok(json_object_object_get_ex(obj, "exit_code", &v) &&
	    json_object_get_int(v) == 3, "it carries the exit code");
	tap_ok(json_object_object_get_ex(obj, "output", &v) &&
	    strcmp(json_object_get_string(v), "partial") == 0,
	    "it carries the trimmed output");
	json_object_put(obj);
	free(body);
}

static void
test_detail(void)
{
	struct reply_output o = output("OUT\n", 0);
	char *body;

	o.stderr_data = "warn\n";
	o.stderr_len = 5;
	o.duration_ms = 41;
	o.detail = 1;
	body = reply_success(&o);
	tap_streq(body, "{\"success\":true,\"output\":\"OUT\",\"stderr\":"
	    "\"warn\\n\",\"exit_code\":0,\"duration_ms\":41,"
	    "\"truncated\":false}", "a function's reply has every field");
	free(body);

	o.exit_code = -1;
	o.truncated = 1;
	body = reply_success(&o);
	tap_ok(body != NULL && strstr(body, "\"exit_code\":null") != NULL &&
	    strstr(body, "\"truncated\":true") != NULL,
	    "an unknown exit code is null, truncation is said");
	free(body);
}

static void
test_names(void)
{
	const char *names[] = { "a", "spawnTestContainer" };
	char *body = reply_names(names, 2);

	tap_streq(body, "{\"success\":true,\"functions\":[\"a\","
	    "\"spawnTestContainer\"]}", "the list of functions");
	free(body);
}

static void
test_statuses(void)
{
	tap_ok(reply_status(REPLY_NOT_FOUND) == 404, "not_found is 404");
	tap_ok(reply_status(REPLY_METHOD_NOT_ALLOWED) == 405,
	    "method_not_allowed is 405");
	tap_ok(reply_status(REPLY_IMAGE_NOT_FOUND) == 502,
	    "image_not_found is 502");
	tap_ok(reply_status(REPLY_ENGINE_ERROR) == 502, "engine_error is 502");
	tap_ok(reply_status(REPLY_ENGINE_UNAVAILABLE) == 503,
	    "engine_unavailable is 503");
	tap_ok(reply_status(REPLY_TIMEOUT) == 504, "timeout is 504");
	tap_ok(reply_status(REPLY_INTERNAL) == 500, "internal is 500");
	tap_ok(reply_status(REPLY_BODY_TOO_LARGE) == 413,
	    "body_too_large is 413");
	tap_ok(reply_status(REPLY_REQUEST_TIMEOUT) == 408,
	    "request_timeout is 408");
	tap_ok(reply_status(REPLY_OUT_OF_MEMORY) == 500,
	    "out_of_memory is 500");
	tap_ok(reply_status(REPLY_IMAGE_PULL_FAILED) == 502,
	    "image_pull_failed is 502");
	tap_streq(reply_code_name(REPLY_IMAGE_NOT_FOUND), "image_not_found",
	    "codes have stable names");
}

static void
check_utf8(const char *in, size_t len, const char *want, const char *what)
{
	struct buf b;

	buf_init(&b, 0);
	reply_utf8(&b, in, len);
	tap_streq(b.data ? b.data : "", want, "%s", what);
	buf_free(&b);
}

static void
test_utf8(void)
{
	check_utf8("plain", 5, "plain", "ASCII passes");
	check_utf8("caf\xc3\xa9", 5, "caf\xc3\xa9", "valid two-byte passes");
	check_utf8("\xf0\x9f\x99\x82", 4, "\xf0\x9f\x99\x82",
	    "valid four-byte passes");
	check_utf8("a\xffz", 3, "a\xef\xbf\xbdz", "a stray byte becomes U+FFFD");
	check_utf8("\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd",
	    "an overlong form is replaced byte by byte");
	check_utf8("\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
	    "a surrogate is replaced");
	check_utf8("ab\xe2\x82", 4, "ab\xef\xbf\xbd\xef\xbf\xbd",
	    "a sequence cut at the end is replaced");
}

static void
test_binary_output_is_json(void)
{
	char raw[256];
	struct reply_output o;
	json_object *obj;
	char *body;
	int i;

	for (i = 0; i < 256; i++)
		raw[i] = (char)i;
	o = output("", 0);
	o.stdout_data = raw;
	o.stdout_len = sizeof(raw);
	o.stderr_data = raw;
	o.stderr_len = sizeof(raw);
	o.detail = 1;
	body = reply_success(&o);
	obj = body ? json_tokener_parse(body) : NULL;
	tap_ok(obj != NULL, "every byte value still gives parseable JSON");
	json_object_put(obj);
	free(body);
}

int
main(void)
{
	test_success();
	test_error();
	test_detail();
	test_names();
	test_statuses();
	test_utf8();
	test_binary_output_is_json();
	return tap_done();
}
