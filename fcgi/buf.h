/* Growable byte buffers with an upper bound, for engine replies and output. */
#ifndef CLOUDFUNC_BUF_H
#define CLOUDFUNC_BUF_H

#include <stddef.h>

struct buf {
	char	*data;		/* always NUL-terminated when non-NULL */
	size_t	 len;
	size_t	 cap;		/* bytes allocated */
	size_t	 limit;		/* most bytes kept; 0 means no limit */
	int	 truncated;	/* bytes were dropped at the limit */
};

/* Prepares an empty buffer that keeps at most limit bytes (0: no limit). */
void	buf_init(struct buf *b, size_t limit);

/*
 * Appends len bytes, keeping what fits under the limit and setting
 * truncated for the rest.  Returns 0, or -1 when memory runs out (the
 * buffer keeps what it had).
 */
int	buf_append(struct buf *b, const void *data, size_t len);

/* Empties the buffer and keeps its memory for reuse. */
void	buf_reset(struct buf *b);

/* Releases the memory; the buffer may be initialised again. */
void	buf_free(struct buf *b);

#endif
