/* libFuzzer target: the multiplexed stream decoder, fed in random pieces. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "stream.h"

static int
fuzz_sink(enum stream_type type, const char *data, size_t len, void *arg)
{
	size_t *total = arg;

	/* Touch every byte, so that a bad length shows up under ASan. */
	for (size_t i = 0; i < len; i++)
		*total += (unsigned char)data[i] + (size_t)type;
	return *total % 977 == 0 ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream_parser p;
	size_t total = 0, off = 0, step;

	if (size == 0)
		return 0;
	/* The first byte picks how the rest is split into reads. */
	step = (size_t)data[0] % 17 + 1;
	stream_init(&p, fuzz_sink, &total);
	for (off = 1; off < size; off += step) {
		size_t n = size - off < step ? size - off : step;

		if (stream_feed(&p, (const char *)data + off, n) == -1)
			break;
	}
	(void)stream_complete(&p);
	return 0;
}
