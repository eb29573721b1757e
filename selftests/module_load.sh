#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Loading gup_test.ko: it refuses to shadow an existing debugfs entry (as a
# kernel built with CONFIG_GUP_TEST=y has one) and registers elsewhere with
# name=; without name= it takes gup_test, or gup_test_pin beside a kernel's
# own gup_test. Leaves gup_test loaded under its default name, where
# run_suite.sh told the programs it is.
#
# GUP_TEST_KO names the module (default: module/gup_test.ko of the tree
# this script was built in). Output is KTAP with a harness-style Totals line.

here=$(dirname "$0")
ko=${GUP_TEST_KO:-$here/../../module/gup_test.ko}
debugfs=/sys/kernel/debug
# shellcheck source=selftests/ktap_lib.sh
. "$here/ktap_lib.sh"

ktap_print_header
ktap_set_plan 3

why=""
[ "$(id -u)" -eq 0 ] || why="loading modules needs root"
[ -n "$why" ] || [ -f "$ko" ] || why="no $ko: build the module first"
[ -n "$why" ] || [ -d "$debugfs" ] || why="debugfs is not mounted"
if [ -z "$why" ] && [ -d /sys/module/gup_test ] && ! rmmod gup_test; then
	why="gup_test is loaded and busy"
fi
if [ -n "$why" ]; then
	for t in shadow_refused name_param default_name; do
		ktap_test_skip "$t" "$why"
	done
	ktap_finished
fi

# With the module unloaded, a gup_test file is the kernel's own.
builtin=""
[ ! -e "$debugfs/gup_test" ] || builtin=1

# Any entry already at the top of debugfs stands in for a built-in gup_test.
taken=$(find "$debugfs" -mindepth 1 -maxdepth 1 | head -n 1)
taken=${taken##*/}
if insmod "$ko" name="$taken" 2>/dev/null; then
	rmmod gup_test
	ktap_test_fail shadow_refused "loaded over existing $debugfs/$taken"
elif dmesg | tail -n 5 | grep -q "$debugfs/$taken exists.*name="; then
	ktap_test_pass shadow_refused
else
	ktap_test_fail shadow_refused "refused without saying why in dmesg"
fi

if ! insmod "$ko" name=gup_test_alt; then
	ktap_test_fail name_param "insmod name=gup_test_alt failed"
elif [ "$(stat -c %a "$debugfs/gup_test_alt" 2>/dev/null)" != 600 ] ||
     [ "$(cat /sys/module/gup_test/parameters/name)" != gup_test_alt ] ||
     { [ -z "$builtin" ] && [ -e "$debugfs/gup_test" ]; }; then
	ktap_test_fail name_param "not at $debugfs/gup_test_alt with mode 0600"
	rmmod gup_test
elif ! rmmod gup_test || [ -e "$debugfs/gup_test_alt" ]; then
	ktap_test_fail name_param "rmmod left $debugfs/gup_test_alt behind"
else
	ktap_test_pass name_param
fi

want=gup_test
[ -z "$builtin" ] || want=gup_test_pin
if ! insmod "$ko"; then
	ktap_test_fail default_name "insmod without name= failed"
elif [ "$(cat /sys/module/gup_test/parameters/name)" != "$want" ] ||
     [ ! -e "$debugfs/$want" ]; then
	ktap_test_fail default_name "not at $debugfs/$want"
else
	ktap_test_pass default_name
fi
ktap_finished
