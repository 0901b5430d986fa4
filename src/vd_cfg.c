/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vd_cfg: parser and validator of the vhostd config file (format in
 * config/vhostd.conf). One pass reads sections and keys through a key table
 * that knows, for each key, its section and the port types it applies to;
 * a second pass checks what needs the whole file (links name existing ports,
 * each port in exactly one link, pinned queues exist and are pinned once).
 *
 * Every error is reported as "file:line: key: reason" and parsing goes on,
 * so that one run lists all the mistakes. No EAL: this runs before vhostd
 * touches DPDK, and the config file is operator input, not trusted to be sane
 * (lengths, ranges and characters are checked; nothing is silently cut).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>

#include "vd_cfg.h"

enum vd_sect {
	VD_SECT_NONE = 0,
	VD_SECT_EAL,
	VD_SECT_DATAPATH,
	VD_SECT_STATS,
	VD_SECT_PORT,
	VD_SECT_LINK,
	VD_SECT_LCORE,
};

/* Bits of vd_key.types: which port types a [port] key applies to. */
#define VD_T(t) (1u << (t))
#define VD_T_ALL (VD_T(VD_PORT_VHOST) | VD_T(VD_PORT_PCI) | VD_T(VD_PORT_VDEV))

/* Default descriptor count: a common NIC default, enough for a 10G burst at 64 B. */
#define VD_CFG_DESC_DEFAULT 1024
/* Largest MTU of a net_vhostd port (rte_pmd_vhostd.h: mtu=<68..65517>). */
#define VD_CFG_VHOST_MTU_MAX 65517
/* Tx retries before dropping: short enough never to stall other queues for long. */
#define VD_CFG_TX_RETRIES_DEFAULT 8

struct vd_parser;
typedef int (*vd_key_set_t)(struct vd_parser *p, const char *val, char *why, size_t wlen);

struct vd_key {
	const char *name;
	enum vd_sect sect;
	unsigned int types; /* VD_SECT_PORT only */
	vd_key_set_t set;
};

/* Scratch state of one parse; the names of link ends and pins are resolved at the end. */
struct vd_parser {
	struct vd_cfg *cfg;
	const char *fname;
	char *err;
	size_t errlen;
	size_t errused;
	unsigned int nb_errors;
	unsigned int line;
	enum vd_sect sect;
	int cur;                        /* port or link index, or lcore id */
	unsigned int *key_lines;        /* lines of the keys seen in the current section */
	unsigned int sect_lines[3][64]; /* [eal] [datapath] [stats] keys */
	unsigned int sect_header[3];    /* line of each unique section */
	unsigned int port_lines[VD_CFG_PORTS_MAX][64]; /* per port */
	unsigned int link_lines[VD_CFG_LINKS_MAX][64]; /* per link */
	unsigned int lcore_header[RTE_MAX_LCORE];
	unsigned int lcore_lines[64];
	char link_a[VD_CFG_LINKS_MAX][VD_CFG_NAME_MAX];
	char link_b[VD_CFG_LINKS_MAX][VD_CFG_NAME_MAX];
	char pin_port[VD_CFG_PINS_MAX][VD_CFG_NAME_MAX];
	int pin_queue[VD_CFG_PINS_MAX];              /* -1 = every queue of the port */
	struct vd_cfg_pin raw_pins[VD_CFG_PINS_MAX]; /* pins as written, before expansion */
	bool port_bad[VD_CFG_PORTS_MAX]; /* had an error: no follow-up "not linked" noise */
};

