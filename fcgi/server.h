/* The FastCGI side: worker threads that accept, route and answer requests. */
#ifndef CLOUDFUNC_SERVER_H
#define CLOUDFUNC_SERVER_H

#include "conf.h"
#include "engine.h"

struct server_config {
	const struct conf *conf;
	int		 listen_fd;	/* a listening FastCGI socket */
	int		 threads;
	const char	*instance;	/* this process, on container labels */
};

/*
 * Initialises libfcgi and opens the listening socket: a Unix socket path,
 * "HOST:PORT", or NULL for the socket handed over on standard input.
 * Returns the descriptor, or -1 with a message in err.
 */
int	server_listen(const char *address, char *err, size_t errlen);

/* The engine client's settings from the configuration; c must outlive them. */
void	server_engine_config(const struct conf *c, struct engine_config *ecfg);

/*
 * Serves requests on sc->threads workers until they all stop.  Returns 0,
 * or -1 when no worker could be started.
 */
int	server_run(const struct server_config *sc);

#endif
