/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of src/vd_cfg.c, the config parser: a valid file gives the
 * expected struct, and each kind of mistake gives exactly the message
 * "file:line: key: reason" for the right line, with -EINVAL. No EAL.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_common.h>

#include "vd_cfg.h"

static struct vd_cfg cfg;
static char err[4096];

static int
parse(const char *text)
{
	return vd_cfg_parse_buf(&cfg, "t.conf", text, strlen(text), err, sizeof(err));
}

static unsigned int
count_lines(const char *s)
{
	unsigned int n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* Parse @p text, which must fail with exactly one error line that starts with @p expect. */
static void
expect_one_error(const char *text, const char *expect)
{
	int ret = parse(text);

	if (ret != -EINVAL || strncmp(err, expect, strlen(expect)) != 0 || count_lines(err) != 1)
		print_error("expected one error '%s...', got ret %d:\n%s", expect, ret, err);
	assert_int_equal(ret, -EINVAL);
	assert_int_equal(strncmp(err, expect, strlen(expect)), 0);
	assert_int_equal(count_lines(err), 1);
}

#define TWO_PORTS                     \
	"[port vm1]\n"                \
	"type = vhost-user\n"         \
	"path = /tmp/vd-test.sock\n"  \
	"[port tap]\n"                \
	"type = vdev\n"               \
	"vdev = net_tap0,iface=vd0\n" \
	"[link l0]\n"                 \
	"a = vm1\n"                   \
	"b = tap\n"

static void
test_vd_cfg_minimal_valid(void **state)
{
	(void)state;
	assert_int_equal(parse(TWO_PORTS), 0);
	assert_string_equal(err, "");
	assert_int_equal(cfg.nb_ports, 2);
	assert_int_equal(cfg.nb_links, 1);
	assert_int_equal(cfg.ports[0].type, VD_PORT_VHOST);
	assert_string_equal(cfg.ports[0].path, "/tmp/vd-test.sock");
	assert_false(cfg.ports[0].client);
	assert_int_equal(cfg.ports[0].queues, 1);
	assert_int_equal(cfg.ports[0].packed, VD_CFG_DEFAULT);
	assert_int_equal(cfg.ports[1].type, VD_PORT_VDEV);
	assert_string_equal(cfg.ports[1].vdev, "net_tap0,iface=vd0");
	assert_int_equal(vd_cfg_peer(&cfg, 0), 1);
	assert_int_equal(vd_cfg_peer(&cfg, 1), 0);
	assert_int_equal(vd_cfg_port_find(&cfg, "tap"), 1);
	assert_int_equal(vd_cfg_port_find(&cfg, "nope"), -ENOENT);
}

/* A port linked to itself is a loopback: its peer is itself. */
static void
test_vd_cfg_self_link_loopback(void **state)
{
	(void)state;
	assert_int_equal(
	    parse(TWO_PORTS "[port x]\ntype=vdev\nvdev=net_null0\n[link m]\na=x\nb=x\n"), 0);
	assert_string_equal(err, "");
	assert_int_equal(cfg.nb_links, 2);
	assert_int_equal(vd_cfg_peer(&cfg, 2), 2);
	assert_int_equal(cfg.ports[2].link, 1);
}

static void
test_vd_cfg_full_valid(void **state)
{
	static const char text[] = "# comment\n"
				   "; other comment\n"
				   "[eal]\n"
				   "lcores = 0-2,5\n"
				   "memory = 256   # MB\n"
				   "file-prefix = vd_test\n"
				   "in-memory = yes\n"
				   "args = \"--log-level=pmd.*:debug --no-telemetry\"\n"
				   "[datapath]\n"
				   "mbufs = 8192\n"
				   "tx-retries = 0\n"
				   "[stats]\n"
				   "interval = 5\n"
				   "[port vm1]\n"
				   "type=vhost-user\n"
				   "path=/run/vm1.sock\n"
				   "mode=server\n"
				   "queues=4\n"
				   "perm=0660\n"
				   "owner=0\n"
				   "group=root\n"
				   "packed=yes\n"
				   "mrg-rxbuf=off\n"
				   "tso=1\n"
				   "mtu=9000\n"
				   "mac=52:54:00:AB:cd:01\n"
				   "numa=1\n"
				   "[port vf0]\n"
				   "pci = af:00.1\n"
				   "type = pci\n"
				   "devargs = rxq_pkt_fill=1\n"
				   "queues = 2\n"
				   "rxd = 2048\n"
				   "[port vm2]\n"
				   "type=vhost-user\n"
				   "path=/run/vm2.sock\n"
				   "mode=client\n"
				   "reconnect-ms=250\n"
				   "[port n]\n"
				   "type=vdev\n"
				   "vdev=net_null0\n"
				   "[link l]\n"
				   "b = vm1\n"
				   "a = vf0\n"
				   "[link m]\n"
				   "a = vm2\n"
				   "b = n\n"
				   "[lcore 1]\n"
				   "ports = vm1:0, vm1:2, vf0\n"
				   "[lcore 5]\n"
				   "ports = vm1:1\n";

	(void)state;
	assert_int_equal(parse(text), 0);
	assert_true(cfg.has_lcores);
	assert_true(cfg.lcore_set[0] && cfg.lcore_set[2] && cfg.lcore_set[5]);
	assert_false(cfg.lcore_set[3]);
	assert_int_equal(vd_cfg_main_lcore(&cfg), 0);
	assert_int_equal(cfg.memory_mb, 256);
	assert_string_equal(cfg.eal_args, "--log-level=pmd.*:debug --no-telemetry");
	assert_int_equal(cfg.tx_retries, 0);
	assert_int_equal(cfg.stats_interval, 5);
	assert_false(cfg.ports[0].client);
	assert_true(cfg.ports[2].client);
	assert_int_equal(cfg.ports[2].reconnect_ms, 250);
	assert_int_equal(vd_cfg_peer(&cfg, 2), 3);
	assert_int_equal(cfg.ports[0].perm, 0660);
	assert_int_equal(cfg.ports[0].owner, 0);
	assert_int_equal(cfg.ports[0].group, 0);
	assert_int_equal(cfg.ports[0].packed, 1);
	assert_int_equal(cfg.ports[0].mrg_rxbuf, 0);
	assert_int_equal(cfg.ports[0].mac[3], 0xab);
	assert_string_equal(cfg.ports[1].pci, "0000:af:00.1");
	assert_int_equal(cfg.ports[1].rxd, 2048);
	/* vf0 (every queue) expands to vf0:0 and vf0:1 */
	assert_int_equal(cfg.nb_pins, 5);
	assert_int_equal(cfg.pins[2].port, 1);
	assert_int_equal(cfg.pins[3].queue, 1);
	assert_int_equal(cfg.pins[4].lcore, 5);
}

static void
test_vd_cfg_unknown_key(void **state)
{
	(void)state;
	expect_one_error(TWO_PORTS "[stats]\nintervall = 3\n",
			 "t.conf:11: intervall: unknown key in [stats]");
}

static void
test_vd_cfg_unknown_section(void **state)
{
	(void)state;
	expect_one_error("[bogus]\n" TWO_PORTS, "t.conf:1: bogus: unknown section");
}

static void
test_vd_cfg_key_outside_section(void **state)
{
	(void)state;
	expect_one_error("lcores = 0-1\n" TWO_PORTS, "t.conf:1: lcores: outside any valid section");
}

static void
test_vd_cfg_missing_equals(void **state)
{
	(void)state;
	expect_one_error(TWO_PORTS "[stats]\ninterval 3\n",
			 "t.conf:11: interval 3: expected 'key = value'");
}

static void
test_vd_cfg_duplicate_key(void **state)
{
	(void)state;
	expect_one_error("[port p]\ntype=vdev\nvdev=net_null0\nvdev=net_null1\n"
			 "[port q]\ntype=vdev\nvdev=net_null2\n[link l]\na=p\nb=q\n",
			 "t.conf:4: vdev: duplicate key (first at line 3)");
}

static void
test_vd_cfg_bad_numbers(void **state)
{
	(void)state;
	expect_one_error(TWO_PORTS "[stats]\ninterval = -1\n",
			 "t.conf:11: interval: '-1' is not a number");
	expect_one_error(TWO_PORTS "[stats]\ninterval = 5s\n",
			 "t.conf:11: interval: '5s' is not a number");
	expect_one_error(TWO_PORTS "[stats]\ninterval = 99999999999999999999999\n",
			 "t.conf:11: interval: '99999999999999999999999' out of range");
	expect_one_error(TWO_PORTS "[eal]\nmemory=8\n", "t.conf:11: memory: '8' out of range 16..");
}

static void
test_vd_cfg_bad_port_values(void **state)
{
	(void)state;
	expect_one_error("[port vm1]\ntype=vhost-user\npath=/tmp/a,b\n[port t]\ntype=vdev\n"
			 "vdev=net_null0\n[link l]\na=vm1\nb=t\n",
			 "t.conf:3: path: must not contain ','");
	expect_one_error("[port vm1]\ntype=vhost-user\npath=relative.sock\n[port t]\ntype=vdev\n"
			 "vdev=net_null0\n[link l]\na=vm1\nb=t\n",
			 "t.conf:3: path: 'relative.sock' must be an absolute path");
	expect_one_error(TWO_PORTS "[port x]\ntype=vhost-user\npath=/tmp/x\nqueues=17\n",
			 "t.conf:13: queues: '17' out of range 1..16");
	expect_one_error(TWO_PORTS "[port x]\ntype=virtio\n", "t.conf:11: type: 'virtio' is not");
	expect_one_error(TWO_PORTS "[port x]\ntype=vhost-user\npath=/tmp/x\nmode=both\n",
			 "t.conf:13: mode: 'both' is not server or client");
	expect_one_error(TWO_PORTS
			 "[port x]\ntype=vhost-user\npath=/tmp/x\nmac=01:00:5e:00:00:01\n",
			 "t.conf:13: mac: '01:00:5e:00:00:01' is a multicast address");
	expect_one_error(TWO_PORTS "[port x]\ntype=vhost-user\npath=/tmp/x\nmac=52:54:00:12:34\n",
			 "t.conf:13: mac: '52:54:00:12:34' is not a MAC address");
	expect_one_error(TWO_PORTS "[port x]\ntype=vhost-user\npath=/tmp/x\nperm=0999\n",
			 "t.conf:13: perm: '0999' is not a number");
	expect_one_error(TWO_PORTS "[port x]\ntype=vhost-user\npath=/tmp/x\nperm=0444\n",
			 "t.conf:13: perm: '0444' does not give the owner read and write");
	expect_one_error(TWO_PORTS "[port x]\ntype=vhost-user\npath=/tmp/x\npacked=maybe\n",
			 "t.conf:13: packed: 'maybe' is not a boolean");
	expect_one_error(TWO_PORTS
			 "[port x]\ntype=vhost-user\npath=/tmp/x\nperm=0600\nmode=client\n",
			 "t.conf:13: perm: only meaningful with mode=server");
	expect_one_error(TWO_PORTS "[port x]\ntype=vhost-user\npath=/tmp/x\nreconnect-ms=5\n",
			 "t.conf:13: reconnect-ms: only meaningful with mode=client");
	expect_one_error(TWO_PORTS "[port x]\ntype=vhost-user\npath=/tmp/x\nmtu=65535\n",
			 "t.conf:13: mtu: '65535' out of range 68..65517 for type=vhost-user");
	expect_one_error(TWO_PORTS "[port x]\ntype=vhost-user\npath=/tmp/x\nowner=nosuchuser_vd\n",
			 "t.conf:13: owner: unknown user 'nosuchuser_vd'");
}

static void
test_vd_cfg_bad_pci_and_vdev(void **state)
{
	(void)state;
	expect_one_error(TWO_PORTS "[port x]\ntype=pci\npci=0000:af:00.8\n",
			 "t.conf:12: pci: '0000:af:00.8' is not a PCI address");
	expect_one_error(TWO_PORTS "[port x]\ntype=pci\npci=0000:af:20.1\n",
			 "t.conf:12: pci: '0000:af:20.1': device number 32 is above 31");
	expect_one_error(TWO_PORTS "[port x]\ntype=vdev\nvdev=tap0\n",
			 "t.conf:12: vdev: 'tap0' must start with a net_ device name");
	expect_one_error(TWO_PORTS "[port x]\ntype=pci\npci=0000:af:00.1\ndevargs=a b\n",
			 "t.conf:13: devargs: must not contain blanks");
}

static void
test_vd_cfg_key_not_for_type(void **state)
{
	(void)state;
	/* type comes last: the check runs when the section ends */
	expect_one_error(TWO_PORTS "[port x]\npath=/tmp/x\npci=0000:00:04.0\ntype=pci\n",
			 "t.conf:11: path: not valid for type=pci");
}

static void
test_vd_cfg_missing_required(void **state)
{
	(void)state;
	expect_one_error(TWO_PORTS "[port x]\nqueues=2\n",
			 "t.conf:10: type: missing (vhost-user, pci or vdev)");
	expect_one_error(TWO_PORTS "[port x]\ntype=vhost-user\n",
			 "t.conf:10: path: missing for type=vhost-user");
}

static void
test_vd_cfg_port_not_linked(void **state)
{
	(void)state;
	expect_one_error(TWO_PORTS "[port x]\ntype=vdev\nvdev=net_null0\n",
			 "t.conf:10: x: port is in no [link]");
}

static void
test_vd_cfg_link_errors(void **state)
{
	(void)state;
	expect_one_error(TWO_PORTS "[port x]\ntype=vdev\nvdev=net_null0\n[link m]\na=x\nb=nope\n",
			 "t.conf:15: b: no [port nope] in the file");
	expect_one_error(TWO_PORTS "[port x]\ntype=vdev\nvdev=net_null0\n"
				   "[port y]\ntype=vdev\nvdev=net_null1\n[link m]\na=x\nb=x\n"
				   "[link n]\na=y\nb=x\n",
			 "t.conf:21: b: port 'x' is already in [link m] (line 16)");
	expect_one_error(TWO_PORTS "[port x]\ntype=vdev\nvdev=net_null0\n[link m]\na=x\nb=vm1\n",
			 "t.conf:15: b: port 'vm1' is already in [link l0] (line 7)");
	expect_one_error(TWO_PORTS "[port x]\ntype=vdev\nvdev=net_null0\n[link m]\na=x\n",
			 "t.conf:13: b: missing");
}

static void
test_vd_cfg_duplicate_names_and_devices(void **state)
{
	(void)state;
	expect_one_error(TWO_PORTS "[port tap]\n", "t.conf:10: port: 'tap' is defined twice");
	expect_one_error(TWO_PORTS "[port x]\ntype=vdev\nvdev=net_tap0,iface=other\n"
				   "[port y]\ntype=vdev\nvdev=net_null0\n[link m]\na=x\nb=y\n",
			 "t.conf:12: vdev: device name 'net_tap0' is also used by port 'tap'");
	expect_one_error(TWO_PORTS "[port x]\ntype=vhost-user\npath=/tmp/vd-test.sock\n"
				   "[port y]\ntype=vdev\nvdev=net_null0\n[link m]\na=x\nb=y\n",
			 "t.conf:12: path: '/tmp/vd-test.sock' is also used by port 'vm1'");
	expect_one_error(TWO_PORTS "[eal]\n[eal]\n", "t.conf:11: eal: duplicate section");
}

static void
test_vd_cfg_lcore_errors(void **state)
{
	(void)state;
	expect_one_error(TWO_PORTS "[eal]\nlcores=0-1\n[lcore 3]\nports=vm1:0\n",
			 "t.conf:13: ports: lcore 3 is not in lcores=0-1");
	expect_one_error(TWO_PORTS "[eal]\nlcores=0-1\n[lcore 0]\nports=vm1\n",
			 "t.conf:13: ports: lcore 0 is the main lcore");
	expect_one_error(TWO_PORTS "[lcore 1]\nports=vm1:1\n",
			 "t.conf:11: ports: port 'vm1' has 1 queue(s), no queue 1");
	expect_one_error(TWO_PORTS "[lcore 1]\nports=vm1:0\n[lcore 2]\nports=vm1\n",
			 "t.conf:13: ports: vm1:0 is already pinned to lcore 1 (line 11)");
	expect_one_error(TWO_PORTS "[lcore 1]\nports=ghost\n",
			 "t.conf:11: ports: no [port ghost] in the file");
	expect_one_error(TWO_PORTS "[eal]\nlcores=3\n",
			 "t.conf:11: lcores: needs at least 2 lcores");
	expect_one_error(TWO_PORTS "[eal]\nlcores=4-2\n",
			 "t.conf:11: lcores: range 4-2 is reversed");
	expect_one_error(TWO_PORTS "[eal]\nlcores=0-1\nmain-lcore=7\n",
			 "t.conf:12: main-lcore: 7 is not in lcores=0-1");
	expect_one_error(TWO_PORTS "[lcore x]\n",
			 "t.conf:10: lcore: lcore id: 'x' is not a number");
}

static void
test_vd_cfg_syntax_errors(void **state)
{
	(void)state;
	expect_one_error(TWO_PORTS "[stats\n", "t.conf:10: [stats: section header without ']'");
	expect_one_error(TWO_PORTS "[stats]\ninterval=\n", "t.conf:11: interval: empty value");
	expect_one_error(TWO_PORTS "[eal]\nargs=\"--foo\n", "t.conf:11: args: unterminated quote");
	expect_one_error(TWO_PORTS "[stats]\n= 3\n", "t.conf:11: =: missing key before '='");
	expect_one_error("[port bad/name]\n" TWO_PORTS, "t.conf:1: port: name 'bad/name'");
}

static void
test_vd_cfg_no_ports(void **state)
{
	(void)state;
	expect_one_error("[stats]\ninterval=1\n", "t.conf: [port]: no port defined");
}

static void
test_vd_cfg_reports_every_error(void **state)
{
	int ret;

	(void)state;
	ret = parse(TWO_PORTS "[stats]\ninterval=x\n[eal]\nmemory=1\nfoo=2\n");
	assert_int_equal(ret, -EINVAL);
	assert_int_equal(count_lines(err), 3);
	assert_non_null(strstr(err, "t.conf:11: interval:"));
	assert_non_null(strstr(err, "t.conf:13: memory:"));
	assert_non_null(strstr(err, "t.conf:14: foo:"));
}

static void
test_vd_cfg_nul_and_long_lines(void **state)
{
	char text[2200];
	size_t n;
	int ret;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text), "%s", TWO_PORTS "# x\n");
	text[n - 3] = '\0'; /* "#\0x" on line 10 */
	ret = vd_cfg_parse_buf(&cfg, "t.conf", text, n, err, sizeof(err));
	assert_int_equal(ret, -EINVAL);
	assert_string_equal(err, "t.conf:10: line: contains a NUL byte\n");
	n = (size_t)snprintf(text, sizeof(text), "%s# ", TWO_PORTS);
	memset(text + n, 'x', 1100);
	n += 1100;
	ret = vd_cfg_parse_buf(&cfg, "t.conf", text, n, err, sizeof(err));
	assert_int_equal(ret, -EINVAL);
	assert_string_equal(err, "t.conf:10: line: longer than 1024 characters\n");
}

