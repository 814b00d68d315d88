/* The configuration: defaults, the JSON file, and its checks. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "conf.h"

#ifndef CLOUDFUNC_GATE_PATH
#define CLOUDFUNC_GATE_PATH	"/usr/local/libexec/cloudfunc/cloudfunc-gate"
#endif

#define CONF_MAX_FILE		(1024 * 1024)
#define CONF_MAX_FUNCTIONS	1024

/* Where checks report: the file, and the buffer that collects problems. */
struct conf_check {
	const char	*file;
	char		*err;
	size_t		 errlen;
	int		 problems;
};

static void conf_problem(struct conf_check *ck, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
conf_problem(struct conf_check *ck, const char *key, const char *fmt, ...)
{
	size_t used = strlen(ck->err);
	va_list ap;
	int n;

	ck->problems++;
	if (used + 1 >= ck->errlen)
		return;
	n = snprintf(ck->err + used, ck->errlen - used, "%s%s: %s%s%s",
	    used ? "\n" : "", ck->file, key ? "key \"" : "", key ? key : "",
	    key ? "\": " : "");
	if (n < 0 || (size_t)n >= ck->errlen - used)
		return;
	used += (size_t)n;
	va_start(ap, fmt);
	vsnprintf(ck->err + used, ck->errlen - used, fmt, ap);
	va_end(ap);
}

int
conf_valid_name(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++) {
		char ch = name[i];

		if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') &&
		    !(ch >= '0' && ch <= '9') && ch != '_' && ch != '-')
			return 0;
	}
	return 1;
}

static void
conf_free_cmd(char **cmd)
{
	size_t i;

	if (cmd == NULL)
		return;
	for (i = 0; cmd[i] != NULL; i++)
		free(cmd[i]);
	free(cmd);
}

static void
conf_free_function(struct conf_function *f)
{
	free(f->name);
	free(f->image);
	conf_free_cmd(f->cmd);
	conf_free_cmd(f->env);
	free(f->network);
	free(f->user);
	free(f->content_type);
	memset(f, 0, sizeof(*f));
}

void
conf_free(struct conf *c)
{
	size_t i;

	for (i = 0; i < c->nfunctions; i++)
		conf_free_function(&c->functions[i]);
	free(c->functions);
	free(c->engine);
	free(c->socket_path);
	free(c->engine_url);
	free(c->tls_ca);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->registry_auth_file);
	free(c->gate);
	memset(c, 0, sizeof(*c));
}

/* Replaces *slot with a copy of value; returns 0 or -1 without memory. */
static int
conf_set_string(char **slot, const char *value)
{
	char *copy = strdup(value);

	if (copy == NULL)
		return -1;
	free(*slot);
	*slot = copy;
	return 0;
}

static char **
conf_copy_cmd(const char *const *argv)
{
	size_t i, n = 0;
	char **cmd;

	while (argv[n] != NULL)
		n++;
	cmd = calloc(n + 1, sizeof(*cmd));
	if (cmd == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		cmd[i] = strdup(argv[i]);
		if (cmd[i] == NULL) {
			conf_free_cmd(cmd);
			return NULL;
		}
	}
	return cmd;
}

/* Appends a function with the defaults every function starts from. */
static struct conf_function *
conf_add_function(struct conf *c, const char *name)
{
	struct conf_function *f;

	f = realloc(c->functions, (c->nfunctions + 1) * sizeof(*f));
	if (f == NULL)
		return NULL;
	c->functions = f;
	f = &c->functions[c->nfunctions];
	memset(f, 0, sizeof(*f));
	if (conf_set_string(&f->name, name) == -1 ||
	    conf_set_string(&f->network, "none") == -1 ||
	    conf_set_string(&f->user, "65534:65534") == -1 ||
	    conf_set_string(&f->content_type, "application/octet-stream") == -1) {
		conf_free_function(f);
		return NULL;
	}
	f->timeout_ms = 30000;
	f->memory_mb = 128;
	f->cpus = 1.0;
	f->pids = 64;
	f->nofile = 1024;
	f->tmp_mb = 16;
	f->max_body_bytes = 1024 * 1024;
	f->max_output_bytes = 1024 * 1024;
	f->read_only = 1;
	f->response = CONF_RESPONSE_JSON;
	f->pull = CONF_PULL_MISSING;
	c->nfunctions++;
	return f;
}

