/*
 * cloudfunc-gate: the first process of every container cloudfunc runs.
 *
 * It is mounted into images it knows nothing about, so it stands alone:
 * no libc, no loader, only system calls.  It waits on stdin for the
 * responder's header, runs its arguments as the function's command with
 * the rest of stdin, relays the command's stdout and stderr in frames of
 * its own, and ends with a frame that holds the command's exit status.
 * As process 1 of the container it also reaps orphans and passes the
 * signals meant for the container on to the command.
 */
#include <stddef.h>
#include <stdint.h>

#include "gate.h"

#if defined(__x86_64__)
#define SYS_read		0
#define SYS_write		1
#define SYS_close		3
#define SYS_rt_sigprocmask	14
#define SYS_clone		56
#define SYS_execve		59
#define SYS_wait4		61
#define SYS_kill		62
#define SYS_exit_group		231
#define SYS_ppoll		271
#define SYS_signalfd4		289
#define SYS_dup3		292
#define SYS_pipe2		293

static long
sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ volatile ("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b),
	    "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
	return ret;
}

/* The kernel's stack: argc, argv, NULL, envp, NULL. */
__asm__(".text\n.global _start\n_start:\n"
    "\txor %rbp, %rbp\n\tmov %rsp, %rdi\n\tand $-16, %rsp\n"
    "\tcall gate_main\n\thlt\n");

#elif defined(__aarch64__)
#define SYS_dup3		24
#define SYS_close		57
#define SYS_pipe2		59
#define SYS_read		63
#define SYS_write		64
#define SYS_ppoll		73
#define SYS_signalfd4		74
#define SYS_exit_group		94
#define SYS_kill		129
#define SYS_rt_sigprocmask	135
#define SYS_clone		220
#define SYS_execve		221
#define SYS_wait4		260

static long
sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;

	__asm__ volatile ("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2),
	    "r"(x3), "r"(x4), "r"(x5) : "memory");
	return x0;
}

__asm__(".text\n.global _start\n_start:\n"
    "\tmov x29, #0\n\tmov x30, #0\n\tmov x0, sp\n\tbl gate_main\n");

#else
#error "cloudfunc-gate knows the system calls of x86_64 and aarch64 only"
#endif

#define sys3(n, a, b, c)	sys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)

#define EINTR		4
#define ENOENT		2
#define EAGAIN		11
#define EACCES		13
#define O_CLOEXEC	02000000
#define O_NONBLOCK	04000
#define POLLIN		0x001
#define POLLHUP		0x010
#define POLLERR		0x008
#define WNOHANG		1
#define SIGHUP		1
#define SIGINT		2
#define SIGQUIT		3
#define SIGUSR1		10
#define SIGUSR2		12
#define SIGTERM		15
#define SIGCHLD		17
#define SIG_SETMASK	2

/* Statuses of our own, as a shell would give them. */
#define GATE_NO_HEADER	125
#define GATE_NOT_EXEC	126
#define GATE_NOT_FOUND	127

#define GATE_MAX_VARS	4096
#define GATE_PATH_MAX	4096
#define GATE_CHUNK	65536
/* After the command exits, what is still in its pipes is read, this much. */
#define GATE_DRAIN_READS 64

struct pollfd {
	int	fd;
	short	events;
	short	revents;
};

struct signalfd_siginfo {
	uint32_t	signo;
	unsigned char	rest[124];
};

/* The compiler may call these for plain loops and copies. */
void	*memset(void *dst, int c, size_t n);
void	*memcpy(void *dst, const void *src, size_t n);
void	 gate_main(long *sp) __attribute__((noreturn, used));

void *
memset(void *dst, int c, size_t n)
{
	volatile unsigned char *d = dst;

	while (n-- > 0)
		*d++ = (unsigned char)c;
	return dst;
}

void *
memcpy(void *dst, const void *src, size_t n)
{
	volatile unsigned char *d = dst;
	const unsigned char *s = src;

	while (n-- > 0)
		*d++ = *s++;
	return dst;
}

