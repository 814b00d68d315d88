/* Images: pulling what the engine lacks, once however many ask at once. */
#ifndef CLOUDFUNC_IMAGE_H
#define CLOUDFUNC_IMAGE_H

#include <stddef.h>

#include "engine.h"

/*
 * Pulls image onto the engine.  Concurrent calls for the same image wait
 * for the first one's pull and share its result.  auth_file, when not
 * NULL, is a file in the docker CLI's "auths" format whose entry for the
 * image's registry is sent along.  Returns 0, or -1 with the reason in msg
 * and *unavailable set when the engine itself could not be reached.
 */
int	image_pull(struct engine *e, const char *image, const char *auth_file,
	    long timeout_ms, char *msg, size_t msglen, int *unavailable);

/*
 * The X-Registry-Auth value for image from an "auths" file: base64url of
 * {"username","password","serveraddress"}.  Returns a string the caller
 * frees; NULL with msg empty when the file has no entry for the registry,
 * or NULL with the reason in msg.
 */
char	*image_auth_header(const char *image, const char *auth_file,
	    char *msg, size_t msglen);

/* The registry host of an image reference ("docker.io" when none). */
void	image_registry(const char *image, char *dst, size_t len);

#endif