static int
conf_add_seed(struct conf *c)
{
	static const char *const argv[] = {
		"echo", "Hello from CloudFunc", NULL
	};
	struct conf_function *f;

	f = conf_add_function(c, CONF_SEED_FUNCTION);
	if (f == NULL)
		return -1;
	f->cmd = conf_copy_cmd(argv);
	if (f->cmd == NULL || conf_set_string(&f->image, "busybox:latest") == -1)
		return -1;
	/* The seed runs a local image; a missing one is an error, not a pull. */
	f->pull = CONF_PULL_NEVER;
	return 0;
}

/* Checks an engine address and keeps it with its socket path. */
static int
conf_set_engine(struct conf *c, const char *addr, struct conf_check *ck,
    const char *key)
{
	const char *path;

	if (strncmp(addr, "tcp://", 6) == 0) {
		if (addr[6] == '\0' || strchr(addr + 6, '/') != NULL ||
		    strrchr(addr + 6, ':') == NULL) {
			conf_problem(ck, key, "expected \"tcp://HOST:PORT\", "
			    "got \"%s\"", addr);
			return 0;
		}
		free(c->socket_path);
		c->socket_path = NULL;
		return conf_set_string(&c->engine, addr);
	}
	if (strncmp(addr, "unix://", 7) != 0) {
		conf_problem(ck, key, "expected \"unix:///path/to/socket\" or "
		    "\"tcp://HOST:PORT\", got \"%s\"", addr);
		return 0;
	}
	path = addr + 7;
	if (path[0] != '/') {
		conf_problem(ck, key, "the socket path in \"%s\" must be "
		    "absolute", addr);
		return 0;
	}
	if (conf_set_string(&c->engine, addr) == -1 ||
	    conf_set_string(&c->socket_path, path) == -1)
		return -1;
	return 0;
}

