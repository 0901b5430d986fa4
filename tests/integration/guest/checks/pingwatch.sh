# SPDX-License-Identifier: BSD-3-Clause
# Check "pingwatch": traffic across a disruption the host causes (backend
# restart, live migration). One ping to vd.peer about every second for vd.secs
# seconds (default 40), each reported as "VDTEST PING <n> ok|lost" so the host
# can time its action; with vd.tcp=1 a loop of SHA-256-verified 1 MB uploads
# (see tcp.sh; plus a verified download when vd.rxsha is set) runs alongside. Passes when pings worked before the first loss,
# at least vd.tail (default 5) pings in a row worked after it (traffic
# resumed; a single late reply on a loaded TCG host does not fail the check),
# the longest outage is at most vd.maxgap pings (default 20) and no upload
# came back with a wrong hash (connections refused or reset during the outage
# are retried, not failures). vd.burn=1 adds a shell loop that writes guest
# memory without pause (migrate-control.sh).
secs=${VD_secs:-40}
tail=${VD_tail:-5}
maxgap_ok=${VD_maxgap:-20}
[ -n "${VD_peer:-}" ] || { note no-peer; exit 1; }
up() { cut -d. -f1 /proc/uptime; }

if [ "${VD_tcp:-0}" = 1 ]; then
	(
		good=0 retry=0 bad=0
		head -c 1048576 /dev/urandom >/tmp/pw.bin
		want=$(sha256sum </tmp/pw.bin | cut -d' ' -f1)
		while [ ! -f /tmp/pw.stop ]; do
			got=$(timeout 20 nc -w 3 "$VD_peer" "${VD_sinkport:-5001}" </tmp/pw.bin | tr -dc 0-9a-f)
			# With vd.rxsha also download (the backend writes guest memory:
			# during a migration that needs its dirty-page log).
			if [ "$got" = "$want" ] && [ -n "${VD_rxsha:-}" ]; then
				rsha=$(timeout 20 nc -w 3 "$VD_peer" "${VD_srcport:-5002}" </dev/null |
					sha256sum | cut -d' ' -f1)
				[ "$rsha" = "$VD_rxsha" ] || got=rx-$rsha
			fi
			if [ "$got" = "$want" ]; then
				good=$((good + 1))
			elif [ -z "$got" ]; then
				retry=$((retry + 1))
				sleep 1
			else
				bad=$((bad + 1))
				echo "pingwatch: bad transfer: $got"
			fi
			echo "$good $retry $bad" >/tmp/pw.tcp
		done
	) &
	tcppid=$!
fi

if [ "${VD_burn:-0}" = 1 ]; then
	(
		i=0
		while [ ! -f /tmp/pw.stop ]; do i=$((i + 1)); done
	) &
fi

n=0 ok=0 lost=0 gap=0 maxgap=0 streak=0 okfirst=0 best=0
end=$(($(up) + secs))
while [ "$(up)" -lt "$end" ]; do
	n=$((n + 1))
	if ping -c 1 -W 1 "$VD_peer" >/dev/null 2>&1; then
		ok=$((ok + 1))
		streak=$((streak + 1))
		gap=0
		if [ $lost -eq 0 ]; then
			okfirst=$((okfirst + 1))
		elif [ $streak -gt $best ]; then
			best=$streak
		fi
		echo "VDTEST PING $n ok"
		sleep 1
	else
		lost=$((lost + 1))
		streak=0
		gap=$((gap + 1))
		[ $gap -gt $maxgap ] && maxgap=$gap
		echo "VDTEST PING $n lost"
	fi
done
# Without any loss the whole run counts as "after".
[ $lost -eq 0 ] && best=$ok
note "pings=$n ok=$ok lost=$lost maxgap=$maxgap okfirst=$okfirst resumed=$best"
# Memory as the guest sees it at the end: total, and zone Normal's size and
# what the kernel took from it; a guest of less than 4 GiB has that zone only
# after a memory hotplug above 4 GiB (test_qemu_hotplug.sh).
note "mem_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)" \
	"$(awk '/^Node/ { z = $4 } z == "Normal" && $1 == "pages" && $2 == "free" { f = $3 }
		z == "Normal" && $1 == "managed" { m = $2 }
		END { printf "normal_kb=%d normal_used_kb=%d", m * 4, (m - f) * 4 }' /proc/zoneinfo)"
rc=0
[ $okfirst -ge 1 ] && [ $best -ge "$tail" ] && [ $maxgap -le "$maxgap_ok" ] || rc=1
touch /tmp/pw.stop
if [ -n "${tcppid:-}" ]; then
	# The current upload ends within its own timeout.
	i=0
	while kill -0 $tcppid 2>/dev/null && [ $i -lt 25 ]; do
		sleep 1
		i=$((i + 1))
	done
	kill $tcppid 2>/dev/null
	set -- $(cat /tmp/pw.tcp 2>/dev/null || echo 0 0 0)
	note "tcp_ok=$1 tcp_retry=$2 tcp_bad=$3"
	[ "$1" -ge 1 ] && [ "$3" -eq 0 ] || rc=1
fi
exit $rc
