#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The suite's main job: install what is missing, build, run the whole suite
# on one or more kernels and judge each kernel's log, then print one closing
# line
#   N passed, N failed, N skipped
# and exit non-zero if anything failed.
#
# The suite runs natively when this host can load modules into its running
# kernel (CAP_SYS_MODULE, modules not disabled, headers installed), else in
# QEMU guests booted by tools/vm/run. Logs are kept in build/logs/TARGET/.

set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tools/vm/lib.sh
source "$top/tools/vm/lib.sh"
logs=$top/build/logs

# The kernels make check runs on.
MATRIX=(debian-6.1 debian-6.12 mainline-debug)

usage()
{
	cat <<EOF
usage: ./run_tests.sh [OPTION]...
  --target NAME        a kernel of the matrix (repeatable, run in order):
                         debian-6.1      bookworm's kernel (the default)
                         debian-6.12     bookworm-security's 6.12 LTS kernel
                         mainline        the newest linux-source-X.Y of
                                         Debian's sid/experimental, built here
                         mainline-debug  the same with KASAN, lockdep,
                                         kmemleak and the other checkers
  --matrix             every kernel of the matrix: ${MATRIX[*]}
  --check              what make check runs: the runner's and gup_benchmark's
                       own tests, checkpatch, then on --matrix (or on --kdir)
                       the suite and the mutation check of each kernel
  --mainline X.Y       build linux-source-X.Y for the mainline targets
                       (default: the newest; GUP_KSRC_VERSION sets it too)
  --kdir KDIR          build the module against KDIR and, with no --kernel,
                       boot KDIR's kernel: a maintainer's own tree
  --kernel IMAGE       boot this kernel
  --modules DIR        the guest kernel's modules (see tools/vm/run --help)
  --vm                 run in a QEMU guest even if the host could run natively
  --native             run on the running kernel (fails if it cannot)
  -t CATEGORY          run only this category (repeatable; see
                       selftests/run_suite.sh -l)
  --timeout SEC        guest time limit (default 1800)
  --with-runner-tests  also run the VM runner's and gup_benchmark's own tests
EOF
	exit "$1"
}

die()
{
	printf 'run_tests: %s\n' "$*" >&2
	exit 1
}

passed=0 failed=0 skipped=0
# One line per failure counted, for the digest above the closing line.
failures=()

# fail_one WHAT: one failure that no log counts, said now and in the digest.
fail_one()
{
	echo "# run_tests: $1"
	failures+=("$1")
	failed=$((failed + 1))
}

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
		((BASH_REMATCH[2] == 0)) ||
			failures+=("$2: ${BASH_REMATCH[2]} failed (${1#"$top"/})")
	else
		fail_one "$2 did not finish: counted as one failure (${1#"$top"/})"
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

# The module's sources against 6.1's and mainline's checkpatch --strict:
# one test, failed by any error, warning or check.
checkpatch_test()
{
	local out

	echo "TAP version 13"
	echo "1..1"
	if out=$(make -s -C "$top" checkpatch 2>&1) &&
	   ! grep -qE '^(ERROR|WARNING|CHECK):' <<<"$out"; then
		echo "ok 1 checkpatch --strict clean"
		passed=$((passed + 1))
	else
		grep -E -A 3 '^(ERROR|WARNING|CHECK):|^total:' <<<"$out" |
			sed 's/^/# /'
		echo "not ok 1 checkpatch --strict clean"
		failures+=("checkpatch --strict")
		failed=$((failed + 1))
	fi
}

# digest: what failed, where a reader of the output's last lines finds
# it: each failure counted, and the failing results in this run's logs.
digest()
{
	local f

	((failed)) || return 0
	echo "# run_tests: what failed:"
	for f in "${failures[@]}"; do
		echo "#   $f"
	done
	[[ -f $logs/.started ]] || return 0
	(cd "$logs" && find . -type f -newer .started -exec \
	 grep -HE --binary-files=without-match '^[# ]*not ok [0-9]+ ' {} +) |
		sed 's|^\./||; s/:[# ]*/: /; s/^/#   /' | head -n 60
}

