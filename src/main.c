/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhostd: a vhost-user virtio-net backend daemon. main() reads the command
 * line and the config, validates everything (config, lcore plan) before it
 * initialises EAL or touches a device, then opens the ports, starts one
 * forwarding loop per lcore of the plan, and runs the control loop (stats,
 * link changes, signals) on the main lcore until SIGINT or SIGTERM. Shutdown
 * stops the lcores, then stops, closes and detaches every port (vhost-user
 * server sockets are removed) and releases EAL memory, and exits 0.
 */
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_version.h>

#include "vd_cfg.h"
#include "vd_ctl.h"
#include "vd_fwd.h"
#include "vd_lcore.h"
#include "vd_port.h"

#define VD_DEFAULT_CONFIG "/etc/vhostd/vhostd.conf"
#define VD_EAL_ARGS_MAX 128
/* Control loop tick: signals are seen within this many ms. */
#define VD_TICK_MS 100
/* Link state poll period: fast enough to log a guest (dis)connecting promptly. */
#define VD_LINK_POLL_MS 500

/* With all of these the egress port needs no help: vd_fwd skips the per-packet checks. */
#define VD_OL_ALL                                                                                 \
	(RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM |                           \
	 RTE_ETH_TX_OFFLOAD_UDP_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_TSO | RTE_ETH_TX_OFFLOAD_UDP_TSO | \
	 RTE_ETH_TX_OFFLOAD_MULTI_SEGS)

static volatile sig_atomic_t vd_sig_stop;
static volatile sig_atomic_t vd_sig_usr1;
static char vd_runtime_dir[PATH_MAX];

struct vd_opts {
	const char *config;
	bool check;
	int stats_interval; /* -1 = from the config */
	int verbose;
	int nb_passthrough;
	char **passthrough;
};

static struct vd_cfg vd_config;
static struct vd_ports vd_ports;
static struct vd_fwd_lcore vd_lcores[RTE_MAX_LCORE];

static void
vd_usage(FILE *out, const char *prog)
{
	fprintf(
	    out,
	    "Usage: %s [-c FILE] [--check] [--stats-interval SEC] [-v] [-V] [-- EAL args]\n"
	    "  -c, --config FILE       configuration file (default %s)\n"
	    "      --check             validate the configuration and the lcore plan, then\n"
	    "                          exit 0 (valid) or 1 (errors on stderr); touches no device\n"
	    "  -s, --stats-interval N  print stats every N seconds (0 = only on SIGUSR1 and at\n"
	    "                          exit); overrides [stats] interval\n"
	    "  -v, --verbose           more log output (repeat for debug)\n"
	    "  -V, --version           print vhostd's and DPDK's versions, then exit\n"
	    "  -h, --help              this text\n"
	    "Arguments after -- go to DPDK's EAL unchanged, after those vhostd derives\n"
	    "from [eal]. Signals: SIGINT/SIGTERM stop cleanly, SIGUSR1 prints stats.\n"
	    "Telemetry: dpdk-telemetry.py -f <file-prefix>, commands under /vhostd/.\n",
	    prog, VD_DEFAULT_CONFIG);
}

static int
vd_parse_opts(int argc, char **argv, struct vd_opts *o)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check", no_argument, NULL, 'C'},
	    {"stats-interval", required_argument, NULL, 's'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char *end;
	long v;
	int c;

	memset(o, 0, sizeof(*o));
	o->config = VD_DEFAULT_CONFIG;
	o->stats_interval = -1;
	while ((c = getopt_long(argc, argv, "c:s:vVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'C':
			o->check = true;
			break;
		case 's':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg || v < 0 || v > 86400) {
				fprintf(stderr, "%s: --stats-interval: '%s' is not 0..86400\n",
					argv[0], optarg);
				return -EINVAL;
			}
			o->stats_interval = (int)v;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'V':
			printf("vhostd %s, %s\n", VHOSTD_VERSION, rte_version());
			exit(0);
		case 'h':
			vd_usage(stdout, argv[0]);
			exit(0);
		default:
			vd_usage(stderr, argv[0]);
			return -EINVAL;
		}
	}
	/* getopt stops at "--"; anything before it that is not an option is a mistake. */
	if (optind < argc && strcmp(argv[optind - 1], "--") != 0) {
		fprintf(stderr, "%s: unexpected argument '%s' (EAL arguments go after --)\n",
			argv[0], argv[optind]);
		return -EINVAL;
	}
	o->nb_passthrough = argc - optind;
	o->passthrough = argv + optind;
	return 0;
}

