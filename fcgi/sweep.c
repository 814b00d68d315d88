/* Orphans: finding and removing containers that no live request owns. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "instance.h"
#include "log.h"
#include "metrics.h"
#include "run.h"
#include "sweep.h"

#define SWEEP_MAX_DEFERRED	1024
#define SWEEP_MAX_UNSURE	256
/* Every container of ours, running or not, from any instance. */
#define SWEEP_LIST_PATH	"/containers/json?all=1&filters=" \
	"%7B%22label%22%3A%5B%22cloudfunc.owner%3Dcloudfunc%22%5D%7D"

/* Guards the deferred removals. */
static pthread_mutex_t	deferred_lock = PTHREAD_MUTEX_INITIALIZER;
static char		deferred[SWEEP_MAX_DEFERRED][72];
static int		ndeferred;
/* Requests that may have a container nobody knows the id of. */
static struct {
	char		request[72];
	long long	until;
} unsure[SWEEP_MAX_UNSURE];
static int		nunsure;

void
sweep_defer(const char *id)
{
	int i;

	pthread_mutex_lock(&deferred_lock);
	for (i = 0; i < ndeferred; i++)
		if (strcmp(deferred[i], id) == 0)
			break;
	if (i == ndeferred && ndeferred < SWEEP_MAX_DEFERRED)
		snprintf(deferred[ndeferred++], sizeof(deferred[0]), "%s", id);
	pthread_mutex_unlock(&deferred_lock);
}

void
sweep_defer_request(const char *request_id, long long until)
{
	pthread_mutex_lock(&deferred_lock);
	if (nunsure < SWEEP_MAX_UNSURE) {
		snprintf(unsure[nunsure].request, sizeof(unsure[0].request),
		    "%s", request_id);
		unsure[nunsure++].until = until;
	}
	pthread_mutex_unlock(&deferred_lock);
}

int
sweep_pending(void)
{
	int n;

	pthread_mutex_lock(&deferred_lock);
	n = ndeferred + nunsure;
	pthread_mutex_unlock(&deferred_lock);
	return n;
}

/*
 * Whether request is one whose create got no answer.  It stays on the
 * list until its time is up: a create sent again may have made two.
 */
static int
sweep_unsure(const char *request)
{
	int i, found = 0;

	pthread_mutex_lock(&deferred_lock);
	for (i = 0; i < nunsure && !found; i++)
		found = strcmp(unsure[i].request, request) == 0;
	pthread_mutex_unlock(&deferred_lock);
	return found;
}

/* Forgets the requests past the time when their create could land. */
static void
sweep_forget_unsure(void)
{
	long long now = (long long)time(NULL);
	int i;

	pthread_mutex_lock(&deferred_lock);
	for (i = 0; i < nunsure; i++)
		if (unsure[i].until < now)
			unsure[i--] = unsure[--nunsure];
	pthread_mutex_unlock(&deferred_lock);
}

/* Takes id off the deferred list; returns whether it was on it. */
static int
sweep_undefer(const char *id)
{
	int i, found = 0;

	pthread_mutex_lock(&deferred_lock);
	for (i = 0; i < ndeferred; i++) {
		if (strcmp(deferred[i], id) == 0) {
			memmove(deferred[i], deferred[i + 1],
			    (size_t)(ndeferred - i - 1) * sizeof(deferred[0]));
			ndeferred--;
			found = 1;
			break;
		}
	}
	pthread_mutex_unlock(&deferred_lock);
	return found;
}

