# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
# Shell library (bash, sourced) for the QEMU integration tests: builds or reuses
# the cached guest, picks KVM only when a probe shows it can really boot our
# kernel (TCG otherwise), starts QEMU 7.2 with shared memfd guest RAM and a
# serial log, waits on the guest's "VDTEST" lines with bounded waits, and reaps
# every process it started by PID when the test exits.
#
# Usage: source it, call vdg_init, then vdg_build, then vdg_qemu per guest.
# Knobs: VHOSTD_GUEST_ACCEL=kvm|tcg (skip the probe), VHOSTD_GUEST_MEM (MiB,
# default 256), VHOSTD_GUEST_MEMBACKEND=memfd|hugetlbfs, VHOSTD_GUEST_KEEP=1
# (keep the work directory with the logs), VHOSTD_GUEST_CACHE (see build-guest.sh).

VDG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VDG_SKIP=77
VDG_PIDS=()
VDG_CLEANUP_HOOKS=()

vdg_log() {
	echo "[$(date +%T)] $*" >&2
}

vdg_skip() {
	vdg_log "SKIP: $*"
	exit $VDG_SKIP
}

vdg_fail() {
	vdg_log "FAIL: $*"
	exit 1
}

# Kill one of our processes: TERM, a bounded wait, then KILL.
vdg_kill() {
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	return 0
}

vdg_cleanup() {
	local rc=$? pid h
	for h in "${VDG_CLEANUP_HOOKS[@]}"; do
		eval "$h" || true
	done
	for pid in "${VDG_PIDS[@]}"; do
		vdg_kill "$pid"
	done
	if [ -n "${VDG_TMP:-}" ] && [ -d "$VDG_TMP" ]; then
		if [ "$rc" -ne 0 ] && [ "$rc" -ne $VDG_SKIP ] || [ "${VHOSTD_GUEST_KEEP:-0}" = 1 ]; then
			vdg_log "logs kept in $VDG_TMP"
		else
			rm -rf "$VDG_TMP"
		fi
	fi
	exit "$rc"
}

# Remember a background process for cleanup.
vdg_track() {
	VDG_PIDS+=("$1")
}

vdg_init() {
	command -v qemu-system-x86_64 >/dev/null || vdg_skip "qemu-system-x86_64 not installed"
	VDG_TMP=$(mktemp -d "/tmp/vdg-${1:-test}.XXXXXX")
	trap vdg_cleanup EXIT
	trap 'exit 130' INT TERM
}

# Build or reuse the guest; sets VDG_KERNEL, VDG_INITRD, VDG_KVER.
vdg_build() {
	local out rc
	out=$("$VDG_DIR/build-guest.sh") && rc=0 || rc=$?
	[ $rc -eq $VDG_SKIP ] && vdg_skip "no guest kernel available"
	[ $rc -eq 0 ] || vdg_fail "build-guest.sh failed ($rc)"
	eval "$out"
	[ -f "$VDG_KERNEL" ] && [ -f "$VDG_INITRD" ] || vdg_fail "guest image missing"
}

# Wait until FILE has a line matching the extended regex, at most T seconds, and
# give up early if PID (optional) has exited. Prints the first matching line.
vdg_wait_line() {
	local file=$1 re=$2 t=$3 pid=${4:-} end line
	end=$((SECONDS + t))
	while [ $SECONDS -lt $end ]; do
		line=$(grep -a -m1 -E "$re" "$file" 2>/dev/null) && { echo "$line"; return 0; }
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			line=$(grep -a -m1 -E "$re" "$file" 2>/dev/null) && { echo "$line"; return 0; }
			return 2
		fi
		sleep 0.2
	done
	return 1
}

# Wait for a process of ours to exit by itself, at most T seconds, then kill it.
# Returns 0 when it exited in time.
vdg_wait_exit() {
	local pid=$1 t=$2 end
	end=$((SECONDS + t))
	while kill -0 "$pid" 2>/dev/null; do
		if [ $SECONDS -ge $end ]; then
			vdg_kill "$pid"
			return 1
		fi
		sleep 0.2
	done
	wait "$pid" 2>/dev/null || true
	return 0
}

