#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The kernel's own FOLL_PIN users, driven by fio (selftests/fio/*.fio):
# direct I/O through psync, libaio and io_uring, with and without
# registered buffers, and O_DIRECT reads into a MAP_SHARED mapping of an
# ext4 file. Each job's pins are counted exactly in /proc/vmstat: one per
# page of each read where direct I/O pins (probed with one read: 1 since
# v6.5, 0 before), once per registered buffer page for io_uring's
# fixedbufs, and every one released. fio's own output must name the
# engine asked for, and the read jobs verify every block (crc32c).
# Needs root, fio and the test filesystem (GUP_TEST_FS_DIR).

here=$(dirname "$0")
# shellcheck source=selftests/ktap_lib.sh
. "$here/ktap_lib.sh"
jobs=$here/fio
CASES="engines probe read_shared uring_fixed uring_plain libaio"

ktap_print_header
ktap_set_plan 6

why=""
[ "$(id -u)" -eq 0 ] || why="needs root"
if [ -z "$why" ] && ! command -v fio >/dev/null; then
	why="no fio"
fi
[ -n "$why" ] || [ -n "$GUP_TEST_FS_DIR" ] || why="GUP_TEST_FS_DIR is not set"
if [ -z "$why" ] && ! grep -q '^nr_foll_pin_acquired ' /proc/vmstat; then
	why="no nr_foll_pin_acquired in /proc/vmstat"
fi
if [ -n "$why" ]; then
	# In the suite's guest fio and the test filesystem are there by
	# construction: their absence is a failure there.
	for t in $CASES; do
		if [ "$GUP_VM" = 1 ]; then
			ktap_test_fail "$t" "$why"
		else
			ktap_test_skip "$t" "$why"
		fi
	done
	ktap_finished
fi

GUP_FIO_DIR=$(mktemp -d "$GUP_TEST_FS_DIR/gup_fio.XXXXXX")
export GUP_FIO_DIR
out=$GUP_FIO_DIR/fio.out
trap 'rm -rf "$GUP_FIO_DIR"' EXIT

counter()
{
	echo 1 >/proc/sys/vm/stat_refresh
	awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat
}

# run_job JOB: fio's status; acq and rel are what the job acquired and
# released, read once they balance (a ring goes away after fio exits).
run_job()
{
	acq0=$(counter nr_foll_pin_acquired)
	rel0=$(counter nr_foll_pin_released)
	fio --output="$out" "$jobs/$1.fio"
	rc=$?
	tries=0
	acq=$(($(counter nr_foll_pin_acquired) - acq0))
	rel=$(($(counter nr_foll_pin_released) - rel0))
	while [ "$acq" -ne "$rel" ] && [ "$tries" -lt 50 ]; do
		sleep 0.1
		tries=$((tries + 1))
		acq=$(($(counter nr_foll_pin_acquired) - acq0))
		rel=$(($(counter nr_foll_pin_released) - rel0))
	done
	echo "# $1: fio status $rc, pins acquired $acq, released $rel"
	return "$rc"
}

# job_ok JOB ENGINE: fio succeeded with ENGINE, its own output says so.
job_ok()
{
	[ "$rc" -eq 0 ] && grep -q "ioengine=$2," "$out" &&
		grep -q 'err= 0' "$out"
}

if fio --enghelp | grep -qx '[[:space:]]*io_uring' &&
   fio --enghelp | grep -qx '[[:space:]]*libaio'; then
	ktap_test_pass engines
else
	ktap_test_fail engines "fio has no io_uring or no libaio engine"
fi

# The data file, then one page read: 0 or 1 pins per page of direct I/O.
fio --output="$out" "$jobs/prepare.fio" || cat "$out"
run_job probe
per_page=$acq
if job_ok probe psync && [ "$acq" = "$rel" ] &&
   { [ "$acq" -eq 0 ] || [ "$acq" -eq 1 ]; }; then
	ktap_test_pass probe
	echo "# direct I/O takes $per_page pin(s) per page"
else
	ktap_test_fail probe "one page read: acquired $acq, released $rel"
	per_page=-1
fi

# An existing file, so that fio maps it MAP_SHARED and keeps it; larger
# than the 64 KiB buffer plus fio's page alignment.
truncate -s 128k "$GUP_FIO_DIR/fio.buf"
sync
run_job read_shared
want=$((256 * per_page))
if ! job_ok read_shared psync; then
	ktap_test_fail read_shared "the verified read job failed"
elif [ "$acq" -ne "$want" ] || [ "$rel" -ne "$acq" ]; then
	ktap_test_fail read_shared "pins: want $want, acquired $acq, released $rel"
else
	# The disk wrote the last block into the buffer file's pages; only
	# if that dirtied them does it survive writeback and eviction.
	sync
	echo 3 >/proc/sys/vm/drop_caches
	if dd if="$GUP_FIO_DIR/fio.data" bs=64k skip=15 count=1 2>/dev/null |
	   cmp -s -n 65536 - "$GUP_FIO_DIR/fio.buf"; then
		ktap_test_pass read_shared
	else
		ktap_test_fail read_shared "the buffer file lost the data read into it"
	fi
fi

run_job uring_fixed
if ! job_ok uring_fixed io_uring; then
	ktap_test_fail uring_fixed "the io_uring job failed"
elif [ "$acq" -ne 4 ] || [ "$rel" -ne 4 ]; then
	why="pins: want 4 (the registered buffers), acquired $acq, released $rel"
	ktap_test_fail uring_fixed "$why"
else
	ktap_test_pass uring_fixed
fi

for job in uring_plain libaio; do
	engine=io_uring
	[ "$job" = uring_plain ] || engine=libaio
	run_job "$job"
	want=$((64 * per_page))
	if ! job_ok "$job" "$engine"; then
		ktap_test_fail "$job" "the $engine job failed"
	elif [ "$acq" -ne "$want" ] || [ "$rel" -ne "$acq" ]; then
		ktap_test_fail "$job" "pins: want $want, acquired $acq, released $rel"
	else
		ktap_test_pass "$job"
	fi
done
ktap_finished
