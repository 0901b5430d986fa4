#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Example: QEMU as the vhost-user CLIENT of a vhostd port in server mode
# ([port vm0] type=vhost-user, mode=server, path=$SOCK in vhostd.conf).
# vhostd owns the socket; QEMU dials it and, with reconnect=1 on the chardev,
# re-dials every second if vhostd restarts (without it QEMU never re-dials).
#
# vhost-user needs guest RAM that vhostd can map: it must be a shared file
# mapping (share=on) and must back all of the guest's memory, hence the
# explicit NUMA node on the memory backend. Two choices:
#   memfd (default):   -object memory-backend-memfd,id=mem,size=$MEM,share=on
#   hugetlbfs (faster: fewer TLB misses, no page faults in vhostd's datapath):
#     -object memory-backend-file,id=mem,size=$MEM,mem-path=/dev/hugepages,share=on,prealloc=on
# Queues: queues=N on the netdev plus mq=on on the device, and give the guest at
# least N vCPUs (Linux enables one queue pair per vCPU); MSI-X needs 2N+2 vectors.
# Under TCG (no KVM) QEMU 7.2 vhost-user with MSI-X crashes: add vectors=0.
#
# ACCEL=tcg runs without KVM (slow, for tests).
# Usage: SOCK=/run/vhostd/vm0.sock MEM=1G QUEUES=1 qemu-vhostuser-client.sh \
#            -drive file=disk.qcow2,if=virtio [more QEMU args]
set -eu
SOCK=${SOCK:-/run/vhostd/vm0.sock}
MEM=${MEM:-1G}
QUEUES=${QUEUES:-1}
MAC=${MAC:-52:54:00:12:34:56}
HUGE=${HUGE:-0}
ACCEL=${ACCEL:-kvm}

if [ "$HUGE" = 1 ]; then
	memobj="memory-backend-file,id=mem,size=$MEM,mem-path=/dev/hugepages,share=on,prealloc=on"
else
	memobj="memory-backend-memfd,id=mem,size=$MEM,share=on"
fi
dev="virtio-net-pci,netdev=net0,mac=$MAC"
[ "$QUEUES" -gt 1 ] && dev="$dev,mq=on"
cpu=host
if [ "$ACCEL" = tcg ]; then
	cpu=max
	dev="$dev,vectors=0"
elif [ "$QUEUES" -gt 1 ]; then
	dev="$dev,vectors=$((2 * QUEUES + 2))"
fi

exec qemu-system-x86_64 -machine "q35,accel=$ACCEL" -cpu "$cpu" -smp "$QUEUES" -m "$MEM" \
	-object "$memobj" -numa node,memdev=mem \
	-chardev "socket,id=chr0,path=$SOCK,reconnect=1" \
	-netdev "vhost-user,id=net0,chardev=chr0,queues=$QUEUES" \
	-device "$dev" \
	-nographic "$@"
