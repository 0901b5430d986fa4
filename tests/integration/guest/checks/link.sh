# SPDX-License-Identifier: BSD-3-Clause
# Check "link": the interface is up with carrier and reports what the guest
# driver negotiated, so the host can assert features (the virtio feature bit
# string, 1 = negotiated, bit 0 first), the MTU and the number of queue pairs.
n=/sys/class/net/$VD_if
[ "$(cat $n/carrier)" = 1 ] || { note carrier=0; exit 1; }
drv=$(basename "$(readlink $n/device/driver)")
feat=$(cat $n/device/features 2>/dev/null)
nrx=$(ls -d $n/queues/rx-* | wc -l)
ntx=$(ls -d $n/queues/tx-* | wc -l)
note "drv=$drv mtu=$(cat $n/mtu) mac=$(cat $n/address) rxq=$nrx txq=$ntx features=$feat"
[ "$drv" = virtio_net ] || exit 1
if [ -n "${VD_queues:-}" ]; then
	[ "$nrx" = "$VD_queues" ] && [ "$ntx" = "$VD_queues" ] || exit 1
fi
exit 0