/* argv for rte_eal_init(), from [eal], the ports and the passthrough arguments. */
static int
vd_eal_argv(const struct vd_cfg *cfg, const struct vd_opts *o, char **argv, char *store,
	    size_t store_len)
{
	int argc = 0;
	size_t used = 0;
	unsigned int i;
	char *tok, *save = NULL;
	bool has_pci = false;
	char num[32];

#define VD_ARG(s)                                                         \
	do {                                                              \
		size_t l_ = strlen(s) + 1;                                \
		if (argc >= VD_EAL_ARGS_MAX - 1 || used + l_ > store_len) \
			return -E2BIG;                                    \
		memcpy(store + used, (s), l_);                            \
		argv[argc++] = store + used;                              \
		used += l_;                                               \
	} while (0)

	VD_ARG("vhostd");
	if (cfg->has_lcores) {
		VD_ARG("-l");
		VD_ARG(cfg->lcores);
		snprintf(num, sizeof(num), "%d", vd_cfg_main_lcore(cfg));
		VD_ARG("--main-lcore");
		VD_ARG(num);
	}
	if (cfg->memory_mb != 0) {
		snprintf(num, sizeof(num), "%u", cfg->memory_mb);
		VD_ARG("-m");
		VD_ARG(num);
	}
	VD_ARG("--file-prefix");
	VD_ARG(cfg->file_prefix[0] != '\0' ? cfg->file_prefix : "vhostd");
	/* --no-huge is in memory already, and EAL refuses the two together. */
	if (cfg->in_memory && cfg->huge)
		VD_ARG("--in-memory");
	if (!cfg->huge)
		VD_ARG("--no-huge");
	/* EAL probes only the PCI devices of the config; none at all without one. */
	for (i = 0; i < cfg->nb_ports; i++) {
		const struct vd_cfg_port *p = &cfg->ports[i];
		char dev[VD_CFG_ARGS_MAX + 40];

		if (p->type != VD_PORT_PCI)
			continue;
		has_pci = true;
		snprintf(dev, sizeof(dev), "%s%s%s", p->pci, p->devargs[0] ? "," : "", p->devargs);
		VD_ARG("-a");
		VD_ARG(dev);
	}
	if (!has_pci)
		VD_ARG("--no-pci");
	if (cfg->log_level[0] != '\0') {
		VD_ARG("--log-level");
		VD_ARG(cfg->log_level);
	}
	if (o->verbose > 0) {
		VD_ARG("--log-level");
		VD_ARG(o->verbose > 1 ? "vhostd.*:debug" : "vhostd.*:info");
	}
	if (cfg->eal_args[0] != '\0') {
		char buf[VD_CFG_ARGS_MAX];

		snprintf(buf, sizeof(buf), "%s", cfg->eal_args);
		for (tok = strtok_r(buf, " \t", &save); tok != NULL;
		     tok = strtok_r(NULL, " \t", &save))
			VD_ARG(tok);
	}
	for (i = 0; i < (unsigned int)o->nb_passthrough; i++)
		VD_ARG(o->passthrough[i]);
#undef VD_ARG
	argv[argc] = NULL;
	return argc;
}

/*
 * EAL leaves its runtime directory behind, and the telemetry socket in it is
 * only unlinked by an atexit handler of EAL's. Registered before rte_eal_init(),
 * this one runs after it and removes the directory when nothing else is in it
 * (--in-memory): a stopped vhostd leaves no litter.
 */
static void
vd_rmdir_runtime(void)
{
	if (vd_runtime_dir[0] != '\0')
		rmdir(vd_runtime_dir);
}

static void
vd_on_signal(int sig)
{
	if (sig == SIGUSR1) {
		vd_sig_usr1 = 1;
		return;
	}
	vd_sig_stop = 1;
	vd_fwd_stop(); /* a lock-free atomic store: async-signal-safe */
}