static char	 header_env[GATE_MAX_ENV];
static char	*vars[GATE_MAX_VARS];
static char	 chunk[GATE_CHUNK];
static char	 path_buf[GATE_PATH_MAX];

static void __attribute__((noreturn))
gate_exit(int status)
{
	for (;;)
		sys3(SYS_exit_group, status, 0, 0);
}

static size_t
gate_strlen(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0')
		n++;
	return n;
}

/* Writes all of it, or gives up on an error: the reader is gone. */
static int
gate_write(int fd, const void *data, size_t len)
{
	const char *p = data;
	long n;

	while (len > 0) {
		n = sys3(SYS_write, fd, p, len);
		if (n == -EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
gate_say(const char *a, const char *b, const char *c)
{
	gate_write(2, a, gate_strlen(a));
	gate_write(2, b, gate_strlen(b));
	gate_write(2, c, gate_strlen(c));
}

/* Reads exactly len bytes; returns 0, or -1 at an early end. */
static int
gate_read_full(int fd, char *dst, size_t len)
{
	long n;

	while (len > 0) {
		n = sys3(SYS_read, fd, dst, len);
		if (n == -EINTR)
			continue;
		if (n <= 0)
			return -1;
		dst += n;
		len -= (size_t)n;
	}
	return 0;
}

static uint32_t
gate_get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void
gate_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static int
gate_frame(int type, const char *data, uint32_t len)
{
	unsigned char h[GATE_FRAME_LEN] = { 0 };

	h[0] = (unsigned char)type;
	gate_put32(h + 4, len);
	if (gate_write(1, h, sizeof(h)) == -1)
		return -1;
	return gate_write(1, data, len);
}

/* Whether "KEY=..." entries a and b name the same variable. */
static int
gate_same_key(const char *a, const char *b)
{
	while (*a != '\0' && *a != '=' && *a == *b) {
		a++;
		b++;
	}
	return (*a == '=' || *a == '\0') && (*b == '=' || *b == '\0');
}

/*
 * The command's environment: the container's, with the header's entries
 * over it, a later entry replacing an earlier one of the same name.
 */
static char **
gate_environment(char **envp, char *env, size_t len)
{
	size_t n = 0, i, at = 0;
	char *e;

	for (; envp[0] != NULL && n < GATE_MAX_VARS - 1; envp++)
		vars[n++] = envp[0];
	while (at < len) {
		e = env + at;
		at += gate_strlen(e) + 1;
		for (i = 0; i < n && !gate_same_key(vars[i], e); i++)
			;
		if (i < n)
			vars[i] = e;
		else if (n < GATE_MAX_VARS - 1)
			vars[n++] = e;
	}
	vars[n] = NULL;
	return vars;
}

static int
gate_has_slash(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '/')
			return 1;
	return 0;
}

static const char *
gate_getenv(char **env, const char *key)
{
	size_t k = gate_strlen(key), i;

	for (; *env != NULL; env++) {
		for (i = 0; i < k && (*env)[i] == key[i]; i++)
			;
		if (i == k && (*env)[k] == '=')
			return *env + k + 1;
	}
	return NULL;
}

/* Runs argv[0] as execvp(3) would; returns only with the last error. */
static long
gate_exec(char **argv, char **env)
{
	const char *path, *dir, *name = argv[0];
	size_t dlen, nlen = gate_strlen(name);
	long err, seen = -ENOENT;

	if (gate_has_slash(name))
		return sys3(SYS_execve, name, argv, env);
	path = gate_getenv(env, "PATH");
	if (path == NULL)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
		    "/sbin:/bin";
	while (*path != '\0') {
		dir = path;
		for (dlen = 0; dir[dlen] != '\0' && dir[dlen] != ':'; dlen++)
			;
		path += dlen + (dir[dlen] == ':');
		if (dlen + 1 + nlen + 1 > sizeof(path_buf))
			continue;
		if (dlen == 0)
			path_buf[dlen++] = '.';
		else
			memcpy(path_buf, dir, dlen);
		path_buf[dlen] = '/';
		memcpy(path_buf + dlen + 1, name, nlen + 1);
		err = sys3(SYS_execve, path_buf, argv, env);
		/* Like a shell: a file found but not runnable is the answer. */
		if (err == -EACCES)
			seen = err;
		else if (err != -ENOENT && err != -20 /* ENOTDIR */)
			return err;
	}
	return seen;
}

/* In the child: the command's pipes in place, then the command. */
static void __attribute__((noreturn))
gate_child(char **argv, char **env, int out, int err)
{
	uint64_t none = 0;
	long rc;

	sys6(SYS_rt_sigprocmask, SIG_SETMASK, (long)&none, 0, 8, 0, 0);
	if (sys3(SYS_dup3, out, 1, 0) < 0 || sys3(SYS_dup3, err, 2, 0) < 0)
		gate_exit(GATE_NOT_EXEC);
	rc = gate_exec(argv, env);
	gate_say("cloudfunc-gate: cannot run \"", argv[0], rc == -ENOENT ?
	    "\": not found\n" : rc == -EACCES ? "\": permission denied\n" :
	    "\": not an executable this kernel can run\n");
	gate_exit(rc == -ENOENT ? GATE_NOT_FOUND : GATE_NOT_EXEC);
}

/* Relays what one pipe has; returns 0, or -1 at its end. */
static int
gate_relay(int fd, int type)
{
	long n;

	do
		n = sys3(SYS_read, fd, chunk, sizeof(chunk));
	while (n == -EINTR);
	if (n == -EAGAIN)
		return 0;
	if (n <= 0)
		return -1;
	/* With nobody left to read, the command's output has nowhere to go. */
	if (gate_frame(type, chunk, (uint32_t)n) == -1)
		gate_exit(GATE_NOT_EXEC);
	return 0;
}

/* Relays the pipes that poll found ready; returns how many are still open. */
static int
gate_relay_ready(struct pollfd *pf, int open)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (gate_relay(pf[i].fd, i + 1) == -1) {
			pf[i].fd = -1;
			open--;
		}
	}
	return open;
}

