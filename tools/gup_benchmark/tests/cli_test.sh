#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side tests of gup_benchmark's results handling: reading, writing,
# comparing and plotting JSON, and option errors. None needs the device.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin=${OUTPUT:-$here/../../../build/bin}/gup_benchmark
data=$here/data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
skipped=0

# expect_status WANT NAME CMD...: runs CMD, output in $tmp/out.
expect_status()
{
	local want=$1 name=$2 got=0

	shift 2
	"$@" >"$tmp/out" 2>&1 || got=$?
	if [ "$got" -eq "$want" ]; then
		echo "ok $name"
		passed=$((passed + 1))
	else
		echo "not ok $name: exit $got, expected $want"
		sed 's/^/# /' "$tmp/out"
		failed=$((failed + 1))
	fi
}

expect_output()
{
	local name=$1 pattern=$2

	if grep -qE -- "$pattern" "$tmp/out"; then
		echo "ok $name"
		passed=$((passed + 1))
	else
		echo "not ok $name: no line matches '$pattern'"
		sed 's/^/# /' "$tmp/out"
		failed=$((failed + 1))
	fi
}

expect_status 0 "table from json" "$bin" --from "$data/base.json"
expect_output "table has medians" '^gup_fast 4k 64M npc=1 +609\.0 +588\.0 +625\.8'
expect_output "table shows skips" '^gup hugetlb 64M npc=1 +skipped: mmap'

expect_status 0 "json round trip" \
	"$bin" --from "$data/base.json" --json "$tmp/again.json"
"$bin" --from "$data/base.json" >"$tmp/first"
expect_status 0 "table from rewritten json" "$bin" --from "$tmp/again.json"
if cmp -s "$tmp/first" "$tmp/out"; then
	echo "ok rewritten json reads the same"
	passed=$((passed + 1))
else
	echo "not ok rewritten json reads the same"
	failed=$((failed + 1))
fi

expect_status 0 "A/A comparison passes" \
	"$bin" --from "$data/base.json" --compare "$data/base.json"
expect_output "A/A finds nothing" '^# 8 comparisons: 0 slower, 0 faster'

expect_status 3 "10% slower pin fails" \
	"$bin" --from "$data/slower.json" --compare "$data/base.json"
expect_output "slower row" '^gup_fast 4k 64M npc=1 +pin .*\+10\.0% .*SLOWER'
expect_output "unpin unchanged" '^gup_fast 4k 64M npc=1 +unpin .* same'
expect_output "two regressions" '^# 8 comparisons: 2 slower, 0 faster'

expect_status 0 "threshold above the slowdown passes" \
	"$bin" --from "$data/slower.json" --compare "$data/base.json" \
	--threshold 12%
expect_status 0 "reverse comparison is faster, not a failure" \
	"$bin" --from "$data/base.json" --compare "$data/slower.json"
expect_output "faster row" 'pin .*-9\.1% .*faster'

if command -v gnuplot >/dev/null; then
	expect_status 0 "plot from json" \
		"$bin" --from "$data/base.json" --plot "$tmp/plot.svg"
	if grep -q '<svg' "$tmp/plot.svg" 2>/dev/null; then
		echo "ok plot is an svg"
		passed=$((passed + 1))
	else
		echo "not ok plot is an svg"
		failed=$((failed + 1))
	fi
else
	echo "ok plot from json # SKIP gnuplot not installed"
	skipped=$((skipped + 1))
fi
expect_status 1 "plot from json without gnuplot fails" \
	env PATH=/nonexistent "$bin" --from "$data/base.json" \
	--plot "$tmp/none.svg"

expect_status 2 "npc 0 is refused" "$bin" --npc 0
expect_status 2 "unknown api is refused" "$bin" --api nope
expect_status 2 "upstream-only option in ns mode" "$bin" -c --reps 3
expect_status 2 "--from takes no measurement options" \
	"$bin" --from "$data/base.json" --sweep
expect_status 1 "unreadable json" "$bin" --from "$tmp/missing.json"

# The harness's closing line, which run_tests.sh adds up.
echo "# Totals: pass:$passed fail:$failed xfail:0 xpass:0 skip:$skipped error:0"
[ "$failed" -eq 0 ]
