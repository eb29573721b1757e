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

tests="upstream_lines ns_json compare_self node_placed node_missing mthp_type
no_pin_left"
ktap_print_header
ktap_set_plan 7
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

# --type mthp: 2 MiB all in folios of the smallest multi-size THP size,
# every size's setting as it was afterwards. Without the sizes (before
# 6.8) the point is skipped saying why, and nothing is measured (status 1).
thp=/sys/kernel/mm/transparent_hugepage
settings()
{
	for f in "$thp"/hugepages-*kB/enabled; do
		[ -e "$f" ] && echo "$f $(cat "$f")"
	done
}
pmd_kb=$(($(cat "$thp/hpage_pmd_size" 2>/dev/null || echo 0) / 1024))
mthp_kb=$(settings | sed -n 's|.*/hugepages-\([0-9]*\)kB/enabled.*|\1|p' |
	awk -v pmd="$pmd_kb" '$1 < pmd' | sort -n | head -n 1)
before=$(settings)
want=0
[ -n "$mthp_kb" ] || want=1
if check mthp_type "$want" "$bin" --api pup_fast --type mthp --size 2M \
	--reps 2 --warmup 1 --json "$tmp/mthp.json"; then
	if [ "$(settings)" != "$before" ]; then
		fail mthp_type "the THP size settings were not put back"
	elif [ -z "$mthp_kb" ]; then
		if grep -q 'skipped: no multi-size THP' "$tmp/out"; then
			ktap_test_skip mthp_type "no multi-size THP in this kernel"
		else
			fail mthp_type "no multi-size THP, yet no point skipped for it"
		fi
	elif grep -q '"huge_bytes": 2097152' "$tmp/mthp.json"; then
		ktap_test_pass mthp_type
	else
		fail mthp_type "2 MiB not all in ${mthp_kb} kB folios"
	fi
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
