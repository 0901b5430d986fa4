/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The shared backend-plus-frontend fixture of the vhost/ unit tests (see
 * vhu_fixture.h). Teardown asserts with cmocka, so this file is linked only
 * into cmocka test executables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vhu_fixture.h"

int
vhu_fx_open(struct vhu_fx *f, const char *tag, uint16_t queue_pairs, uint64_t features,
	    uint64_t proto_features)
{
	/* One counter per test executable: each test gets a path of its own. */
	static int n;

	memset(f, 0, sizeof(*f));
	snprintf(f->path, sizeof(f->path), "/tmp/vhu-%s-%d-%d.sock", tag, getpid(), n++);
	f->nb_fds = vhu_fe_count_fds();
	f->s = vhu_fe_backend(f->path, false, queue_pairs, &f->ev);
	if (f->s == NULL)
		return -1;
	vhu_fe_init(&f->fe);
	if (vhu_fe_connect(&f->fe, f->path) < 0)
		return -1;
	if (vhu_fe_handshake(&f->fe, features, proto_features) != 0)
		return -1;
	return 0;
}

void
vhu_fx_close(struct vhu_fx *f)
{
	vhu_fe_close(&f->fe);
	vhu_sock_destroy(f->s);
	/* Every fd the backend received or opened is closed again. */
	assert_int_equal(vhu_fe_count_fds(), f->nb_fds);
}
