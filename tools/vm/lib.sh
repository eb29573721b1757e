# SPDX-License-Identifier: GPL-2.0
#
# Functions shared by the VM runner (tools/vm/*), run_tests.sh, its stages
# (tools/check/*) and the runner's tests. Sourcing it defines functions and
# constants only.
# shellcheck shell=bash

# shellcheck disable=SC2034 # used by the scripts that source this file
VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$VM_DIR/../.." && pwd)
# shellcheck disable=SC2034
# Outside the clone, so that CI's fresh clones and later runs reuse what
# earlier ones downloaded and built (kernels take long to build).
CACHE_DIR=${GUP_CACHE_DIR:-/var/cache/gup_pin}

# shellcheck source=tools/deps.sh
source "$REPO_DIR/tools/deps.sh"

# A kernel log line matching this means the kernel found a bug of its own:
# WARN and BUG (KASAN's and KFENCE's reports start with "BUG: "), oopses,
# list and refcount checks, hung tasks and RCU stalls, UBSAN, lockdep, and
# kmemleak's report after a scan.
KLOG_BAD_RE='WARNING:|BUG:|kernel BUG at|Oops|invalid opcode|general protection'
KLOG_BAD_RE+='|list_del corruption|list_add corruption|refcount_t:|KASAN'
KLOG_BAD_RE+='|hung task|hung_task|blocked for more than [0-9]+ seconds'
KLOG_BAD_RE+='|rcu: INFO|self-detected stall|UBSAN'
KLOG_BAD_RE+='|kmemleak: [0-9]+ new suspected memory leak'
KLOG_BAD_RE+='|possible circular locking|possible recursive locking'
KLOG_BAD_RE+='|inconsistent lock state|lock held when returning'
# ext4's word for a page dirtied behind its back: the data is dropped.
KLOG_BAD_RE+='|does not have buffers attached|EXT4-fs error'
# Lines that quote what someone typed, not what the kernel found: the guest
# logs the command it runs, and the kernel its command line.
KLOG_QUOTE_RE='gup-vm: |Command line: |Kernel command line: '

vm_die()
{
	printf 'vm: %s\n' "$*" >&2
	exit 125
}

# kvm_usable CPUINFO KVMDEV: true when the CPU advertises hardware
# virtualisation and the KVM device can be opened. /dev/kvm alone is not
# enough: nested set-ups expose it without vmx/svm, and guests then hang.
kvm_usable()
{
	local cpuinfo=$1 dev=$2

	awk '/^flags[ \t]*:/ {
		for (i = 3; i <= NF; i++)
			if ($i == "vmx" || $i == "svm")
				found = 1
		exit
	}
	END { exit !found }' "$cpuinfo" 2>/dev/null || return 1
	[[ -c $dev && -r $dev && -w $dev ]]
}

# vm_accel: the accelerator tools/vm/run picks when not told: kvm where it
# works, else tcg.
vm_accel()
{
	if kvm_usable /proc/cpuinfo /dev/kvm; then
		echo kvm
	else
		echo tcg
	fi
}

# A guest's vCPUs and memory unless tools/vm/run is told otherwise; what
# tools/provenance reports of the guests of the stages.
# shellcheck disable=SC2034
VM_DEFAULT_SMP=2
# shellcheck disable=SC2034
VM_DEFAULT_MEM_MB=2048

# The reports test cases cause on purpose (selftests/klog.expected, which
# says how): "CASE|FUNCTION|each or once|ERE" lines.
KLOG_EXPECTED=${GUP_KLOG_EXPECTED:-$VM_DIR/../../selftests/klog.expected}

