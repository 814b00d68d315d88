/* Counters for operators, written in the Prometheus text format. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "pool.h"

/* The HTTP statuses cloudfunc answers with, in the order they print. */
static const int metrics_statuses[] = {
	200, 404, 405, 408, 413, 499, 500, 502, 503, 504
};
#define METRICS_NSTATUS	\
	(sizeof(metrics_statuses) / sizeof(metrics_statuses[0]))

/* Upper bounds of the duration buckets, in seconds. */
static const double metrics_bounds[] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30
};
#define METRICS_NBUCKETS \
	(sizeof(metrics_bounds) / sizeof(metrics_bounds[0]))

static const char *const metrics_phase_names[METRICS_PHASES] = {
	"create", "start", "run", "remove"
};

static const char *const metrics_fault_names[] = {
	[ENGINE_FAULT_NONE] = "none",
	[ENGINE_FAULT_UNAVAILABLE] = "unavailable",
	[ENGINE_FAULT_TIMEOUT] = "timeout",
	[ENGINE_FAULT_PROTOCOL] = "protocol",
	[ENGINE_FAULT_INTERNAL] = "internal",
};
#define METRICS_NFAULTS	\
	(sizeof(metrics_fault_names) / sizeof(metrics_fault_names[0]))

struct metrics_histogram {
	unsigned long long	buckets[METRICS_NBUCKETS];
	unsigned long long	count;
	double			sum;
};

/* Guards every counter below. */
static pthread_mutex_t	metrics_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct conf *metrics_conf;
/* [function index, or nfunctions for none][status index] */
static unsigned long long *metrics_requests;
static long		metrics_flight;
static struct metrics_histogram metrics_phases[METRICS_PHASES];
static unsigned long long metrics_orphans;
static unsigned long long metrics_retries;
static unsigned long long metrics_pool_events[METRICS_POOL_EVENTS];
static const char *const metrics_pool_names[METRICS_POOL_EVENTS] = {
	"hit", "miss", "started", "expired"
};
static unsigned long long metrics_faults[METRICS_NFAULTS];

int
metrics_init(const struct conf *c)
{
	metrics_conf = c;
	metrics_requests = calloc((c->nfunctions + 1) * METRICS_NSTATUS,
	    sizeof(*metrics_requests));
	return metrics_requests == NULL ? -1 : 0;
}

void
metrics_free(void)
{
	free(metrics_requests);
	metrics_requests = NULL;
}

void
metrics_request(const struct conf_function *fn, int status)
{
	size_t row, col;

	if (metrics_requests == NULL)
		return;
	row = fn ? (size_t)(fn - metrics_conf->functions) :
	    metrics_conf->nfunctions;
	for (col = 0; col < METRICS_NSTATUS; col++)
		if (metrics_statuses[col] == status)
			break;
	if (col == METRICS_NSTATUS)
		col = 6;	/* an unknown status counts as a 500 */
	pthread_mutex_lock(&metrics_lock);
	metrics_requests[row * METRICS_NSTATUS + col]++;
	pthread_mutex_unlock(&metrics_lock);
}

void
metrics_in_flight(int delta)
{
	pthread_mutex_lock(&metrics_lock);
	metrics_flight += delta;
	pthread_mutex_unlock(&metrics_lock);
}

void
metrics_phase(enum metrics_phase phase, long ms)
{
	struct metrics_histogram *h = &metrics_phases[phase];
	double s = (double)ms / 1000.0;
	size_t i;

	pthread_mutex_lock(&metrics_lock);
	for (i = 0; i < METRICS_NBUCKETS; i++)
		if (s <= metrics_bounds[i])
			h->buckets[i]++;
	h->count++;
	h->sum += s;
	pthread_mutex_unlock(&metrics_lock);
}

void
metrics_swept(int n)
{
	pthread_mutex_lock(&metrics_lock);
	metrics_orphans += (unsigned long long)n;
	pthread_mutex_unlock(&metrics_lock);
}

void
metrics_pool(enum metrics_pool what)
{
	pthread_mutex_lock(&metrics_lock);
	metrics_pool_events[what]++;
	pthread_mutex_unlock(&metrics_lock);
}

void
metrics_removal_retry(void)
{
	pthread_mutex_lock(&metrics_lock);
	metrics_retries++;
	pthread_mutex_unlock(&metrics_lock);
}

void
metrics_engine_error(enum engine_fault kind)
{
	pthread_mutex_lock(&metrics_lock);
	if ((size_t)kind < METRICS_NFAULTS)
		metrics_faults[kind]++;
	pthread_mutex_unlock(&metrics_lock);
}

