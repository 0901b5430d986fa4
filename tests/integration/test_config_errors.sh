#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# vhostd refuses a bad configuration before it touches anything: for each
# mistake, the exact "file:line: key: reason" message on stderr, exit status
# 1, and no side effect (no vhost-user socket, no TAP interface, no DPDK
# runtime directory). Also --check on good and bad files, bad options and
# --version.
# Needs only the vhostd binary ($VHOSTD); runs as any user.
set -u

VHOSTD=${VHOSTD:-${BUILD_DIR:-build}/src/vhostd}
[ -x "$VHOSTD" ] || { echo "SKIP: no vhostd binary at $VHOSTD"; exit 77; }

work=$(mktemp -d /tmp/vd-cfgerr.XXXXXX)
trap 'rm -rf "$work"' EXIT
sock="$work/vm1.sock"
tapname="vdcfg$$"
tapname=${tapname:0:15}
prefix="vd_cfgerr_$$"
pass=0
fail=0

# A valid base of 10 lines ending in "[link l]": a case either adds lines
# after it (the link's a= and b= are then lines 11 and 12), or replaces
# line 10 with keys for port vm1.
base() {
	cat <<EOC
[eal]
lcores = 0-1
file-prefix = $prefix
[port tap]
type = vdev
vdev = net_tap0,iface=$tapname
[port vm1]
type = vhost-user
path = $sock
[link l]
EOC
}

no_side_effects() {
	[ ! -e "$sock" ] || { echo "  socket $sock was created"; return 1; }
	if ip link show "$tapname" >/dev/null 2>&1; then
		echo "  TAP $tapname was created"
		return 1
	fi
	[ ! -e "/var/run/dpdk/$prefix" ] || { echo "  EAL runtime dir was created"; return 1; }
	return 0
}

