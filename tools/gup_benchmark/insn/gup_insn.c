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
 * regions.
 *
 * Asynchronous interrupts are left out: what runs from an interrupt's entry
 * stub (asm_sysvec_*, a vector stub of irq_entries_start, NMI, machine
 * check) to the iretq that ends it, softirqs on its exit and whatever it
 * preempted to included, is taken out of the counts again at that iretq
 * and added to the phase's excluded figures instead. Entries of
 * synchronous exceptions (asm_exc_*) nest on the same stack, so that their
 * iretq does not end an interrupt; those count as the code that faulted.
 *
 * At exit FILE holds, per phase, the marker that ended it, what was
 * excluded, and the counts of every function that ran:
 *
 *   phase N MARKER INTERRUPTS EXCLUDED_INSNS EXCLUDED_ACCESSES UNBALANCED
 *   INSNS ACCESSES FUNCTION
 *   ...
 *
 * UNBALANCED counts the times the phase's interrupt stack went wrong (an
 * overflow, or a marker inside an interrupt): its counts may then hold
 * interrupt work.
 *
 * Accesses are less exact than instructions: QEMU 7.2 gives the reads and
 * writes of its own interrupt delivery (the IDT entry, the code segment's
 * descriptor, the frame it pushes: ten in 64-bit mode) to the mem
 * callbacks of the instruction executed before it, which is not excluded.
 * An interrupt in a phase may add ten to some function's accesses there.
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
#define MAX_NEST	32
#define MAX_SPECIAL	8192		/* a power of two */

/* What a function's instructions are to the interrupt stack. */
enum entry {
	NOT_ENTRY,
	SYNC,		/* asm_exc_*: a fault, counted with its cause */
	ASYNC,		/* asm_sysvec_*, NMI, #MC: excluded */
	STUB,		/* irq_entries_start's vector stubs: excluded */
	COMMON,		/* asm_common_interrupt, where the stubs jump */
};

struct func {
	uint64_t addr;
	char *name;
	enum entry entry;
};

/* Text symbols by address; the last entry is the "[outside]" bucket. */
static struct func *funcs;
static size_t nr_funcs;

static struct {
	char *name;
	uint64_t addr;
} markers[MAX_MARKERS];
static int nr_markers;

/*
 * An instruction counted by callbacks, not inline, because it changes the
 * interrupt stack or ends a phase: its own count must land on the right
 * side of that.
 */
enum special_kind { MARKER, ENTRY, IRET };

struct special {
	uint64_t vaddr;
	long f;
	enum special_kind kind;
	int marker;
	int skip_mem;		/* its accesses are excluded */
};

static struct special specials[MAX_SPECIAL];

static uint64_t *insns, *accesses;		/* per function, since boot */
static uint64_t *last_insns, *last_accesses;	/* at the last marker */
static uint64_t *snap_insns, *snap_accesses;	/* at the interrupt's entry */
static FILE *out;
static unsigned long phase;

/* The interrupt stack: an entry per entered stub, the outermost at 0. */
static enum entry stack[MAX_NEST];
static int depth;
static int snap_at = -1;	/* the level whose entry took the snapshot */
static unsigned long phase_irqs, phase_unbalanced;
static unsigned long long phase_irq_insns, phase_irq_accesses;