/* TLS files from DOCKER_CERT_PATH, as the docker CLI finds them. */
static int
conf_tls_from_env(struct conf *c)
{
	const char *dir = getenv("DOCKER_CERT_PATH");
	const char *verify = getenv("DOCKER_TLS_VERIFY");
	const char *home = getenv("HOME");
	char path[4200], base[4096];

	if (c->tls_ca != NULL || c->tls_cert != NULL || c->tls_key != NULL)
		return 0;
	if ((dir == NULL || dir[0] == '\0') &&
	    (verify == NULL || verify[0] == '\0'))
		return 0;
	if (dir != NULL && dir[0] != '\0')
		snprintf(base, sizeof(base), "%s", dir);
	else
		snprintf(base, sizeof(base), "%s/.docker", home ? home : "");
	snprintf(path, sizeof(path), "%s/ca.pem", base);
	if (conf_set_string(&c->tls_ca, path) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/cert.pem", base);
	if (conf_set_string(&c->tls_cert, path) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/key.pem", base);
	return conf_set_string(&c->tls_key, path);
}

static void
conf_check_readable(const char *file, const char *key, struct conf_check *ck)
{
	FILE *fp = fopen(file, "r");

	if (fp == NULL)
		conf_problem(ck, key, "cannot read \"%s\": %s", file,
		    strerror(errno));
	else
		fclose(fp);
}

/*
 * Settles how to reach the engine: the base URL, and for tcp:// either
 * all three TLS files or an explicit allow_plain_tcp.
 */
static int
conf_finish_engine(struct conf *c, struct conf_check *ck)
{
	char url[512];
	int tls;

	if (c->socket_path != NULL)
		return conf_set_string(&c->engine_url, CONF_UNIX_URL);
	if (conf_tls_from_env(c) == -1)
		return -1;
	tls = c->tls_ca != NULL || c->tls_cert != NULL || c->tls_key != NULL;
	if (tls && (c->tls_ca == NULL || c->tls_cert == NULL ||
	    c->tls_key == NULL)) {
		conf_problem(ck, "tls_ca", "a TLS engine needs tls_ca, tls_cert "
		    "and tls_key together");
		return 0;
	}
	if (!tls && !c->allow_plain_tcp) {
		conf_problem(ck, "engine", "%s has no TLS: set tls_ca, tls_cert "
		    "and tls_key (or DOCKER_CERT_PATH), or allow_plain_tcp to "
		    "speak to it unencrypted and unauthenticated", c->engine);
		return 0;
	}
	if (tls) {
		conf_check_readable(c->tls_ca, "tls_ca", ck);
		conf_check_readable(c->tls_cert, "tls_cert", ck);
		conf_check_readable(c->tls_key, "tls_key", ck);
	}
	snprintf(url, sizeof(url), "%s://%s", tls ? "https" : "http",
	    c->engine + 6);
	return conf_set_string(&c->engine_url, url);
}

/*
 * For a responder run from its build tree, the gate built beside it, so
 * that a build never runs the gate of another that was installed; else
 * the installed one.  Either is a path on this host, which is the
 * engine's host too unless the file says otherwise.
 */
static const char *
conf_default_gate(void)
{
	static char beside[PATH_MAX];
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return CLOUDFUNC_GATE_PATH;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash == NULL)
		return CLOUDFUNC_GATE_PATH;
	*slash = '\0';
	snprintf(beside, sizeof(beside), "%.*s/cloudfunc-gate",
	    (int)(sizeof(beside) - 16), self);
	return access(beside, X_OK) == 0 ? beside : CLOUDFUNC_GATE_PATH;
}

int
conf_defaults(struct conf *c, char *err, size_t errlen)
{
	struct conf_check ck = { "DOCKER_HOST", err, errlen, 0 };
	const char *host = getenv("DOCKER_HOST");

	memset(c, 0, sizeof(*c));
	err[0] = '\0';
	c->engine_timeout_ms = 10000;
	c->connect_timeout_ms = 1000;
	c->pull_timeout_ms = 300000;
	c->max_running = 16;
	c->queue_ms = 2000;
	c->sweep_interval_ms = 60000;
	c->stop_grace_ms = 30000;
	c->prewarm_max_idle_ms = 300000;
	if (host == NULL || host[0] == '\0')
		host = CONF_DEFAULT_ENGINE;
	if (conf_set_engine(c, host, &ck, NULL) == -1 ||
	    conf_finish_engine(c, &ck) == -1 || conf_add_seed(c) == -1 ||
	    conf_set_string(&c->gate, conf_default_gate()) == -1) {
		snprintf(err, errlen, "out of memory");
		conf_free(c);
		return -1;
	}
	if (ck.problems > 0) {
		conf_free(c);
		return -1;
	}
	return 0;
}

const struct conf_function *
conf_function_at(const struct conf *c, size_t i)
{
	return i < c->nfunctions ? &c->functions[i] : NULL;
}

const struct conf_function *
conf_function(const struct conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nfunctions; i++)
		if (strcmp(c->functions[i].name, name) == 0)
			return &c->functions[i];
	return NULL;
}

/* Reads an integer within [min, max]; returns 0 and leaves *out on error. */
static int
conf_get_int(json_object *val, const char *key, int64_t min, int64_t max,
    int64_t *out, struct conf_check *ck)
{
	int64_t v;

	if (!json_object_is_type(val, json_type_int)) {
		conf_problem(ck, key, "expected an integer from %lld to %lld",
		    (long long)min, (long long)max);
		return 0;
	}
	errno = 0;
	v = json_object_get_int64(val);
	if (errno != 0 || v < min || v > max) {
		conf_problem(ck, key, "expected an integer from %lld to %lld, "
		    "got %s", (long long)min, (long long)max,
		    json_object_to_json_string(val));
		return 0;
	}
	*out = v;
	return 1;
}

