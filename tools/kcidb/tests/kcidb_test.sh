#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/kcidb/write on recorded logs (data/run: a whole run, trimmed from
# real ones; data/died: a run that stopped in its second stage;
# data/real.tar.xz: a real run, whole), on a stage made here, and on bad
# input, each document validated by KCIDB's schema (tools/kcidb/validate),
# which refuses what the schema forbids; and tools/provenance, whose facts
# the documents carry. No guest. KTAP.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$here/../../..
write=$top/tools/kcidb/write
validate=$top/tools/kcidb/validate
data=$here/data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=selftests/ktap_lib.sh
source "$top/selftests/ktap_lib.sh"

# run NAME WANT COMMAND...: COMMAND exits WANT; its output in $tmp/out.
run()
{
	local name=$1 want=$2 got=0

	shift 2
	"$@" >"$tmp/out" 2>&1 || got=$?
	if [[ $got -eq $want ]]; then
		ktap_test_pass "$name"
	else
		sed 's/^/# /' "$tmp/out"
		ktap_test_fail "$name" "exit $got, expected $want"
	fi
}

# said NAME ERE: a line of $tmp/out matches ERE.
said()
{
	if grep -qE -- "$2" "$tmp/out"; then
		ktap_test_pass "$1"
	else
		sed 's/^/# /' "$tmp/out"
		ktap_test_fail "$1" "no line matches '$2'"
	fi
}

# tests_of DOC: one line per test, "BUILD PATH STATUS|COMMENT|EXCERPT|
# VALUE UNIT", and per build "build NAME STATUS|COMMENT|COMPILER", and the
# checkout's "checkout COMMIT complete=BOOL".
tests_of()
{
	/usr/bin/python3 - "$1" <<'EOF'
import json
import sys

doc = json.load(open(sys.argv[1]))
for c in doc.get("checkouts", []):
    print(f"checkout {c.get('git_commit_hash', '-')} "
          f"complete={c['misc']['complete']}")
for b in doc.get("builds", []):
    print(f"build {b['config_name']} {b['status']}|{b.get('comment', '')}|"
          f"{b.get('compiler', '')}|{b['misc'].get('kernel_config_sha256', '')}")
for t in doc.get("tests", []):
    number = t.get("number", {})
    excerpt = t.get("log_excerpt", "").replace("\n", "\\n")
    print(f"{t['build_id'].split(':')[-1]} {t['path']} {t['status']}|"
          f"{t.get('comment', '')}|{excerpt}|"
          f"{number.get('value', '')} {number.get('unit', '')}")
EOF
}

# census DOC: what the run counts of DOC's tests (those with misc.counted,
# ERROR a failure as the closing line has it), as "counted N passed, N
# failed, N skipped"; "results N", the tests that stand for a KTAP result
# line; "repeated N", the ids two tests of one path needed "#N" for; and
# "placeholder PATH" for each path with a made-up name in it.
census()
{
	/usr/bin/python3 - "$1" <<'EOF'
import json
import re
import sys

doc = json.load(open(sys.argv[1]))
counted = {"PASS": 0, "FAIL": 0, "ERROR": 0, "SKIP": 0}
for t in doc["tests"]:
    if t.get("misc", {}).get("counted"):
        counted[t["status"]] += 1
print(f"counted {counted['PASS']} passed, "
      f"{counted['FAIL'] + counted['ERROR']} failed, {counted['SKIP']} skipped")
print("results", sum(bool(t.get("misc", {}).get("ktap_number"))
                     for t in doc["tests"]))
print("repeated", sum("#" in t["id"] for t in doc["tests"]))
for t in doc["tests"]:
    if re.search(r"(^|\.)(unfinished|unnamed|run[0-9]+|test[0-9]+)(\.|$)",
                 t["path"]):
        print("placeholder", t["path"])
EOF
}

