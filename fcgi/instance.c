/* Who this responder process is, and whether another one still lives. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "instance.h"

static char	instance_self[128];
static char	instance_where[256];
static int	instance_fd = -1;

const char *
instance_name(void)
{
	return instance_self;
}

const char *
instance_host(void)
{
	return instance_where;
}

/* The first line of a small file, or "" when it cannot be read. */
static void
instance_read_line(const char *path, char *dst, size_t len)
{
	ssize_t n;
	int fd;

	dst[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return;
	n = read(fd, dst, len - 1);
	close(fd);
	if (n <= 0) {
		dst[0] = '\0';
		return;
	}
	dst[n] = '\0';
	dst[strcspn(dst, "\n")] = '\0';
}

/*
 * An abstract socket is seen by every process in the same network
 * namespace of the same boot: that is where "host" ends.
 */
static void
instance_make_host(void)
{
	char host[HOST_NAME_MAX + 1] = "localhost", boot[64], ns[64] = "";
	ssize_t n;

	gethostname(host, sizeof(host));
	host[sizeof(host) - 1] = '\0';
	instance_read_line("/proc/sys/kernel/random/boot_id", boot,
	    sizeof(boot));
	n = readlink("/proc/self/ns/net", ns, sizeof(ns) - 1);
	ns[n > 0 ? n : 0] = '\0';
	snprintf(instance_where, sizeof(instance_where), "%.64s/%.36s/%.40s",
	    host, boot, ns);
}

static void
instance_address(const char *name, struct sockaddr_un *sun, socklen_t *len)
{
	int n;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	/* A leading NUL puts the name in the abstract namespace. */
	n = snprintf(sun->sun_path + 1, sizeof(sun->sun_path) - 1,
	    "cloudfunc/%s", name);
	if (n < 0 || (size_t)n >= sizeof(sun->sun_path) - 1)
		n = (int)sizeof(sun->sun_path) - 2;
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	    (size_t)n);
}

int
instance_init(void)
{
	char host[HOST_NAME_MAX + 1] = "host";
	unsigned char raw[4] = { 0 };
	struct sockaddr_un sun;
	socklen_t len;

	gethostname(host, sizeof(host));
	host[sizeof(host) - 1] = '\0';
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -1;
	snprintf(instance_self, sizeof(instance_self),
	    "%.32s-%ld-%02x%02x%02x%02x", host, (long)getpid(), raw[0],
	    raw[1], raw[2], raw[3]);
	instance_make_host();

	instance_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (instance_fd == -1)
		return -1;
	instance_address(instance_self, &sun, &len);
	/* A datagram socket: asking whether it exists queues nothing. */
	if (bind(instance_fd, (struct sockaddr *)&sun, len) == -1) {
		close(instance_fd);
		instance_fd = -1;
		return -1;
	}
	return 0;
}

int
instance_alive(const char *name, const char *host)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd, rc;

	if (strcmp(name, instance_self) == 0)
		return 1;
	if (strcmp(host, instance_where) != 0)
		return -1;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	instance_address(name, &sun, &len);
	rc = connect(fd, (struct sockaddr *)&sun, len);
	close(fd);
	if (rc == 0)
		return 1;
	return errno == ECONNREFUSED || errno == ENOENT ? 0 : -1;
}
