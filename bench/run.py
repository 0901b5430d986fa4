#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""vhostd throughput benchmark: vhostd against DPDK's rte_vhost, same harness.

The guest side is DPDK's virtio-user in dpdk-testpmd on one core; the backend
runs on the other core and is either DPDK's own vhost library (testpmd with
net_vhost: arm "rte_vhost") or ours (arm "vhostd": testpmd loading the
net_vhostd plugin, or the vhostd daemon with a generated config).

Launches alternate A B A B ... because on these machines one launch of the
same binary lands in a fast or a slow mode (2-5x apart) that stays put for the
life of the process. Each launch sweeps every scenario of one ring layout /
mrg_rxbuf / queue-pair configuration at runtime (testpmd commands), so all
figures of one launch share its mode; a launch is then classified fast or
slow, and the ratio is reported both within the fast mode and as the median
of the per-round paired ratios.

Counters are read over a steady-state window (snapshot after warm-up,
snapshot after the window, deltas), on both sides. Only python3's standard
library is used. See bench/README.md for the definitions.
"""

import argparse
import atexit
import csv
import datetime
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

SCENARIOS = ("loopback", "guest_tx", "guest_rx")
SIZES = (64, 512, 1518, 9000)
# Segment length of the generator's mbufs: testpmd's default data room.
SEG_MAX = 2048

LIVE = []  # processes to reap on any exit


def reap_all():
	for p in list(LIVE):
		p.kill()


atexit.register(reap_all)


def on_signal(signum, _frame):
	reap_all()
	sys.exit(128 + signum)


class Proc:
	"""One process (testpmd or vhostd) with its stdout captured in memory and on disk."""

	def __init__(self, name, argv, log_path, interactive=True):
		self.name = name
		self.argv = argv
		self.buf = ""
		self.lock = threading.Lock()
		self.log = open(log_path, "w")
		self.log.write("# " + " ".join(argv) + "\n")
		# stdbuf: testpmd's stdout through a pipe is block-buffered until exit.
		self.p = subprocess.Popen(["stdbuf", "-oL", "-eL"] + argv,
					  stdin=subprocess.PIPE if interactive else subprocess.DEVNULL,
					  stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
					  start_new_session=True)
		LIVE.append(self)
		self.th = threading.Thread(target=self._reader, daemon=True)
		self.th.start()

	def _reader(self):
		fd = self.p.stdout.fileno()
		while True:
			try:
				d = os.read(fd, 65536)
			except OSError:
				break
			if not d:
				break
			s = d.decode(errors="replace")
			with self.lock:
				self.buf += s
			self.log.write(s)
		self.log.flush()

	def size(self):
		with self.lock:
			return len(self.buf)

	def alive(self):
		return self.p.poll() is None

	def wait_for(self, pat, start=0, timeout=20.0):
		end = time.time() + timeout
		while time.time() < end:
			with self.lock:
				m = re.search(pat, self.buf[start:])
			if m:
				return m
			if not self.alive():
				time.sleep(0.1)
				with self.lock:
					return re.search(pat, self.buf[start:])
			time.sleep(0.01)
		return None

	def cmd(self, c, timeout=10.0):
		"""Send one testpmd command, return its output (up to the next prompt)."""
		n = self.size()
		try:
			self.p.stdin.write((c + "\n").encode())
			self.p.stdin.flush()
		except (BrokenPipeError, OSError):
			raise RuntimeError(f"{self.name}: died (command {c!r})")
		end = time.time() + timeout
		while time.time() < end:
			with self.lock:
				out = self.buf[n:]
			# The prompt is echoed before the command, and printed again after its output.
			i = out.find(c)
			if i >= 0 and out.rstrip().endswith("testpmd>") and out.rfind("testpmd>") > i:
				return out
			if not self.alive():
				raise RuntimeError(f"{self.name}: died (command {c!r})")
			time.sleep(0.005)
		raise RuntimeError(f"{self.name}: no prompt after {c!r}")

	def kill(self):
		"""Quit politely, then SIGKILL our own process group by its id."""
		if self in LIVE:
			LIVE.remove(self)
		if self.alive() and self.p.stdin:
			try:
				self.p.stdin.write(b"quit\n")
				self.p.stdin.flush()
				self.p.stdin.close()
			except OSError:
				pass
		elif self.alive():
			try:
				os.kill(self.p.pid, signal.SIGINT)
			except ProcessLookupError:
				pass
		try:
			self.p.wait(8)
		except subprocess.TimeoutExpired:
			try:
				os.killpg(self.p.pid, signal.SIGKILL)
			except ProcessLookupError:
				pass
			self.p.wait(5)
		self.th.join(2)
		self.log.close()


# ---------------------------------------------------------------- parsing

def parse_port_stats(out):
	"""Sum `show port stats all` over ports: counters and testpmd's own pps."""
	keys = {"RX-packets": "rx", "RX-missed": "rx_missed", "RX-errors": "rx_err",
		"RX-bytes": "rx_bytes", "TX-bytes": "tx_bytes",
		"RX-nombuf": "rx_nombuf", "TX-packets": "tx", "TX-errors": "tx_err",
		"Rx-pps": "rx_pps", "Tx-pps": "tx_pps"}
	st = {v: 0 for v in keys.values()}
	for k, v in keys.items():
		for m in re.finditer(re.escape(k) + r":\s+(\d+)", out):
			st[v] += int(m.group(1))
	return st


def parse_fwd_stats(out):
	"""`show fwd stats all`: accumulated fwd counters and RX burst counts."""
	st = {"fwd_rx": 0, "fwd_tx": 0, "fwd_txdrop": 0, "rx_bursts": 0, "tx_bursts": 0}
	m = re.search(r"Accumulated forward statistics.*?RX-packets:\s+(\d+).*?TX-packets:\s+(\d+)\s+"
		      r"TX-dropped:\s+(\d+)", out, re.S)
	if m:
		st["fwd_rx"], st["fwd_tx"], st["fwd_txdrop"] = (int(x) for x in m.groups())
	for m in re.finditer(r"RX-bursts\s*:\s*(\d+)", out):
		st["rx_bursts"] += int(m.group(1))
	for m in re.finditer(r"TX-bursts\s*:\s*(\d+)", out):
		st["tx_bursts"] += int(m.group(1))
	return st


