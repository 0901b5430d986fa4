#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Compare the guest RAM of two QEMU processes page by page.

After a live migration completes, the source is paused for good and a
destination started with -S has not run yet: their RAM must be identical.
A page that differs was written on the source and never sent, i.e. a write
missing from the dirty log (ours, for the pages vhostd writes). Both QEMUs
must use a shared memory backend (memfd or a hugetlbfs file), which this
script reads through /proc/PID/fd.

usage: vd_memcmp.py SRC_PID DST_PID
Exit 0 when identical, 1 when pages differ (listed), 2 on error.
"""
import os
import sys

PAGE = 4096
CHUNK = 1 << 20


def ram_fd(pid):
    """The largest guest-RAM backing file the process holds open."""
    best, size = None, -1
    d = f"/proc/{pid}/fd"
    for name in os.listdir(d):
        path = os.path.join(d, name)
        try:
            target = os.readlink(path)
            st = os.stat(path)
        except OSError:
            continue
        if "memory-backend-memfd" in target or "qemu_back_mem" in target:
            if st.st_size > size:
                best, size = path, st.st_size
    if best is None:
        raise SystemExit(f"vd_memcmp: no guest RAM file open in process {pid}")
    return best, size


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        (pa, sa), (pb, sb) = ram_fd(sys.argv[1]), ram_fd(sys.argv[2])
    except (OSError, SystemExit) as e:
        print(f"vd_memcmp: {e}", file=sys.stderr)
        return 2
    if sa != sb:
        print(f"vd_memcmp: RAM sizes differ: {sa} and {sb}")
        return 1
    diff = []
    with open(pa, "rb") as fa, open(pb, "rb") as fb:
        off = 0
        while off < sa:
            a, b = fa.read(CHUNK), fb.read(CHUNK)
            if a != b:
                for p in range(0, len(a), PAGE):
                    if a[p:p + PAGE] != b[p:p + PAGE]:
                        diff.append(off + p)
            off += len(a)
            if not a:
                break
    if not diff:
        print(f"vd_memcmp: {sa >> 20} MiB identical")
        return 0
    print(f"vd_memcmp: {len(diff)} of {sa // PAGE} pages differ (guest-physical, first 20):")
    with open(pa, "rb") as fa, open(pb, "rb") as fb:
        for off in diff[:20]:
            fa.seek(off)
            fb.seek(off)
            a, b = fa.read(PAGE), fb.read(PAGE)
            n = sum(1 for x, y in zip(a, b) if x != y)
            first = next(i for i in range(PAGE) if a[i] != b[i])
            print(f"  0x{off:x}: {n} bytes, first at +0x{first:x}: "
                  f"source {a[first:first + 8].hex()} destination {b[first:first + 8].hex()}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
