/* The configuration: defaults, the JSON file, and its checks. */
#ifndef CLOUDFUNC_CONF_H
#define CLOUDFUNC_CONF_H

#include <stddef.h>

#define CONF_SEED_FUNCTION	"spawnTestContainer"
#define CONF_DEFAULT_ENGINE	"unix:///var/run/docker.sock"

struct conf_function {
	char	 *name;
	char	 *image;
	char	**cmd;		/* NULL-terminated; NULL runs the image's own */
	char	 *network;
	long	  timeout_ms;	/* the whole run, start to last output */
	size_t	  max_output_bytes;
};

struct conf {
	char	*engine;	/* unix:///path */
	char	*socket_path;	/* the path part of engine */
	long	 engine_timeout_ms;	/* any one engine call */
	long	 connect_timeout_ms;
	struct conf_function *functions;
	size_t	 nfunctions;
};

/*
 * Fills c with the built-in defaults, which serve the seed function.  The
 * engine comes from DOCKER_HOST when set.  Returns 0, or -1 with a message
 * in err.
 */
int	conf_defaults(struct conf *c, char *err, size_t errlen);

/*
 * Reads the JSON file at path (comments allowed) over the defaults and
 * checks it as a whole.  Returns 0, or -1 with one line per problem in err,
 * each naming the file, the key and what was expected; c is then freed.
 */
int	conf_load(struct conf *c, const char *path, char *err, size_t errlen);

/* The configured function of that name, or NULL. */
const struct conf_function *conf_function(const struct conf *c,
	    const char *name);

/* Whether name is a valid function name: [A-Za-z0-9_-]{1,64}. */
int	conf_valid_name(const char *name);

void	conf_free(struct conf *c);

#endif