def fwd_tid(tp):
	"""Thread id of the forwarding lcore (EAL 22.11 names it rte-worker-N)."""
	if getattr(tp, "tid", None):
		return tp.tid
	base = f"/proc/{tp.p.pid}/task"
	for tid in os.listdir(base):
		try:
			with open(f"{base}/{tid}/comm") as f:
				if f.read().startswith(("rte-worker", "lcore-worker")):
					tp.tid = tid
					return tid
		except OSError:
			pass
	return None


def sched_ns(tp):
	"""(ns on a CPU, ns runnable but waiting) of the forwarding thread."""
	tid = fwd_tid(tp)
	try:
		with open(f"/proc/{tp.p.pid}/task/{tid}/schedstat") as f:
			run, wait = f.read().split()[:2]
			return int(run), int(wait)
	except (OSError, ValueError, TypeError):
		return 0, 0


def snapshot(tp):
	run_ns, wait_ns = sched_ns(tp)
	t0 = time.monotonic()
	ps = parse_port_stats(tp.cmd("show port stats all"))
	t1 = time.monotonic()
	ps["run_ns"], ps["wait_ns"] = run_ns, wait_ns
	fs = parse_fwd_stats(tp.cmd("show fwd stats all"))
	ps.update(fs)
	ps["t"] = t0
	return ps


def delta(a, b):
	d = {k: b[k] - a[k] for k in a if k not in ("rx_pps", "tx_pps")}
	# Share of the window the forwarding thread was on a CPU: other tenants of
	# this shared machine steal time from busy-polling threads.
	d["cpu"] = d["run_ns"] / 1e9 / d["t"] if d["t"] > 0 else 0.0
	d["steal"] = d["wait_ns"] / 1e9 / d["t"] if d["t"] > 0 else 0.0
	return d


# ---------------------------------------------------------------- launches

class Config:
	"""One launch configuration: what needs new processes to change."""

	def __init__(self, ring, mrg, queues):
		self.ring, self.mrg, self.queues = ring, mrg, queues

	def key(self):
		return f"{self.ring}-mrg{'on' if self.mrg else 'off'}-{self.queues}q"


class Arm:
	"""A backend under test: 'rte_vhost' (baseline) or 'vhostd'."""

	def __init__(self, name, kind, args):
		self.name = name
		self.kind = kind  # net_vhost | pmd | daemon
		self.args = args
		self.plugin = None  # kind "pmd": the plugin copy this arm loads


def eal_common(args, prefix, huge=True):
	mem = ["--in-memory", "--single-file-segments"] if huge else ["--no-huge"]
	return ["--no-pci"] + mem + ["-m", str(args.mem), "--file-prefix", prefix,
				    "--log-level", "*:notice"]


def testpmd_app_args(args, cfg):
	q = str(cfg.queues)
	# One forwarding core polls every queue: the brief is "one forwarding core".
	return ["--", "-i", "--nb-cores", "1", "--rxq", q, "--txq", q,
		"--rxd", str(args.ring_size), "--txd", str(args.ring_size),
		"--total-num-mbufs", str(args.mbufs), "--record-burst-stats",
		"--forward-mode", "io"]


def launch_backend(arm, cfg, args, sock, tag, logdir):
	prefix = f"vdb-{os.getpid()}-{tag}-be"
	log = os.path.join(logdir, f"{tag}-{arm.name}-be.log")
	q = cfg.queues
	# profile.py runs the backend under valgrind: no huge pages there.
	wrap = getattr(args, "wrap", [])
	huge = not wrap
	if arm.kind == "net_vhost":
		vdev = f"net_vhost0,iface={sock},queues={q}"
		argv = wrap + ["dpdk-testpmd", "--lcores", "0@0,1@1"] + eal_common(args, prefix, huge) + \
		       ["--vdev", vdev] + testpmd_app_args(args, cfg)
	elif arm.kind == "pmd":
		so = arm.plugin or args.plugin
		vdev = f"net_vhostd0,iface={sock},queues={q}"
		argv = wrap + ["dpdk-testpmd", "--lcores", "0@0,1@1", "-d", so] + \
		       eal_common(args, prefix, huge) + \
		       ["--vdev", vdev] + testpmd_app_args(args, cfg)
	else:
		raise RuntimeError(f"unknown backend kind {arm.kind}")
	be = Proc(f"{arm.name}-be", argv, log)
	if not be.wait_for(r"testpmd> ", 0, 30 if not wrap else 300):
		be.kill()
		raise RuntimeError(f"{arm.name} backend did not start, see {log}")
	return be


def frontend_testpmd(args):
	"""The guest side's testpmd: Debian's, or one installed under --frontend-dpdk PREFIX
	(a DPDK built with symbols, so a profile of the guest side names its functions)."""
	prefix = getattr(args, "frontend_dpdk", None)
	if not prefix:
		return ["dpdk-testpmd"]
	libdir = os.path.join(prefix, "lib", "x86_64-linux-gnu")
	return ["env", f"LD_LIBRARY_PATH={libdir}", os.path.join(prefix, "bin", "dpdk-testpmd")]


def launch_frontend(cfg, args, sock, tag, arm_name, logdir):
	prefix = f"vdb-{os.getpid()}-{tag}-fe"
	log = os.path.join(logdir, f"{tag}-{arm_name}-fe.log")
	vdev = (f"net_virtio_user0,path={sock},queues={cfg.queues},queue_size={args.ring_size},"
		f"packed_vq={1 if cfg.ring == 'packed' else 0},mrg_rxbuf={1 if cfg.mrg else 0},"
		f"in_order={getattr(args, 'in_order', 0)}")
	argv = frontend_testpmd(args) + ["--lcores", "0@1,1@0"] + eal_common(args, prefix) + \
	       ["--vdev", vdev] + testpmd_app_args(args, cfg)
	fe = Proc(f"{arm_name}-fe", argv, log)
	if not fe.wait_for(r"testpmd> ", 0, 30):
		fe.kill()
		raise RuntimeError(f"frontend did not start, see {log}")
	bad = re.search(r"Failed to start device|Too many memory regions|Failed to set memory table",
			fe.buf)
	if bad:
		fe.kill()
		raise RuntimeError(f"frontend: {bad.group(0)}, see {log}")
	return fe


