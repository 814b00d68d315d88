/* A few macros that print TAP, for automake's tap-driver. */
#ifndef CLOUDFUNC_TAP_H
#define CLOUDFUNC_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_count;
static int tap_failed;

#define tap_ok(cond, ...) do {						\
	int tap_cond_ = (cond) ? 1 : 0;					\
	tap_count++;							\
	if (!tap_cond_)							\
		tap_failed++;						\
	printf("%sok %d - ", tap_cond_ ? "" : "not ", tap_count);	\
	printf(__VA_ARGS__);						\
	printf("\n");							\
	if (!tap_cond_)							\
		printf("#   failed at %s:%d\n", __FILE__, __LINE__);	\
} while (0)

#define tap_streq(got, want, ...) do {					\
	const char *tap_g_ = (got), *tap_w_ = (want);			\
	tap_ok(tap_g_ != NULL && strcmp(tap_g_, tap_w_) == 0,		\
	    __VA_ARGS__);						\
	if (tap_g_ == NULL || strcmp(tap_g_, tap_w_) != 0)		\
		printf("#   got  \"%s\"\n#   want \"%s\"\n",		\
		    tap_g_ ? tap_g_ : "(null)", tap_w_);		\
} while (0)

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed == 0 ? 0 : 1;
}

#endif