static void __rte_format_printf(4, 5)
    vd_cfg_error(struct vd_parser *p, unsigned int line, const char *key, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	int n;

	p->nb_errors++;
	if (p->sect == VD_SECT_PORT)
		p->port_bad[p->cur] = true;
	if (p->errlen == 0 || p->errused >= p->errlen - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (line > 0)
		n = snprintf(p->err + p->errused, p->errlen - p->errused, "%s:%u: %s: %s\n",
			     p->fname, line, key, why);
	else
		n = snprintf(p->err + p->errused, p->errlen - p->errused, "%s: %s: %s\n", p->fname,
			     key, why);
	if (n > 0)
		p->errused += RTE_MIN((size_t)n, p->errlen - p->errused - 1);
}

/* ---- value parsers: 0 or -1 with the reason in why ---- */

static int
vd_parse_u64(const char *val, uint64_t min, uint64_t max, int base, uint64_t *out, char *why,
	     size_t wlen)
{
	unsigned long long v;
	char *end;

	/* strtoull accepts "-1" and leading blanks; a config value must not. */
	if (!isdigit((unsigned char)val[0])) {
		snprintf(why, wlen, "'%s' is not a number", val);
		return -1;
	}
	errno = 0;
	v = strtoull(val, &end, base);
	if (*end != '\0') {
		snprintf(why, wlen, "'%s' is not a number", val);
		return -1;
	}
	if (errno == ERANGE || v < min || v > max) {
		if (base == 8)
			snprintf(why, wlen, "'%s' out of range %" PRIo64 "..%" PRIo64, val, min,
				 max);
		else
			snprintf(why, wlen, "'%s' out of range %" PRIu64 "..%" PRIu64, val, min,
				 max);
		return -1;
	}
	*out = v;
	return 0;
}

static int
vd_parse_bool(const char *val, bool *out, char *why, size_t wlen)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	unsigned int i;

	for (i = 0; i < RTE_DIM(yes); i++) {
		if (strcasecmp(val, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(val, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	snprintf(why, wlen, "'%s' is not a boolean (yes/no, true/false, on/off, 1/0)", val);
	return -1;
}

static int
vd_parse_str(const char *val, char *dst, size_t dlen, char *why, size_t wlen)
{
	size_t n = strlen(val);

	if (n >= dlen) {
		snprintf(why, wlen, "too long (%zu characters, at most %zu)", n, dlen - 1);
		return -1;
	}
	memcpy(dst, val, n + 1);
	return 0;
}

/* Names of ports, links and file prefixes end up in devargs and paths: keep them plain. */
static bool
vd_name_ok(const char *s, size_t max)
{
	size_t i;

	if (s[0] == '\0' || strlen(s) >= max)
		return false;
	for (i = 0; s[i] != '\0'; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
			return false;
	return true;
}

static bool
vd_has_blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (isspace((unsigned char)*s))
			return true;
	return false;
}

/* ---- [eal] ---- */

static int
vd_set_lcores(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	struct vd_cfg *cfg = p->cfg;
	char buf[sizeof(cfg->lcores)];
	char *tok, *save = NULL;
	uint64_t lo, hi, i;
	char *dash;

	if (vd_parse_str(val, buf, sizeof(buf), why, wlen) < 0)
		return -1;
	memset(cfg->lcore_set, 0, sizeof(cfg->lcore_set));
	/* Only "N" and "N-M" items: vhostd must know the set before EAL runs. */
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		dash = strchr(tok, '-');
		if (dash != NULL)
			*dash = '\0';
		if (vd_parse_u64(tok, 0, RTE_MAX_LCORE - 1, 10, &lo, why, wlen) < 0)
			return -1;
		hi = lo;
		if (dash != NULL &&
		    vd_parse_u64(dash + 1, 0, RTE_MAX_LCORE - 1, 10, &hi, why, wlen) < 0)
			return -1;
		if (hi < lo) {
			snprintf(why, wlen, "range %" PRIu64 "-%" PRIu64 " is reversed", lo, hi);
			return -1;
		}
		for (i = lo; i <= hi; i++)
			cfg->lcore_set[i] = true;
	}
	if (val[0] == ',' || val[strlen(val) - 1] == ',' || strstr(val, ",,") != NULL) {
		snprintf(why, wlen, "empty item in '%s'", val);
		return -1;
	}
	cfg->has_lcores = true;
	return vd_parse_str(val, cfg->lcores, sizeof(cfg->lcores), why, wlen);
}

static int
vd_set_main_lcore(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	uint64_t v;

	if (vd_parse_u64(val, 0, RTE_MAX_LCORE - 1, 10, &v, why, wlen) < 0)
		return -1;
	p->cfg->main_lcore = (int)v;
	return 0;
}

static int
vd_set_memory(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	uint64_t v;

	if (vd_parse_u64(val, 16, 1u << 20, 10, &v, why, wlen) < 0)
		return -1;
	p->cfg->memory_mb = (uint32_t)v;
	return 0;
}

static int
vd_set_file_prefix(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	if (!vd_name_ok(val, sizeof(p->cfg->file_prefix))) {
		snprintf(why, wlen, "'%s': use 1 to %zu of [A-Za-z0-9_.-]", val,
			 sizeof(p->cfg->file_prefix) - 1);
		return -1;
	}
	return vd_parse_str(val, p->cfg->file_prefix, sizeof(p->cfg->file_prefix), why, wlen);
}

static int
vd_set_in_memory(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	return vd_parse_bool(val, &p->cfg->in_memory, why, wlen);
}

static int
vd_set_huge(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	return vd_parse_bool(val, &p->cfg->huge, why, wlen);
}

static int
vd_set_eal_args(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	return vd_parse_str(val, p->cfg->eal_args, sizeof(p->cfg->eal_args), why, wlen);
}

static int
vd_set_log_level(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	if (vd_has_blank(val)) {
		snprintf(why, wlen, "must not contain blanks");
		return -1;
	}
	return vd_parse_str(val, p->cfg->log_level, sizeof(p->cfg->log_level), why, wlen);
}

/* ---- [datapath] and [stats] ---- */

static int
vd_set_mbufs(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	uint64_t v;

	if (vd_parse_u64(val, 512, 1u << 24, 10, &v, why, wlen) < 0)
		return -1;
	p->cfg->mbufs = (uint32_t)v;
	return 0;
}

static int
vd_set_mbuf_size(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	uint64_t v;

	/* Must hold the headroom plus a minimal frame; an mbuf data room is 16 bits. */
	if (vd_parse_u64(val, 1024, UINT16_MAX, 10, &v, why, wlen) < 0)
		return -1;
	p->cfg->mbuf_size = (uint16_t)v;
	return 0;
}

static int
vd_set_tx_retries(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	uint64_t v;

	if (vd_parse_u64(val, 0, 1000, 10, &v, why, wlen) < 0)
		return -1;
	p->cfg->tx_retries = (uint16_t)v;
	return 0;
}

static int
vd_set_interval(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	uint64_t v;

	if (vd_parse_u64(val, 0, 86400, 10, &v, why, wlen) < 0)
		return -1;
	p->cfg->stats_interval = (uint32_t)v;
	return 0;
}

/* ---- [port NAME] ---- */

static struct vd_cfg_port *
vd_cur_port(struct vd_parser *p)
{
	return &p->cfg->ports[p->cur];
}

static int
vd_set_type(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	struct vd_cfg_port *port = vd_cur_port(p);

	if (strcmp(val, "vhost-user") == 0)
		port->type = VD_PORT_VHOST;
	else if (strcmp(val, "pci") == 0)
		port->type = VD_PORT_PCI;
	else if (strcmp(val, "vdev") == 0)
		port->type = VD_PORT_VDEV;
	else {
		snprintf(why, wlen, "'%s' is not vhost-user, pci or vdev", val);
		return -1;
	}
	return 0;
}

static int
vd_set_queues(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	uint64_t v;

	if (vd_parse_u64(val, 1, VD_CFG_QUEUES_MAX, 10, &v, why, wlen) < 0)
		return -1;
	vd_cur_port(p)->queues = (uint16_t)v;
	return 0;
}

static int
vd_parse_desc(const char *val, uint16_t *out, char *why, size_t wlen)
{
	uint64_t v;

	if (vd_parse_u64(val, 64, 32768, 10, &v, why, wlen) < 0)
		return -1;
	if ((v & (v - 1)) != 0) {
		snprintf(why, wlen, "'%s' is not a power of two", val);
		return -1;
	}
	*out = (uint16_t)v;
	return 0;
}

static int
vd_set_rxd(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	return vd_parse_desc(val, &vd_cur_port(p)->rxd, why, wlen);
}

static int
vd_set_txd(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	return vd_parse_desc(val, &vd_cur_port(p)->txd, why, wlen);
}

static int
vd_set_numa(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	uint64_t v;

	if (vd_parse_u64(val, 0, RTE_MAX_NUMA_NODES - 1, 10, &v, why, wlen) < 0)
		return -1;
	vd_cur_port(p)->numa = (int)v;
	return 0;
}

static int
vd_set_mtu(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	uint64_t v;

	/* 68: the IPv4 minimum (RFC 791); 65535: virtio-net's mtu field is 16 bits. */
	if (vd_parse_u64(val, 68, 65535, 10, &v, why, wlen) < 0)
		return -1;
	vd_cur_port(p)->mtu = (uint16_t)v;
	return 0;
}

static int
vd_set_mac(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	struct vd_cfg_port *port = vd_cur_port(p);
	unsigned int i, b[6];
	char end;

	if (strlen(val) != 17 || sscanf(val, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2],
					&b[3], &b[4], &b[5], &end) != 6) {
		snprintf(why, wlen, "'%s' is not a MAC address like 52:54:00:12:34:56", val);
		return -1;
	}
	for (i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)val[3 * i]) ||
		    !isxdigit((unsigned char)val[3 * i + 1])) {
			snprintf(why, wlen, "'%s' is not a MAC address like 52:54:00:12:34:56",
				 val);
			return -1;
		}
		port->mac[i] = (uint8_t)b[i];
	}
	if (port->mac[0] & 1) {
		snprintf(why, wlen, "'%s' is a multicast address", val);
		return -1;
	}
	if ((port->mac[0] | port->mac[1] | port->mac[2] | port->mac[3] | port->mac[4] |
	     port->mac[5]) == 0) {
		snprintf(why, wlen, "the all-zero address is not usable");
		return -1;
	}
	port->has_mac = true;
	return 0;
}

