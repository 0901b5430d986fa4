#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Upper bound of any backend on this harness: vhostd built with
# bench/ceiling.patch (fast paths move no frame data: guest TX frames are not
# read, guest RX buffers are not written; descriptors and completions as
# usual) as arm B of bench/run.py against rte_vhost. A correct backend must
# at least do this much, so where the ceiling is below 1.2x rte_vhost, no
# backend reaches 1.2x on this harness: the frontend is the limit.
#
# Usage: bench/ceiling.sh [bench/run.py options]
#   e.g. bench/ceiling.sh --rounds 8 --warmup 0.5 --window 1.0 --mrg on --queues 1 \
#            --sizes 64 --scenarios loopback,guest_tx
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
work=$(mktemp -d /tmp/vhostd-ceiling.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The committed tree, not the working copy: the figure belongs to a commit.
mkdir "$work/src-tree"
git -C "$root" archive HEAD | tar -x -C "$work/src-tree"
if ! patch -d "$work/src-tree" -p1 --dry-run -s < "$here/ceiling.patch"; then
	echo "ceiling.patch no longer applies to HEAD: update it" >&2
	exit 1
fi
patch -d "$work/src-tree" -p1 -s < "$here/ceiling.patch"
meson setup "$work/build" "$work/src-tree" -Dtests=false > "$work/setup.log"
ninja -C "$work/build" pmd/librte_net_vhostd.so > "$work/build.log"
python3 "$here/run.py" --build "$work/build" --label ceiling "$@"
