/* Checks the defaults and that each bad configuration is refused clearly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "tap.h"

static char conf_path[] = "/tmp/cloudfunc-test-conf-XXXXXX";

/* Writes text to the scratch file and loads it over the defaults. */
static int
load(const char *text, struct conf *c, char *err, size_t errlen)
{
	FILE *fp = fopen(conf_path, "w");

	if (fp == NULL)
		return -2;
	fputs(text, fp);
	fclose(fp);
	if (conf_defaults(c, err, errlen) == -1)
		return -2;
	return conf_load(c, conf_path, err, errlen);
}

static void
test_defaults(void)
{
	const struct conf_function *f;
	struct conf c;
	char err[1024];

	unsetenv("DOCKER_HOST");
	tap_ok(conf_defaults(&c, err, sizeof(err)) == 0, "defaults load");
	tap_streq(c.socket_path, "/var/run/docker.sock", "default engine");
	f = conf_function(&c, "spawnTestContainer");
	tap_ok(f != NULL, "the seed function is there");
	if (f != NULL) {
		tap_streq(f->image, "busybox:latest", "seed image");
		tap_streq(f->cmd[0], "echo", "seed command");
		tap_streq(f->cmd[1], "Hello from CloudFunc", "seed argument");
		tap_ok(f->cmd[2] == NULL, "seed command ends there");
		tap_streq(f->network, "none", "seed network");
		tap_ok(f->timeout_ms == 30000, "seed time limit is 30 s");
	}
	conf_free(&c);

	setenv("DOCKER_HOST", "unix:///tmp/other.sock", 1);
	conf_defaults(&c, err, sizeof(err));
	tap_streq(c.socket_path, "/tmp/other.sock", "DOCKER_HOST is followed");
	conf_free(&c);
	setenv("DOCKER_HOST", "tcp://127.0.0.1:2376", 1);
	tap_ok(conf_defaults(&c, err, sizeof(err)) == -1 &&
	    strstr(err, "allow_plain_tcp") != NULL,
	    "a tcp:// engine without TLS is refused");
	setenv("DOCKER_CERT_PATH", "/nonexistent/certs", 1);
	tap_ok(conf_defaults(&c, err, sizeof(err)) == -1 &&
	    strstr(err, "/nonexistent/certs/ca.pem") != NULL,
	    "DOCKER_CERT_PATH names the TLS files");
	unsetenv("DOCKER_CERT_PATH");
	setenv("DOCKER_HOST", "ssh://somewhere", 1);
	tap_ok(conf_defaults(&c, err, sizeof(err)) == -1 &&
	    strstr(err, "DOCKER_HOST") != NULL,
	    "a DOCKER_HOST that cannot be used is refused by name");
	unsetenv("DOCKER_HOST");
}

static void
test_good_file(void)
{
	const struct conf_function *f;
	struct conf c;
	char err[1024];
	int rc;

	rc = load("/* comments are allowed */\n"
	    "{\n"
	    "  \"engine\": \"unix:///run/test.sock\", // here too\n"
	    "  \"engine_timeout_ms\": 2000,\n"
	    "  \"functions\": {\n"
	    "    \"spawnTestContainer\": { \"image\": \"other:1\" },\n"
	    "    \"up-per_2\": { \"image\": \"busybox:latest\",\n"
	    "                  \"cmd\": [\"tr\", \"a-z\", \"A-Z\"],\n"
	    "                  \"timeout_ms\": 5000 }\n"
	    "  }\n"
	    "}\n", &c, err, sizeof(err));
	tap_ok(rc == 0, "a good file loads");
	if (rc != 0) {
		printf("# %s\n", err);
		return;
	}
	tap_streq(c.socket_path, "/run/test.sock", "engine from the file");
	tap_ok(c.engine_timeout_ms == 2000, "engine time limit from the file");
	f = conf_function(&c, "spawnTestContainer");
	tap_streq(f->image, "other:1", "the seed's image can be changed");
	tap_streq(f->cmd[0], "echo", "and its command stays");
	f = conf_function(&c, "up-per_2");
	tap_ok(f != NULL && f->timeout_ms == 5000 &&
	    strcmp(f->cmd[2], "A-Z") == 0, "a second function loads");
	conf_free(&c);
}

