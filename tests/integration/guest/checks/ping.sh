# SPDX-License-Identifier: BSD-3-Clause
# Check "ping": the guest kernel sends ICMP echo requests to vd.peer and must get
# every reply (vd.count, default 5; vd.psize payload bytes, default 56). With a
# payload above 1472 it also proves no IP fragmentation happened, by comparing
# the guest's FragCreates/ReasmReqds counters before and after (jumbo frames).
c=${VD_count:-5}
s=${VD_psize:-56}
[ -n "${VD_peer:-}" ] || { note no-peer; exit 1; }
frag() {
	awk '$1 == "Ip:" && $2 !~ /^[0-9]/ { for (i = 2; i <= NF; i++) col[$i] = i; next }
	     $1 == "Ip:" { print $col["FragCreates"] + $col["ReasmReqds"] }' /proc/net/snmp
}
f0=$(frag)
out=$(ping -c "$c" -s "$s" -W 3 "$VD_peer" 2>&1)
echo "$out"
f1=$(frag)
rx=$(echo "$out" | sed -n 's/.* \([0-9]*\) packets received.*/\1/p')
note "peer=$VD_peer size=$s sent=$c received=${rx:-0} frags=$((f1 - f0))"
[ "${rx:-0}" = "$c" ] || exit 1
# Fragments are only an error when the caller says the path MTU fits the ping.
[ "${VD_nofrag:-0}" = 0 ] || [ $((f1 - f0)) = 0 ]
