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


def callgrind(args, be, fe, cg, name):
	"""Instructions per packet of the backend over a window, from callgrind."""
	start_scenario(args, be, fe)
	time.sleep(2.0)
	# A dump zeroes callgrind's counters: the second dump holds exactly the window.
	a = run.parse_port_stats(be.cmd("show port stats all", timeout=60))
	ctl = subprocess.run(["callgrind_control", "-d", str(be.p.pid)], capture_output=True,
			     text=True)
	print(ctl.stdout.strip(), ctl.stderr.strip())
	time.sleep(args.seconds)
	ctl = subprocess.run(["callgrind_control", "-d", str(be.p.pid)], capture_output=True,
			     text=True)
	print(ctl.stdout.strip(), ctl.stderr.strip())
	b = run.parse_port_stats(be.cmd("show port stats all", timeout=60))
	key = "tx" if args.scenario == "guest_rx" else "rx"
	# The window counts packets between the two stats commands, which bracket the
	# collection window; the small mismatch is part of the error.
	pkts = b[key] - a[key]
	outs = sorted((f for f in os.listdir(os.path.dirname(cg)) if f.startswith("callgrind.out.")),
		      key=lambda f: int(f.rsplit(".", 1)[1]))
	rep = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100",
			      os.path.join(os.path.dirname(cg), outs[-1])],
			     capture_output=True, text=True).stdout
	total = 0
	for line in rep.splitlines():
		if "PROGRAM TOTALS" in line and line.split()[0] != ".":
			total = int(line.split()[0].replace(",", ""))
	head = (f"# {' '.join(sys.argv)}\n# packets ({key}) in window: {pkts}; Ir total {total}; "
		f"Ir/packet {total / pkts if pkts else float('nan'):.1f}\n")
	path = os.path.join(args.out, name + ".txt")
	with open(path, "w") as f:
		f.write(head + rep)
	print(head, end="")
	# Self cost per function, as Ir per packet (rows of the thread's call stack
	# that carry the whole window, e.g. clone, are not self cost).
	for line in rep.splitlines():
		f = line.split()
		if len(f) < 3 or not f[0][0].isdigit() or "(100.0%)" in line or "TOTALS" in line:
			continue
		ir = int(f[0].replace(",", ""))
		if pkts and ir / pkts >= 0.5:
			print(f"{ir / pkts:8.1f} Ir/pkt  {f[-2].split(':')[-1]:40} {f[-1]}")
	print(f"\nreport: {path}")


def main():
	ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
	ap.add_argument("--arm", default="vhostd", choices=["vhostd", "rte_vhost"])
	ap.add_argument("--scenario", default="loopback", choices=run.SCENARIOS)
	ap.add_argument("--size", type=int, default=64)
	ap.add_argument("--ring", default="split", choices=["split", "packed"])
	ap.add_argument("--mrg", default="on", choices=["on", "off"])
	ap.add_argument("--queues", type=int, default=1)
	ap.add_argument("--seconds", type=float, default=5.0)
	ap.add_argument("--freq", type=int, default=4999)
	ap.add_argument("--top", type=int, default=30)
	ap.add_argument("--callgrind", action="store_true",
			help="run the backend under valgrind --tool=callgrind and report instructions "
			     "per packet (rates under valgrind mean nothing; Ir/packet does)")
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
	os.makedirs(args.out, exist_ok=True)
	data = os.path.join(logdir, "perf.data")
	cg = os.path.join(logdir, "callgrind.out")
	if args.callgrind:
		args.wrap = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={cg}"]
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
		tid = run.fwd_tid(be)
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
		print(f"\nreport: {os.path.join(args.out, name + '.txt')}")
	finally:
		for p in (fe, be):
			if p:
				p.kill()


if __name__ == "__main__":
	main()