static const char *
conf_get_string(json_object *val, const char *key, struct conf_check *ck)
{
	const char *s;

	if (!json_object_is_type(val, json_type_string)) {
		conf_problem(ck, key, "expected a string");
		return NULL;
	}
	s = json_object_get_string(val);
	if (s[0] == '\0' || strlen(s) != (size_t)json_object_get_string_len(val)) {
		conf_problem(ck, key, "expected a non-empty string without NUL");
		return NULL;
	}
	return s;
}

/* Reads a command: a non-empty array of strings. */
static int
conf_get_cmd(json_object *val, const char *key, char ***out,
    struct conf_check *ck)
{
	size_t i, n;
	char **cmd;

	if (!json_object_is_type(val, json_type_array) ||
	    json_object_array_length(val) == 0) {
		conf_problem(ck, key, "expected a non-empty array of strings");
		return 0;
	}
	n = json_object_array_length(val);
	cmd = calloc(n + 1, sizeof(*cmd));
	if (cmd == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		json_object *arg = json_object_array_get_idx(val, i);

		if (!json_object_is_type(arg, json_type_string)) {
			conf_problem(ck, key, "element %zu is not a string", i);
			conf_free_cmd(cmd);
			return 0;
		}
		cmd[i] = strdup(json_object_get_string(arg));
		if (cmd[i] == NULL) {
			conf_free_cmd(cmd);
			return -1;
		}
	}
	conf_free_cmd(*out);
	*out = cmd;
	return 0;
}

/* Whether name can be an environment variable's name. */
static int
conf_valid_env_name(const char *name)
{
	size_t i;

	if (name[0] == '\0' || (name[0] >= '0' && name[0] <= '9'))
		return 0;
	for (i = 0; name[i] != '\0'; i++)
		if (!(name[i] >= 'a' && name[i] <= 'z') &&
		    !(name[i] >= 'A' && name[i] <= 'Z') &&
		    !(name[i] >= '0' && name[i] <= '9') && name[i] != '_')
			return 0;
	return 1;
}

/* Reads an environment: an object of strings, kept as "KEY=value". */
static int
conf_get_env(json_object *val, const char *key, char ***out,
    struct conf_check *ck)
{
	size_t n = 0, len;
	char **env;

	if (!json_object_is_type(val, json_type_object)) {
		conf_problem(ck, key, "expected an object of strings");
		return 0;
	}
	env = calloc((size_t)json_object_object_length(val) + 1, sizeof(*env));
	if (env == NULL)
		return -1;
	json_object_object_foreach(val, name, v) {
		if (!conf_valid_env_name(name) ||
		    strncmp(name, "CLOUDFUNC_", 10) == 0) {
			conf_problem(ck, key, "\"%s\" is not a variable name "
			    "a function may set ([A-Za-z_][A-Za-z0-9_]*, not "
			    "CLOUDFUNC_*)", name);
			continue;
		}
		if (!json_object_is_type(v, json_type_string)) {
			conf_problem(ck, key, "the value of \"%s\" is not a "
			    "string", name);
			continue;
		}
		len = strlen(name) + 1 + strlen(json_object_get_string(v)) + 1;
		env[n] = malloc(len);
		if (env[n] == NULL) {
			conf_free_cmd(env);
			return -1;
		}
		snprintf(env[n++], len, "%s=%s", name, json_object_get_string(v));
	}
	conf_free_cmd(*out);
	*out = env;
	return 0;
}

/* Whether a network name is one the engine could know: none, host, a name. */
static int
conf_valid_network(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!(s[i] >= 'a' && s[i] <= 'z') &&
		    !(s[i] >= 'A' && s[i] <= 'Z') &&
		    !(s[i] >= '0' && s[i] <= '9') &&
		    s[i] != '_' && s[i] != '-' && s[i] != '.')
			return 0;
	return i > 0 && i <= 128;
}

enum conf_kind {
	CONF_STRING,
	CONF_INT,
	CONF_NUMBER,
	CONF_BOOL,
	CONF_ARGV,
	CONF_ENV,
	CONF_CHOICE
};

/* A key of a function: its type, where it goes, and what it may be. */
struct conf_key {
	const char	*name;
	enum conf_kind	 kind;
	size_t		 offset;
	double		 min, max;
	const char	*const *choices;	/* CONF_CHOICE, NULL-terminated */
};

