/* Backpressure: how many containers may run at once, in all and each. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "slots.h"

/* Guards every field below; waiters sleep on slots_freed. */
static pthread_mutex_t	slots_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	slots_freed;
static long		 total_max, total_used;
static long		*fn_max, *fn_used;
static size_t		 nfunctions;
static int		 closed;

int
slots_init(long max_total, const long *per_function, size_t n)
{
	pthread_condattr_t attr;
	size_t i;

	fn_max = calloc(n ? n : 1, sizeof(*fn_max));
	fn_used = calloc(n ? n : 1, sizeof(*fn_used));
	if (fn_max == NULL || fn_used == NULL) {
		slots_free();
		return -1;
	}
	for (i = 0; i < n; i++)
		fn_max[i] = per_function[i];
	nfunctions = n;
	total_max = max_total;

	/* Waits are measured on the clock that does not jump. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&slots_freed, &attr);
	pthread_condattr_destroy(&attr);
	return 0;
}

void
slots_free(void)
{
	free(fn_max);
	free(fn_used);
	fn_max = fn_used = NULL;
	nfunctions = 0;
}

static int
slots_free_for(size_t i)
{
	return total_used < total_max && (fn_max[i] == 0 ||
	    fn_used[i] < fn_max[i]);
}

int
slots_acquire(size_t i, long wait_ms)
{
	struct timespec until;
	int rc = 0;

	if (i >= nfunctions)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}

	pthread_mutex_lock(&slots_lock);
	while (!closed && !slots_free_for(i) && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&slots_freed, &slots_lock, &until);
	if (closed || !slots_free_for(i)) {
		pthread_mutex_unlock(&slots_lock);
		return -1;
	}
	total_used++;
	fn_used[i]++;
	pthread_mutex_unlock(&slots_lock);
	return 0;
}

void
slots_release(size_t i)
{
	pthread_mutex_lock(&slots_lock);
	total_used--;
	fn_used[i]--;
	pthread_cond_broadcast(&slots_freed);
	pthread_mutex_unlock(&slots_lock);
}

void
slots_close(void)
{
	pthread_mutex_lock(&slots_lock);
	closed = 1;
	pthread_cond_broadcast(&slots_freed);
	pthread_mutex_unlock(&slots_lock);
}

long
slots_in_use(void)
{
	long n;

	pthread_mutex_lock(&slots_lock);
	n = total_used;
	pthread_mutex_unlock(&slots_lock);
	return n;
}
