#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the suite: each program of tests.list in order, upstream's gup_test
# as upstream's run_vmtests.sh runs it, upstream's cow and gup_longterm of
# the kernel's own tree (tools/build-peers), and kmemleak.sh last. Needs
# root and debugfs at /sys/kernel/debug, and gup_test.ko loaded, or -m to
# load it for the run and unload it after; runs in the test guest or
# natively, and changes no setting itself.
#
# Output is KTAP: one result per program, with the program's own KTAP
# indented under it, closed by a "# Totals:" line that adds up the
# programs' own. A program that crashes or ends without a Totals line
# counts as one failure; one that exits with KSFT_SKIP (4) without a
# Totals line counts as one skip; one whose cases add up but that was
# killed, failed with no failed case or reported fewer results than it
# planned adds one failure to them, said in a "# NAME: why" line.

set -euo pipefail

# shellcheck source=selftests/ktap_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/ktap_lib.sh"

# upstream's run_vmtests.sh runs these, each one test.
UPSTREAM_RUNS=("-u" "-a" "-ct -F 0x1 0 19 0x1000")
# Upstream's own tests of pinning, from the running kernel's tree.
PEERS=(cow gup_longterm)

usage()
{
	cat <<EOF
usage: run_suite.sh [-b BINDIR] [-u GUP_TEST] [-p PEERDIR] [-m KO]
                    [-t CATEGORY]... [-x CATEGORY]... [-l]
  -b BINDIR    tests.list and its programs (default: this script's directory
               if tests.list is there, else ../build/bin from it)
  -u GUP_TEST  upstream's gup_test (default: BINDIR/upstream/gup_test, else
               BINDIR/../upstream/gup_test)
  -p PEERDIR   upstream's cow and gup_longterm, built from the running
               kernel's tree (default: BINDIR/peers); run with the test
               file system as their cwd, for gup_longterm's local tmpfile
  -m KO        load gup_test.ko from KO first (replacing a loaded one) and
               unload it last, one test each
  -t CATEGORY  run only CATEGORY, repeatable: a program of tests.list,
               "upstream" for upstream's gup_test, "cow", "gup_longterm"
  -x CATEGORY  leave CATEGORY out, repeatable
  -l           list the categories and exit
EOF
	exit "$1"
}

rcfile=""
module_loaded=0
NAME_PARAM=/sys/module/gup_test/parameters/name

# contains WORD LIST...: WORD is one of LIST.
contains()
{
	local word=$1 item
	shift

	for item in "$@"; do
		[[ $item != "$word" ]] || return 0
	done
	return 1
}

# run_test NAME KIND CMD...: run one program, stream its output indented and
# count its results. KIND is "harness" for a kselftest harness program,
# "plain" for one judged by its exit status alone.
run_test()
{
	local name=$1 kind=$2 line totals=0 rc p=0 f=0 s=0 why=""
	local plan="" ran=0
	shift 2

	# Said first: a guest that dies in the program leaves no result line,
	# and this names what its log ended in.
	ktap_print_msg "running $name"
	while IFS= read -r line || [[ -n $line ]]; do
		printf '  %s\n' "$line"
		if [[ $line == "# Totals: "* ]] && ktap_parse_totals "$line"; then
			totals=1
		fi
		[[ -n $plan || ! $line =~ ^1\.\.([0-9]+)$ ]] ||
			plan=${BASH_REMATCH[1]}
		[[ ! $line =~ ^(not\ )?ok\ [0-9]+ ]] || ran=$((ran + 1))
	done < <(rc=0; "$@" </dev/null 2>&1 || rc=$?; echo "$rc" >"$rcfile")
	rc=$(<"$rcfile")

	if [[ $kind == plain ]]; then
		case $rc in
		0) p=1 ;;
		"$KSFT_SKIP") s=1 ;;
		*) f=1 why="exit status $rc" ;;
		esac
	elif ((totals)); then
		p=$ktap_totals_pass f=$ktap_totals_fail s=$ktap_totals_skip
		if ((rc > 128)); then
			f=$((f + 1)) why="killed by signal $((rc - 128))"
		elif ((rc != 0 && rc != KSFT_SKIP && f == 0)); then
			f=1 why="exit status $rc with no failed test"
		fi
	elif ((rc == KSFT_SKIP)); then
		s=1
	elif ((rc > 128)); then
		f=1 why="killed by signal $((rc - 128)), no Totals line"
	else
		f=1 why="exit status $rc, no Totals line"
	fi
	# A KTAP program must report as many results as it planned. What
	# went wrong with the program beyond its cases is one failure, however
	# many ways it shows (a crash also cuts the plan short).
	if [[ $kind == harness && -n $plan ]] && ((ran != plan)); then
		[[ -n $why ]] || f=$((f + 1))
		why="${why:+$why; }planned $plan results, reported $ran"
	fi

	[[ -z $why ]] || printf '# %s: %s\n' "$name" "$why"
	ktap_test_nested "$name" "$p" "$f" "$s"
}

