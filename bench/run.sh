#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# One-command benchmark: vhostd against DPDK's rte_vhost (see bench/README.md).
#   bench/run.sh --quick --build /tmp/build-me     smoke run, 3 rounds
#   bench/run.sh --build /tmp/build-me             full matrix, 8 rounds
#   bench/run.sh --vhostd proxy                    A/A run: harness self-check
# All arguments go to run.py (python3 standard library only).
exec python3 "$(dirname "$0")/run.py" "$@"