static int metrics_printf(struct buf *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
metrics_printf(struct buf *out, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	return buf_append(out, line, (size_t)n < sizeof(line) ? (size_t)n :
	    sizeof(line) - 1);
}

static int
metrics_write_requests(struct buf *out)
{
	const struct conf *c = metrics_conf;
	size_t row, col;
	int rc = 0;

	rc |= metrics_printf(out, "# HELP cloudfunc_requests_total Requests "
	    "answered, by function and HTTP status.\n"
	    "# TYPE cloudfunc_requests_total counter\n");
	for (row = 0; row <= c->nfunctions; row++)
		for (col = 0; col < METRICS_NSTATUS; col++)
			rc |= metrics_printf(out, "cloudfunc_requests_total"
			    "{function=\"%s\",status=\"%d\"} %llu\n",
			    row < c->nfunctions ? c->functions[row].name : "",
			    metrics_statuses[col],
			    metrics_requests[row * METRICS_NSTATUS + col]);
	return rc;
}

static int
metrics_write_phases(struct buf *out)
{
	const struct metrics_histogram *h;
	size_t p, i;
	int rc = 0;

	rc |= metrics_printf(out, "# HELP cloudfunc_phase_duration_seconds "
	    "Time each phase of a run took.\n"
	    "# TYPE cloudfunc_phase_duration_seconds histogram\n");
	for (p = 0; p < METRICS_PHASES; p++) {
		h = &metrics_phases[p];
		for (i = 0; i < METRICS_NBUCKETS; i++)
			rc |= metrics_printf(out, "cloudfunc_phase_duration_"
			    "seconds_bucket{phase=\"%s\",le=\"%g\"} %llu\n",
			    metrics_phase_names[p], metrics_bounds[i],
			    h->buckets[i]);
		rc |= metrics_printf(out, "cloudfunc_phase_duration_seconds_"
		    "bucket{phase=\"%s\",le=\"+Inf\"} %llu\n"
		    "cloudfunc_phase_duration_seconds_sum{phase=\"%s\"} %.6f\n"
		    "cloudfunc_phase_duration_seconds_count{phase=\"%s\"} "
		    "%llu\n", metrics_phase_names[p], h->count,
		    metrics_phase_names[p], h->sum, metrics_phase_names[p],
		    h->count);
	}
	return rc;
}

static int
metrics_write_gauges(struct buf *out, long running)
{
	size_t k;
	int rc = 0;

	rc |= metrics_printf(out, "# HELP cloudfunc_requests_in_flight "
	    "Requests being served now.\n"
	    "# TYPE cloudfunc_requests_in_flight gauge\n"
	    "cloudfunc_requests_in_flight %ld\n", metrics_flight);
	rc |= metrics_printf(out, "# HELP cloudfunc_containers_running "
	    "Containers of this instance running now.\n"
	    "# TYPE cloudfunc_containers_running gauge\n"
	    "cloudfunc_containers_running %ld\n", running);
	rc |= metrics_printf(out, "# HELP cloudfunc_orphans_swept_total "
	    "Containers removed by sweeps.\n"
	    "# TYPE cloudfunc_orphans_swept_total counter\n"
	    "cloudfunc_orphans_swept_total %llu\n", metrics_orphans);
	rc |= metrics_printf(out, "# HELP cloudfunc_removal_retries_total "
	    "Removals tried again after the engine refused.\n"
	    "# TYPE cloudfunc_removal_retries_total counter\n"
	    "cloudfunc_removal_retries_total %llu\n", metrics_retries);
	rc |= metrics_printf(out, "# HELP cloudfunc_engine_errors_total "
	    "Engine calls that got no usable answer, by kind.\n"
	    "# TYPE cloudfunc_engine_errors_total counter\n");
	for (k = 1; k < METRICS_NFAULTS; k++)
		rc |= metrics_printf(out, "cloudfunc_engine_errors_total"
		    "{kind=\"%s\"} %llu\n", metrics_fault_names[k],
		    metrics_faults[k]);
	rc |= metrics_printf(out, "# HELP cloudfunc_pool_ready Pre-started "
	    "containers waiting for a request.\n"
	    "# TYPE cloudfunc_pool_ready gauge\n"
	    "cloudfunc_pool_ready %ld\n", pool_ready());
	rc |= metrics_printf(out, "# HELP cloudfunc_pool_events_total "
	    "Pre-started containers: taken (hit), wanted but none ready "
	    "(miss), started, replaced after their idle time (expired).\n"
	    "# TYPE cloudfunc_pool_events_total counter\n");
	for (k = 0; k < METRICS_POOL_EVENTS; k++)
		rc |= metrics_printf(out, "cloudfunc_pool_events_total"
		    "{event=\"%s\"} %llu\n", metrics_pool_names[k],
		    metrics_pool_events[k]);
	return rc;
}

int
metrics_write(struct buf *out, long running)
{
	int rc = 0;

	pthread_mutex_lock(&metrics_lock);
	if (metrics_requests != NULL)
		rc |= metrics_write_requests(out);
	rc |= metrics_write_phases(out);
	rc |= metrics_write_gauges(out, running);
	pthread_mutex_unlock(&metrics_lock);
	return rc == 0 ? 0 : -1;
}