# The accelerator: KVM only if /dev/kvm opens and a probe boot of our own kernel
# reaches /init within a bound (here /dev/kvm exists but QEMU aborts or the guest
# hangs on a stock kernel). The verdict is cached per host boot and kernel.
vdg_accel() {
	local cache f log pid boot
	if [ -n "${VHOSTD_GUEST_ACCEL:-}" ]; then
		VDG_ACCEL=$VHOSTD_GUEST_ACCEL
		return 0
	fi
	VDG_ACCEL=tcg
	[ -r /dev/kvm ] && [ -w /dev/kvm ] || return 0
	cache=${VHOSTD_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vhostd-guest}
	boot=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)
	f="$cache/accel-$boot-$VDG_KVER"
	if [ -f "$f" ]; then
		VDG_ACCEL=$(cat "$f")
		return 0
	fi
	log="$VDG_TMP/kvm-probe.log"
	qemu-system-x86_64 -machine pc,accel=kvm -cpu host -m 128 -nodefaults -display none \
		-no-reboot -serial "file:$log" -kernel "$VDG_KERNEL" -initrd "$VDG_INITRD" \
		-append "console=ttyS0 panic=-1 vd.timeout=20" >"$log.qemu" 2>&1 &
	pid=$!
	vdg_track "$pid"
	if vdg_wait_line "$log" '^VDTEST BOOT' 15 "$pid" >/dev/null; then
		VDG_ACCEL=kvm
	fi
	vdg_kill "$pid"
	vdg_log "KVM probe: using $VDG_ACCEL"
	echo "$VDG_ACCEL" >"$f.$$" && mv "$f.$$" "$f"
}

# vdg_mac N -> a locally administered MAC unique per guest N in this test.
vdg_mac() {
	printf '52:54:00:%02x:%02x:%02x\n' $(($$ & 255)) $((($$ >> 8) & 255)) "$1"
}

# QEMU arguments for a virtio-net-pci device on a vhost-user socket.
# vdg_vhu_args ID SOCK server|client [device options...]
#   server: QEMU listens (vhostd is the client and may restart); wait=off so
#           QEMU boots without it.
#   client: QEMU dials vhostd's socket and re-dials every second (reconnect=1).
# vectors=0 under TCG: QEMU 7.2 vhost-user with MSI-X crashes there.
vdg_vhu_args() {
	local id=$1 sock=$2 mode=$3 q=1 o dev
	shift 3
	dev="virtio-net-pci,netdev=$id"
	for o in "$@"; do
		case "$o" in queues=*) q=${o#queues=} ;; *) dev="$dev,$o" ;; esac
	done
	[ "$q" -gt 1 ] && dev="$dev,mq=on"
	case "$dev" in
	*vectors=*) ;;
	*) if [ "${VDG_ACCEL:-tcg}" = tcg ]; then
		dev="$dev,vectors=0"
	else
		dev="$dev,vectors=$((2 * q + 2))"
	fi ;;
	esac
	case "$mode" in
	server) echo "-chardev socket,id=c$id,path=$sock,server=on,wait=off" ;;
	client) echo "-chardev socket,id=c$id,path=$sock,reconnect=1" ;;
	*) vdg_fail "vdg_vhu_args: mode $mode" ;;
	esac
	echo "-netdev vhost-user,id=$id,chardev=c$id,queues=$q"
	echo "-device $dev"
}

# Start a guest in the background.
# vdg_qemu NAME "KERNEL ARGS" [qemu args...]
# Sets VDG_PID and VDG_LOG (serial log: $VDG_TMP/NAME.log; QEMU's own output in
# NAME.qemu.log); the QEMU monitor listens on $VDG_TMP/NAME.mon. VDG_SMP sets
# the vCPU count (default 1); VDG_MEM_PAD_K adds KiB to the guest RAM of a
# memfd-backed guest (test_qemu_migrate.sh says why; hugetlbfs sizes are whole
# huge pages, so there it is ignored); VDG_MEM_OPTS is appended to -m (e.g.
# ",slots=2,maxmem=1G" for memory hotplug).
vdg_qemu() {
	local name=$1 append=$2 memk=$((${VHOSTD_GUEST_MEM:-256} * 1024)) memobj
	shift 2
	VDG_LOG="$VDG_TMP/$name.log"
	case "${VHOSTD_GUEST_MEMBACKEND:-memfd}" in
	memfd)
		memk=$((memk + ${VDG_MEM_PAD_K:-0}))
		memobj="memory-backend-memfd,id=mem,size=${memk}K,share=on"
		;;
	hugetlbfs) memobj="memory-backend-file,id=mem,size=${memk}K,mem-path=/dev/hugepages,share=on" ;;
	*) vdg_fail "VHOSTD_GUEST_MEMBACKEND: memfd or hugetlbfs" ;;
	esac
	local cpu=max
	[ "${VDG_ACCEL:-tcg}" = kvm ] && cpu=host
	: >"$VDG_LOG"
	qemu-system-x86_64 -name "vdg-$name" -machine "pc,accel=${VDG_ACCEL:-tcg}" -cpu "$cpu" \
		-smp "${VDG_SMP:-1}" -m "${memk}K${VDG_MEM_OPTS:-}" -object "$memobj" -numa node,memdev=mem \
		-nodefaults -display none -no-reboot -serial "file:$VDG_LOG" \
		-monitor "unix:$VDG_TMP/$name.mon,server=on,wait=off" \
		-kernel "$VDG_KERNEL" -initrd "$VDG_INITRD" \
		-append "console=ttyS0 panic=-1 $append" "$@" >"$VDG_TMP/$name.qemu.log" 2>&1 &
	VDG_PID=$!
	vdg_track "$VDG_PID"
	vdg_log "guest $name: pid $VDG_PID accel ${VDG_ACCEL:-tcg} log $VDG_LOG"
}