static const char *const conf_responses[] = { "json", "raw", NULL };
static const char *const conf_pulls[] = { "missing", "never", "always", NULL };

#define CONF_AT(field)	offsetof(struct conf_function, field)

static const struct conf_key conf_function_keys[] = {
	{ "image", CONF_STRING, CONF_AT(image), 0, 0, NULL },
	{ "cmd", CONF_ARGV, CONF_AT(cmd), 0, 0, NULL },
	{ "env", CONF_ENV, CONF_AT(env), 0, 0, NULL },
	{ "network", CONF_STRING, CONF_AT(network), 0, 0, NULL },
	{ "user", CONF_STRING, CONF_AT(user), 0, 0, NULL },
	{ "content_type", CONF_STRING, CONF_AT(content_type), 0, 0, NULL },
	{ "timeout_ms", CONF_INT, CONF_AT(timeout_ms), 1, 3600000, NULL },
	/* The engine refuses memory limits under 6 MB. */
	{ "memory_mb", CONF_INT, CONF_AT(memory_mb), 6, 1048576, NULL },
	{ "cpus", CONF_NUMBER, CONF_AT(cpus), 0.01, 1024, NULL },
	{ "pids", CONF_INT, CONF_AT(pids), 1, 4194304, NULL },
	{ "nofile", CONF_INT, CONF_AT(nofile), 16, 1048576, NULL },
	{ "tmp_mb", CONF_INT, CONF_AT(tmp_mb), 0, 65536, NULL },
	{ "max_body_bytes", CONF_INT, CONF_AT(max_body_bytes), 0,
	    1073741824, NULL },
	{ "max_output_bytes", CONF_INT, CONF_AT(max_output_bytes), 1,
	    268435456, NULL },
	{ "max_running", CONF_INT, CONF_AT(max_running), 0, 100000, NULL },
	{ "prewarm", CONF_INT, CONF_AT(prewarm), 0, 64, NULL },
	{ "read_only", CONF_BOOL, CONF_AT(read_only), 0, 0, NULL },
	{ "response", CONF_CHOICE, CONF_AT(response), 0, 0, conf_responses },
	{ "pull", CONF_CHOICE, CONF_AT(pull), 0, 0, conf_pulls },
};

static void
conf_list_keys(char *dst, size_t len)
{
	size_t i, used = 0;

	dst[0] = '\0';
	for (i = 0; i < sizeof(conf_function_keys) /
	    sizeof(conf_function_keys[0]) && used < len; i++)
		used += (size_t)snprintf(dst + used, len - used, "%s%s",
		    i ? ", " : "", conf_function_keys[i].name);
}

