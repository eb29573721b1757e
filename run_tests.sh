#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The suite's main job: install what is missing, build, run the whole suite
# on a kernel and judge that kernel's log, then print one closing line
#   N passed, N failed, N skipped
# and exit non-zero if anything failed.
#
# The suite runs natively when this host can load modules into its running
# kernel (CAP_SYS_MODULE, modules not disabled, headers installed), else in
# a QEMU guest booted by tools/vm/run. Logs are kept in build/logs/.

set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tools/vm/lib.sh
source "$top/tools/vm/lib.sh"
logs=$top/build/logs

usage()
{
	cat <<EOF
usage: ./run_tests.sh [OPTION]...
  --vm                 run in a QEMU guest even if the host could run natively
  --native             run on the running kernel (fails if it cannot)
  --kernel IMAGE       boot this kernel instead of Debian's (implies --vm)
  --kdir KDIR          build the module against KDIR; with no --kernel, boot
                       KDIR's kernel if it has one
  --modules DIR        the guest kernel's modules (see tools/vm/run --help)
  -t CATEGORY          run only this category (repeatable; see
                       selftests/run_suite.sh -l)
  --timeout SEC        guest time limit (default 1800)
  --with-runner-tests  also run the VM runner's own tests (make check)
EOF
	exit "$1"
}

die()
{
	printf 'run_tests: %s\n' "$*" >&2
	exit 1
}

passed=0 failed=0 skipped=0

# count LOG NAME: add the "# NAME: pass=P fail=F skip=S" line of LOG to the
# totals; without one, the stage died early: one failure.
count()
{
	local totals

	totals=$(grep -E "^# $2: pass=[0-9]+ fail=[0-9]+ skip=[0-9]+$" "$1" |
		 tail -n 1) || true
	if [[ $totals =~ pass=([0-9]+)\ fail=([0-9]+)\ skip=([0-9]+) ]]; then
		passed=$((passed + BASH_REMATCH[1]))
		failed=$((failed + BASH_REMATCH[2]))
		skipped=$((skipped + BASH_REMATCH[3]))
	else
		printf '# %s did not finish: counted as one failure\n' "$2"
		failed=$((failed + 1))
	fi
}