static int
vd_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = vd_on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0 ||
	    sigaction(SIGUSR1, &sa, NULL) < 0)
		return -errno;
	/* A frontend that goes away mid-send must not kill the daemon. */
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		return -errno;
	return 0;
}

static void
vd_plan_print(FILE *out, const struct vd_cfg *cfg, const struct vd_fwd_lcore *lc, unsigned int nb)
{
	unsigned int l, q;

	for (l = 0; l < nb; l++) {
		fprintf(out, "  lcore %u (node %d):", lc[l].lcore_id, lc[l].numa);
		if (lc[l].nb_queues == 0)
			fprintf(out, " idle");
		for (q = 0; q < lc[l].nb_queues; q++)
			fprintf(out, " %s:%u->%s:%u", cfg->ports[lc[l].queues[q].cfg_rx].name,
				lc[l].queues[q].rx_queue, cfg->ports[lc[l].queues[q].cfg_tx].name,
				lc[l].queues[q].tx_queue);
		fprintf(out, "\n");
	}
}

/* Workers for a plan made before EAL: those of [eal] lcores, else every online CPU but 0. */
static unsigned int
vd_pre_eal_workers(const struct vd_cfg *cfg, struct vd_lcore_worker *w)
{
	long ncpu;
	unsigned int i, n = 0;

	if (cfg->has_lcores)
		return vd_lcore_workers_from_cfg(cfg, w, RTE_MAX_LCORE);
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	for (i = 1; i < (unsigned int)ncpu && i < RTE_MAX_LCORE; i++, n++) {
		w[n].lcore_id = i;
		w[n].numa = vd_lcore_cpu_numa(i);
	}
	return n;
}

/* Fill the ethdev side of the plan: port ids, egress offloads. */
static void
vd_plan_bind(struct vd_fwd_lcore *lc, unsigned int nb, const struct vd_ports *ports)
{
	unsigned int l, q;

	for (l = 0; l < nb; l++) {
		for (q = 0; q < lc[l].nb_queues; q++) {
			struct vd_fwd_queue *fq = &lc[l].queues[q];
			const struct vd_port *tx = &ports->p[fq->cfg_tx];

			fq->rx_port = ports->p[fq->cfg_rx].port_id;
			fq->tx_port = tx->port_id;
			fq->tx_offloads = tx->tx_offloads;
			fq->sw_offload = (tx->tx_offloads & VD_OL_ALL) != VD_OL_ALL;
		}
	}
}

static uint64_t
vd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
vd_sleep_ms(unsigned int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	/* EINTR is fine: the loop looks at the signal flags right after. */
	nanosleep(&ts, NULL);
}