static int
vd_set_path(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	struct vd_cfg_port *port = vd_cur_port(p);

	if (val[0] != '/') {
		snprintf(why, wlen, "'%s' must be an absolute path", val);
		return -1;
	}
	/* The path goes into a devargs string, where ',' separates keys. */
	if (strchr(val, ',') != NULL || vd_has_blank(val)) {
		snprintf(why, wlen, "must not contain ',' or blanks");
		return -1;
	}
	if (strlen(val) >= sizeof(port->path)) {
		snprintf(why, wlen, "too long for a unix socket (%zu characters, at most %zu)",
			 strlen(val), sizeof(port->path) - 1);
		return -1;
	}
	return vd_parse_str(val, port->path, sizeof(port->path), why, wlen);
}

static int
vd_set_mode(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	struct vd_cfg_port *port = vd_cur_port(p);

	if (strcmp(val, "server") == 0)
		port->client = false;
	else if (strcmp(val, "client") == 0)
		port->client = true;
	else {
		snprintf(why, wlen, "'%s' is not server or client", val);
		return -1;
	}
	return 0;
}

static int
vd_set_reconnect(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	uint64_t v;

	if (vd_parse_u64(val, 1, 3600000, 10, &v, why, wlen) < 0)
		return -1;
	vd_cur_port(p)->reconnect_ms = (uint32_t)v;
	return 0;
}

static int
vd_set_owner(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	struct passwd pw, *res = NULL;
	char buf[1024];
	uint64_t v;

	if (isdigit((unsigned char)val[0])) {
		if (vd_parse_u64(val, 0, UINT32_MAX - 1, 10, &v, why, wlen) < 0)
			return -1;
		vd_cur_port(p)->owner = (int64_t)v;
		return 0;
	}
	if (getpwnam_r(val, &pw, buf, sizeof(buf), &res) != 0 || res == NULL) {
		snprintf(why, wlen, "unknown user '%s'", val);
		return -1;
	}
	vd_cur_port(p)->owner = pw.pw_uid;
	return 0;
}

static int
vd_set_group(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	struct group gr, *res = NULL;
	char buf[4096];
	uint64_t v;

	if (isdigit((unsigned char)val[0])) {
		if (vd_parse_u64(val, 0, UINT32_MAX - 1, 10, &v, why, wlen) < 0)
			return -1;
		vd_cur_port(p)->group = (int64_t)v;
		return 0;
	}
	if (getgrnam_r(val, &gr, buf, sizeof(buf), &res) != 0 || res == NULL) {
		snprintf(why, wlen, "unknown group '%s'", val);
		return -1;
	}
	vd_cur_port(p)->group = gr.gr_gid;
	return 0;
}

static int
vd_set_perm(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	uint64_t v;

	if (vd_parse_u64(val, 0, 0777, 8, &v, why, wlen) < 0)
		return -1;
	/* The frontend must be able to connect: the owner needs read and write. */
	if ((v & 0600) != 0600) {
		snprintf(why, wlen, "'%s' does not give the owner read and write", val);
		return -1;
	}
	vd_cur_port(p)->perm = (uint32_t)v;
	return 0;
}

static int
vd_set_tri(const char *val, int *out, char *why, size_t wlen)
{
	bool b;

	if (vd_parse_bool(val, &b, why, wlen) < 0)
		return -1;
	*out = b ? 1 : 0;
	return 0;
}

static int
vd_set_packed(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	return vd_set_tri(val, &vd_cur_port(p)->packed, why, wlen);
}

static int
vd_set_mrg_rxbuf(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	return vd_set_tri(val, &vd_cur_port(p)->mrg_rxbuf, why, wlen);
}

static int
vd_set_tso(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	return vd_set_tri(val, &vd_cur_port(p)->tso, why, wlen);
}

/* Does s match pat, where 'h' is a hex digit, 'f' a digit 0..7, anything else itself? */
static bool
vd_match(const char *s, const char *pat)
{
	for (; *pat != '\0'; s++, pat++) {
		if (*pat == 'h'   ? !isxdigit((unsigned char)*s)
		    : *pat == 'f' ? (*s < '0' || *s > '7')
				  : *s != *pat)
			return false;
	}
	return *s == '\0';
}

