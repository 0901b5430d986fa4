/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of src/vd_lcore.c, the lcore plan: every (port, rx queue) is
 * polled by exactly one lcore, rx queues that share a tx queue of the linked
 * port stay on one lcore, pins are honoured or refused with file:line, and
 * unpinned queues prefer lcores on the port's NUMA node. No EAL.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "vd_cfg.h"
#include "vd_lcore.h"

static struct vd_cfg cfg;
static struct vd_fwd_lcore out[4];
static char err[2048];

static void
load(const char *text)
{
	char perr[1024];
	int ret = vd_cfg_parse_buf(&cfg, "p.conf", text, strlen(text), perr, sizeof(perr));

	if (ret != 0)
		print_error("%s", perr);
	assert_int_equal(ret, 0);
}

/* Which lcore (index in out[]) polls port:queue, -1 if none; fails if more than one. */
static int
owner(unsigned int nb, uint16_t port, uint16_t queue, uint16_t *txq)
{
	unsigned int l, q;
	int found = -1;

	for (l = 0; l < nb; l++)
		for (q = 0; q < out[l].nb_queues; q++)
			if (out[l].queues[q].cfg_rx == port && out[l].queues[q].rx_queue == queue) {
				assert_int_equal(found, -1);
				found = (int)l;
				if (txq != NULL)
					*txq = out[l].queues[q].tx_queue;
			}
	return found;
}

#define PORTS(qa, qb)                                           \
	"[port a]\ntype=vdev\nvdev=net_null0\nqueues=" #qa "\n" \
	"[port b]\ntype=vdev\nvdev=net_null1\nqueues=" #qb "\n" \
	"[link l]\na=a\nb=b\n"

static const struct vd_lcore_worker two[] = {{1, 0}, {2, 0}};

static void
test_vd_lcore_every_queue_once(void **state)
{
	const int numa[] = {0, 0};
	unsigned int q;

	(void)state;
	load(PORTS(4, 4));
	assert_int_equal(vd_lcore_plan(&cfg, numa, two, 2, out, err, sizeof(err)), 0);
	for (q = 0; q < 4; q++) {
		assert_true(owner(2, 0, (uint16_t)q, NULL) >= 0);
		assert_true(owner(2, 1, (uint16_t)q, NULL) >= 0);
	}
	assert_int_equal(out[0].nb_queues + out[1].nb_queues, 8);
	assert_int_equal(out[0].nb_queues, 4); /* balanced */
	assert_int_equal(out[0].lcore_id, 1);
}

static void
test_vd_lcore_shared_txq_same_lcore(void **state)
{
	const int numa[] = {0, 0};
	uint16_t txq0, txq2;

	(void)state;
	load(PORTS(4, 2)); /* a:0 and a:2 both send on b's tx queue 0 */
	assert_int_equal(vd_lcore_plan(&cfg, numa, two, 2, out, err, sizeof(err)), 0);
	assert_int_equal(owner(2, 0, 0, &txq0), owner(2, 0, 2, &txq2));
	assert_int_equal(txq0, 0);
	assert_int_equal(txq2, 0);
	assert_int_equal(owner(2, 0, 1, NULL), owner(2, 0, 3, NULL));
}

static void
test_vd_lcore_pins_honoured(void **state)
{
	const int numa[] = {0, 0};

	(void)state;
	load(PORTS(2, 2) "[lcore 2]\nports=a:0,b\n");
	assert_int_equal(vd_lcore_plan(&cfg, numa, two, 2, out, err, sizeof(err)), 0);
	assert_int_equal(owner(2, 0, 0, NULL), 1);
	assert_int_equal(owner(2, 1, 0, NULL), 1);
	assert_int_equal(owner(2, 1, 1, NULL), 1);
	assert_int_equal(owner(2, 0, 1, NULL), 0); /* the unpinned one goes to the idle lcore */
}

static void
test_vd_lcore_pin_splitting_txq_refused(void **state)
{
	const int numa[] = {0, 0};

	(void)state;
	load(PORTS(2, 1) "[lcore 1]\nports=a:0\n[lcore 2]\nports=a:1\n");
	assert_int_equal(vd_lcore_plan(&cfg, numa, two, 2, out, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "p.conf:15: ports: a:1 and a:0 both send on tx queue 0 of port "
				    "b, so one lcore must poll both (lcore 1 has a:0, line 13)"));
}

static void
test_vd_lcore_pin_to_unknown_lcore_refused(void **state)
{
	const int numa[] = {0, 0};

	(void)state;
	load(PORTS(1, 1) "[lcore 7]\nports=a\n");
	assert_int_equal(vd_lcore_plan(&cfg, numa, two, 2, out, err, sizeof(err)), -EINVAL);
	assert_string_equal(err,
			    "p.conf:13: ports: lcore 7 is not a forwarding lcore of this EAL\n");
}

static void
test_vd_lcore_no_worker_refused(void **state)
{
	const int numa[] = {0, 0};

	(void)state;
	load(PORTS(1, 1));
	assert_int_equal(vd_lcore_plan(&cfg, numa, two, 0, out, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no forwarding lcore"));
}

static void
test_vd_lcore_prefers_port_numa(void **state)
{
	const struct vd_lcore_worker mixed[] = {{1, 0}, {2, 1}, {3, 1}};
	const int numa[] = {1, 1};
	unsigned int q;

	(void)state;
	load(PORTS(2, 2));
	assert_int_equal(vd_lcore_plan(&cfg, numa, mixed, 3, out, err, sizeof(err)), 0);
	assert_int_equal(out[0].nb_queues, 0); /* lcore 1 is on node 0: left idle */
	for (q = 0; q < 2; q++) {
		assert_true(owner(3, 0, (uint16_t)q, NULL) >= 1);
		assert_true(owner(3, 1, (uint16_t)q, NULL) >= 1);
	}
}

static void
test_vd_lcore_other_node_when_needed(void **state)
{
	const struct vd_lcore_worker node0[] = {{1, 0}};
	const int numa[] = {1, -1};

	(void)state;
	load(PORTS(1, 1));
	/* No lcore on node 1: still planned (with a warning), never left unpolled. */
	assert_int_equal(vd_lcore_plan(&cfg, numa, node0, 1, out, err, sizeof(err)), 0);
	assert_int_equal(owner(1, 0, 0, NULL), 0);
	assert_int_equal(owner(1, 1, 0, NULL), 0);
	assert_int_equal(out[0].tx_retries, cfg.tx_retries);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vd_lcore_every_queue_once),
	    cmocka_unit_test(test_vd_lcore_shared_txq_same_lcore),
	    cmocka_unit_test(test_vd_lcore_pins_honoured),
	    cmocka_unit_test(test_vd_lcore_pin_splitting_txq_refused),
	    cmocka_unit_test(test_vd_lcore_pin_to_unknown_lcore_refused),
	    cmocka_unit_test(test_vd_lcore_no_worker_refused),
	    cmocka_unit_test(test_vd_lcore_prefers_port_numa),
	    cmocka_unit_test(test_vd_lcore_other_node_when_needed),
	};

	return cmocka_run_group_tests_name("vd_lcore", tests, NULL, NULL);
}
