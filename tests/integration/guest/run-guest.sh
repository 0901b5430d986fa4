#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Boot the test guest once, by hand or from a test, and report its checks.
#   run-guest.sh [--net user|server:SOCK|client:SOCK] [--dev OPTS] [--smp N]
#                [--test a,b] [--append "vd.x=y ..."] [--timeout S] [-- qemu args]
# --net user is QEMU's slirp (the host answers at 10.0.2.2, loopback only);
# server:/client: say which side of the vhost-user socket QEMU takes. --dev adds
# virtio-net-pci options (e.g. packed=on,mrg_rxbuf=off,queues=2). Prints every
# VDTEST line and the boot time; exits 0 when every check passed, 77 when no
# qemu or kernel can be had. VHOSTD_GUEST_KEEP=1 keeps the logs.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/guest-lib.sh"

net=user
devopts=
tests=link
append=
timeout=240
while [ $# -gt 0 ]; do
	case "$1" in
	--net) net=$2; shift 2 ;;
	--dev) devopts=$2; shift 2 ;;
	--smp) VDG_SMP=$2; shift 2 ;;
	--test) tests=$2; shift 2 ;;
	--append) append=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--) shift; break ;;
	*) echo "usage: see the top of $0" >&2; exit 2 ;;
	esac
done

vdg_init run
vdg_build
vdg_accel
mac=$(vdg_mac 1)
case "$net" in
user)
	dev="virtio-net-pci,netdev=n0,mac=$mac"
	[ -n "$devopts" ] && dev="$dev,$devopts"
	[ "$VDG_ACCEL" = tcg ] && dev="$dev,vectors=0"
	netargs=(-netdev user,id=n0,net=10.0.2.0/24 -device "$dev")
	append="vd.ip=10.0.2.15/24 vd.peer=10.0.2.2 $append"
	;;
server:* | client:*)
	IFS=, read -r -a o <<<"${devopts}"
	# shellcheck disable=SC2046
	netargs=($(vdg_vhu_args n0 "${net#*:}" "${net%%:*}" "mac=$mac" "${o[@]}"))
	;;
*) vdg_fail "--net $net" ;;
esac

t0=$SECONDS
vdg_qemu guest "vd.test=$tests vd.timeout=$timeout $append" "${netargs[@]}" "$@"
if ! vdg_wait_line "$VDG_LOG" '^VDTEST (DONE|TIMEOUT)' "$((timeout + 30))" "$VDG_PID" >/dev/null; then
	vdg_dump guest
	vdg_fail "guest did not finish"
fi
vdg_wait_exit "$VDG_PID" 20 || vdg_log "guest did not power off by itself"
grep -a '^VDTEST' "$VDG_LOG"
vdg_log "boot: eth0 up at guest uptime $(vdg_up_time "$VDG_LOG")s, whole run $((SECONDS - t0))s wall"
rc=0
for t in ${tests//,/ }; do
	vdg_result "$VDG_LOG" "$t" || rc=1
done
[ $rc -eq 0 ] || vdg_dump guest
exit $rc