static int
vd_set_pci(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	struct vd_cfg_port *port = vd_cur_port(p);
	unsigned long dev;

	/* DDDD:BB:DD.F or BB:DD.F (domain 0), hex; the device is 0..31, the function 0..7. */
	if (vd_match(val, "hhhh:hh:hh.f"))
		memcpy(port->pci, val, 13);
	else if (vd_match(val, "hh:hh.f"))
		snprintf(port->pci, sizeof(port->pci), "0000:%s", val);
	else {
		snprintf(why, wlen, "'%s' is not a PCI address like 0000:af:00.1", val);
		return -1;
	}
	dev = strtoul(port->pci + 8, NULL, 16);
	if (dev > 31) {
		snprintf(why, wlen, "'%s': device number %lu is above 31", val, dev);
		port->pci[0] = '\0';
		return -1;
	}
	for (char *c = port->pci; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	return 0;
}

static int
vd_set_devargs(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	if (vd_has_blank(val)) {
		snprintf(why, wlen, "must not contain blanks");
		return -1;
	}
	return vd_parse_str(val, vd_cur_port(p)->devargs, sizeof(vd_cur_port(p)->devargs), why,
			    wlen);
}

static int
vd_set_vdev(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	size_t n = strcspn(val, ",");

	if (vd_has_blank(val)) {
		snprintf(why, wlen, "must not contain blanks");
		return -1;
	}
	/* EAL finds the driver by the prefix of the device name. */
	if (strncmp(val, "net_", 4) != 0 || n <= 4 || n >= VD_CFG_VDEV_NAME_MAX) {
		snprintf(why, wlen,
			 "'%s' must start with a net_ device name, e.g. net_tap0,iface=vd0", val);
		return -1;
	}
	return vd_parse_str(val, vd_cur_port(p)->vdev, sizeof(vd_cur_port(p)->vdev), why, wlen);
}

/* ---- [link NAME] and [lcore N] ---- */

static int
vd_set_link_end(char *dst, const char *val, char *why, size_t wlen)
{
	if (!vd_name_ok(val, VD_CFG_NAME_MAX)) {
		snprintf(why, wlen, "'%s' is not a port name", val);
		return -1;
	}
	return vd_parse_str(val, dst, VD_CFG_NAME_MAX, why, wlen);
}

static int
vd_set_link_a(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	return vd_set_link_end(p->link_a[p->cur], val, why, wlen);
}

static int
vd_set_link_b(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	return vd_set_link_end(p->link_b[p->cur], val, why, wlen);
}

static int
vd_set_pins(struct vd_parser *p, const char *val, char *why, size_t wlen)
{
	struct vd_cfg *cfg = p->cfg;
	char buf[VD_CFG_LINE_MAX];
	char *tok, *save = NULL, *colon;
	uint64_t q;

	if (vd_parse_str(val, buf, sizeof(buf), why, wlen) < 0)
		return -1;
	if (val[0] == ',' || val[strlen(val) - 1] == ',' || strstr(val, ",,") != NULL) {
		snprintf(why, wlen, "empty item in '%s'", val);
		return -1;
	}
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*tok))
			tok++;
		tok[strcspn(tok, " \t")] = '\0';
		colon = strchr(tok, ':');
		if (colon != NULL)
			*colon = '\0';
		if (!vd_name_ok(tok, VD_CFG_NAME_MAX)) {
			snprintf(why, wlen, "'%s' is not a port name (NAME or NAME:QUEUE)", tok);
			return -1;
		}
		if (colon != NULL &&
		    vd_parse_u64(colon + 1, 0, VD_CFG_QUEUES_MAX - 1, 10, &q, why, wlen) < 0)
			return -1;
		if (cfg->nb_pins >= VD_CFG_PINS_MAX) {
			snprintf(why, wlen, "more than %d pinned queues", VD_CFG_PINS_MAX);
			return -1;
		}
		memcpy(p->pin_port[cfg->nb_pins], tok, strlen(tok) + 1);
		p->pin_queue[cfg->nb_pins] = colon != NULL ? (int)q : -1;
		cfg->pins[cfg->nb_pins].lcore = (unsigned int)p->cur;
		cfg->pins[cfg->nb_pins].line = p->line;
		cfg->nb_pins++;
	}
	return 0;
}

/* clang-format off */
static const struct vd_key vd_keys[] = {
	{ "lcores",        VD_SECT_EAL,      0, vd_set_lcores },
	{ "main-lcore",    VD_SECT_EAL,      0, vd_set_main_lcore },
	{ "memory",        VD_SECT_EAL,      0, vd_set_memory },
	{ "file-prefix",   VD_SECT_EAL,      0, vd_set_file_prefix },
	{ "in-memory",     VD_SECT_EAL,      0, vd_set_in_memory },
	{ "huge",          VD_SECT_EAL,      0, vd_set_huge },
	{ "args",          VD_SECT_EAL,      0, vd_set_eal_args },
	{ "log-level",     VD_SECT_EAL,      0, vd_set_log_level },
	{ "mbufs",         VD_SECT_DATAPATH, 0, vd_set_mbufs },
	{ "mbuf-size",     VD_SECT_DATAPATH, 0, vd_set_mbuf_size },
	{ "tx-retries",    VD_SECT_DATAPATH, 0, vd_set_tx_retries },
	{ "interval",      VD_SECT_STATS,    0, vd_set_interval },
	{ "type",          VD_SECT_PORT,     VD_T_ALL, vd_set_type },
	{ "queues",        VD_SECT_PORT,     VD_T_ALL, vd_set_queues },
	{ "rxd",           VD_SECT_PORT,     VD_T(VD_PORT_PCI) | VD_T(VD_PORT_VDEV), vd_set_rxd },
	{ "txd",           VD_SECT_PORT,     VD_T(VD_PORT_PCI) | VD_T(VD_PORT_VDEV), vd_set_txd },
	{ "numa",          VD_SECT_PORT,     VD_T_ALL, vd_set_numa },
	{ "mtu",           VD_SECT_PORT,     VD_T_ALL, vd_set_mtu },
	{ "mac",           VD_SECT_PORT,     VD_T_ALL, vd_set_mac },
	{ "path",          VD_SECT_PORT,     VD_T(VD_PORT_VHOST), vd_set_path },
	{ "mode",          VD_SECT_PORT,     VD_T(VD_PORT_VHOST), vd_set_mode },
	{ "reconnect-ms",  VD_SECT_PORT,     VD_T(VD_PORT_VHOST), vd_set_reconnect },
	{ "owner",         VD_SECT_PORT,     VD_T(VD_PORT_VHOST), vd_set_owner },
	{ "group",         VD_SECT_PORT,     VD_T(VD_PORT_VHOST), vd_set_group },
	{ "perm",          VD_SECT_PORT,     VD_T(VD_PORT_VHOST), vd_set_perm },
	{ "packed",        VD_SECT_PORT,     VD_T(VD_PORT_VHOST), vd_set_packed },
	{ "mrg-rxbuf",     VD_SECT_PORT,     VD_T(VD_PORT_VHOST), vd_set_mrg_rxbuf },
	{ "tso",           VD_SECT_PORT,     VD_T(VD_PORT_VHOST), vd_set_tso },
	{ "pci",           VD_SECT_PORT,     VD_T(VD_PORT_PCI), vd_set_pci },
	{ "devargs",       VD_SECT_PORT,     VD_T(VD_PORT_PCI), vd_set_devargs },
	{ "vdev",          VD_SECT_PORT,     VD_T(VD_PORT_VDEV), vd_set_vdev },
	{ "a",             VD_SECT_LINK,     0, vd_set_link_a },
	{ "b",             VD_SECT_LINK,     0, vd_set_link_b },
	{ "ports",         VD_SECT_LCORE,    0, vd_set_pins },
};
/* clang-format on */