# load_module KO: load the module for the run, under the name it picks (on
# a kernel with CONFIG_GUP_TEST=y, beside the kernel's own file), and tell
# the programs where it is.
load_module()
{
	local ko=$1 err name

	grep -q ' /sys/kernel/debug debugfs ' /proc/mounts ||
		mount -t debugfs none /sys/kernel/debug 2>/dev/null || true
	# In the suite's own guest the module is a given.
	if [[ ! -f $ko ]]; then
		if [[ ${GUP_VM:-} == 1 ]]; then
			ktap_test_fail "load gup_test.ko" "no $ko: the module was not built"
		else
			ktap_test_skip "load gup_test.ko" "no $ko: the module was not built"
		fi
		return
	fi
	if [[ -d /sys/module/gup_test ]] && ! err=$(rmmod gup_test 2>&1); then
		ktap_test_fail "load gup_test.ko" "a loaded gup_test stays: $err"
		return
	fi
	if ! err=$(insmod "$ko" 2>&1); then
		ktap_test_fail "load gup_test.ko" "insmod $ko: $err"
		return
	fi
	name=$(<"$NAME_PARAM")
	export GUP_TEST_KO=$ko GUP_TEST_DEV=/sys/kernel/debug/$name
	echo "# $ko serves $GUP_TEST_DEV"
	module_loaded=1
	ktap_test_pass "load gup_test.ko"
}

unload_module()
{
	local err

	if ((!module_loaded)); then
		ktap_test_skip "unload gup_test" "it was not loaded"
	elif [[ ! -d /sys/module/gup_test ]]; then
		ktap_test_fail "unload gup_test" "not loaded any more"
	elif ! err=$(rmmod gup_test 2>&1); then
		ktap_test_fail "unload gup_test" "rmmod: $err"
	else
		ktap_test_pass "unload gup_test"
	fi
}

# run_peer NAME PROG: one of upstream's peer tests, from the test file
# system; a kernel tree without it (6.1's) is a skip that says so.
run_peer()
{
	local name=$1 prog=$2

	if [[ ! -x $prog ]]; then
		ktap_test_skip "upstream $name" "not in this kernel's tree ($prog)"
		return
	fi
	run_test "upstream $name" harness \
		sh -c 'cd "${GUP_TEST_FS_DIR:-.}" && exec "$0"' "$prog"
}

main()
{
	local here bindir="" gup_test="" only=() list=0 opt progs=() run
	local peerdir="" all=() ko=""
	local selected=() cat args skip_cats=()

	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	while getopts "b:u:p:m:t:x:lh" opt; do
		case $opt in
		m) ko=$OPTARG ;;
		x) skip_cats+=("$OPTARG") ;;
		b) bindir=$OPTARG ;;
		u) gup_test=$OPTARG ;;
		p) peerdir=$OPTARG ;;
		t) only+=("$OPTARG") ;;
		l) list=1 ;;
		h) usage 0 ;;
		*) usage 2 >&2 ;;
		esac
	done
	shift $((OPTIND - 1))
	[[ $# -eq 0 ]] || usage 2 >&2

	if [[ -z $bindir ]]; then
		bindir=$here
		[[ -f $bindir/tests.list ]] || bindir=$here/../build/bin
	fi
	[[ -f $bindir/tests.list ]] ||
		{ echo "run_suite.sh: no tests.list in $bindir" >&2; exit 2; }
	if [[ -z $gup_test ]]; then
		gup_test=$bindir/upstream/gup_test
		[[ -x $gup_test ]] || gup_test=$bindir/../upstream/gup_test
	fi
	peerdir=${peerdir:-$bindir/peers}
	mapfile -t progs < <(grep -v -e '^#' -e '^[[:space:]]*$' \
			     -e '^kmemleak.sh$' "$bindir/tests.list")
	all=("${progs[@]}" upstream "${PEERS[@]}")
	! grep -qx kmemleak.sh "$bindir/tests.list" || all+=(kmemleak.sh)

	if ((list)); then
		printf '%s\n' "${all[@]}"
		return 0
	fi
	for cat in "${only[@]}" "${skip_cats[@]}"; do
		contains "$cat" "${all[@]}" ||
			{ echo "run_suite.sh: no category $cat (see -l)" >&2; exit 2; }
	done
	for cat in "${all[@]}"; do
		! contains "$cat" "${skip_cats[@]}" || continue
		if [[ ${#only[@]} -eq 0 ]] || contains "$cat" "${only[@]}"; then
			selected+=("$cat")
		fi
	done

	rcfile=$(mktemp)
	# shellcheck disable=SC2064 # expand now
	trap "rm -f '$rcfile'" EXIT

	# What was allocated before the suite is not the suite's leak.
	! contains kmemleak.sh "${selected[@]}" ||
		"$bindir/kmemleak.sh" clear || true

	ktap_print_header
	run=${#selected[@]}
	! contains upstream "${selected[@]}" ||
		run=$((run - 1 + ${#UPSTREAM_RUNS[@]}))
	[[ -z $ko ]] || run=$((run + 2))
	ktap_set_plan "$run"
	[[ -z $ko ]] || load_module "$ko"
	for cat in "${selected[@]}"; do
		if contains "$cat" "${PEERS[@]}"; then
			run_peer "$cat" "$peerdir/$cat"
			continue
		fi
		if [[ $cat != upstream ]]; then
			run_test "$cat" harness "$bindir/$cat"
			continue
		fi
		[[ $(<"$NAME_PARAM") == gup_test ]] 2>/dev/null ||
			echo "# upstream's gup_test opens the kernel's gup_test, not ours"
		for args in "${UPSTREAM_RUNS[@]}"; do
			# shellcheck disable=SC2086 # split the argument string
			run_test "upstream gup_test $args" plain "$gup_test" $args
		done
	done
	[[ -z $ko ]] || unload_module
	ktap_finished
}

main "$@"
