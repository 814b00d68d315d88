/*
 * What the responder and the gate say to each other.  The gate is the
 * first process of every container: it waits for a header on stdin, runs
 * the function's command, and frames what the command writes so that its
 * exit status can follow in a record the command cannot forge.
 */
#ifndef CLOUDFUNC_GATE_H
#define CLOUDFUNC_GATE_H

/* Where the gate is mounted, read-only, inside every container. */
#define GATE_MOUNT	"/.cloudfunc-gate"

/*
 * The header on stdin: these four bytes, the payload's length as a
 * big-endian 32-bit number, then "KEY=value" strings, each ended by a NUL,
 * which the command gets in its environment over the container's own.
 * Everything after the header is the command's stdin, untouched.
 */
#define GATE_MAGIC	"cfg1"
#define GATE_HEADER_LEN	8
#define GATE_MAX_ENV	(256 * 1024)

/*
 * The gate's frames on stdout: a type byte, three zero bytes, the payload
 * length as a big-endian 32-bit number, then the payload.
 */
#define GATE_FRAME_LEN	8
#define GATE_STDOUT	1	/* the command's stdout */
#define GATE_STDERR	2	/* the command's stderr */
/*
 * The last frame: the command's exit status as a big-endian 32-bit
 * number, 128 plus the signal number when a signal ended it.
 */
#define GATE_EXIT	3
#define GATE_EXIT_LEN	4

#endif
