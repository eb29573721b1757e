# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the stages of run_tests.sh (tools/check/*): the VM runner's
# functions, the one KTAP helper, and the results every stage reports the
# same way. A stage is an executable that prints KTAP, closes with the
# harness's "# Totals:" line and exits 0, 1 or 4 (see docs/check.md).
# shellcheck shell=bash

CHECK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tools/vm/lib.sh
source "$CHECK_DIR/../vm/lib.sh"
# shellcheck source=selftests/ktap_lib.sh
source "$REPO_DIR/selftests/ktap_lib.sh"

# What the top-level build leaves, and where the logs go.
# shellcheck disable=SC2034 # used by the stages
BIN_DIR=$REPO_DIR/build/bin
# shellcheck disable=SC2034
LOG_DIR=$REPO_DIR/build/logs

# The name of the suite's directory in a kernel tree's selftests.
# shellcheck disable=SC2034
KSFT_TARGET=gup_pin
# What the packaging forms (the kselftest copy in a tree, the mm series)
# run through the tree's own runners: every program ran already, in the
# suite's own run on the same kernel; what is left to prove is that the
# tree builds, installs and loads the module and that its runner runs a
# harness program built with the tree's own kselftest_harness.h. One
# program with fixtures and variants does (gup_pin.sh's GUP_PIN_ARGS):
# fork_pin, a few seconds, where pin_count, with every memory kind, took
# 48 s on 6.12 and more under KASAN.
# shellcheck disable=SC2034
SMOKE_ARGS="-t fork_pin"
# The target the kernel mutants (tools/kernel-mutations/) are made of:
# the newest mainline source, built with the checkers, whose reports kill
# a mutant too. run_tests.sh --check runs their sample on it.
# shellcheck disable=SC2034
KERNEL_MUTANTS_TARGET=mainline-debug
# The target --check counts instructions on (tools/check/insn): a release
# kernel, whose counts are GUP's and not the checkers', and boots fast.
# shellcheck disable=SC2034
INSN_TARGET=debian-6.12

# provenance_msgs [tools/provenance option]...: what produced the stage's
# results, as diagnostic lines of its header ("# provenance: KEY=VALUE"),
# which tools/kcidb reads back.
provenance_msgs()
{
	"$REPO_DIR/tools/provenance" "$@" | sed 's/^/# provenance: /'
}

check_die()
{
	printf '%s: %s\n' "${0##*/}" "$*" >&2
	exit 1
}

# nest LOG: a nested run's output, from stdin, into LOG and, as it comes,
# to stdout as the stage's diagnostic lines.
nest()
{
	tee "$1" | sed -u 's/^/# /'
}

# klog_result NAME KLOG: the verdict on one kernel log, as one result.
klog_result()
{
	local name=$1 klog=$2

	if [[ ! -s $klog ]]; then
		ktap_test_fail "$name: kernel log clean" "no kernel log was captured"
	elif klog_scan "$klog" "# " >"$klog.bad"; then
		ktap_test_pass "$name: kernel log clean"
	else
		cat "$klog.bad"
		ktap_test_fail "$name: kernel log clean"
	fi
}

# nested_result NAME LOG PREFIX [RUNNER_RE]: one result for a run whose
# KTAP is in LOG under PREFIX (how deep a runner nested it), with its
# "# Totals:" counts. RUNNER_RE, if given, matches the result line of the
# kselftest runner around it: a run the runner failed (a timeout) with no
# failure inside is one failure. A run that did not finish is one.
nested_result()
{
	local found=0

	! ktap_read_totals "$2" "$3" || found=1
	runner_verdict "$1" "$2" "$found" "${4:-}"
}

# vmtests_result NAME LOG RUNNER_RE: nested_result for upstream's
# run_vmtests.sh under the kselftest runner, which closes with its own
# "SUMMARY: PASS= SKIP= FAIL=": the one format read here that is not
# KTAP's, since upstream dictates it.
vmtests_result()
{
	local summary found=0

	summary=$(sed -n -E 's/^# # SUMMARY: PASS=([0-9]+) SKIP=([0-9]+) FAIL=([0-9]+)$/\1 \2 \3/p' \
		  "$2" | tail -n 1)
	if [[ -n $summary ]]; then
		read -r ktap_totals_pass ktap_totals_skip ktap_totals_fail <<<"$summary"
		found=1
	fi
	runner_verdict "$1" "$2" "$found" "$3"
}

# runner_verdict NAME LOG FOUND RUNNER_RE: the result for nested_result and
# vmtests_result, from the counts in ktap_totals_* if FOUND is 1.
runner_verdict()
{
	local name=$1 log=$2 found=$3 runner_re=$4 verdict="" p=0 f=0 s=0

	[[ -z $runner_re ]] ||
		verdict=$(grep -E "^(not )?ok [0-9]+ $runner_re" "$log" | tail -n 1) ||
		true
	if ((found)); then
		p=$ktap_totals_pass f=$ktap_totals_fail s=$ktap_totals_skip
	fi
	if ((!found)) || [[ -n $runner_re && -z $verdict ]]; then
		ktap_print_msg "$name: did not finish: counted as one failure (${log#"$REPO_DIR"/})"
		f=$((f + 1))
	elif [[ $verdict == not* ]] && ((f == 0)); then
		ktap_print_msg "$name: $verdict: counted as one failure"
		f=1
	fi
	ktap_test_nested "$name" "$p" "$f" "$s"
}
