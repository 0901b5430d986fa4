#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# vhostd demo: prepares the machine (scripts/setup.sh), builds vhostd, starts
# it on config/vhostd.conf (a vhost-user server port bridged to the TAP
# interface vd0), attaches a DPDK virtio-user frontend as the guest
# (dpdk-testpmd in flowgen mode: it sends a stream of UDP packets and drains
# what it receives), and sends packets into vd0 from the host side with a
# small AF_PACKET generator. vhostd prints its counters every 2 s: traffic
# goes guest -> vm1 -> tap0 -> host and host -> tap0 -> vm1 -> guest. After
# the run (or Ctrl-C) everything is stopped by PID and checked: vhostd must
# exit 0 and leave neither its socket nor the TAP behind.
#
# Usage: scripts/demo.sh [-t SECONDS] [--forever] [-b BUILD_DIR]
#   -t SECONDS   how long traffic runs (default 15)
#   --forever    run until Ctrl-C
#   -b DIR       build directory (default: build/ in the source tree)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build
DURATION=15
FOREVER=0
while [ $# -gt 0 ]; do
	case $1 in
	-t) DURATION=$2; shift 2 ;;
	--forever) FOREVER=1; shift ;;
	-b) BUILD=$2; shift 2 ;;
	-h | --help) sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "demo: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done

CONF=$ROOT/config/vhostd.conf
# These follow config/vhostd.conf.
SOCK=$(sed -n 's/^path *= *//p' "$CONF" | head -n 1)
TAP=$(sed -n 's/^vdev *= *//p' "$CONF" | head -n 1 | sed -n 's/.*iface=\([^,]*\).*/\1/p')
[ -n "$SOCK" ] && [ -n "$TAP" ] || { echo "demo: no path= or vdev=...,iface= in $CONF" >&2; exit 1; }
WORK=$(mktemp -d /tmp/vhostd-demo.XXXXXX)
GUEST_PREFIX="vd_demo_guest$$"
PIDS=()

say() { printf '\033[1m== %s\033[0m\n' "$*"; }

stop_pid() { # stop_pid PID NAME: SIGTERM, wait up to 10 s, then SIGKILL; returns its status
	local pid=$1 name=$2 i rc=0
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || rc=$?; return $rc; }
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "demo: $name (pid $pid) did not stop, killing it" >&2
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || rc=$?
	return $rc
}

cleanup() {
	local i
	trap - EXIT INT TERM
	# Reverse order of start: host traffic, guest, then vhostd.
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		stop_pid "${PIDS[$i]%%:*}" "${PIDS[$i]#*:}" || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo; say "interrupted"; exit 130' INT TERM

say "setup (packages, hugepages)"
"$ROOT/scripts/setup.sh"

say "build ($BUILD)"
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" "$ROOT" >/dev/null
ninja -C "$BUILD" src/vhostd | tail -1
VHOSTD=$BUILD/src/vhostd

if [ -S "$SOCK" ] || ip link show "$TAP" >/dev/null 2>&1; then
	echo "demo: $SOCK or interface $TAP already exists: is another vhostd running?" >&2
	exit 1
fi
command -v dpdk-testpmd >/dev/null || { echo "demo: dpdk-testpmd not found (dpdk package)" >&2; exit 1; }

# Two CPUs: vhostd's forwarding lcore spins on the second, the guest's on the
# first, where vhostd's main lcore mostly sleeps.
read -ra CPUS <<<"$(awk '/^Cpus_allowed_list/ {print $2}' /proc/self/status | tr ',-' '  ')"
CPU0=${CPUS[0]:-0}
CPU1=${CPUS[1]:-$CPU0}

say "vhostd on $CONF (vhost-user $SOCK <-> TAP $TAP)"
"$VHOSTD" -c "$CONF" --stats-interval 2 &
PIDS+=("$!:vhostd")
for ((i = 0; i < 100; i++)); do
	[ -S "$SOCK" ] && ip link show "$TAP" >/dev/null 2>&1 && break
	kill -0 "${PIDS[0]%%:*}" 2>/dev/null || { echo "demo: vhostd exited" >&2; exit 1; }
	sleep 0.1
done
[ -S "$SOCK" ] || { echo "demo: vhostd did not create $SOCK" >&2; exit 1; }
ip link set "$TAP" up

say "guest: dpdk-testpmd on net_virtio_user0 (flowgen), log in $WORK/guest.log"
# --single-file-segments: one memory region per segment list, not one per page
# (vhost-user allows only a few regions). --stats-period keeps testpmd running
# without a terminal on stdin.
dpdk-testpmd --lcores "0@$CPU1,1@$CPU0" --no-pci --in-memory --single-file-segments \
	--file-prefix "$GUEST_PREFIX" -m 256 \
	--vdev "net_virtio_user0,path=$SOCK,queues=1" -- \
	--forward-mode=flowgen --nb-cores=1 --total-num-mbufs=8192 --stats-period 5 \
	</dev/null >"$WORK/guest.log" 2>&1 &
PIDS+=("$!:guest")

say "host: AF_PACKET generator on $TAP (1000 packets/s into the guest)"
python3 - "$TAP" >"$WORK/host.log" 2>&1 <<'PYEOF' &
# Sends UDP broadcast frames into the TAP (they go to the guest through
# vhostd) and counts the frames arriving from the guest.
import os, select, signal, socket, struct, sys, time
ifname = sys.argv[1]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.bind((ifname, 0))
s.setblocking(False)
src = bytes.fromhex("02feedc0ffee")
payload = b"vhostd demo " * 4
ip_len = 20 + 8 + len(payload)
iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, ip_len, 0, 0, 64, 17, 0,
                  socket.inet_aton("10.99.0.1"), socket.inet_aton("10.99.0.255"))
