#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# kmemleak after the suite: "kmemleak.sh clear" forgets what was allocated
# before (boot, module load); "kmemleak.sh" scans and fails on any leak
# found since, printing kmemleak's report. Skips (exit 4) on kernels
# without CONFIG_DEBUG_KMEMLEAK.

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/ktap_lib.sh
. "$here/ktap_lib.sh"

kmemleak=/sys/kernel/debug/kmemleak

if [ ! -w "$kmemleak" ]; then
	[ "${1:-}" = clear ] && exit 0
	ktap_print_header
	ktap_set_plan 1
	why="no $kmemleak: kernel without CONFIG_DEBUG_KMEMLEAK, or not root"
	ktap_test_skip kmemleak_clean "$why"
	ktap_finished
fi
if [ "${1:-}" = clear ]; then
	echo clear >"$kmemleak"
	exit
fi

ktap_print_header
ktap_set_plan 1
# kmemleak reports an object only once it is 5 s old and was found
# unreferenced: let the suite's last objects age, then scan.
sleep 6
echo scan >"$kmemleak"
report=$(cat "$kmemleak")
if [ -z "$report" ]; then
	ktap_test_pass kmemleak_clean
else
	printf '%s\n' "$report" | sed 's/^/# /'
	ktap_test_fail kmemleak_clean "kmemleak found leaks (above)"
fi
ktap_finished
