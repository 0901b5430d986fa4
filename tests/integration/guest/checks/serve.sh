# SPDX-License-Identifier: BSD-3-Clause
# Check "serve": the server end of a guest-to-guest test. Answers vd.conns
# (default 1) TCP connections on port vd.sinkport (default 5001) with the
# SHA-256 of what the client sent (the peer guest's "tcp" check verifies it)
# and pings vd.peer meanwhile. Passes when every connection was served within
# vd.secs seconds (default 90) and every ping came back.
conns=${VD_conns:-1}
port=${VD_sinkport:-5001}
[ -n "${VD_peer:-}" ] || { note no-peer; exit 1; }
(
	i=0
	while [ $i -lt "$conns" ]; do
		nc -l -p "$port" -e /checks/echohash && i=$((i + 1))
	done
	touch /tmp/serve.done
) &
spid=$!
# The peer may still be booting: retry the pings for a while.
i=0
until ping -c 1 -W 1 "$VD_peer" >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 60 ] || break
done
out=$(ping -c "${VD_count:-5}" -W 3 "$VD_peer" 2>&1)
rx=$(echo "$out" | sed -n 's/.* \([0-9]*\) packets received.*/\1/p')
i=0
while [ ! -f /tmp/serve.done ] && [ $i -lt "${VD_secs:-90}" ]; do
	sleep 1
	i=$((i + 1))
done
kill $spid 2>/dev/null
note "peer=$VD_peer ping_received=${rx:-0}/${VD_count:-5} served=$([ -f /tmp/serve.done ] && echo $conns || echo incomplete)"
[ -f /tmp/serve.done ] && [ "${rx:-0}" = "${VD_count:-5}" ]
