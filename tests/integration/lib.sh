# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# Shared helpers of the integration tests (sourced, bash). They give each test
# unique names (EAL file prefixes, sockets, interfaces), start processes in the
# background and remember their PIDs, wait for sockets and log lines with a
# bounded timeout, and on exit reap exactly the processes the test started (by
# PID, never by name: other people's DPDK processes run on the same machine).
# A test calls vd_skip (exit 77) when the machine lacks what it needs, so it
# never passes silently.
#
# Environment (from tests/integration/meson.build): VHOSTD, PMD_SO, BUILD_DIR,
# SRC_DIR, PKTCHECK. VD_KEEP=1 keeps the work directory and logs; VD_VERBOSE=1
# prints every command started.
#
# Lessons that shaped these helpers (DPDK 22.11):
# - A virtio-user frontend must run with --single-file-segments. With
#   --in-memory and 2 MiB pages each page is its own memfd, i.e. its own
#   vhost-user memory region; past 8 regions the backend refuses SET_MEM_TABLE
#   ("update_memory_region(): Too many memory regions" then "Failed to start
#   device" in the frontend's log), yet the virtio port still reports link up
#   and rte_eth_tx_burst still accepts packets, which simply never leave the
#   guest. That was the "testpmd --tx-first sends 32, receives 0" symptom with
#   net_vhost as backend; it was not a link-up/auto-start race. vd_fe_eal adds
#   the flag, and vd_check_log_clean fails a test on those messages.
# - testpmd reads commands from stdin and exits at EOF: give it --stats-period
#   when stdin is /dev/null. With --tx-first it warns that the LSC interrupt is
#   turned off; that is harmless.
# - Background jobs of a non-interactive shell start with SIGINT ignored, so
#   processes are stopped with SIGTERM (both testpmd and vhostd handle it).
# - Even with the frontend fixed, a backend may drop what a guest sends before
#   the other end of the path is ready; vd_pktcheck first sends probes until
#   every queue forwards, and testpmd-based checks allow for the first burst.

VD_PIDS=()
VD_NAMES=()
VD_TMP=
VD_NAME=
VD_FAILED=0

vd_log()
{
	echo "[$(date +%T)] $VD_NAME: $*" >&2
}

vd_skip()
{
	vd_log "SKIP: $*"
	exit 77
}

vd_fail()
{
	vd_log "FAIL: $*"
	VD_FAILED=1
	exit 1
}