static void
test_vd_cfg_small_error_buffer(void **state)
{
	char small[16];
	int ret;

	(void)state;
	memset(small, 'Z', sizeof(small));
	ret = vd_cfg_parse_buf(&cfg, "t.conf", "[x]\n[y]\n", 8, small, sizeof(small));
	assert_int_equal(ret, -EINVAL);
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

static void
test_vd_cfg_file_errors(void **state)
{
	char path[] = "/tmp/test_vd_cfg_XXXXXX";
	int fd, ret;

	(void)state;
	ret = vd_cfg_parse_file(&cfg, "/nonexistent/vhostd.conf", err, sizeof(err));
	assert_int_equal(ret, -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/vhostd.conf: cannot open"));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, TWO_PORTS "[stats]\ninterval=x\n", strlen(TWO_PORTS) + 20),
			 (ssize_t)strlen(TWO_PORTS) + 20);
	close(fd);
	ret = vd_cfg_parse_file(&cfg, path, err, sizeof(err));
	unlink(path);
	assert_int_equal(ret, -EINVAL);
	assert_non_null(strstr(err, ":11: interval: 'x' is not a number"));
	assert_int_equal(strncmp(err, path, strlen(path)), 0);
}

static void
test_vd_cfg_shipped_configs_parse(void **state)
{
	static const char *const files[] = {"vhostd.conf", "guest-to-guest.conf",
					    "client-mode.conf", "sriov-vf.conf"};
	const char *dir = getenv("VD_CONFIG_DIR");
	char path[512];
	unsigned int i;
	int ret;

	(void)state;
	if (dir == NULL)
		dir = VD_CONFIG_DIR;
	for (i = 0; i < RTE_DIM(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		ret = vd_cfg_parse_file(&cfg, path, err, sizeof(err));
		if (ret != 0)
			print_error("%s", err);
		assert_int_equal(ret, 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vd_cfg_minimal_valid),
	    cmocka_unit_test(test_vd_cfg_self_link_loopback),
	    cmocka_unit_test(test_vd_cfg_full_valid),
	    cmocka_unit_test(test_vd_cfg_unknown_key),
	    cmocka_unit_test(test_vd_cfg_unknown_section),
	    cmocka_unit_test(test_vd_cfg_key_outside_section),
	    cmocka_unit_test(test_vd_cfg_missing_equals),
	    cmocka_unit_test(test_vd_cfg_duplicate_key),
	    cmocka_unit_test(test_vd_cfg_bad_numbers),
	    cmocka_unit_test(test_vd_cfg_bad_port_values),
	    cmocka_unit_test(test_vd_cfg_bad_pci_and_vdev),
	    cmocka_unit_test(test_vd_cfg_key_not_for_type),
	    cmocka_unit_test(test_vd_cfg_missing_required),
	    cmocka_unit_test(test_vd_cfg_port_not_linked),
	    cmocka_unit_test(test_vd_cfg_link_errors),
	    cmocka_unit_test(test_vd_cfg_duplicate_names_and_devices),
	    cmocka_unit_test(test_vd_cfg_lcore_errors),
	    cmocka_unit_test(test_vd_cfg_syntax_errors),
	    cmocka_unit_test(test_vd_cfg_no_ports),
	    cmocka_unit_test(test_vd_cfg_reports_every_error),
	    cmocka_unit_test(test_vd_cfg_nul_and_long_lines),
	    cmocka_unit_test(test_vd_cfg_small_error_buffer),
	    cmocka_unit_test(test_vd_cfg_file_errors),
	    cmocka_unit_test(test_vd_cfg_shipped_configs_parse),
	};

	return cmocka_run_group_tests_name("vd_cfg", tests, NULL, NULL);
}