# totals_of DIR: the sum of the "# Totals:" lines of DIR's stage logs, as
# run_tests.sh adds them up ("N passed, N failed, N skipped").
totals_of()
{
	cat "$1"/*.ktap | sed -n -E 's/^# Totals: pass:([0-9]+) fail:([0-9]+) xfail:([0-9]+) xpass:([0-9]+) skip:([0-9]+) error:([0-9]+)$/\1 \2 \3 \4 \5 \6/p' |
		awk '{ p += $1 + $3 + $4; f += $2 + $6; s += $5 }
		     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }'
}

# has NAME DOC ERE: a line of tests_of DOC matches ERE.
has()
{
	tests_of "$2" >"$tmp/tests"
	if grep -qE -- "$3" "$tmp/tests"; then
		ktap_test_pass "$1"
	else
		ktap_print_msg "no line of $2 matches '$3'"
		ktap_test_fail "$1"
	fi
}

# valid NAME DOC: KCIDB's schema accepts DOC (tools/kcidb/validate: with
# kcidb-io, or the project's copy of the schema where kcidb-io cannot be
# installed). A skip, with the reason, only where neither can be had.
valid()
{
	local rc=0

	"$validate" "$2" >"$tmp/valid" 2>&1 || rc=$?
	case $rc in
	0)
		ktap_print_msg "$(tail -n 1 "$tmp/valid")"
		ktap_test_pass "$1"
		;;
	4)
		ktap_test_skip "$1" "$(sed -n 's/^kcidb: cannot validate: //p' \
				      "$tmp/valid" | tail -n 1)"
		;;
	*)
		sed 's/^/# /' "$tmp/valid"
		ktap_test_fail "$1"
		;;
	esac
}

# A KTAP result line in the recorded logs: each is one test of the
# document, beside one per stage and the benchmark rows.
results=$(cat "$data"/run/*.ktap | grep -cE '^[# ]*(not )?ok [0-9]+')

{
# A whole run: six stages, two kernels, the cross-kernel benchmark.
doc=$tmp/run.json
run "run: written" 0 "$write" --logs "$data/run" -o "$doc"
said "run: says what it wrote" '^kcidb: .*run\.json: 3 builds, [0-9]+ tests$'
valid "run: valid by KCIDB's schema" "$doc"
# 6 stages; 2 kernels x 2 boots x 2 page types x pin and unpin.
got=$(tests_of "$doc" | grep -vcE '^(build|checkout) ')
if [[ $got -eq $((results + 6 + 16)) ]]; then
	ktap_test_pass "run: a test per KTAP result, stage and benchmark row"
else
	ktap_test_fail "run: a test per KTAP result, stage and benchmark row" \
		"$got tests, expected $results + 6 + 16"
fi
has "run: the checkout is the commit, complete" "$doc" \
	'^checkout d5c3b624965974dbf5cca74f49ca4252697f79c6 complete=True$'
has "run: a build per kernel, with its compiler and .config hash" "$doc" \
	'^build debian-6\.1 PASS\|Debian 6\.1\.192-3, release 6\.1\.0-57-amd64\|gcc-12 \(Debian 12\.2\.0-14\+deb12u1\) 12\.2\.0\|6acc8c8833c4a17c'
has "run: the mainline build from its source package" "$doc" \
	'^build mainline-debug PASS\|linux-source-7\.3 7\.3~rc7-1~exp1, release 7\.3\.0-rc7'
has "run: the host's build for what has no kernel" "$doc" \
	'^build host PASS\|'
has "run: a harness case under its program" "$doc" \
	'^debian-6\.1 gup_pin\.pin_count\.pin\.anon\.pin_counts PASS\|'
has "run: a skip with its reason" "$doc" \
	'^debian-6\.1 gup_pin\.pin_count\.global\.mthp_sizes_covered SKIP\|no multi-size THP in this kernel\|'
has "run: a skip the harness left unnamed, named by its RUN line" "$doc" \
	'^debian-6\.1 gup_pin\.longterm_migrate\.migrate\.hugetlb_2m\.out_of_movable SKIP\|this kernel WARNs'
has "run: an xfail passes, with its kernel bug" "$doc" \
	'^debian-6\.1 gup_pin\.pinned_pagecache\.pagecache\.pin\.move_ext_busy PASS\|XFAIL: known kernel bug: ext4: EXT4_IOC_MOVE_EXT'
has "run: a failure with the lines that say why" "$doc" \
	'^debian-6\.1 gup_pin\.cost\.cost\.compare_flags_injected_delay_only FAIL\|.*cost\.c:58:compare_flags_injected_delay_only:Expected 0'
has "run: the program of a failed case fails" "$doc" \
	'^debian-6\.1 gup_pin\.cost FAIL\|'
has "run: the kernel-log verdict, with the report" "$doc" \
	'^debian-6\.1 gup_pin\.kernel_log FAIL\|.*WARNING: CPU: 1 PID: 212 at mm/gup\.c:2101'
has "run: a clean kernel log passes" "$doc" \
	'^mainline-debug gup_pin\.kernel_log PASS\|'
has "run: the kselftest runner's nested run" "$doc" \
	'^debian-6\.1 gup_pin\.kselftest_smoke\.selftests_gup_pin_gup_pin_sh\.fork_pin\.fork\.anon_pin\.held_at_fork PASS\|'
has "run: each guest's own node" "$doc" \
	'^debian-6\.1 gup_pin\.suite_movablecore PASS\|'
has "run: the stage's node carries its verdict" "$doc" \
	'^debian-6\.1 gup_pin FAIL\|Debian 6\.1\.192-3'
has "run: a mutant, and what killed it" "$doc" \
	'^debian-6\.1 gup_pin\.mutation\.ids_reused PASS\|killed by limit\.ids_not_reused'
has "run: upstream's cow named by its [RUN] line" "$doc" \
	'^mainline-debug gup_pin\.upstream_cow\.Basic_COW_after_fork_with_base_page PASS\|No leak from parent into child'
has "run: the series' run_vmtests cases" "$doc" \
	'^mainline-debug gup_pin\.series\.run_vmtests_-t_gup_test\.selftests_mm_ksft_gup_test_sh\.gup_test_-a_-n_1\.ioctl_status_0 PASS\|'
has "run: a cross-kernel result on its kernel's build" "$doc" \
	'^mainline-debug gup_pin\.cross_kernel\.2_boots_measured_4k_thp_and_hugetlb PASS\|'
has "run: a benchmark row in ns per page" "$doc" \
	'^debian-6\.1 gup_pin\.benchmark\.pup_fast\.4k\.64M\.npc512\.pin DONE\|.*\|202\.0 ns/page$'
census "$doc" >"$tmp/census"
if grep -qx 'repeated 0' "$tmp/census"; then
	ktap_test_pass "run: an id a test; a boot's benchmark row has the boot in it"
else
	sed 's/^/# /' "$tmp/census"
	ktap_test_fail "run: an id a test; a boot's benchmark row has the boot in it"
fi
if grep -qx "counted $(totals_of "$data/run")" "$tmp/census"; then
	ktap_test_pass "run: counts what the stages' Totals lines count"
else
	sed 's/^/# /' "$tmp/census"
	ktap_test_fail "run: counts what the stages' Totals lines count" \
		"the Totals lines: $(totals_of "$data/run")"
fi
said "run: says it counted as the run does" \
	'^kcidb: counted as the run counts them: 32 passed, 2 failed, 4 skipped$'
cp -r "$data/run" "$tmp/miscounted"
sed -i 's/^# Totals: pass:13 fail:2 /# Totals: pass:14 fail:2 /' \
	"$tmp/miscounted/debian-6.1.ktap"
run "run: a Totals line the results do not add up to" 0 "$write" \
	--logs "$tmp/miscounted" -o "$tmp/miscounted.json"
said "run: says so" '^kcidb: counts differ: debian-6\.1: the document counts 13 passed, 2 failed, 3 skipped, its Totals line 14 passed'
"$write" --logs "$data/run" -o "$tmp/again.json" 2>/dev/null
if cmp -s "$doc" "$tmp/again.json"; then
	ktap_test_pass "run: the same logs give the same document"
else
	ktap_test_fail "run: the same logs give the same document"
fi

# A run that stopped in debian-6.1's suite: what it has, and no more.
doc=$tmp/died.json
run "died: written, exit 3" 3 "$write" --logs "$data/died" -o "$doc"
said "died: says why it is incomplete" \
	'incomplete.*debian-6\.1 did not finish; debian-6\.1\.mutation never ran; debian-6\.12 never ran; the run did not reach its closing line'
valid "died: valid by KCIDB's schema" "$doc"
has "died: the checkout says incomplete" "$doc" 'complete=False$'
has "died: the stage that stopped is ERROR" "$doc" \
	'^debian-6\.1 gup_pin ERROR\|the stage did not finish'
has "died: the run the log ended in is ERROR" "$doc" \
	'^debian-6\.1 gup_pin\.unfinished ERROR\|the log ended inside this run'
has "died: what finished before it is kept, where a whole run has it" \
	"$doc" '^debian-6\.1 gup_pin\.pin_count\.pin\.anon\.pin_counts PASS\|'
has "died: the program the log ended in, named as run_suite.sh said" \
	"$doc" '^debian-6\.1 gup_pin\.cost ERROR\|the log ended inside this run'
census "$doc" >"$tmp/census"
if [[ $(grep '^placeholder ' "$tmp/census") == "placeholder gup_pin.unfinished" ]]; then
	ktap_test_pass "died: a made-up name only for the guest whose name never came"
else
	sed 's/^/# /' "$tmp/census"
	ktap_test_fail "died: a made-up name only for the guest whose name never came"
fi
if grep -qx 'counted 3 passed, 0 failed, 0 skipped' "$tmp/census"; then
	ktap_test_pass "died: counts only the stage that finished"
else
	sed 's/^/# /' "$tmp/census"
	ktap_test_fail "died: counts only the stage that finished"
fi
has "died: a stage never reached is MISS" "$doc" \
	'^debian-6\.1 gup_pin\.mutation MISS\|the stage never ran'
has "died: a kernel never reached is MISS" "$doc" '^build debian-6\.12 MISS\|'

# A real run, whole: the stage logs and cross-kernel boots of a
# './run_tests.sh --check' of 2026-12-07 (commit d5c3b62, 47.7 minutes),
# and the closing line it printed (data/real.tar.xz, closing-line). Every
# KTAP result line is one test, none has a made-up name, and the document
# counts what the closing line says.
mkdir "$tmp/real"
tar -C "$tmp/real" -xJf "$data/real.tar.xz"
doc=$tmp/real.json
run "real: written" 0 "$write" --logs "$tmp/real" -o "$doc"
valid "real: valid by KCIDB's schema" "$doc"
census "$doc" >"$tmp/census"
lines=$(cat "$tmp/real"/*.ktap | grep -cE '^[# ]*(not )?ok [0-9]+')
if grep -qx "results $lines" "$tmp/census"; then
	ktap_test_pass "real: a test per KTAP result line, $lines"
else
	sed 's/^/# /' "$tmp/census"
	ktap_test_fail "real: a test per KTAP result line, $lines"
fi
if grep -qx "counted $(<"$tmp/real/closing-line")" "$tmp/census"; then
	ktap_test_pass "real: counts what the run's closing line says"
else
	sed 's/^/# /' "$tmp/census"
	ktap_test_fail "real: counts what the run's closing line says" \
		"the closing line: $(<"$tmp/real/closing-line")"
fi
if grep -qE '^(placeholder |repeated [1-9])' "$tmp/census"; then
	grep -E '^(placeholder |repeated )' "$tmp/census" | sed 's/^/# /'
	ktap_test_fail "real: a name of its own and an id of its own for each"
else
	ktap_test_pass "real: a name of its own and an id of its own for each"
fi

# A target stage made here, with the suite's own runner
# (selftests/run_suite.sh) and the stages' functions (tools/check/lib.sh),
# of programs that pass and skip, fail, crash, exit 1 with no failed case,
# and report fewer results than they planned; and a second guest that dies
# in its second program. The document counts what the stage's Totals line
# does, and names what the log ended in as the runner announced it.
bin=$tmp/stage/bin
mkdir -p "$bin" "$tmp/stage/logs"
printf '%s\n' passes fails crashes quiet_failure short movable dies \
	>"$bin/tests.list"
# program NAME EXIT: a program that prints its standard input and exits
# EXIT, or kills itself with SIGSEGV for "signal".
program()
{
	{
		printf '#!/bin/sh\ncat <<"KTAP"\n'
		cat
		echo KTAP
		if [[ $2 == signal ]]; then echo 'kill -SEGV $$'; else echo "exit $2"; fi
	} >"$bin/$1"
	chmod +x "$bin/$1"
}
program passes 0 <<'EOF'
TAP version 13
1..2
ok 1 a.one
ok 2 a.two # SKIP no such memory
# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:1 error:0
EOF
program fails 1 <<'EOF'
TAP version 13
1..2
ok 1 b.one
# b.two: 2 pins, expected 1
not ok 2 b.two
# Totals: pass:1 fail:1 xfail:0 xpass:0 skip:0 error:0
EOF
program crashes signal <<'EOF'
TAP version 13
1..3
ok 1 c.one
EOF
program quiet_failure 1 <<'EOF'
TAP version 13
1..2
ok 1 d.one
ok 2 d.two
# Totals: pass:2 fail:0 xfail:0 xpass:0 skip:0 error:0
EOF
program short 0 <<'EOF'
TAP version 13
1..3
ok 1 e.one
ok 2 e.two
# Totals: pass:2 fail:0 xfail:0 xpass:0 skip:0 error:0
EOF
program movable 0 <<'EOF'
TAP version 13
1..1
ok 1 f.one
# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:0 error:0
EOF
program dies 0 <<'EOF'
TAP version 13
1..2
ok 1 g.one
ok 2 g.two
# Totals: pass:2 fail:0 xfail:0 xpass:0 skip:0 error:0
EOF
(
	# shellcheck source=tools/check/lib.sh
	source "$top/tools/check/lib.sh"
	ktap_print_header
	ktap_set_plan 3
	ktap_test_pass "k: the module builds"
	"$top/selftests/run_suite.sh" -b "$bin" -t passes -t fails -t crashes \
		-t quiet_failure -t short 2>&1 | nest "$tmp/stage/suite.log"
	nested_result "k: suite" "$tmp/stage/suite.log" ""
	"$top/selftests/run_suite.sh" -b "$bin" -t movable -t dies 2>&1 |
		sed -n '1,/^  ok 1 g\.one$/p' | nest "$tmp/stage/died.log"
	nested_result "k: suite, movablecore" "$tmp/stage/died.log" ""
	ktap_finished
) >"$tmp/stage/logs/k.ktap" 2>&1 || true
doc=$tmp/stage.json
run "stage: written" 0 "$write" --logs "$tmp/stage/logs" -o "$doc"
census "$doc" >"$tmp/census"
if grep -qx "counted $(totals_of "$tmp/stage/logs")" "$tmp/census"; then
	ktap_test_pass "stage: counts what its Totals line counts"
else
	sed 's/^/# /' "$tmp/census" "$tmp/stage/logs/k.ktap"
	ktap_test_fail "stage: counts what its Totals line counts" \
		"the Totals line: $(totals_of "$tmp/stage/logs")"
fi
has "stage: a crash is one failure, its cases kept" "$doc" \
	'^k gup_pin\.crashes ERROR\|crashes: its nested run did not finish'
has "stage: the program the dead guest was in, by its announced name" \
	"$doc" '^k gup_pin\.dies ERROR\|the log ended inside this run'

# gup_benchmark's JSON alone: the kernel of its provenance.
doc=$tmp/bench.json
run "benchmark: written" 0 "$write" -o "$doc" \
	--benchmark "$top/tools/gup_benchmark/tests/data/host-tcg.json"
valid "benchmark: valid by KCIDB's schema" "$doc"
has "benchmark: the median in ns per page" "$doc" \
	'^6\.1\.0-test gup_pin\.benchmark\.gup_fast\.4k\.64M\.npc1\.pin DONE\|.*\|609\.0 ns/page$'
has "benchmark: a configuration it could not measure is a skip" "$doc" \
	'^6\.1\.0-test gup_pin\.benchmark\.gup\.hugetlb\.64M\.npc1 SKIP\|mmap: Cannot allocate memory'

# Bad input: a clear error and no document, or one that says what it lacks.
run "bad: no directory for the output" 1 "$write" --logs "$data/run" \
	-o "$tmp/none/out.json"
said "bad: says so" 'cannot write .*/none/out\.json: no directory'
run "bad: an output that cannot be written" 1 "$write" --logs "$data/run" \
	-o /proc/kcidb-test.json
said "bad: says so, though root may write anywhere" \
	'^kcidb: cannot write /proc/kcidb-test\.json: /proc: .*; nothing written$'
echo previous >"$tmp/kept.json"
run "bad: no logs" 1 "$write" --logs "$tmp/nologs" -o "$tmp/kept.json"
if [[ $(<"$tmp/kept.json") == previous ]] &&
   [[ -z $(find "$tmp" -maxdepth 1 -name '.kcidb.*') ]]; then
	ktap_test_pass "bad: a failed run keeps the old file, leaves no temporary"
else
	ktap_test_fail "bad: a failed run keeps the old file, leaves no temporary"
fi
mkdir "$tmp/empty"
run "bad: nothing to convert" 1 "$write" --logs "$tmp/empty" \
	-o "$tmp/empty.json"
said "bad: says there is nothing" '^kcidb: nothing to convert'
mkdir "$tmp/cut"
head -c 2000 "$data/run/debian-6.1.ktap" >"$tmp/cut/debian-6.1.ktap"
run "bad: truncated KTAP is written, exit 3" 3 "$write" --logs "$tmp/cut" \
	-o "$tmp/cut.json"
has "bad: truncated KTAP: the stage is ERROR" "$tmp/cut.json" \
	'^debian-6\.1 gup_pin ERROR\|'
valid "bad: truncated KTAP: valid by KCIDB's schema" "$tmp/cut.json"
mkdir "$tmp/garbage"
head -c 3000 /dev/urandom >"$tmp/garbage/debian-6.1.ktap"
run "bad: a log that is not KTAP is written, exit 3" 3 "$write" \
	--logs "$tmp/garbage" -o "$tmp/garbage.json"
has "bad: not KTAP: the stage is ERROR" "$tmp/garbage.json" \
	'^debian-6\.1 gup_pin ERROR\|'
echo '{ "schema": "gup_benchmark/1", ' >"$tmp/short.json"
run "bad: a cut gup_benchmark JSON" 1 "$write" --benchmark "$tmp/short.json" \
	-o "$tmp/x.json"
said "bad: says it is not gup_benchmark's JSON" "short\.json: not gup_benchmark's JSON"
run "bad: an origin KCIDB refuses" 2 "$write" --logs "$data/run" \
	--origin Bad-Origin -o "$tmp/x.json"
if [[ ! -e $tmp/x.json ]]; then
	ktap_test_pass "bad: no document from a refused call"
else
	ktap_test_fail "bad: no document from a refused call"
fi

# tools/provenance, whose lines the documents carry: on a kernel laid out
# as tools/vm/fetch-kernel leaves Debian's.
kdir=$tmp/kernel/6.1.0-9-amd64/build
mkdir -p "$kdir/include/generated"
echo 6.1.99-1 >"${kdir%/build}/version"
echo '#define UTS_RELEASE "6.1.0-9-amd64"' >"$kdir/include/generated/utsrelease.h"
printf 'CONFIG_CC_VERSION_TEXT="gcc-12 (Debian 12.2.0-14) 12.2.0"\nCONFIG_MMU=y\n' \
	>"$kdir/.config"
run "provenance: of a kernel and its guest" 0 "$top/tools/provenance" \
	--kdir "$kdir" --vm --accel tcg --smp 3 --mem 1024
said "provenance: the kernel's release" '^kernel_release=6\.1\.0-9-amd64$'
said "provenance: its package and version" \
	'^kernel_source=Debian linux-image-6\.1\.0-9-amd64 6\.1\.99-1$'
said "provenance: its .config's sha256" \
	"^kernel_config_sha256=$(sha256sum <"$kdir/.config" | cut -d ' ' -f 1)\$"
said "provenance: no fragments on a distribution's kernel" \
	'^config_fragments_sha256=none$'
said "provenance: its compiler" '^compiler=gcc-12 \(Debian 12\.2\.0-14\) 12\.2\.0$'
said "provenance: the guest" '^accel=tcg$'
said "provenance: the guest's size" '^guest_vcpus=3$'
said "provenance: the host's CPU" '^host_cpus=[1-9][0-9]*$'
if commit=$(git -C "$top" rev-parse HEAD 2>/dev/null); then
	said "provenance: this tree's commit" "^repo_commit=$commit\$"
else
	ktap_test_skip "provenance: this tree's commit" "not a git checkout"
fi
mkdir "$tmp/no-kernel"
run "provenance: of a directory that is no kernel" 0 "$top/tools/provenance" \
	--kdir "$tmp/no-kernel"
said "provenance: what it cannot tell is unknown" '^kernel_release=unknown$'
if grep -qvE '^[a-z0-9_]+=.+$' "$tmp/out"; then
	sed 's/^/# /' "$tmp/out"
	ktap_test_fail "provenance: every line KEY=VALUE, no value empty"
else
	ktap_test_pass "provenance: every line KEY=VALUE, no value empty"
fi
run "provenance: a native run" 0 "$top/tools/provenance" --native
said "provenance: a native run has no accelerator" '^accel=none$'
if grep -qE '^(qemu|guest_vcpus)=' "$tmp/out"; then
	ktap_test_fail "provenance: and no guest"
else
	ktap_test_pass "provenance: and no guest"
fi

# The validation can fail: each of these breaks one rule of the schema in
# the run's document, and must be refused, naming the place.
/usr/bin/python3 - "$tmp/run.json" "$tmp" <<'EOF'
import json
import sys

path, out = sys.argv[1:]
breaks = {
    "xfail": ("tests", 0, lambda t: t.update(status="XFAIL")),
    "origin": ("builds", 0, lambda b: b.update(origin="gup-pin")),
    "id": ("tests", 1, lambda t: t.update(id="no origin before a colon")),
    "required": ("tests", 2, lambda t: t.pop("build_id")),
    "path": ("tests", 3, lambda t: t.update(path="gup_pin.a b")),
    "excerpt": ("tests", 4, lambda t: t.update(log_excerpt="x" * 16385)),
    "property": ("checkouts", 0, lambda c: c.update(xfail="known bug")),
    "time": ("checkouts", 0, lambda c: c.update(start_time="yesterday")),
    "number": ("tests", 5, lambda t: t.update(number={"unit": "ns/page"})),
    "version": ("version", None, lambda v: v.update(major=6)),
}
for name, (kind, index, change) in breaks.items():
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    change(doc[kind] if index is None else doc[kind][index])
    with open(f"{out}/broken-{name}.json", "w", encoding="utf-8") as f:
        json.dump(doc, f)
EOF
for broken in xfail:tests/0/status origin:builds/0/origin id:tests/1/id \
	      required:tests/2 path:tests/3/path excerpt:tests/4/log_excerpt \
	      property:checkouts/0 time:checkouts/0/start_time \
	      number:tests/5/number version:version/major; do
	run "validate: refuses a bad ${broken%%:*}" 1 \
		"$validate" "$tmp/broken-${broken%%:*}.json"
	said "validate: says where: ${broken#*:}" "invalid at ${broken#*:}: "
done
} >"$tmp/ktap"
ktap_print_header
# shellcheck disable=SC2031 # the stage made above counts in a subshell of its own
ktap_set_plan "$KTAP_TESTNO"
cat "$tmp/ktap"
ktap_finished