int
main(int argc, char **argv)
{
	static char errbuf[16384];
	static char eal_store[8192];
	char *eal_argv[VD_EAL_ARGS_MAX];
	struct vd_lcore_worker workers[RTE_MAX_LCORE];
	int port_numa[VD_CFG_PORTS_MAX];
	struct vd_cfg *cfg = &vd_config;
	unsigned int nb_workers, l, launched = 0, interval;
	uint64_t next_links, next_stats;
	struct vd_opts o;
	int eal_argc, ret;

	if (vd_parse_opts(argc, argv, &o) < 0)
		return 1;
	ret = vd_cfg_parse_file(cfg, o.config, errbuf, sizeof(errbuf));
	if (ret < 0) {
		fputs(errbuf, stderr);
		fprintf(stderr, "vhostd: %s: invalid configuration, nothing started\n", o.config);
		return 1;
	}
	interval = o.stats_interval >= 0 ? (unsigned int)o.stats_interval : cfg->stats_interval;
	vd_port_numa_resolve(cfg, port_numa);
	nb_workers = vd_pre_eal_workers(cfg, workers);
	ret = vd_lcore_plan(cfg, port_numa, workers, nb_workers, vd_lcores, errbuf, sizeof(errbuf));
	if (ret < 0) {
		fputs(errbuf, stderr);
		fprintf(stderr, "vhostd: %s: invalid lcore plan, nothing started\n", o.config);
		return 1;
	}
	eal_argc = vd_eal_argv(cfg, &o, eal_argv, eal_store, sizeof(eal_store));
	if (eal_argc < 0) {
		fprintf(stderr, "vhostd: too many EAL arguments\n");
		return 1;
	}
	if (o.check) {
		printf("%s: ok: %u port(s), %u link(s)\nlcore plan:\n", o.config, cfg->nb_ports,
		       cfg->nb_links);
		vd_plan_print(stdout, cfg, vd_lcores, nb_workers);
		printf("EAL arguments:");
		for (ret = 1; ret < eal_argc; ret++)
			printf(" %s", eal_argv[ret]);
		printf("\n");
		return 0;
	}

	atexit(vd_rmdir_runtime);
	ret = rte_eal_init(eal_argc, eal_argv);
	if (ret < 0) {
		fprintf(stderr, "vhostd: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	snprintf(vd_runtime_dir, sizeof(vd_runtime_dir), "%s", rte_eal_get_runtime_dir());
	ret = vd_signals();
	if (ret < 0) {
		fprintf(stderr, "vhostd: signal handlers: %s\n", strerror(-ret));
		goto err_eal;
	}
	/* The EAL lcore set may differ from [eal] (arguments after --): plan again. */
	nb_workers = vd_lcore_workers_from_eal(workers, RTE_MAX_LCORE);
	ret = vd_lcore_plan(cfg, port_numa, workers, nb_workers, vd_lcores, errbuf, sizeof(errbuf));
	if (ret < 0) {
		fputs(errbuf, stderr);
		goto err_eal;
	}
	ret = vd_ports_open(&vd_ports, cfg, port_numa, nb_workers);
	if (ret < 0) {
		fprintf(stderr, "vhostd: cannot open the ports: %s\n", strerror(-ret));
		goto err_eal;
	}
	vd_plan_bind(vd_lcores, nb_workers, &vd_ports);
	printf("vhostd: version %s, %s\n", VHOSTD_VERSION, rte_version());
	printf("vhostd: running, lcore plan:\n");
	vd_plan_print(stdout, cfg, vd_lcores, nb_workers);
	fflush(stdout);
	vd_ctl_init(cfg, &vd_ports, vd_lcores, nb_workers);
	for (l = 0; l < nb_workers && !vd_sig_stop; l++) {
		if (vd_lcores[l].nb_queues == 0)
			continue;
		ret = rte_eal_remote_launch(vd_fwd_main, &vd_lcores[l], vd_lcores[l].lcore_id);
		if (ret < 0) {
			fprintf(stderr, "vhostd: cannot launch lcore %u: %s\n",
				vd_lcores[l].lcore_id, strerror(-ret));
			vd_sig_stop = 1;
			vd_fwd_stop();
			break;
		}
		launched++;
	}

	/*
	 * Deadlines come from the clock, not from counting sleeps: drivers such as
	 * net_tap raise SIGIO per packet, which cuts every nanosleep short.
	 */
	next_links = vd_now_ms();
	next_stats = next_links + interval * 1000ull;
	while (!vd_sig_stop) {
		uint64_t now;

		vd_sleep_ms(VD_TICK_MS);
		now = vd_now_ms();
		if (now >= next_links) {
			vd_ctl_poll_links();
			next_links = now + VD_LINK_POLL_MS;
		}
		if (vd_sig_usr1) {
			vd_sig_usr1 = 0;
			vd_ctl_print(stdout);
		}
		if (interval > 0 && now >= next_stats) {
			vd_ctl_print(stdout);
			next_stats = now + interval * 1000ull;
		}
	}

	printf("vhostd: stopping\n");
	vd_fwd_stop();
	rte_eal_mp_wait_lcore();
	vd_ctl_print(stdout);
	vd_ctl_fini();
	vd_ports_close(&vd_ports);
	ret = rte_eal_cleanup();
	if (ret < 0)
		fprintf(stderr, "vhostd: EAL cleanup: %s\n", strerror(-ret));
	printf("vhostd: stopped (%u forwarding lcore(s))\n", launched);
	return ret < 0 ? 1 : 0;

err_eal:
	rte_eal_cleanup();
	return 1;
}
