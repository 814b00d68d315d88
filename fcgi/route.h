/* Which endpoint a request is for, whatever the front-end passed. */
#ifndef CLOUDFUNC_ROUTE_H
#define CLOUDFUNC_ROUTE_H

#include <stddef.h>

#define ROUTE_MAX_PATH	2048

enum route_kind {
	ROUTE_NONE,		/* no endpoint: 404 */
	ROUTE_SEED,		/* GET /spawnTestContainer */
	ROUTE_FUNCTIONS,	/* GET /functions: the list */
	ROUTE_FUNCTION,		/* GET or POST /functions/NAME */
	ROUTE_HEALTH,		/* GET /healthz */
	ROUTE_METRICS		/* GET /metrics */
};

/* The FastCGI params that carry the path; any of them may be NULL. */
struct route_params {
	const char	*request_uri;	/* /api/x?q=1, as the client sent it */
	const char	*document_uri;	/* nginx: the path after rewrites */
	const char	*script_name;
	const char	*path_info;
};

struct route {
	enum route_kind	 kind;
	char		 path[ROUTE_MAX_PATH];	/* decoded, no query */
	char		 name[65];	/* ROUTE_FUNCTION: the function asked */
};

/*
 * Finds the endpoint from the request's path.  The endpoint is matched on
 * the path's last segments, so that the service works at the root or under
 * any prefix (/api/spawnTestContainer).  A function name is only checked
 * for its form here, not for whether it is configured.  Returns 0, or -1
 * when no path could be read at all (route->kind is then ROUTE_NONE).
 */
int	route_resolve(const struct route_params *params, struct route *route);

/* The methods an endpoint answers, for the Allow header. */
const char *route_allow(enum route_kind kind);

/* Whether the endpoint answers method. */
int	route_method_allowed(enum route_kind kind, const char *method);

#endif