def wait_link(tp, timeout=10.0):
	end = time.time() + timeout
	while time.time() < end:
		if re.search(r"Link status:\s+up", tp.cmd("show port info 0")):
			return True
		time.sleep(0.1)
	return False


def txpkts(size):
	segs = []
	left = size
	while left > 0:
		segs.append(min(left, SEG_MAX))
		left -= segs[-1]
	return ",".join(str(s) for s in segs)


def measure(be, fe, scen, size, args):
	"""Run one scenario on a live pair and return its window figures."""
	for tp in (be, fe):
		tp.cmd("stop")
		tp.cmd(f"set txpkts {txpkts(size)}")
	if scen == "loopback":
		be.cmd("set fwd io")
		fe.cmd("set fwd io")
		be.cmd("start")
		fe.cmd(f"start tx_first {args.tx_first}")
		gen, sink = None, be
	elif scen == "guest_tx":
		be.cmd("set fwd rxonly")
		fe.cmd("set fwd txonly")
		be.cmd("start")
		fe.cmd("start")
		gen, sink = fe, be
	else:
		fe.cmd("set fwd rxonly")
		be.cmd("set fwd txonly")
		fe.cmd("start")
		be.cmd("start")
		gen, sink = be, fe
	time.sleep(args.warmup)
	for tp in (be, fe):
		tp.cmd("clear fwd stats all")
	a = {"be": snapshot(be), "fe": snapshot(fe)}
	time.sleep(args.window)
	b = {"be": snapshot(be), "fe": snapshot(fe)}
	d = {s: delta(a[s], b[s]) for s in a}
	# Drain whatever is still in the rings so the next scenario starts empty.
	for tp in (be, fe):
		tp.cmd("stop")
	for tp in (be, fe):
		tp.cmd("set fwd rxonly")
		tp.cmd("start")
	time.sleep(0.2)
	for tp in (be, fe):
		tp.cmd("stop")

	side = "be" if sink is be else "fe"
	dt = b[side]["t"] - a[side]["t"]
	# testpmd's own rate over the window (TSC-timed, "since last show"), else ours.
	rate = b[side]["rx_pps"] if b[side]["rx_pps"] > 0 else d[side]["rx"] / dt
	r = {"mpps": rate / 1e6, "window_s": round(dt, 3)}
	r["sink_bytes_per_pkt"] = round(d[side]["rx_bytes"] / d[side]["rx"], 1) if d[side]["rx"] else 0
	# A sink that sees other lengths than were sent means a datapath bug, not a rate.
	# (0.1 % slack: the frontend's mergeable RX can count a packet and its bytes a
	# poll apart, on both arms.)
	r["bad_len"] = int(d[side]["rx"] > 0 and abs(r["sink_bytes_per_pkt"] - size) > size * 1e-3)
	r["be_cpu"] = round(d["be"]["cpu"], 3)
	r["fe_cpu"] = round(d["fe"]["cpu"], 3)
	r["be_steal"] = round(d["be"]["steal"], 3)
	r["fe_steal"] = round(d["fe"]["steal"], 3)
	for s in ("be", "fe"):
		for k in ("rx", "tx", "rx_missed", "rx_err", "rx_nombuf", "tx_err", "fwd_txdrop",
			  "rx_bursts"):
			r[f"{s}_{k}"] = d[s][k]
		r[f"{s}_rx_burst_avg"] = round(d[s]["fwd_rx"] / d[s]["rx_bursts"], 2) \
			if d[s]["rx_bursts"] else 0.0
	# Generator ring-full drops are back-pressure (never entered a ring); everything
	# else is loss: packets a side received but could not forward, or could not take.
	loss = 0
	for s in ("be", "fe"):
		loss += d[s]["rx_missed"] + d[s]["rx_err"] + d[s]["rx_nombuf"] + d[s]["tx_err"]
		if gen is None or (s == "be") != (gen is be):
			loss += d[s]["fwd_txdrop"]
	r["loss"] = loss
	if gen is not None:
		g = "be" if gen is be else "fe"
		sent, full = d[g]["fwd_tx"], d[g]["fwd_txdrop"]
		r["gen_full_pct"] = round(100.0 * full / (sent + full), 2) if sent + full else 0.0
		# A generator that often finds the ring full is waiting for the consumer.
		cons = "fe" if g == "be" else "be"
		r["limit"] = cons if r["gen_full_pct"] > args.full_threshold else g
	else:
		r["gen_full_pct"] = 0.0
		# Fixed population: the side whose RX bursts come back fuller has a backlog.
		r["limit"] = "be" if r["be_rx_burst_avg"] >= r["fe_rx_burst_avg"] else "fe"
	# Mpps per CPU-second of the limiting side's forwarding thread: an estimate of
	# the rate it would reach with its core to itself (other tenants steal time).
	lcpu = r[f"{r['limit']}_cpu"]
	r["mpps_per_cpu"] = round(r["mpps"] / lcpu, 4) if lcpu > 0.05 else 0.0
	r["clean"] = int(min(r["be_cpu"], r["fe_cpu"]) >= args.clean_cpu)
	return r


def daemon_conf(args, cfg, scen, size, sock, prefix):
	"""vhostd config: the guest's port linked to a null port that drops (guest TX)
	or generates size-byte frames (guest RX). vd_cfg refuses a port linked to
	itself, so the daemon has no loopback scenario."""
	gen = "no-rx=1" if scen == "guest_tx" else f"size={size}"
	return "\n".join([
		"[eal]", "lcores = 0-1", f"file-prefix = {prefix}", "in-memory = yes",
		f"memory = {args.mem}", "args = --single-file-segments",
		"[stats]", "interval = 1",
		"[port vm1]", "type = vhost-user", f"path = {sock}", f"queues = {cfg.queues}",
		"packed = yes", f"mrg-rxbuf = {'yes' if cfg.mrg else 'no'}",
		"[port gen]", "type = vdev", f"vdev = net_null0,{gen}", f"queues = {cfg.queues}",
		"[link l]", "a = vm1", "b = gen", ""])