csum = sum(struct.unpack("!10H", iph))
csum = (csum & 0xffff) + (csum >> 16)
iph = iph[:10] + struct.pack("!H", ~csum & 0xffff) + iph[12:]
frame = b"\xff" * 6 + src + b"\x08\x00" + iph + struct.pack("!HHHH", 9, 9, 8 + len(payload), 0) + payload
sent = received = 0
stop = False
def on_term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)
start = last = time.monotonic()
while not stop:
    now = time.monotonic()
    due = int((now - start) * 1000) - sent
    for _ in range(max(0, min(due, 100))):
        try:
            s.send(frame)
            sent += 1
        except BlockingIOError:
            break
    r, _, _ = select.select([s], [], [], 0.001)
    while r:
        try:
            data, addr = s.recvfrom(2048)
        except BlockingIOError:
            break
        if addr[2] != socket.PACKET_OUTGOING:
            received += 1
    if now - last >= 2:
        last = now
        print(f"host {ifname}: sent {sent} frames to the guest, received {received} from the guest", flush=True)
print(f"host {ifname}: total sent {sent}, received {received}", flush=True)
PYEOF
PIDS+=("$!:host")

if [ "$FOREVER" = 1 ]; then
	say "traffic runs until Ctrl-C (vhostd stats every 2 s)"
	while kill -0 "${PIDS[0]%%:*}" 2>/dev/null; do sleep 1; done
else
	say "traffic for $DURATION s (vhostd stats every 2 s)"
	for ((i = 0; i < DURATION; i++)); do
		sleep 1
		kill -0 "${PIDS[0]%%:*}" 2>/dev/null || { echo "demo: vhostd died" >&2; exit 1; }
	done
fi

say "stopping: host generator, guest, vhostd"
stop_pid "${PIDS[2]%%:*}" host || true
stop_pid "${PIDS[1]%%:*}" guest || true
tail -n 1 "$WORK/host.log"
echo "guest (testpmd) port counters:"
grep -E "RX-packets|TX-packets" "$WORK/guest.log" | tail -n 2 | sed 's/^ */  /'
rc=0
stop_pid "${PIDS[0]%%:*}" vhostd || rc=$?
PIDS=()
if [ "$rc" != 0 ]; then
	echo "demo: vhostd exited with status $rc" >&2
	exit 1
fi
[ ! -e "$SOCK" ] || { echo "demo: $SOCK left behind" >&2; exit 1; }
! ip link show "$TAP" >/dev/null 2>&1 || { echo "demo: $TAP left behind" >&2; exit 1; }
say "done: vhostd exited 0, socket and TAP removed"
