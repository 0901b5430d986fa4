/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target of src/vd_cfg.c: arbitrary bytes as a config file. Beyond
 * the sanitizers it checks the parser's contract: the result is 0 or -EINVAL,
 * an error always comes with a message, and an accepted config satisfies
 * everything the daemon relies on without re-checking (every port has a type
 * and its required key, is in exactly one link, pins name existing queues).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vd_cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
vd_fuzz_check(int cond)
{
	if (!cond)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vd_cfg cfg;
	static char err[8192];
	unsigned int i;
	int ret;

	ret = vd_cfg_parse_buf(&cfg, "fuzz.conf", (const char *)data, size, err, sizeof(err));
	vd_fuzz_check(ret == 0 || ret == -EINVAL);
	vd_fuzz_check(memchr(err, '\0', sizeof(err)) != NULL);
	if (ret != 0) {
		vd_fuzz_check(strncmp(err, "fuzz.conf", 9) == 0);
		return 0;
	}
	vd_fuzz_check(err[0] == '\0');
	vd_fuzz_check(cfg.nb_ports >= 1 && cfg.nb_ports <= VD_CFG_PORTS_MAX);
	for (i = 0; i < cfg.nb_ports; i++) {
		const struct vd_cfg_port *p = &cfg.ports[i];
		const struct vd_cfg_link *l;

		vd_fuzz_check(p->type == VD_PORT_VHOST || p->type == VD_PORT_PCI ||
			      p->type == VD_PORT_VDEV);
		vd_fuzz_check(p->queues >= 1 && p->queues <= VD_CFG_QUEUES_MAX);
		vd_fuzz_check(p->link >= 0 && p->link < cfg.nb_links);
		l = &cfg.links[p->link];
		vd_fuzz_check(l->a == i || l->b == i);
		vd_fuzz_check(l->a != l->b);
		if (p->type == VD_PORT_VHOST)
			vd_fuzz_check(p->path[0] == '/' && strchr(p->path, ',') == NULL);
		if (p->type == VD_PORT_PCI)
			vd_fuzz_check(strlen(p->pci) == 12);
		if (p->type == VD_PORT_VDEV)
			vd_fuzz_check(strncmp(p->vdev, "net_", 4) == 0);
	}
	for (i = 0; i < cfg.nb_pins; i++) {
		vd_fuzz_check(cfg.pins[i].port < cfg.nb_ports);
		vd_fuzz_check(cfg.pins[i].queue < cfg.ports[cfg.pins[i].port].queues);
		vd_fuzz_check((int)cfg.pins[i].lcore != vd_cfg_main_lcore(&cfg));
	}
	return 0;
}