def daemon_lcore_counters(d):
	"""Last stats block of the daemon: (rx, tx, drop-tx) of gen->vm1 and vm1->gen."""
	with d.lock:
		buf = d.buf
	out = {}
	for m in re.finditer(r"lcore \d+\s+(\w+):\d+ -> (\w+):\d+\s+rx (\d+) tx (\d+) drop-tx (\d+)", buf):
		out[(m.group(1), m.group(2))] = tuple(int(x) for x in m.groups()[2:])
	return out


def run_launch_daemon(arm, cfg, args, rnd, logdir, matrix):
	"""One daemon launch per scenario and size (the config decides the traffic)."""
	rows = []
	for scen, size in matrix:
		if scen == "loopback" or (scen == "guest_rx" and size > SEG_MAX):
			continue  # no self link; net_null frames must fit one mbuf
		tag = f"r{rnd}-{cfg.key()}-{scen}-{size}"
		sock = os.path.join(logdir, f"{tag}-{arm.name}.sock")
		conf = os.path.join(logdir, f"{tag}.conf")
		with open(conf, "w") as f:
			f.write(daemon_conf(args, cfg, scen, size, sock, f"vdb-{os.getpid()}-{tag}-be"))
		be = fe = None
		try:
			be = Proc(f"{arm.name}-be", [args.daemon, "-c", conf],
				  os.path.join(logdir, f"{tag}-{arm.name}-be.log"), interactive=False)
			if not be.wait_for(r"vhostd: running", 0, 30):
				raise RuntimeError("vhostd did not start")
			fe = launch_frontend(cfg, args, sock, tag, arm.name, logdir)
			if not (wait_link(fe) and be.wait_for(r"port vm1: up", 0, 10)):
				raise RuntimeError("link did not come up")
			fe.cmd(f"set txpkts {txpkts(size)}")
			fe.cmd("set fwd " + ("txonly" if scen == "guest_tx" else "rxonly"))
			fe.cmd("start")
			time.sleep(args.warmup)
			fe.cmd("clear fwd stats all")
			a, ca, ra = snapshot(fe), daemon_lcore_counters(be), sched_ns(be)
			time.sleep(args.window)
			b, cb, rb = snapshot(fe), daemon_lcore_counters(be), sched_ns(be)
			fe.cmd("show port xstats all")
			d = delta(a, b)
			r = {"round": rnd, "arm": arm.name, "backend": arm.kind, "ring": cfg.ring,
			     "mrg": int(cfg.mrg), "queues": cfg.queues, "scenario": scen, "size": size,
			     "window_s": round(d["t"], 3), "launch": tag}
			pps = b["tx_pps"] if scen == "guest_tx" else b["rx_pps"]
			r["mpps"] = (pps if pps > 0 else
				     (d["tx"] if scen == "guest_tx" else d["rx"]) / d["t"]) / 1e6
			r["be_cpu"] = round((rb[0] - ra[0]) / 1e9 / d["t"], 3)
			r["fe_cpu"] = round(d["cpu"], 3)
			r["be_steal"] = round((rb[1] - ra[1]) / 1e9 / d["t"], 3)
			r["fe_steal"] = round(d["steal"], 3)
			r["fe_rx"], r["fe_tx"], r["fe_fwd_txdrop"] = d["rx"], d["tx"], d["fwd_txdrop"]
			r["loss"] = d["rx_missed"] + d["rx_err"] + d["rx_nombuf"] + d["tx_err"]
			if scen == "guest_tx":
				sent, full = d["fwd_tx"], d["fwd_txdrop"]
				r["gen_full_pct"] = round(100.0 * full / (sent + full), 2) if sent + full else 0.0
				r["limit"] = "be" if r["gen_full_pct"] > args.full_threshold else "fe"
				r["sink_bytes_per_pkt"] = round(d["tx_bytes"] / d["tx"], 1) if d["tx"] else 0
			else:
				# The daemon's stats print once a second: a ratio, not a rate.
				k = ("gen", "vm1")
				if k in ca and k in cb:
					tx = cb[k][1] - ca[k][1]
					drop = cb[k][2] - ca[k][2]
					r["gen_full_pct"] = round(100.0 * drop / (tx + drop), 2) if tx + drop else 0.0
				else:
					r["gen_full_pct"] = 0.0
				r["limit"] = "fe" if r["gen_full_pct"] > args.full_threshold else "be"
				r["sink_bytes_per_pkt"] = round(d["rx_bytes"] / d["rx"], 1) if d["rx"] else 0
			r["bad_len"] = int(r["sink_bytes_per_pkt"] > 0 and
					   abs(r["sink_bytes_per_pkt"] - size) > size * 1e-3)
			lcpu = r[f"{r['limit']}_cpu"]
			r["mpps_per_cpu"] = round(r["mpps"] / lcpu, 4) if lcpu > 0.05 else 0.0
			r["clean"] = int(min(r["be_cpu"], r["fe_cpu"]) >= args.clean_cpu)
			rows.append(r)
			if args.verbose:
				print_measurement(arm, cfg, scen, size, r)
		except RuntimeError as e:
			print(f"  !! {arm.name} {cfg.key()} {scen} {size} round {rnd}: {e}", file=sys.stderr,
			      flush=True)
		finally:
			for p in (fe, be):
				if p:
					p.kill()
			if os.path.exists(sock):
				os.unlink(sock)
	return rows


def print_measurement(arm, cfg, scen, size, r):
	print(f"    {arm.name:9} {cfg.key():18} {scen:8} {size:5}  "
	      f"{r['mpps']:7.3f} Mpps  loss={r['loss']} full={r['gen_full_pct']}% "
	      f"limit={r['limit']} cpu be/fe={r['be_cpu']:.2f}/{r['fe_cpu']:.2f} "
	      f"B/pkt={r['sink_bytes_per_pkt']}", flush=True)


