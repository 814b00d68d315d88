/* Images: pulling what the engine lacks, once however many ask at once. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "image.h"
#include "log.h"

/* One pull in progress, which later callers for the image wait on. */
struct image_pull {
	struct image_pull *next;
	char		*image;
	int		 done;
	int		 rc;
	int		 unavailable;
	char		 msg[512];
	int		 users;		/* the puller and its waiters */
};

/* Guards the list of pulls in progress; each waits on pulls_done. */
static pthread_mutex_t	pulls_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	pulls_done = PTHREAD_COND_INITIALIZER;
static struct image_pull *pulls;

void
image_registry(const char *image, char *dst, size_t len)
{
	const char *slash = strchr(image, '/');
	size_t n;

	/* Like the docker CLI: a first part with '.' or ':' is a host. */
	if (slash != NULL) {
		n = (size_t)(slash - image);
		if (memchr(image, '.', n) != NULL ||
		    memchr(image, ':', n) != NULL ||
		    (n == 9 && strncmp(image, "localhost", 9) == 0)) {
			snprintf(dst, len, "%.*s", (int)n, image);
			return;
		}
	}
	snprintf(dst, len, "docker.io");
}

static const char image_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Decodes standard base64 into dst; returns the length or -1. */
static long
image_b64_decode(const char *src, char *dst, size_t len)
{
	unsigned long acc = 0;
	size_t o = 0;
	int bits = 0;
	const char *p;

	for (; *src != '\0' && *src != '='; src++) {
		p = strchr(image_b64, *src);
		if (p == NULL || *src == '\0')
			return -1;
		acc = (acc << 6 | (unsigned long)(p - image_b64)) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o + 1 >= len)
				return -1;
			dst[o++] = (char)(acc >> bits & 0xff);
		}
	}
	dst[o] = '\0';
	return (long)o;
}

/* Encodes src as base64url, which the engine expects for registry auth. */
static char *
image_b64url_encode(const char *src, size_t n)
{
	const unsigned char *s = (const unsigned char *)src;
	char *out = malloc(n / 3 * 4 + 5), *o;
	unsigned long v;
	size_t i;

	if (out == NULL)
		return NULL;
	o = out;
	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned long)s[i] << 16 | (unsigned long)s[i + 1] << 8 |
		    s[i + 2];
		*o++ = image_b64[v >> 18 & 63];
		*o++ = image_b64[v >> 12 & 63];
		*o++ = image_b64[v >> 6 & 63];
		*o++ = image_b64[v & 63];
	}
	if (i < n) {
		v = (unsigned long)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned long)s[i + 1] << 8;
		*o++ = image_b64[v >> 18 & 63];
		*o++ = image_b64[v >> 12 & 63];
		*o++ = i + 1 < n ? image_b64[v >> 6 & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	for (o = out; *o != '\0'; o++) {
		if (*o == '+')
			*o = '-';
		else if (*o == '/')
			*o = '_';
	}
	return out;
}

/* The "user:password" of the auths entry for registry, decoded. */
static int
image_find_auth(json_object *top, const char *registry, char *dst,
    size_t len, char *msg, size_t msglen)
{
	json_object *auths, *entry, *auth;

	if (!json_object_object_get_ex(top, "auths", &auths) ||
	    !json_object_is_type(auths, json_type_object)) {
		snprintf(msg, msglen, "no \"auths\" object");
		return -1;
	}
	if (!json_object_object_get_ex(auths, registry, &entry)) {
		if (strcmp(registry, "docker.io") != 0 ||
		    !json_object_object_get_ex(auths,
		    "https://index.docker.io/v1/", &entry))
			return 0;
	}
	if (!json_object_object_get_ex(entry, "auth", &auth) ||
	    !json_object_is_type(auth, json_type_string) ||
	    image_b64_decode(json_object_get_string(auth), dst, len) < 0 ||
	    strchr(dst, ':') == NULL) {
		snprintf(msg, msglen, "the entry for %s has no valid \"auth\" "
		    "(base64 of user:password)", registry);
		return -1;
	}
	return 1;
}

char *
image_auth_header(const char *image, const char *auth_file, char *msg,
    size_t msglen)
{
	char registry[256], userpass[1024], *colon, *header = NULL;
	json_object *top, *creds;
	const char *text;
	int found;

	msg[0] = '\0';
	top = json_object_from_file(auth_file);
	if (top == NULL) {
		snprintf(msg, msglen, "registry_auth_file %s: %s", auth_file,
		    json_util_get_last_err());
		return NULL;
	}
	image_registry(image, registry, sizeof(registry));
	found = image_find_auth(top, registry, userpass, sizeof(userpass), msg,
	    msglen);
	json_object_put(top);
	if (found <= 0)
		return NULL;

	colon = strchr(userpass, ':');
	*colon = '\0';
	creds = json_object_new_object();
	json_object_object_add(creds, "username",
	    json_object_new_string(userpass));
	json_object_object_add(creds, "password",
	    json_object_new_string(colon + 1));
	json_object_object_add(creds, "serveraddress",
	    json_object_new_string(registry));
	text = json_object_to_json_string_ext(creds, JSON_C_TO_STRING_PLAIN);
	if (text != NULL)
		header = image_b64url_encode(text, strlen(text));
	json_object_put(creds);
	memset(userpass, 0, sizeof(userpass));
	if (header == NULL)
		snprintf(msg, msglen, "out of memory");
	return header;
}

