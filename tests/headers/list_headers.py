#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Print "<dir> <path relative to the source root>" for every *.h under the
# given directories, sorted, for tests/headers/meson.build. Run at configure
# time, so a new header is checked after the next (re)configure.
import os
import sys

root = sys.argv[1]
for d in sys.argv[2:]:
    top = os.path.join(root, d)
    found = []
    for dirpath, _, names in os.walk(top):
        found += [os.path.relpath(os.path.join(dirpath, n), root) for n in names if n.endswith('.h')]
    for path in sorted(found):
        print(d, path)