def run_launch(arm, cfg, args, rnd, logdir, matrix):
	if arm.kind == "daemon":
		return run_launch_daemon(arm, cfg, args, rnd, logdir, matrix)
	tag = f"r{rnd}-{cfg.key()}"
	sock = os.path.join(logdir, f"{tag}-{arm.name}.sock")
	if os.path.exists(sock):
		os.unlink(sock)
	rows = []
	be = fe = None
	try:
		be = launch_backend(arm, cfg, args, sock, tag, logdir)
		if not be.wait_for(re.escape("testpmd> "), 0, 5):
			raise RuntimeError("backend prompt")
		fe = launch_frontend(cfg, args, sock, tag, arm.name, logdir)
		if not (wait_link(fe) and wait_link(be)):
			raise RuntimeError("link did not come up (frontend or backend)")
		for scen, size in matrix:
			r = measure(be, fe, scen, size, args)
			r.update({"round": rnd, "arm": arm.name, "backend": arm.kind, "ring": cfg.ring,
				  "mrg": int(cfg.mrg), "queues": cfg.queues, "scenario": scen,
				  "size": size, "launch": tag})
			rows.append(r)
			if args.verbose:
				print_measurement(arm, cfg, scen, size, r)
		# Driver counters (error reasons) land in the launch logs for diagnosis.
		for p in (be, fe):
			p.cmd("show port xstats all")
	except RuntimeError as e:
		print(f"  !! {arm.name} {cfg.key()} round {rnd}: {e}", file=sys.stderr, flush=True)
	finally:
		for p in (fe, be):
			if p:
				p.kill()
		if os.path.exists(sock):
			os.unlink(sock)
	return rows


# ---------------------------------------------------------------- statistics

def score_launches(rows):
	"""A launch's score, kept in the raw CSV as launch_score: the median over its
	figures of rate / best rate of that figure for that arm (how fast the launch
	ran as a whole; the fast/slow split is per figure, classify_measurements())."""
	launches = {}
	for r in rows:
		launches.setdefault((r["arm"], r["launch"]), []).append(r)
	best = {}
	for r in rows:
		k = (r["arm"], r["ring"], r["mrg"], r["queues"], r["scenario"], r["size"])
		best[k] = max(best.get(k, 0.0), r["mpps"])
	for lrows in launches.values():
		rel = []
		for r in lrows:
			b = best[(r["arm"], r["ring"], r["mrg"], r["queues"], r["scenario"], r["size"])]
			if b > 0:
				rel.append(r["mpps"] / b)
		v = statistics.median(rel) if rel else 0.0
		for r in lrows:
			r["launch_score"] = round(v, 3)


def classify_measurements(rows):
	"""Mark each measurement fast or slow, per arm and figure.

	The mode is not fixed per launch as first thought: an in-launch A/B (the same
	backend, a flag flipped between windows) showed 4.9 and 16.0 Mpps in two
	windows of one launch with the flag in the same state; it is drawn each time
	forwarding starts. So the split is per figure (arm, ring, mrg, queues,
	scenario, size): its rates sorted, cut at the largest gap if that gap is more
	than 1.4x, above the cut "fast"."""
	groups = {}
	for r in rows:
		k = (r["arm"], r["ring"], r["mrg"], r["queues"], r["scenario"], r["size"])
		groups.setdefault(k, []).append(r)
	for g in groups.values():
		v = sorted(r["mpps"] for r in g)
		cut, gap = 0.0, 1.0
		for lo, hi in zip(v, v[1:]):
			if lo > 0 and hi / lo > gap:
				gap, cut = hi / lo, hi
		if gap < 1.4:
			cut = 0.0
		for r in g:
			r["mode"] = "fast" if r["mpps"] >= cut else "slow"


def read_raw(path):
	"""Rows of a raw CSV written by an earlier run, with their types back."""
	def conv(v):
		if v in ("True", "False"):
			return v == "True"
		for t in (int, float):
			try:
				return t(v)
			except ValueError:
				pass
		return v
	with open(path, newline="") as f:
		return [{k: conv(v) for k, v in r.items()} for r in csv.DictReader(f)]


def med(xs):
	return statistics.median(xs) if xs else float("nan")


def summarize(rows, arms):
	a_name, b_name = arms[0].name, arms[1].name
	groups = {}
	for r in rows:
		groups.setdefault((r["ring"], r["mrg"], r["queues"], r["scenario"], r["size"]), []).append(r)
	out = []
	for k in sorted(groups, key=lambda k: (SCENARIOS.index(k[3]), k[0], -k[1], k[2], k[4])):
		g = groups[k]
		s = {"ring": k[0], "mrg": k[1], "queues": k[2], "scenario": k[3], "size": k[4]}
		by = {}
		for name in (a_name, b_name):
			xs = [r for r in g if r["arm"] == name]
			v = [r["mpps"] for r in xs]
			fast = [r["mpps"] for r in xs if r.get("mode") == "fast"]
			zl = [r["mpps"] for r in xs if r["loss"] == 0]
			clean = [r["mpps"] for r in xs if r["clean"]]
			by_clean = {r["round"]: r["mpps"] for r in xs if r["clean"]}
			lim = [r["limit"] for r in xs]
			tag = "a" if name == a_name else "b"
			s[f"{tag}_n"] = len(v)
			s[f"{tag}_med"] = med(v)
			s[f"{tag}_min"] = min(v) if v else float("nan")
			s[f"{tag}_max"] = max(v) if v else float("nan")
			s[f"{tag}_fast_n"] = len(fast)
			s[f"{tag}_fast_med"] = med(fast)
			s[f"{tag}_clean_n"] = len(clean)
			s[f"{tag}_clean_med"] = med(clean)
			s[f"{tag}_per_cpu_med"] = med([r["mpps_per_cpu"] for r in xs])
			s[f"{tag}_cpu_med"] = med([min(r["be_cpu"], r["fe_cpu"]) for r in xs])
			s[f"{tag}_zeroloss_n"] = len(zl)
			s[f"{tag}_zeroloss_med"] = med(zl)
			s[f"{tag}_loss_med"] = med([r["loss"] for r in xs])
			s[f"{tag}_full_med"] = med([r["gen_full_pct"] for r in xs])
			s[f"{tag}_limit"] = max(set(lim), key=lim.count) if lim else ""
			s[f"{tag}_bad_len"] = sum(r["bad_len"] for r in xs)
			by[name] = {r["round"]: r["mpps"] for r in xs}
			by[name + "/clean"] = by_clean
		paired = [by[b_name][rr] / by[a_name][rr] for rr in by[a_name]
			  if rr in by[b_name] and by[a_name][rr] > 0]
		s["ratio_paired_med"] = med(paired)
		s["ratio_paired_min"] = min(paired) if paired else float("nan")
		s["ratio_paired_max"] = max(paired) if paired else float("nan")
		s["ratio_fast"] = s["b_fast_med"] / s["a_fast_med"] if s["a_fast_med"] > 0 else float("nan")
		ca, cb = by[a_name + "/clean"], by[b_name + "/clean"]
		s["ratio_paired_clean_n"] = len([rr for rr in ca if rr in cb])
		s["ratio_paired_clean_med"] = med([cb[rr] / ca[rr] for rr in ca if rr in cb and ca[rr] > 0])
		s["ratio_per_cpu"] = (s["b_per_cpu_med"] / s["a_per_cpu_med"]
				      if s["a_per_cpu_med"] > 0 else float("nan"))
		out.append(s)
	return out