# vdg_peer BYTES LIFETIME: vd_peer.py on $VDG_NET.1 (TCP sink and source for
# the guest's checks) serving BYTES random bytes for LIFETIME seconds; sets
# VDG_RXSHA, the SHA-256 the guest's download must have (vd.rxsha).
vdg_peer() {
	head -c "$1" /dev/urandom >"$VDG_TMP/src.bin"
	VDG_RXSHA=$(sha256sum <"$VDG_TMP/src.bin" | cut -d' ' -f1)
	python3 "$VDG_DIR/vd_peer.py" --bind "$VDG_NET.1" --srcfile "$VDG_TMP/src.bin" \
		--lifetime "$2" >"$VDG_TMP/peer.log" 2>&1 &
	vdg_track $!
	vdg_wait_line "$VDG_TMP/peer.log" "listen .*:5002" 10 >/dev/null || vdg_fail "peer did not start"
}

# vdg_expect GUEST PID VHOSTD RE T MSG: wait up to T seconds for a line
# matching RE in guest GUEST's serial log (QEMU's PID: give up when it
# exited); on a miss dump the guest's and vhostd VHOSTD's logs, fail with MSG.
vdg_expect() {
	local guest=$1 pid=$2 vd=$3 re=$4 t=$5 msg=$6
	vdg_wait_line "$VDG_TMP/$guest.log" "$re" "$t" "$pid" >/dev/null && return 0
	vdg_dump "$guest"
	vdg_vhostd_log "$vd"
	vdg_fail "$msg"
}

# vdg_features LOG: the virtio feature bits the guest's link check reported in
# serial log LOG, as a 0/1 string, bit 0 first (empty without a link result).
vdg_features() {
	sed -n 's/^VDTEST RESULT link PASS .*features=\([01]*\).*/\1/p' "$1"
}

# vdg_bridge BR ADDR IFACE...: Linux bridge BR (removed at exit) holding the
# host address ADDR, with forwarding from the start, over interfaces IFACE.
vdg_bridge() {
	local br=$1 addr=$2 ifc
	shift 2
	ip link add name "$br" type bridge
	VDG_CLEANUP_HOOKS+=("ip link del $br 2>/dev/null")
	ip link set dev "$br" type bridge stp_state 0 forward_delay 0
	for ifc in "$@"; do
		ip link set dev "$ifc" master "$br" up
	done
	ip addr add "$addr" dev "$br"
	ip link set dev "$br" up
}

# vdg_ram_compare SRC_PID DST DST_PID: once the paused destination guest DST has
# loaded the migration (it leaves "inmigrate"), compare its RAM with the
# stopped source's (vd_memcmp.py, report in $VDG_TMP/memcmp.log); returns
# vd_memcmp.py's status.
vdg_ram_compare() {
	local _
	for _ in $(seq 1 60); do
		case "$(vdg_hmp "$2" "info status")" in *inmigrate*) sleep 0.5 ;; *) break ;; esac
	done
	python3 "$VDG_DIR/vd_memcmp.py" "$1" "$3" >"$VDG_TMP/memcmp.log" 2>&1
}

# Send one HMP command to a guest's monitor (needs python3; no socat here).
vdg_hmp() {
	local name=$1 cmd=$2
	python3 - "$VDG_TMP/$name.mon" "$cmd" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(5)
def drain():
    buf = b""
    try:
        while not buf.endswith(b"(qemu) "):
            b = s.recv(4096)
            if not b:
                break
            buf += b
    except socket.timeout:
        pass
    return buf
drain()
s.sendall(sys.argv[2].encode() + b"\n")
sys.stdout.write(drain().decode(errors="replace").replace("(qemu) ", ""))
EOF
}