# case NAME EXPECTED_STDERR_SUBSTRING CONFIG_TEXT...
bad() {
	local name=$1 expect=$2 text=$3 conf="$work/$1.conf" out rc
	printf '%s\n' "$text" >"$conf"
	out=$(timeout 20 "$VHOSTD" -c "$conf" 2>&1 >/dev/null)
	rc=$?
	expect=${expect//@F@/$conf}
	if [ "$rc" -eq 1 ] && [[ "$out" == *"$expect"* ]] && no_side_effects; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $name: exit $rc, expected 1 and '$expect' in:"
		echo "$out" | sed 's/^/  | /'
	fi
}

links="a = vm1
b = tap"

bad unknown_key "@F@:13: foo: unknown key in [link]" "$(base)
$links
foo = 1"
bad bad_type "@F@:14: type: 'virtio' is not vhost-user, pci or vdev" "$(base)
$links
[port x]
type = virtio"
bad queues_range "@F@:16: queues: '0' out of range 1..16" "$(base)
$links
[port x]
type = vdev
vdev = net_null0
queues = 0"
bad path_comma "@F@:9: path: must not contain ',' or blanks" "$(base | sed "s|^path = .*|path = $work/a,b|")
$links"
bad path_relative "@F@:9: path: 'x.sock' must be an absolute path" "$(base | sed "s|^path = .*|path = x.sock|")
$links"
bad mode "@F@:10: mode: 'listen' is not server or client" "$(base | sed '10d')
mode = listen
[link l]
$links"
bad mac "@F@:10: mac: '01:02:03:04:05:06' is a multicast address" "$(base | sed '10d')
mac = 01:02:03:04:05:06
[link l]
$links"
bad perm "@F@:10: perm: '0200' does not give the owner read and write" "$(base | sed '10d')
perm = 0200
[link l]
$links"
bad owner "@F@:10: owner: unknown user 'no_such_user_vd'" "$(base | sed '10d')
owner = no_such_user_vd
[link l]
$links"
bad mtu "@F@:10: mtu: '40' out of range 68..65535" "$(base | sed '10d')
mtu = 40
[link l]
$links"
bad key_for_other_type "@F@:10: pci: not valid for type=vhost-user" "$(base | sed '10d')
pci = 0000:00:04.0
[link l]
$links"
bad pci_addr "@F@:15: pci: 'af:00.9' is not a PCI address like 0000:af:00.1" "$(base)
$links
[port x]
type = pci
pci = af:00.9"
bad vdev_name "@F@:6: vdev: 'tap0,iface=x' must start with a net_ device name" "$(base | sed 's|^vdev = .*|vdev = tap0,iface=x|')
$links"
bad missing_path "@F@:7: path: missing for type=vhost-user" "$(base | sed '9d')
$links"
bad missing_type "@F@:4: type: missing (vhost-user, pci or vdev)" "$(base | sed '5d')
$links"
bad link_unknown "@F@:12: b: no [port tapx] in the file" "$(base)
a = vm1
b = tapx"
bad not_linked "@F@:13: x: port is in no [link]" "$(base)
$links
[port x]
type = vdev
vdev = net_null0"
bad dup_key "@F@:13: b: duplicate key (first at line 12)" "$(base)
$links
b = vm1"
bad dup_port "@F@:13: port: 'tap' is defined twice (first at line 4)" "$(base)
$links
[port tap]"
bad dup_path "@F@:15: path: '$sock' is also used by port 'vm1'" "$(base)
$links
[port x]
type = vhost-user
path = $sock"
bad unknown_section "@F@:13: ports: unknown section" "$(base)
$links
[ports]"
bad lcore_not_in_set "@F@:14: ports: lcore 3 is not in lcores=0-1" "$(base)
$links
[lcore 3]
ports = vm1"
bad lcore_main "@F@:14: ports: lcore 0 is the main lcore, which does not forward" "$(base)
$links
[lcore 0]
ports = vm1"
bad lcore_queue "@F@:14: ports: port 'vm1' has 1 queue(s), no queue 4" "$(base)
$links
[lcore 1]
ports = vm1:4"
bad lcore_plan_split_txq "@F@:17: ports: vm1:1 and vm1:0 both send on tx queue 0 of port tap" "$(base | sed '10d; s/^lcores = .*/lcores = 0-2/')
queues = 2
[link l]
$links
[lcore 1]
ports = vm1:0
[lcore 2]
ports = vm1:1"
bad one_lcore "@F@:2: lcores: needs at least 2 lcores" "$(base | sed 's/^lcores = .*/lcores = 1/')
$links"
bad stats_interval "@F@:14: interval: 'often' is not a number" "$(base)
$links
[stats]
interval = often"
bad memory "@F@:2: memory: '4' out of range 16..1048576" "$(base | sed 's/^lcores = .*/memory = 4/')
$links"
bad boolean "@F@:10: packed: 'maybe' is not a boolean" "$(base | sed '10d')
packed = maybe
[link l]
$links"
bad syntax "@F@:13: garbage: expected 'key = value'" "$(base)
$links
garbage"
bad empty_value "@F@:10: tso: empty value" "$(base | sed '10d')
tso =
[link l]
$links"
bad no_port "@F@: [port]: no port defined" "[stats]
interval = 1"

# Two mistakes: both reported, in file order.
conf="$work/two.conf"
printf '%s\n' "$(base)" "$links" "[stats]" "interval = x" "[eal]" >"$conf"
out=$("$VHOSTD" -c "$conf" 2>&1 >/dev/null)
rc=$?
if [ $rc -eq 1 ] && [[ "$out" == *"$conf:14: interval:"*"$conf:15: eal: duplicate section"* ]]; then
	pass=$((pass + 1))
else
	fail=$((fail + 1))
	echo "FAIL: two_errors: exit $rc:"
	echo "$out" | sed 's/^/  | /'
fi

# A missing file.
out=$("$VHOSTD" -c "$work/none.conf" 2>&1 >/dev/null)
rc=$?
if [ $rc -eq 1 ] && [[ "$out" == *"$work/none.conf: cannot open: No such file"* ]]; then
	pass=$((pass + 1))
else
	fail=$((fail + 1))
	echo "FAIL: missing_file: exit $rc: $out"
fi

# --check: 0 on a good file (and no side effect), 1 on a bad one.
conf="$work/good.conf"
printf '%s\n' "$(base)" "$links" >"$conf"
out=$("$VHOSTD" --check -c "$conf" 2>&1)
rc=$?
if [ $rc -eq 0 ] && [[ "$out" == *"ok: 2 port(s), 1 link(s)"* ]] && no_side_effects; then
	pass=$((pass + 1))
else
	fail=$((fail + 1))
	echo "FAIL: check_good: exit $rc:"
	echo "$out" | sed 's/^/  | /'
fi
out=$("$VHOSTD" --check -c "$work/unknown_key.conf" 2>&1)
rc=$?
if [ $rc -eq 1 ] && [[ "$out" == *"unknown_key.conf:13: foo: unknown key"* ]]; then
	pass=$((pass + 1))
else
	fail=$((fail + 1))
	echo "FAIL: check_bad: exit $rc: $out"
fi

# Command line mistakes.
for args in "--stats-interval=-3 -c $conf" "--no-such-option -c $conf" "-c $conf stray"; do
	# shellcheck disable=SC2086
	out=$("$VHOSTD" $args 2>&1 >/dev/null)
	rc=$?
	if [ $rc -ne 0 ] && [ -n "$out" ] && no_side_effects; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: options '$args': exit $rc: $out"
	fi
done

# --version: one line naming vhostd's version and DPDK's, exit 0, nothing else done.
out=$("$VHOSTD" --version 2>&1)
rc=$?
if [ $rc -eq 0 ] && printf '%s\n' "$out" | grep -Eqx 'vhostd [0-9]+\.[0-9]+\.[0-9]+, DPDK [0-9.]+.*' &&
	no_side_effects; then
	pass=$((pass + 1))
else
	fail=$((fail + 1))
	echo "FAIL: --version: exit $rc: $out"
fi

echo "config_errors: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
