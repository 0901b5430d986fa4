#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Profile the backend's forwarding thread in one bench scenario.

Starts the same backend/frontend pair as run.py, runs one scenario, and
samples the backend's forwarding lcore with `perf record -e cpu-clock` (these
VMs expose no hardware counters, so cycles/instructions are not available;
cpu-clock sampling still shows where the time goes). With --callgrind the
backend runs under valgrind instead (slow: use for instruction counts of the
hot functions, not for rates).

Prints the top symbols by self time and saves the report under bench/results.
"""

import argparse
import datetime
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402


def start_scenario(args, be, fe):
	for tp in (be, fe):
		tp.cmd(f"set txpkts {run.txpkts(args.size)}")
	if args.scenario == "loopback":
		be.cmd("set fwd io")
		fe.cmd("set fwd io")
		be.cmd("start")
		fe.cmd(f"start tx_first {args.tx_first}")
	elif args.scenario == "guest_tx":
		be.cmd("set fwd rxonly")
		fe.cmd("set fwd txonly")
		be.cmd("start")
		fe.cmd("start")
	else:
		fe.cmd("set fwd rxonly")
		be.cmd("set fwd txonly")
		fe.cmd("start")
		be.cmd("start")


def callgrind_costs(path, events=None):
	"""Self Ir and call counts per function ("name [object]") from a callgrind.out file.

	Call counts are exact for the dump window; a function called once per
	packet (e.g. vrq_copy_to_mbuf) counts the packets of that very window.
	With events (a dict), also every event's self cost per function (e.g.
	the cache simulation's D1mr, DLmr), as events[fn][name]."""
	fnames, onames, self_ir, calls = {}, {}, {}, {}
	names = ["Ir"]
	npos = 1  # position fields before the costs ("positions: line" by default)
	cur = callee = None
	ob = cob = ""
	after_calls = False

	def name_of(spec, table):
		spec = spec.strip()
		if spec.startswith("("):
			i = spec.index(")")
			cid, rest = spec[1:i], spec[i + 1:].strip()
			if rest:
				table[cid] = rest
			return table.get(cid, cid)
		return spec

	def label(fn, obj):
		return f"{fn} [{os.path.basename(obj)}]"

	with open(path) as f:
		for line in f:
			line = line.rstrip("\n")
			if line.startswith("events:"):
				names = line.split()[1:]
			elif line.startswith("positions:"):
				npos = len(line.split()) - 1
			elif line.startswith("ob="):
				ob = name_of(line[3:], onames)
			elif line.startswith("cob="):
				cob = name_of(line[4:], onames)
			elif line.startswith("fn="):
				cur = label(name_of(line[3:], fnames), ob)
				cob = ob
			elif line.startswith("cfn="):
				callee = label(name_of(line[4:], fnames), cob or ob)
			elif line.startswith("calls="):
				calls[callee] = calls.get(callee, 0) + int(line[6:].split()[0])
				after_calls = True
				cob = ob
			elif line and (line[0].isdigit() or line[0] in "+-*") and cur is not None:
				if after_calls:  # inclusive cost of the call just listed
					after_calls = False
					continue
				# "position cost...": trailing zero costs may be left out.
				vals = [int(v) for v in line.split()[npos:]]
				vals += [0] * (len(names) - len(vals))
				self_ir[cur] = self_ir.get(cur, 0) + vals[0]
				if events is not None:
					ev = events.setdefault(cur, {})
					for n, v in zip(names, vals):
						ev[n] = ev.get(n, 0) + v
	return self_ir, calls


def backend_only(self_ir):
	"""Ir of the vhost datapath alone: everything but testpmd's forwarding engine."""
	return sum(v for k, v in self_ir.items() if "[dpdk-testpmd]" not in k)


def cg_dump(be):
	"""Dump callgrind's counters (which zeroes them) and return the new file."""
	d = os.path.dirname(be.cg)
	before = set(os.listdir(d))
	subprocess.run(["callgrind_control", "-d", str(be.p.pid)], capture_output=True, text=True,
		       check=True)
	end = time.time() + 60
	while time.time() < end:
		new = [f for f in set(os.listdir(d)) - before if f.startswith("callgrind.out.")]
		if new:
			time.sleep(0.5)  # let callgrind finish writing it
			return os.path.join(d, new[0])
		time.sleep(0.1)
	raise RuntimeError("callgrind dump did not appear")