/* Reaps every child that has ended; returns whether the command did. */
static int
gate_reap(long command, int *status)
{
	int st, found = 0;
	long pid;

	for (;;) {
		pid = sys6(SYS_wait4, -1, (long)&st, WNOHANG, 0, 0, 0);
		if (pid <= 0)
			return found;
		if (pid != command)
			continue;
		found = 1;
		if ((st & 0x7f) == 0)
			*status = (st >> 8) & 0xff;
		else
			*status = 128 + (st & 0x7f);
	}
}

/*
 * Reads the responder's header; returns the environment it brings.  A
 * container that gets none was not given a request: nothing runs.
 */
static char **
gate_read_header(char **envp)
{
	unsigned char hdr[GATE_HEADER_LEN];
	uint32_t len = 0;
	int good;

	good = gate_read_full(0, (char *)hdr, sizeof(hdr)) == 0 &&
	    hdr[0] == GATE_MAGIC[0] && hdr[1] == GATE_MAGIC[1] &&
	    hdr[2] == GATE_MAGIC[2] && hdr[3] == GATE_MAGIC[3];
	if (good) {
		len = gate_get32(hdr + 4);
		good = len <= sizeof(header_env) &&
		    gate_read_full(0, header_env, len) == 0 &&
		    (len == 0 || header_env[len - 1] == '\0');
	}
	if (!good) {
		gate_say("cloudfunc-gate: no valid header on stdin", "", "\n");
		gate_exit(GATE_NO_HEADER);
	}
	return gate_environment(envp, header_env, len);
}

/*
 * Starts the command with its stdout and stderr on pipes, whose reading
 * ends go in pf.  Signals come through a descriptor (pf[2]) from then
 * on, so that one loop waits for output, the command's end, and the
 * signals to pass on.  Returns the command's pid.
 */
