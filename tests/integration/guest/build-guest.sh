#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build (or reuse) the small Linux guest the QEMU integration tests boot: the
# kernel of Debian's linux-image-amd64 (downloaded with apt-get download and
# unpacked with dpkg-deb -x, never installed on the host) plus a busybox-static
# initramfs holding the virtio-net modules in load order, our /init and the
# scripted checks in checks/. Everything lands in a cache directory and is
# reused while the kernel package and the guest scripts stay the same, so a warm
# run costs a few hashes. Prints shell assignments (VDG_KERNEL=, VDG_INITRD=,
# VDG_KVER=) on stdout and writes them to $CACHE/guest.env.
#
# Environment: VHOSTD_GUEST_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/vhostd-guest),
# VHOSTD_GUEST_KPKG (a kernel package name, default: what linux-image-amd64
# depends on). Exit 77 when no kernel can be had (no apt source, no cache).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${VHOSTD_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vhostd-guest}
SKIP=77

log() { echo "build-guest: $*" >&2; }
die() { log "$*"; exit 1; }

mkdir -p "$CACHE"
# Serialise concurrent builders (several engineers and test runs share the cache).
exec 9>"$CACHE/.lock"
flock -w 900 9 || die "cache lock $CACHE/.lock busy for 15 minutes"

# The modules virtio_net needs on a PCI transport; their dependencies are added
# from each module's own depends= field, so this list only names the roots.
ROOT_MODULES=(virtio_pci virtio_net)

# Resolve the versioned kernel package behind the linux-image-amd64 metapackage.
kernel_pkg() {
	local p
	p=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9].*-amd64$/ { print $2; exit }')
	echo "$p"
}

pkg_version() {
	apt-cache show --no-all-versions "$1" 2>/dev/null | awk '$1 == "Version:" { print $2; exit }'
}

# Download one package into $2 and unpack it there with dpkg-deb -x.
fetch_pkg() {
	local pkg=$1 dest=$2 deb
	mkdir -p "$dest/deb"
	# apt drops privileges to _apt, which cannot write a root-only temp dir.
	chmod 755 "$dest" "$dest/deb"
	(cd "$dest/deb" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2) || return 1
	deb=$(ls "$dest"/deb/*.deb 2>/dev/null | head -n1)
	[ -n "$deb" ] || return 1
	mkdir -p "$dest/root"
	dpkg-deb -x "$deb" "$dest/root"
}

KPKG=${VHOSTD_GUEST_KPKG:-}
if [ -z "$KPKG" ]; then
	KPKG=$(kernel_pkg)
	if [ -z "$KPKG" ] && [ "$(id -u)" -eq 0 ]; then
		log "apt lists have no linux-image-amd64; running apt-get update"
		apt-get update -qq >&2 || true
		KPKG=$(kernel_pkg)
	fi
fi
KVERS=
[ -n "$KPKG" ] && KVERS=$(pkg_version "$KPKG")

if [ -z "$KPKG" ] || [ -z "$KVERS" ]; then
	# Offline: fall back to the newest kernel already in the cache.
	kdir=$(ls -d "$CACHE"/kernel-*/ 2>/dev/null | sort -V | tail -n1)
	if [ -z "$kdir" ] || [ ! -f "$kdir/.done" ]; then
		log "no kernel package resolvable and nothing cached; skipping"
		exit $SKIP
	fi
	KDIR=${kdir%/}
	log "apt cannot resolve the kernel; using cached $(basename "$KDIR")"
else
	KDIR="$CACHE/kernel-${KPKG}_${KVERS//[^A-Za-z0-9.+-]/_}"
fi

# Kernel image and decompressed modules, one directory per package version.
if [ ! -f "$KDIR/.done" ]; then
	tmp=$(mktemp -d "$CACHE/tmp.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	log "fetching $KPKG $KVERS"
	fetch_pkg "$KPKG" "$tmp" || { log "apt-get download $KPKG failed; skipping"; exit $SKIP; }
	vmlinuz=$(ls "$tmp"/root/boot/vmlinuz-* 2>/dev/null | head -n1)
	[ -n "$vmlinuz" ] || die "$KPKG has no /boot/vmlinuz-*"
	kver=${vmlinuz##*/vmlinuz-}
	mdir="$tmp/root/lib/modules/$kver"
	[ -d "$mdir" ] || die "$KPKG has no /lib/modules/$kver"
	mkdir -p "$tmp/out/modules"
	cp "$vmlinuz" "$tmp/out/vmlinuz"
	echo "$kver" >"$tmp/out/kver"

	# Find a module file by name; modules may be compressed and their file
	# names may spell '-' where the module name has '_'.
	find_ko() {
		local n=$1 alt=${1//_/-}
		find "$mdir/kernel" \( -name "$n.ko" -o -name "$n.ko.xz" -o -name "$n.ko.zst" \
			-o -name "$n.ko.gz" -o -name "$alt.ko" -o -name "$alt.ko.xz" \
			-o -name "$alt.ko.zst" -o -name "$alt.ko.gz" \) -print -quit
	}
	is_builtin() {
		[ -f "$mdir/modules.builtin" ] && grep -q "/$1.ko\$" "$mdir/modules.builtin"
	}
	# Store a module decompressed under its module name.
	put_ko() {
		local src=$1 dst="$tmp/out/modules/$2.ko"
		case "$src" in
		*.xz) xz -dc "$src" >"$dst" ;;
		*.zst) zstd -qdc "$src" >"$dst" ;;
		*.gz) gzip -dc "$src" >"$dst" ;;
		*) cp "$src" "$dst" ;;
		esac
	}
	# depends= from the .modinfo section; reading the raw strings needs no kmod.
	ko_depends() {
		tr '\0' '\n' <"$1" | sed -n 's/^depends=//p' | head -n1 | tr ',' ' '
	}

	# Depth-first walk: a module is appended after everything it depends on,
	# which is exactly the insmod order.
	declare -A state=()
	order=()
	visit() {
		local m=$1 src d
		case "${state[$m]:-}" in
		done) return 0 ;;
		busy) die "module dependency cycle at $m" ;;
		esac
		state[$m]=busy
		src=$(find_ko "$m")
		if [ -z "$src" ]; then
			if is_builtin "$m"; then
				state[$m]='done'
				return 0
			fi
			# Without modules.builtin we cannot tell; a missing root is fatal,
			# a missing dependency is reported by insmod in the guest.
			log "module $m not found in $KPKG (assuming built in)"
			state[$m]='done'
			return 0
		fi
		put_ko "$src" "$m"
		for d in $(ko_depends "$tmp/out/modules/$m.ko"); do
			visit "${d//-/_}"
		done
		order+=("$m")
		state[$m]='done'
	}
	for m in "${ROOT_MODULES[@]}"; do
		visit "$m"
	done
	[ -f "$tmp/out/modules/virtio_net.ko" ] || is_builtin virtio_net ||
		die "virtio_net not found in $KPKG"
	printf '%s\n' "${order[@]}" >"$tmp/out/modorder"
	log "modules in load order: ${order[*]}"
	touch "$tmp/out/.done"
	rm -rf "$KDIR"
	mv "$tmp/out" "$KDIR"
	rm -rf "$tmp"
	trap - EXIT
