# SPDX-License-Identifier: BSD-3-Clause
# Check "jumbo": pings of vd.jsize payload bytes (default 8000) to vd.peer that
# must all come back without IP fragmentation (see ping.sh), after waiting up
# to 60 s for the peer to answer at all (a peer guest may still be booting).
i=0
until ping -c 1 -W 1 "$VD_peer" >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 60 ] || break
done
VD_psize=${VD_jsize:-8000}
VD_nofrag=1
. /checks/ping.sh