# The CPUs we may run on (our affinity), expanded from Cpus_allowed_list.
vd_cpus()
{
	local list item a b out=()
	list=$(awk '/^Cpus_allowed_list/ {print $2}' /proc/self/status)
	IFS=, read -ra items <<<"$list"
	for item in "${items[@]}"; do
		if [[ $item == *-* ]]; then
			a=${item%-*}
			b=${item#*-}
			for ((; a <= b; a++)); do out+=("$a"); done
		else
			out+=("$item")
		fi
	done
	echo "${out[@]}"
}

# vd_init NAME: work directory, unique prefix, traps; picks two CPUs for the
# lcore pinning (the same one twice on a single-CPU machine).
vd_init()
{
	local cpus
	VD_NAME=$1
	VD_TMP=$(mktemp -d "/tmp/vdi-${VD_NAME}.XXXXXX") || vd_fail "mktemp"
	VD_UNIQ="vdi$$"
	trap vd_cleanup EXIT
	trap 'VD_FAILED=1; exit 130' INT TERM
	read -ra cpus <<<"$(vd_cpus)"
	VD_CPU0=${cpus[0]:-0}
	VD_CPU1=${cpus[1]:-$VD_CPU0}
	export VD_TMP VD_UNIQ VD_CPU0 VD_CPU1
}

# vd_need_hugepages MB: skip unless that many MB of hugepages are free now.
vd_need_hugepages()
{
	local want=$1 free size
	free=$(awk '/^HugePages_Free/ {print $2}' /proc/meminfo)
	size=$(awk '/^Hugepagesize/ {print $2}' /proc/meminfo)
	[ -n "$free" ] && [ -n "$size" ] || vd_skip "no hugepage information"
	if ((free * size / 1024 < want)); then
		vd_skip "needs ${want} MB of free hugepages, $((free * size / 1024)) MB free"
	fi
}

# vd_need_exe VAR: skip unless the program named by $VAR exists.
vd_need_exe()
{
	local var=$1
	[ -n "${!var:-}" ] && [ -x "${!var}" ] || vd_skip "$var not built ('${!var:-}')"
}

vd_need_file()
{
	local var=$1
	[ -n "${!var:-}" ] && [ -f "${!var}" ] || vd_skip "$var not built ('${!var:-}')"
}

vd_need_netadmin()
{
	[ "$(id -u)" = 0 ] || vd_skip "needs root for TAP/veth"
	[ -c /dev/net/tun ] || vd_skip "no /dev/net/tun"
	command -v ip >/dev/null || vd_skip "no ip(8)"
}

# EAL arguments of a DPDK process of this test. NAME makes the file prefix
# unique; MB is the hugepage memory.
vd_eal()
{
	local name=$1 mb=$2
	echo "--no-pci --in-memory --file-prefix ${VD_UNIQ}-${name} -m ${mb} --log-level *:notice"
}

# The same for a virtio-user frontend (see the note on --single-file-segments).
vd_fe_eal()
{
	echo "$(vd_eal "$1" "$2") --single-file-segments"
}

# vd_start NAME CMD ARGS...: run in the background, output in $VD_TMP/NAME.log.
vd_start()
{
	local name=$1
	shift
	[ -n "${VD_VERBOSE:-}" ] && vd_log "start $name: $*"
	# appended: a process restarted under the same name keeps its history
	echo "# $*" >>"$VD_TMP/$name.log"
	"$@" </dev/null >>"$VD_TMP/$name.log" 2>&1 &
	VD_PIDS+=($!)
	VD_NAMES+=("$name")
	eval "VD_PID_${name//[^A-Za-z0-9_]/_}=$!"
}

vd_pid()
{
	local v="VD_PID_${1//[^A-Za-z0-9_]/_}"
	echo "${!v}"
}

vd_alive()
{
	local pid
	pid=$(vd_pid "$1")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# vd_wait_socket PATH NAME [TIMEOUT_S]: wait for a unix socket to appear while
# process NAME is alive.
vd_wait_socket()
{
	local path=$1 name=$2 t=${3:-15} i
	for ((i = 0; i < t * 10; i++)); do
		[ -S "$path" ] && return 0
		vd_alive "$name" || { vd_tail "$name"; vd_fail "$name exited before creating $path"; }
		sleep 0.1
	done
	vd_tail "$name"
	vd_fail "no socket $path after ${t}s"
}

# vd_wait_log NAME REGEX [TIMEOUT_S]: wait for an extended regex in NAME's log.
vd_wait_log()
{
	local name=$1 re=$2 t=${3:-15} i
	for ((i = 0; i < t * 10; i++)); do
		grep -Eq -- "$re" "$VD_TMP/$name.log" && return 0
		vd_alive "$name" || { vd_tail "$name"; vd_fail "$name exited before logging /$re/"; }
		sleep 0.1
	done
	vd_tail "$name"
	vd_fail "no /$re/ in $name log after ${t}s"
}

vd_tail()
{
	echo "---- last lines of $1.log ----" >&2
	tail -n "${2:-25}" "$VD_TMP/$1.log" >&2
	echo "----" >&2
}

# vd_stop NAME [TIMEOUT_S]: SIGTERM, wait, then SIGKILL. Returns the exit
# status (137 when it had to be killed).
vd_stop()
{
	local name=$1 t=${2:-10} pid i rc
	pid=$(vd_pid "$name")
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < t * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		vd_log "$name (pid $pid) ignored SIGTERM for ${t}s, killing"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	eval "VD_PID_${name//[^A-Za-z0-9_]/_}="
	return $rc
}

# Errors that mean a test is invalid even if packets seem to flow.
vd_check_log_clean()
{
	local name=$1
	if grep -E "Too many memory regions|Failed to start device|ASan|AddressSanitizer|runtime error:" \
		"$VD_TMP/$name.log" >&2; then
		vd_fail "$name log has errors (see above)"
	fi
}

# Extra cleanup commands (interfaces, bridges), run in reverse order.
VD_CLEANUP_CMDS=()
vd_on_exit()
{
	VD_CLEANUP_CMDS+=("$*")
}

vd_cleanup()
{
	local rc=$? i pid
	for ((i = ${#VD_PIDS[@]} - 1; i >= 0; i--)); do
		pid=${VD_PIDS[$i]}
		kill -0 "$pid" 2>/dev/null || continue
		kill -TERM "$pid" 2>/dev/null
	done
	for ((i = 0; i < 50; i++)); do
		local any=0
		for pid in "${VD_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && any=1; done
		[ $any = 0 ] && break
		sleep 0.1
	done
	for pid in "${VD_PIDS[@]}"; do
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for ((i = ${#VD_CLEANUP_CMDS[@]} - 1; i >= 0; i--)); do
		eval "${VD_CLEANUP_CMDS[$i]}" >/dev/null 2>&1
	done
	# EAL makes a runtime directory even with --in-memory (telemetry socket)
	# and leaves it behind: remove ours, found by our unique prefix.
	rm -rf "${XDG_RUNTIME_DIR:-/var/run}/dpdk/${VD_UNIQ}-"* 2>/dev/null
	if [ $rc != 0 ] && [ $rc != 77 ] || [ "$VD_FAILED" = 1 ]; then
		local shown=" "
		for i in "${VD_NAMES[@]}"; do
			[[ $shown == *" $i "* ]] && continue
			shown+="$i "
			[ -f "$VD_TMP/$i.log" ] && vd_tail "$i" 15
		done
	fi
	if [ -n "${VD_KEEP:-}" ] || { [ $rc != 0 ] && [ $rc != 77 ]; }; then
		vd_log "logs kept in $VD_TMP"
	else
		rm -rf "$VD_TMP"
	fi
	exit $rc
}

# ---------------------------------------------------------------------------
# Backends. A topology is a list of ports given in pairs; each pair is a link
# (both directions). A port is
#   vhost:PATH:QUEUES       a vhost-user server socket
#   vdev:STRING             any vdev (net_tap0,iface=..., net_ring0, ...)
# The same topology runs on vhostd (BACKEND=vhostd, the product), on
# dpdk-testpmd with DPDK's own net_vhost in io forwarding (BACKEND=testpmd,
# the reference: it proves a test's harness independently of vhostd), or on
# stock dpdk-testpmd with our net_vhostd loaded by -d (BACKEND=pmd).
# VD_MTU, when set, is applied to every port; VD_VDEV_QUEUES is the queue
# count of vdev ports (testpmd uses the largest count for all ports);
# VD_MBUF_SIZE the mbuf data room.

# vd_backend_start KIND PORT...: starts process "backend" and waits for every
# vhost-user socket.
vd_backend_start()
{
	local kind=$1
	shift
	case $kind in
	vhostd) vd_backend_vhostd "$@" ;;
	testpmd) vd_backend_testpmd net_vhost "$@" ;;
	pmd) vd_backend_testpmd net_vhostd "$@" ;;
	*) vd_fail "unknown backend $kind" ;;
	esac
	local p
	for p in "$@"; do
		case $p in
		vhost:*)
			p=${p#vhost:}
			vd_wait_socket "${p%%:*}" backend 20
			;;
		esac
	done
}

vd_backend_vhostd()
{
	local conf=$VD_TMP/vhostd.conf i=0 p
	vd_need_exe VHOSTD
	# vhostd wants a control lcore and at least one forwarding lcore.
	[ "$VD_CPU0" != "$VD_CPU1" ] || vd_skip "vhostd needs 2 CPUs"
	{
		echo "# generated by $VD_NAME"
		echo "[eal]"
		echo "lcores = $VD_CPU0,$VD_CPU1"
		echo "file-prefix = ${VD_UNIQ}-vhostd"
		echo "in-memory = yes"
		echo "memory = ${VD_BACKEND_MB:-256}"
		echo "log-level = ${VD_BACKEND_LOG:-*:notice}"
		echo "[stats]"
		echo "interval = 0"
		if [ -n "${VD_MBUF_SIZE:-}" ]; then
			echo "[datapath]"
			echo "mbuf-size = $VD_MBUF_SIZE"
		fi
		for p in "$@"; do
			echo "[port p$i]"
			case $p in
			vhost:*)
				p=${p#vhost:}
				echo "type = vhost-user"
				echo "path = ${p%%:*}"
				echo "queues = ${p#*:}"
				;;
			vdev:*)
				echo "type = vdev"
				echo "vdev = ${p#vdev:}"
				echo "queues = ${VD_VDEV_QUEUES:-1}"
				;;
			esac
			[ -n "${VD_MTU:-}" ] && echo "mtu = $VD_MTU"
			i=$((i + 1))
		done
		for ((i = 0; i < $#; i += 2)); do
			echo "[link l$i]"
			echo "a = p$i"
			echo "b = p$((i + 1))"
		done
	} >"$conf"
	vd_start backend "$VHOSTD" -c "$conf"
}

# vd_backend_testpmd DRIVER PORT...: DRIVER net_vhost (DPDK's) or net_vhostd
# (ours, loaded from $PMD_SO with -d: the stock-testpmd plugin check).
vd_backend_testpmd()
{
	local drv=$1 args=() i=0 q=1 p n s
	shift
	command -v dpdk-testpmd >/dev/null || vd_skip "no dpdk-testpmd"
	if [ "$drv" = net_vhostd ]; then
		vd_need_file PMD_SO
		args+=(-d "$PMD_SO")
	fi
	for p in "$@"; do
		case $p in
		vhost:*)
			p=${p#vhost:}
			n=${p#*:}
			((n > q)) && q=$n
			args+=(--vdev "$drv$i,iface=${p%%:*},queues=$n")
			;;
		vdev:*)
			args+=(--vdev "${p#vdev:}")
			;;
		esac
		i=$((i + 1))
	done
	s=(--total-num-mbufs=16384)
	[ -n "${VD_MTU:-}" ] && s+=(--max-pkt-len=$((VD_MTU + 18)))
	[ -n "${VD_MBUF_SIZE:-}" ] && s=(--total-num-mbufs=8192 --mbuf-size="$VD_MBUF_SIZE" "${s[@]:1}")
	# shellcheck disable=SC2046
	vd_start backend dpdk-testpmd $(vd_eal backend "${VD_BACKEND_MB:-256}") \
		--lcores "0@$VD_CPU0,1@$VD_CPU1" "${args[@]}" -- \
		--stats-period 1 --forward-mode=io --nb-cores=1 --rxq="$q" --txq="$q" "${s[@]}"
}

# vd_backend_stop: stops the backend and checks it exited cleanly.
vd_backend_stop()
{
	vd_stop backend 15
	local rc=$?
	vd_check_log_clean backend
	[ $rc = 0 ] || vd_fail "backend exit status $rc"
}


# ---------------------------------------------------------------------------
# Topologies shared by the virtio-user tests. vd_topo_init TOPO sets S0/S1
# (guest sockets) and IF_A/IF_B (kernel interfaces):
#   ring      guest -> backend -> net_ring loopback -> backend -> same guest
#   g2g       guest <-> backend <-> guest
#   tap       guest <-> backend <-> TAP IF_A ... kernel ... af_packet on IF_A
#             <-> backend <-> guest (the TAP stands in for the VF)
#   afpacket  guest <-> backend <-> af_packet(IF_A) = veth = af_packet(IF_B)
#             <-> backend <-> guest
vd_topo_init()
{
	TOPO=$1
	S0=$VD_TMP/vm0.sock
	S1=$VD_TMP/vm1.sock
	IF_A=vdt${VD_UNIQ#vdi}a
	IF_B=vdt${VD_UNIQ#vdi}b
	case $TOPO in
	ring | g2g) ;;
	tap | afpacket) vd_need_netadmin ;;
	*) vd_fail "unknown topology $TOPO" ;;
	esac
}

# vd_topo_guests: how many virtio-user guests the topology has.
vd_topo_guests()
{
	[ "$TOPO" = ring ] && echo 1 || echo 2
}


vd_topo_ports()
{
	local q=$1 afp=""
	# af_packet copies a whole kernel frame into one mbuf: with jumbo-sized
	# mbufs (VD_MBUF_SIZE) its ring frames grow to match.
	[ -n "${VD_MBUF_SIZE:-}" ] && afp=",blocksz=20480,framesz=10240"
	case $TOPO in
	# (vdev names are per process with --in-memory; the ring PMD derives
	# rte_ring names from them, which must stay under 29 characters)
	ring) echo "vhost:$S0:$q vdev:net_ring_lo" ;;
	g2g) echo "vhost:$S0:$q vhost:$S1:$q" ;;
	tap)
		echo "vhost:$S0:$q vdev:net_tap_${VD_UNIQ},iface=$IF_A"
		echo "vhost:$S1:$q vdev:net_af_packet_${VD_UNIQ},iface=$IF_A$afp,qpairs=$q"
		;;
	afpacket)
		echo "vhost:$S0:$q vdev:net_af_packet_${VD_UNIQ}a,iface=$IF_A$afp,qpairs=$q"
		echo "vhost:$S1:$q vdev:net_af_packet_${VD_UNIQ}b,iface=$IF_B$afp,qpairs=$q"
		;;
	esac
}

