/* Milliseconds on the clock that does not jump, for deadlines and timings. */
#ifndef CLOUDFUNC_CLOCK_H
#define CLOUDFUNC_CLOCK_H

#include <time.h>

static inline long long
clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
