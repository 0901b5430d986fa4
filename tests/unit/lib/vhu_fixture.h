/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cmocka fixture shared by the vhost/ unit tests that talk to a backend
 * through the scripted frontend: a backend socket at a fresh path, one
 * frontend connected to it and through the feature handshake, and the fd
 * count taken before, so that teardown can assert nothing leaked. Tests that
 * need guest memory add their regions after vhu_fx_open().
 */
#ifndef VHU_FIXTURE_H
#define VHU_FIXTURE_H

#include <stdint.h>

#include "vhu_frontend.h"

struct vhu_fx {
	char path[64];
	struct vhu_sock *s;
	struct vhu_fe_events ev;
	struct vhu_fe fe;
	int nb_fds;
};

/*
 * Zero @p f, create a backend with @p queue_pairs at
 * /tmp/vhu-<tag>-<pid>-<n>.sock, connect the frontend and run
 * vhu_fe_handshake(). 0, or -1 if any step failed (a cmocka setup failure).
 */
int vhu_fx_open(struct vhu_fx *f, const char *tag, uint16_t queue_pairs, uint64_t features,
		uint64_t proto_features);
/* Close both ends and assert every fd the backend received or opened is closed again. */
void vhu_fx_close(struct vhu_fx *f);

#endif /* VHU_FIXTURE_H */
