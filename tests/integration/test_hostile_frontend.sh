#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# A hostile vhost-user frontend against a running vhostd (issue 2): port A is
# attacked case by case from outside the process by hostile_frontend.py
# (malformed and truncated messages, wrong sizes, missing and surplus fds,
# bad vring indexes, sizes and addresses, hostile memory tables, a memfd
# shrunk under the datapath, pipes and saturated eventfds as kick/call/err
# fds, connect loops, a peer that never reads, concurrent connections, a
# seeded random storm). After each case the daemon must be alive, A and B
# must each complete a real handshake and loop a frame through their
# net_ring, B within a time bound, and the daemon must hold no more fds than
# when idle. Then a deliberately broken expectation must make the checker
# fail (so it can), and vhostd must still exit cleanly on SIGTERM.
#
# HOSTILE_ONLY=case,case runs a subset; HOSTILE_SEED and HOSTILE_STORM_S
# change the storm; VD_KEEP=1 keeps the logs.
set -u
. "$(dirname "$0")/lib.sh"

vd_init hostile_frontend
vd_need_exe VHOSTD
vd_need_hugepages 300
command -v python3 >/dev/null || vd_skip "no python3"
python3 -c 'import os, socket; os.eventfd; os.memfd_create; socket.send_fds' 2>/dev/null ||
	vd_skip "python3 >= 3.10 with os.eventfd/memfd_create needed"

HF=$(dirname "$0")/hostile_frontend.py
SA=$VD_TMP/a.sock
SB=$VD_TMP/b.sock

# net_ring names: the ring PMD refuses names past 17 characters.
vd_backend_start vhostd "vhost:$SA:1" "vdev:net_ring$$a" \
	"vhost:$SB:1" "vdev:net_ring$$b"
PID=$(vd_pid backend)
vd_log "vhostd pid $PID, A=$SA B=$SB"

only=()
[ -n "${HOSTILE_ONLY:-}" ] && only=(--only "$HOSTILE_ONLY")
timeout -k 5 240 python3 "$HF" --a "$SA" --b "$SB" --pid "$PID" \
	--log "$VD_TMP/backend.log" --seed "${HOSTILE_SEED:-20240501}" \
	--storm-seconds "${HOSTILE_STORM_S:-6}" "${only[@]}"
rc=$?

# The checker must be able to fail: a broken expectation on one case.
if [ $rc = 0 ] && vd_alive backend; then
	timeout -k 5 60 python3 "$HF" --a "$SA" --b "$SB" --pid "$PID" \
		--only ring_sizes --mutant nack-is-ack >"$VD_TMP/mutant.log" 2>&1
	mrc=$?
	if [ $mrc != 1 ]; then
		cat "$VD_TMP/mutant.log"
		vd_fail "the checker did not fail on a broken expectation (exit $mrc)"
	fi
	vd_log "self-check: a broken expectation fails as it should"
fi

if ! vd_alive backend; then
	vd_tail backend 40
	vd_fail "vhostd died during the attack"
fi
vd_backend_stop
[ $rc = 0 ] || vd_fail "hostile frontend: some cases failed (exit $rc, see above)"
vd_log "PASS"
