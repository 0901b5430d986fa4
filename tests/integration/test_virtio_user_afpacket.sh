#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# DPDK virtio-user guests <-> vhostd <-> afpacket: the split/packed x mrg_rxbuf x
# queues x frame-size matrix with byte-exact payload checks (see
# virtio_user_matrix.sh). VD_BACKEND=testpmd runs it on DPDK's net_vhost.
exec "$(dirname "$0")/virtio_user_matrix.sh" afpacket