fi

# busybox-static, also from its Debian package (cached once; it rarely changes).
BB="$CACHE/busybox/busybox"
if [ ! -x "$BB" ]; then
	tmp=$(mktemp -d "$CACHE/tmp.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	if fetch_pkg busybox-static "$tmp" && [ -x "$tmp/root/bin/busybox" ]; then
		mkdir -p "$CACHE/busybox"
		cp "$tmp/root/bin/busybox" "$BB.new"
	elif [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; then
		log "apt-get download busybox-static failed; using the host's static /bin/busybox"
		mkdir -p "$CACHE/busybox"
		cp /bin/busybox "$BB.new"
	else
		log "no static busybox available; skipping"
		exit $SKIP
	fi
	mv "$BB.new" "$BB"
	rm -rf "$tmp"
	trap - EXIT
fi

# The initramfs is keyed by everything that goes into it, so editing /init or a
# check rebuilds it and nothing else does.
key=$( (
	echo "$KDIR"
	sha256sum "$BB" "$HERE/init" "$HERE"/checks/* | awk '{ print $1 }'
) | sha256sum | cut -c1-16)
INITRD="$CACHE/initrd-$key.cpio.gz"
if [ ! -f "$INITRD" ]; then
	tmp=$(mktemp -d "$CACHE/tmp.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	r="$tmp/root"
	mkdir -p "$r"/{bin,dev,proc,sys,tmp,run,etc,checks,lib/modules}
	cp "$BB" "$r/bin/busybox"
	ln -s busybox "$r/bin/sh"
	install -m 755 "$HERE/init" "$r/init"
	install -m 755 "$HERE"/checks/* "$r/checks/"
	cp "$KDIR"/modules/*.ko "$r/lib/modules/" 2>/dev/null || true
	cp "$KDIR/modorder" "$r/etc/modorder"
	cp "$KDIR/kver" "$r/etc/kver"
	# The kernel opens /dev/console before /init runs; /init also re-opens it
	# from devtmpfs, so this node is only a nicety when we may create it.
	mknod -m 600 "$r/dev/console" c 5 1 2>/dev/null || true
	(cd "$r" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc --owner=0:0 --quiet) | gzip -6 >"$tmp/initrd"
	mv "$tmp/initrd" "$INITRD"
	rm -rf "$tmp"
	trap - EXIT
	# Keep the cache from growing without bound: drop older initramfs images.
	ls -t "$CACHE"/initrd-*.cpio.gz 2>/dev/null | tail -n +6 | xargs -r rm -f
	log "built $INITRD"
fi

env_out="VDG_KERNEL=$KDIR/vmlinuz
VDG_INITRD=$INITRD
VDG_KVER=$(cat "$KDIR/kver")"
printf '%s\n' "$env_out" >"$CACHE/guest.env.new"
mv "$CACHE/guest.env.new" "$CACHE/guest.env"
printf '%s\n' "$env_out"
