/* Which endpoint a request is for, whatever the front-end passed. */
#include <stdio.h>
#include <string.h>

#include "route.h"

static int
route_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Copies the path part of src (up to '?' or '#') into dst, decoding %XX.
 * Returns 0, or -1 for a path that is too long, badly encoded or holds a
 * NUL.
 */
static int
route_decode(const char *src, char *dst, size_t len)
{
	size_t o = 0;
	int hi, lo;

	for (; *src != '\0' && *src != '?' && *src != '#'; src++) {
		char c = *src;

		if (c == '%') {
			hi = route_hex(src[1]);
			lo = hi == -1 ? -1 : route_hex(src[2]);
			if (lo == -1 || (hi == 0 && lo == 0)) {
				dst[o] = '\0';
				return -1;
			}
			c = (char)(hi << 4 | lo);
			src += 2;
		}
		if (o + 1 >= len) {
			dst[o] = '\0';
			return -1;
		}
		dst[o++] = c;
	}
	dst[o] = '\0';
	return 0;
}

/* The raw path: REQUEST_URI first, as it is what the client asked for. */
static int
route_raw_path(const struct route_params *p, char *dst, size_t len)
{
	char joined[ROUTE_MAX_PATH];
	int n;

	if (p->request_uri != NULL && p->request_uri[0] != '\0')
		return route_decode(p->request_uri, dst, len);
	if (p->document_uri != NULL && p->document_uri[0] != '\0')
		return route_decode(p->document_uri, dst, len);
	if (p->script_name == NULL && p->path_info == NULL)
		return -1;
	n = snprintf(joined, sizeof(joined), "%s%s",
	    p->script_name ? p->script_name : "",
	    p->path_info ? p->path_info : "");
	if (n < 0 || (size_t)n >= sizeof(joined))
		return -1;
	return route_decode(joined, dst, len);
}

/*
 * Splits off the last non-empty segment of path: returns it, and cuts
 * path before it.  Returns "" when there is none.
 */
static char *
route_pop_segment(char *path)
{
	size_t n = strlen(path);

	while (n > 0 && path[n - 1] == '/')
		path[--n] = '\0';
	while (n > 0 && path[n - 1] != '/')
		n--;
	if (n == 0)
		return path;
	path[n - 1] = '\0';
	return path + n;
}

static int
route_valid_name(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= 64 && strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

int
route_resolve(const struct route_params *params, struct route *route)
{
	char scratch[ROUTE_MAX_PATH];
	const char *last, *before;

	route->kind = ROUTE_NONE;
	route->path[0] = '\0';
	route->name[0] = '\0';
	if (route_raw_path(params, route->path, sizeof(route->path)) == -1)
		return -1;

	memcpy(scratch, route->path, sizeof(scratch));
	last = route_pop_segment(scratch);
	before = route_pop_segment(scratch);
	if (strcmp(before, "functions") == 0 && route_valid_name(last)) {
		route->kind = ROUTE_FUNCTION;
		snprintf(route->name, sizeof(route->name), "%s", last);
	} else if (strcmp(last, "spawnTestContainer") == 0) {
		route->kind = ROUTE_SEED;
	} else if (strcmp(last, "functions") == 0) {
		route->kind = ROUTE_FUNCTIONS;
	} else if (strcmp(last, "healthz") == 0) {
		route->kind = ROUTE_HEALTH;
	} else if (strcmp(last, "metrics") == 0) {
		route->kind = ROUTE_METRICS;
	}
	return 0;
}

const char *
route_allow(enum route_kind kind)
{
	switch (kind) {
	case ROUTE_SEED:
	case ROUTE_FUNCTIONS:
	case ROUTE_HEALTH:
	case ROUTE_METRICS:
		return "GET, HEAD";
	case ROUTE_FUNCTION:
		return "GET, HEAD, POST";
	default:
		return "";
	}
}

int
route_method_allowed(enum route_kind kind, const char *method)
{
	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
		return kind != ROUTE_NONE;
	if (strcmp(method, "POST") == 0)
		return kind == ROUTE_FUNCTION;
	return 0;
}
