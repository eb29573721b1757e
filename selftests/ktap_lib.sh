# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# KTAP for the suite's shell tests, sourced: one line per result, and the
# harness's Totals line that run_suite.sh adds up.

ktap_pass=0 ktap_fail=0 ktap_skip=0 ktap_num=0

# ktap_result ok|skip|fail NAME [REASON]
ktap_result()
{
	ktap_num=$((ktap_num + 1))
	case $1 in
	ok)
		ktap_pass=$((ktap_pass + 1))
		echo "ok $ktap_num $2"
		;;
	skip)
		ktap_skip=$((ktap_skip + 1))
		echo "ok $ktap_num $2 # SKIP $3"
		;;
	*)
		ktap_fail=$((ktap_fail + 1))
		echo "# $3"
		echo "not ok $ktap_num $2"
		;;
	esac
}

# ktap_totals: the closing line. Returns what kselftest expects of the
# script: 1 if anything failed, 4 (KSFT_SKIP) if everything skipped, else 0.
ktap_totals()
{
	echo "# Totals: pass:$ktap_pass fail:$ktap_fail xfail:0 xpass:0 skip:$ktap_skip error:0"
	[ "$ktap_fail" -eq 0 ] || return 1
	[ "$ktap_pass" -gt 0 ] || [ "$ktap_skip" -eq 0 ] || return 4
	return 0
}
