/* Decoder for the engine's multiplexed stdout/stderr stream. */
#ifndef CLOUDFUNC_STREAM_H
#define CLOUDFUNC_STREAM_H

#include <stddef.h>
#include <stdint.h>

/* Stream types as the engine numbers them in the first header byte. */
enum stream_type {
	STREAM_STDIN = 0,
	STREAM_STDOUT = 1,
	STREAM_STDERR = 2,
	STREAM_SYSTEMERR = 3	/* the engine's own error, newer engines */
};

/*
 * Called with each piece of payload in arrival order; one frame may come in
 * several pieces.  Returns 0 to go on, -1 to stop decoding.
 */
typedef int (*stream_sink)(enum stream_type type, const char *data,
    size_t len, void *arg);

struct stream_parser {
	unsigned char	header[8];
	size_t		header_len;	/* header bytes seen so far */
	uint32_t	remaining;	/* payload bytes left in this frame */
	enum stream_type type;
	stream_sink	sink;
	void		*arg;
};

void	stream_init(struct stream_parser *p, stream_sink sink, void *arg);

/*
 * Decodes len more bytes of the stream, which may split headers and frames
 * anywhere.  Returns 0, or -1 when a header names an unknown stream type or
 * the sink asked to stop; the parser is unusable after -1.
 */
int	stream_feed(struct stream_parser *p, const char *data, size_t len);

/*
 * Whether the stream may end here: 1 between frames, 0 in the middle of a
 * header or a payload (the stream was cut).
 */
int	stream_complete(const struct stream_parser *p);

#endif
