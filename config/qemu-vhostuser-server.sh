#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Example: QEMU as the vhost-user SERVER, vhostd as the client
# ([port vm0] type=vhost-user, mode=client, path=$SOCK in vhostd.conf).
# QEMU creates the socket; wait=off lets the guest boot before vhostd connects
# (the link stays down until it does). This is the mode to choose when vhostd
# must be restartable or upgradable under running guests: vhostd re-dials
# (reconnect-ms) and QEMU hands it the rings again, the guest keeps its
# interface. Limit: QEMU 7.2 cannot restore a packed ring's position after a
# backend reconnect, so use split rings (the default) where vhostd may restart.
#
# Memory: see qemu-vhostuser-client.sh; the guest RAM must be a shared mapping
# (memfd or hugetlbfs with share=on) that backs a NUMA node.
#
# ACCEL=tcg runs without KVM (slow, for tests).
# Usage: SOCK=/run/vhostd/vm0.sock MEM=1G QUEUES=1 qemu-vhostuser-server.sh \
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
	-chardev "socket,id=chr0,path=$SOCK,server=on,wait=off" \
	-netdev "vhost-user,id=net0,chardev=chr0,queues=$QUEUES" \
	-device "$dev" \
	-nographic "$@"
