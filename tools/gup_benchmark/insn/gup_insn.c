// SPDX-License-Identifier: GPL-2.0
/*
 * A QEMU TCG plugin that counts the guest kernel's instructions and memory
 * accesses by function, in phases the guest marks.
 *
 *   -plugin gup_insn.so,map=KALLSYMS,out=FILE,marker=SYMBOL[:SYMBOL]...
 *
 * KALLSYMS is /proc/kallsyms as an earlier boot of the same kernel read it,
 * with the same modules loaded in the same order: with nokaslr the kernel
 * and its modules are where they were then. Every instruction executed in
 * the kernel half of the address space adds one to the text symbol at or
 * below it, and each of its loads and stores one to that symbol's
 * accesses; code more than MAX_FUNC bytes past its nearest symbol (a BPF
 * or ftrace trampoline) counts as "[outside]".
 *
 * Each execution of a marker's first instruction ends a phase: the entry of
 * a system call that a program makes between its steps and nothing else
 * makes, or gup_test's bench_mark_*(), which bracket GUP_BENCH's timed
 * regions. At exit FILE holds, per phase, the marker that ended it and
 * the counts of every function that ran:
 *
 *   phase N MARKER
 *   INSNS ACCESSES FUNCTION
 *   ...
 *
 * Counts are exact for one vCPU only (the inline adds are not atomic), so
 * the plugin refuses a machine with more.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#define KERNEL_HALF	0xffff800000000000ULL
#define MAX_FUNC	(64 << 10)
#define MAX_MARKERS	8
#define MAX_PHASES	1000000

struct func {
	uint64_t addr;
	char *name;
};

/* Text symbols by address; the last entry is the "[outside]" bucket. */
static struct func *funcs;
static size_t nr_funcs;

static struct {
	char *name;
	uint64_t addr;
} markers[MAX_MARKERS];
static int nr_markers;

static uint64_t *insns, *accesses;		/* per function, since boot */
static uint64_t *last_insns, *last_accesses;	/* at the last marker */
static FILE *out;
static unsigned long phase;

static int by_addr(const void *a, const void *b)
{
	const struct func *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* marker=A:B:C into markers[]; 0 or -EINVAL. */
static int parse_markers(char *list)
{
	char *name;

	for (name = strtok(list, ":"); name; name = strtok(NULL, ":")) {
		if (nr_markers == MAX_MARKERS)
			return -EINVAL;
		markers[nr_markers++].name = name;
	}
	return nr_markers ? 0 : -EINVAL;
}

/* The text symbols (t, T, w, W) of a kallsyms file; 0 or -errno. */
static int read_map(const char *path)
{
	char line[512], name[256], type;
	unsigned long long addr;
	size_t cap = 0;
	int i;
	FILE *f = fopen(path, "r");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3 ||
		    !addr)
			continue;
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		if (nr_funcs + 1 >= cap) {
			cap = cap ? 2 * cap : 65536;
			funcs = realloc(funcs, cap * sizeof(*funcs));
			if (!funcs)
				return -ENOMEM;
		}
		funcs[nr_funcs].addr = addr;
		funcs[nr_funcs].name = strdup(name);
		if (!funcs[nr_funcs].name)
			return -ENOMEM;
		for (i = 0; i < nr_markers; i++)
			if (!strcmp(name, markers[i].name))
				markers[i].addr = addr;
		nr_funcs++;
	}
	fclose(f);
	if (!nr_funcs)
		return -ENOENT;
	qsort(funcs, nr_funcs, sizeof(*funcs), by_addr);
	funcs[nr_funcs].addr = UINT64_MAX;
	funcs[nr_funcs].name = "[outside]";
	nr_funcs++;
	return 0;
}