def fmt(x, p=2):
	if isinstance(x, float) and x != x:
		return "-"
	return f"{x:.{p}f}"


def print_table(summary, arms, f=sys.stdout):
	a, b = arms[0].name, arms[1].name
	hdr = (f"{'scenario':9} {'ring':6} {'mrg':3} {'q':1} {'size':>5} | "
	       f"{a + ' Mpps':>18} {'zl':>6} {'lim':>3} {'full%':>5} | "
	       f"{b + ' Mpps':>18} {'zl':>6} {'lim':>3} {'full%':>5} | "
	       f"{'fast B/A':>8} {'paired B/A (min-max)':>20} {'clean':>9} {'/cpu':>5}")
	print(hdr, file=f)
	print("-" * len(hdr), file=f)
	for s in summary:
		def arm(t):
			rng = f"{fmt(s[t + '_med'])} [{fmt(s[t + '_min'], 1)}-{fmt(s[t + '_max'], 1)}]"
			return (f"{rng:>18} {fmt(s[t + '_zeroloss_med']):>6} {s[t + '_limit']:>3} "
				f"{fmt(s[t + '_full_med'], 0):>5}")
		pr = (f"{fmt(s['ratio_paired_med'])} ({fmt(s['ratio_paired_min'])}-"
		      f"{fmt(s['ratio_paired_max'])})")
		print(f"{s['scenario']:9} {s['ring']:6} {'on' if s['mrg'] else 'off':3} {s['queues']:1} "
		      f"{s['size']:>5} | {arm('a')} | {arm('b')} | {fmt(s['ratio_fast']):>8} {pr:>20} "
		      f"{fmt(s['ratio_paired_clean_med']) + '/' + str(s['ratio_paired_clean_n']):>9} "
		      f"{fmt(s['ratio_per_cpu']):>5}",
		      file=f)
	for s in summary:
		for t, name in (("a", a), ("b", b)):
			if s[t + "_bad_len"]:
				print(f"WARNING: {name} {s['scenario']} {s['ring']} {s['size']} B: the sink saw "
				      f"other frame lengths in {s[t + '_bad_len']} rounds (datapath bug?)",
				      file=f)
			if s[t + "_med"] == 0:
				print(f"WARNING: {name} {s['scenario']} {s['ring']} mrg={s['mrg']} "
				      f"q={s['queues']} {s['size']} B: no traffic at all", file=f)
			if s[t + "_loss_med"]:
				print(f"NOTE: {name} {s['scenario']} {s['ring']} mrg={s['mrg']} q={s['queues']} "
				      f"{s['size']} B: median loss {s[t + '_loss_med']:.0f} packets per window",
				      file=f)
	print(f"Mpps: median [min-max] over rounds of the sink's rate in the window; zl: median over "
	      f"rounds with no loss in the window ('-': none lossless); lim: side that limits (be = "
	      f"backend, fe = virtio-user guest); full%: generator's ring-full share (back-pressure); "
	      f"fast B/A: ratio of medians within the fast mode (per figure: rates split at "
	      f"their largest gap > 1.4x); paired B/A: median of "
	      f"per-round {b}/{a}; clean: paired median over rounds where both forwarding "
	      f"threads had their CPU (/n rounds); /cpu: ratio of Mpps per CPU-second of the "
	      f"limiting side.", file=f)


def write_csv(path, rows):
	if not rows:
		return
	keys = []
	for r in rows:
		for k in r:
			if k not in keys:
				keys.append(k)
	with open(path, "w", newline="") as f:
		w = csv.DictWriter(f, fieldnames=keys)
		w.writeheader()
		for r in rows:
			w.writerow({k: (fmt(v, 4) if isinstance(v, float) else v) for k, v in r.items()})


def plot(summary_csv, png, arms):
	gp = shutil.which("gnuplot")
	if not gp:
		print("gnuplot not found: no PNG", file=sys.stderr)
		return
	# gnuplot reads the summary through an awk-free filtered data file per series.
	tmp = tempfile.mkdtemp(prefix="vdbench-plot-")
	series = []
	with open(summary_csv) as f:
		rows = list(csv.DictReader(f))
	scens = []
	for scen in SCENARIOS:
		have = False
		for ring in ("split", "packed"):
			pts = [r for r in rows if r["scenario"] == scen and r["ring"] == ring and
			       r["mrg"] == "1" and r["queues"] == "1"]
			fn = os.path.join(tmp, f"{scen}-{ring}.dat")
			with open(fn, "w") as g:
				g.write("# size a_med a_min a_max b_med b_min b_max\n")
				for r in sorted(pts, key=lambda r: int(r["size"])):
					vals = [r["a_med"], r["a_min"], r["a_max"], r["b_med"], r["b_min"],
						r["b_max"]]
					g.write(r["size"] + " " + " ".join(v if v != "-" else "NaN"
								      for v in vals) + "\n")
				if not pts:  # gnuplot needs a point to draw the (empty) series
					g.write("64 NaN NaN NaN NaN NaN NaN\n")
			have = have or bool(pts)
			series.append(fn)
		if have:
			scens.append(scen)
	if not scens:
		return
	cmd = [gp, "-e", f"out='{png}'; dir='{tmp}'; aname='{arms[0].name}'; bname='{arms[1].name}'; "
	       f"scens='{' '.join(scens)}'; nscen={len(scens)}",
	       os.path.join(HERE, "plot.gp")]
	r = subprocess.run(cmd, capture_output=True, text=True)
	if r.returncode != 0:
		print("gnuplot failed: " + r.stderr, file=sys.stderr)
	shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- main

