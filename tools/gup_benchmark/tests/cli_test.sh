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
# shellcheck source=selftests/ktap_lib.sh
. "$here/../../../selftests/ktap_lib.sh"

# expect_status WANT NAME CMD...: runs CMD, output in $tmp/out.
expect_status()
{
	local want=$1 name=$2 got=0

	shift 2
	"$@" >"$tmp/out" 2>&1 || got=$?
	if [ "$got" -eq "$want" ]; then
		ktap_test_pass "$name"
	else
		sed 's/^/# /' "$tmp/out"
		ktap_test_fail "$name" "exit $got, expected $want"
	fi
}

expect_output()
{
	local name=$1 pattern=$2

	if grep -qE -- "$pattern" "$tmp/out"; then
		ktap_test_pass "$name"
	else
		sed 's/^/# /' "$tmp/out"
		ktap_test_fail "$name" "no line matches '$pattern'"
	fi
}

# expect_cells NAME SECTION CELLS: CELLS, joined by "|", are a row of the
# Markdown table under "### SECTION" in $tmp/out, padding aside.
expect_cells()
{
	local name=$1 section=$2 cells=$3

	if awk -v head="### $section" '$0 == head { on = 1; next }
			/^###/ { on = 0 } on' "$tmp/out" |
	   sed -e 's/ *| */|/g' | grep -qxF -- "|$cells|"; then
		ktap_test_pass "$name"
	else
		sed 's/^/# /' "$tmp/out"
		ktap_test_fail "$name" "no row |$cells| under ### $section"
	fi
}