vd_topo_setup_kernel()
{
	case $TOPO in
	afpacket)
		ip link add "$IF_A" mtu 9000 type veth peer name "$IF_B" mtu 9000 ||
			vd_skip "cannot create veth"
		vd_on_exit ip link del "$IF_A"
		for i in "$IF_A" "$IF_B"; do
			sysctl -qw "net.ipv6.conf.$i.disable_ipv6=1" 2>/dev/null
			ip link set "$i" up
		done
		;;
	esac
}

# After the backend created the TAP: no IPv6 chatter, and up.
vd_topo_after_backend()
{
	local i
	case $TOPO in
	tap)
		for ((i = 0; i < 50; i++)); do
			ip link show "$IF_A" >/dev/null 2>&1 && break
			sleep 0.1
		done
		ip link show "$IF_A" >/dev/null 2>&1 || vd_fail "no TAP $IF_A"
		sysctl -qw "net.ipv6.conf.$IF_A.disable_ipv6=1" 2>/dev/null
		ip link set "$IF_A" mtu 9000 up
		# Frames sent before the TAP has carrier fail in af_packet's TX
		# (counted as tx-errors): wait for LOWER_UP, which comes when
		# the backend has started the TAP port.
		for ((i = 0; i < 100; i++)); do
			ip link show "$IF_A" | grep -q LOWER_UP && break
			sleep 0.1
		done
		ip link show "$IF_A" | grep -q LOWER_UP || vd_fail "TAP $IF_A has no carrier"
		;;
	esac
}

