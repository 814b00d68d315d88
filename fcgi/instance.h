/* Who this responder process is, and whether another one still lives. */
#ifndef CLOUDFUNC_INSTANCE_H
#define CLOUDFUNC_INSTANCE_H

#include <stddef.h>

/*
 * Names this process and announces that it lives: it holds a socket in
 * the abstract namespace named after the instance, which the kernel
 * releases when the process dies, however it dies.  Returns 0, or -1 with
 * errno set.  Call once, at start-up.
 */
int	instance_init(void);

/* This process's name: "HOST-PID-RANDOM". */
const char *instance_name(void);

/*
 * Where this process runs: the host name, boot id and network namespace,
 * which together say whether another instance can be asked if it lives.
 */
const char *instance_host(void);

/*
 * Whether the instance named name, running where host says, is alive.
 * Returns 1 alive, 0 dead, and -1 when that cannot be told from here (an
 * instance elsewhere).
 */
int	instance_alive(const char *name, const char *host);

#endif
