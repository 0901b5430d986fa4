#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# vhostd's life cycle without a guest: it starts on a vhost-user server port
# (socket mode as configured) linked to a net_null port, answers SIGUSR1 with
# its counters and the /vhostd/ telemetry commands, and on SIGTERM or SIGINT
# stops cleanly: exit 0, socket removed, EAL runtime directory removed. A
# port that cannot be opened makes it exit 1 without leaving anything behind.
# With TAP (root and /dev/net/tun): an mtu above what net_tap allows is refused
# with the port, the driver and the limit named; and net_tap's TSO, which
# refuses full-sized segments in DPDK 22.11, is left to vhostd's software TSO.
# Processes are reaped by PID. Needs 2 CPUs and 64 MB of free hugepages.
set -u

VHOSTD=${VHOSTD:-${BUILD_DIR:-build}/src/vhostd}
[ -x "$VHOSTD" ] || { echo "SKIP: no vhostd binary at $VHOSTD"; exit 77; }
read -ra cpus <<<"$(awk '/^Cpus_allowed_list/ {print $2}' /proc/self/status | tr ',-' '  ')"
[ "${#cpus[@]}" -ge 2 ] || { echo "SKIP: needs 2 CPUs"; exit 77; }
free_mb=$(awk '/^HugePages_Free/ {f=$2} /^Hugepagesize/ {s=$2} END {print int(f*s/1024)}' /proc/meminfo)
[ "${free_mb:-0}" -ge 64 ] || { echo "SKIP: needs 64 MB of free hugepages"; exit 77; }

