/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vd_pktcheck: payload-integrity checker for the integration tests.
 *
 * It plays the guest: it runs on one or two net_virtio_user ports (or any
 * ethdev), sends sequence-numbered UDP/IPv4 frames whose every byte is a
 * function of (run, stream, flow, seq, size), receives them back on the other
 * port ("pair": guest -> backend -> guest) or on the same port ("loop": guest ->
 * backend -> loopback -> backend -> guest), rebuilds the frame it expects and
 * compares it byte by byte. It reports, on one key=value line per stream plus a
 * total line, how many frames were sent, received, lost, duplicated, corrupted,
 * reordered, and exits 0 only when every frame arrived intact (or the loss is
 * within --max-loss for lossy topologies such as a kernel TAP).
 *
 * Flows: frame i of a stream belongs to flow i % flows and carries the per-flow
 * sequence i / flows; each flow is pinned to one TX queue by a hash (as RSS
 * would pin it), so frames of one flow must come back in order whatever the
 * queue layout in between, while frames of different flows may interleave.
 *
 * Multi-segment: frames longer than --seg-size are sent as mbuf chains, and on
 * receive the chain is linearised before the comparison, so 9000-byte frames
 * exercise chained TX on the guest side and mergeable (or large single) RX
 * buffers on the way back.
 *
 * Before the counted run each TX queue sends "probe" frames until one comes back
 * (bounded by --link-timeout), because a backend may drop what arrives before
 * both ends of the path are ready; probes are never counted.
 */

#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_random.h>

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_udp.h>

#define PC_MAGIC 0x56445043u /* "VDPC" */
#define PC_TYPE_DATA 1
#define PC_TYPE_PROBE 2
#define PC_MAX_FRAME 9000
#define PC_MIN_FRAME 64
#define PC_MAX_QUEUES 16
#define PC_MAX_STREAMS 2
#define PC_MAX_BURST 64
/* Frames staged per TX queue while the ring is full; bounds memory and keeps
 * the generator from running ahead of a stuck queue. */
#define PC_STAGE_MAX (2 * PC_MAX_BURST)
/* Print at most this many individual errors; the counters carry the rest. */
#define PC_MAX_REPORTS 10

/* Offsets of the frame: Ethernet, IPv4 (no options), UDP, then our header. */
#define PC_OFF_IP 14
#define PC_OFF_UDP 34
#define PC_OFF_HDR 42
struct pc_hdr {
	rte_be32_t magic;
	rte_be32_t run;
	uint8_t stream;
	uint8_t type;
	rte_be16_t flow;
	rte_be32_t seq;
	rte_be32_t csum; /* FNV-1a of the whole frame with this field zero */
} __rte_packed;
#define PC_OFF_PAYLOAD (PC_OFF_HDR + (int)sizeof(struct pc_hdr))
static_assert(PC_OFF_PAYLOAD <= PC_MIN_FRAME, "header must fit a minimum frame");

enum pc_mode { PC_MODE_PAIR, PC_MODE_LOOP };

struct pc_opts {
	enum pc_mode mode;
	bool bidir;
	unsigned int size;
	uint64_t count;
	uint64_t rate; /* frames/s over all streams, 0 = as fast as TX takes them */
	unsigned int queues;
	unsigned int flows;
	unsigned int burst;
	unsigned int window; /* max frames in flight per stream, 0 = unbounded */
	unsigned int seg_size;
	unsigned int nb_mbufs;
	double max_loss_pct;
	bool allow_reorder;
	bool allow_foreign;
	unsigned int timeout_s;
	unsigned int link_timeout_s;
	unsigned int drain_ms;
	bool no_probe;
	bool verbose;
	/* Self-test of the checker: damage frame inject_idx of stream 0 on
	 * purpose, so a test can prove that a fault is caught and reported. */
	enum { PC_INJECT_NONE, PC_INJECT_CORRUPT, PC_INJECT_DUP, PC_INJECT_DROP } inject;
	uint64_t inject_idx;
};

struct pc_stream {
	uint16_t tx_port;
	uint16_t rx_port;
	uint64_t next;     /* next frame index to generate */
	uint64_t sent;     /* accepted by rte_eth_tx_burst */
	uint64_t rx_total; /* data frames of this stream seen, dups included */
	uint64_t rx_unique;
	uint64_t dup;
	uint64_t corrupt;
	uint64_t reordered;
	uint64_t assumed_lost; /* written off by the window when a flow stalls */
	uint64_t *seen;        /* bitmap over frame index */
	int64_t *last_seq;     /* per flow: highest seq received so far */
	bool probe_ok[PC_MAX_QUEUES];
	struct rte_mbuf *stage[PC_MAX_QUEUES][PC_STAGE_MAX];
	unsigned int nb_stage[PC_MAX_QUEUES];
};

static struct pc_opts opts = {
    .mode = PC_MODE_PAIR,
    .size = 64,
    .count = 1000,
    .queues = 1,
    .burst = 32,
    .seg_size = 2048,
    .max_loss_pct = 0.0,
    .timeout_s = 30,
    .link_timeout_s = 10,
    .drain_ms = 500,
};

