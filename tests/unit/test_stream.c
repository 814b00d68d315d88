/* Checks the decoder of the engine's multiplexed stream. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "stream.h"
#include "tap.h"

struct sinks {
	struct buf	out, err;
	int		calls;
	int		stop_after;	/* make the sink refuse on this call */
};

static int
collect(enum stream_type type, const char *data, size_t len, void *arg)
{
	struct sinks *s = arg;

	s->calls++;
	if (s->stop_after != 0 && s->calls >= s->stop_after)
		return -1;
	buf_append(type == STREAM_STDOUT ? &s->out : &s->err, data, len);
	return 0;
}

/* Appends one frame: the 8-byte header, then the payload. */
static size_t
frame(char *dst, int type, const char *payload, size_t len)
{
	dst[0] = (char)type;
	dst[1] = dst[2] = dst[3] = 0;
	dst[4] = (char)(len >> 24);
	dst[5] = (char)(len >> 16);
	dst[6] = (char)(len >> 8);
	dst[7] = (char)len;
	memcpy(dst + 8, payload, len);
	return 8 + len;
}

static void
sinks_init(struct sinks *s)
{
	memset(s, 0, sizeof(*s));
	buf_init(&s->out, 0);
	buf_init(&s->err, 0);
}

static void
sinks_free(struct sinks *s)
{
	buf_free(&s->out);
	buf_free(&s->err);
}

/* Feeds the stream in pieces of step bytes. */
static int
feed_by(struct stream_parser *p, const char *data, size_t len, size_t step)
{
	size_t off, n;

	for (off = 0; off < len; off += n) {
		n = len - off < step ? len - off : step;
		if (stream_feed(p, data + off, n) == -1)
			return -1;
	}
	return 0;
}

static void
test_whole_and_split(void)
{
	char wire[256];
	size_t len = 0, step;
	struct stream_parser p;
	struct sinks s;

	len += frame(wire + len, STREAM_STDOUT, "Hello ", 6);
	len += frame(wire + len, STREAM_STDERR, "warn\n", 5);
	len += frame(wire + len, STREAM_STDOUT, "", 0);
	len += frame(wire + len, STREAM_STDOUT, "world\n", 6);

	for (step = 1; step <= len; step++) {
		sinks_init(&s);
		stream_init(&p, collect, &s);
		if (feed_by(&p, wire, len, step) == -1 ||
		    strcmp(s.out.data, "Hello world\n") != 0 ||
		    strcmp(s.err.data, "warn\n") != 0 || !stream_complete(&p)) {
			tap_ok(0, "pieces of %zu bytes decode the same", step);
			sinks_free(&s);
			return;
		}
		sinks_free(&s);
	}
	tap_ok(1, "every split, down to one byte at a time, decodes the same");
}

static void
test_zero_length(void)
{
	char wire[64];
	size_t len = 0;
	struct stream_parser p;
	struct sinks s;

	sinks_init(&s);
	stream_init(&p, collect, &s);
	len += frame(wire + len, STREAM_STDOUT, "", 0);
	len += frame(wire + len, STREAM_STDERR, "", 0);
	tap_ok(stream_feed(&p, wire, len) == 0, "zero-length frames are legal");
	tap_ok(s.calls == 0 && s.out.len == 0 && s.err.len == 0,
	    "zero-length frames deliver nothing");
	tap_ok(stream_complete(&p), "the stream may end after them");
	sinks_free(&s);
}

static void
test_stderr_apart(void)
{
	char wire[64];
	size_t len = 0;
	struct stream_parser p;
	struct sinks s;

	sinks_init(&s);
	stream_init(&p, collect, &s);
	len += frame(wire + len, STREAM_STDERR, "only stderr", 11);
	stream_feed(&p, wire, len);
	tap_ok(s.out.len == 0, "stderr never reaches stdout");
	tap_streq(s.err.data, "only stderr", "stderr keeps its bytes");
	sinks_free(&s);
}

static void
test_bad_type(void)
{
	char wire[64];
	struct stream_parser p;
	struct sinks s;
	size_t len;

	sinks_init(&s);
	stream_init(&p, collect, &s);
	len = frame(wire, 7, "x", 1);
	tap_ok(stream_feed(&p, wire, len) == -1, "type byte 7 is refused");
	tap_ok(s.calls == 0, "nothing of a bad frame is delivered");
	sinks_free(&s);

	sinks_init(&s);
	stream_init(&p, collect, &s);
	tap_ok(stream_feed(&p, "Hello from CloudFunc\n", 21) == -1,
	    "a stream that is not multiplexed (a TTY's) is refused");
	sinks_free(&s);
}

static void
test_truncated(void)
{
	char wire[64];
	struct stream_parser p;
	struct sinks s;
	size_t len;

	sinks_init(&s);
	stream_init(&p, collect, &s);
	len = frame(wire, STREAM_STDOUT, "abcdef", 6);
	stream_feed(&p, wire, 5);
	tap_ok(!stream_complete(&p), "a stream cut inside a header is "
	    "incomplete");

	stream_init(&p, collect, &s);
	stream_feed(&p, wire, len - 2);
	tap_ok(!stream_complete(&p), "a stream cut inside a payload is "
	    "incomplete");
	tap_streq(s.out.data, "abcd", "the payload before the cut is kept");
	sinks_free(&s);
}

static void
test_large_and_stop(void)
{
	size_t n = 70000, len;
	struct stream_parser p;
	struct sinks s;
	char *payload, *wire;

	payload = malloc(n);
	wire = malloc(n + 8);
	memset(payload, 'z', n);
	len = frame(wire, STREAM_STDOUT, payload, n);

	sinks_init(&s);
	stream_init(&p, collect, &s);
	tap_ok(feed_by(&p, wire, len, 4096) == 0 && s.out.len == n,
	    "a frame of %zu bytes (size past 16 bits) arrives whole", n);
	sinks_free(&s);

	sinks_init(&s);
	s.stop_after = 2;
	stream_init(&p, collect, &s);
	tap_ok(feed_by(&p, wire, len, 4096) == -1 && s.calls == 2,
	    "a sink that says stop ends decoding");
	sinks_free(&s);
	free(payload);
	free(wire);
}

int
main(void)
{
	test_whole_and_split();
	test_zero_length();
	test_stderr_apart();
	test_bad_type();
	test_truncated();
	test_large_and_stop();
	return tap_done();
}