work=$(mktemp -d /tmp/vd-life.XXXXXX)
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	[ "${VD_KEEP:-0}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT
fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

conf_head() { # conf_head PREFIX SOCKET: EAL and datapath sections, the vhost-user port
	cat <<EOC
[eal]
lcores = ${cpus[0]},${cpus[1]}
file-prefix = $1
in-memory = yes
memory = 64
[datapath]
mbufs = 4095
[port vm]
type = vhost-user
path = $2
EOC
}

write_conf() { # write_conf FILE PREFIX SOCKET
	{
		conf_head "$2" "$3"
		cat <<EOC
perm = 0660
[port null]
type = vdev
vdev = net_null_$2
[link l]
a = vm
b = null
EOC
	} >"$1"
}

wait_for() { # wait_for SECONDS COMMAND...: poll until the command succeeds
	local t=$(($1 * 10))
	shift
	while ! "$@" 2>/dev/null; do
		t=$((t - 1))
		[ $t -gt 0 ] || return 1
		sleep 0.1
	done
}

run_once() { # run_once SIGNAL
	local sig=$1 prefix="vdlife$$_$1" sock="$work/vm-$1.sock" log="$work/vhostd-$1.log" rc out
	write_conf "$work/$sig.conf" "$prefix" "$sock"
	"$VHOSTD" -c "$work/$sig.conf" >"$log" 2>&1 &
	pid=$!
	if ! wait_for 30 test -S "$sock"; then
		fail "$sig: no socket after 30 s"
		sed 's/^/  | /' "$log"
		return
	fi
	wait_for 10 grep -q "running, lcore plan" "$log" || fail "$sig: not running"
	[ "$(stat -c %a "$sock")" = 660 ] || fail "$sig: socket mode $(stat -c %a "$sock"), want 660"
	kill -USR1 "$pid"
	wait_for 5 grep -q -- "--- vhostd stats" "$log" || fail "$sig: no stats on SIGUSR1"
	if command -v dpdk-telemetry.py >/dev/null; then
		out=$(echo /vhostd/ports | timeout 10 dpdk-telemetry.py -f "$prefix" 2>&1)
		[[ "$out" == *'"vm": 0'* && "$out" == *'"null": 1'* ]] ||
			fail "$sig: /vhostd/ports answered: $out"
		out=$(echo /vhostd/port_stats,null | timeout 10 dpdk-telemetry.py -f "$prefix" 2>&1)
		[[ "$out" == *'"fwd_rx_packets"'* && "$out" == *'"opackets"'* ]] ||
			fail "$sig: /vhostd/port_stats,null answered: $out"
		out=$(echo /vhostd/port_info,vm | timeout 10 dpdk-telemetry.py -f "$prefix" 2>&1)
		[[ "$out" == *'"type": "vhost-user"'* && "$out" == *"\"path\": \"$sock\""* ]] ||
			fail "$sig: /vhostd/port_info,vm answered: $out"
	fi
	kill -"$sig" "$pid"
	if ! wait_for 20 eval "! kill -0 $pid"; then
		fail "$sig: still running 20 s after SIG$sig"
		return
	fi
	wait "$pid"
	rc=$?
	pid=
	[ $rc = 0 ] || fail "$sig: exit status $rc"
	grep -q "vhostd: stopped" "$log" || fail "$sig: no 'stopped' line"
	[ ! -e "$sock" ] || fail "$sig: $sock left behind"
	[ ! -e "/var/run/dpdk/$prefix" ] || fail "$sig: /var/run/dpdk/$prefix left behind"
	if grep -qiE "ERROR: AddressSanitizer|runtime error" "$log"; then
		fail "$sig: sanitizer report"
	fi
	[ $fails = 0 ] || sed 's/^/  | /' "$log"
}

run_once TERM
run_once INT

# A port that cannot be opened (its socket directory does not exist): exit 1,
# and the port opened before it is closed again (its socket removed).
prefix="vdlife$$_bad"
cat >"$work/bad.conf" <<EOC
[eal]
lcores = ${cpus[0]},${cpus[1]}
file-prefix = $prefix
in-memory = yes
memory = 64
[port ok]
type = vhost-user
path = $work/ok.sock
[port vm]
type = vhost-user
path = $work/missing-dir/vm.sock
[link l]
a = ok
b = vm
EOC
timeout 60 "$VHOSTD" -c "$work/bad.conf" >"$work/bad.log" 2>&1
rc=$?
[ $rc = 1 ] || fail "bad port: exit status $rc, want 1"
grep -q "port vm: cannot probe" "$work/bad.log" || fail "bad port: no 'port vm: cannot probe' message"
[ ! -e "$work/ok.sock" ] || fail "bad port: the socket of the port opened first was left behind"
[ ! -e "/var/run/dpdk/$prefix" ] || fail "bad port: /var/run/dpdk/$prefix left behind"
[ $fails = 0 ] || sed 's/^/  | /' "$work/bad.log"

# TAP cases: only as root with /dev/net/tun.
tap_cases() {
	local tap="vdlf$$" conf log
	tap=${tap:0:15}
	conf=$work/tap.conf
	log=$work/tap.log
	# net_tap names a mempool "mp_<device>" (25 characters at most): keep it short.
	tap_conf() { # tap_conf PREFIX MTU|'' DEVICE-SUFFIX
		conf_head "$1" "$work/tap-vm.sock"
		cat <<EOC
[port tap]
type = vdev
vdev = net_tap_$3,iface=$tap
${2:+mtu = $2}
[link l]
a = vm
b = tap
EOC
	}
	# DPDK 22.11 net_tap: frames up to 1522 bytes, so MTU 1504 at most.
	tap_conf "vdlife$$_tapmtu" 9000 "m$$" >"$conf"
	timeout 60 "$VHOSTD" -c "$conf" >"$log" 2>&1
	rc=$?
	[ $rc = 1 ] || fail "tap mtu=9000: exit status $rc, want 1"
	grep -q "port tap: mtu=9000 is not supported by net_tap_m$$ (net_tap): its MTU range is [0-9]*\.\.1504" "$log" ||
		fail "tap mtu=9000: no message naming the port, the driver and the limit"
	! ip link show "$tap" >/dev/null 2>&1 || fail "tap mtu=9000: $tap left behind"
	[ $fails = 0 ] || sed 's/^/  | /' "$log"

	tap_conf "vdlife$$_tap" "" "t$$" >"$conf"
	"$VHOSTD" -c "$conf" >"$log" 2>&1 &
	pid=$!
	wait_for 30 grep -q "running, lcore plan" "$log" || fail "tap: not running"
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	pid=
	[ $rc = 0 ] || fail "tap: exit status $rc"
	ol=$(sed -n 's/.*port tap: vdev port .*tx offloads \(0x[0-9a-f]*\).*/\1/p' "$log")
	# RTE_ETH_TX_OFFLOAD_TCP_TSO (0x20) off, TCP_CKSUM (0x8) still on.
	if [ -z "$ol" ] || [ $((ol & 0x20)) != 0 ] || [ $((ol & 0x8)) = 0 ]; then
		fail "tap: tx offloads '${ol}', want TCP_CKSUM without TCP_TSO"
	fi
	grep -q "port tap: net_tap refuses TSO .* done in software" "$log" ||
		fail "tap: no notice that TSO is done in software"
	[ $fails = 0 ] || sed 's/^/  | /' "$log"
}
if [ "$(id -u)" = 0 ] && [ -c /dev/net/tun ]; then
	tap_cases
else
	echo "vhostd_lifecycle: TAP cases skipped (need root and /dev/net/tun)"
fi

if [ $fails = 0 ]; then
	echo "vhostd_lifecycle: ok"
	exit 0
fi
echo "vhostd_lifecycle: $fails failure(s)"
exit 1