def callgrind(args, be, fe, cg, name):
	"""Instructions per packet of the backend, from callgrind, over exact windows.

	The window starts and ends with the generator stopped and the rings drained,
	so the backend's packet counter read at each end counts exactly the packets
	of the window. Polls that found nothing are charged at the cost of an idle
	poll, measured in a separate idle window, and taken out."""
	be.cg = cg
	burst_fn = "eth_vhostd_rx_burst" if args.arm == "vhostd" else "rte_vhost_dequeue_burst"
	burst_fn += " [librte_net_vhostd.so]" if args.arm == "vhostd" else " [librte_vhost.so.23.0]"
	key = "rx"
	gen = fe
	if args.scenario == "guest_rx":
		burst_fn = "eth_vhostd_tx_burst" if args.arm == "vhostd" else "rte_vhost_enqueue_burst"
		burst_fn += " [librte_net_vhostd.so]" if args.arm == "vhostd" else " [librte_vhost.so.23.0]"
		key, gen = "tx", be
	elif args.scenario != "guest_tx":
		sys.exit("--callgrind supports guest_tx and guest_rx")
	for tp in (be, fe):
		tp.cmd(f"set txpkts {run.txpkts(args.size)}", timeout=60)
	if args.scenario == "guest_tx":
		be.cmd("set fwd rxonly", timeout=60)
		fe.cmd("set fwd txonly")
		be.cmd("start", timeout=60)
	else:
		fe.cmd("set fwd rxonly")
		be.cmd("set fwd txonly", timeout=60)
		fe.cmd("start")
	# Idle window: the cost of a poll that finds nothing (backend polling, no traffic).
	time.sleep(1.0)
	cg_dump(be)
	time.sleep(3.0)
	idle_ir, idle_calls = callgrind_costs(cg_dump(be))
	idle_polls = idle_calls.get(burst_fn, 0)
	ir_poll = sum(idle_ir.values()) / idle_polls if idle_polls else 0.0
	ir_poll_be = backend_only(idle_ir) / idle_polls if idle_polls else 0.0
	if args.scenario == "guest_rx":
		ir_poll = 0.0  # the backend's txonly only runs while started: no idle polls to remove
		be.cmd("stop", timeout=60)
	# Loaded window.
	a = run.parse_port_stats(be.cmd("show port stats all", timeout=60))
	cg_dump(be)
	gen.cmd("start", timeout=60)
	time.sleep(args.seconds)
	gen.cmd("stop", timeout=60)
	time.sleep(1.0)  # drain
	b = run.parse_port_stats(be.cmd("show port stats all", timeout=60))
	win = cg_dump(be)
	pkts = b[key] - a[key]
	events = {} if args.cache_sim else None
	self_ir, calls = callgrind_costs(win, events)
	tot = sum(self_ir.values())
	polls = calls.get(burst_fn, 0)
	# Polls that carried packets: at least pkts/32; the rest are charged as idle.
	empty = max(polls - (pkts + 31) // 32, 0) if ir_poll else 0
	net = tot - empty * ir_poll
	net_be = backend_only(self_ir) - empty * ir_poll_be
	head = (f"# {' '.join(sys.argv)}\n"
		f"# window: {pkts} packets ({key}), {polls} calls of {burst_fn}, self Ir {tot}\n"
		f"# idle poll: {ir_poll:.1f} Ir ({idle_polls} idle calls); {empty} empty polls "
		f"removed\n"
		f"# RESULT {args.arm} {args.ring} {args.scenario} {args.size}B: "
		f"{net / pkts if pkts else float('nan'):.1f} Ir/packet "
		f"(raw {tot / pkts if pkts else float('nan'):.1f}); vhost datapath alone (no testpmd "
		f"engine): {net_be / pkts if pkts else float('nan'):.1f} Ir/packet, idle poll "
		f"{ir_poll_be:.1f} Ir\n")
	if args.cache_sim and pkts:
		# Misses of callgrind's model of one core (D1 32 KiB, "LL" = the 1 MiB
		# private L2), vhost datapath alone, empty polls included. The model
		# sees no other core: a line the guest wrote since is still a hit here.
		tot_ev = {}
		for fn, ev in events.items():
			if "[dpdk-testpmd]" in fn:
				continue
			for n, v in ev.items():
				tot_ev[n] = tot_ev.get(n, 0) + v
		per = " ".join(f"{n} {tot_ev.get(n, 0) / pkts:.2f}"
			       for n in ("D1mr", "D1mw", "DLmr", "DLmw"))
		head += f"# CACHE {args.arm} {args.ring} {args.scenario} {args.size}B per packet: {per}\n"
	lines = [f"{'self Ir':>12} {'calls':>10} {'Ir/call':>8} {'Ir/pkt':>7}  function"]
	for fn, ir in sorted(self_ir.items(), key=lambda kv: -kv[1]):
		if ir < tot * 0.003:
			break
		c = calls.get(fn, 0)
		lines.append(f"{ir:12d} {c:10d} {ir / c if c else 0:8.1f} "
			     f"{ir / pkts if pkts else 0:7.1f}  {fn}")
	out = head + "\n".join(lines) + "\n"
	path = os.path.join(args.out, name + ".txt")
	with open(path, "w") as f:
		f.write(out)
	print(out, end="")
	print(f"report: {path}")


def main():
	ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
	ap.add_argument("--arm", default="vhostd", choices=["vhostd", "rte_vhost"])
	ap.add_argument("--scenario", default="loopback", choices=run.SCENARIOS)
	ap.add_argument("--size", type=int, default=64)
	ap.add_argument("--ring", default="split", choices=["split", "packed"])
	ap.add_argument("--mrg", default="on", choices=["on", "off"])
	ap.add_argument("--queues", type=int, default=1)
	ap.add_argument("--in-order", type=int, default=0, choices=[0, 1],
			help="virtio-user in_order= (its own default is 1; the bench's is 0)")
	ap.add_argument("--seconds", type=float, default=5.0)
	ap.add_argument("--freq", type=int, default=4999)
	ap.add_argument("--top", type=int, default=30)
	ap.add_argument("--side", default="backend", choices=["backend", "frontend"],
			help="whose forwarding thread perf samples: the backend's, or the virtio-user "
			     "testpmd's (where a figure is limited by the frontend, 'lim fe')")
	ap.add_argument("--frontend-dpdk", metavar="PREFIX",
			help="run the virtio-user side from a DPDK 22.11 installed under PREFIX "
			     "(built with symbols: Debian's librte_net_virtio.so has none)")
	ap.add_argument("--callgrind", action="store_true",
			help="run the backend under valgrind --tool=callgrind and report instructions "
			     "per packet (rates under valgrind mean nothing; Ir/packet does)")
	ap.add_argument("--cache-sim", action="store_true",
			help="with --callgrind: also simulate one core's caches (D1 32 KiB, L2 1 MiB "
			     "as callgrind's LL) and report misses per packet")
	ap.add_argument("--build", default=os.path.join(run.ROOT, "build"))
	ap.add_argument("--out", default=os.path.join(run.HERE, "results"))
	args = ap.parse_args()
	# The knobs run.measure() reads.
	args.mem, args.ring_size, args.mbufs, args.tx_first = 256, 1024, 16384, 32
	args.warmup, args.window, args.full_threshold, args.clean_cpu = 1.0, 1.0, 1.0, 0.9

	if args.arm == "vhostd":
		arm = run.Arm("vhostd", "pmd", args)
		args.plugin = run.private_copy(os.path.join(args.build, "pmd", "librte_net_vhostd.so"))
	else:
		arm = run.Arm("rte_vhost", "net_vhost", args)
	cfg = run.Config(args.ring, args.mrg == "on", args.queues)
	logdir = tempfile.mkdtemp(prefix="vdprof-")
	sock = os.path.join(logdir, "prof.sock")
	stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
	name = f"profile-{stamp}-{args.arm}-{args.scenario}-{args.ring}-{args.size}"
	if args.side == "frontend":
		name += "-fe"
	os.makedirs(args.out, exist_ok=True)
	data = os.path.join(logdir, "perf.data")
	cg = os.path.join(logdir, "callgrind.out")
	if args.callgrind:
		args.wrap = ["valgrind", "--tool=callgrind", "--fair-sched=yes", f"--callgrind-out-file={cg}"]
		if args.cache_sim:
			args.wrap += ["--cache-sim=yes", "--D1=32768,8,64", "--LL=1048576,8,64"]
		name = name.replace("profile-", "callgrind-")
	be = fe = None
	try:
		be = run.launch_backend(arm, cfg, args, sock, "prof", logdir)
		fe = run.launch_frontend(cfg, args, sock, "prof", arm.name, logdir)
		if not (run.wait_link(fe) and run.wait_link(be)):
			sys.exit("link did not come up; logs in " + logdir)
		if args.callgrind:
			return callgrind(args, be, fe, cg, name)
		# A short measured run first, so the report carries the rate it profiled.
		r = run.measure(be, fe, args.scenario, args.size, args)
		print(f"{args.arm} {cfg.key()} {args.scenario} {args.size} B: {r['mpps']:.3f} Mpps, "
		      f"cpu be/fe {r['be_cpu']:.2f}/{r['fe_cpu']:.2f}, limit {r['limit']}")
		# measure() drained and stopped everything: restart the scenario for perf.
		start_scenario(args, be, fe)
		time.sleep(0.5)
		tid = run.fwd_tid(be if args.side == "backend" else fe)
		subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", str(args.freq),
				"-t", str(tid), "-o", data, "--", "sleep", str(args.seconds)], check=True)
		rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children",
				      "--sort", "dso,symbol", "--percent-limit", "0.5"],
				     capture_output=True, text=True).stdout
		lines = [x for x in rep.splitlines() if x.strip() and not x.startswith("#")]
		dso = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children",
				      "--sort", "dso"], capture_output=True, text=True).stdout
		dlines = [x for x in dso.splitlines() if x.strip() and not x.startswith("#")]
		head = f"# {' '.join(sys.argv)}\n# {r}\n"
		with open(os.path.join(args.out, name + ".txt"), "w") as f:
			f.write(head + dso + rep)
		print("\n".join(dlines[:8]))
		print("\n".join(lines[:args.top]))
		print(f"\nreport: {os.path.join(args.out, name + '.txt')}  perf data: {data}")
	finally:
		for p in (fe, be):
			if p:
				p.kill()


if __name__ == "__main__":
	main()