# gup_benchmark's host-side tests: they need no device.
host_tests()
{
	local p=0 f=0 s=0 n=0 line

	make -s -C "$top/tools/gup_benchmark" check \
		KSFT_INCLUDE="$top/build/ksrc/tools/testing/selftests" \
		2>&1 | tee "$logs/host.log" || true
	while IFS= read -r line; do
		[[ $line =~ ^#\ Totals:\ pass:([0-9]+)\ fail:([0-9]+)\ xfail:[0-9]+\ xpass:[0-9]+\ skip:([0-9]+)\ error:([0-9]+) ]] ||
			continue
		p=$((p + BASH_REMATCH[1]))
		f=$((f + BASH_REMATCH[2] + BASH_REMATCH[4]))
		s=$((s + BASH_REMATCH[3]))
		n=$((n + 1))
	done <"$logs/host.log"
	# The stats unit tests and the command-line tests.
	((n == 2)) || { f=$((f + 1)); echo "# gup_benchmark check did not finish"; }
	echo "# gup_benchmark-host: pass=$p fail=$f skip=$s" >>"$logs/host.log"
	count "$logs/host.log" gup_benchmark-host
}

closing_line()
{
	printf '%d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
	((failed == 0))
}

# The module's kernel log verdict counts as one more test.
judge_klog()
{
	local klog=$1

	echo "TAP version 13"
	echo "1..1"
	if [[ ! -s $klog ]]; then
		echo "not ok 1 kernel log clean"
		echo "# no kernel log was captured"
		failed=$((failed + 1))
	elif klog_scan "$klog" "# " >"$logs/klog-bad"; then
		echo "ok 1 kernel log clean"
		passed=$((passed + 1))
	else
		echo "not ok 1 kernel log clean"
		cat "$logs/klog-bad"
		failed=$((failed + 1))
	fi
}

run_native()
{
	local marker

	[[ ! -d /sys/module/gup_test ]] || rmmod gup_test ||
		die "gup_test is already loaded and cannot be removed"
	insmod "$top/module/gup_test.ko" ||
		die "insmod module/gup_test.ko failed (see dmesg)"
	mountpoint -q /sys/kernel/debug ||
		mount -t debugfs debugfs /sys/kernel/debug
	ran_main=1
	marker="run_tests: start $$.$RANDOM"
	echo "$marker" >/dev/kmsg
	"$top/selftests/run_suite.sh" -b "$top/build/bin" "${categories[@]}" |
		tee "$logs/suite.log" || true
	rmmod gup_test || echo "# run_tests: cannot remove gup_test"
	dmesg | sed -n "\\|$marker|,\$p" >"$logs/klog"
}

run_vm()
{
	# Two NUMA nodes, so that gup_benchmark --node has somewhere to go.
	local vm_args=(--timeout "$timeout" --no-klog-check --numa 2)

	[[ -z $kernel ]] || vm_args+=(--kernel "$kernel")
	[[ -z $kdir ]] || vm_args+=(--kdir "$kdir")
	[[ -z $modules ]] || vm_args+=(--modules "$modules")
	: >"$logs/klog"
	local main=(-x longterm_migrate) movable=1 i

	# -t picks the categories; longterm_migrate runs in a guest of its own.
	if [[ ${#categories[@]} -gt 0 ]]; then
		main=() movable=0
		for ((i = 1; i < ${#categories[@]}; i += 2)); do
			if [[ ${categories[i]} == longterm_migrate ]]; then
				movable=1
			else
				main+=(-t "${categories[i]}")
			fi
		done
	fi
	if [[ ${#main[@]} -gt 0 ]]; then
		ran_main=1
		"$VM_DIR/run" "${vm_args[@]}" --klog "$logs/klog" \
			--insmod "$top/module/gup_test.ko" \
			--add "$top/build/bin" --add "$top/build/upstream" \
			--add "$top/module/gup_test.ko" \
			--add "$top/selftests/run_suite.sh" -- \
			"$top/selftests/run_suite.sh" -b "$top/build/bin" \
			"${main[@]}" | tee "$logs/suite.log" || true
	fi
	((movable)) || return 0
	ran_movable=1

	# ZONE_MOVABLE, where FOLL_LONGTERM must migrate, for the program
	# about that alone: the others pin hugetlb pages long-term, which
	# kernels before v6.6 WARN on there (see selftests/longterm_migrate.c).
	"$VM_DIR/run" "${vm_args[@]}" --klog "$logs/klog-movable" \
		--append "movablecore=1G" \
		--insmod "$top/module/gup_test.ko" --add "$top/build/bin" \
		--add "$top/selftests/run_suite.sh" -- \
		"$top/selftests/run_suite.sh" -b "$top/build/bin" \
		-t longterm_migrate |
		tee "$logs/suite-movable.log" || true
	cat "$logs/klog-movable" >>"$logs/klog"
}

mode="" kernel="" kdir="" modules="" timeout=1800 runner_tests=0
ran_main=0 ran_movable=0
categories=()

main()
{
	local make_args=(all)

	while [[ $# -gt 0 ]]; do
		case $1 in
		--vm | --native) mode=${1#--} ;;
		--kernel) kernel=${2:?--kernel needs a value}; shift ;;
		--kdir) kdir=${2:?--kdir needs a value}; shift ;;
		--modules) modules=${2:?--modules needs a value}; shift ;;
		-t) categories+=(-t "${2:?-t needs a value}"); shift ;;
		--timeout) timeout=${2:?--timeout needs a value}; shift ;;
		--with-runner-tests) runner_tests=1 ;;
		-h | --help) usage 0 ;;
		*) usage 2 >&2 ;;
		esac
		shift
	done

	[[ $(id -u) -eq 0 ]] ||
		die "not root: the suite installs packages and loads modules"
	if [[ -n $kernel || -n $modules ]]; then
		[[ $mode != native ]] || die "--kernel and --modules need --vm"
		mode=vm
	fi
	if [[ -z $mode ]]; then
		mode=vm
		! native_capable || mode=native
	elif [[ $mode == native ]]; then
		native_capable ||
			die "--native: this host cannot load modules into $(uname -r)"
	fi
	if [[ $mode == native && -z $kdir ]]; then
		kdir=/lib/modules/$(uname -r)/build
		[[ -d $kdir ]] || kdir=/usr/src/linux-headers-$(uname -r)
	fi
	echo "# run_tests: $mode run"

	local deps=(build)
	if [[ $mode == vm ]]; then deps+=(vm); else deps+=(kmod); fi
	# gup_benchmark's host tests draw a plot when gnuplot is there.
	((!runner_tests)) || deps+=(gnuplot-nox)
	KDIR=$kdir "$top/tools/deps.sh" "${deps[@]}"
	[[ -z $kdir ]] || make_args+=(KDIR="$kdir")
	((!runner_tests)) || make_args+=(plant-warn)
	mkdir -p "$logs"
	rm -f "$logs/suite-movable.log" "$logs/klog-movable"
	if ! make -C "$top" "${make_args[@]}"; then
		echo "# run_tests: the build failed"
		failed=$((failed + 1))
		closing_line
		exit 1
	fi

	if ((runner_tests)); then
		"$VM_DIR/tests/run_tests.sh" | tee "$logs/runner.log" || true
		count "$logs/runner.log" vm-runner
		host_tests
	fi

	if [[ $mode == native ]]; then
		run_native
	else
		run_vm
	fi
	((!ran_main)) || count "$logs/suite.log" gup-suite
	((!ran_movable)) || count "$logs/suite-movable.log" gup-suite
	judge_klog "$logs/klog"
	closing_line
}

main "$@"