/* The function holding vaddr, or -1 for user space. */
static long func_of(uint64_t vaddr)
{
	size_t lo = 0, hi = nr_funcs - 1;

	if (vaddr < KERNEL_HALF)
		return -1;
	if (vaddr < funcs[0].addr)
		return nr_funcs - 1;
	/* The last symbol at or below vaddr: funcs[hi] is always above. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (funcs[mid].addr <= vaddr)
			lo = mid;
		else
			hi = mid;
	}
	return vaddr - funcs[lo].addr < MAX_FUNC ? (long)lo :
						   (long)nr_funcs - 1;
}

/* Writes the counts since the last marker as a phase that marker ended. */
static void end_phase(const char *marker)
{
	size_t i;

	fprintf(out, "phase %lu %s\n", phase++, marker);
	for (i = 0; i < nr_funcs; i++) {
		unsigned long long n = insns[i] - last_insns[i];
		unsigned long long m = accesses[i] - last_accesses[i];

		if (n || m)
			fprintf(out, "%llu %llu %s\n", n, m, funcs[i].name);
		last_insns[i] = insns[i];
		last_accesses[i] = accesses[i];
	}
}

static void on_marker(unsigned int vcpu, void *userdata)
{
	(void)vcpu;
	if (phase < MAX_PHASES)
		end_phase(markers[(uintptr_t)userdata].name);
}

/*
 * Every kernel instruction adds to its function's counts; a marker's first
 * also ends the phase, registered first so that its own count opens the
 * next one.
 */
static void instrument(struct qemu_plugin_insn *insn)
{
	const enum qemu_plugin_op add = QEMU_PLUGIN_INLINE_ADD_U64;
	uint64_t vaddr = qemu_plugin_insn_vaddr(insn);
	long f = func_of(vaddr);
	int k;

	if (f < 0)
		return;
	for (k = 0; k < nr_markers; k++) {
		void *marker = (void *)(uintptr_t)k;

		if (vaddr == markers[k].addr)
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker,
							       QEMU_PLUGIN_CB_NO_REGS,
							       marker);
	}
	qemu_plugin_register_vcpu_insn_exec_inline(insn, add, &insns[f], 1);
	qemu_plugin_register_vcpu_mem_inline(insn, QEMU_PLUGIN_MEM_RW, add,
					     &accesses[f], 1);
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t i, n = qemu_plugin_tb_n_insns(tb);

	(void)id;
	for (i = 0; i < n; i++)
		instrument(qemu_plugin_tb_get_insn(tb, i));
}

static void at_exit(qemu_plugin_id_t id, void *userdata)
{
	(void)id;
	(void)userdata;
	end_phase("exit");
	fclose(out);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
					   const qemu_info_t *info,
					   int argc, char **argv)
{
	const char *map = NULL, *path = NULL;
	int i, err = 0;

	for (i = 0; i < argc && !err; i++) {
		if (!strncmp(argv[i], "map=", 4))
			map = argv[i] + 4;
		else if (!strncmp(argv[i], "out=", 4))
			path = argv[i] + 4;
		else if (!strncmp(argv[i], "marker=", 7))
			err = parse_markers(argv[i] + 7);
		else
			err = -EINVAL;
	}
	if (err || !map || !path || !nr_markers) {
		fprintf(stderr, "gup_insn: usage: %s (at most %d markers)\n",
			"map=KALLSYMS,out=FILE,marker=SYMBOL[:SYMBOL]...",
			MAX_MARKERS);
		return -1;
	}
	if (!info->system_emulation || info->system.max_vcpus != 1) {
		fprintf(stderr, "gup_insn: exact for one vCPU only: -smp 1\n");
		return -1;
	}
	err = read_map(map);
	if (err) {
		fprintf(stderr, "gup_insn: %s: %s\n", map, err == -ENOENT ?
			"no text symbols" : strerror(-err));
		return -1;
	}
	for (i = 0; i < nr_markers; i++) {
		if (!markers[i].addr) {
			fprintf(stderr, "gup_insn: %s: no symbol %s\n", map,
				markers[i].name);
			return -1;
		}
	}
	insns = calloc(nr_funcs, sizeof(*insns));
	accesses = calloc(nr_funcs, sizeof(*accesses));
	last_insns = calloc(nr_funcs, sizeof(*last_insns));
	last_accesses = calloc(nr_funcs, sizeof(*last_accesses));
	if (!insns || !accesses || !last_insns || !last_accesses)
		return -1;
	out = fopen(path, "w");
	if (!out) {
		fprintf(stderr, "gup_insn: %s: %s\n", path, strerror(errno));
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	return 0;
}