static int
conf_get_choice(json_object *val, const struct conf_key *k, const char *key,
    int *out, struct conf_check *ck)
{
	const char *s = json_object_get_string(val);
	int i;

	for (i = 0; json_object_is_type(val, json_type_string) &&
	    k->choices[i] != NULL; i++) {
		if (strcmp(s, k->choices[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	conf_problem(ck, key, "expected \"%s\" or \"%s\"%s%s%s",
	    k->choices[0], k->choices[1], k->choices[2] ? " or \"" : "",
	    k->choices[2] ? k->choices[2] : "", k->choices[2] ? "\"" : "");
	return 0;
}

static int
conf_get_number(json_object *val, const struct conf_key *k, const char *key,
    double *out, struct conf_check *ck)
{
	double v;

	if (!json_object_is_type(val, json_type_double) &&
	    !json_object_is_type(val, json_type_int)) {
		conf_problem(ck, key, "expected a number from %g to %g",
		    k->min, k->max);
		return 0;
	}
	v = json_object_get_double(val);
	if (!(v >= k->min && v <= k->max)) {
		conf_problem(ck, key, "expected a number from %g to %g, got %s",
		    k->min, k->max, json_object_to_json_string(val));
		return 0;
	}
	*out = v;
	return 0;
}

/* Reads one key of a function into its field, as the table says. */
static int
conf_read_key(struct conf_function *f, const struct conf_key *k,
    json_object *val, const char *key, struct conf_check *ck)
{
	char *field = (char *)f + k->offset;
	const char *s;
	int64_t v;

	switch (k->kind) {
	case CONF_ARGV:
		return conf_get_cmd(val, key, (char ***)(void *)field, ck);
	case CONF_ENV:
		return conf_get_env(val, key, (char ***)(void *)field, ck);
	case CONF_CHOICE:
		return conf_get_choice(val, k, key, (int *)(void *)field, ck);
	case CONF_NUMBER:
		return conf_get_number(val, k, key, (double *)(void *)field, ck);
	case CONF_INT:
		if (conf_get_int(val, key, (int64_t)k->min, (int64_t)k->max,
		    &v, ck))
			*(long *)(void *)field = (long)v;
		return 0;
	case CONF_BOOL:
		if (!json_object_is_type(val, json_type_boolean))
			conf_problem(ck, key, "expected true or false");
		else
			*(int *)(void *)field = json_object_get_boolean(val);
		return 0;
	case CONF_STRING:
		s = conf_get_string(val, key, ck);
		if (s == NULL)
			return 0;
		return conf_set_string((char **)(void *)field, s);
	}
	return 0;
}

static int
conf_read_function_key(struct conf_function *f, const char *name,
    json_object *val, const char *key, struct conf_check *ck)
{
	size_t i, n = sizeof(conf_function_keys) / sizeof(conf_function_keys[0]);
	char known[512];

	for (i = 0; i < n; i++)
		if (strcmp(name, conf_function_keys[i].name) == 0)
			return conf_read_key(f, &conf_function_keys[i], val,
			    key, ck);
	conf_list_keys(known, sizeof(known));
	conf_problem(ck, key, "unknown key (expected one of %s)", known);
	return 0;
}

/* Checks what a single key cannot: values that depend on each other. */
static void
conf_check_function(const struct conf_function *f, struct conf_check *ck)
{
	char key[256];

	snprintf(key, sizeof(key), "functions.%s.network", f->name);
	if (!conf_valid_network(f->network))
		conf_problem(ck, key, "expected \"none\" or a network name, "
		    "got \"%s\"", f->network);
	snprintf(key, sizeof(key), "functions.%s.image", f->name);
	if (f->image == NULL)
		conf_problem(ck, key, "missing: every function names an image");
	else if (strspn(f->image, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/:@-") != strlen(f->image))
		conf_problem(ck, key, "\"%s\" is not an image reference",
		    f->image);
	snprintf(key, sizeof(key), "functions.%s.user", f->name);
	if (strspn(f->user, "0123456789:") != strlen(f->user) ||
	    strchr(f->user, ':') == NULL)
		conf_problem(ck, key, "expected numeric \"uid:gid\", got "
		    "\"%s\"", f->user);
}

/* Reads one entry of "functions" over the defaults of a function. */
static int
conf_read_function(struct conf *c, const char *name, json_object *obj,
    struct conf_check *ck)
{
	struct conf_function *f;
	char key[256];

	snprintf(key, sizeof(key), "functions.%s", name);
	if (!conf_valid_name(name)) {
		conf_problem(ck, key, "a function name must match "
		    "[A-Za-z0-9_-]{1,64}");
		return 0;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		conf_problem(ck, key, "expected an object");
		return 0;
	}

	f = (struct conf_function *)conf_function(c, name);
	if (f == NULL)
		f = conf_add_function(c, name);
	if (f == NULL)
		return -1;

	json_object_object_foreach(obj, k, v) {
		snprintf(key, sizeof(key), "functions.%s.%s", name, k);
		if (conf_read_function_key(f, k, v, key, ck) == -1)
			return -1;
	}
	conf_check_function(f, ck);
	return 0;
}

static int
conf_read_functions(struct conf *c, json_object *obj, struct conf_check *ck)
{
	if (!json_object_is_type(obj, json_type_object)) {
		conf_problem(ck, "functions", "expected an object of functions "
		    "by name");
		return 0;
	}
	if (json_object_object_length(obj) > CONF_MAX_FUNCTIONS) {
		conf_problem(ck, "functions", "at most %d functions",
		    CONF_MAX_FUNCTIONS);
		return 0;
	}
	json_object_object_foreach(obj, name, fobj) {
		if (conf_read_function(c, name, fobj, ck) == -1)
			return -1;
	}
	return 0;
}

/* Top-level limits, in the order they are documented. */
static const struct {
	const char	*name;
	size_t		 offset;
	long		 min, max;
} conf_top_ints[] = {
	{ "engine_timeout_ms", offsetof(struct conf, engine_timeout_ms),
	    100, 600000 },
	{ "connect_timeout_ms", offsetof(struct conf, connect_timeout_ms),
	    10, 60000 },
	{ "pull_timeout_ms", offsetof(struct conf, pull_timeout_ms),
	    1000, 3600000 },
	{ "max_running", offsetof(struct conf, max_running), 1, 100000 },
	{ "queue_ms", offsetof(struct conf, queue_ms), 0, 600000 },
	{ "sweep_interval_ms", offsetof(struct conf, sweep_interval_ms),
	    1000, 86400000 },
	{ "stop_grace_ms", offsetof(struct conf, stop_grace_ms), 0, 3600000 },
	{ "prewarm_max_idle_ms", offsetof(struct conf, prewarm_max_idle_ms),
	    1000, 86400000 },
};

/* Reads a top-level integer key; returns 1 when name is one. */
static int
conf_read_top_int(struct conf *c, const char *name, json_object *val,
    struct conf_check *ck)
{
	size_t i, n = sizeof(conf_top_ints) / sizeof(conf_top_ints[0]);
	int64_t v;

	for (i = 0; i < n; i++) {
		if (strcmp(name, conf_top_ints[i].name) != 0)
			continue;
		if (conf_get_int(val, name, conf_top_ints[i].min,
		    conf_top_ints[i].max, &v, ck))
			*(long *)(void *)((char *)c + conf_top_ints[i].offset) =
			    (long)v;
		return 1;
	}
	return 0;
}

/* Where a TLS key of the file goes, or NULL for other keys. */
static char **
conf_tls_slot(struct conf *c, const char *key)
{
	if (strcmp(key, "tls_ca") == 0)
		return &c->tls_ca;
	if (strcmp(key, "tls_cert") == 0)
		return &c->tls_cert;
	if (strcmp(key, "tls_key") == 0)
		return &c->tls_key;
	return NULL;
}

static int
conf_read_top(struct conf *c, json_object *top, struct conf_check *ck)
{
	const char *s;

	json_object_object_foreach(top, k, val) {
		if (conf_read_top_int(c, k, val, ck))
			continue;
		if (strcmp(k, "functions") == 0) {
			if (conf_read_functions(c, val, ck) == -1)
				return -1;
		} else if (strcmp(k, "engine") == 0) {
			s = conf_get_string(val, k, ck);
			if (s != NULL && conf_set_engine(c, s, ck, k) == -1)
				return -1;
		} else if (conf_tls_slot(c, k) != NULL) {
			s = conf_get_string(val, k, ck);
			if (s != NULL && conf_set_string(conf_tls_slot(c, k), s) == -1)
				return -1;
		} else if (strcmp(k, "allow_plain_tcp") == 0) {
			if (!json_object_is_type(val, json_type_boolean))
				conf_problem(ck, k, "expected true or false");
			else
				c->allow_plain_tcp = json_object_get_boolean(val);
		} else if (strcmp(k, "gate") == 0) {
			s = conf_get_string(val, k, ck);
			if (s != NULL && s[0] != '/')
				conf_problem(ck, k, "expected an absolute path");
			else if (s != NULL && conf_set_string(&c->gate, s) == -1)
				return -1;
		} else if (strcmp(k, "registry_auth_file") == 0) {
			s = conf_get_string(val, k, ck);
			if (s != NULL &&
			    conf_set_string(&c->registry_auth_file, s) == -1)
				return -1;
		} else {
			conf_problem(ck, k, "unknown key (expected engine, "
			    "engine_timeout_ms, connect_timeout_ms, "
			    "pull_timeout_ms, max_running, queue_ms, "
			    "sweep_interval_ms, stop_grace_ms, "
			    "prewarm_max_idle_ms, tls_ca, tls_cert, tls_key, "
			    "allow_plain_tcp, registry_auth_file, gate or "
			    "functions)");
		}
	}
	return 0;
}

/* Reads the whole file; returns a NUL-terminated copy or NULL. */
static char *
conf_slurp(const char *path, struct conf_check *ck)
{
	size_t n, len = 0;
	char *text;
	FILE *fp;

	fp = fopen(path, "r");
	if (fp == NULL) {
		conf_problem(ck, NULL, "cannot open: %s", strerror(errno));
		return NULL;
	}
	text = malloc(CONF_MAX_FILE + 1);
	if (text == NULL) {
		fclose(fp);
		conf_problem(ck, NULL, "out of memory");
		return NULL;
	}

	for (;;) {
		n = fread(text + len, 1, CONF_MAX_FILE + 1 - len, fp);
		len += n;
		if (n == 0 || len > CONF_MAX_FILE)
			break;
	}
	if (ferror(fp))
		conf_problem(ck, NULL, "cannot read: %s", strerror(errno));
	else if (len > CONF_MAX_FILE)
		conf_problem(ck, NULL, "larger than %d bytes", CONF_MAX_FILE);
	fclose(fp);

	if (ck->problems > 0) {
		free(text);
		return NULL;
	}
	text[len] = '\0';
	return text;
}

/* Parses text as one JSON value, naming the line of a syntax error. */
static json_object *
conf_parse(const char *text, struct conf_check *ck)
{
	struct json_tokener *tok;
	json_object *obj;
	size_t end, i, line = 1, len = strlen(text);

	tok = json_tokener_new();
	if (tok == NULL) {
		conf_problem(ck, NULL, "out of memory");
		return NULL;
	}
	obj = json_tokener_parse_ex(tok, text, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (obj == NULL || end < len) {
		for (i = 0; i < end && i < len; i++)
			if (text[i] == '\n')
				line++;
		if (obj == NULL &&
		    json_tokener_get_error(tok) == json_tokener_continue)
			conf_problem(ck, NULL, "line %zu: the file ends inside "
			    "a JSON value", line);
		else if (obj == NULL)
			conf_problem(ck, NULL, "line %zu: invalid JSON: %s",
			    line, json_tokener_error_desc(
			    json_tokener_get_error(tok)));
		else
			conf_problem(ck, NULL, "line %zu: text after the "
			    "configuration object", line);
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

/* Reads text over the defaults in c; problems go to ck. */
static int
conf_load_checked(struct conf *c, const char *text, struct conf_check *ck)
{
	json_object *top;
	int rc = -1;

	top = conf_parse(text, ck);
	if (top == NULL)
		return -1;
	if (!json_object_is_type(top, json_type_object))
		conf_problem(ck, NULL, "expected a JSON object at the top");
	else if (conf_read_top(c, top, ck) == -1 ||
	    conf_finish_engine(c, ck) == -1)
		conf_problem(ck, NULL, "out of memory");
	else if (ck->problems == 0)
		rc = 0;
	json_object_put(top);
	return rc;
}

int
conf_load_text(struct conf *c, const char *name, const char *text,
    char *err, size_t errlen)
{
	struct conf_check ck = { name, err, errlen, 0 };

	err[0] = '\0';
	if (conf_load_checked(c, text, &ck) == -1) {
		conf_free(c);
		return -1;
	}
	return 0;
}

int
conf_load(struct conf *c, const char *path, char *err, size_t errlen)
{
	struct conf_check ck = { path, err, errlen, 0 };
	char *text;
	int rc = -1;

	err[0] = '\0';
	text = conf_slurp(path, &ck);
	if (text != NULL)
		rc = conf_load_checked(c, text, &ck);
	free(text);
	if (rc == -1)
		conf_free(c);
	return rc;
}