static struct pc_stream streams[PC_MAX_STREAMS];
static unsigned int nb_streams;
static uint16_t ports[2];
static unsigned int nb_ports;
static uint16_t flow_queue[256];
static uint32_t run_id;
static struct rte_mempool *tx_pool, *rx_pool;
static volatile sig_atomic_t quit;
static unsigned int nb_reports;
static uint64_t foreign, misrouted, probes_rx, rx_max_segs, tx_max_segs, rx_bad_chain;
static uint8_t expect_buf[PC_MAX_FRAME], got_buf[PC_MAX_FRAME];

static void
pc_on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static uint32_t
pc_fnv1a(const uint8_t *p, size_t n, uint32_t h)
{
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

/* A 32-bit mix (murmur3 finaliser) so that flows land on queues the way a
 * hash-based RSS would place them, rather than round-robin. */
static uint32_t
pc_mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	x *= 0xc2b2ae35u;
	x ^= x >> 16;
	return x;
}

/*
 * Build the frame (stream, type, flow, seq) of the given size into buf. The
 * sender and the receiver call this same function: the receiver compares what
 * arrived against it byte by byte, so every byte is checked.
 */
static void
pc_frame_build(uint8_t *buf, unsigned int size, unsigned int stream, unsigned int type,
	       unsigned int flow, uint32_t seq)
{
	static const uint8_t dst[6] = {0x02, 0x76, 0x64, 0x00, 0x00, 0x02};
	static const uint8_t src[6] = {0x02, 0x76, 0x64, 0x00, 0x00, 0x01};
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(buf + PC_OFF_IP);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(buf + PC_OFF_UDP);
	struct pc_hdr *h = (struct pc_hdr *)(buf + PC_OFF_HDR);
	uint64_t x;
	unsigned int k;
	uint32_t csum;

	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	buf[12] = 0x08;
	buf[13] = 0x00;
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(size - PC_OFF_IP));
	ip->packet_id = rte_cpu_to_be_16((uint16_t)seq);
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	/* 198.18.0.0/15 is reserved for benchmarking (RFC 2544). */
	ip->src_addr = rte_cpu_to_be_32(0xc6120001u + stream);
	ip->dst_addr = rte_cpu_to_be_32(0xc6120101u + stream);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	/* Distinct UDP ports per flow, so an RSS hash in between keeps each flow
	 * on one queue. UDP checksum 0 means "none" on IPv4. */
	udp->src_port = rte_cpu_to_be_16((uint16_t)(10000 + flow));
	udp->dst_port = rte_cpu_to_be_16((uint16_t)(20000 + stream));
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(size - PC_OFF_UDP));
	udp->dgram_cksum = 0;
	h->magic = rte_cpu_to_be_32(PC_MAGIC);
	h->run = rte_cpu_to_be_32(run_id);
	h->stream = (uint8_t)stream;
	h->type = (uint8_t)type;
	h->flow = rte_cpu_to_be_16((uint16_t)flow);
	h->seq = rte_cpu_to_be_32(seq);
	h->csum = 0;
	/* Payload: a per-frame seed spread over the bytes, with the offset folded
	 * in so that swapped or shifted segments do not compare equal. */
	x = ((uint64_t)pc_mix32(run_id ^ (stream << 24) ^ flow) << 32) |
	    pc_mix32(seq * 2654435761u);
	for (k = PC_OFF_PAYLOAD; k < size; k++)
		buf[k] = (uint8_t)((x >> (8 * (k & 7))) ^ (k >> 3) ^ (k >> 11));
	csum = pc_fnv1a(buf, size, 2166136261u);
	h->csum = rte_cpu_to_be_32(csum);
}