# The results go to a file first, so that the plan, which is their
# number, comes before them.
{
expect_status 0 "table from json" "$bin" --from "$data/base.json"
expect_output "table has medians" '^gup_fast 4k 64M npc=1 +609\.0 +588\.0 +625\.8'
expect_output "table shows skips" '^gup hugetlb 64M npc=1 +skipped: mmap'

expect_status 0 "json round trip" \
	"$bin" --from "$data/base.json" --json "$tmp/again.json"
"$bin" --from "$data/base.json" >"$tmp/first"
expect_status 0 "table from rewritten json" "$bin" --from "$tmp/again.json"
if cmp -s "$tmp/first" "$tmp/out"; then
	ktap_test_pass "rewritten json reads the same"
else
	ktap_test_fail "rewritten json reads the same"
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

# paired-*.json: 25 A/B pairs of pup_fast 4k 64M npc=512 as one process
# measures them, modelled: a drift and bursts (1.6x, 2.1x) that slow both
# runs of a pair alike, and 1% noise of each run's own. paired-slower.json's
# pin times are 3% above paired-base.json's, its unpin times are not;
# paired-aa*.json are an A/A pair; paired-short.json is paired-base.json
# less its last pair.
paired=("$bin" --from "$data/paired-slower.json" --compare
	"$data/paired-base.json" --paired)
expect_status 3 "paired: 3% slower pin fails" "${paired[@]}"
expect_output "paired test named" 'pair by pair, Wilcoxon signed-rank test$'
expect_output "paired threshold" \
	'^# SLOWER when one-sided p < 0\.01 and Hodges-Lehmann change > \+1%$'
expect_output "paired slower row" \
	'^pup_fast 4k 64M npc=512 +pin .*\+3\.0% +3e-08 +SLOWER$'
expect_output "paired unpin unchanged" \
	'^pup_fast 4k 64M npc=512 +unpin .* same$'
expect_output "paired one regression" \
	'^# 2 paired comparisons: 1 slower, 0 faster'
expect_status 0 "unpaired, the bursts hide the same 3%" \
	"$bin" --from "$data/paired-slower.json" \
	--compare "$data/paired-base.json" --threshold 1
expect_status 0 "paired threshold above the slowdown passes" \
	"${paired[@]}" --threshold 4
expect_status 0 "paired reverse comparison is faster" \
	"$bin" --from "$data/paired-base.json" \
	--compare "$data/paired-slower.json" --paired
expect_output "paired faster row" 'pin .*-2\.9% .* faster$'
expect_status 0 "paired A/A passes" \
	"$bin" --from "$data/paired-aa.json" \
	--compare "$data/paired-aa-base.json" --paired
expect_output "paired A/A finds nothing" \
	'^# 2 paired comparisons: 0 slower, 0 faster'
expect_status 1 "paired sample counts must match" \
	"$bin" --from "$data/paired-short.json" \
	--compare "$data/paired-base.json" --paired
expect_output "mismatch reported" \
	'npc=512 +- +not paired: 24 samples, 25 in baseline$'
expect_status 0 "pairs of two runs" \
	"$bin" --from "$data/paired-aa.json" \
	--compare "$data/paired-base.json" --paired
expect_output "pairs of two runs are warned of" \
	'^# warning: the runs started apart'
expect_status 2 "--paired needs --compare" \
	"$bin" --from "$data/paired-base.json" --paired
expect_status 2 "--ab-json needs an A/B run" \
	"$bin" --from "$data/paired-base.json" --ab-json "$tmp/b.json"
expect_status 2 "B is a delay or a device" \
	"$bin" --ab-delay-ns 4 --ab-dev /nonexistent
expect_status 2 "--from takes no --ab-delay-ns" \
	"$bin" --from "$data/paired-base.json" --ab-delay-ns 4

# expect_plot NAME SVG COMMAND...: COMMAND --plot SVG exits 0 and draws an
# SVG, when gnuplot is installed; a skip otherwise.
expect_plot()
{
	local name=$1 svg=$2

	shift 2
	if ! command -v gnuplot >/dev/null; then
		ktap_test_skip "$name" "gnuplot not installed"
		return
	fi
	expect_status 0 "$name" "$@" --plot "$svg"
	if grep -q '<svg' "$svg" 2>/dev/null; then
		ktap_test_pass "$name is an svg"
	else
		ktap_test_fail "$name is an svg"
	fi
}

expect_plot "plot" "$tmp/plot.svg" "$bin" --from "$data/base.json"
expect_status 1 "plot from json without gnuplot fails" \
	env PATH=/nonexistent "$bin" --from "$data/base.json" \
	--plot "$tmp/none.svg"

# boots-*.json: three kernels of 3, 3 and 1 boots (the last gives no
# interval). Against 6.1, 6.12 is 16.7% slower in gup_fast 4k npc=1 pin,
# 20% faster in pup_fast thp pin, the same in npc=512 pin; its unpin at
# npc=1 is 20% up but too noisy to tell, at npc=512 2% up, significant but
# under the threshold. hugetlb is skipped on 6.1 and 6.18.
across="$data/boots-6.1.json,$data/boots-6.12.json,$data/boots-6.18.json"
expect_status 3 "across: report of three kernels, exit 3: one is SLOWER" \
	"$bin" --across "$across"
expect_output "across: says how many changes are SLOWER" \
	'^1 change SLOWER than 6\.1$'
expect_output "across: kernel line" \
	'^- 6\.12: 6\.12\.9; 3 boots, 2026-01-11T09:00:00Z to 2026-01-11T09:10:00Z$'
expect_cells "across: pin header" "pin ns/page" \
	"api|type|npc|6.1 ns/page (boot spread)|6.12 ns/page (spread)|change [95% CI]|verdict|6.18 ns/page (spread)|change [95% CI]|verdict"
expect_cells "across: slower, and n/a from one boot" "pin ns/page" \
	"gup_fast|4k|1|600.0 (3.4%)|700.0 (2.9%)|+16.7% [+12.6%, +20.9%]|SLOWER|650.0 (1 boot)|+8.3% [n/a]|n/a"
expect_cells "across: same" "pin ns/page" \
	"gup_fast|4k|512|100.0 (4.1%)|100.5 (2.0%)|+0.5% [-3.9%, +4.4%]|same|97.0 (1 boot)|-3.0% [n/a]|n/a"
expect_cells "across: faster" "pin ns/page" \
	"pup_fast|thp|32|80.0 (2.5%)|64.0 (3.2%)|-20.0% [-22.6%, -17.3%]|faster|70.0 (1 boot)|-12.5% [n/a]|n/a"
expect_cells "across: skipped" "pin ns/page" \
	"pup_fast|hugetlb|1|skipped|300.0 (2.0%)|-|-|skipped|-|-"
expect_cells "across: large but noisy change is the same" "unpin ns/page" \
	"gup_fast|4k|1|100.0 (44.4%)|120.0 (47.4%)|+20.0% [-28.3%, +71.5%]|same|100.0 (1 boot)|+0.0% [n/a]|n/a"
expect_cells "across: significant but small change is the same" \
	"unpin ns/page" \
	"gup_fast|4k|512|20.0 (0.1%)|20.4 (0.1%)|+2.0% [+1.9%, +2.1%]|same|20.2 (1 boot)|+1.0% [n/a]|n/a"
expect_cells "across: boot to boot" "Boot to boot" \
	"6.1|3|8|4.1%|44.4%|unpin gup_fast 4k 64M npc=1"
expect_cells "across: boot to boot of one boot" "Boot to boot" \
	"6.18|1|0|n/a|n/a|-"

expect_status 3 "across: --threshold 1%" \
	"$bin" --across "$data/boots-6.1.json,$data/boots-6.12.json" \
	--threshold 1%
expect_cells "across: 2% is slower beyond a 1% threshold" "unpin ns/page" \
	"gup_fast|4k|512|20.0 (0.1%)|20.4 (0.1%)|+2.0% [+1.9%, +2.1%]|SLOWER"
expect_status 0 "across: --threshold 25, exit 0: nothing SLOWER" \
	"$bin" --across "$data/boots-6.1.json,$data/boots-6.12.json" \
	--threshold 25
expect_cells "across: 16.7% is the same under a 25% threshold" \
	"pin ns/page" \
	"gup_fast|4k|1|600.0 (3.4%)|700.0 (2.9%)|+16.7% [+12.6%, +20.9%]|same"

expect_plot "across: plot" "$tmp/across.svg" "$bin" --across "$across" \
	--threshold 25
expect_status 1 "across: plot without gnuplot fails after the report" \
	env PATH=/nonexistent "$bin" --across "$across" --plot "$tmp/none.svg"
expect_output "across: the report is there all the same" '^\| gup_fast .* SLOWER '

# with_insns FILE NAME PIN UNPIN: FILE with a counting boot's "insns" of
# gup_fast 4k 64M npc=512 (and a point no run has), as vm-benchmark
# --insns writes it.
with_insns()
{
	sed '$d' "$1"
	printf ', "insns": { "schema": "gup_insn/1", "kernel": "%s", "run": 1, "points": [\n' "$2"
	printf '{ "api": "gup_fast", "type": "4k", "size": 67108864, "npc": 512, "pages": 16384,\n'
	printf '  "pin": { "insns_per_page": %s, "accesses_per_page": 60.0, "excluded_interrupts": 0, "functions": {} },\n' "$3"
	printf '  "unpin": { "insns_per_page": %s, "accesses_per_page": 30.0, "excluded_interrupts": 0, "functions": {} } },\n' "$4"
	printf '{ "api": "gup", "type": "4k", "size": 4096, "npc": 1, "pages": 1,\n'
	printf '  "pin": { "insns_per_page": 1.0, "accesses_per_page": 1.0, "excluded_interrupts": 0, "functions": {} },\n'
	printf '  "unpin": { "insns_per_page": 1.0, "accesses_per_page": 1.0, "excluded_interrupts": 0, "functions": {} } } ] } }\n'
}
with_insns "$data/boots-6.1.json" 6.1 206.1 88.4 >"$tmp/insn-6.1.json"
with_insns "$data/boots-6.12.json" 6.12 257.2754 99.4 >"$tmp/insn-6.12.json"
expect_status 3 "across: kernels with instruction counts" \
	"$bin" --across "$tmp/insn-6.1.json,$tmp/insn-6.12.json"
expect_cells "across: instructions per page beside the times" \
	"Instructions per page" \
	"gup_fast|4k|512|206.1|257.3|+51.2|88.4|99.4|+11.0"
expect_cells "across: a point not counted" "Instructions per page" \
	"pup_fast|thp|32|-|-|-|-|-|-"
expect_status 3 "across: one kernel without counts" \
	"$bin" --across "$tmp/insn-6.1.json,$data/boots-6.12.json"
if grep -q '^### Instructions per page' "$tmp/out"; then
	ktap_test_fail "across: no instruction table unless every kernel has counts"
else
	ktap_test_pass "across: no instruction table unless every kernel has counts"
fi
sed 's|"gup_insn/1"|"gup_insn/0"|' "$tmp/insn-6.12.json" >"$tmp/insn-bad.json"
expect_status 1 "across: counts of another schema are refused" \
	"$bin" --across "$tmp/insn-6.1.json,$tmp/insn-bad.json"
expect_output "across: says what it wanted" \
	'insn-bad\.json: "insns" is not gup_insn/1$'

expect_status 1 "across: a gup_benchmark/1 file is refused" \
	"$bin" --across "$data/base.json"
expect_output "across: says which schema it wants" \
	'base\.json: schema gup_benchmark/1, expected gup_benchmark-boots/1$'
# As the boots files are made: runs pasted into the array.
{
	printf '{ "schema": "gup_benchmark-boots/1", "name": "bad", "boots": [\n'
	sed 's|"gup_benchmark/1"|"gup_benchmark/0"|' "$data/base.json"
	printf ']}\n'
} >"$tmp/bad-boot.json"
expect_status 1 "across: a bad run inside is refused" \
	"$bin" --across "$data/boots-6.1.json,$tmp/bad-boot.json"
expect_output "across: names the boot" \
	'bad-boot\.json boot 1: schema gup_benchmark/0, expected gup_benchmark/1$'
expect_status 1 "across: missing file" \
	"$bin" --across "$data/boots-6.1.json,$tmp/missing.json"
expect_status 2 "across takes no measurement options" \
	"$bin" --across "$across" --sweep
expect_status 2 "across and --from exclude each other" \
	"$bin" --across "$across" --from "$data/base.json"

# host-tcg.json and host-kvm.json: base.json as measured under TCG and,
# four times faster, under KVM, on the same host, each with the provenance
# tools/provenance gives vm-benchmark's runs.
expect_status 0 "provenance: kept through a json round trip" \
	"$bin" --from "$data/host-kvm.json" --json "$tmp/kvm.json"
if grep -q '"accel": "kvm"' "$tmp/kvm.json" &&
   grep -q '"host_cpu": "AMD EPYC"' "$tmp/kvm.json"; then
	ktap_test_pass "provenance: the rewritten json has it"
else
	ktap_test_fail "provenance: the rewritten json has it"
fi
expect_status 1 "provenance: --compare refuses KVM against TCG" \
	"$bin" --from "$data/host-kvm.json" --compare "$data/host-tcg.json"
expect_output "provenance: says which fact differs" \
	'^# accel: .*host-tcg\.json is "tcg", .*host-kvm\.json.s "kvm"$'
expect_output "provenance: says how to compare anyway" \
	'not measured alike .*--allow-different-hosts compares them anyway$'
if grep -qE '^gup_fast .* (pin|unpin) ' "$tmp/out"; then
	ktap_test_fail "provenance: a refused comparison prints no verdict"
else
	ktap_test_pass "provenance: a refused comparison prints no verdict"
fi
expect_status 0 "provenance: --allow-different-hosts compares them" \
	"$bin" --from "$data/host-kvm.json" --compare "$data/host-tcg.json" \
	--allow-different-hosts
expect_output "provenance: and says so" \
	'^# warning: compared anyway \(--allow-different-hosts\)'
expect_output "provenance: the four times faster KVM run is faster" \
	'^gup_fast 4k 64M npc=1 +pin .*-75\.0% .*faster$'
sed 's/"host_cpu": "AMD EPYC"/"host_cpu": "Intel Xeon"/' \
	"$data/host-tcg.json" >"$tmp/other-cpu.json"
expect_status 1 "provenance: --compare refuses another host CPU" \
	"$bin" --from "$tmp/other-cpu.json" --compare "$data/host-tcg.json"
expect_output "provenance: names the CPUs" \
	'^# host_cpu: .*"AMD EPYC", .*"Intel Xeon"$'
expect_status 0 "provenance: the same host compares" \
	"$bin" --from "$data/host-tcg.json" --compare "$data/host-tcg.json"
expect_status 0 "provenance: a run without it compares, with a warning" \
	"$bin" --from "$data/base.json" --compare "$data/host-tcg.json"
expect_output "provenance: the warning" \
	'^# warning: .*base\.json does not say its accel'
for accel in tcg kvm; do
	{
		printf '{ "schema": "gup_benchmark-boots/1", "name": "%s", "boots": [\n' \
			"$accel"
		cat "$data/host-$accel.json"
		printf ']}\n'
	} >"$tmp/boots-$accel.json"
done
expect_status 1 "provenance: --across refuses KVM against TCG" \
	"$bin" --across "$tmp/boots-tcg.json,$tmp/boots-kvm.json"
expect_output "provenance: --across says which boot" \
	'^# accel: .*boots-tcg\.json boot 1 is "tcg", .*boots-kvm\.json boot 1.s "kvm"$'
expect_status 0 "provenance: --across --allow-different-hosts reports" \
	"$bin" --across "$tmp/boots-tcg.json,$tmp/boots-kvm.json" \
	--allow-different-hosts
expect_output "provenance: the report says what built and measured each kernel" \
	'^  - measured: kvm on AMD EPYC \(2 CPUs\), QEMU emulator version 7\.2\.22 .*, guest 2 vCPUs and 2048 MiB; gup_pin d5c3b6249659$'
expect_output "provenance: and what built it" \
	'^  - built: Debian linux-image-6\.1\.0-57-amd64 6\.1\.192-3, gcc-12 .*; \.config sha256 6acc8c8833c4, fragments none$'
printf 'repo_commit=abc\nnot a fact\n' >"$tmp/bad.prov"
expect_status 1 "provenance: a malformed --provenance file stops the run" \
	"$bin" --api pup_fast --provenance "$tmp/bad.prov"
expect_output "provenance: names its line" 'bad\.prov:2: not a KEY=VALUE line'
expect_status 1 "provenance: a missing --provenance file stops the run" \
	"$bin" --api pup_fast --provenance "$tmp/missing.prov"
expect_status 2 "provenance: --from takes no --provenance" \
	"$bin" --from "$data/base.json" --provenance "$tmp/bad.prov"
expect_status 2 "provenance: --allow-different-hosts qualifies a comparison" \
	"$bin" --from "$data/base.json" --allow-different-hosts

expect_status 2 "npc 0 is refused" "$bin" --npc 0
expect_status 2 "unknown api is refused" "$bin" --api nope
expect_status 2 "upstream-only option in ns mode" "$bin" -c --reps 3
expect_status 2 "--from takes no measurement options" \
	"$bin" --from "$data/base.json" --sweep
expect_status 1 "unreadable json" "$bin" --from "$tmp/missing.json"

} >"$tmp/ktap"
ktap_print_header
ktap_set_plan "$KTAP_TESTNO"
cat "$tmp/ktap"
ktap_finished
