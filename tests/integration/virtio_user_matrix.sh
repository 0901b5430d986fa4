#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# DPDK virtio-user guests <-> backend <-> TOPO, over a matrix of ring layout
# (split, packed), mergeable RX buffers (on, off), queue pairs (1, 2) and frame
# sizes (64, 1518, 9000 B). vd_pktcheck plays the guest, sends short bursts
# (a few thousand frames per case, flow-controlled by --window so a lossless
# path must lose nothing) and checks every byte of every frame.
#
#   TOPO ring      guest -> backend -> net_ring loopback -> backend -> guest
#   TOPO g2g       guest <-> backend <-> guest (both directions at once)
#   TOPO tap       guest <-> backend <-> TAP vdtX ... kernel ... af_packet on
#                  vdtX <-> backend <-> guest (the TAP stands in for the VF)
#   TOPO afpacket  guest <-> backend <-> af_packet(vethA) = veth =
#                  af_packet(vethB) <-> backend <-> guest
#
# The backend is vhostd unless VD_BACKEND=testpmd (DPDK's net_vhost in io
# forwarding, the reference the harness was proven on; VD_BACKEND=pmd is stock
# testpmd with vhostd's net_vhostd loaded by -d). VD_MATRIX=full runs every
# combination; VD_MATRIX=quick (the default for the kernel topologies, which
# are slower) covers every value of every axis at least once.
# Usage: virtio_user_matrix.sh TOPO (the test_virtio_user_*.sh wrappers).

set -u
. "$(dirname "$0")/lib.sh"

TOPO=${1:?topology}
BACKEND=${VD_BACKEND:-vhostd}
case $TOPO in
tap | afpacket) MATRIX=${VD_MATRIX:-quick} ;;
*) MATRIX=${VD_MATRIX:-full} ;;
esac
vd_init "virtio_user_${TOPO}_${BACKEND}"
vd_need_exe PKTCHECK
[ "$BACKEND" = vhostd ] && vd_need_exe VHOSTD
[ "$BACKEND" = pmd ] && vd_need_file PMD_SO
vd_need_hugepages 768

# Loss allowed per case: none on DPDK-only paths; the kernel paths are
# lossless at this rate too in practice, but a busy shared machine can make
# the kernel drop, so they get a small margin and a paced rate.
LOSS=0
PACE=()
KERNEL=
vd_topo_init "$TOPO"
case $TOPO in
tap | afpacket)
	KERNEL=1
	LOSS=${VD_KERNEL_LOSS:-0.5}
	PACE=(--rate 20000 --allow-foreign)
	;;
esac

# Frames up to 9000 B. DPDK 22.11's net_tap (max frame 1522) and
# net_af_packet (1518) refuse an ethdev MTU above 1500, but neither enforces
# the MTU on its datapath: the kernel interfaces get MTU 9000 with ip(8) and
# the backend's mbufs are made large enough to hold a jumbo frame in one
# segment. DPDK-only paths get the MTU through the backend's config.
# The TAP PMD also drops on TX any frame longer than its ethdev MTU + 22,
# so jumbo frames cannot cross a TAP with DPDK 22.11: TAP runs 64 and 1518.
SIZES="64 1518 9000"
case $TOPO in
ring | g2g) export VD_MTU=9000 ;;
tap) SIZES="64 1518" ;;
esac
JUMBO=${SIZES##* }
export VD_MBUF_SIZE=10368

# Guests: one virtio-user port (ring: loop mode) or two (pair, both ways).
guest_devs()
{
	local q=$1 extra=$2
	case $TOPO in
	ring) echo "path=$S0,queues=$q$extra" ;;
	*) echo "path=$S0,queues=$q$extra path=$S1,queues=$q$extra" ;;
	esac
}

guest_mode()
{
	case $TOPO in
	ring) echo "--mode loop" ;;
	*) echo "--mode pair --bidir" ;;
	esac
}

FAILS=()
NCASES=0
run_case()
{
	local q=$1 ring=$2 mrg=$3 size=$4 extra="" count window name
	[ "$ring" = packed ] && extra=",packed_vq=1"
	extra="$extra,mrg_rxbuf=$mrg"
	case $size in
	64) count=4000 window=64 ;;
	1518) count=3000 window=64 ;;
	*) count=1000 window=32 ;;
	esac
	name="q${q}_${ring}_mrg${mrg}_${size}"
	NCASES=$((NCASES + 1))
	local args=(--queues "$q" --size "$size" --count "$count" --window "$window"
		--max-loss "$LOSS" --timeout 30 --link-timeout 10 "${PACE[@]}")
	# shellcheck disable=SC2046
	if ! vd_pktcheck "$name" "$(guest_devs "$q" "$extra")" -- $(guest_mode) "${args[@]}"; then
		# The kernel is not ours and the machine is shared: a kernel path
		# that only lost frames (nothing corrupt, duplicated, reordered or
		# misrouted) gets one more try, and the log says so.
		if [ -n "$KERNEL" ] && [ "$(vd_summary_field "$name" corrupt)" = 0 ] &&
			[ "$(vd_summary_field "$name" dup)" = 0 ] &&
			[ "$(vd_summary_field "$name" reordered)" = 0 ] &&
			[ "$(vd_summary_field "$name" misrouted)" = 0 ]; then
			vd_log "$name: loss on a kernel path, trying once more"
			# shellcheck disable=SC2046
			vd_pktcheck "${name}_again" "$(guest_devs "$q" "$extra")" -- $(guest_mode) \
				"${args[@]}" || FAILS+=("$name")
		else
			FAILS+=("$name")
		fi
	fi
	vd_alive backend || vd_fail "backend died during $name"
}

vd_topo_setup_kernel
for q in 1 2; do
	# shellcheck disable=SC2046
	VD_VDEV_QUEUES=$q vd_backend_start "$BACKEND" $(vd_topo_ports "$q")
	vd_topo_after_backend
	for ring in split packed; do
		for mrg in 1 0; do
			for size in $SIZES; do
				if [ "$MATRIX" = quick ]; then
					# every value of every axis once: mrg on with the
					# largest frame, mrg off with 64 (split) or 1518
					# (packed)
					[ "$mrg" = 1 ] && [ "$size" != "$JUMBO" ] && continue
					[ "$mrg" = 0 ] && [ "$ring" = split ] && [ "$size" != 64 ] && continue
					[ "$mrg" = 0 ] && [ "$ring" = packed ] && [ "$size" != 1518 ] && continue
				fi
				run_case "$q" "$ring" "$mrg" "$size"
			done
		done
	done
	vd_backend_stop
	rm -f "$S0" "$S1"
done

vd_log "$((NCASES - ${#FAILS[@]}))/$NCASES cases passed"
[ ${#FAILS[@]} = 0 ] || vd_fail "failed: ${FAILS[*]}"
exit 0