static long
gate_spawn(char **argv, char **env, struct pollfd *pf)
{
	uint64_t mask;
	int out[2], err[2];
	long child, sfd;

	mask = 1ULL << (SIGCHLD - 1) | 1ULL << (SIGTERM - 1) |
	    1ULL << (SIGINT - 1) | 1ULL << (SIGHUP - 1) |
	    1ULL << (SIGQUIT - 1) | 1ULL << (SIGUSR1 - 1) |
	    1ULL << (SIGUSR2 - 1);
	sys6(SYS_rt_sigprocmask, SIG_SETMASK, (long)&mask, 0, 8, 0, 0);
	sfd = sys6(SYS_signalfd4, -1, (long)&mask, 8, O_CLOEXEC | O_NONBLOCK,
	    0, 0);
	if (sfd < 0 || sys3(SYS_pipe2, out, O_CLOEXEC, 0) < 0 ||
	    sys3(SYS_pipe2, err, O_CLOEXEC, 0) < 0) {
		gate_say("cloudfunc-gate: cannot set up pipes", "", "\n");
		gate_exit(GATE_NOT_EXEC);
	}

	child = sys6(SYS_clone, SIGCHLD, 0, 0, 0, 0, 0);
	if (child < 0) {
		gate_say("cloudfunc-gate: cannot start the command", "", "\n");
		gate_exit(GATE_NOT_EXEC);
	}
	if (child == 0)
		gate_child(argv, env, out[1], err[1]);
	sys3(SYS_close, out[1], 0, 0);
	sys3(SYS_close, err[1], 0, 0);
	/* The command has stdin now; holding it would keep it open. */
	sys3(SYS_close, 0, 0, 0);

	pf[0].fd = out[0];
	pf[1].fd = err[0];
	pf[2].fd = (int)sfd;
	pf[0].events = pf[1].events = pf[2].events = POLLIN;
	return child;
}

/*
 * Relays output and passes signals on until the command ends; returns
 * its status.  *open is how many of its pipes are still open.
 */
static int
gate_wait(long child, struct pollfd *pf, int *open)
{
	struct signalfd_siginfo si;
	int status = 0, done = 0, i;

	while (!done) {
		for (i = 0; i < 3; i++)
			pf[i].revents = 0;
		if (sys6(SYS_ppoll, (long)pf, 3, 0, 0, 8, 0) < 0)
			continue;
		*open = gate_relay_ready(pf, *open);
		if (!(pf[2].revents & POLLIN))
			continue;
		while (sys3(SYS_read, pf[2].fd, &si, sizeof(si)) ==
		    sizeof(si)) {
			if (si.signo == SIGCHLD)
				done |= gate_reap(child, &status);
			else if (!done)
				sys3(SYS_kill, child, si.signo, 0);
		}
	}
	return status;
}

/*
 * The command has ended: what it wrote is in the pipes already.  A
 * process it left behind may hold them open, so this reads what is there
 * now, not up to their end.
 */
static void
gate_drain(struct pollfd *pf, int open)
{
	long zero[2] = { 0, 0 };
	int i, n;

	for (n = 0; open > 0 && n < GATE_DRAIN_READS; n++) {
		for (i = 0; i < 2; i++)
			pf[i].revents = 0;
		if (sys6(SYS_ppoll, (long)pf, 2, (long)zero, 0, 8, 0) <= 0)
			return;
		open = gate_relay_ready(pf, open);
	}
}

void
gate_main(long *sp)
{
	char **argv = (char **)(sp + 1), **env;
	unsigned char rec[GATE_EXIT_LEN];
	struct pollfd pf[3];
	long argc = sp[0], child;
	int status, open = 2;

	if (argc < 2) {
		gate_say("cloudfunc-gate: no command to run", "", "\n");
		gate_exit(GATE_NOT_EXEC);
	}
	env = gate_read_header(argv + argc + 1);
	child = gate_spawn(argv + 1, env, pf);
	status = gate_wait(child, pf, &open);
	gate_drain(pf, open);

	gate_put32(rec, (uint32_t)status);
	gate_frame(GATE_EXIT, (const char *)rec, sizeof(rec));
	gate_exit(status);
}