def build_plan(args):
	rings = args.rings.split(",")
	mrgs = [m == "on" for m in args.mrg.split(",")]
	queues = [int(q) for q in args.queues.split(",")]
	scens = args.scenarios.split(",")
	sizes = [int(s) for s in args.sizes.split(",")]
	for s in scens:
		if s not in SCENARIOS:
			sys.exit(f"unknown scenario {s}; use {','.join(SCENARIOS)}")
	plan = []
	for ring in rings:
		for mrg in mrgs:
			for q in queues:
				cfg = Config(ring, mrg, q)
				matrix = []
				for scen in scens:
					for size in sizes:
						# Without mrg_rxbuf a guest posts one 2 KiB buffer per
						# packet: a jumbo frame cannot be received at all.
						if not mrg and size > SEG_MAX and scen != "guest_tx":
							continue
						# mrg_rxbuf changes only the RX side.
						if not mrg and scen == "guest_tx" and True in mrgs:
							continue
						matrix.append((scen, size))
				if matrix:
					plan.append((cfg, matrix))
	return plan


def selftest():
	"""The statistics on synthetic launches with known modes and a known ratio."""
	import random
	rnd_gen = random.Random(6)
	rows = []
	slow = {"rte_vhost": {1, 4, 5}, "vhostd": {2, 4}}
	for rnd in range(8):
		for arm, base in (("rte_vhost", 10.0), ("vhostd", 12.0)):
			f = 0.33 if rnd in slow[arm] else 1.0
			for scen, k in (("loopback", 1.0), ("guest_tx", 0.7)):
				rows.append({"arm": arm, "round": rnd, "launch": f"r{rnd}", "ring": "split",
					     "mrg": 1, "queues": 1, "scenario": scen, "size": 64,
					     "mpps": base * k * f * rnd_gen.uniform(0.98, 1.02),
					     "loss": 0 if rnd else 5, "gen_full_pct": 0.0, "limit": "be",
					     "clean": int(rnd % 2 == 0), "mpps_per_cpu": 1.0,
					     "be_cpu": 1.0, "fe_cpu": 1.0, "bad_len": 0})
	score_launches(rows)
	classify_measurements(rows)
	for r in rows:
		want = "slow" if r["round"] in slow[r["arm"]] else "fast"
		assert r["mode"] == want, (r["arm"], r["round"], r["mode"])

	class _A:
		def __init__(self, name):
			self.name = name

	summary = summarize(rows, [_A("rte_vhost"), _A("vhostd")])
	for s in summary:
		assert abs(s["ratio_fast"] - 1.2) < 0.036, s["ratio_fast"]
		assert s["a_n"] == 8 and s["a_fast_n"] == 5 and s["b_fast_n"] == 6
		assert s["a_zeroloss_n"] == 7 and s["ratio_paired_clean_n"] == 4
	print("selftest: ok (modes classified, fast-mode ratio %.3f for a true 1.2)"
	      % summary[0]["ratio_fast"])