_Static_assert(RTE_DIM(vd_keys) <= 64, "key line arrays hold 64 keys");

static int
vd_key_index(const char *name)
{
	unsigned int i;

	for (i = 0; i < RTE_DIM(vd_keys); i++)
		if (strcmp(vd_keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

static const char *
vd_sect_name(enum vd_sect s)
{
	switch (s) {
	case VD_SECT_EAL:
		return "[eal]";
	case VD_SECT_DATAPATH:
		return "[datapath]";
	case VD_SECT_STATS:
		return "[stats]";
	case VD_SECT_PORT:
		return "[port]";
	case VD_SECT_LINK:
		return "[link]";
	case VD_SECT_LCORE:
		return "[lcore]";
	default:
		return "outside any section";
	}
}

const char *
vd_cfg_port_type_name(enum vd_port_type type)
{
	switch (type) {
	case VD_PORT_VHOST:
		return "vhost-user";
	case VD_PORT_PCI:
		return "pci";
	case VD_PORT_VDEV:
		return "vdev";
	default:
		return "none";
	}
}

/* Checks of one [port] section once all its keys are known (type may come last). */
static void
vd_port_finish(struct vd_parser *p, int idx)
{
	struct vd_cfg_port *port = &p->cfg->ports[idx];
	const unsigned int *lines = p->port_lines[idx];
	unsigned int i;

	if (port->type == VD_PORT_NONE) {
		if (lines[vd_key_index("type")] == 0)
			vd_cfg_error(p, port->line, "type", "missing (vhost-user, pci or vdev)");
		return;
	}
	for (i = 0; i < RTE_DIM(vd_keys); i++)
		if (lines[i] != 0 && vd_keys[i].sect == VD_SECT_PORT &&
		    !(vd_keys[i].types & VD_T(port->type)))
			vd_cfg_error(p, lines[i], vd_keys[i].name, "not valid for type=%s",
				     vd_cfg_port_type_name(port->type));
	if (port->type == VD_PORT_VHOST && port->path[0] == '\0' &&
	    lines[vd_key_index("path")] == 0)
		vd_cfg_error(p, port->line, "path", "missing for type=vhost-user");
	if (port->type == VD_PORT_PCI && port->pci[0] == '\0' && lines[vd_key_index("pci")] == 0)
		vd_cfg_error(p, port->line, "pci", "missing for type=pci");
	if (port->type == VD_PORT_VDEV && port->vdev[0] == '\0' && lines[vd_key_index("vdev")] == 0)
		vd_cfg_error(p, port->line, "vdev", "missing for type=vdev");
	/* virtio-net's mtu is 16 bits, minus the Ethernet header and CRC the frame needs. */
	if (port->type == VD_PORT_VHOST && port->mtu > VD_CFG_VHOST_MTU_MAX)
		vd_cfg_error(p, lines[vd_key_index("mtu")], "mtu",
			     "'%u' out of range 68..%u for type=vhost-user", port->mtu,
			     VD_CFG_VHOST_MTU_MAX);
	/* In client mode the socket file is the frontend's: vhostd cannot set its permissions. */
	for (i = 0; port->type == VD_PORT_VHOST && port->client && i < RTE_DIM(vd_keys); i++)
		if (lines[i] != 0 &&
		    (strcmp(vd_keys[i].name, "owner") == 0 ||
		     strcmp(vd_keys[i].name, "group") == 0 || strcmp(vd_keys[i].name, "perm") == 0))
			vd_cfg_error(p, lines[i], vd_keys[i].name,
				     "only meaningful with mode=server");
	if (port->type == VD_PORT_VHOST && !port->client &&
	    lines[vd_key_index("reconnect-ms")] != 0)
		vd_cfg_error(p, lines[vd_key_index("reconnect-ms")], "reconnect-ms",
			     "only meaningful with mode=client");
}

static void
vd_section_end(struct vd_parser *p)
{
	if (p->sect == VD_SECT_PORT)
		vd_port_finish(p, p->cur);
	p->sect = VD_SECT_NONE;
	p->key_lines = NULL;
}

static void
vd_section_begin(struct vd_parser *p, char *hdr)
{
	struct vd_cfg *cfg = p->cfg;
	char *kind = hdr, *name;
	unsigned int i;
	uint64_t lc;
	char why[160];

	vd_section_end(p);
	name = kind + strcspn(kind, " \t");
	if (*name != '\0') {
		*name++ = '\0';
		while (isspace((unsigned char)*name))
			name++;
	}
	if (strcmp(kind, "eal") == 0 || strcmp(kind, "datapath") == 0 ||
	    strcmp(kind, "stats") == 0) {
		i = kind[0] == 'e' ? 0 : kind[0] == 'd' ? 1 : 2;
		if (*name != '\0') {
			vd_cfg_error(p, p->line, kind, "this section takes no name");
			return;
		}
		if (p->sect_header[i] != 0) {
			vd_cfg_error(p, p->line, kind, "duplicate section (first at line %u)",
				     p->sect_header[i]);
			return;
		}
		p->sect_header[i] = p->line;
		p->sect = (enum vd_sect)(VD_SECT_EAL + i);
		p->key_lines = p->sect_lines[i];
		return;
	}
	if (strcmp(kind, "port") == 0 || strcmp(kind, "link") == 0) {
		bool is_port = kind[0] == 'p';

		if (!vd_name_ok(name, VD_CFG_NAME_MAX)) {
			vd_cfg_error(p, p->line, kind, "name '%s': use 1 to %d of [A-Za-z0-9_.-]",
				     name, VD_CFG_NAME_MAX - 1);
			return;
		}
		for (i = 0; i < (is_port ? cfg->nb_ports : cfg->nb_links); i++) {
			const char *other = is_port ? cfg->ports[i].name : cfg->links[i].name;
			unsigned int l = is_port ? cfg->ports[i].line : cfg->links[i].line;

			if (strcmp(other, name) == 0) {
				vd_cfg_error(p, p->line, kind,
					     "'%s' is defined twice (first at line %u)", name, l);
				return;
			}
		}
		if (is_port) {
			struct vd_cfg_port *port;

			if (cfg->nb_ports >= VD_CFG_PORTS_MAX) {
				vd_cfg_error(p, p->line, kind, "more than %d ports",
					     VD_CFG_PORTS_MAX);
				return;
			}
			port = &cfg->ports[cfg->nb_ports];
			memset(port, 0, sizeof(*port));
			memcpy(port->name, name, strlen(name) + 1);
			port->line = p->line;
			port->queues = 1;
			port->rxd = VD_CFG_DESC_DEFAULT;
			port->txd = VD_CFG_DESC_DEFAULT;
			port->numa = -1;
			port->link = -1;
			port->owner = -1;
			port->group = -1;
			port->packed = VD_CFG_DEFAULT;
			port->mrg_rxbuf = VD_CFG_DEFAULT;
			port->tso = VD_CFG_DEFAULT;
			p->cur = cfg->nb_ports++;
			p->sect = VD_SECT_PORT;
			p->key_lines = p->port_lines[p->cur];
		} else {
			if (cfg->nb_links >= VD_CFG_LINKS_MAX) {
				vd_cfg_error(p, p->line, kind, "more than %d links",
					     VD_CFG_LINKS_MAX);
				return;
			}
			memcpy(cfg->links[cfg->nb_links].name, name, strlen(name) + 1);
			cfg->links[cfg->nb_links].line = p->line;
			p->cur = cfg->nb_links++;
			p->sect = VD_SECT_LINK;
			p->key_lines = p->link_lines[p->cur];
		}
		return;
	}
	if (strcmp(kind, "lcore") == 0) {
		if (vd_parse_u64(name, 0, RTE_MAX_LCORE - 1, 10, &lc, why, sizeof(why)) < 0) {
			vd_cfg_error(p, p->line, kind, "lcore id: %s", why);
			return;
		}
		if (p->lcore_header[lc] != 0) {
			vd_cfg_error(p, p->line, kind, "duplicate section (first at line %u)",
				     p->lcore_header[lc]);
			return;
		}
		p->lcore_header[lc] = p->line;
		memset(p->lcore_lines, 0, sizeof(p->lcore_lines));
		p->cur = (int)lc;
		p->sect = VD_SECT_LCORE;
		p->key_lines = p->lcore_lines;
		return;
	}
	vd_cfg_error(p, p->line, kind,
		     "unknown section (expected eal, datapath, stats, port, link or lcore)");
}

/*
 * One line, already NUL-terminated and without its newline. A bad section
 * header leaves p->sect at NONE, so that its keys are reported once each as
 * outside a section rather than applied to the previous one.
 */
static void
vd_parse_line(struct vd_parser *p, char *s)
{
	char *key, *val, *eq, *end, *hash;
	char why[256];
	int k;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	if (*s == '\0' || *s == '#' || *s == ';')
		return;
	if (*s == '[') {
		if (end[-1] != ']') {
			vd_cfg_error(p, p->line, s, "section header without ']'");
			vd_section_end(p);
			return;
		}
		end[-1] = '\0';
		s++;
		while (isspace((unsigned char)*s))
			s++;
		end = s + strlen(s);
		while (end > s && isspace((unsigned char)end[-1]))
			*--end = '\0';
		vd_section_begin(p, s);
		return;
	}
	eq = strchr(s, '=');
	if (eq == NULL) {
		vd_cfg_error(p, p->line, s, "expected 'key = value'");
		return;
	}
	key = s;
	*eq = '\0';
	val = eq + 1;
	end = eq;
	while (end > key && isspace((unsigned char)end[-1]))
		*--end = '\0';
	while (isspace((unsigned char)*val))
		val++;
	/* Trailing comment: " #" outside quotes; a '#' glued to a value is kept. */
	if (*val == '"') {
		end = strchr(val + 1, '"');
		if (end == NULL) {
			vd_cfg_error(p, p->line, key, "unterminated quote");
			return;
		}
		hash = end + 1;
		while (isspace((unsigned char)*hash))
			hash++;
		if (*hash != '\0' && *hash != '#' && *hash != ';') {
			vd_cfg_error(p, p->line, key, "text after the closing quote");
			return;
		}
		*end = '\0';
		val++;
	} else {
		for (hash = val; *hash != '\0'; hash++)
			if ((*hash == '#' || *hash == ';') && hash > val &&
			    isspace((unsigned char)hash[-1]))
				break;
		*hash = '\0';
		end = hash;
		while (end > val && isspace((unsigned char)end[-1]))
			*--end = '\0';
	}
	if (*key == '\0') {
		vd_cfg_error(p, p->line, "=", "missing key before '='");
		return;
	}
	if (p->sect == VD_SECT_NONE) {
		vd_cfg_error(p, p->line, key, "outside any valid section");
		return;
	}
	k = vd_key_index(key);
	if (k < 0 || vd_keys[k].sect != p->sect) {
		vd_cfg_error(p, p->line, key, "unknown key in %s", vd_sect_name(p->sect));
		return;
	}
	if (p->key_lines[k] != 0) {
		vd_cfg_error(p, p->line, key, "duplicate key (first at line %u)", p->key_lines[k]);
		return;
	}
	p->key_lines[k] = p->line;
	if (*val == '\0') {
		vd_cfg_error(p, p->line, key, "empty value");
		return;
	}
	why[0] = '\0';
	if (vd_keys[k].set(p, val, why, sizeof(why)) < 0)
		vd_cfg_error(p, p->line, key, "%s", why);
}

int
vd_cfg_port_find(const struct vd_cfg *cfg, const char *name)
{
	unsigned int i;

	for (i = 0; i < cfg->nb_ports; i++)
		if (strcmp(cfg->ports[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

uint16_t
vd_cfg_peer(const struct vd_cfg *cfg, uint16_t port_idx)
{
	const struct vd_cfg_link *l = &cfg->links[cfg->ports[port_idx].link];

	return l->a == port_idx ? l->b : l->a;
}

int
vd_cfg_main_lcore(const struct vd_cfg *cfg)
{
	unsigned int i;

	if (cfg->main_lcore >= 0)
		return cfg->main_lcore;
	if (!cfg->has_lcores)
		return -1;
	for (i = 0; i < RTE_MAX_LCORE; i++)
		if (cfg->lcore_set[i])
			return (int)i;
	return -1;
}

static void
vd_check_links(struct vd_parser *p)
{
	struct vd_cfg *cfg = p->cfg;
	unsigned int i, e, ka = vd_key_index("a"), kb = vd_key_index("b");
	int idx[2];

	for (i = 0; i < cfg->nb_links; i++) {
		struct vd_cfg_link *l = &cfg->links[i];
		const char *names[2] = {p->link_a[i], p->link_b[i]};
		const unsigned int lines[2] = {p->link_lines[i][ka], p->link_lines[i][kb]};

		for (e = 0; e < 2; e++) {
			idx[e] = -1;
			if (lines[e] == 0) {
				vd_cfg_error(p, l->line, e == 0 ? "a" : "b",
					     "missing (the name of a port)");
				continue;
			}
			if (names[e][0] == '\0')
				continue; /* bad value, already reported */
			idx[e] = vd_cfg_port_find(cfg, names[e]);
			if (idx[e] < 0) {
				vd_cfg_error(p, lines[e], e == 0 ? "a" : "b",
					     "no [port %s] in the file", names[e]);
				continue;
			}
			/* a = b is a loopback: what the port receives goes back out of it
			 * (the benchmark's io-forwarding scenario). */
			if (e == 1 && idx[0] == idx[1])
				continue;
			if (cfg->ports[idx[e]].link >= 0) {
				vd_cfg_error(p, lines[e], e == 0 ? "a" : "b",
					     "port '%s' is already in [link %s] (line %u)",
					     names[e], cfg->links[cfg->ports[idx[e]].link].name,
					     cfg->links[cfg->ports[idx[e]].link].line);
				idx[e] = -1;
				continue;
			}
			cfg->ports[idx[e]].link = (int)i;
		}
		l->a = (uint16_t)(idx[0] < 0 ? 0 : idx[0]);
		l->b = (uint16_t)(idx[1] < 0 ? 0 : idx[1]);
	}
	for (i = 0; i < cfg->nb_ports; i++)
		if (cfg->ports[i].link < 0 && !p->port_bad[i])
			vd_cfg_error(p, cfg->ports[i].line, cfg->ports[i].name,
				     "port is in no [link] (its packets would have nowhere to go)");
}

/* Two ports must not be the same device: a second probe would fail or, worse, share it. */
static void
vd_check_unique_devices(struct vd_parser *p)
{
	struct vd_cfg *cfg = p->cfg;
	unsigned int i, j, kpath = vd_key_index("path"), kpci = vd_key_index("pci"),
			   kvdev = vd_key_index("vdev");

	for (i = 0; i < cfg->nb_ports; i++) {
		const struct vd_cfg_port *a = &cfg->ports[i];

		for (j = 0; j < i; j++) {
			const struct vd_cfg_port *b = &cfg->ports[j];

			if (a->type != b->type)
				continue;
			if (a->type == VD_PORT_VHOST && a->path[0] != '\0' &&
			    strcmp(a->path, b->path) == 0)
				vd_cfg_error(p, p->port_lines[i][kpath], "path",
					     "'%s' is also used by port '%s' (line %u)", a->path,
					     b->name, b->line);
			if (a->type == VD_PORT_PCI && a->pci[0] != '\0' &&
			    strcmp(a->pci, b->pci) == 0)
				vd_cfg_error(p, p->port_lines[i][kpci], "pci",
					     "%s is also used by port '%s' (line %u)", a->pci,
					     b->name, b->line);
			if (a->type == VD_PORT_VDEV && a->vdev[0] != '\0' &&
			    strcspn(a->vdev, ",") == strcspn(b->vdev, ",") &&
			    strncmp(a->vdev, b->vdev, strcspn(a->vdev, ",")) == 0)
				vd_cfg_error(
				    p, p->port_lines[i][kvdev], "vdev",
				    "device name '%.*s' is also used by port '%s' (line %u)",
				    (int)strcspn(a->vdev, ","), a->vdev, b->name, b->line);
		}
	}
}

static void
vd_check_lcores(struct vd_parser *p)
{
	struct vd_cfg *cfg = p->cfg;
	unsigned int i, j, n = 0, out = 0, kmain = vd_key_index("main-lcore");
	int main_lcore = vd_cfg_main_lcore(cfg);
	uint16_t q;
	int port;

	if (cfg->main_lcore >= 0 && cfg->has_lcores && !cfg->lcore_set[cfg->main_lcore])
		vd_cfg_error(p, p->sect_lines[0][kmain], "main-lcore", "%d is not in lcores=%s",
			     cfg->main_lcore, cfg->lcores);
	if (cfg->has_lcores) {
		for (i = 0; i < RTE_MAX_LCORE; i++)
			n += cfg->lcore_set[i];
		if (n < 2)
			vd_cfg_error(p, p->sect_lines[0][vd_key_index("lcores")], "lcores",
				     "needs at least 2 lcores: the main lcore and one to forward");
	}
	/* Expand NAME (every queue) into NAME:Q entries, one per queue. */
	memcpy(p->raw_pins, cfg->pins, sizeof(cfg->pins[0]) * cfg->nb_pins);
	for (i = 0; i < cfg->nb_pins; i++) {
		const struct vd_cfg_pin *pin = &p->raw_pins[i];

		port = vd_cfg_port_find(cfg, p->pin_port[i]);
		if (port < 0) {
			vd_cfg_error(p, pin->line, "ports", "no [port %s] in the file",
				     p->pin_port[i]);
			continue;
		}
		if (p->pin_queue[i] >= cfg->ports[port].queues) {
			vd_cfg_error(p, pin->line, "ports",
				     "port '%s' has %u queue(s), no queue %d", p->pin_port[i],
				     cfg->ports[port].queues, p->pin_queue[i]);
			continue;
		}
		if (cfg->has_lcores && !cfg->lcore_set[pin->lcore]) {
			vd_cfg_error(p, pin->line, "ports", "lcore %u is not in lcores=%s",
				     pin->lcore, cfg->lcores);
			continue;
		}
		if ((int)pin->lcore == main_lcore) {
			vd_cfg_error(p, pin->line, "ports",
				     "lcore %u is the main lcore, which does not forward",
				     pin->lcore);
			continue;
		}
		for (q = 0; q < cfg->ports[port].queues; q++) {
			if (p->pin_queue[i] >= 0 && q != p->pin_queue[i])
				continue;
			for (j = 0; j < out; j++)
				if (cfg->pins[j].port == port && cfg->pins[j].queue == q)
					break;
			if (j < out) {
				vd_cfg_error(p, pin->line, "ports",
					     "%s:%u is already pinned to lcore %u (line %u)",
					     p->pin_port[i], q, cfg->pins[j].lcore,
					     cfg->pins[j].line);
				continue;
			}
			if (out >= VD_CFG_PINS_MAX) {
				vd_cfg_error(p, pin->line, "ports", "more than %d pinned queues",
					     VD_CFG_PINS_MAX);
				return;
			}
			cfg->pins[out].lcore = pin->lcore;
			cfg->pins[out].line = pin->line;
			cfg->pins[out].port = (uint16_t)port;
			cfg->pins[out].queue = q;
			out++;
		}
	}
	cfg->nb_pins = (uint16_t)out;
}

void
vd_cfg_init(struct vd_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->main_lcore = -1;
	cfg->huge = true;
	cfg->tx_retries = VD_CFG_TX_RETRIES_DEFAULT;
}

int
vd_cfg_parse_buf(struct vd_cfg *cfg, const char *fname, const char *text, size_t len, char *err,
		 size_t errlen)
{
	struct vd_parser *p;
	char line[VD_CFG_LINE_MAX + 1];
	size_t pos = 0, n;
	const char *nl;
	int ret;

	vd_cfg_init(cfg);
	snprintf(cfg->file, sizeof(cfg->file), "%s", fname);
	if (errlen > 0)
		err[0] = '\0';
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		if (errlen > 0)
			snprintf(err, errlen, "%s: out of memory\n", fname);
		return -ENOMEM;
	}
	p->cfg = cfg;
	p->fname = fname;
	p->err = err;
	p->errlen = errlen;
	while (pos < len) {
		p->line++;
		nl = memchr(text + pos, '\n', len - pos);
		n = (nl != NULL ? (size_t)(nl - text) : len) - pos;
		if (n > VD_CFG_LINE_MAX) {
			vd_cfg_error(p, p->line, "line", "longer than %d characters",
				     VD_CFG_LINE_MAX);
		} else if (memchr(text + pos, '\0', n) != NULL) {
			vd_cfg_error(p, p->line, "line", "contains a NUL byte");
		} else {
			memcpy(line, text + pos, n);
			line[n] = '\0';
			vd_parse_line(p, line);
		}
		pos += n + 1;
	}
	vd_section_end(p);
	if (cfg->nb_ports == 0 && p->nb_errors == 0)
		vd_cfg_error(p, 0, "[port]", "no port defined");
	vd_check_links(p);
	vd_check_unique_devices(p);
	vd_check_lcores(p);
	ret = p->nb_errors > 0 ? -EINVAL : 0;
	free(p);
	return ret;
}

int
vd_cfg_parse_file(struct vd_cfg *cfg, const char *path, char *err, size_t errlen)
{
	char *buf;
	ssize_t r;
	size_t len = 0;
	int fd, ret;

	vd_cfg_init(cfg);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: cannot open: %s\n", path, strerror(-ret));
		return ret;
	}
	buf = malloc(VD_CFG_FILE_MAX + 1);
	if (buf == NULL) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory\n", path);
		return -ENOMEM;
	}
	for (;;) {
		r = read(fd, buf + len, VD_CFG_FILE_MAX + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			snprintf(err, errlen, "%s: cannot read: %s\n", path, strerror(-ret));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > VD_CFG_FILE_MAX) {
			ret = -EFBIG;
			snprintf(err, errlen, "%s: larger than %d bytes\n", path, VD_CFG_FILE_MAX);
			goto out;
		}
	}
	ret = vd_cfg_parse_buf(cfg, path, buf, len, err, errlen);
out:
	free(buf);
	close(fd);
	return ret;
}