# A run in which nothing passed proves nothing: it fails.
closing_line()
{
	if ((passed == 0 && failed == 0)); then
		fail_one "nothing passed: counted as one failure"
	fi
	digest
	printf '%d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
	((failed == 0))
}

# judge_klog KLOG NAME: the kernel log's verdict counts as one more test.
judge_klog()
{
	local klog=$1 name=$2

	echo "TAP version 13"
	echo "1..1"
	if [[ ! -s $klog ]]; then
		echo "not ok 1 $name: kernel log clean"
		echo "# no kernel log was captured"
		failures+=("$name: no kernel log")
		failed=$((failed + 1))
	elif klog_scan "$klog" "# " >"$klog.bad"; then
		echo "ok 1 $name: kernel log clean"
		passed=$((passed + 1))
	else
		echo "not ok 1 $name: kernel log clean"
		cat "$klog.bad"
		failures+=("$name: kernel log: $(sed -n '1s/^# //p' "$klog.bad")")
		failed=$((failed + 1))
	fi
}

run_native()
{
	local ko=$1 peers=$2 log=$3 marker

	[[ ! -d /sys/module/gup_test ]] || rmmod gup_test ||
		die "gup_test is already loaded and cannot be removed"
	insmod "$ko" || die "insmod $ko failed (see dmesg)"
	mountpoint -q /sys/kernel/debug ||
		mount -t debugfs debugfs /sys/kernel/debug
	marker="run_tests: start $$.$RANDOM"
	echo "$marker" >/dev/kmsg
	GUP_TEST_KO=$ko "$top/selftests/run_suite.sh" -b "$top/build/bin" \
		-p "$peers" "${categories[@]}" | tee "$log/suite.log" || true
	count "$log/suite.log" gup-suite
	rmmod gup_test || echo "# run_tests: cannot remove gup_test"
	dmesg | sed -n "\\|$marker|,\$p" >"$log/klog"
}