/* The first {"error": ...} in the engine's stream of pull progress. */
static int
image_stream_error(const char *body, char *msg, size_t msglen)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *obj, *error;
	size_t len = strlen(body), off = 0;
	int found = 0;

	while (tok != NULL && !found && off < len) {
		obj = json_tokener_parse_ex(tok, body + off, (int)(len - off));
		if (obj == NULL)
			break;
		off += json_tokener_get_parse_end(tok);
		if (json_object_object_get_ex(obj, "error", &error)) {
			snprintf(msg, msglen, "%s", json_object_get_string(error));
			found = 1;
		}
		json_object_put(obj);
		json_tokener_reset(tok);
		while (off < len && (body[off] == '\n' || body[off] == '\r' ||
		    body[off] == ' '))
			off++;
	}
	json_tokener_free(tok);
	return found;
}

/* Asks the engine to pull; the caller holds no lock. */
static int
image_do_pull(struct engine *e, const char *image, const char *auth_file,
    long timeout_ms, char *msg, size_t msglen, int *unavailable)
{
	struct engine_error err;
	char path[1024], header[4096] = "", *auth = NULL;
	const char *last = strrchr(image, '/');
	int status, tagged;

	last = last ? last + 1 : image;
	tagged = strchr(last, ':') != NULL || strchr(image, '@') != NULL;
	/* Without a tag the engine would pull every tag of the repository. */
	snprintf(path, sizeof(path), "/images/create?fromImage=%s%s", image,
	    tagged ? "" : "&tag=latest");

	if (auth_file != NULL) {
		auth = image_auth_header(image, auth_file, msg, msglen);
		if (auth == NULL && msg[0] != '\0')
			return -1;
		if (auth != NULL)
			snprintf(header, sizeof(header), "X-Registry-Auth: %s",
			    auth);
		free(auth);
	}

	status = engine_call_header(e, "POST", path, NULL,
	    header[0] ? header : NULL, timeout_ms, &err);
	memset(header, 0, sizeof(header));
	if (status == -1) {
		*unavailable = err.kind == ENGINE_FAULT_UNAVAILABLE ||
		    err.kind == ENGINE_FAULT_TIMEOUT;
		snprintf(msg, msglen, "%s", err.message);
		return -1;
	}
	if (status != 200) {
		snprintf(msg, msglen, "%s", engine_message(e));
		return -1;
	}
	if (image_stream_error(engine_body(e)->data ? engine_body(e)->data : "",
	    msg, msglen))
		return -1;
	return 0;
}

/* Finds the pull of image in progress, or registers the caller's. */
static struct image_pull *
image_join(const char *image, int *leader)
{
	struct image_pull *p;

	for (p = pulls; p != NULL; p = p->next) {
		if (strcmp(p->image, image) == 0 && !p->done) {
			p->users++;
			*leader = 0;
			return p;
		}
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->image = strdup(image);
	if (p->image == NULL) {
		free(p);
		return NULL;
	}
	p->users = 1;
	p->next = pulls;
	pulls = p;
	*leader = 1;
	return p;
}

/* Drops one user of p; the last one unlinks and frees it. */
static void
image_leave(struct image_pull *p)
{
	struct image_pull **pp;

	if (--p->users > 0)
		return;
	for (pp = &pulls; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	free(p->image);
	free(p);
}

int
image_pull(struct engine *e, const char *image, const char *auth_file,
    long timeout_ms, char *msg, size_t msglen, int *unavailable)
{
	struct image_pull *p;
	int leader, rc;

	*unavailable = 0;
	pthread_mutex_lock(&pulls_lock);
	p = image_join(image, &leader);
	if (p == NULL) {
		pthread_mutex_unlock(&pulls_lock);
		snprintf(msg, msglen, "out of memory");
		return -1;
	}
	if (leader) {
		pthread_mutex_unlock(&pulls_lock);
		log_info("event=pull image=%s", image);
		rc = image_do_pull(e, image, auth_file, timeout_ms, p->msg,
		    sizeof(p->msg), &p->unavailable);
		if (rc == -1)
			log_warnx("pull image=%s failed: %s", image, p->msg);
		pthread_mutex_lock(&pulls_lock);
		p->rc = rc;
		p->done = 1;
		pthread_cond_broadcast(&pulls_done);
	}
	while (!p->done)
		pthread_cond_wait(&pulls_done, &pulls_lock);

	rc = p->rc;
	*unavailable = p->unavailable;
	snprintf(msg, msglen, "%s", p->msg);
	image_leave(p);
	pthread_mutex_unlock(&pulls_lock);
	return rc;
}
