#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# gup_benchmark against the real device: upstream's output lines, the
# nanosecond mode's JSON and comparison, NUMA placement, and that a whole
# run of it leaves no page pinned. Timings are not judged here (cost does,
# on ratios). Output is KTAP with a harness-style Totals line.

here=$(dirname "$0")
bin=${GUP_BENCHMARK:-$here/gup_benchmark}
tmp=${TMPDIR:-/tmp}/benchmark_cli.$$
# shellcheck source=selftests/ktap_lib.sh
. "$here/ktap_lib.sh"

# fail NAME REASON: a failure, with the command's output.
fail()
{
	sed 's/^/# /' "$tmp/out"
	ktap_test_fail "$1" "$2"
}

# check NAME WANT_STATUS CMD...: CMD's output is left in $tmp/out.
check()
{
	name=$1 want=$2
	shift 2
	"$@" >"$tmp/out" 2>&1
	got=$?
	if [ "$got" -ne "$want" ]; then
		fail "$name" "exit status $got, expected $want"
		return 1
	fi
}

vmstat()
{
	echo 1 >/proc/sys/vm/stat_refresh
	awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat
}

tests="upstream_lines ns_json compare_self node_placed node_missing no_pin_left"
ktap_print_header
ktap_set_plan 6
why=""
[ -x "$bin" ] || why="no gup_benchmark at $bin"
# In the suite's own guest (GUP_VM=1) the device is a given: no skip.
[ -n "$why" ] || [ -e /sys/kernel/debug/gup_test ] || [ "${GUP_VM:-}" = 1 ] ||
	why="no /sys/kernel/debug/gup_test: module not loaded"
[ -n "$why" ] || [ "$(id -u)" -eq 0 ] || why="needs root"
if [ -n "$why" ]; then
	for t in $tests; do
		ktap_test_skip "$t" "$why"
	done
	ktap_finished
fi
mkdir -p "$tmp"
acquired=$(vmstat nr_foll_pin_acquired)
released=$(vmstat nr_foll_pin_released)

if check upstream_lines 0 "$bin" -a -m 8 -r 2; then
	if [ "$(grep -cE '^PIN_FAST_BENCHMARK: Time: get:[0-9]+ put:[0-9]+ us$' \
		"$tmp/out")" -eq 2 ]; then
		ktap_test_pass upstream_lines
	else
		fail upstream_lines "not two upstream result lines"
	fi
fi

if check ns_json 0 "$bin" --api gup_fast,pup_fast --type 4k,thp \
	--size 4M --npc 32 --reps 3 --warmup 1 --json "$tmp/run.json"; then
	if grep -q '"schema": "gup_benchmark/1"' "$tmp/run.json" &&
	   [ "$(grep -c '"api":' "$tmp/run.json")" -eq 4 ]; then
		ktap_test_pass ns_json
	else
		fail ns_json "JSON lacks the schema or its 4 results"
	fi
fi

# The same samples can never be a regression of themselves.
if check compare_self 0 "$bin" --from "$tmp/run.json" \
	--compare "$tmp/run.json"; then
	if grep -q '0 slower' "$tmp/out"; then
		ktap_test_pass compare_self
	else
		fail compare_self "no '0 slower' verdict"
	fi
fi

# The highest node (run_tests.sh boots the guest with two): all 512 pages
# of 2 MiB must land there.
set -- /sys/devices/system/node/node[0-9]*
node=$(($# - 1))
if check node_placed 0 "$bin" --api pup_fast --size 2M --reps 2 \
	--warmup 1 --node "$node" --json "$tmp/node.json"; then
	if grep -A 1 '"node_pages"' "$tmp/node.json" |
	   grep -q "\"$node\": 512"; then
		ktap_test_pass node_placed
	else
		fail node_placed "512 pages were not all on node $node"
	fi
fi

# A node that does not exist measures nothing, and says so.
if check node_missing 1 "$bin" --api pup_fast --size 2M --reps 2 \
	--node "$(($# + 7))"; then
	ktap_test_pass node_missing
fi

if [ $(($(vmstat nr_foll_pin_acquired) - acquired)) -eq \
     $(($(vmstat nr_foll_pin_released) - released)) ]; then
	ktap_test_pass no_pin_left
else
	: >"$tmp/out"
	fail no_pin_left "nr_foll_pin_acquired and _released differ"
fi

rm -rf "$tmp"
ktap_finished
