/* libFuzzer target: the configuration loader, on any text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[4096], *text;
	struct conf c;

	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	unsetenv("DOCKER_HOST");
	if (conf_defaults(&c, err, sizeof(err)) == 0 &&
	    conf_load_text(&c, "fuzz.json", text, err, sizeof(err)) == 0)
		conf_free(&c);
	free(text);
	return 0;
}
