# SPDX-License-Identifier: BSD-3-Clause
# Check "tcp": TCP transfers the guest kernel itself segments and reassembles.
# Upload: vd.bytes (default 4 MiB) of random data to vd.peer:vd.sinkport (default
# 5001); the peer answers with the SHA-256 of what it received, which must match
# ours. Download (when vd.rxsha is given): read from vd.peer:vd.srcport (default
# 5002) until EOF; size and SHA-256 must equal vd.rxbytes and vd.rxsha.
# vd.rounds repeats the whole check (default 1); vd.retry, see below.
b=${VD_bytes:-4194304}
[ -n "${VD_peer:-}" ] || { note no-peer; exit 1; }
r=0
rounds=${VD_rounds:-1}
while [ $r -lt $rounds ]; do
	r=$((r + 1))
	head -c "$b" /dev/urandom >/tmp/tx.bin
	want=$(sha256sum </tmp/tx.bin | cut -d' ' -f1)
	t0=$(cut -d' ' -f1 /proc/uptime)
	# vd.retry: seconds to keep trying while the peer does not answer yet
	# (a peer guest may still be booting); a wrong hash is never retried.
	try=0
	while :; do
		got=$(nc -w 10 "$VD_peer" "${VD_sinkport:-5001}" </tmp/tx.bin | tr -dc 0-9a-f)
		[ -z "$got" ] && [ $try -lt "${VD_retry:-0}" ] || break
		try=$((try + 1))
		sleep 1
	done
	t1=$(cut -d' ' -f1 /proc/uptime)
	if [ "$got" != "$want" ]; then
		note "round=$r upload=bad want=$want got=${got:-none}"
		exit 1
	fi
	if [ -n "${VD_rxsha:-}" ]; then
		t2=$(cut -d' ' -f1 /proc/uptime)
		nc -w 10 "$VD_peer" "${VD_srcport:-5002}" </dev/null >/tmp/rx.bin
		t3=$(cut -d' ' -f1 /proc/uptime)
		rsz=$(wc -c </tmp/rx.bin)
		rsha=$(sha256sum </tmp/rx.bin | cut -d' ' -f1)
		if [ "$rsha" != "$VD_rxsha" ] || [ "$rsz" != "${VD_rxbytes:-$rsz}" ]; then
			note "round=$r download=bad size=$rsz sha=$rsha"
			exit 1
		fi
	fi
	rm -f /tmp/tx.bin /tmp/rx.bin
done
note "rounds=$rounds upload=ok bytes=$b secs=$(awk "BEGIN { print $t1 - $t0 }") sha=$want"
[ -z "${VD_rxsha:-}" ] || note "download=ok bytes=$rsz secs=$(awk "BEGIN { print $t3 - $t2 }")"
exit 0
