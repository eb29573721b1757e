#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selftests/ktap_lib.sh, the one KTAP writer and Totals reader that every
# count of run_tests.sh goes through: what each verb prints and counts,
# the exit status of ktap_finished, and the reader on nested, CRLF,
# missing and malformed input, under bash and under sh. KTAP.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
lib=$here/../../../selftests/ktap_lib.sh
# shellcheck source=selftests/ktap_lib.sh
source "$lib"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect NAME GOT WANT: one result. The writer reports on itself: the
# first cases check its output in shells of their own, so a writer that
# misreports shows there.
expect()
{
	if [[ $2 == "$3" ]]; then
		ktap_test_pass "$1"
	else
		ktap_print_msg "got:  ${2//$'\n'/\\n}"
		ktap_print_msg "want: ${3//$'\n'/\\n}"
		ktap_test_fail "$1"
	fi
}

# A run of the writer in a shell of its own: output and exit status.
writer()
{
	local shell=$1 rc=0 out
	shift

	out=$("$shell" -c ". '$lib'; $*" 2>&1) || rc=$?
	printf '%s\nrc=%d' "$out" "$rc"
}

ktap_print_header
ktap_set_plan 16

for sh in bash sh; do
	expect "$sh: each verb's line and the totals" \
		"$(writer "$sh" 'ktap_print_header; ktap_set_plan 4; ktap_test_pass a;
			ktap_test_skip b "no b"; ktap_test_fail c "c broke";
			ktap_test_nested d 5 0 2; ktap_finished')" \
		"TAP version 13
1..4
ok 1 a
ok 2 b # SKIP no b
# c broke
not ok 3 c
ok 4 d
# Totals: pass:6 fail:1 xfail:0 xpass:0 skip:3 error:0
rc=1"
	expect "$sh: all passed: exit 0" \
		"$(writer "$sh" 'ktap_test_result t true; ktap_finished' | tail -n 1)" \
		"rc=0"
	expect "$sh: all skipped: exit 4" \
		"$(writer "$sh" 'ktap_test_nested n 0 0 3; ktap_finished' | sed -n '1p;$p')" \
		"ok 1 n # SKIP
rc=4"
	expect "$sh: a nested failure fails the result and the run" \
		"$(writer "$sh" 'ktap_test_nested n 7 1 0; ktap_finished' | sed -n '1p;$p')" \
		"not ok 1 n
rc=1"
	expect "$sh: ktap_test_result fails on a failing command" \
		"$(writer "$sh" 'ktap_test_result t false; ktap_finished' | sed -n '1p;$p')" \
		"not ok 1 t
rc=1"
done

printf '%s\n' "TAP version 13" \
	"  # Totals: pass:100 fail:0 xfail:0 xpass:0 skip:0 error:0" \
	"# # Totals: pass:9 fail:1 xfail:0 xpass:0 skip:1 error:0" \
	"# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:0 error:0" \
	"# Totals: pass:3 fail:1 xfail:2 xpass:1 skip:4 error:5" >"$tmp/log"
read_totals()
{
	if ktap_read_totals "$@"; then
		echo "$ktap_totals_pass $ktap_totals_fail $ktap_totals_skip"
	else
		echo none
	fi
}
expect "reader: the last top-level line; xfail and xpass pass, error fails" \
	"$(read_totals "$tmp/log")" "6 6 4"
expect "reader: a nested line under its prefix only" \
	"$(read_totals "$tmp/log" "# ")" "9 1 1"
expect "reader: a program's indented line is not the run's" \
	"$(read_totals "$tmp/log" "#   ")" "none"
sed 's/$/\r/' "$tmp/log" >"$tmp/crlf"
expect "reader: a serial console's CRLF" "$(read_totals "$tmp/crlf")" "6 6 4"
expect "reader: a missing file is a run that did not finish" \
	"$(read_totals "$tmp/missing" 2>&1)" "none"
printf '%s\n' "# Totals: pass:3 fail:1" "# Totals: pass:x fail:0 xfail:0 xpass:0 skip:0 error:0" \
	>"$tmp/bad"
expect "reader: a malformed line is no Totals line" "$(read_totals "$tmp/bad")" \
	"none"

ktap_finished