# run_vm KO PEERS KSFT LOG KDIR KERNEL MODULES SERIES: the suite in the
# guests of one kernel; KSFT, if not empty, is the kselftest install to run
# after it, and SERIES the mm selftests of the tree the series patched.
run_vm()
{
	local ko=$1 peers=$2 ksft=$3 log=$4 kdir=$5 kernel=$6 modules=$7
	local series=$8
	# Two NUMA nodes, so that gup_benchmark --node has somewhere to go.
	local vm_args=(--timeout "$timeout" --no-klog-check --numa 2)
	local main=(-x longterm_migrate) movable=1 i fio

	# fio_pins.sh's fio, with its libraries (tools/deps.sh installs it).
	fio=$(command -v fio) && vm_args+=(--add "$fio")

	[[ -z $kernel ]] || vm_args+=(--kernel "$kernel")
	[[ -z $kdir ]] || vm_args+=(--kdir "$kdir")
	[[ -z $modules ]] || vm_args+=(--modules "$modules")
	: >"$log/klog"

	# -t picks the categories; longterm_migrate runs in a guest of its own.
	if [[ ${#categories[@]} -gt 0 ]]; then
		main=() movable=0 ksft=""
		for ((i = 1; i < ${#categories[@]}; i += 2)); do
			if [[ ${categories[i]} == longterm_migrate ]]; then
				movable=1
			else
				main+=(-t "${categories[i]}")
			fi
		done
	fi
	if [[ ${#main[@]} -gt 0 ]]; then
		"$VM_DIR/run" "${vm_args[@]}" --klog "$log/klog" \
			--insmod "$ko" --add "$ko" \
			--add "$top/build/bin" --add "$top/build/upstream" \
			--add "$top/selftests/run_suite.sh" --add "$peers" \
			${ksft:+--add "$ksft"} --add "$VM_DIR/suite-guest" -- \
			env GUP_TEST_KO="$ko" "$VM_DIR/suite-guest" "$ksft" \
			"$KSFT_TARGET" "$top/selftests/run_suite.sh" \
			-b "$top/build/bin" -p "$peers" "${main[@]}" |
			tee "$log/suite.log" || true
		count "$log/suite.log" gup-suite
		[[ -z $ksft ]] || count_inner "$log/suite.log" \
			"${log##*/}: kselftest $KSFT_TARGET" \
			"^# # $SUITE_TOTALS" pfs \
			"selftests: $KSFT_TARGET: gup_pin.sh"
	fi
	if ((movable)); then
		# ZONE_MOVABLE, where FOLL_LONGTERM must migrate, for the
		# program about that alone: the others pin hugetlb pages
		# long-term, which kernels before v6.6 WARN on there (see
		# selftests/longterm_migrate.c).
		"$VM_DIR/run" "${vm_args[@]}" --klog "$log/klog-movable" \
			--append "movablecore=1G" \
			--insmod "$ko" --add "$top/build/bin" \
			--add "$top/selftests/run_suite.sh" -- \
			"$top/selftests/run_suite.sh" -b "$top/build/bin" \
			-t longterm_migrate |
			tee "$log/suite-movable.log" || true
		count "$log/suite-movable.log" gup-suite
		cat "$log/klog-movable" >>"$log/klog"
	fi
	[[ -n $series ]] || return 0

	# The patched tree's mm selftests, as make kselftest runs them: the
	# ksft_ wrappers of upstream's gup_test category and of gup_pin.
	# shellcheck disable=SC2016 # expanded by the guest's shell
	"$VM_DIR/run" "${vm_args[@]}" --klog "$log/klog-series" \
		--add "$series" -- sh -c 'cd "$1" &&
		./run_kselftest.sh -t mm:ksft_gup_test.sh
		echo "# series-guest: gup_pin"
		./run_kselftest.sh -t mm:ksft_gup_pin.sh' sh "$series" |
		tee "$log/series-run.log" || true
	sed -n '1,/^# series-guest: gup_pin$/p' "$log/series-run.log" \
		>"$log/series-gup_test.log"
	sed -n '/^# series-guest: gup_pin$/,$p' "$log/series-run.log" \
		>"$log/series-gup_pin.log"
	count_inner "$log/series-gup_test.log" "series: run_vmtests -t gup_test" \
		"^# # $VMTESTS_SUMMARY" psf "selftests: mm: ksft_gup_test.sh"
	count_inner "$log/series-gup_pin.log" "series: run_vmtests -t gup_pin" \
		"^# # # $SUITE_TOTALS" pfs "selftests: mm: ksft_gup_pin.sh"
	cat "$log/klog-series" >>"$log/klog"
}

# resolve_target NAME: set t_kdir, t_kernel, t_modules, t_src (the source
# tree, for upstream's peer tests) and t_about for one kernel, fetching or
# building it into the cache.
resolve_target()
{
	local dir

	t_kdir="" t_kernel="" t_modules="" t_about="" t_src="" t_git=""
	case $1 in
	debian-*)
		t_kdir=$(kernel_kdir "$1") ||
			die "cannot fetch Debian's ${1#debian-} kernel"
		dir=${t_kdir%/build}
		t_src=$("$VM_DIR/fetch-source" --debian "${1#debian-}") ||
			die "cannot fetch linux-source-${1#debian-}"
		t_about="Debian $(<"$dir/version"), release ${dir##*/}"
		;;
	mainline | mainline-debug)
		# main() exported GUP_KSRC_VERSION: fetch-source's version.
		t_src=$("$VM_DIR/fetch-source") ||
			die "cannot fetch a mainline source"
		t_kdir=$(kernel_kdir "$1") || die "cannot build $t_src"
		if ((check)); then
			t_git=$("$VM_DIR/fetch-source" --git) ||
				die "cannot make a git tree of $t_src"
		fi
		t_about="$(<"$t_src/SOURCE_VERSION"), release $(kernel_release_of_kdir "$t_kdir"), built in $t_kdir"
		;;
	custom)
		t_kdir=$kdir t_kernel=$kernel t_modules=$modules
		# A maintainer's tree is its own source; an O= build
		# directory links to it as "source".
		if [[ -d $kdir/tools/testing/selftests ]]; then
			t_src=$kdir
		elif [[ -d $kdir/source/tools/testing/selftests ]]; then
			t_src=$(realpath -- "$kdir/source")
		fi
		t_about=${kernel:-${kdir:-Debian\'s default kernel}}
		;;
	*)
		die "unknown target: $1 (see --help)"
		;;
	esac
}

# The name of this suite's directory in a kernel tree's selftests.
KSFT_TARGET=gup_pin

# build_kselftest SRC OUT KDIR: put the suite into SRC's
# tools/testing/selftests/ as a maintainer would (tools/kselftest/series
# copy), build it, module included, against KDIR with the tree's own
# kselftest Makefile and install it into OUT/install.
build_kselftest()
{
	local src=$1 out=$2 kdir=$3 dir=$1/tools/testing/selftests/$KSFT_TARGET

	rm -rf "$out"
	mkdir -p "$out"
	"$top/tools/kselftest/series" copy "$dir" || return 1
	make -C "$src/tools/testing/selftests" TARGETS="$KSFT_TARGET" \
		KDIR="$kdir" INSTALL_PATH="$out/install" install \
		>"$out/build.log" 2>&1 || {
		tail -n 15 "$out/build.log"
		return 1
	}
	# The module is the tree's build, installed with the tests.
	[[ -f $out/install/$KSFT_TARGET/module/gup_test.ko ]] || {
		echo "# no module/gup_test.ko in $out/install/$KSFT_TARGET"
		return 1
	}
}

# What run_suite.sh and run_vmtests.sh print last, under a runner's "# ".
SUITE_TOTALS='gup-suite: pass=([0-9]+) fail=([0-9]+) skip=([0-9]+)$'
VMTESTS_SUMMARY='SUMMARY: PASS=([0-9]+) SKIP=([0-9]+) FAIL=([0-9]+)$'

# count_inner LOG NAME TOTALS ORDER TOP: add the last line of LOG that
# matches TOTALS, a regex of three numbers in ORDER (pfs: pass, fail,
# skip; psf: pass, skip, fail), to the totals. TOP matches the runner's
# own result line: a run that the runner failed (a timeout) with no
# failure inside is one failure, and so is one that did not finish.
count_inner()
{
	local log=$1 name=$2 re=$3 order=$4 top=$5 totals verdict p=0 f=0 s=0

	totals=$(grep -E "$re" "$log" | tail -n 1) || true
	verdict=$(grep -E "^(not )?ok [0-9]+ $top" "$log" | tail -n 1) || true
	if [[ $totals =~ $re ]]; then
		p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]} s=${BASH_REMATCH[3]}
		[[ $order == pfs ]] || f=${BASH_REMATCH[3]} s=${BASH_REMATCH[2]}
	fi
	if [[ -z $totals || -z $verdict ]]; then
		echo "# $name: did not finish: counted as one failure"
		f=$((f + 1))
	elif [[ $verdict == not* ]] && ((f == 0)); then
		echo "# $name: $verdict: counted as one failure"
		f=1
	fi
	echo "# $name: pass=$p fail=$f skip=$s"
	((f == 0)) || failures+=("$name: $f failed (${log#"$top"/})")
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

# tap RESULT NAME [WHY]: one result of series_build.
tap()
{
	s_num=$((s_num + 1))
	case $1 in
	ok) s_pass=$((s_pass + 1)); echo "ok $s_num $2" ;;
	skip) s_skip=$((s_skip + 1)); echo "ok $s_num $2 # SKIP $3" ;;
	*) s_fail=$((s_fail + 1)); echo "not ok $s_num $2"; echo "# $3" ;;
	esac
}

# series_build GIT OUT KDIR: the mm patch series (tools/kselftest/series)
# made against GIT, a fresh git tree of the source, then applied there
# with git am one patch at a time: each must apply, leave mm's selftests
# building against KDIR (bisectable) and pass checkpatch --strict, commit
# message included. Then mm's selftests are installed into OUT/install.
# KTAP, closed by "# series: pass=P fail=F skip=S".
series_build()
{
	local git=$1 out=$2 kdir=$3 patch n cp patches=() broken=""
	local mm=$git/tools/testing/selftests/mm

	s_num=0 s_pass=0 s_fail=0 s_skip=0
	echo "TAP version 13"
	rm -rf "$out"
	mkdir -p "$out"
	# The tree as the package has it: a run before left patches there.
	git -C "$git" am --abort >/dev/null 2>&1 || true
	git -C "$git" checkout -q -f -B master base
	git -C "$git" clean -q -f -d -x tools/testing/selftests
	if ! "$top/tools/kselftest/series" patches "$git" "$out/patches" \
	     >"$out/make.log" 2>&1; then
		echo "1..1"
		tap fail "the series is made" "$(tail -n 1 "$out/make.log")"
		echo "# series: pass=$s_pass fail=$s_fail skip=$s_skip"
		return
	fi
	mapfile -t patches < <(find "$out/patches" -name '0*.patch' \
			       ! -name '0000-*' | sort)
	echo "1..$((2 + 3 * ${#patches[@]}))"
	tap ok "the series is made: ${#patches[@]} patches and a cover letter"

	[[ -f $git/usr/include/linux/mman.h ]] ||
		make -s -C "$git" headers >"$out/headers.log" 2>&1 || true
	for patch in "${patches[@]}"; do
		n=${patch##*/}
		n=${n%%-*}
		if [[ -n $broken ]]; then
			tap skip "patch $n applies" "$broken"
			tap skip "patch $n builds" "$broken"
			tap skip "patch $n checkpatch --strict" "$broken"
			continue
		fi
		# The committer of the check's own commits; a fresh machine
		# has none configured.
		if git -C "$git" -c user.name=run_tests -c user.email=run_tests@localhost \
		       am -q "$patch" >"$out/am-$n.log" 2>&1; then
			tap ok "patch $n applies"
		else
			tap fail "patch $n applies" "$(tail -n 1 "$out/am-$n.log")"
			git -C "$git" am --abort >/dev/null 2>&1 || true
			broken="patch $n does not apply"
			tap skip "patch $n builds" "$broken"
			tap skip "patch $n checkpatch --strict" "$broken"
			continue
		fi
		if make -C "$mm" KDIR="$kdir" -j2 >"$out/build-$n.log" 2>&1; then
			tap ok "patch $n builds"
		else
			tap fail "patch $n builds" \
				"$(grep -m 1 -E 'error|Error' "$out/build-$n.log")"
		fi
		# Debian's python3 for spdxcheck.py, whatever PATH has.
		cp=$(cd "$git" && PATH=/usr/bin:$PATH perl scripts/checkpatch.pl \
		     --strict "$patch" 2>&1) || true
		if grep -q '^total: 0 errors, 0 warnings, 0 checks,' <<<"$cp" &&
		   ! grep -q 'Traceback' <<<"$cp"; then
			tap ok "patch $n checkpatch --strict"
		else
			tap fail "patch $n checkpatch --strict" \
				"$(grep -E -m 3 '^(ERROR|WARNING|CHECK|total|Traceback)' <<<"$cp")"
		fi
	done
	# As "make O=KDIR kselftest-install" would: O= is the kernel's
	# build, which upstream's page_frag module is built against too. The
	# objects go to OUT/build, not into the cached kernel build.
	if [[ -z $broken ]] &&
	   make -C "$git/tools/testing/selftests" TARGETS=mm O="$kdir" \
		BUILD="$out/build" KHDR_INCLUDES="-isystem $git/usr/include" \
		INSTALL_PATH="$out/install" install >"$out/install.log" 2>&1 &&
	   [[ -x $out/install/mm/gup_pin/gup_pin.sh &&
	      -f $out/install/mm/gup_pin/module/gup_test.ko ]]; then
		tap ok "mm's selftests install, gup_pin with its module"
	else
		rm -rf "$out/install"
		tap fail "mm's selftests install, gup_pin with its module" \
			"${broken:-$(tail -n 1 "$out/install.log")}"
	fi
	echo "# series: pass=$s_pass fail=$s_fail skip=$s_skip"
}

# cross_kernel NAME...: gup_benchmark's cross-kernel run in its short form
# (vm-benchmark --quick: pup_fast at 512 pages per call on each page type,
# 5 repetitions, two boots of each kernel, interleaved) on kernels this run
# has booted, so that the path from boots to report stays working. A debug
# kernel's numbers beside release ones compare nothing: the form is judged,
# not the verdicts. KTAP, closed by "# cross-kernel: pass=P fail=F skip=S".
cross_kernel()
{
	local out=$logs/cross-kernel names=("$@") name b type row rc=0
	local n=0 p=0 f=0 want=$(($# - 1)) got

	# xk_check NAME COMMAND...: one result, ok when COMMAND succeeds.
	xk_check()
	{
		n=$((n + 1))
		if "${@:2}"; then
			p=$((p + 1))
			echo "ok $n cross-kernel: $1"
		else
			f=$((f + 1))
			echo "not ok $n cross-kernel: $1"
		fi
	}

	rm -rf "$out"
	"$top/tools/gup_benchmark/vm-benchmark" --kernels \
		"$(IFS=,; echo "${names[*]}")" --boots 2 --quick "$out" \
		>"$logs/cross-kernel.log" 2>&1 || rc=$?
	echo "TAP version 13"
	echo "1..$((2 * $# + 4))"
	echo "# vm-benchmark: status $rc, log in $logs/cross-kernel.log"
	xk_check "vm-benchmark exits 0" test "$rc" -eq 0
	for name in "${names[@]}"; do
		got=0
		for b in 1 2; do
			for type in 4k thp hugetlb; do
				[[ -f $out/$name/boot-$b.json ]] || continue
				! "$top/build/bin/gup_benchmark" \
					--from "$out/$name/boot-$b.json" 2>/dev/null |
					grep -qE "^pup_fast $type 64M npc=512 +[0-9]" ||
					got=$((got + 1))
			done
		done
		echo "# $name: $got of 6 boot x page type measured"
		xk_check "$name: 2 boots measured 4k, thp and hugetlb" test "$got" -eq 6
	done
	# Each row of the pin table: a change with its interval and a
	# verdict for every kernel after the first.
	for type in 4k thp hugetlb; do
		row=$(grep -m 1 -E "^\| pup_fast +\| $type +\| +512 \|" \
		      "$out/report.md" 2>/dev/null) || true
		got=$(grep -oE '[+-][0-9.]+% \[[+-][0-9.]+%, [+-][0-9.]+%\] +\| (SLOWER|faster|same) ' \
		      <<<"$row" | wc -l)
		echo "# ${row:-no pin row for $type}"
		xk_check "report: pin $type: $want changes with interval and verdict" \
			test "$got" -eq "$want"
	done
	for name in "${names[@]:1}"; do
		xk_check "report: boot-to-boot spread of $name" grep -qE \
			"^\| ${name//./\\.} +\| +2 \|" "$out/report.md"
	done
	xk_check "report: plot" grep -q '<svg' "$out/report.svg"
	echo "# cross-kernel: pass=$p fail=$f skip=0"
}

# run_target NAME: build the module for one kernel and run the suite on it.
run_target()
{
	local name=$1 log=$logs/$1 modout peers=$top/build/k/$1/peers
	local ksft=$top/build/k/$1/kselftest series=$top/build/k/$1/series

	resolve_target "$name"
	echo "# run_tests: target $name: $t_about"
	rm -rf "$log"
	mkdir -p "$log"
	modout=$top/build/k/$name
	[[ $mode != native ]] || modout=$top/module
	if ! make -s -C "$top" module KDIR="$t_kdir" MODOUT="$modout"; then
		fail_one "$name: the module does not build"
		return
	fi
	mkdir -p "$peers"
	if [[ -n $t_src ]] && ! "$top/tools/build-peers" "$t_src" "$peers"; then
		fail_one "$name: upstream's peer tests do not build"
	fi
	if [[ -z $t_src ]]; then
		ksft=""
	elif ! build_kselftest "$t_src" "$ksft" "$t_kdir"; then
		fail_one "$name: the kselftest target does not build in $t_src"
		ksft=""
	fi
	# The mm patch series, on a mainline tree, for make check.
	if ((check)) && [[ $name == mainline* && $mode != native ]]; then
		series_build "$t_git" "$series" "$t_kdir" | tee "$log/series.log"
		count "$log/series.log" series
		[[ -d $series/install ]] || series=""
	else
		series=""
	fi
	if [[ $mode == native ]]; then
		run_native "$modout/gup_test.ko" "$peers" "$log"
	else
		run_vm "$modout/gup_test.ko" "$peers" "${ksft:+$ksft/install}" \
			"$log" "$t_kdir" "$t_kernel" "$t_modules" \
			"${series:+$series/install}"
	fi
	judge_klog "$log/klog" "$name"
	# Proof, on this kernel, that the suite fails a wrong module.
	if ((check)) && [[ $mode != native ]]; then
		"$top/tools/mutation-check" "$t_kdir" |
			tee "$log/mutation.log" || true
		count "$log/mutation.log" mutation-check
	fi
}

mode="" kernel="" kdir="" modules="" timeout=1800 runner_tests=0 mainline=""
check=0
categories=() targets=()

main()
{
	local make_args=(selftests benchmark upstream) deps=(build) name

	while [[ $# -gt 0 ]]; do
		case $1 in
		--vm | --native) mode=${1#--} ;;
		--target) targets+=("${2:?--target needs a value}"); shift ;;
		--matrix) targets+=("${MATRIX[@]}") ;;
		--check) check=1 runner_tests=1 ;;
		--mainline) mainline=${2:?--mainline needs X.Y}; shift ;;
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
	export GUP_KSRC_VERSION=${mainline:-${GUP_KSRC_VERSION:-}}

	[[ $(id -u) -eq 0 ]] ||
		die "not root: the suite installs packages and loads modules"
	if [[ -n $kernel || -n $kdir || -n $modules ]]; then
		[[ ${#targets[@]} -eq 0 ]] ||
			die "--kernel, --kdir and --modules name a kernel: no --target with them"
		targets=(custom)
	elif ((check)) && [[ ${#targets[@]} -eq 0 ]]; then
		targets=("${MATRIX[@]}")
	fi
	if [[ -n $kernel || -n $modules || ${#targets[@]} -gt 0 ]]; then
		[[ $mode != native ]] ||
			die "--native runs the running kernel: no --target, --kernel or --modules"
		mode=vm
	fi
	if [[ -z $mode ]]; then
		mode=vm
		! native_capable || mode=native
	elif [[ $mode == native ]]; then
		native_capable ||
			die "--native: this host cannot load modules into $(uname -r)"
	fi
	if [[ $mode == native ]]; then
		kdir=/lib/modules/$(uname -r)/build
		[[ -d $kdir ]] || kdir=/usr/src/linux-headers-$(uname -r)
		targets=(custom)
	fi
	[[ ${#targets[@]} -gt 0 ]] || targets=(debian-6.1)
	echo "# run_tests: $mode run on ${targets[*]}"

	# Packages first, with the lists refreshed once if anything is
	# missing: which kernel a target is, is read from the lists after.
	if [[ $mode == vm ]]; then deps+=(vm); else deps+=(kmod); fi
	# gup_benchmark's host tests draw a plot when gnuplot is there.
	((!runner_tests)) || deps+=(gnuplot-nox)
	[[ " ${targets[*]} " != *" mainline"* ]] || deps+=(build-kernel)
	"$top/tools/deps.sh" "${deps[@]}"
	((!runner_tests)) || make_args+=(plant-warn)
	mkdir -p "$logs"
	# What this run writes into the logs is newer (see digest()).
	touch "$logs/.started"
	if ! make -C "$top" "${make_args[@]}"; then
		fail_one "the build failed"
		closing_line
		exit 1
	fi

	if ((runner_tests)); then
		"$VM_DIR/tests/run_tests.sh" | tee "$logs/runner.log" || true
		count "$logs/runner.log" vm-runner
		host_tests
		checkpatch_test
	fi

	for name in "${targets[@]}"; do
		run_target "$name"
	done
	# On two kernels of the matrix or more, booted already.
	if ((check)) && [[ $mode == vm && " ${targets[*]} " != *" custom "* &&
			   ${#targets[@]} -ge 2 ]]; then
		cross_kernel "${targets[@]}" | tee "$logs/cross-kernel.tap"
		count "$logs/cross-kernel.tap" cross-kernel
	fi
	closing_line
}

main "$@"