/* Each bad file must fail, and the message must name the key. */
static void
expect_refused(const char *text, const char *needle, const char *what)
{
	struct conf c;
	char err[2048];
	int rc;

	rc = load(text, &c, err, sizeof(err));
	tap_ok(rc == -1 && strstr(err, needle) != NULL &&
	    strstr(err, conf_path) != NULL, "%s", what);
	if (rc != -1 || strstr(err, needle) == NULL)
		printf("#   message: %s\n", rc == -1 ? err : "(accepted)");
	if (rc == 0)
		conf_free(&c);
}

static void
test_bad_files(void)
{
	expect_refused("{\"engin\": \"unix:///x\"}", "\"engin\": unknown key",
	    "an unknown top-level key");
	expect_refused("{\"functions\": {\"a\": {\"image\": \"b\", "
	    "\"memroy\": 1}}}", "functions.a.memroy", "an unknown function key");
	expect_refused("{\"engine_timeout_ms\": \"10\"}", "engine_timeout_ms",
	    "a string where a number belongs");
	expect_refused("{\"engine_timeout_ms\": 0}", "from 100 to",
	    "an impossible time limit");
	expect_refused("{\"functions\": {\"a b\": {\"image\": \"x\"}}}",
	    "[A-Za-z0-9_-]{1,64}", "a bad function name");
	expect_refused("{\"functions\": {\"a\": {}}}", "functions.a.image",
	    "a function without an image");
	expect_refused("{\"functions\": {\"a\": {\"image\": \"x\", "
	    "\"prewarm\": 65}}}", "functions.a.prewarm", "too large a pool");
	expect_refused("{\"gate\": \"cloudfunc-gate\"}", "absolute path",
	    "a gate path that is not absolute");
	expect_refused("{\"prewarm_max_idle_ms\": 10}", "prewarm_max_idle_ms",
	    "too short an idle time");
	expect_refused("{\"functions\": {\"a\": {\"image\": \"x\", "
	    "\"cmd\": []}}}", "functions.a.cmd", "an empty command");
	expect_refused("{\"functions\": {\"a\": {\"image\": \"x\", "
	    "\"cmd\": [\"ok\", 3]}}}", "element 1", "a command with a number");
	expect_refused("{\"engine\": \"tcp://1.2.3.4:2375\"}",
	    "allow_plain_tcp", "a tcp:// engine without TLS");
	expect_refused("{\"engine\": \"http://x\"}", "\"engine\"",
	    "an engine address of another scheme");
	expect_refused("{\"engine\": \"tcp://h:1\", \"tls_ca\": \"/x\"}",
	    "together", "half of the TLS files");
	expect_refused("{\"functions\": [1]}", "\"functions\"",
	    "functions as an array");
	expect_refused("{\n\"engine\": \n}", "line 3", "a syntax error, "
	    "with its line");
	expect_refused("[1, 2]", "object at the top", "an array at the top");
	expect_refused("{} {}", "text after", "two objects");
	expect_refused("{\"a\": 1, \"b\": 2}", "\"b\"",
	    "every problem is reported, not only the first");
}

static void
test_missing_file(void)
{
	struct conf c;
	char err[1024];

	conf_defaults(&c, err, sizeof(err));
	tap_ok(conf_load(&c, "/nonexistent/cloudfunc.json", err,
	    sizeof(err)) == -1 && strstr(err, "cannot open") != NULL,
	    "a missing file is refused with its reason");
}

int
main(void)
{
	int fd = mkstemp(conf_path);

	if (fd == -1) {
		printf("Bail out! cannot make a scratch file\n");
		return 1;
	}
	close(fd);
	test_defaults();
	test_good_file();
	test_bad_files();
	test_missing_file();
	unlink(conf_path);
	return tap_done();
}
