/* Decoder for the engine's multiplexed stdout/stderr stream. */
#include <string.h>

#include "stream.h"

void
stream_init(struct stream_parser *p, stream_sink sink, void *arg)
{
	memset(p, 0, sizeof(*p));
	p->sink = sink;
	p->arg = arg;
}

/* Takes header bytes; returns how many were used, or -1 for a bad header. */
static long
stream_take_header(struct stream_parser *p, const char *data, size_t len)
{
	size_t want = sizeof(p->header) - p->header_len;
	const unsigned char *h = p->header;

	if (want > len)
		want = len;
	memcpy(p->header + p->header_len, data, want);
	p->header_len += want;
	if (p->header_len < sizeof(p->header))
		return (long)want;

	if (h[0] > STREAM_SYSTEMERR)
		return -1;
	p->type = (enum stream_type)h[0];
	p->remaining = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 |
	    (uint32_t)h[6] << 8 | (uint32_t)h[7];
	p->header_len = 0;
	return (long)want;
}

int
stream_feed(struct stream_parser *p, const char *data, size_t len)
{
	long used;
	size_t n;

	while (len > 0) {
		if (p->remaining == 0) {
			used = stream_take_header(p, data, len);
			if (used == -1)
				return -1;
			data += used;
			len -= (size_t)used;
			continue;
		}

		n = len < p->remaining ? len : p->remaining;
		if (p->sink(p->type, data, n, p->arg) == -1)
			return -1;
		p->remaining -= (uint32_t)n;
		data += n;
		len -= n;
	}
	return 0;
}

int
stream_complete(const struct stream_parser *p)
{
	return p->header_len == 0 && p->remaining == 0;
}
