/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vd_cfg: the vhostd configuration file. An INI-style text file is parsed
 * into a struct vd_cfg and validated as a whole (every port linked, every
 * pinned queue exists, lcores known) before the daemon touches EAL or any
 * device, so that a bad config fails fast with "file:line: key: reason".
 *
 * This module is a separate static library without EAL: it is unit-tested
 * and fuzzed on its own, and `vhostd --check` uses it without initialising
 * DPDK. The format is documented in config/vhostd.conf.
 */
#ifndef VD_CFG_H
#define VD_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_config.h>

#define VD_CFG_NAME_MAX 32  /* port and link names, with the NUL */
#define VD_CFG_PORTS_MAX 32 /* RTE_MAX_ETHPORTS of Debian's DPDK 22.11 */
#define VD_CFG_LINKS_MAX (VD_CFG_PORTS_MAX / 2)
#define VD_CFG_PINS_MAX 512       /* [lcore] entries, all sections together */
#define VD_CFG_QUEUES_MAX 16      /* = VHU_QUEUE_PAIRS_MAX; also the cap for other ports */
#define VD_CFG_PATH_MAX 108       /* sizeof(sun_path) */
#define VD_CFG_ARGS_MAX 512       /* devargs, vdev strings, extra EAL args */
#define VD_CFG_VDEV_NAME_MAX 64   /* RTE_DEV_NAME_MAX_LEN: the name part of vdev= */
#define VD_CFG_LINE_MAX 1024      /* longer lines are an error, never silently cut */
#define VD_CFG_FILE_MAX (1 << 20) /* a config is small; refuse anything larger */

enum vd_port_type {
	VD_PORT_NONE = 0,
	VD_PORT_VHOST, /* type=vhost-user: a net_vhostd vdev */
	VD_PORT_PCI,   /* type=pci: an ethdev by PCI address (SR-IOV VF on vfio-pci) */
	VD_PORT_VDEV,  /* type=vdev: any vdev string (net_tap, net_af_packet, net_ring...) */
};

/* A tri-state for PMD options left at the driver's default unless given. */
#define VD_CFG_DEFAULT (-1)

struct vd_cfg_port {
	char name[VD_CFG_NAME_MAX];
	unsigned int line; /* of the [port NAME] header */
	enum vd_port_type type;
	uint16_t queues; /* rx queues = tx queues */
	uint16_t rxd;    /* descriptors per rx queue */
	uint16_t txd;    /* descriptors per tx queue */
	int numa;        /* NUMA node of the device or guest memory; -1 = detect/auto */
	uint16_t mtu;    /* 0 = leave the port's default */
	bool has_mac;
	uint8_t mac[6];
	int link; /* index in vd_cfg.links, filled by validation */
	/* type=vhost-user */
	char path[VD_CFG_PATH_MAX];
	bool client;
	uint32_t reconnect_ms; /* 0 = PMD default */
	int64_t owner;         /* uid, -1 = unchanged */
	int64_t group;         /* gid, -1 = unchanged */
	uint32_t perm;         /* socket file mode, 0 = PMD default (0600) */
	int packed;            /* VD_CFG_DEFAULT, 0 or 1 */
	int mrg_rxbuf;
	int tso;
	/* type=pci */
	char pci[32];
	char devargs[VD_CFG_ARGS_MAX];
	/* type=vdev */
	char vdev[VD_CFG_ARGS_MAX];
};

/* [link NAME]: a=PORT b=PORT, packets go both ways. */
struct vd_cfg_link {
	char name[VD_CFG_NAME_MAX];
	unsigned int line;
	uint16_t a;
	uint16_t b;
};

/* One entry of [lcore N] ports=NAME:Q: rx queue Q of port NAME is polled by lcore N. */
struct vd_cfg_pin {
	unsigned int lcore;
	unsigned int line;
	uint16_t port;
	uint16_t queue;
};

struct vd_cfg {
	char file[256]; /* name used in messages */
	/* [eal] */
	bool has_lcores;
	bool lcore_set[RTE_MAX_LCORE];  /* lcores= as a set; has_lcores says it was given */
	char lcores[128];               /* the list as written, passed to EAL -l */
	int main_lcore;                 /* -1 = the lowest lcore of the set */
	uint32_t memory_mb;             /* -m; 0 = not given */
	char file_prefix[64];           /* --file-prefix; "" = not given */
	bool in_memory;                 /* --in-memory */
	bool huge;                      /* false = --no-huge */
	char eal_args[VD_CFG_ARGS_MAX]; /* args=, split on blanks, appended */
	char log_level[64];             /* log-level=, passed as --log-level */
	/* [datapath] */
	uint32_t mbufs;      /* per NUMA pool; 0 = sized from the queues */
	uint16_t mbuf_size;  /* data room; 0 = RTE_MBUF_DEFAULT_BUF_SIZE */
	uint16_t tx_retries; /* extra tx_burst attempts on a full ring before dropping */
	/* [stats] */
	uint32_t stats_interval; /* seconds between periodic prints; 0 = off */

	uint16_t nb_ports;
	uint16_t nb_links;
	uint16_t nb_pins;
	struct vd_cfg_port ports[VD_CFG_PORTS_MAX];
	struct vd_cfg_link links[VD_CFG_LINKS_MAX];
	struct vd_cfg_pin pins[VD_CFG_PINS_MAX];
};

/** Fill @p cfg with the defaults (no ports, no links, stats off, huge pages on). */
void vd_cfg_init(struct vd_cfg *cfg);

/**
 * Parse and validate config text. @p fname is only used in messages. Every
 * problem found is appended to @p err as one "fname:line: key: reason" line
 * (truncated to @p errlen, always NUL-terminated when errlen > 0).
 * @return 0, or -EINVAL (the text has errors; @p cfg is then unusable).
 */
int vd_cfg_parse_buf(struct vd_cfg *cfg, const char *fname, const char *text, size_t len, char *err,
		     size_t errlen);

/**
 * Read and parse the file @p path, as vd_cfg_parse_buf().
 * @return 0, -EINVAL (errors in the text), -EFBIG (larger than VD_CFG_FILE_MAX),
 * or the -errno of open/read; @p err says which.
 */
int vd_cfg_parse_file(struct vd_cfg *cfg, const char *path, char *err, size_t errlen);

/** Index of the port named @p name, or -ENOENT. */
int vd_cfg_port_find(const struct vd_cfg *cfg, const char *name);

/** The port linked to port @p port_idx (each port is in exactly one link). */
uint16_t vd_cfg_peer(const struct vd_cfg *cfg, uint16_t port_idx);

/** "vhost-user", "pci", "vdev". */
const char *vd_cfg_port_type_name(enum vd_port_type type);

/** Lowest lcore of the lcores= set, or main-lcore= if given; -1 when lcores= is absent. */
int vd_cfg_main_lcore(const struct vd_cfg *cfg);

#endif /* VD_CFG_H */