# klog_scan LOG [PREFIX]: print each line of LOG that shows a kernel bug,
# with context, each prefixed with PREFIX, and each expected report
# (KLOG_EXPECTED) of a case that ran in LOG but did not show it. Returns 0
# if there are none, 1 if there are, 2 if LOG cannot be read.
klog_scan()
{
	local log=$1 prefix=${2:-} hits line expected=/dev/null

	[[ -r $log ]] || return 2
	[[ ! -r $KLOG_EXPECTED ]] || expected=$KLOG_EXPECTED
	hits=$(tr -d '\r' <"$log" |
	       awk -v bad="$KLOG_BAD_RE" -v quote="$KLOG_QUOTE_RE" \
		   -v expected="$expected" '
		BEGIN {
			while ((getline e < expected) > 0) {
				if (e ~ /^#/ || split(e, f, "|") < 4)
					continue
				n_exp++
				exp_case[n_exp] = f[1]
				exp_func[n_exp] = f[2]
				exp_once[n_exp] = f[3] == "once"
				exp_re[n_exp] = substr(e, length(f[1] f[2] f[3]) + 4)
			}
		}
		{ line[NR] = $0 }
		/gup_pin: case [^ ]+ begins$/ { cur = $(NF - 1); ran[cur] = 1 }
		/gup_pin: case [^ ]+ ends$/ { cur = "" }
		$0 ~ bad && $0 !~ quote {
			for (k = 1; k <= n_exp; k++)
				if (cur == exp_case[k] && $0 ~ exp_re[k])
					break
			if (k <= n_exp)
				seen[exp_once[k] ? exp_func[k] SUBSEP exp_re[k] : k]++
			else
				hit[NR] = 1
		}
		END {
			last = 0
			for (i = 1; i <= NR; i++) {
				if (!hit[i])
					continue
				from = i - 2 > last ? i - 2 : last + 1
				if (last && from > last + 1)
					print "--"
				to = i + 8 < NR ? i + 8 : NR
				for (j = from; j <= to; j++)
					print line[j]
				last = to
			}
			# A "once" report: from the first of its cases to run.
			for (k = 1; k <= n_exp; k++) {
				key = exp_once[k] ? exp_func[k] SUBSEP exp_re[k] : k
				if (!ran[exp_case[k]] || seen[key] || missed[key]++)
					continue
				printf "klog: %s ran without its expected report from %s (%s)\n",
				       exp_case[k], exp_func[k], exp_re[k]
			}
		}')
	[[ -n $hits ]] || return 0
	while IFS= read -r line; do
		printf '%s%s\n' "$prefix" "$line"
	done <<<"$hits"
	return 1
}

# is_elf FILE: FILE starts with the ELF magic.
is_elf()
{
	[[ $(od -A n -t x1 -N 4 "$1" 2>/dev/null | tr -d ' ') == 7f454c46 ]]
}

# is_pvh_vmlinux FILE: FILE is a kernel that QEMU can boot directly: an ELF
# with the PVH entry note (owner "Xen", type 18: XEN_ELFNOTE_PHYS32_ENTRY).
is_pvh_vmlinux()
{
	is_elf "$1" &&
		readelf -n "$1" 2>/dev/null | grep -q -E 'Xen[[:space:]]+0x[0-9a-f]+[[:space:]].*(0x0*12\)|PHYS32_ENTRY)'
}

# kernel_kdir NAME: print the build directory of kernel NAME, fetched or
# built into the cache first:
#   debian-6.1, debian-6.12 (or 6.1, 6.12)  Debian's binary kernels
#   source-6.1, source-6.12  Debian's linux-source of that release, built
#                            with the guest's config
#   mainline                 the newest linux-source-X.Y of sid/experimental
#                            (GUP_KSRC_VERSION: that X.Y)
#   X.Y                      linux-source-X.Y
# and mainline-debug, X.Y-debug: built with the debug fragment.
kernel_kdir()
{
	local name=$1 src debug=() version=()

	case $name in
	debian-*) name=${name#debian-} ;;
	esac
	if [[ $name == *-debug ]]; then
		debug=(--debug)
		name=${name%-debug}
	fi
	case $name in
	6.1 | 6.12)
		[[ ${#debug[@]} -eq 0 ]] ||
			{ echo "$1: Debian's kernels have no debug build" >&2; return 1; }
		src=$("$VM_DIR/fetch-kernel" "$name") && echo "$src/build"
		return
		;;
	source-6.1 | source-6.12)
		version=(--debian "${name#source-}")
		;;
	mainline) ;;
	[0-9]*.[0-9]*) version=(--version "$name") ;;
	*) echo "$1: unknown kernel" >&2; return 1 ;;
	esac
	src=$("$VM_DIR/fetch-source" "${version[@]}") &&
		"$VM_DIR/build-kernel" "${debug[@]}" "$src"
}

# The kernels make check runs on.
# shellcheck disable=SC2034
GUP_MATRIX=(debian-6.1 debian-6.12 mainline-debug)

