#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Proves the checker before it judges vhostd: vd_pktcheck between two
# virtio-user guests through DPDK's own vhost PMD (testpmd net_vhost, io
# forwarding) must pass a clean run, and must fail, with the exact counter,
# when it corrupts, duplicates or drops one frame on purpose (--inject).
# Jumbo multi-segment frames on a packed ring are included, since that is where
# a copy bug in the checker itself would hide.

set -u
. "$(dirname "$0")/lib.sh"

vd_init virtio_user_selftest
vd_need_exe PKTCHECK
vd_need_hugepages 512
S0=$VD_TMP/vm0.sock
S1=$VD_TMP/vm1.sock
export VD_MTU=9000
VD_MBUF_SIZE=10368 vd_backend_start testpmd "vhost:$S0:1" "vhost:$S1:1"

DEVS="path=$S0,packed_vq=1 path=$S1,packed_vq=1"
COMMON=(--mode pair --count 600 --window 32 --drain-ms 200 --timeout 30)

# expect NAME RC KEY VALUE OPTS...: run, check exit status and one counter.
expect()
{
	local name=$1 want_rc=$2 key=$3 want=$4 rc got
	shift 4
	vd_pktcheck "$name" "$DEVS" -- "${COMMON[@]}" "$@"
	rc=$?
	got=$(vd_summary_field "$name" "$key")
	[ "$rc" = "$want_rc" ] || vd_fail "$name: exit status $rc, want $want_rc"
	[ "$got" = "$want" ] || vd_fail "$name: $key=$got, want $want"
}

expect clean_9000 0 received 600 --size 9000
expect clean_64_bidir 0 received 1200 --size 64 --bidir
expect corrupt 1 corrupt 1 --size 9000 --inject corrupt:100
expect dup 1 dup 1 --size 1518 --inject dup:200
expect drop 1 lost 1 --size 64 --inject drop:300
# a frame corrupted in its last segment is also counted lost, never received
[ "$(vd_summary_field corrupt received)" = 599 ] || vd_fail "corrupt frame was counted received"
vd_backend_stop
vd_log "checker self-test passed"
