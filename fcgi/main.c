/* cloudfunc-fcgi: runs configured functions in containers, over FastCGI. */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "conf.h"
#include "engine.h"
#include "instance.h"
#include "log.h"
#include "metrics.h"
#include "server.h"
#include "slots.h"

#define MAIN_MAX_THREADS	256

struct options {
	const char	*conf_path;
	const char	*listen;	/* socket path, HOST:PORT, or NULL */
	int		 threads;
	enum log_level	 level;
	int		 use_syslog;
	int		 check_only;
};

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: cloudfunc-fcgi [-nqv] [--syslog] [-c FILE] "
	    "[-s SOCKET_PATH | -b HOST:PORT] [-t THREADS]\n");
}

static int
parse_threads(const char *s)
{
	char *end;
	long n;

	n = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || n < 1 || n > MAIN_MAX_THREADS)
		return -1;
	return (int)n;
}

static void
parse_options(int argc, char **argv, struct options *o)
{
	int ch, i;

	memset(o, 0, sizeof(*o));
	o->threads = 4;
	o->level = LOG_LEVEL_INFO;
	/* getopt knows no long options; --syslog is taken out beforehand. */
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--syslog") == 0) {
			o->use_syslog = 1;
			memmove(&argv[i], &argv[i + 1],
			    (size_t)(argc - i) * sizeof(*argv));
			argc--;
			i--;
		}
	}

	for (;;) {
		ch = getopt(argc, argv, "b:c:hnqs:t:vV");
		if (ch == -1)
			break;
		switch (ch) {
		case 'b':
		case 's':
			if (o->listen != NULL)
				log_fatalx("give only one of -s and -b");
			o->listen = optarg;
			break;
		case 'c':
			o->conf_path = optarg;
			break;
		case 'n':
			o->check_only = 1;
			break;
		case 'q':
			o->level = LOG_LEVEL_ERROR;
			break;
		case 't':
			o->threads = parse_threads(optarg);
			if (o->threads == -1)
				log_fatalx("-t takes a number from 1 to %d, "
				    "not \"%s\"", MAIN_MAX_THREADS, optarg);
			break;
		case 'v':
			o->level = LOG_LEVEL_DEBUG;
			break;
		case 'V':
			printf("cloudfunc-fcgi %s\n", PACKAGE_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		usage(stderr);
		exit(2);
	}
}

/* The backpressure limits, from the configuration. */
static void
init_slots(const struct conf *conf)
{
	long *per_function;
	size_t i;

	per_function = calloc(conf->nfunctions + 1, sizeof(*per_function));
	if (per_function == NULL)
		log_fatalx("out of memory");
	for (i = 0; i < conf->nfunctions; i++)
		per_function[i] = conf_function_at(conf, i)->max_running;
	if (slots_init(conf->max_running, per_function, conf->nfunctions) == -1)
		log_fatalx("out of memory");
	free(per_function);
}

static void
load_conf(const struct options *o, struct conf *conf)
{
	char err[8192];

	if (conf_defaults(conf, err, sizeof(err)) == -1)
		log_fatalx("%s", err);
	if (o->conf_path != NULL && conf_load(conf, o->conf_path, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		log_fatalx("%s: configuration rejected", o->conf_path);
	}
}

/* Asks the engine for its version now, so a misconfiguration shows early. */
static void
probe_engine(const struct conf *conf)
{
	struct engine_config ecfg;
	struct engine_error err;
	struct engine *e;

	server_engine_config(conf, &ecfg);
	if (conf->socket_path == NULL && conf->tls_ca == NULL)
		log_warnx("engine %s: plain TCP, unencrypted and "
		    "unauthenticated (allow_plain_tcp)", conf->engine);
	e = engine_new(&ecfg);
	if (e == NULL)
		log_fatalx("cannot create an engine client");
	if (engine_ping(e, 1, &err) == -1)
		log_warnx("engine %s: %s; requests get 503 until it answers",
		    conf->engine, err.message);
	else
		log_info("engine %s speaks API %s", conf->engine,
		    engine_version(e));
	engine_free(e);
}

int
main(int argc, char **argv)
{
	struct server_config sc;
	struct options o;
	struct conf conf;
	char err[512];
	int fd, rc;

	parse_options(argc, argv, &o);
	log_init(o.level, o.use_syslog);
	load_conf(&o, &conf);
	if (o.check_only) {
		printf("%s: configuration ok, %zu functions\n",
		    o.conf_path ? o.conf_path : "built-in defaults",
		    conf.nfunctions);
		conf_free(&conf);
		return 0;
	}

	/*
	 * Workers allocate little and briefly: an arena per thread would
	 * only grow the resident set.
	 */
	mallopt(M_ARENA_MAX, 2);
	/* A client that goes away must not kill the process mid-write. */
	signal(SIGPIPE, SIG_IGN);
	if (engine_global_init() == -1)
		log_fatalx("cannot initialise libcurl");
	fd = server_listen(o.listen, err, sizeof(err));
	if (fd == -1)
		log_fatalx("%s", err);
	if (instance_init() == -1)
		log_fatalx("cannot announce this instance: %s", strerror(errno));
	init_slots(&conf);
	if (metrics_init(&conf) == -1)
		log_fatalx("out of memory");
	probe_engine(&conf);

	sc.conf = &conf;
	sc.listen_fd = fd;
	sc.threads = o.threads;
	sc.instance = instance_name();
	rc = server_run(&sc);

	slots_free();
	metrics_free();
	conf_free(&conf);
	engine_global_cleanup();
	return rc == 0 ? 0 : 1;
}
