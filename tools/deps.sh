#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install, without asking, the Debian packages the suite needs.
#
#   tools/deps.sh [build|vm|PACKAGE]...
#
#   build  compiler, make, perl, the static libraries of gup_benchmark and
#          of upstream's cow and gup_longterm (liburing), rsync for
#          kselftest's install, patch for the mutation check, and the
#          kernel source (unless KSRC is set); kernel headers are not
#          installed: tools/vm/fetch-kernel unpacks them into the cache
#   vm     qemu, busybox, bash-static, cpio, kmod, e2fsprogs, xfsprogs,
#          xz-utils, zstd
#   build-kernel  what a kernel build from source needs (tools/vm/build-kernel),
#          and the mm patch series built on it (git, libcap-dev, and
#          python3-ply and python3-git for checkpatch's spdxcheck.py)
#   kcidb  Debian's python3 for tools/kcidb/write; for tools/kcidb/validate
#          python3-venv, the environment it installs kcidb-io into, and
#          python3-jsonschema, which checks with the project's copy of the
#          schema where kcidb-io cannot be installed; xz-utils for the
#          tests' recorded run
#   dev    shellcheck, which the scripts are kept clean with
#          (shellcheck -x, from the top of the checkout)
#
# No argument means "build vm". Sourcing the file only defines functions.

set -euo pipefail

deps_die()
{
	printf 'deps: %s\n' "$*" >&2
	exit 1
}

# Refresh the package lists at most once per run of the suite, however many
# scripts ask: the mark is exported to their children.
apt_update_once()
{
	[[ -z ${GUP_APT_UPDATED:-} ]] || return 0
	apt-get update -qq >/dev/null 2>&1 || deps_die "apt-get update failed"
	export GUP_APT_UPDATED=1
}

# pkg_if_available PACKAGE: print PACKAGE if it is installed or the host's
# apt sources have it (after refreshing the lists once).
pkg_if_available()
{
	local cand

	if [[ -z $(pkgs_missing "$1") ]]; then
		echo "$1"
		return
	fi
	cand=$(apt-cache policy "$1" 2>/dev/null |
	       awk '$1 == "Candidate:" && $2 != "(none)" { print $2 }')
	if [[ -z $cand ]]; then
		apt_update_once
		cand=$(apt-cache policy "$1" 2>/dev/null |
		       awk '$1 == "Candidate:" && $2 != "(none)" { print $2 }')
	fi
	[[ -z $cand ]] || echo "$1"
}

# pkgs_missing PACKAGE...: print those not installed, in one dpkg-query.
pkgs_missing()
{
	local installed

	installed=$(dpkg-query -W -f='${db:Status-Status} ${Package}\n' "$@" \
		    2>/dev/null | awk '$1 == "installed" { print $2 }') || true
	printf '%s\n' "$@" | grep -vxF -e "$installed" || true
}

apt_depends_linux()
{
	apt-cache depends "$1" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-/ { print $2; exit }' || true
}

# debian_kernel_package META: the concrete package a kernel metapackage
# (linux-image-amd64, linux-headers-amd64) depends on today. apt-cache
# takes a second here, so the answer is kept until the lists change.
debian_kernel_package()
{
	local meta=$1 pkg memo

	memo=${GUP_CACHE_DIR:-/var/cache/gup_pin}/apt/$meta
	if [[ -s $memo && $memo -nt /var/lib/apt/lists ]]; then
		cat "$memo"
		return
	fi
	pkg=$(apt_depends_linux "$meta")
	if [[ -z $pkg ]]; then
		apt_update_once
		pkg=$(apt_depends_linux "$meta")
	fi
	[[ -n $pkg ]] || deps_die "cannot resolve $meta with apt-cache"
	if mkdir -p "${memo%/*}" 2>/dev/null; then
		printf '%s\n' "$pkg" >"$memo"
	fi
	printf '%s\n' "$pkg"
}

# The release (uname -r) of Debian's default kernel, e.g. 6.1.0-56-amd64.
debian_kernel_release()
{
	local pkg

	pkg=$(debian_kernel_package linux-image-amd64)
	printf '%s\n' "${pkg#linux-image-}"
}

deps_install()
{
	local missing pkg log

	mapfile -t missing < <(pkgs_missing "$@" | awk '!seen[$0]++')
	[[ ${#missing[@]} -gt 0 ]] || return 0
	[[ $(id -u) -eq 0 ]] || deps_die "not root: cannot install ${missing[*]}"

	echo "installing: ${missing[*]}"
	apt_update_once
	log=$(mktemp)
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	     --no-install-recommends -o DPkg::Lock::Timeout=300 \
	     "${missing[@]}" >"$log" 2>&1; then
		pkg=$(grep -E '^E: ' "$log" | tail -n 1) || true
		rm -f "$log"
		deps_die "cannot install ${missing[*]}: ${pkg:-apt-get failed}"
	fi
	rm -f "$log"
}

deps_main()
{
	local pkgs=() arg pkg

	[[ $# -gt 0 ]] || set -- build vm
	for arg in "$@"; do
		case $arg in
		build)
			pkgs+=(make gcc libc6-dev perl xz-utils rsync patch
			       libjson-c-dev libnuma-dev liburing-dev)
			# The selftest headers (6.1's) and the harness (6.12's);
			# where the host's sources lack bookworm-security, the
			# Makefile has tools/vm/fetch-source fetch 6.12's.
			if [[ -z ${KSRC:-} ]]; then
				pkgs+=(linux-source-6.1)
				pkg=$(pkg_if_available linux-source-6.12)
				[[ -z $pkg ]] || pkgs+=("$pkg")
			fi
			;;
		build-kernel)
			pkgs+=(make gcc libc6-dev flex bison bc libelf-dev
			       libssl-dev dwarves perl xz-utils)
			# The mm patch series on that tree: git am, and
			# what mm's own selftests link (libcap).
			pkgs+=(git libcap-dev python3-ply python3-git)
			;;
		kcidb)
			pkgs+=(python3 python3-venv python3-jsonschema xz-utils)
			;;
		dev)
			pkgs+=(shellcheck)
			;;
		vm)
			pkgs+=(qemu-system-x86 busybox-static bash-static cpio
			       kmod e2fsprogs xfsprogs xz-utils zstd binutils fio)
			;;
		*)
			pkgs+=("$arg")
			;;
		esac
	done
	deps_install "${pkgs[@]}"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	deps_main "$@"
fi
