#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The whole test suite, as CI runs it: set up the machine, build release,
# sanitizer (ASan/UBSan) and fuzzer trees, run the unit tests in the release
# and the sanitizer build, each fuzz target for a short fixed time, the
# integration tests against real frontends, clang's static analyzer over the
# release configuration, and the format check.
# Prints one closing line: "N passed, N failed, N skipped".
# FUZZ_SECONDS (default 20) sets each fuzz run; SKIP_INTEGRATION=1 skips them.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
bash scripts/setup.sh || exit 1

failed_steps=()
# Checks that are one pass or one fail each in the closing line (fuzz targets,
# scan-build, clang-format, and any configure or build step that fails); the
# unit and integration tests are counted one per test from meson's logs.
check_pass=0 check_fail=0 test_steps_failed=0
step() {
	local name=$1
	shift
	echo "=== $name"
	if ! "$@"; then
		echo "=== $name: FAILED"
		failed_steps+=("$name")
		case $name in
		unit* | integration) test_steps_failed=$((test_steps_failed + 1)) ;;
		*) check_fail=$((check_fail + 1)) ;;
		esac
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

# One log per suite (--logbase): a later meson test run would overwrite testlog.json.
step "unit (release)" meson test -C build --suite unit --logbase testlog-unit \
	--print-errorlogs --num-processes 2
step "unit (asan)" meson test -C build-asan --suite unit --logbase testlog-unit \
	--print-errorlogs --num-processes 2

# Fuzz targets: each a short fixed-time run from its seed corpus.
for f in build-fuzz/tests/fuzz/fuzz_*; do
	[ -f "$f" ] && [ -x "$f" ] || continue
	name=$(basename "$f")
	corpus="tests/fuzz/corpus/${name#fuzz_}"
	work=$(mktemp -d)
	[ -d "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null
	echo "=== $name (${FUZZ_SECONDS:-20}s)"
	if "$f" -max_total_time="${FUZZ_SECONDS:-20}" -rss_limit_mb=2048 -timeout=10 \
		-artifact_prefix="$work/" "$work" >"$work/log" 2>&1; then
		check_pass=$((check_pass + 1))
		tail -n 2 "$work/log"
	else
		check_fail=$((check_fail + 1))
		tail -n 40 "$work/log"
		failed_steps+=("$name")
	fi
	rm -rf "$work"
done

# Static analysis: scan-build over a release tree of its own. The tree is
# rebuilt from scratch every run, since the analyzer only sees the files that
# are compiled; bugs reported in system headers (DPDK, libc) are left out.
scan() {
	local sb rc
	sb=$(command -v scan-build || command -v scan-build-14) ||
		{ echo "scan-build not found (Debian: clang-tools)"; return 1; }
	rm -rf build-scan && mkdir build-scan
	"$sb" --status-bugs --use-cc=clang -o build-scan/report \
		meson setup build-scan --buildtype=release >build-scan/scan.log 2>&1 &&
		"$sb" --status-bugs --use-cc=clang -o build-scan/report \
			--exclude /usr/include --exclude /usr/local/include \
			ninja -C build-scan >>build-scan/scan.log 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		grep -E 'error:|warning: .*\[[a-z]+\.[A-Za-z.]+\]$|^scan-build: ' build-scan/scan.log |
			head -n 40
		echo "(full log: build-scan/scan.log, reports: build-scan/report)"
	fi
	return $rc
}
step "scan-build" scan && check_pass=$((check_pass + 1))

if [ "${SKIP_INTEGRATION:-0}" != 1 ]; then
	step "integration" meson test -C build --suite integration --logbase testlog-integration \
		--print-errorlogs --num-processes 1
fi

files=$(git ls-files '*.c' '*.h')
if [ -n "$files" ] && ! clang-format --dry-run -Werror $files >/tmp/vhostd-format.log 2>&1; then
	check_fail=$((check_fail + 1))
	head -n 40 /tmp/vhostd-format.log
	failed_steps+=("clang-format")
else
	check_pass=$((check_pass + 1))
fi

if [ ${#failed_steps[@]} -gt 0 ]; then
	echo "failed: ${failed_steps[*]}"
fi
python3 - "$check_pass" "$check_fail" "$test_steps_failed" <<'PY'
import json, glob, sys
p = f = s = 0
for log in glob.glob("build/meson-logs/testlog*.json") + glob.glob("build-asan/meson-logs/testlog*.json"):
    for line in open(log):
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"): p += 1
        elif r == "SKIP": s += 1
        else: f += 1
# A test step that failed without a failing test in its log (it did not build,
# or meson test itself failed) still counts as a failure.
f = max(f, int(sys.argv[3]))
p += int(sys.argv[1]); f += int(sys.argv[2])
print(f"{p} passed, {f} failed, {s} skipped")
PY
[ ${#failed_steps[@]} -eq 0 ]
