/* libFuzzer target: routing on the params a front-end passes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *fields[4] = { NULL, NULL, NULL, NULL };
	struct route_params params;
	struct route route;
	char *copy, *p;
	size_t i;

	copy = malloc(size + 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	/* NUL bytes split the input into the four params; "\x01" is absent. */
	p = copy;
	for (i = 0; i < 4 && p <= copy + size; i++) {
		fields[i] = p[0] == '\x01' ? NULL : p;
		p += strlen(p) + 1;
	}
	params.request_uri = fields[0];
	params.document_uri = fields[1];
	params.script_name = fields[2];
	params.path_info = fields[3];
	route_resolve(&params, &route);
	if (strlen(route.path) >= sizeof(route.path) ||
	    strlen(route.name) >= sizeof(route.name))
		abort();
	(void)route_allow(route.kind);
	(void)route_method_allowed(route.kind, "POST");
	free(copy);
	return 0;
}