# The result of check NAME in a serial log: prints the line, returns 0 on PASS.
vdg_result() {
	local log=$1 name=$2 line
	line=$(grep -a -m1 -E "^VDTEST RESULT $name (PASS|FAIL)" "$log") || {
		vdg_log "no result for $name in $log"
		return 1
	}
	vdg_log "$line"
	case "$line" in *" PASS"*) return 0 ;; esac
	return 1
}

# Seconds from QEMU start to the guest's "VDTEST UP" (interface configured).
vdg_up_time() {
	sed -n 's/^VDTEST UP .* uptime=\([0-9.]*\).*/\1/p' "$1" | head -n1
}

# Dump the tail of a guest's logs (on failure).
vdg_dump() {
	local name=$1
	echo "----- $name serial (tail) -----" >&2
	tail -n 40 "$VDG_TMP/$name.log" >&2 2>/dev/null
	echo "----- $name qemu -----" >&2
	tail -n 20 "$VDG_TMP/$name.qemu.log" >&2 2>/dev/null
}

# Live-migrate guest SRC to guest DST (started with -incoming unix:SOCK) over
# the unix socket SOCK; waits at most T seconds for "completed". Prints the
# final "info migrate" on failure.
vdg_migrate() {
	local src=$1 sock=$2 t=${3:-120} end st
	vdg_hmp "$src" "migrate -d unix:$sock" >/dev/null
	end=$((SECONDS + t))
	while [ $SECONDS -lt $end ]; do
		st=$(vdg_hmp "$src" "info migrate" | sed -n 's/^Migration status: *//p' | tr -d '\r')
		case "$st" in
		completed) return 0 ;;
		failed | cancelled) break ;;
		esac
		sleep 0.5
	done
	vdg_log "migration status: ${st:-unknown}"
	vdg_hmp "$src" "info migrate" >&2
	return 1
}

# ---- vhostd side ----

# The daemon under test: $VHOSTD from meson, else $BUILD_DIR/src/vhostd.
vdg_need_vhostd() {
	VHOSTD=${VHOSTD:-${BUILD_DIR:-}/src/vhostd}
	[ -x "$VHOSTD" ] || vdg_skip "vhostd not built (VHOSTD=$VHOSTD)"
	[ "$(id -u)" -eq 0 ] || vdg_skip "needs root for the TAP stand-in"
	awk '$3 == "hugetlbfs" { f = 1 } END { exit !f }' /proc/mounts ||
		vdg_skip "no hugetlbfs mounted (scripts/setup.sh)"
	# Names unique to this run: interfaces (<= 15 characters), subnet, EAL prefix.
	VDG_ID=$(($$ % 100000))
	VDG_NET=10.213.$(($$ % 200 + 20))
	VDG_PREFIX=vdg$VDG_ID
}

# The preamble of every vhostd+QEMU test: vdg_init NAME, vdg_need_vhostd, then
# (when the second argument is "python3") a skip without python3, vdg_build and
# vdg_accel.
vdg_start() {
	vdg_init "$1"
	vdg_need_vhostd
	if [ "${2:-}" = python3 ]; then
		command -v python3 >/dev/null || vdg_skip "python3 not installed"
	fi
	vdg_build
	vdg_accel
}

# vhostd configuration writers: each prints one section on stdout, so a test
# writes its file as { vdg_conf_eal; vdg_conf_vhu ...; ... } >"$VDG_TMP/vhostd.conf".
# The [eal] section of a test: two lcores, this run's prefix, no hugepage files.
vdg_conf_eal() {
	printf '%s\n' "[eal]" "lcores = 0-1" "file-prefix = $VDG_PREFIX" "in-memory = yes" \
		"memory = 256"
}

# Print "KEY = VALUE" for each KEY=VALUE argument (split at the first '=').
vdg_conf_kv() {
	local kv
	for kv in "$@"; do
		printf '%s = %s\n' "${kv%%=*}" "${kv#*=}"
	done
}

# vdg_conf_vhu NAME SOCK [KEY=VALUE...]: a vhost-user port on socket SOCK.
vdg_conf_vhu() {
	printf '%s\n' "[port $1]" "type = vhost-user" "path = $2"
	shift 2
	vdg_conf_kv "$@"
}