# target_resolve NAME [KDIR KERNEL MODULES]: set t_kdir, t_kernel,
# t_modules, t_src (the source tree, for upstream's peer tests and the
# kselftest copy) and t_about for the kernel a run_tests.sh target names,
# fetching or building it into the cache:
#   debian-6.1, debian-6.12     Debian's binary kernels
#   mainline, mainline-debug    the newest linux-source-X.Y of
#                               sid/experimental (GUP_KSRC_VERSION: that
#                               X.Y), built here, the second with the
#                               debug fragment
#   custom                      KDIR, KERNEL and MODULES as given: a
#                               maintainer's tree
# Returns 1, having said why, if the kernel cannot be had.
target_resolve()
{
	local dir

	t_kdir="" t_kernel="" t_modules="" t_about="" t_src=""
	case $1 in
	debian-*)
		t_kdir=$(kernel_kdir "$1") || {
			echo "cannot fetch Debian's ${1#debian-} kernel" >&2
			return 1
		}
		dir=${t_kdir%/build}
		t_src=$("$VM_DIR/fetch-source" --debian "${1#debian-}") || {
			echo "cannot fetch linux-source-${1#debian-}" >&2
			return 1
		}
		t_about="Debian $(<"$dir/version"), release ${dir##*/}"
		;;
	mainline | mainline-debug)
		t_src=$("$VM_DIR/fetch-source") || {
			echo "cannot fetch a mainline source" >&2
			return 1
		}
		t_kdir=$(kernel_kdir "$1") || {
			echo "cannot build $t_src" >&2
			return 1
		}
		t_about="$(<"$t_src/SOURCE_VERSION"), release $(kernel_release_of_kdir "$t_kdir"), built in $t_kdir"
		;;
	custom)
		t_kdir=${2:-} t_kernel=${3:-} t_modules=${4:-}
		# A maintainer's tree is its own source; an O= build
		# directory links to it as "source".
		if [[ -d $t_kdir/tools/testing/selftests ]]; then
			t_src=$t_kdir
		elif [[ -d $t_kdir/source/tools/testing/selftests ]]; then
			t_src=$(realpath -- "$t_kdir/source")
		fi
		t_about=${t_kernel:-${t_kdir:-Debian\'s default kernel}}
		;;
	*)
		echo "unknown target: $1 (see run_tests.sh --help)" >&2
		return 1
		;;
	esac
}

# kernel_release_of_kdir KDIR: the release KDIR builds modules for. Debian's
# headers put the upstream version in kernel.release; utsrelease.h is right
# in both kinds of tree.
kernel_release_of_kdir()
{
	sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' \
		"$1/include/generated/utsrelease.h" 2>/dev/null
}

# kernel_release_of_image IMAGE: the release string of a bzImage or vmlinux.
kernel_release_of_image()
{
	local img=$1 off

	if is_elf "$img"; then
		grep -a -o -m 1 'Linux version [^ ]*' "$img" | cut -d ' ' -f 3
		return
	fi
	# x86 boot protocol: "HdrS" at 0x202, and at 0x20e the offset (from
	# 0x200) of a NUL-terminated string that starts with the release.
	[[ $(dd if="$img" bs=1 skip=$((0x202)) count=4 status=none) == HdrS ]] ||
		return 1
	off=$(od -A n -t u2 -j $((0x20e)) -N 2 "$img" | tr -d ' ')
	dd if="$img" bs=1 skip=$((off + 0x200)) count=128 status=none |
		tr '\0' '\n' | awk 'NR == 1 { print $1 }'
}

# module_closure ROOT RELEASE NAME...: the .ko files to load, in order, for
# modules NAME... of the tree ROOT/lib/modules/RELEASE, dependencies first,
# each once. Modules that are built in or absent print nothing.
module_closure()
{
	local root=$1 rel=$2 name
	shift 2

	for name in "$@"; do
		modprobe -d "$root" -S "$rel" --show-depends "$name" \
			2>/dev/null || true
	done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }'
}

# native_capable: this host can load modules into the running kernel and
# has its headers, so the suite can run without a VM.
native_capable()
{
	local cap

	cap=$(awk '$1 == "CapEff:" { print $2 }' /proc/self/status)
	(( (0x${cap:-0} >> 16) & 1 )) || return 1
	[[ $(cat /proc/sys/kernel/modules_disabled 2>/dev/null) == 0 ]] ||
		return 1
	[[ -d /lib/modules/$(uname -r)/build ||
	   -d /usr/src/linux-headers-$(uname -r) ]]
}