static const char *
sweep_label(json_object *labels, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(labels, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

/*
 * Why a container should go, or NULL to leave it: a live request of some
 * instance may still need it.
 */
static const char *
sweep_reason(json_object *labels, int deferred_here, int mine_too)
{
	const char *instance = sweep_label(labels, RUN_LABEL_INSTANCE);
	const char *host = sweep_label(labels, RUN_LABEL_HOST);
	long long deadline = atoll(sweep_label(labels, RUN_LABEL_DEADLINE));

	if (strcmp(instance, instance_name()) == 0) {
		if (deferred_here)
			return "failed-removal";
		if (sweep_unsure(sweep_label(labels, RUN_LABEL_REQUEST)))
			return "failed-create";
		if (mine_too)
			return "stopping";
	} else if (instance_alive(instance, host) == 0) {
		return "dead-instance";
	}
	if (deadline > 0 && deadline < (long long)time(NULL))
		return "past-deadline";
	return NULL;
}

/* Returns 0 when removed, 1 when another is removing it, -1 on failure. */
static int
sweep_remove(struct engine *e, const char *id)
{
	struct engine_error err;
	char path[128];
	int status;

	snprintf(path, sizeof(path), "/containers/%s?force=1&v=1", id);
	status = engine_call(e, "DELETE", path, NULL, 0, &err);
	if (status == 204 || status == 404)
		return 0;
	/* Another instance's sweep got there first: it will be gone. */
	if (status == 409 && strstr(engine_message(e), "in progress") != NULL) {
		log_debug("sweep: container=%.12s is being removed already",
		    id);
		return 1;
	}
	log_warnx("sweep: cannot remove container=%.12s: %s", id,
	    status == -1 ? err.message : engine_message(e));
	return -1;
}

/* Collects what to remove from the engine's list, then removes it. */
static int
sweep_list(struct engine *e, json_object *list, int mine_too)
{
	size_t i, n = json_object_array_length(list);
	json_object *c, *id, *labels;
	const char *why, *cid;
	int removed = 0, was_deferred, rc;

	for (i = 0; i < n; i++) {
		c = json_object_array_get_idx(list, i);
		if (!json_object_object_get_ex(c, "Id", &id) ||
		    !json_object_object_get_ex(c, "Labels", &labels))
			continue;
		cid = json_object_get_string(id);
		was_deferred = sweep_undefer(cid);
		why = sweep_reason(labels, was_deferred, mine_too);
		if (why == NULL)
			continue;
		rc = sweep_remove(e, cid);
		if (rc == -1)
			sweep_defer(cid);
		if (rc != 0)
			continue;
		log_info("event=sweep container=%.12s instance=%s "
		    "function=%s request=%s reason=%s", cid,
		    sweep_label(labels, RUN_LABEL_INSTANCE),
		    sweep_label(labels, RUN_LABEL_FUNCTION),
		    sweep_label(labels, RUN_LABEL_REQUEST), why);
		removed++;
	}
	return removed;
}

/* Whether the engine's list holds a container with this id. */
static int
sweep_listed(json_object *list, const char *cid)
{
	size_t i, n = json_object_array_length(list);
	json_object *id;

	for (i = 0; i < n; i++)
		if (json_object_object_get_ex(json_object_array_get_idx(list, i),
		    "Id", &id) && strcmp(json_object_get_string(id), cid) == 0)
			return 1;
	return 0;
}

/* Forgets deferred removals of containers the engine no longer has. */
static void
sweep_forget_gone(json_object *list, char (*before)[72], int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!sweep_listed(list, before[i]))
			sweep_undefer(before[i]);
}

int
sweep_run(struct engine *e, int mine_too)
{
	static char before[SWEEP_MAX_DEFERRED][72];
	static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER;
	struct engine_error err;
	json_object *list;
	int status, removed, nbefore;

	/* One sweep at a time; "before" is its scratch. */
	pthread_mutex_lock(&run_lock);
	pthread_mutex_lock(&deferred_lock);
	nbefore = ndeferred;
	memcpy(before, deferred, (size_t)nbefore * sizeof(deferred[0]));
	pthread_mutex_unlock(&deferred_lock);

	status = engine_call(e, "GET", SWEEP_LIST_PATH, NULL, 0, &err);
	if (status != 200) {
		log_debug("sweep: cannot list containers: %s",
		    status == -1 ? err.message : engine_message(e));
		pthread_mutex_unlock(&run_lock);
		return -1;
	}
	list = json_tokener_parse(engine_body(e)->data);
	if (!json_object_is_type(list, json_type_array)) {
		json_object_put(list);
		log_warnx("sweep: the engine's container list is not an array");
		pthread_mutex_unlock(&run_lock);
		return -1;
	}
	sweep_forget_gone(list, before, nbefore);
	removed = sweep_list(e, list, mine_too);
	sweep_forget_unsure();
	metrics_swept(removed);
	json_object_put(list);
	pthread_mutex_unlock(&run_lock);
	return removed;
}