# vdg_conf_tap NAME VDEV IFACE [KEY=VALUE...]: a net_tap port (device name VDEV,
# host interface IFACE) standing in for the VF.
vdg_conf_tap() {
	printf '%s\n' "[port $1]" "type = vdev" "vdev = $2,iface=$3"
	shift 3
	vdg_conf_kv "$@"
}

# vdg_conf_link NAME A B: forward between ports A and B.
vdg_conf_link() {
	printf '%s\n' "[link $1]" "a = $2" "b = $3"
}

# vdg_conf_vm_tap SOCK IFACE [KEY=VALUE...]: the one-guest topology: vhost-user
# port vm0 on SOCK (options from the arguments) linked to the TAP stand-in
# tap0 on host interface IFACE.
vdg_conf_vm_tap() {
	local sock=$1 ifc=$2
	shift 2
	vdg_conf_vhu vm0 "$sock" "$@"
	vdg_conf_tap tap0 "net_tap_$ifc" "$ifc"
	vdg_conf_link l0 vm0 tap0
}

# Start vhostd with config file CONF; its output goes to $VDG_TMP/NAME.vhostd.log.
# Sets VDG_VHOSTD_PID.
vdg_vhostd() {
	local name=$1 conf=$2
	"$VHOSTD" -c "$conf" >>"$VDG_TMP/$name.vhostd.log" 2>&1 &
	VDG_VHOSTD_PID=$!
	vdg_track "$VDG_VHOSTD_PID"
	vdg_log "vhostd $name: pid $VDG_VHOSTD_PID log $VDG_TMP/$name.vhostd.log"
}

# Wait until PATH exists (a socket vhostd listens on, /sys/class/net/IF, ...),
# at most T seconds, failing early if PID died.
vdg_wait_path() {
	local path=$1 t=$2 pid=${3:-} end
	end=$((SECONDS + t))
	while [ ! -e "$path" ]; do
		[ $SECONDS -lt $end ] || return 1
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			return 2
		fi
		sleep 0.2
	done
}

# vdg_vhostd_serve NAME CONF SOCK...: start vhostd (as vdg_vhostd) and wait until
# it listens on every server-mode SOCK; on failure show its log and fail.
vdg_vhostd_serve() {
	local name=$1 conf=$2 s
	shift 2
	vdg_vhostd "$name" "$conf"
	for s in "$@"; do
		vdg_wait_path "$s" 30 "$VDG_VHOSTD_PID" || {
			vdg_vhostd_log "$name"
			vdg_fail "no socket $s"
		}
	done
}

# Address the TAP stand-in on the host side once vhostd created it.
vdg_tap_up() {
	local ifc=$1 addr=$2 mtu=${3:-}
	vdg_wait_path "/sys/class/net/$ifc" 30 "${VDG_VHOSTD_PID:-}" ||
		vdg_fail "vhostd did not create $ifc"
	[ -n "$mtu" ] && ip link set dev "$ifc" mtu "$mtu"
	[ -n "$addr" ] && ip addr replace "$addr" dev "$ifc"
	ip link set dev "$ifc" up
}

# The number of distinct guest-RAM memfds a process has mapped (QEMU names them
# "memory-backend-memfd"): after a frontend goes away vhostd must
# have unmapped its memory.
vdg_guest_maps() {
	awk '/\/memfd:memory-backend-memfd / { print $5 }' "/proc/$1/maps" 2>/dev/null | sort -u | wc -l
}

vdg_vhostd_log() {
	echo "----- vhostd $1 (tail) -----" >&2
	tail -n 40 "$VDG_TMP/$1.vhostd.log" >&2 2>/dev/null
}

# Packets vhostd forwarded from PORT:QUEUE so far (from its SIGUSR1 stats print,
# "lcore N PORT:Q -> PEER:Q  rx R tx T ..."); 0 when the line is missing.
vdg_vhostd_qrx() {
	local name=$1 pq=$2 log="$VDG_TMP/$1.vhostd.log" n0 i
	n0=$(grep -c -- '--- vhostd stats' "$log" 2>/dev/null || true)
	kill -USR1 "$VDG_VHOSTD_PID" 2>/dev/null || { echo 0; return 0; }
	for i in $(seq 25); do
		[ "$(grep -c -- '--- vhostd stats' "$log" 2>/dev/null || true)" -gt "${n0:-0}" ] && break
		sleep 0.2
	done
	sleep 0.2
	awk -v pq="$pq" '$1 == "lcore" && $3 == pq && $4 == "->" { v = $7 } END { print v + 0 }' "$log"
}