static int by_addr(const void *a, const void *b)
{
	const struct func *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static enum entry entry_of(const char *name)
{
	if (!strcmp(name, "irq_entries_start") ||
	    !strcmp(name, "spurious_entries_start"))
		return STUB;
	if (!strcmp(name, "asm_common_interrupt") ||
	    !strcmp(name, "asm_spurious_interrupt"))
		return COMMON;
	if (starts(name, "asm_sysvec_") || !strcmp(name, "asm_exc_nmi") ||
	    !strcmp(name, "asm_exc_machine_check"))
		return ASYNC;
	if (starts(name, "asm_exc_"))
		return SYNC;
	return NOT_ENTRY;
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
		funcs[nr_funcs].entry = entry_of(name);
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
	funcs[nr_funcs].entry = NOT_ENTRY;
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

	fprintf(out, "phase %lu %s %lu %llu %llu %lu\n", phase++, marker,
		phase_irqs, phase_irq_insns, phase_irq_accesses,
		phase_unbalanced);
	for (i = 0; i < nr_funcs; i++) {
		unsigned long long n = insns[i] - last_insns[i];
		unsigned long long m = accesses[i] - last_accesses[i];

		if (n || m)
			fprintf(out, "%llu %llu %s\n", n, m, funcs[i].name);
		last_insns[i] = insns[i];
		last_accesses[i] = accesses[i];
	}
	phase_irqs = 0;
	phase_unbalanced = 0;
	phase_irq_insns = 0;
	phase_irq_accesses = 0;
}

/* Forgets the interrupt stack, its snapshot too: counts stay as they are. */
static void unbalanced(void)
{
	phase_unbalanced++;
	depth = 0;
	snap_at = -1;
}

static void push(enum entry e)
{
	if (depth == MAX_NEST) {
		unbalanced();
		return;
	}
	if (e != SYNC && snap_at < 0) {
		memcpy(snap_insns, insns, nr_funcs * sizeof(*insns));
		memcpy(snap_accesses, accesses, nr_funcs * sizeof(*accesses));
		snap_at = depth;
	}
	stack[depth++] = e;
}

/* An iretq; 1 if it ended the interrupt that took the snapshot. */
static int pop(void)
{
	size_t i;

	if (!depth)
		return 0;	/* a system call's or iret_to_self()'s */
	if (--depth != snap_at)
		return 0;
	for (i = 0; i < nr_funcs; i++) {
		phase_irq_insns += insns[i] - snap_insns[i];
		phase_irq_accesses += accesses[i] - snap_accesses[i];
	}
	memcpy(insns, snap_insns, nr_funcs * sizeof(*insns));
	memcpy(accesses, snap_accesses, nr_funcs * sizeof(*accesses));
	snap_at = -1;
	phase_irqs++;
	return 1;
}

static void on_special(unsigned int vcpu, void *userdata)
{
	struct special *sp = userdata;
	enum entry e = funcs[sp->f].entry;

	(void)vcpu;
	sp->skip_mem = 0;
	switch (sp->kind) {
	case MARKER:
		if (snap_at >= 0)
			unbalanced();
		if (phase < MAX_PHASES)
			end_phase(markers[sp->marker].name);
		break;
	case ENTRY:
		if (e == STUB) {
			/* A stub's push and jmp follow its first insn. */
			if (!depth || stack[depth - 1] != STUB)
				push(STUB);
		} else if (e == COMMON && depth && stack[depth - 1] == STUB) {
			stack[depth - 1] = ASYNC;
		} else {
			push(e == SYNC ? SYNC : ASYNC);
		}
		break;
	case IRET:
		if (pop()) {
			sp->skip_mem = 1;
			return;
		}
		break;
	}
	insns[sp->f]++;
}

static void on_special_mem(unsigned int vcpu, qemu_plugin_meminfo_t info,
			   uint64_t vaddr, void *userdata)
{
	struct special *sp = userdata;

	(void)vcpu;
	(void)info;
	(void)vaddr;
	if (!sp->skip_mem)
		accesses[sp->f]++;
}

/* The special instruction at vaddr, new or as an earlier translation had it. */
static struct special *special_at(uint64_t vaddr)
{
	size_t i = (vaddr ^ vaddr >> 13) & (MAX_SPECIAL - 1);
	size_t n;

	for (n = 0; n < MAX_SPECIAL; n++, i = (i + 1) & (MAX_SPECIAL - 1)) {
		if (specials[i].vaddr == vaddr || !specials[i].vaddr) {
			specials[i].vaddr = vaddr;
			return &specials[i];
		}
	}
	return NULL;
}

static int is_iretq(struct qemu_plugin_insn *insn)
{
	const unsigned char *b = qemu_plugin_insn_data(insn);

	return qemu_plugin_insn_size(insn) == 2 && b[0] == 0x48 && b[1] == 0xcf;
}

/*
 * Every kernel instruction adds to its function's counts inline, but for
 * the special ones, which count themselves in on_special().
 */
static void instrument(struct qemu_plugin_insn *insn)
{
	const enum qemu_plugin_op add = QEMU_PLUGIN_INLINE_ADD_U64;
	uint64_t vaddr = qemu_plugin_insn_vaddr(insn);
	long f = func_of(vaddr);
	struct special *sp;
	int k, marker = -1;
	enum special_kind kind;

	if (f < 0)
		return;
	for (k = 0; k < nr_markers; k++)
		if (vaddr == markers[k].addr)
			marker = k;
	if (marker >= 0)
		kind = MARKER;
	else if (funcs[f].entry == STUB ||
		 (funcs[f].entry != NOT_ENTRY && vaddr == funcs[f].addr))
		kind = ENTRY;
	else if (is_iretq(insn))
		kind = IRET;
	else
		goto plain;
	sp = special_at(vaddr);
	if (!sp) {
		fprintf(stderr, "gup_insn: more than %d special instructions\n",
			MAX_SPECIAL);
		goto plain;
	}
	sp->f = f;
	sp->kind = kind;
	sp->marker = marker;
	qemu_plugin_register_vcpu_insn_exec_cb(insn, on_special,
					       QEMU_PLUGIN_CB_NO_REGS, sp);
	qemu_plugin_register_vcpu_mem_cb(insn, on_special_mem,
					 QEMU_PLUGIN_CB_NO_REGS,
					 QEMU_PLUGIN_MEM_RW, sp);
	return;
plain:
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
	snap_insns = calloc(nr_funcs, sizeof(*snap_insns));
	snap_accesses = calloc(nr_funcs, sizeof(*snap_accesses));
	if (!insns || !accesses || !last_insns || !last_accesses ||
	    !snap_insns || !snap_accesses)
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