# vd_pktcheck NAME DEVARGS_LIST -- PKTCHECK_OPTS...: runs vd_pktcheck in the
# foreground on virtio-user ports (one per devargs string in DEVARGS_LIST,
# blank separated), logs to NAME.log and prints its summary line. Returns its
# exit status.
vd_pktcheck()
{
	local name=$1 devs=$2 d vdevs=() i=0 rc
	shift 2
	[ "$1" = -- ] && shift
	for d in $devs; do
		vdevs+=(--vdev "net_virtio_user$i,$d")
		i=$((i + 1))
	done
	echo "# $PKTCHECK ${vdevs[*]} -- $*" >"$VD_TMP/$name.log"
	VD_NAMES+=("$name")
	# shellcheck disable=SC2046
	timeout -k 5 "${VD_PKTCHECK_TIMEOUT:-90}" "$PKTCHECK" $(vd_fe_eal "$name" "${VD_FE_MB:-192}") \
		--lcores "0@$VD_CPU0" "${vdevs[@]}" -- "$@" >>"$VD_TMP/$name.log" 2>&1
	rc=$?
	grep -h '^PKTCHECK ' "$VD_TMP/$name.log" | sed "s/^/$name: /"
	[ $rc != 0 ] && grep -E '^(LOST|DUP|CORRUPT|REORDER|MISROUTED|BADCHAIN)|vd_pktcheck:' \
		"$VD_TMP/$name.log" | head -5 | sed "s/^/$name: /" >&2
	vd_check_log_clean "$name"
	return $rc
}

# vd_xstat PREFIX PORT NAME: one xstat of ethdev PORT of the DPDK process
# whose EAL file prefix is ${VD_UNIQ}-PREFIX ("vhostd" for the vhostd
# backend, "backend" for testpmd), read through its telemetry socket
# (prints nothing when unavailable).
vd_xstat()
{
	python3 - "${XDG_RUNTIME_DIR:-/var/run}/dpdk/${VD_UNIQ}-$1/dpdk_telemetry.v2" "$2" "$3" <<'PYEOF'
import json, socket, sys
try:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1])
    s.recv(4096)
    s.send(("/ethdev/xstats," + sys.argv[2]).encode())
    print(json.loads(s.recv(1 << 20).decode())["/ethdev/xstats"].get(sys.argv[3], ""))
except (OSError, ValueError, KeyError, TypeError):
    pass
PYEOF
}

# vd_summary_field NAME KEY: a value of the PKTCHECK line in NAME.log.
vd_summary_field()
{
	grep -h '^PKTCHECK ' "$VD_TMP/$1.log" | tr ' ' '\n' | sed -n "s/^$2=//p"
}
