#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Guest memory hotplug under traffic: a 256 MiB guest (-m ...,slots=2,maxmem=1G)
# on a vhostd port bridged to a TAP pings the host every second and loops
# SHA-256-verified TCP uploads and downloads; meanwhile a 128 MiB pc-dimm is
# plugged in (HMP object_add + device_add). QEMU hands the new region to
# vhostd with ADD_MEM_REG while the rings run; the guest onlines it
# (memhp_default_state=online) as zone Normal above 4 GiB, which its kernel
# then prefers for its allocations, so RX buffers it posts from then on can
# lie in the new region and vhostd must translate them there.
# Passes when vhostd accepted the region (its debug log), the guest's memory
# grew and it allocated from the new zone, and no ping or transfer failed.
# Skips (77) without qemu, a guest kernel, hugetlbfs or vhostd.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/guest/guest-lib.sh"

vdg_start hotplug python3

sock=$VDG_TMP/vm0.sock
tap=vdg${VDG_ID}t
{
	vdg_conf_eal
	echo "log-level = vhu.*:debug"
	vdg_conf_vm_tap "$sock" "$tap" mode=server tso=yes
} >"$VDG_TMP/vhostd.conf"
vdg_vhostd_serve d "$VDG_TMP/vhostd.conf" "$sock"
vdg_tap_up "$tap" "$VDG_NET.1/24"
vdg_peer 1000000 600

mac=$(vdg_mac 1)
# shellcheck disable=SC2034 # read by vdg_qemu
VDG_MEM_OPTS=",slots=2,maxmem=1G"
t0=$SECONDS
# shellcheck disable=SC2046
vdg_qemu g "quiet memhp_default_state=online vd.ip=$VDG_NET.2/24 vd.peer=$VDG_NET.1 \
vd.test=pingwatch vd.secs=30 vd.tcp=1 vd.rxsha=$VDG_RXSHA vd.maxgap=5 vd.timeout=200" \
	$(vdg_vhu_args n0 "$sock" client "mac=$mac")
pg=$VDG_PID
log=$VDG_LOG
vdg_expect g "$pg" d '^VDTEST PING 3 ok' 120 "no traffic before the hotplug"
vdg_hmp g "object_add memory-backend-memfd,id=hp1,size=128M,share=on" >/dev/null
vdg_hmp g "device_add pc-dimm,id=dimm1,memdev=hp1" >/dev/null
dimm=$(vdg_hmp g "info memory-devices" | tr -d '\r' | sed -n 's/^ *addr: *//p')
vdg_log "pc-dimm plugged at ${dimm:-nowhere}"

vdg_wait_line "$log" '^VDTEST (DONE|TIMEOUT)' 150 "$pg" >/dev/null || true
rc=0
vdg_result "$log" pingwatch || rc=1
[ -n "$dimm" ] || { vdg_log "QEMU shows no memory device"; rc=1; }
# ADD_MEM_REG's debug line: "ADD_MEM_REG: gpa 0x... size 0x8000000 ...".
grep -a -q "ADD_MEM_REG: gpa ${dimm:-none} size 0x8000000 " "$VDG_TMP/d.vhostd.log" ||
	{ vdg_log "vhostd logged no ADD_MEM_REG for the dimm"; rc=1; }
memkb=$(sed -n 's/^VDTEST RESULT pingwatch .* mem_kb=\([0-9]*\).*/\1/p' "$log")
normal=$(sed -n 's/^VDTEST RESULT pingwatch .* normal_used_kb=\([0-9]*\).*/\1/p' "$log")
vdg_log "guest memory ${memkb:-?} KiB, ${normal:-?} KiB used in zone Normal"
# Without the dimm a 256 MiB guest's MemTotal is below 256 MiB.
[ "${memkb:-0}" -gt $((256 * 1024)) ] || { vdg_log "the guest did not online the dimm"; rc=1; }
[ "${normal:-0}" -gt 0 ] || { vdg_log "the guest allocated nothing from the dimm"; rc=1; }
kill -0 "$VDG_VHOSTD_PID" 2>/dev/null || { vdg_log "vhostd died"; rc=1; }
if [ $rc -ne 0 ]; then
	vdg_dump g
	vdg_vhostd_log d
	vdg_fail "memory hotplug scenario failed"
fi
vdg_log "PASS (accel=$VDG_ACCEL, $((SECONDS - t0))s)"
