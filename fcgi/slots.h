/* Backpressure: how many containers may run at once, in all and each. */
#ifndef CLOUDFUNC_SLOTS_H
#define CLOUDFUNC_SLOTS_H

#include <stddef.h>

/*
 * Sets the limits: max_total containers at once, and per_function[i] for
 * function i (0: only the total applies).  Returns 0, or -1 without
 * memory.  Call once, before any thread starts.
 */
int	slots_init(long max_total, const long *per_function, size_t n);

void	slots_free(void);

/*
 * Takes a slot for function i, waiting at most wait_ms for one to free
 * up.  Returns 0 with the slot taken, or -1 when none freed up in time
 * or slots_close() was called.
 */
int	slots_acquire(size_t i, long wait_ms);

/* Gives back the slot taken for function i. */
void	slots_release(size_t i);

/* Wakes every waiter and refuses new slots: the responder is stopping. */
void	slots_close(void);

/* Containers running now, in all. */
long	slots_in_use(void);

#endif
