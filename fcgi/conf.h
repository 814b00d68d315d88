/* The configuration: defaults, the JSON file, and its checks. */
#ifndef CLOUDFUNC_CONF_H
#define CLOUDFUNC_CONF_H

#include <stddef.h>

#define CONF_SEED_FUNCTION	"spawnTestContainer"
#define CONF_DEFAULT_ENGINE	"unix:///var/run/docker.sock"
/* Any host name will do over a Unix socket; the engine ignores it. */
#define CONF_UNIX_URL		"http://docker"

enum conf_response {
	CONF_RESPONSE_JSON,	/* a JSON object with output, stderr, status */
	CONF_RESPONSE_RAW	/* stdout byte for byte, status in headers */
};

enum conf_pull {
	CONF_PULL_MISSING,	/* pull when the engine lacks the image */
	CONF_PULL_NEVER,
	CONF_PULL_ALWAYS
};

/*
 * One function.  The isolation fields start locked down; the file may
 * loosen them per function, a client never.
 */
struct conf_function {
	char	 *name;
	char	 *image;
	char	**cmd;		/* NULL-terminated; NULL runs the image's own */
	char	**env;		/* "KEY=value", NULL-terminated, or NULL */
	char	 *network;	/* "none", or a network the engine knows */
	char	 *user;		/* "uid:gid" inside the container */
	char	 *content_type;	/* of raw responses */
	long	  timeout_ms;	/* the whole run, create to last output */
	long	  memory_mb;	/* memory limit, swap included */
	double	  cpus;		/* CPU quota, in cores */
	long	  pids;		/* most processes at once */
	long	  nofile;	/* most open files per process */
	long	  tmp_mb;	/* size of the /tmp tmpfs; 0: none */
	long	  max_body_bytes;
	long	  max_output_bytes;
	long	  max_running;	/* containers of this function at once; 0: any */
	long	  prewarm;	/* containers kept started, waiting; 0: none */
	int	  read_only;	/* read-only root filesystem */
	int	  response;	/* enum conf_response */
	int	  pull;		/* enum conf_pull */
};

struct conf {
	char	*engine;	/* unix:///path or tcp://host:port */
	char	*registry_auth_file;	/* the docker CLI's "auths" format */
	char	*gate;		/* the gate program, as the engine's host sees it */
	char	*socket_path;	/* unix://: the path part of engine */
	char	*engine_url;	/* the base URL of every call */
	char	*tls_ca;	/* tcp:// with TLS: files in PEM */
	char	*tls_cert;
	char	*tls_key;
	int	 allow_plain_tcp;	/* tcp:// without TLS, if asked for */
	long	 engine_timeout_ms;	/* any one engine call */
	long	 connect_timeout_ms;
	long	 pull_timeout_ms;	/* one image pull */
	long	 max_running;		/* containers at once, all functions */
	long	 queue_ms;		/* wait for a free slot, then 503 busy */
	long	 sweep_interval_ms;	/* look for orphans this often */
	long	 stop_grace_ms;		/* runs may finish this long on stop */
	long	 prewarm_max_idle_ms;	/* a waiting container is replaced after */
	struct conf_function *functions;
	size_t	 nfunctions;
};

/*
 * Fills c with the built-in defaults, which serve the seed function.  The
 * engine comes from DOCKER_HOST when set, its TLS files from
 * DOCKER_CERT_PATH and DOCKER_TLS_VERIFY, as the docker CLI reads them.
 * Returns 0, or -1 with a message in err.
 */
int	conf_defaults(struct conf *c, char *err, size_t errlen);

/*
 * Reads the JSON file at path (comments allowed) over the defaults and
 * checks it as a whole.  Returns 0, or -1 with one line per problem in err,
 * each naming the file, the key and what was expected; c is then freed.
 */
int	conf_load(struct conf *c, const char *path, char *err, size_t errlen);

/*
 * conf_load for a configuration already in memory: text is NUL-terminated,
 * and name stands for the file in messages.
 */
int	conf_load_text(struct conf *c, const char *name, const char *text,
	    char *err, size_t errlen);

/* The configured function of that name, or NULL. */
const struct conf_function *conf_function(const struct conf *c,
	    const char *name);

/* The function at index i, in the order of the file; NULL past the end. */
const struct conf_function *conf_function_at(const struct conf *c, size_t i);

/* Whether name is a valid function name: [A-Za-z0-9_-]{1,64}. */
int	conf_valid_name(const char *name);

void	conf_free(struct conf *c);

#endif
