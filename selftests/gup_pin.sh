#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The suite as a kernel tree's selftest (what the kselftest runner and
# run_vmtests.sh's gup_pin category run): load module/gup_test.ko, run
# every program of tests.list, unload the module. On a kernel with
# CONFIG_GUP_TEST=y the module registers beside the kernel's own
# /sys/kernel/debug/gup_test, and the programs are told where.
#
# Arguments go to run_suite.sh: -t CATEGORY, -x CATEGORY, -l, and so do
# the words of GUP_PIN_ARGS, for runners that pass none (run_kselftest.sh,
# run_vmtests.sh): GUP_PIN_ARGS="-t pin_count" is a smoke run. The module
# is always the one beside this script, the tree's own build.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [[ $(id -u) -ne 0 ]]; then
	echo "# gup_pin.sh: loading gup_test.ko needs root"
	exit 4
fi
read -r -a args <<<"${GUP_PIN_ARGS:-}"
# Upstream's gup_test and peers are the tree's own categories.
exec "$here/run_suite.sh" -b "$here" -m "$here/module/gup_test.ko" \
	-x upstream -x cow -x gup_longterm "${args[@]}" "$@"
