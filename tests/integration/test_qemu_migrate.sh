#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Live migration on one host: a guest moves (QEMU -incoming over a unix socket)
# from a QEMU on vhostd port vmA to a QEMU on port vmB. Each port is linked to
# its own TAP; both TAPs sit in one Linux bridge that holds the host's address,
# so the bridge must learn the guest's MAC on the new TAP. During the
# migration the guest pings the host every second and loops SHA-256-verified
# TCP uploads and downloads (downloads are written into guest memory by
# vhostd, so a missing dirty-page log corrupts them or the guest). The
# destination starts paused (-S): once the migration completed, its RAM must
# equal the stopped source's page for page (vd_memcmp.py), which catches a
# write missing from the dirty log whether or not the guest trips over it.
# Passes when migration completes, RAM matches, pings resume on the
# destination, no transfer is corrupted and the bridge forwards to the guest
# through vmB's TAP. Argument: split (default) or packed, the guest's ring
# layout (the guest must have negotiated it).
# Skips (77) without qemu, a guest kernel, hugetlbfs or vhostd.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/guest/guest-lib.sh"

ring=${1:-split}
case "$ring" in
split) pk='' qpk=off ;;
packed) pk=packed=yes qpk=on ;;
*) echo "usage: $0 [split|packed]" >&2; exit 2 ;;
esac
vdg_start migrate python3
# QEMU before 9.0 (Debian 12 ships 7.2) loses guest-CPU writes in a TCG
# migration: for a RAM block that is a whole number of 64-page bitmap words
# its dirty sync clears bits without resetting the TCG TLB, so stores through
# TLB entries cached before a sync go unrecorded (QEMU commit 03bfc2188f06,
# "physmem: Fix migration dirty bitmap coherency with TCG memory access").
# guest/migrate-control.sh shows it with no vhostd at all. 8 KiB more guest
# RAM sends QEMU down its per-page sync, which does reset the TLB.
if [ "$VDG_ACCEL" = tcg ]; then
	# shellcheck disable=SC2034 # read by vdg_qemu
	VDG_MEM_PAD_K=8
	[ "${VHOSTD_GUEST_MEMBACKEND:-memfd}" = memfd ] ||
		vdg_log "note: hugetlbfs guest RAM cannot be padded; QEMU < 9.0 under TCG may lose pages"
fi

sa=$VDG_TMP/vmA.sock
sb=$VDG_TMP/vmB.sock
ta=vdg${VDG_ID}a
tb=vdg${VDG_ID}b
br=vdg${VDG_ID}br
{
	vdg_conf_eal
	vdg_conf_vhu vmA "$sa" tso=yes ${pk:+"$pk"}
	vdg_conf_tap tapA "net_tap_vdg${VDG_ID}a" "$ta"
	vdg_conf_link a vmA tapA
	vdg_conf_vhu vmB "$sb" tso=yes ${pk:+"$pk"}
	vdg_conf_tap tapB "net_tap_vdg${VDG_ID}b" "$tb"
	vdg_conf_link b vmB tapB
} >"$VDG_TMP/vhostd.conf"
vdg_vhostd_serve d "$VDG_TMP/vhostd.conf" "$sa" "$sb"
vdg_tap_up "$ta" ""
vdg_tap_up "$tb" ""
vdg_bridge "$br" "$VDG_NET.1/24" "$ta" "$tb"

vdg_peer 1000000 600

mac=$(vdg_mac 1)
secs=40
app="quiet vd.ip=$VDG_NET.2/24 vd.peer=$VDG_NET.1 vd.test=link,pingwatch vd.secs=$secs vd.tcp=1 \
vd.rxsha=$VDG_RXSHA vd.maxgap=10 vd.timeout=240"
t0=$SECONDS
# shellcheck disable=SC2046
vdg_qemu src "$app" $(vdg_vhu_args n0 "$sa" client "mac=$mac" "packed=$qpk")
ps=$VDG_PID
slog=$VDG_LOG
# shellcheck disable=SC2046
vdg_qemu dst "$app" $(vdg_vhu_args n0 "$sb" client "mac=$mac" "packed=$qpk") -incoming "unix:$VDG_TMP/mig.sock" -S
pd=$VDG_PID
dlog=$VDG_LOG

vdg_expect src "$ps" d '^VDTEST PING 3 ok' 150 "no traffic before the migration"
tm=$SECONDS
vdg_migrate src "$VDG_TMP/mig.sock" 90 || { vdg_dump src; vdg_dump dst; vdg_fail "migration failed"; }
vdg_log "migrated in $((SECONDS - tm))s at guest ping $(grep -a -c '^VDTEST PING' "$slog")"
memok=0
vdg_ram_compare "$ps" dst "$pd" || memok=$?
vdg_log "$(head -1 "$VDG_TMP/memcmp.log")"
vdg_hmp dst cont >/dev/null
vdg_kill "$ps"

vdg_wait_line "$dlog" '^VDTEST (DONE|TIMEOUT)' $((secs + 120)) "$pd" >/dev/null || true
rc=0
vdg_result "$dlog" pingwatch || rc=1
# VIRTIO_F_RING_PACKED is bit 34 of the link check's feature string.
feat=$(vdg_features "$slog")
want=0
[ "$ring" = packed ] && want=1
[ "${feat:34:1}" = "$want" ] || { vdg_log "guest ring is not $ring (features=$feat)"; rc=1; }
grep -a -q '^VDTEST PING [0-9]* ok' "$dlog" || { vdg_log "no ping ran on the destination"; rc=1; }
# The network learned the new place: the guest's MAC is behind vmB's TAP.
fdb=$(bridge fdb show br "$br" | grep -i "^$mac " || true)
vdg_log "bridge: ${fdb:-no entry for $mac}"
case "$fdb" in *"dev $tb "*) ;; *) rc=1 ;; esac
kill -0 "$VDG_VHOSTD_PID" 2>/dev/null || { vdg_log "vhostd died"; rc=1; }
[ "$memok" -eq 0 ] || { cat "$VDG_TMP/memcmp.log" >&2; rc=1; }
if [ $rc -ne 0 ]; then
	vdg_dump src
	vdg_dump dst
	vdg_vhostd_log d
	vdg_fail "migration scenario failed"
fi
vdg_log "PASS ($ring ring, accel=$VDG_ACCEL, $((SECONDS - t0))s)"
