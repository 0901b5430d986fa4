# SPDX-License-Identifier: BSD-3-Clause
# Check "mq": the guest enabled vd.queues (default 2) queue pairs and sends one
# TCP flow from each vCPU at the same time. virtio_net maps vCPU i to TX queue
# i (XPS), so pinning each sender with taskset puts a flow on every queue; the
# host's per-queue counters show the spread. Each flow's bytes are verified
# with SHA-256 as in tcp.sh (echo-hash peer on vd.sinkport).
q=${VD_queues:-2}
n=/sys/class/net/$VD_if
[ -n "${VD_peer:-}" ] || { note no-peer; exit 1; }
nrx=$(ls -d $n/queues/rx-* | wc -l)
ntx=$(ls -d $n/queues/tx-* | wc -l)
xps=
i=0
while [ $i -lt "$ntx" ]; do
	xps="$xps$(cat $n/queues/tx-$i/xps_cpus 2>/dev/null | tr -d ' ,'),"
	i=$((i + 1))
done
note "rxq=$nrx txq=$ntx cpus=$(nproc) xps=$xps"
[ "$nrx" = "$q" ] && [ "$ntx" = "$q" ] || exit 1
b=${VD_bytes:-2097152}
i=0
while [ $i -lt "$q" ]; do
	(
		head -c "$b" /dev/urandom >/tmp/mq$i.bin
		want=$(sha256sum </tmp/mq$i.bin | cut -d' ' -f1)
		got=$(taskset $((1 << i)) nc -w 10 "$VD_peer" "${VD_sinkport:-5001}" </tmp/mq$i.bin |
			tr -dc 0-9a-f)
		[ "$got" = "$want" ] && echo ok >/tmp/mq$i.res || echo "bad:$got" >/tmp/mq$i.res
	) &
	i=$((i + 1))
done
wait
rc=0
i=0
while [ $i -lt "$q" ]; do
	r=$(cat /tmp/mq$i.res 2>/dev/null)
	note "flow$i=${r:-none}"
	[ "$r" = ok ] || rc=1
	i=$((i + 1))
done
exit $rc
