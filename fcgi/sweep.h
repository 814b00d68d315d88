/* Orphans: finding and removing containers that no live request owns. */
#ifndef CLOUDFUNC_SWEEP_H
#define CLOUDFUNC_SWEEP_H

#include "engine.h"

/*
 * Remembers a container whose removal failed, for the next sweep.  Safe
 * from any thread.
 */
void	sweep_defer(const char *id);

/*
 * Remembers a request whose create call got no answer: the engine may
 * have made its container all the same, under the request's label, and
 * the next sweeps remove it if so.  The request is forgotten at the Unix
 * time until, when no create can still be in flight.  Safe from any
 * thread.
 */
void	sweep_defer_request(const char *request_id, long long until);

/* How many deferred removals, of containers or requests, wait. */
int	sweep_pending(void);

/*
 * Removes cloudfunc's containers that no live request owns: those of dead
 * instances on this host, those past their deadline wherever they were
 * made, the deferred ones, and with mine_too every one of this instance's
 * (at stop, when no request is left).  Returns how many were removed, or
 * -1 when the engine could not be asked.
 */
int	sweep_run(struct engine *e, int mine_too);

#endif