def main():
	if "--selftest" in sys.argv:
		selftest()
		return
	ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
				     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
	ap.add_argument("--quick", action="store_true",
			help="smoke run: 3 rounds, short windows, split+packed, mrg on, 1 queue pair")
	ap.add_argument("--rounds", type=int, default=8, help="A/B launch pairs per configuration")
	ap.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated")
	ap.add_argument("--sizes", default=",".join(str(s) for s in SIZES),
			help="frame sizes in bytes (no CRC), comma-separated")
	ap.add_argument("--rings", default="split,packed", help="split and/or packed")
	ap.add_argument("--mrg", default="on,off", help="mrg_rxbuf on and/or off")
	ap.add_argument("--queues", default="1,2", help="queue pairs, comma-separated")
	ap.add_argument("--warmup", type=float, default=1.0, help="seconds before the window")
	ap.add_argument("--window", type=float, default=2.0, help="steady-state window, seconds")
	ap.add_argument("--ring-size", type=int, default=1024,
			help="descriptors per ring (virtio-user queue_size and --rxd/--txd)")
	ap.add_argument("--tx-first", type=int, default=32, help="bursts in flight for loopback")
	ap.add_argument("--mbufs", type=int, default=16384, help="testpmd --total-num-mbufs")
	ap.add_argument("--mem", type=int, default=256, help="MiB of huge pages per process")
	ap.add_argument("--full-threshold", type=float, default=1.0,
			help="generator ring-full %% above which the consumer is said to limit")
	ap.add_argument("--clean-cpu", type=float, default=0.9,
			help="a measurement is 'clean' when both forwarding threads were on a CPU "
			     "at least this share of the window")
	ap.add_argument("--vhostd", default="pmd", choices=["pmd", "daemon", "proxy"],
			help="vhostd arm: 'pmd' = testpmd -d librte_net_vhostd.so; 'daemon' = the "
			     "vhostd daemon (guest_tx/guest_rx against a null port; no loopback); "
			     "'proxy' = net_vhost again (proves the harness: the ratio must be ~1)")
	ap.add_argument("--build", default=os.path.join(ROOT, "build"),
			help="meson build dir holding pmd/librte_net_vhostd.so")
	ap.add_argument("--in-order", type=int, default=0, choices=[0, 1],
			help="virtio-user in_order= (VIRTIO_F_IN_ORDER offered by both arms; "
			     "virtio-user's own default is 1)")
	ap.add_argument("--baseline-build", default=None,
			help="arm A is the net_vhostd plugin of this other build instead of "
			     "rte_vhost: A/B of two vhostd builds (performance work)")
	ap.add_argument("--out", default=os.path.join(HERE, "results"))
	ap.add_argument("--label", default="", help="added to the result file names")
	ap.add_argument("-v", "--verbose", action="store_true", help="print every measurement")
	ap.add_argument("--resummarize", metavar="RAW_CSV",
			help="no run: recompute the table, summary CSV and plot of an earlier raw CSV")
	args = ap.parse_args()
	if args.resummarize:
		return resummarize(args)
	if args.quick:
		if "--rounds" not in sys.argv:
			args.rounds = 3
		if "--warmup" not in sys.argv:
			args.warmup = 0.5
		if "--window" not in sys.argv:
			args.window = 1.0
		if "--mrg" not in sys.argv:
			args.mrg = "on"
		if "--queues" not in sys.argv:
			args.queues = "1"
	signal.signal(signal.SIGTERM, on_signal)
	signal.signal(signal.SIGINT, on_signal)

	if not shutil.which("dpdk-testpmd"):
		sys.exit("dpdk-testpmd not found (apt install dpdk)")
	arms = [Arm("rte_vhost", "net_vhost", args)]
	if args.vhostd == "proxy":
		arms.append(Arm("vhostd", "net_vhost", args))
	elif args.vhostd == "daemon":
		args.daemon = os.path.join(args.build, "src", "vhostd")
		if not os.path.exists(args.daemon):
			sys.exit(f"{args.daemon} not found: build first or pass --build DIR")
		arms.append(Arm("vhostd", "daemon", args))
	else:
		so = os.path.join(args.build, "pmd", "librte_net_vhostd.so")
		if not os.path.exists(so):
			sys.exit(f"{so} not found: build first (meson setup DIR && ninja -C DIR), "
				 "pass --build DIR, or --vhostd proxy")
		arms.append(Arm("vhostd", "pmd", args))
		args.plugin = private_copy(so)
	if args.baseline_build:
		so = os.path.join(args.baseline_build, "pmd", "librte_net_vhostd.so")
		if not os.path.exists(so):
			sys.exit(f"{so} not found: build the baseline first")
		arms[0] = Arm("base", "pmd", args)
		arms[0].plugin = private_copy(so, "base")

	plan = build_plan(args)
	stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
	name = f"{stamp}{'-' + args.label if args.label else ''}"
	os.makedirs(args.out, exist_ok=True)
	logdir = tempfile.mkdtemp(prefix=f"vdbench-{stamp}-")
	n_meas = sum(len(m) for _, m in plan)
	# Per measurement: warm-up + window + drain + ~1 s of prompt round trips.
	eta = args.rounds * 2 * (len(plan) * 4 + n_meas * (args.warmup + args.window + 1.2))
	print(f"vhostd bench: {len(plan)} launch configs, {n_meas} measurements per arm per round, "
	      f"{args.rounds} rounds (about {eta / 60:.0f} min), arms {arms[0].name} ({arms[0].kind}) / {arms[1].name} "
	      f"({arms[1].kind}); logs in {logdir}", flush=True)
	rows = []
	for rnd in range(args.rounds):
		for cfg, matrix in plan:
			print(f"  round {rnd + 1}/{args.rounds} {cfg.key()}", flush=True)
			for arm in arms:  # A B A B ...: back to back, same configuration
				rows += run_launch(arm, cfg, args, rnd, logdir, matrix)
	if not rows:
		sys.exit("no measurement succeeded; see the logs in " + logdir)
	score_launches(rows)
	classify_measurements(rows)
	summary = summarize(rows, arms)
	raw_csv = os.path.join(args.out, f"raw-{name}.csv")
	sum_csv = os.path.join(args.out, f"summary-{name}.csv")
	png = os.path.join(args.out, f"mpps-{name}.png")
	write_csv(raw_csv, rows)
	write_csv(sum_csv, summary)
	with open(os.path.join(args.out, f"table-{name}.txt"), "w") as f:
		f.write(f"# {' '.join(sys.argv)}\n# {env_line()}\n")
		print_table(summary, arms, f)
	print()
	print_table(summary, arms)
	plot(sum_csv, png, arms)
	print(f"\nraw: {raw_csv}\nsummary: {sum_csv}\nplot: {png}\nlogs: {logdir}")


def resummarize(args):
	rows = read_raw(args.resummarize)
	if not rows:
		sys.exit(f"{args.resummarize}: no rows")
	names = []
	for r in rows:
		if r["arm"] not in names:
			names.append(r["arm"])
	arms = [Arm(n, "", args) for n in names]
	if len(arms) != 2:
		sys.exit(f"{args.resummarize}: expected two arms, found {names}")
	classify_measurements(rows)
	summary = summarize(rows, arms)
	base = os.path.basename(args.resummarize).replace("raw-", "", 1).rsplit(".", 1)[0]
	name = base + "-re"
	os.makedirs(args.out, exist_ok=True)
	sum_csv = os.path.join(args.out, f"summary-{name}.csv")
	png = os.path.join(args.out, f"mpps-{name}.png")
	write_csv(sum_csv, summary)
	with open(os.path.join(args.out, f"table-{name}.txt"), "w") as f:
		f.write(f"# {' '.join(sys.argv)}\n# {env_line()}\n")
		print_table(summary, arms, f)
	print_table(summary, arms)
	plot(sum_csv, png, arms)
	print(f"\nsummary: {sum_csv}\nplot: {png}")


def private_copy(so, sub="b"):
	"""EAL refuses a -d plugin when any directory above it is world-writable
	(/tmp is), so load a copy from a private directory under $HOME."""
	top = os.path.join(os.path.expanduser("~"), ".cache", "vhostd-bench", str(os.getpid()))
	d = os.path.join(top, sub)
	os.makedirs(d, mode=0o700, exist_ok=True)
	p = d
	while p != "/":
		if os.stat(p).st_mode & 0o002:
			sys.exit(f"{p} is world-writable: EAL will refuse a plugin below it; set HOME")
		p = os.path.dirname(p)
	dst = os.path.join(d, os.path.basename(so))
	shutil.copy2(so, dst)
	atexit.register(shutil.rmtree, top, True)
	return dst


def env_line():
	cpu = ""
	try:
		with open("/proc/cpuinfo") as f:
			m = re.search(r"model name\s*:\s*(.*)", f.read())
			cpu = m.group(1) if m else ""
	except OSError:
		pass
	dpdk = subprocess.run(["sh", "-c", "dpkg-query -W -f '${Version}' dpdk 2>/dev/null"],
			      capture_output=True, text=True).stdout
	return f"cpu={cpu} nproc={os.cpu_count()} dpdk={dpdk} host={os.uname().release}"


if __name__ == "__main__":
	main()
