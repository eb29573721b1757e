# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# KTAP for every shell test of the suite and every stage of run_tests.sh,
# sourced (POSIX sh, so that a kernel tree's runner can use it too). The
# verbs are those of the kernel's ktap_helpers.sh; two are ours:
# ktap_test_nested, one result standing for a nested run and carrying its
# counts, and ktap_read_totals, the one reader of a "# Totals:" line.
#
# The counts are of tests, not of result lines: a nested run adds its
# own counts, so the last "# Totals:" line of a stage sums every test
# under it.

KTAP_TESTNO=0
KTAP_CNT_PASS=0
KTAP_CNT_FAIL=0
KTAP_CNT_SKIP=0
KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

ktap_print_header()
{
	echo "TAP version 13"
}

# ktap_set_plan N
ktap_set_plan()
{
	echo "1..$1"
}

# ktap_print_msg TEXT...: a diagnostic line.
ktap_print_msg()
{
	echo "# $*"
}

ktap_test_pass()
{
	KTAP_TESTNO=$((KTAP_TESTNO + 1))
	KTAP_CNT_PASS=$((KTAP_CNT_PASS + 1))
	echo "ok $KTAP_TESTNO $1"
}

# ktap_test_skip NAME REASON
ktap_test_skip()
{
	KTAP_TESTNO=$((KTAP_TESTNO + 1))
	KTAP_CNT_SKIP=$((KTAP_CNT_SKIP + 1))
	echo "ok $KTAP_TESTNO $1 # SKIP $2"
}

# ktap_test_fail NAME [REASON]: the reason, if any, goes first as a
# diagnostic line.
ktap_test_fail()
{
	KTAP_TESTNO=$((KTAP_TESTNO + 1))
	KTAP_CNT_FAIL=$((KTAP_CNT_FAIL + 1))
	[ $# -lt 2 ] || echo "# $2"
	echo "not ok $KTAP_TESTNO $1"
}

# ktap_test_result NAME COMMAND...: passes when COMMAND succeeds.
ktap_test_result()
{
	_ktap_name=$1
	shift
	if "$@"; then
		ktap_test_pass "$_ktap_name"
	else
		ktap_test_fail "$_ktap_name"
	fi
}

# ktap_test_nested NAME PASS FAIL SKIP: one result for a nested run that
# counted PASS, FAIL and SKIP tests: not ok if any failed, a skip if all
# skipped, else ok. The nested counts are added to this run's.
ktap_test_nested()
{
	KTAP_TESTNO=$((KTAP_TESTNO + 1))
	KTAP_CNT_PASS=$((KTAP_CNT_PASS + $2))
	KTAP_CNT_FAIL=$((KTAP_CNT_FAIL + $3))
	KTAP_CNT_SKIP=$((KTAP_CNT_SKIP + $4))
	if [ "$3" -gt 0 ]; then
		echo "not ok $KTAP_TESTNO $1"
	elif [ "$2" -eq 0 ] && [ "$4" -gt 0 ]; then
		echo "ok $KTAP_TESTNO $1 # SKIP"
	else
		echo "ok $KTAP_TESTNO $1"
	fi
}

# ktap_print_totals: the closing line, as the kselftest harness prints it.
ktap_print_totals()
{
	printf '# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n' \
		"$KTAP_CNT_PASS" "$KTAP_CNT_FAIL" "$KTAP_CNT_SKIP"
}

# ktap_finished: the closing line, then the exit status kselftest expects:
# 1 if anything failed, 4 (KSFT_SKIP) if everything skipped, else 0.
ktap_finished()
{
	ktap_print_totals
	[ "$KTAP_CNT_FAIL" -eq 0 ] || exit "$KSFT_FAIL"
	[ "$KTAP_CNT_PASS" -gt 0 ] || [ "$KTAP_CNT_SKIP" -eq 0 ] ||
		exit "$KSFT_SKIP"
	exit "$KSFT_PASS"
}

# ktap_parse_totals LINE: if LINE is a "# Totals:" line, set
# ktap_totals_pass, _fail and _skip from it (an xfail or xpass counts as
# passed, an error as failed); else return 1.
ktap_parse_totals()
{
	_ktap_n='\([0-9][0-9]*\)'
	_ktap_re="^# Totals: pass:$_ktap_n fail:$_ktap_n xfail:$_ktap_n"
	_ktap_re="$_ktap_re xpass:$_ktap_n skip:$_ktap_n error:$_ktap_n\$"
	# shellcheck disable=SC2046 # six numbers, one word each
	set -- $(printf '%s\n' "$1" | tr -d '\r' |
		 sed -n "s/$_ktap_re/\\1 \\2 \\3 \\4 \\5 \\6/p")
	[ $# -eq 6 ] || return 1
	# shellcheck disable=SC2034 # read by the caller
	ktap_totals_pass=$(($1 + $3 + $4))
	# shellcheck disable=SC2034
	ktap_totals_fail=$(($2 + $6))
	# shellcheck disable=SC2034
	ktap_totals_skip=$5
}

# ktap_read_totals FILE [PREFIX]: ktap_parse_totals on the last line of
# FILE that is PREFIX followed by a "# Totals:" line (PREFIX: how a runner
# indents a nested run, "# " under the kselftest runner). Returns 1 if
# there is none: the run did not finish.
ktap_read_totals()
{
	ktap_parse_totals "$(tr -d '\r' 2>/dev/null <"$1" |
		awk -v p="${2:-}# Totals: " 'index($0, p) == 1 { l = $0 }
			END { print substr(l, length(p) - 9) }')"
}
