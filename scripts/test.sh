#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The whole test suite, as CI runs it: set up the machine, build release,
# sanitizer (ASan/UBSan) and fuzzer trees, run the unit tests in the release
# and the sanitizer build, each fuzz target for a short fixed time, the
# integration tests against real frontends, and the format check.
# Prints one closing line: "N passed, N failed, N skipped".
# FUZZ_SECONDS (default 20) sets each fuzz run; SKIP_INTEGRATION=1 skips them.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bash scripts/setup.sh || exit 1

failed_steps=()
step() {
	local name=$1
	shift
	echo "=== $name"
	if ! "$@"; then
		echo "=== $name: FAILED"
		failed_steps+=("$name")
		return 1
	fi
}

setup_tree() {
	local dir=$1
	shift
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
}

# Fresh test logs each run, so the count below is this run's.
rm -f build/meson-logs/testlog*.json build-asan/meson-logs/testlog*.json

step "configure release" setup_tree build --buildtype=release &&
	step "build release" ninja -C build
step "configure asan" setup_tree build-asan -Dbuildtype=debug \
	-Db_sanitize=address,undefined -Db_lundef=false &&
	step "build asan" ninja -C build-asan
setup_fuzz_tree() (
	export CC=clang
	setup_tree "$@"
)
step "configure fuzz" setup_fuzz_tree build-fuzz -Dfuzz=true -Dtests=true \
	-Dbuildtype=debug -Db_lundef=false &&
	step "build fuzz" ninja -C build-fuzz

step "unit (release)" meson test -C build --suite unit --print-errorlogs --num-processes 2
step "unit (asan)" meson test -C build-asan --suite unit --print-errorlogs --num-processes 2

# Fuzz targets: each a short fixed-time run from its seed corpus.
fuzz_pass=0 fuzz_fail=0
for f in build-fuzz/tests/fuzz/fuzz_*; do
	[ -f "$f" ] && [ -x "$f" ] || continue
	name=$(basename "$f")
	corpus="tests/fuzz/corpus/${name#fuzz_}"
	work=$(mktemp -d)
	[ -d "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null
	echo "=== $name (${FUZZ_SECONDS:-20}s)"
	if "$f" -max_total_time="${FUZZ_SECONDS:-20}" -rss_limit_mb=2048 -timeout=10 \
		-artifact_prefix="$work/" "$work" >"$work/log" 2>&1; then
		fuzz_pass=$((fuzz_pass + 1))
		tail -n 2 "$work/log"
	else
		fuzz_fail=$((fuzz_fail + 1))
		tail -n 40 "$work/log"
		failed_steps+=("$name")
	fi
	rm -rf "$work"
done

if [ "${SKIP_INTEGRATION:-0}" != 1 ]; then
	step "integration" meson test -C build --suite integration --print-errorlogs --num-processes 1
fi

fmt_fail=0
files=$(git ls-files '*.c' '*.h')
if [ -n "$files" ] && ! clang-format --dry-run -Werror $files >/tmp/vhostd-format.log 2>&1; then
	fmt_fail=1
	head -n 40 /tmp/vhostd-format.log
	failed_steps+=("clang-format")
fi

python3 - "$fuzz_pass" "$fuzz_fail" "$fmt_fail" <<'PY'
import json, glob, sys
p = f = s = 0
for log in glob.glob("build/meson-logs/testlog.json") + glob.glob("build-asan/meson-logs/testlog.json"):
    for line in open(log):
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"): p += 1
        elif r == "SKIP": s += 1
        else: f += 1
p += int(sys.argv[1]); f += int(sys.argv[2]) + int(sys.argv[3]); p += 1 - int(sys.argv[3])
print(f"{p} passed, {f} failed, {s} skipped")
PY
if [ ${#failed_steps[@]} -gt 0 ]; then
	echo "failed: ${failed_steps[*]}"
	exit 1
fi
exit 0
