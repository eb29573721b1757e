#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Loading gup_test.ko: it refuses to shadow an existing debugfs entry (as a
# kernel built with CONFIG_GUP_TEST=y has one) and registers elsewhere with
# name=. Leaves gup_test loaded under its own name, as the suite expects.
#
# GUP_TEST_KO names the module (default: module/gup_test.ko of the tree
# this script was built in). Output is KTAP with a harness-style Totals line.

ko=${GUP_TEST_KO:-$(dirname "$0")/../../module/gup_test.ko}
debugfs=/sys/kernel/debug
pass=0 fail=0 skip=0 num=0

result()
{
	num=$((num + 1))
	case $1 in
	ok) pass=$((pass + 1)); echo "ok $num $2" ;;
	skip) skip=$((skip + 1)); echo "ok $num $2 # SKIP $3" ;;
	*) fail=$((fail + 1)); echo "# $3"; echo "not ok $num $2" ;;
	esac
}

finish()
{
	echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
	[ "$fail" -eq 0 ]
	exit
}

echo "TAP version 13"
echo "1..3"

why=""
[ "$(id -u)" -eq 0 ] || why="loading modules needs root"
[ -n "$why" ] || [ -f "$ko" ] || why="no $ko: build the module first"
[ -n "$why" ] || [ -d "$debugfs" ] || why="debugfs is not mounted"
if [ -z "$why" ] && [ -d /sys/module/gup_test ] && ! rmmod gup_test; then
	why="gup_test is loaded and busy"
fi
if [ -n "$why" ]; then
	for t in shadow_refused name_param default_name; do
		result skip "$t" "$why"
	done
	finish
fi

# Any entry already at the top of debugfs stands in for a built-in gup_test.
taken=$(find "$debugfs" -mindepth 1 -maxdepth 1 | head -n 1)
taken=${taken##*/}
if insmod "$ko" name="$taken" 2>/dev/null; then
	rmmod gup_test
	result fail shadow_refused "loaded over existing $debugfs/$taken"
elif dmesg | tail -n 5 | grep -q "$debugfs/$taken exists.*name="; then
	result ok shadow_refused
else
	result fail shadow_refused "refused without saying why in dmesg"
fi

if ! insmod "$ko" name=gup_test_alt; then
	result fail name_param "insmod name=gup_test_alt failed"
elif [ "$(stat -c %a "$debugfs/gup_test_alt" 2>/dev/null)" != 600 ] ||
     [ -e "$debugfs/gup_test" ]; then
	result fail name_param "not at $debugfs/gup_test_alt with mode 0600"
	rmmod gup_test
elif ! rmmod gup_test || [ -e "$debugfs/gup_test_alt" ]; then
	result fail name_param "rmmod left $debugfs/gup_test_alt behind"
else
	result ok name_param
fi

if insmod "$ko" && [ -e "$debugfs/gup_test" ]; then
	result ok default_name
else
	result fail default_name "insmod without name= failed"
fi
finish
