/* Checks routing on what nginx and lighttpd pass, at the root and below. */
#include <string.h>

#include "route.h"
#include "tap.h"

static enum route_kind
kind_of(const char *request_uri, const char *document_uri,
    const char *script_name, const char *path_info)
{
	struct route_params p = { request_uri, document_uri, script_name,
	    path_info };
	struct route r;

	route_resolve(&p, &r);
	return r.kind;
}

static void
test_front_ends(void)
{
	tap_ok(kind_of("/spawnTestContainer", "/spawnTestContainer",
	    "/spawnTestContainer", "") == ROUTE_SEED,
	    "nginx with fastcgi_params");
	tap_ok(kind_of("/spawnTestContainer?x=1", NULL, "/spawnTestContainer",
	    NULL) == ROUTE_SEED, "lighttpd, with a query string");
	tap_ok(kind_of(NULL, NULL, "", "/spawnTestContainer") == ROUTE_SEED,
	    "lighttpd with check-local off: the path in PATH_INFO");
	tap_ok(kind_of(NULL, "/spawnTestContainer", NULL, NULL) == ROUTE_SEED,
	    "DOCUMENT_URI alone");
	tap_ok(kind_of(NULL, NULL, "/api", "/spawnTestContainer") ==
	    ROUTE_SEED, "SCRIPT_NAME plus PATH_INFO");
}

static void
test_prefixes(void)
{
	tap_ok(kind_of("/api/spawnTestContainer", NULL, NULL, NULL) ==
	    ROUTE_SEED, "mounted under /api/");
	tap_ok(kind_of("/a/b/c/spawnTestContainer/", NULL, NULL, NULL) ==
	    ROUTE_SEED, "a deep prefix and a trailing slash");
	tap_ok(kind_of("/api/spawn%54estContainer", NULL, NULL, NULL) ==
	    ROUTE_SEED, "percent-encoding is decoded");
}

static void
test_not_found(void)
{
	struct route_params p = { "/nope?spawnTestContainer", NULL, NULL, NULL };
	struct route r;

	tap_ok(kind_of("/", NULL, NULL, NULL) == ROUTE_NONE, "the root");
	tap_ok(kind_of("/spawnTestContainer/x", NULL, NULL, NULL) ==
	    ROUTE_NONE, "a segment after the endpoint");
	tap_ok(kind_of("/spawntestcontainer", NULL, NULL, NULL) == ROUTE_NONE,
	    "case matters");
	tap_ok(kind_of("/spawnTestContainer%00", NULL, NULL, NULL) ==
	    ROUTE_NONE, "an encoded NUL");
	tap_ok(kind_of("/bad%zz", NULL, NULL, NULL) == ROUTE_NONE,
	    "a bad escape");
	tap_ok(kind_of(NULL, NULL, NULL, NULL) == ROUTE_NONE, "no path at all");
	route_resolve(&p, &r);
	tap_ok(r.kind == ROUTE_NONE, "the query string is not the path");
	tap_streq(r.path, "/nope", "the path is kept for the error message");
}

static void
test_functions(void)
{
	struct route_params p = { "/api/functions/up-per_2?x", NULL, NULL,
	    NULL };
	struct route r;

	route_resolve(&p, &r);
	tap_ok(r.kind == ROUTE_FUNCTION, "/functions/NAME under a prefix");
	tap_streq(r.name, "up-per_2", "the function's name");
	tap_ok(kind_of("/functions", NULL, NULL, NULL) == ROUTE_FUNCTIONS,
	    "/functions lists");
	tap_ok(kind_of("/functions/", NULL, NULL, NULL) == ROUTE_FUNCTIONS,
	    "/functions/ lists too");
	tap_ok(kind_of("/functions/a.b", NULL, NULL, NULL) == ROUTE_NONE,
	    "a name outside [A-Za-z0-9_-] is no function");
	tap_ok(kind_of("/functions/spawnTestContainer", NULL, NULL, NULL) ==
	    ROUTE_FUNCTION, "the seed as a function");
	tap_ok(kind_of("/functions/a/b", NULL, NULL, NULL) == ROUTE_NONE,
	    "a segment after the name");
	tap_ok(route_method_allowed(ROUTE_FUNCTION, "POST"),
	    "POST runs a function");
	tap_ok(!route_method_allowed(ROUTE_FUNCTIONS, "POST"),
	    "POST does not list");
}

static void
test_methods(void)
{
	tap_ok(route_method_allowed(ROUTE_SEED, "GET"), "GET is allowed");
	tap_ok(route_method_allowed(ROUTE_SEED, "HEAD"), "HEAD is allowed");
	tap_ok(!route_method_allowed(ROUTE_SEED, "POST"), "POST is not");
	tap_streq(route_allow(ROUTE_SEED), "GET, HEAD", "the Allow header");
}

int
main(void)
{
	test_front_ends();
	test_prefixes();
	test_not_found();
	test_functions();
	test_methods();
	return tap_done();
}
