#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The suite's main job: install what is missing, build, run the whole suite
# on one or more kernels and judge each kernel's log, then print one closing
# line
#   N passed, N failed, N skipped
# and exit non-zero if anything failed.
#
# The suite runs natively when this host can load modules into its running
# kernel (CAP_SYS_MODULE, modules not disabled, headers installed), else in
# QEMU guests booted by tools/vm/run. The stages are tools/check/*; each
# prints KTAP, kept in build/logs/LABEL.ktap, and closes with a "# Totals:"
# line, which is all that is read of it here. Their own logs are in
# build/logs/ and build/logs/TARGET/ (docs/check.md); build/logs/run.stages
# lists what the run planned and finished, for the KCIDB document
# (--kcidb, docs/kcidb.md).

set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tools/check/lib.sh
source "$top/tools/check/lib.sh"
logs=$LOG_DIR
MATRIX=("${GUP_MATRIX[@]}")

usage()
{
	cat <<EOF
usage: ./run_tests.sh [OPTION]...
  --target NAME        a kernel of the matrix (repeatable, run in order):
                         debian-6.1      bookworm's kernel (the default)
                         debian-6.12     bookworm-security's 6.12 LTS kernel
                         mainline        the newest linux-source-X.Y of
                                         Debian's sid/experimental, built here
                         mainline-debug  the same with KASAN, lockdep,
                                         kmemleak and the other checkers
  --matrix             every kernel of the matrix: ${MATRIX[*]}
  --check              what make check runs: the runner's and gup_benchmark's
                       own tests, checkpatch, then on --matrix (or on --kdir)
                       the suite of each kernel, the mm series on mainline,
                       the mutation check (in full on the first kernel, two
                       mutants on the others; on mainline-debug two kernel
                       mutants instead), instruction counts on Debian 6.12
                       (two boots, identical), a short cross-kernel run
  --mutants            only the mutation check, in full, on --matrix (or on
                       the kernels given) (= make mutants)
  --mainline X.Y       build linux-source-X.Y for the mainline targets
                       (default: the newest; GUP_KSRC_VERSION sets it too)
  --kdir KDIR          build the module against KDIR and, with no --kernel,
                       boot KDIR's kernel: a maintainer's own tree
  --kernel IMAGE       boot this kernel
  --modules DIR        the guest kernel's modules (see tools/vm/run --help)
  --vm                 run in a QEMU guest even if the host could run natively
  --native             run on the running kernel (fails if it cannot)
  -t CATEGORY          run only this category (repeatable; see
                       selftests/run_suite.sh -l)
  --timeout SEC        guest time limit (default 1800)
  --with-runner-tests  also run the VM runner's and gup_benchmark's own tests
  --kcidb FILE         write the run's results as one KCIDB document
                       (KernelCI's schema) to FILE, and validate it;
                       --check writes build/logs/kcidb.json
EOF
	exit "$1"
}

die()
{
	printf 'run_tests: %s\n' "$*" >&2
	exit 1
}

passed=0 failed=0 skipped=0
# One line per failure counted, for the digest above the closing line.
failures=()
# "LABEL SECONDS" per stage, for the digest.
times=()

# The run's plan and progress, one line each: "start UTC", "plan LABEL",
# "done LABEL SECONDS", "fail WHAT", "end" when every planned stage has
# returned. tools/kcidb/write reads it: a stage planned and not done is
# one the run never reached.
manifest()
{
	[[ ! -f $logs/run.stages ]] || printf '%s\n' "$*" >>"$logs/run.stages"
}

# fail_one WHAT: one failure that no stage counts, said now and in the
# digest.
fail_one()
{
	echo "# run_tests: $1"
	failures+=("$1")
	failed=$((failed + 1))
	manifest "fail $1"
}

# stage LABEL COMMAND...: run one stage (tools/check/*), its KTAP to the
# output and to build/logs/LABEL.ktap, and add its "# Totals:" line to the
# run's totals; a stage that ends without one did not finish: one failure.
stage()
{
	local label=$1 log=$logs/$1.ktap start=$SECONDS
	shift

	"$@" 2>&1 | tee "$log" || true
	times+=("$label $((SECONDS - start))")
	manifest "done $label $((SECONDS - start))"
	if ! ktap_read_totals "$log"; then
		fail_one "$label did not finish: counted as one failure (${log#"$top"/})"
		return
	fi
	passed=$((passed + ktap_totals_pass))
	failed=$((failed + ktap_totals_fail))
	skipped=$((skipped + ktap_totals_skip))
	((ktap_totals_fail == 0)) ||
		failures+=("$label: $ktap_totals_fail failed (${log#"$top"/})")
}

# digest: how long each stage took; the expected failures (known kernel
# bugs, counted as passed); if anything failed, what: each failure
# counted, and the failing results in this run's stage logs.
digest()
{
	local t label sec f xfail=""

	echo "# run_tests: minutes per stage:"
	for t in "${times[@]}" "total $SECONDS"; do
		read -r label sec <<<"$t"
		printf '#   %-28s %3d.%d\n' "$label" $((sec / 60)) \
			$((sec % 60 / 6))
	done
	[[ ! -f $logs/.started ]] ||
		xfail=$(cd "$logs" && find . -maxdepth 1 -name '*.ktap' \
			-newer .started -exec grep -HE --binary-files=without-match \
			'^[# ]*ok [0-9]+ .* # XFAIL ' {} + |
			sed -E 's|^\./||; s/\.ktap:[# ]*ok [0-9]+ / /; s/ # XFAIL .*//' |
			sort) ||
		true
	if [[ -n $xfail ]]; then
		echo "# run_tests: expected failures, known kernel bugs (passed; the reason is on each XFAIL line):"
		printf '%s\n' "$xfail" | sed 's/^/#   /'
	fi
	((failed)) || return 0
	echo "# run_tests: what failed:"
	for f in "${failures[@]}"; do
		echo "#   $f"
	done
	[[ -f $logs/.started ]] || return 0
	# A stage that died has no "not ok" line: grep finds none.
	(cd "$logs" && find . -maxdepth 1 -name '*.ktap' -newer .started -exec \
	 grep -HE --binary-files=without-match '^[# ]*not ok [0-9]+ ' {} +) |
		sed 's|^\./||; s/:[# ]*/: /; s/^/#   /' | head -n 60 || true
}

# A run in which nothing passed proves nothing: it fails.
closing_line()
{
	if ((passed == 0 && failed == 0)); then
		fail_one "nothing passed: counted as one failure"
	fi
	digest
	printf '%d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
	((failed == 0))
}

# plan_stage LABEL COMMAND...: name a stage in the run's plan, run nothing.
plan_stage()
{
	manifest "plan $1"
}

# run_target NAME [DO]: the stages of one kernel: the suite; with --check,
# on mainline the mm series, on INSN_TARGET the instruction counts, and
# the mutation check, in full on the run's first kernel and its sample on
# the others; with --mutants, only the mutation check in full. DO is stage
# (the default) or plan_stage.
run_target()
{
	local name=$1 do=${2:-stage} args=(--timeout "$timeout" "${categories[@]}")
	local mutation=("$CHECK_DIR/mutation" ${kdir:+--kdir "$kdir"})

	if ((mutants)); then
		"$do" "$name.mutation" "${mutation[@]}" "$name"
		return
	fi
	[[ $mode != native ]] || args+=(--native)
	[[ $name != custom ]] ||
		args+=(${kdir:+--kdir "$kdir"} ${kernel:+--kernel "$kernel"}
		       ${modules:+--modules "$modules"})
	"$do" "$name" "$CHECK_DIR/target" "${args[@]}" "$name"
	((check)) && [[ $mode != native ]] || return 0
	if [[ $name == mainline* ]]; then
		"$do" "$name.series" "$CHECK_DIR/series" --timeout "$timeout" \
			"$name"
	fi
	# Instruction counts, deterministic: on one release kernel.
	if [[ $name == "$INSN_TARGET" && -z $kdir ]]; then
		"$do" "$name.insn" "$CHECK_DIR/insn" "$name"
	fi
	# Proof that the suite fails a wrong kernel, on the kernel the
	# kernel mutants are made of (its sample; make kernel-mutants: all),
	# in place of the module mutants' sample, which the first kernel ran
	# in full and the ones before this one sampled already.
	if [[ $name == "$KERNEL_MUTANTS_TARGET" && $name != "${targets[0]}" &&
	      -z $kdir ]]; then
		"$do" "$name.kernel-mutation" "$REPO_DIR/tools/kernel-mutation-check" \
			--sample
		return
	fi
	# Proof, on this kernel, that the suite fails a wrong module.
	[[ $name == "${targets[0]}" ]] || mutation+=(--sample)
	"$do" "$name.mutation" "${mutation[@]}" "$name"
}

# each_stage DO: DO (stage or plan_stage) for every stage of the run.
each_stage()
{
	local do=$1 name

	((!runner_tests)) || "$do" host "$CHECK_DIR/host"
	for name in "${targets[@]}"; do
		run_target "$name" "$do"
	done
	# On two kernels of the matrix or more, booted already.
	if ((check)) && [[ $mode == vm && " ${targets[*]} " != *" custom "* &&
			   ${#targets[@]} -ge 2 ]]; then
		"$do" cross-kernel "$CHECK_DIR/cross-kernel" "${targets[@]}"
	fi
}

# finish: the KCIDB document of what ran (--kcidb, --check), then the
# closing line.
finish()
{
	manifest end
	[[ -z $kcidb ]] || stage kcidb "$CHECK_DIR/kcidb" "$kcidb"
	closing_line
}

mode="" kernel="" kdir="" modules="" timeout=1800 runner_tests=0 mainline=""
check=0 mutants=0 kcidb=""
categories=() targets=()

main()
{
	local make_args=(selftests benchmark upstream) deps=(build) probe

	while [[ $# -gt 0 ]]; do
		case $1 in
		--vm | --native) mode=${1#--} ;;
		--target) targets+=("${2:?--target needs a value}"); shift ;;
		--matrix) targets+=("${MATRIX[@]}") ;;
		--check) check=1 runner_tests=1 ;;
		--mutants) mutants=1 ;;
		--mainline) mainline=${2:?--mainline needs X.Y}; shift ;;
		--kernel) kernel=${2:?--kernel needs a value}; shift ;;
		--kdir) kdir=${2:?--kdir needs a value}; shift ;;
		--modules) modules=${2:?--modules needs a value}; shift ;;
		-t) categories+=(-t "${2:?-t needs a value}"); shift ;;
		--timeout) timeout=${2:?--timeout needs a value}; shift ;;
		--with-runner-tests) runner_tests=1 ;;
		--kcidb) kcidb=${2:?--kcidb needs a file}; shift ;;
		-h | --help) usage 0 ;;
		*) usage 2 >&2 ;;
		esac
		shift
	done
	export GUP_KSRC_VERSION=${mainline:-${GUP_KSRC_VERSION:-}}

	[[ $(id -u) -eq 0 ]] ||
		die "not root: the suite installs packages and loads modules"
	((!check)) || [[ -n $kcidb ]] || kcidb=$logs/kcidb.json
	# Said now, not after an hour of guests.
	if [[ -n $kcidb ]]; then
		kcidb=$(realpath -m -- "$kcidb")
		[[ ! -d $kcidb ]] || die "--kcidb $kcidb: a directory"
		# Tried, not asked: root may write anywhere, and /proc
		# still takes no file.
		if [[ ${kcidb%/*} != "$logs" ]]; then
			probe=$(mktemp -p "${kcidb%/*}" .kcidb.XXXXXX 2>/dev/null) ||
				die "--kcidb $kcidb: no file can be made in ${kcidb%/*}"
			rm -f -- "$probe"
		fi
		# An earlier run's document is not this run's: a run killed
		# before its end leaves none (tools/kcidb/write writes what
		# its logs have, marked incomplete).
		rm -f -- "$kcidb"
	fi
	if [[ -n $kernel || -n $kdir || -n $modules ]]; then
		[[ ${#targets[@]} -eq 0 ]] ||
			die "--kernel, --kdir and --modules name a kernel: no --target with them"
		targets=(custom)
	elif ((check || mutants)) && [[ ${#targets[@]} -eq 0 ]]; then
		targets=("${MATRIX[@]}")
	fi
	((!mutants || !check)) || die "--mutants is a run of its own: no --check"
	if [[ -n $kernel || -n $modules || ${#targets[@]} -gt 0 ]]; then
		[[ $mode != native ]] ||
			die "--native runs the running kernel: no --target, --kernel or --modules"
		mode=vm
	fi
	if [[ -z $mode ]]; then
		mode=vm
		! native_capable || mode=native
	elif [[ $mode == native ]]; then
		native_capable ||
			die "--native: this host cannot load modules into $(uname -r)"
	fi
	if [[ $mode == native ]]; then
		kdir=/lib/modules/$(uname -r)/build
		[[ -d $kdir ]] || kdir=/usr/src/linux-headers-$(uname -r)
		targets=(custom)
	fi
	[[ ${#targets[@]} -gt 0 ]] || targets=(debian-6.1)
	echo "# run_tests: $mode run on ${targets[*]}"

	# Packages first, with the lists refreshed once if anything is
	# missing: which kernel a target is, is read from the lists after.
	if [[ $mode == vm ]]; then deps+=(vm); else deps+=(kmod); fi
	# gup_benchmark's host tests draw a plot when gnuplot is there.
	((!runner_tests)) || deps+=(gnuplot-nox)
	# The KCIDB writer, its tests, and the environment its validation
	# installs.
	((!runner_tests)) && [[ -z $kcidb ]] || deps+=(kcidb)
	[[ " ${targets[*]} " != *" mainline"* ]] || deps+=(build-kernel)
	"$top/tools/deps.sh" "${deps[@]}"
	((!runner_tests)) || make_args+=(plant-warn)
	mkdir -p "$logs"
	# What this run writes into the logs is newer (see digest()).
	touch "$logs/.started"
	printf 'start %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$logs/run.stages"
	each_stage plan_stage
	if ! make -C "$top" -j"$(nproc)" "${make_args[@]}"; then
		fail_one "the build failed"
		finish
		exit 1
	fi

	each_stage stage
	finish
}

main "$@"