static struct rte_mbuf *
pc_mbuf_from_buf(const uint8_t *buf, unsigned int size)
{
	struct rte_mbuf *head = NULL, *tail = NULL, *m;
	unsigned int off = 0, n, room;
	char *dst;

	room = RTE_MIN(opts.seg_size,
		       (unsigned int)(rte_pktmbuf_data_room_size(tx_pool) - RTE_PKTMBUF_HEADROOM));
	while (off < size) {
		m = rte_pktmbuf_alloc(tx_pool);
		if (m == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		n = RTE_MIN(room, size - off);
		dst = rte_pktmbuf_append(m, (uint16_t)n);
		memcpy(dst, buf + off, n);
		off += n;
		if (head == NULL) {
			head = m;
		} else {
			tail->next = m;
			head->nb_segs++;
			head->pkt_len += n;
		}
		tail = m;
	}
	if (head->nb_segs > tx_max_segs)
		tx_max_segs = head->nb_segs;
	return head;
}

static void pc_report(const char *fmt, ...) __rte_format_printf(1, 2);

static void
pc_report(const char *fmt, ...)
{
	va_list ap;

	if (nb_reports++ >= PC_MAX_REPORTS)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static uint64_t
pc_flow_frames(unsigned int flow)
{
	/* frames of flow f: indexes f, f + flows, ... below count */
	if (flow >= opts.count)
		return 0;
	return (opts.count - flow + opts.flows - 1) / opts.flows;
}

/* Check one received frame; rx_port is where it arrived. */
static void
pc_check_frame(struct rte_mbuf *m, uint16_t rx_port)
{
	const struct pc_hdr *h;
	struct pc_stream *s;
	unsigned int stream, flow, type, k, seglen = 0, nseg = 0;
	const struct rte_mbuf *seg;
	const uint8_t *data;
	uint64_t idx;
	uint32_t seq;

	for (seg = m; seg != NULL; seg = seg->next) {
		seglen += seg->data_len;
		nseg++;
	}
	if (nseg > rx_max_segs)
		rx_max_segs = nseg;
	if (seglen != m->pkt_len || nseg != m->nb_segs) {
		rx_bad_chain++;
		pc_report("BADCHAIN port=%u pkt_len=%u sum_data_len=%u nb_segs=%u walked=%u\n",
			  rx_port, m->pkt_len, seglen, m->nb_segs, nseg);
		return;
	}
	if (m->pkt_len < PC_OFF_PAYLOAD || m->pkt_len > PC_MAX_FRAME) {
		foreign++;
		return;
	}
	/* A pointer into the mbuf when the frame is contiguous, else a copy. */
	data = rte_pktmbuf_read(m, 0, m->pkt_len, got_buf);
	if (data == NULL) {
		rx_bad_chain++;
		return;
	}
	h = (const struct pc_hdr *)(data + PC_OFF_HDR);
	if (data[12] != 0x08 || data[13] != 0x00 || rte_be_to_cpu_32(h->magic) != PC_MAGIC ||
	    rte_be_to_cpu_32(h->run) != run_id) {
		foreign++;
		return;
	}
	stream = h->stream;
	type = h->type;
	flow = rte_be_to_cpu_16(h->flow);
	seq = rte_be_to_cpu_32(h->seq);
	if (type == PC_TYPE_PROBE && stream < nb_streams && flow < opts.queues) {
		probes_rx++;
		streams[stream].probe_ok[flow] = true;
		return;
	}
	if (type != PC_TYPE_DATA || stream >= nb_streams || flow >= opts.flows ||
	    seq >= pc_flow_frames(flow)) {
		/* Our magic and run, but fields out of range: a damaged header. */
		if (stream < nb_streams)
			streams[stream].corrupt++;
		else
			streams[0].corrupt++;
		pc_report("CORRUPT header stream=%u type=%u flow=%u seq=%u len=%u\n", stream, type,
			  flow, seq, m->pkt_len);
		return;
	}
	s = &streams[stream];
	if (rx_port != s->rx_port) {
		misrouted++;
		pc_report("MISROUTED stream=%u arrived on port %u, expected port %u\n", stream,
			  rx_port, s->rx_port);
		return;
	}
	s->rx_total++;
	if (m->pkt_len != opts.size) {
		s->corrupt++;
		pc_report("CORRUPT length stream=%u flow=%u seq=%u len=%u want=%u\n", stream, flow,
			  seq, m->pkt_len, opts.size);
		return;
	}
	pc_frame_build(expect_buf, opts.size, stream, PC_TYPE_DATA, flow, seq);
	if (memcmp(expect_buf, data, opts.size) != 0) {
		for (k = 0; k < opts.size && expect_buf[k] == data[k]; k++)
			;
		s->corrupt++;
		pc_report("CORRUPT data stream=%u flow=%u seq=%u off=%u got=0x%02x want=0x%02x "
			  "segs=%u\n",
			  stream, flow, seq, k, data[k], expect_buf[k], m->nb_segs);
		return;
	}
	idx = (uint64_t)seq * opts.flows + flow;
	if (s->seen[idx / 64] & (1ull << (idx % 64))) {
		s->dup++;
		pc_report("DUP stream=%u flow=%u seq=%u\n", stream, flow, seq);
		return;
	}
	s->seen[idx / 64] |= 1ull << (idx % 64);
	s->rx_unique++;
	if ((int64_t)seq < s->last_seq[flow]) {
		s->reordered++;
		if (!opts.allow_reorder)
			pc_report("REORDER stream=%u flow=%u seq=%u after seq=%" PRId64 "\n",
				  stream, flow, seq, s->last_seq[flow]);
	} else {
		s->last_seq[flow] = seq;
	}
}

/* Poll every RX queue of every port once; returns the number of mbufs seen. */
static unsigned int
pc_poll_rx(void)
{
	struct rte_mbuf *pkts[PC_MAX_BURST];
	unsigned int p, q, i, total = 0;
	uint16_t n;

	for (p = 0; p < nb_ports; p++) {
		for (q = 0; q < opts.queues; q++) {
			n = rte_eth_rx_burst(ports[p], (uint16_t)q, pkts, PC_MAX_BURST);
			for (i = 0; i < n; i++) {
				pc_check_frame(pkts[i], ports[p]);
				rte_pktmbuf_free(pkts[i]);
			}
			total += n;
		}
	}
	return total;
}

/* Try to send what is staged on each queue of stream s; keeps the rest. */
static void
pc_flush_stage(struct pc_stream *s, bool count_sent)
{
	unsigned int q, left;
	uint16_t n;

	for (q = 0; q < opts.queues; q++) {
		if (s->nb_stage[q] == 0)
			continue;
		n = rte_eth_tx_burst(s->tx_port, (uint16_t)q, s->stage[q],
				     (uint16_t)RTE_MIN(s->nb_stage[q], opts.burst));
		left = s->nb_stage[q] - n;
		if (n > 0 && left > 0)
			memmove(&s->stage[q][0], &s->stage[q][n], left * sizeof(s->stage[q][0]));
		s->nb_stage[q] = left;
		if (count_sent)
			s->sent += n;
	}
}

static unsigned int
pc_staged(const struct pc_stream *s)
{
	unsigned int q, n = 0;

	for (q = 0; q < opts.queues; q++)
		n += s->nb_stage[q];
	return n;
}

/* Generate up to budget new frames for stream s; returns how many. */
static unsigned int
pc_generate(unsigned int sidx, unsigned int budget)
{
	struct pc_stream *s = &streams[sidx];
	static uint8_t buf[PC_MAX_FRAME];
	unsigned int made = 0, flow, q, inject;
	struct rte_mbuf *m;

	while (made < budget && s->next < opts.count) {
		flow = (unsigned int)(s->next % opts.flows);
		q = flow_queue[flow];
		if (s->nb_stage[q] >= PC_STAGE_MAX)
			break;
		pc_frame_build(buf, opts.size, sidx, PC_TYPE_DATA, flow,
			       (uint32_t)(s->next / opts.flows));
		inject = sidx == 0 && s->next == opts.inject_idx ? opts.inject : PC_INJECT_NONE;
		if (inject == PC_INJECT_CORRUPT)
			buf[opts.size - 1] ^= 0x5a;
		if (inject == PC_INJECT_DUP && s->nb_stage[q] + 2 > PC_STAGE_MAX)
			break;
		m = pc_mbuf_from_buf(buf, opts.size);
		if (m == NULL)
			break; /* pool empty: try again after the TX ring drains */
		if (inject == PC_INJECT_DROP) {
			/* counted as sent, never transmitted: must show as lost */
			rte_pktmbuf_free(m);
			s->sent++;
		} else {
			s->stage[q][s->nb_stage[q]++] = m;
		}
		if (inject == PC_INJECT_DUP) {
			m = pc_mbuf_from_buf(buf, opts.size);
			if (m != NULL) {
				s->stage[q][s->nb_stage[q]++] = m;
				s->sent--; /* the copy is not a frame of its own */
			}
		}
		s->next++;
		made++;
	}
	return made;
}

/*
 * Send probes on every TX queue of every stream until each has come back once,
 * so the counted run starts only when the whole path forwards.
 */
static int
pc_probe(void)
{
	uint64_t hz = rte_get_timer_hz(), deadline, next_send = 0, now;
	static uint8_t buf[PC_MAX_FRAME];
	unsigned int s, q, missing;
	struct rte_mbuf *m;

	deadline = rte_get_timer_cycles() + opts.link_timeout_s * hz;
	for (;;) {
		pc_poll_rx();
		missing = 0;
		for (s = 0; s < nb_streams; s++)
			for (q = 0; q < opts.queues; q++)
				missing += !streams[s].probe_ok[q];
		if (missing == 0)
			break;
		now = rte_get_timer_cycles();
		if (now > deadline || quit) {
			fprintf(stderr,
				"vd_pktcheck: path not ready: %u queue(s) got no probe back "
				"within %us\n",
				missing, opts.link_timeout_s);
			return -ETIMEDOUT;
		}
		if (now < next_send)
			continue;
		/* one probe per missing queue every 10 ms */
		next_send = now + hz / 100;
		for (s = 0; s < nb_streams; s++) {
			for (q = 0; q < opts.queues; q++) {
				if (streams[s].probe_ok[q])
					continue;
				pc_frame_build(buf, opts.size, s, PC_TYPE_PROBE, q, 0);
				m = pc_mbuf_from_buf(buf, opts.size);
				if (m == NULL)
					continue;
				if (rte_eth_tx_burst(streams[s].tx_port, (uint16_t)q, &m, 1) != 1)
					rte_pktmbuf_free(m);
			}
		}
	}
	/* Let late probes arrive before counting, so they are not mistaken for
	 * anything else (they are ignored anyway, this keeps the log tidy). */
	deadline = rte_get_timer_cycles() + hz / 20;
	while (rte_get_timer_cycles() < deadline)
		pc_poll_rx();
	return 0;
}

static void
pc_run(void)
{
	uint64_t hz = rte_get_timer_hz(), t0, now, allowed, generated, last_rx;
	uint64_t deadline, drain_cycles, stalled_since[PC_MAX_STREAMS] = {0};
	unsigned int s, budget, inflight;
	bool all_sent;

	t0 = rte_get_timer_cycles();
	deadline = t0 + opts.timeout_s * hz;
	drain_cycles = opts.drain_ms * hz / 1000;
	last_rx = t0;
	for (;;) {
		now = rte_get_timer_cycles();
		if (pc_poll_rx() > 0)
			last_rx = now;
		all_sent = true;
		generated = 0;
		for (s = 0; s < nb_streams; s++)
			generated += streams[s].next;
		allowed = UINT64_MAX;
		if (opts.rate > 0)
			allowed =
			    (uint64_t)((double)(now - t0) * (double)opts.rate / (double)hz) + 1;
		for (s = 0; s < nb_streams; s++) {
			struct pc_stream *st = &streams[s];

			budget = opts.burst;
			if (allowed != UINT64_MAX)
				budget = (unsigned int)RTE_MIN(
				    (uint64_t)budget,
				    allowed > generated ? allowed - generated : 0);
			if (opts.window > 0) {
				inflight = (unsigned int)(st->sent + pc_staged(st) - st->rx_unique -
							  st->assumed_lost);
				if (inflight >= opts.window) {
					/* A lost frame would hold the window shut for
					 * ever: after drain_ms without progress count the
					 * outstanding ones as lost and go on. */
					if (stalled_since[s] == 0)
						stalled_since[s] = now;
					else if (now - stalled_since[s] > drain_cycles)
						st->assumed_lost += inflight;
					budget = 0;
				} else {
					stalled_since[s] = 0;
					budget = RTE_MIN(budget, opts.window - inflight);
				}
			}
			generated += pc_generate(s, budget);
			pc_flush_stage(st, true);
			if (st->next < opts.count || pc_staged(st) > 0)
				all_sent = false;
		}
		if (quit || now > deadline)
			break;
		if (all_sent) {
			bool done = true;

			for (s = 0; s < nb_streams; s++)
				if (streams[s].rx_unique < streams[s].sent)
					done = false;
			if (done || now - last_rx > drain_cycles)
				break;
		}
	}
	if (now > deadline)
		fprintf(stderr, "vd_pktcheck: timeout after %us\n", opts.timeout_s);
	/* Drop what could not be sent (timeout or signal). */
	for (s = 0; s < nb_streams; s++) {
		unsigned int q;

		for (q = 0; q < opts.queues; q++) {
			rte_pktmbuf_free_bulk(streams[s].stage[q], streams[s].nb_stage[q]);
			streams[s].nb_stage[q] = 0;
		}
	}
	/* Anything that still arrives now is counted too (dups show up here). */
	last_rx = rte_get_timer_cycles();
	while (rte_get_timer_cycles() - last_rx < hz / 20)
		if (pc_poll_rx() > 0)
			last_rx = rte_get_timer_cycles();
}

static void
pc_list_missing(unsigned int sidx)
{
	const struct pc_stream *s = &streams[sidx];
	unsigned int flows = RTE_MAX(opts.flows, 1u); /* >= 1 after parsing; for the analyzer */
	unsigned int shown = 0;
	uint64_t i;

	for (i = 0; i < s->sent && shown < PC_MAX_REPORTS; i++) {
		if (s->seen[i / 64] & (1ull << (i % 64)))
			continue;
		fprintf(stderr, "LOST stream=%u flow=%u seq=%" PRIu64 "\n", sidx,
			(unsigned int)(i % flows), i / flows);
		shown++;
	}
}

static int
pc_summary(double secs)
{
	uint64_t sent = 0, rx = 0, lost = 0, dup = 0, corrupt = 0, reord = 0;
	unsigned int s;
	bool pass;
	double loss_pct;

	for (s = 0; s < nb_streams; s++) {
		const struct pc_stream *st = &streams[s];
		uint64_t l = st->sent - st->rx_unique;

		printf("PKTCHECK_STREAM stream=%u tx_port=%u rx_port=%u sent=%" PRIu64
		       " received=%" PRIu64 " lost=%" PRIu64 " dup=%" PRIu64 " corrupt=%" PRIu64
		       " reordered=%" PRIu64 "\n",
		       s, st->tx_port, st->rx_port, st->sent, st->rx_unique, l, st->dup,
		       st->corrupt, st->reordered);
		if (l > 0)
			pc_list_missing(s);
		sent += st->sent;
		rx += st->rx_unique;
		lost += l;
		dup += st->dup;
		corrupt += st->corrupt;
		reord += st->reordered;
	}
	loss_pct = sent > 0 ? 100.0 * (double)lost / (double)sent : 0.0;
	pass = sent == opts.count * nb_streams && dup == 0 && corrupt == 0 && misrouted == 0 &&
	       rx_bad_chain == 0 && loss_pct <= opts.max_loss_pct &&
	       (opts.allow_reorder || reord == 0) && (opts.allow_foreign || foreign == 0) && !quit;
	/* the one line the scripts parse */
	printf("PKTCHECK mode=%s size=%u queues=%u flows=%u streams=%u sent=%" PRIu64
	       " received=%" PRIu64 " lost=%" PRIu64 " dup=%" PRIu64 " corrupt=%" PRIu64
	       " reordered=%" PRIu64 " foreign=%" PRIu64 " misrouted=%" PRIu64 " badchain=%" PRIu64
	       " probes=%" PRIu64 " tx_max_segs=%" PRIu64 " rx_max_segs=%" PRIu64
	       " secs=%.3f pps=%.0f result=%s\n",
	       opts.mode == PC_MODE_PAIR ? "pair" : "loop", opts.size, opts.queues, opts.flows,
	       nb_streams, sent, rx, lost, dup, corrupt, reord, foreign, misrouted, rx_bad_chain,
	       probes_rx, tx_max_segs, rx_max_segs, secs, secs > 0 ? (double)rx / secs : 0.0,
	       pass ? "PASS" : "FAIL");
	fflush(stdout);
	return pass ? 0 : 1;
}

static int
pc_port_setup(uint16_t port)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	struct rte_eth_rxconf rxconf;
	unsigned int q;
	uint16_t buf_size;
	int ret;

	ret = rte_eth_dev_info_get(port, &info);
	if (ret != 0)
		return ret;
	if (opts.queues > info.max_rx_queues || opts.queues > info.max_tx_queues) {
		fprintf(stderr,
			"vd_pktcheck: port %u has %u/%u queues, %u wanted (queues= devarg?)\n",
			port, info.max_rx_queues, info.max_tx_queues, opts.queues);
		return -EINVAL;
	}
	memset(&conf, 0, sizeof(conf));
	/* The MTU is the largest L3 payload: a 9000-byte frame needs 8986. */
	if (opts.size > RTE_ETHER_MAX_LEN - RTE_ETHER_CRC_LEN)
		conf.rxmode.mtu = opts.size - RTE_ETHER_HDR_LEN;
	if (conf.rxmode.mtu > info.max_mtu) {
		fprintf(stderr, "vd_pktcheck: port %u: MTU %u above max %u\n", port,
			conf.rxmode.mtu, info.max_mtu);
		return -EINVAL;
	}
	/* virtio offers SCATTER only with mergeable RX buffers; without it the
	 * RX pool was sized so one buffer holds a whole frame. */
	buf_size = (uint16_t)(rte_pktmbuf_data_room_size(rx_pool) - RTE_PKTMBUF_HEADROOM);
	if ((info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER) && opts.size + 64 > buf_size)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	else if (opts.size > opts.seg_size)
		fprintf(stderr, "vd_pktcheck: port %u: no MULTI_SEGS TX offload\n", port);
	ret = rte_eth_dev_configure(port, (uint16_t)opts.queues, (uint16_t)opts.queues, &conf);
	if (ret != 0) {
		fprintf(stderr, "vd_pktcheck: port %u: configure: %s\n", port, strerror(-ret));
		return ret;
	}
	rxconf = info.default_rxconf;
	rxconf.offloads = conf.rxmode.offloads;
	for (q = 0; q < opts.queues; q++) {
		ret = rte_eth_rx_queue_setup(port, (uint16_t)q, 0, rte_eth_dev_socket_id(port),
					     &rxconf, rx_pool);
		if (ret == 0)
			ret = rte_eth_tx_queue_setup(port, (uint16_t)q, 0,
						     rte_eth_dev_socket_id(port), NULL);
		if (ret != 0) {
			fprintf(stderr, "vd_pktcheck: port %u queue %u setup: %s\n", port, q,
				strerror(-ret));
			return ret;
		}
	}
	ret = rte_eth_dev_start(port);
	if (ret != 0) {
		fprintf(stderr, "vd_pktcheck: port %u: start: %s\n", port, strerror(-ret));
		return ret;
	}
	if (opts.verbose)
		printf("port %u (%s): queues=%u mtu=%u rx_offloads=0x%" PRIx64
		       " tx_offloads=0x%" PRIx64 " rx_buf=%u\n",
		       port, info.driver_name, opts.queues, conf.rxmode.mtu, conf.rxmode.offloads,
		       conf.txmode.offloads, buf_size);
	return 0;
}

static void
pc_usage(const char *prog)
{
	printf("usage: %s [EAL args] -- [options]\n"
	       "  --mode pair|loop      pair: send on port 0, receive on port 1 (default);\n"
	       "                        loop: send and receive on port 0\n"
	       "  --bidir               pair: also send port 1 -> port 0 at the same time\n"
	       "  --size N              frame length in bytes, %u..%u (default 64)\n"
	       "  --count N             data frames per stream (default 1000)\n"
	       "  --rate PPS            frames per second over all streams (default 0 = max)\n"
	       "  --queues N            queue pairs per port (default 1)\n"
	       "  --flows N             flows spread over the queues (default 4 x queues)\n"
	       "  --burst N             TX burst (default 32)\n"
	       "  --window N            at most N frames in flight per stream (default 0 = off)\n"
	       "  --seg-size N          TX segment size; longer frames are chained (default 2048)\n"
	       "  --nb-mbufs N          mbufs per pool (default: from ports and queues)\n"
	       "  --max-loss PCT        allowed loss in percent (default 0)\n"
	       "  --allow-reorder       do not fail on reordering within a flow\n"
	       "  --allow-foreign       ignore frames that are not ours (kernel TAP chatter)\n"
	       "  --timeout S           give up after S seconds (default 30)\n"
	       "  --link-timeout S      wait S seconds for the probes (default 10)\n"
	       "  --drain-ms MS         stop once nothing arrived for MS ms (default 500)\n"
	       "  --no-probe            skip the probe phase\n"
	       "  --inject KIND:N       self-test: corrupt, dup or drop frame N of stream 0\n"
	       "  --verbose\n"
	       "Exit: 0 all intact, 1 check failed, 2 usage or setup error.\n",
	       prog, PC_MIN_FRAME, PC_MAX_FRAME);
}

static int
pc_parse_uint(const char *arg, const char *name, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 0);
	if (errno != 0 || *end != '\0' || arg[0] == '-' || v < min || v > max) {
		fprintf(stderr, "vd_pktcheck: --%s: '%s' is not in %" PRIu64 "..%" PRIu64 "\n",
			name, arg, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* --inject corrupt:N | dup:N | drop:N */
static int
pc_parse_inject(const char *arg)
{
	static const struct {
		const char *name;
		int kind;
	} kinds[] = {
	    {"corrupt:", PC_INJECT_CORRUPT}, {"dup:", PC_INJECT_DUP}, {"drop:", PC_INJECT_DROP}};
	unsigned int i;
	size_t n;

	for (i = 0; i < RTE_DIM(kinds); i++) {
		n = strlen(kinds[i].name);
		if (strncmp(arg, kinds[i].name, n) == 0) {
			opts.inject = kinds[i].kind;
			return pc_parse_uint(arg + n, "inject", 0, UINT32_MAX, &opts.inject_idx);
		}
	}
	fprintf(stderr, "vd_pktcheck: --inject: want corrupt:N, dup:N or drop:N\n");
	return -EINVAL;
}

static int
pc_parse_args(int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"mode", 1, NULL, 'm'},          {"bidir", 0, NULL, 'B'},
	    {"size", 1, NULL, 's'},          {"count", 1, NULL, 'c'},
	    {"rate", 1, NULL, 'r'},          {"queues", 1, NULL, 'q'},
	    {"flows", 1, NULL, 'f'},         {"burst", 1, NULL, 'b'},
	    {"window", 1, NULL, 'w'},        {"seg-size", 1, NULL, 'g'},
	    {"nb-mbufs", 1, NULL, 'n'},      {"max-loss", 1, NULL, 'l'},
	    {"allow-reorder", 0, NULL, 'R'}, {"allow-foreign", 0, NULL, 'F'},
	    {"timeout", 1, NULL, 't'},       {"link-timeout", 1, NULL, 'L'},
	    {"drain-ms", 1, NULL, 'd'},      {"no-probe", 0, NULL, 'P'},
	    {"verbose", 0, NULL, 'v'},       {"help", 0, NULL, 'h'},
	    {"inject", 1, NULL, 'I'},        {NULL, 0, NULL, 0},
	};
	uint64_t v;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		v = 0;
		switch (c) {
		case 'm':
			if (strcmp(optarg, "pair") == 0)
				opts.mode = PC_MODE_PAIR;
			else if (strcmp(optarg, "loop") == 0)
				opts.mode = PC_MODE_LOOP;
			else
				return -EINVAL;
			break;
		case 'B':
			opts.bidir = true;
			break;
		case 's':
			if (pc_parse_uint(optarg, "size", PC_MIN_FRAME, PC_MAX_FRAME, &v))
				return -EINVAL;
			opts.size = (unsigned int)v;
			break;
		case 'c':
			if (pc_parse_uint(optarg, "count", 1, 1ull << 32, &v))
				return -EINVAL;
			opts.count = v;
			break;
		case 'r':
			if (pc_parse_uint(optarg, "rate", 0, 100000000, &v))
				return -EINVAL;
			opts.rate = v;
			break;
		case 'q':
			if (pc_parse_uint(optarg, "queues", 1, PC_MAX_QUEUES, &v))
				return -EINVAL;
			opts.queues = (unsigned int)v;
			break;
		case 'f':
			if (pc_parse_uint(optarg, "flows", 1, RTE_DIM(flow_queue), &v))
				return -EINVAL;
			opts.flows = (unsigned int)v;
			break;
		case 'b':
			if (pc_parse_uint(optarg, "burst", 1, PC_MAX_BURST, &v))
				return -EINVAL;
			opts.burst = (unsigned int)v;
			break;
		case 'w':
			if (pc_parse_uint(optarg, "window", 0, 1u << 20, &v))
				return -EINVAL;
			opts.window = (unsigned int)v;
			break;
		case 'g':
			if (pc_parse_uint(optarg, "seg-size", 64, 16384, &v))
				return -EINVAL;
			opts.seg_size = (unsigned int)v;
			break;
		case 'n':
			if (pc_parse_uint(optarg, "nb-mbufs", 512, 1u << 20, &v))
				return -EINVAL;
			opts.nb_mbufs = (unsigned int)v;
			break;
		case 'l':
			opts.max_loss_pct = strtod(optarg, &end);
			if (*end != '\0' || opts.max_loss_pct < 0 || opts.max_loss_pct > 100) {
				fprintf(stderr, "vd_pktcheck: --max-loss: bad percentage\n");
				return -EINVAL;
			}
			break;
		case 'R':
			opts.allow_reorder = true;
			break;
		case 'F':
			opts.allow_foreign = true;
			break;
		case 't':
			if (pc_parse_uint(optarg, "timeout", 1, 3600, &v))
				return -EINVAL;
			opts.timeout_s = (unsigned int)v;
			break;
		case 'L':
			if (pc_parse_uint(optarg, "link-timeout", 1, 3600, &v))
				return -EINVAL;
			opts.link_timeout_s = (unsigned int)v;
			break;
		case 'd':
			if (pc_parse_uint(optarg, "drain-ms", 10, 60000, &v))
				return -EINVAL;
			opts.drain_ms = (unsigned int)v;
			break;
		case 'P':
			opts.no_probe = true;
			break;
		case 'v':
			opts.verbose = true;
			break;
		case 'I':
			if (pc_parse_inject(optarg) != 0)
				return -EINVAL;
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vd_pktcheck: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (opts.flows == 0)
		opts.flows = 4 * opts.queues;
	if (opts.flows < opts.queues) {
		fprintf(stderr, "vd_pktcheck: --flows must be >= --queues\n");
		return -EINVAL;
	}
	if (opts.mode == PC_MODE_LOOP && opts.bidir) {
		fprintf(stderr, "vd_pktcheck: --bidir needs --mode pair\n");
		return -EINVAL;
	}
	return 0;
}

/* Pin flows to queues by hash; fall back to round robin if the hash leaves a
 * queue without a flow, since then that queue would go untested. */
static void
pc_flows_to_queues(void)
{
	unsigned int used[PC_MAX_QUEUES] = {0}, f, q;
	bool all = true;

	for (f = 0; f < opts.flows; f++) {
		flow_queue[f] = (uint16_t)(pc_mix32(f + 1) % opts.queues);
		used[flow_queue[f]]++;
	}
	for (q = 0; q < opts.queues; q++)
		all = all && used[q] > 0;
	if (!all)
		for (f = 0; f < opts.flows; f++)
			flow_queue[f] = (uint16_t)(f % opts.queues);
}

static int
pc_setup_streams(void)
{
	unsigned int s, i;
	size_t words = (opts.count + 63) / 64;

	nb_streams = opts.mode == PC_MODE_PAIR && opts.bidir ? 2 : 1;
	for (s = 0; s < nb_streams; s++) {
		streams[s].tx_port = opts.mode == PC_MODE_LOOP ? ports[0] : ports[s];
		streams[s].rx_port = opts.mode == PC_MODE_LOOP ? ports[0] : ports[1 - s];
		streams[s].seen = calloc(words, sizeof(uint64_t));
		streams[s].last_seq = malloc(opts.flows * sizeof(int64_t));
		if (streams[s].seen == NULL || streams[s].last_seq == NULL)
			return -ENOMEM;
		for (i = 0; i < opts.flows; i++)
			streams[s].last_seq[i] = -1;
	}
	return 0;
}

static int
pc_setup_pools(void)
{
	unsigned int rx_room, n, n_tx, segs;

	/* Every RX ring is filled with mbufs at start (virtio: up to 1024 per
	 * queue); TX needs room for the staged frames and the TX rings. */
	n = opts.nb_mbufs ? opts.nb_mbufs : nb_ports * opts.queues * 1024 + 1024;
	/* DPDK 22.11's packed-ring virtio TX frees sent mbufs only when a ring
	 * runs out of free slots, and an indirect table puts a whole chain of
	 * up to 7 segments behind one slot: a full TX ring holds ring size x
	 * segments mbufs. A smaller pool deadlocks the sender (no mbuf to send,
	 * so no send that would trigger the cleanup): g2g, 2 queues, 9000 B. */
	segs = (opts.size + opts.seg_size - 1) / opts.seg_size;
	n_tx = opts.nb_mbufs ? opts.nb_mbufs : nb_ports * opts.queues * 1024 * segs + 1024;
	/* Without scatter (no mergeable buffers) one RX buffer must hold a frame
	 * plus the virtio-net header and a VLAN tag. */
	rx_room = RTE_MBUF_DEFAULT_DATAROOM;
	if (opts.size + 64 > RTE_MBUF_DEFAULT_DATAROOM) {
		uint16_t p;
		bool scatter = true;

		for (p = 0; p < nb_ports; p++) {
			struct rte_eth_dev_info info;

			if (rte_eth_dev_info_get(ports[p], &info) != 0 ||
			    !(info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER))
				scatter = false;
		}
		if (!scatter)
			rx_room = RTE_ALIGN_CEIL(opts.size + 64, 1024);
	}
	rx_pool = rte_pktmbuf_pool_create(
	    "pc_rx", n, 256, 0, (uint16_t)(rx_room + RTE_PKTMBUF_HEADROOM), (int)rte_socket_id());
	tx_pool = rte_pktmbuf_pool_create("pc_tx", n_tx, 256, 0,
					  RTE_MBUF_DEFAULT_DATAROOM + RTE_PKTMBUF_HEADROOM,
					  (int)rte_socket_id());
	if (rx_pool == NULL || tx_pool == NULL) {
		fprintf(stderr, "vd_pktcheck: mbuf pools (%u x %u B): %s\n", n, rx_room,
			rte_strerror(rte_errno));
		return -ENOMEM;
	}
	if (opts.verbose)
		printf("pools: %u rx / %u tx mbufs, rx data room %u, tx segment %u\n", n, n_tx,
		       rx_room, opts.seg_size);
	return 0;
}

int
main(int argc, char **argv)
{
	uint64_t t0;
	uint16_t p;
	int ret, rc = 2;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "vd_pktcheck: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	argc -= ret;
	argv += ret;
	argv[0] = (char *)(uintptr_t) "vd_pktcheck";
	if (pc_parse_args(argc, argv) != 0) {
		pc_usage("vd_pktcheck");
		goto out_eal;
	}
	signal(SIGINT, pc_on_signal);
	signal(SIGTERM, pc_on_signal);
	run_id = (uint32_t)rte_rand();

	nb_ports = opts.mode == PC_MODE_PAIR ? 2 : 1;
	if (rte_eth_dev_count_avail() < nb_ports) {
		fprintf(stderr, "vd_pktcheck: mode %s needs %u ports, %u found (--vdev?)\n",
			opts.mode == PC_MODE_PAIR ? "pair" : "loop", nb_ports,
			rte_eth_dev_count_avail());
		goto out_eal;
	}
	nb_ports = 0;
	RTE_ETH_FOREACH_DEV(p) {
		if (nb_ports < (opts.mode == PC_MODE_PAIR ? 2u : 1u))
			ports[nb_ports++] = p;
	}
	if (pc_setup_pools() != 0 || pc_setup_streams() != 0)
		goto out_eal;
	pc_flows_to_queues();
	for (p = 0; p < nb_ports; p++)
		if (pc_port_setup(ports[p]) != 0)
			goto out_ports;

	if (!opts.no_probe && pc_probe() != 0)
		goto out_ports;
	t0 = rte_get_timer_cycles();
	pc_run();
	rc = pc_summary((double)(rte_get_timer_cycles() - t0) / (double)rte_get_timer_hz());

out_ports:
	for (p = 0; p < nb_ports; p++) {
		rte_eth_dev_stop(ports[p]);
		rte_eth_dev_close(ports[p]);
	}
out_eal:
	rte_eal_cleanup();
	return rc;
}
