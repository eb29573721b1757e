// SPDX-License-Identifier: GPL-2.0
/*
 * gup_benchmark: upstream gup_test's command line and output (upstream
 * mode), plus a nanosecond mode built on GUP_BENCH: warm-up, repeated
 * samples and their statistics, sweeps over apis, page types, sizes and
 * pages per call, JSON results, comparison with a baseline, and plots.
 * README beside this file documents the options and the JSON schema.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "kernels.h"
#include "numa.h"
#include "plot.h"
#include "results.h"
#include "upstream.h"

#define EXIT_USAGE		2
#define EXIT_REGRESSION		3
#define KSFT_SKIP		4

#define MB			(1UL << 20)
#define MAX_LIST		16
#define DEFAULT_SIZE		(64 * MB)
#define DEFAULT_REPS		15
#define DEFAULT_WARMUP		2

struct options {
	struct upstream_options up;
	bool ns_mode;			/* a long option was given */
	bool measure_opt;		/* an option that shapes a measurement */
	char upstream_only;		/* an option only upstream mode takes */
	bool sweep;
	bool file_given;
	const struct pin_method *methods[MAX_LIST];
	size_t nr_methods;
	enum page_type types[MAX_LIST];
	size_t nr_types;
	unsigned long sizes[MAX_LIST];
	size_t nr_sizes;
	unsigned int npcs[MAX_LIST];
	size_t nr_npcs;
	unsigned int reps, warmup;
	int node;
	long delay_ns;			/* bench_delay_ns to set, or -1 */
	long ab_delay_ns;		/* B's bench_delay_ns, or -1 */
	const char *ab_dev;		/* B's device, or NULL */
	const char *ab_json;		/* where B's run goes */
	bool paired;			/* --compare sample i with sample i */
	bool threshold_given;
	const char *json, *from, *compare, *plot;
	const char *provenance;		/* tools/provenance's facts, or NULL */
	bool allow_hosts;		/* compare runs of different hosts */
	bool insn_marks;		/* mark each timed call for gup_insn */
	struct compare_policy policy;
	char *across[MAX_LIST];		/* kernels' boots files, or none */
	size_t nr_across;
};

enum {
	OPT_REPS = 256, OPT_WARMUP, OPT_API, OPT_TYPE, OPT_SIZE, OPT_NPC,
	OPT_SWEEP, OPT_NODE, OPT_JSON, OPT_FROM, OPT_COMPARE, OPT_ALPHA,
	OPT_THRESHOLD, OPT_PLOT, OPT_DELAY, OPT_HELP,
	OPT_AB_DELAY, OPT_AB_DEV, OPT_AB_JSON, OPT_PAIRED,
	OPT_ACROSS, OPT_PROVENANCE, OPT_ALLOW_HOSTS, OPT_INSN_MARKS,
};

static const struct option long_options[] = {
	{ "reps",	required_argument, NULL, OPT_REPS },
	{ "warmup",	required_argument, NULL, OPT_WARMUP },
	{ "api",	required_argument, NULL, OPT_API },
	{ "type",	required_argument, NULL, OPT_TYPE },
	{ "size",	required_argument, NULL, OPT_SIZE },
	{ "npc",	required_argument, NULL, OPT_NPC },
	{ "sweep",	no_argument,	   NULL, OPT_SWEEP },
	{ "node",	required_argument, NULL, OPT_NODE },
	{ "json",	required_argument, NULL, OPT_JSON },
	{ "from",	required_argument, NULL, OPT_FROM },
	{ "compare",	required_argument, NULL, OPT_COMPARE },
	{ "alpha",	required_argument, NULL, OPT_ALPHA },
	{ "threshold",	required_argument, NULL, OPT_THRESHOLD },
	{ "plot",	required_argument, NULL, OPT_PLOT },
	{ "delay-ns",	required_argument, NULL, OPT_DELAY },
	{ "ab-delay-ns", required_argument, NULL, OPT_AB_DELAY },
	{ "ab-dev",	required_argument, NULL, OPT_AB_DEV },
	{ "ab-json",	required_argument, NULL, OPT_AB_JSON },
	{ "paired",	no_argument,	   NULL, OPT_PAIRED },
	{ "across",	required_argument, NULL, OPT_ACROSS },
	{ "provenance",	required_argument, NULL, OPT_PROVENANCE },
	{ "allow-different-hosts", no_argument, NULL, OPT_ALLOW_HOSTS },
	{ "insn-marks",	no_argument,	   NULL, OPT_INSN_MARKS },
	{ "help",	no_argument,	   NULL, OPT_HELP },
	{ }
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: gup_benchmark [upstream options] [pages to dump...]\n"
"       gup_benchmark [upstream memory options] --LONG-OPTION...\n"
"\n"
"Upstream mode (tools/testing/selftests/vm/gup_test), times in us:\n"
"  -u GUP_FAST_BENCHMARK (default)  -a PIN_FAST_BENCHMARK  -L PIN_LONGTERM_BENCHMARK\n"
"  -U GUP_BASIC_TEST  -b PIN_BASIC_TEST  -c DUMP_USER_PAGES_TEST  -p dump with pin\n"
"  -m MB (128)  -r repeats  -n pages per call (1)  -F gup_flags  -j threads\n"
"  -f file (/dev/zero)  -S MAP_SHARED  -H MAP_HUGETLB  -t MADV_HUGEPAGE\n"
"  -T MADV_NOHUGEPAGE  -w FOLL_WRITE (default)  -W no FOLL_WRITE\n"
"  -z fault in with FOLL_TOUCH in gup, not from user space\n"
"\n"
"Nanosecond mode (GUP_BENCH), chosen by any long option:\n"
"  --api LIST     gup,gup_fast,pup,pup_fast,pup_longterm,pup_fast_longterm\n"
"  --type LIST    4k,thp,hugetlb,mthp (mthp: the smallest multi-size THP\n"
"                 size, every other size off for the run; 6.8+)\n"
"  --size LIST    bytes, K/M/G suffixes (64M); -m MB sets one\n"
"  --npc LIST     pages per call, 1..%d\n"
"  --sweep        lists not given default to the sweep's: the four\n"
"                 non-longterm apis, types 4k,thp,hugetlb, npc 1,32,512\n"
"  --reps N (%d)  --warmup N (%d): repetitions kept and discarded\n"
"  --node N       bind the memory to NUMA node N, report where it landed\n"
"  --delay-ns N   set gup_test's bench_delay_ns for the run: N ns more per\n"
"                 pinned page, to check that --compare notices\n"
"  --json FILE    write every sample as JSON (- for stdout)\n"
"  --insn-marks   before each timed call, print \"insn-mark N: api type\n"
"                 size npc pages\" and call sched_get_priority_min(): the\n"
"                 marks of gup_insn, the TCG plugin that counts the\n"
"                 kernel's instructions (tools/gup_benchmark/insn); runs\n"
"                 as SCHED_FIFO, so that no other task runs in a call\n"
"  --from FILE    read results from JSON instead of measuring\n"
"  --across K1.json,K2.json[,...]  Markdown report of each kernel's boots\n"
"                 (gup_benchmark-boots/1) against the first kernel's:\n"
"                 Welch's 95%% interval, --threshold PCT, --plot FILE;\n"
"                 exit 3 if a later kernel is SLOWER anywhere (a step of\n"
"                 git bisect run)\n"
"  --compare FILE flag configurations slower than in this baseline JSON\n"
"  --allow-different-hosts  compare runs (--compare, --across) whose\n"
"                 accelerator or host CPU differ, which is refused otherwise\n"
"  --provenance FILE  tools/provenance's KEY=VALUE lines: what produced the\n"
"                 run, kept in its JSON\n"
"  --alpha A (%g)  --threshold PCT (%g): a regression needs both\n"
"  --paired       with --compare: the runs were measured as pairs, sample\n"
"                 i of each side by side; signed-rank test, threshold %g%%\n"
"  --ab-delay-ns N  A/B run in one process: B is the device at\n"
"                 bench_delay_ns N, A at --delay-ns (0); ABBA order, --reps\n"
"                 pairs; prints both and their paired comparison\n"
"  --ab-dev PATH  A/B run with B on a second gup_test device (name=)\n"
"  --ab-json FILE write B's run as JSON (--json writes A's)\n"
"  --plot FILE    draw an SVG with gnuplot\n"
"  -u -a -L -U -b -t -T -H -m -n -r -w -W -S -f -z keep their meaning.\n"
"Exit: 0 ok, 1 error, 2 usage, 3 regression found (--compare, --across),\n"
"4 no gup_test device.\n",
		GUP_BENCH_BATCH, DEFAULT_REPS, DEFAULT_WARMUP, COMPARE_ALPHA,
		100 * COMPARE_THRESHOLD, 100 * COMPARE_THRESHOLD_PAIRED);
}

static int parse_ulong(const char *s, unsigned long *v, bool size)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 0);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	if (size && *end) {
		const char *units = "KMG", *u = strchr(units, *end);

		if (!u || end[1])
			return -EINVAL;
		*v <<= 10 * (u - units + 1);
		end++;
	}
	return *end ? -EINVAL : 0;
}

/* Splits a comma-separated list in place; returns its length or -1. */
static int split(char *arg, char **items)
{
	int n = 0;
	char *tok, *save;

	for (tok = strtok_r(arg, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (n == MAX_LIST)
			return -1;
		items[n++] = tok;
	}
	return n;
}

static int parse_list(struct options *o, int opt, char *arg)
{
	char *items[MAX_LIST];
	unsigned long v;
	int n = split(arg, items), i, t;

	if (n <= 0)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		switch (opt) {
		case OPT_API:
			o->methods[i] = pin_method_by_name(items[i]);
			if (!o->methods[i])
				return -EINVAL;
			break;
		case OPT_TYPE:
			t = page_type_by_name(items[i]);
			if (t < 0)
				return -EINVAL;
			o->types[i] = t;
			break;
		case OPT_SIZE:
			if (parse_ulong(items[i], &v, true) || !v)
				return -EINVAL;
			o->sizes[i] = v;
			break;
		case OPT_NPC:
			if (parse_ulong(items[i], &v, false) || !v ||
			    v > GUP_BENCH_BATCH)
				return -EINVAL;
			o->npcs[i] = v;
			break;
		}
	}
	if (opt == OPT_API)
		o->nr_methods = n;
	else if (opt == OPT_TYPE)
		o->nr_types = n;
	else if (opt == OPT_SIZE)
		o->nr_sizes = n;
	else
		o->nr_npcs = n;
	return 0;
}

/* An upstream command also names the method nanosecond mode times. */
static void set_cmd(struct options *o, unsigned long cmd, const char *method)
{
	o->up.cmd = cmd;
	if (method) {
		o->methods[0] = pin_method_by_name(method);
		o->nr_methods = 1;
	}
}

static void set_type(struct options *o, enum page_type type)
{
	o->types[0] = type;
	o->nr_types = 1;
}

static int parse_short(struct options *o, int opt, char *arg)
{
	unsigned long v;

	switch (opt) {
	case 'u':
		set_cmd(o, GUP_FAST_BENCHMARK, "gup_fast");
		break;
	case 'a':
		set_cmd(o, PIN_FAST_BENCHMARK, "pup_fast");
		break;
	case 'L':
		set_cmd(o, PIN_LONGTERM_BENCHMARK, "pup_longterm");
		break;
	case 'U':
		set_cmd(o, GUP_BASIC_TEST, "gup");
		break;
	case 'b':
		set_cmd(o, PIN_BASIC_TEST, "pup");
		break;
	case 'c':
		set_cmd(o, DUMP_USER_PAGES_TEST, NULL);
		/* Page 0 unless pages are named after the options. */
		o->up.gup.which_pages[0] = 1;
		o->upstream_only = opt;
		return 0;
	case 'p':
		o->up.gup.test_flags |= GUP_TEST_FLAG_DUMP_PAGES_USE_PIN;
		o->upstream_only = opt;
		return 0;
	case 'F':
		o->up.gup.gup_flags = strtol(arg, NULL, 0);
		o->upstream_only = opt;
		return 0;
	case 'j':
		o->up.nr_threads = atoi(arg);
		o->upstream_only = opt;
		return 0;
	case 'm':
		o->up.size = atoi(arg) * MB;
		o->sizes[0] = o->up.size;
		o->nr_sizes = 1;
		break;
	case 'r':
		o->up.repeats = atoi(arg);
		o->reps = o->up.repeats > 0 ? o->up.repeats : 0;
		break;
	case 'n':
		if (parse_ulong(arg, &v, false))
			return -EINVAL;
		o->up.nr_pages_per_call = v;
		o->npcs[0] = v;
		o->nr_npcs = 1;
		break;
	case 't':
		o->up.thp = 1;
		set_type(o, PAGE_THP);
		break;
	case 'T':
		o->up.thp = 0;
		set_type(o, PAGE_4K);
		break;
	case 'H':
		o->up.map_flags |= MAP_HUGETLB | MAP_ANONYMOUS;
		set_type(o, PAGE_HUGETLB);
		break;
	case 'w':
		o->up.write = 1;
		break;
	case 'W':
		o->up.write = 0;
		break;
	case 'S':
		o->up.map_flags &= ~MAP_PRIVATE;
		o->up.map_flags |= MAP_SHARED;
		break;
	case 'f':
		o->up.file = arg;
		o->file_given = true;
		break;
	case 'z':
		o->up.touch = 1;
		break;
	default:
		return -EINVAL;
	}
	o->measure_opt = true;
	return 0;
}

static int parse_long(struct options *o, int opt, char *arg)
{
	unsigned long v;
	double d;
	char *end;
	int n;

	o->ns_mode = true;
	switch (opt) {
	case OPT_REPS:
	case OPT_WARMUP:
		if (parse_ulong(arg, &v, false) || v > 100000 ||
		    (opt == OPT_REPS && !v))
			return -EINVAL;
		*(opt == OPT_REPS ? &o->reps : &o->warmup) = v;
		break;
	case OPT_API:
	case OPT_TYPE:
	case OPT_SIZE:
	case OPT_NPC:
		return parse_list(o, opt, arg) ? -EINVAL :
		       (o->measure_opt = true, 0);
	case OPT_SWEEP:
		o->sweep = true;
		break;
	case OPT_INSN_MARKS:
		o->insn_marks = true;
		break;
	case OPT_NODE:
		if (parse_ulong(arg, &v, false) || v >= MAX_NODES)
			return -EINVAL;
		o->node = v;
		break;
	case OPT_DELAY:
	case OPT_AB_DELAY:
		if (parse_ulong(arg, &v, false) || v > 1000000)
			return -EINVAL;
		*(opt == OPT_DELAY ? &o->delay_ns : &o->ab_delay_ns) = v;
		break;
	case OPT_AB_DEV:
		o->ab_dev = arg;
		break;
	case OPT_AB_JSON:
		o->ab_json = arg;
		return 0;
	case OPT_PAIRED:
		o->paired = true;
		return 0;
	case OPT_JSON:
		o->json = arg;
		return 0;
	case OPT_FROM:
		o->from = arg;
		return 0;
	case OPT_ACROSS:
		n = split(arg, o->across);
		if (n <= 0)
			return -EINVAL;
		o->nr_across = n;
		return 0;
	case OPT_COMPARE:
		o->compare = arg;
		return 0;
	case OPT_PROVENANCE:
		o->provenance = arg;
		return 0;
	case OPT_ALLOW_HOSTS:
		o->allow_hosts = true;
		return 0;
	case OPT_PLOT:
		o->plot = arg;
		return 0;
	case OPT_ALPHA:
	case OPT_THRESHOLD:
		d = strtod(arg, &end);
		if (end == arg || (*end && strcmp(end, "%")) || d <= 0 ||
		    (opt == OPT_ALPHA && d >= 1))
			return -EINVAL;
		if (opt == OPT_ALPHA) {
			o->policy.alpha = d;
		} else {
			o->policy.threshold = d / 100;
			o->threshold_given = true;
		}
		return 0;
	default:
		return -EINVAL;
	}
	o->measure_opt = true;
	return 0;
}

static int parse_options(struct options *o, int argc, char **argv)
{
	int opt, n;

	memset(o, 0, sizeof(*o));
	upstream_defaults(&o->up);
	o->reps = DEFAULT_REPS;
	o->warmup = DEFAULT_WARMUP;
	o->node = -1;
	o->delay_ns = -1;
	o->ab_delay_ns = -1;
	o->policy.alpha = COMPARE_ALPHA;
	o->policy.threshold = COMPARE_THRESHOLD;

	while ((opt = getopt_long(argc, argv, "m:r:n:F:f:abcj:tTLUuwWSHpz",
				  long_options, NULL)) != -1) {
		if (opt == OPT_HELP) {
			usage(stdout);
			exit(0);
		}
		if (opt < OPT_REPS ? parse_short(o, opt, optarg) :
				     parse_long(o, opt, optarg)) {
			if (opt != '?')
				fprintf(stderr, "gup_benchmark: bad argument for %s\n",
					argv[optind - 1]);
			return -EINVAL;
		}
	}

	/* Upstream: dump these page numbers (0-based) with -c. */
	for (n = 0; optind < argc && n < GUP_TEST_MAX_PAGES_TO_DUMP; n++) {
		o->up.gup.which_pages[n] = strtol(argv[optind++], NULL, 0) + 1;
		o->upstream_only = 'c';
	}
	if (!o->ns_mode)
		return 0;

	if (o->upstream_only) {
		fprintf(stderr, "gup_benchmark: -%c is upstream mode only\n",
			o->upstream_only);
		return -EINVAL;
	}
	if (!o->reps) {
		fprintf(stderr, "gup_benchmark: at least one repetition\n");
		return -EINVAL;
	}
	for (n = 0; n < (int)o->nr_npcs; n++) {
		if (!o->npcs[n] || o->npcs[n] > GUP_BENCH_BATCH) {
			fprintf(stderr, "gup_benchmark: pages per call is 1..%d\n",
				GUP_BENCH_BATCH);
			return -EINVAL;
		}
	}
	if (o->from && (o->measure_opt || o->provenance)) {
		fprintf(stderr, "gup_benchmark: --from reads results; it takes no measurement options\n");
		return -EINVAL;
	}
	if (o->nr_across && (o->measure_opt || o->from || o->compare ||
			     o->json || o->ab_json || o->paired ||
			     o->provenance)) {
		fprintf(stderr,
			"gup_benchmark: --across reads results; it takes only --threshold, --plot and --allow-different-hosts\n");
		return -EINVAL;
	}
	if (o->ab_delay_ns >= 0 && o->ab_dev) {
		fprintf(stderr, "gup_benchmark: B is either --ab-delay-ns or --ab-dev\n");
		return -EINVAL;
	}
	if (o->ab_json && o->ab_delay_ns < 0 && !o->ab_dev) {
		fprintf(stderr, "gup_benchmark: --ab-json needs --ab-delay-ns or --ab-dev\n");
		return -EINVAL;
	}
	if (o->ab_json && o->json && !strcmp(o->ab_json, "-") &&
	    !strcmp(o->json, "-")) {
		fprintf(stderr, "gup_benchmark: only one of --json and --ab-json can be stdout\n");
		return -EINVAL;
	}
	if (o->allow_hosts && !o->compare && !o->nr_across) {
		fprintf(stderr,
			"gup_benchmark: --allow-different-hosts qualifies --compare or --across\n");
		return -EINVAL;
	}
	if (o->paired && !o->compare) {
		fprintf(stderr, "gup_benchmark: --paired qualifies --compare\n");
		return -EINVAL;
	}
	if (!o->nr_methods) {
		static const char *const sweep[] = {
			"gup", "gup_fast", "pup", "pup_fast"
		};

		o->nr_methods = o->sweep ? 4 : 1;
		for (n = 0; n < (int)o->nr_methods; n++)
			o->methods[n] = pin_method_by_name(o->sweep ? sweep[n] :
							   "gup_fast");
	}
	if (!o->nr_types) {
		o->nr_types = o->sweep ? PAGE_SWEEP_NR : 1;
		for (n = 0; n < (int)o->nr_types; n++)
			o->types[n] = n;
	}
	if (!o->nr_npcs) {
		static const unsigned int sweep[] = { 1, 32, 512 };

		o->nr_npcs = o->sweep ? 3 : 1;
		memcpy(o->npcs, sweep, sizeof(sweep));
	}
	if (!o->nr_sizes) {
		o->sizes[0] = DEFAULT_SIZE;
		o->nr_sizes = 1;
	}
	return 0;
}

/* Nanosecond mode. */

static char *now_utc(void)
{
	char buf[32];
	time_t t = time(NULL);
	struct tm tm;

	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	return strdup(buf);
}

static void describe_system(struct run *r, const struct options *o,
			    const struct provenance *prov)
{
	struct utsname u;
	size_t i;

	if (!uname(&u)) {
		r->sysname = strdup(u.sysname);
		r->release = strdup(u.release);
		r->version = strdup(u.version);
		r->machine = strdup(u.machine);
	}
	r->date = now_utc();
	r->reps = o->reps;
	r->warmup = o->warmup;
	r->write = o->up.write;
	r->shared = o->up.map_flags & MAP_SHARED;
	r->prefault = !o->up.touch;
	r->file = o->file_given ? strdup(o->up.file) : NULL;
	r->node = o->node;
	r->bench_delay_ns = bench_delay_get();
	r->page_size = getpagesize();
	r->huge_page_size = huge_page_size();
	for (i = 0; i < prov->nr; i++)
		provenance_default(&r->prov, prov->key[i], prov->value[i]);
}

/* Sets up one memory of a sweep; returns why it cannot be had, or NULL. */
static char *prepare_memory(struct bench_memory *m, const struct options *o,
			    enum page_type type, unsigned long size, int fd)
{
	char *why = NULL;
	int err;

	err = memory_map(m, type, size, o->up.map_flags & MAP_SHARED ?
			 MAP_SHARED : MAP_PRIVATE, fd);
	if (err == -EOPNOTSUPP)
		return strdup(fd >= 0 ?
			      "mthp is anonymous memory, not a file's" :
			      "no multi-size THP: the kernel has no /sys/kernel/mm/transparent_hugepage/hugepages-<size>kB below the PMD's");
	if (err == -EINVAL)
		return strdup(type == PAGE_HUGETLB ?
			      "size is not a multiple of the huge page size" :
			      "size is not a multiple of the page size");
	if (err) {
		if (asprintf(&why, "mmap: %s%s", strerror(-err),
			     type == PAGE_HUGETLB ?
			     " (too few free huge pages: see /proc/sys/vm/nr_hugepages)" :
			     "") < 0)
			abort();
		return why;
	}
	if (o->node >= 0) {
		err = numa_place(m->addr, m->size, o->node);
		if (err) {
			memory_unmap(m);
			if (asprintf(&why, "binding to node %d: %s", o->node,
				     strerror(-err)) < 0)
				abort();
			return why;
		}
	}
	if (!o->up.touch)
		memory_fault_in(m);
	return NULL;
}

static void skip_point(struct run_point *p, int err)
{
	if (asprintf(&p->skipped, "GUP_BENCH: %s", strerror(-err)) < 0)
		abort();
}

/*
 * One side of a run: the run its samples go to, the file GUP_BENCH goes
 * through and the bench_delay_ns to set before each of its repetitions
 * (-1: leave it). A plain run has one side; an A/B run (--ab-delay-ns,
 * --ab-dev) two.
 */
struct run_side {
	struct run *run;
	int fd;
	long delay_ns;
};

/* Writes bench_delay_ns only when it changes: ABBA needs half the writes. */
static int use_delay(long ns, long *now)
{
	int err;

	if (ns < 0 || ns == *now)
		return 0;
	err = bench_delay_set(ns);
	if (err) {
		fprintf(stderr, "%s: %s\n", BENCH_DELAY_FILE, strerror(-err));
		return err;
	}
	*now = ns;
	return 0;
}

/*
 * bench_delay_ns of the module behind a debugfs file: the loaded module
 * whose name parameter names that file. -1 when no module says so.
 */
static long dev_bench_delay(const char *path)
{
	const char *file = strrchr(path, '/');
	char param[PATH_MAX], name[64];
	struct dirent *e;
	long ns = -1;
	DIR *dir;
	FILE *f;

	file = file ? file + 1 : path;
	dir = opendir("/sys/module");
	if (!dir)
		return -1;
	while (ns < 0 && (e = readdir(dir))) {
		snprintf(param, sizeof(param), "/sys/module/%s/parameters/name",
			 e->d_name);
		f = fopen(param, "r");
		if (!f)
			continue;
		if (fgets(name, sizeof(name), f) &&
		    !strcmp(strtok(name, "\n") ?: "", file)) {
			fclose(f);
			snprintf(param, sizeof(param),
				 "/sys/module/%s/parameters/bench_delay_ns",
				 e->d_name);
			f = fopen(param, "r");
			if (!f)
				break;
			if (fscanf(f, "%ld", &ns) != 1)
				ns = -1;
		}
		fclose(f);
	}
	closedir(dir);
	return ns;
}

/*
 * A point of an A/B run that one side could not measure is dropped from
 * both, so that what is left stays in pairs. Returns whether it is.
 */
static bool point_skipped(struct run_side *sides, size_t nr_sides, size_t i)
{
	const char *why = NULL;
	size_t k;

	for (k = 0; k < nr_sides; k++)
		if (sides[k].run->points[i].skipped)
			why = sides[k].run->points[i].skipped;
	for (k = 0; why && k < nr_sides; k++) {
		struct run_point *p = &sides[k].run->points[i];

		if (p->skipped)
			continue;
		p->skipped = strdup(why);
		if (!p->skipped)
			abort();
	}
	return why;
}

/* One repetition of point i of r, through fd, kept in its samples. */
/*
 * What gup_insn (tools/gup_benchmark/insn) takes as the start of a timed
 * call: the entry of a system call nothing else makes, here.
 */
static void insn_mark(const struct run *r, size_t i)
{
	static unsigned long nr;
	const struct run_point *p = &r->points[i];

	printf("insn-mark %lu: %s %s %lu %u %lu\n", nr++, p->method->name,
	       page_type_names[p->type], p->size, p->nr_pages_per_call,
	       p->size / r->page_size);
	fflush(stdout);
	syscall(SYS_sched_get_priority_min, SCHED_OTHER);
}

static void time_once(struct run *r, size_t i, int fd,
		      const struct bench_memory *m, bool mark)
{
	struct run_point *p = &r->points[i];
	struct bench_sample *s = &p->samples[p->nr_samples];
	int err;

	if (mark)
		insn_mark(r, i);
	err = bench_once(fd, m, p->method, r->write, p->nr_pages_per_call, s);
	if (err) {
		skip_point(p, err);
		return;
	}
	p->nr_samples++;
	if (s->nr_pages != p->size / r->page_size)
		fprintf(stderr, "warning: GUP_BENCH pinned %llu of %lu pages\n",
			(unsigned long long)s->nr_pages, p->size / r->page_size);
}

/*
 * Counted (--insn-marks), a timed call must be this task's alone: as
 * SCHED_FIFO at the top priority, cond_resched() in GUP's slow path does
 * not switch to other tasks, whose instructions the counter would give to
 * the call. The guest lifts RT throttling (sched_rt_runtime_us -1).
 */
static void insn_marks_alone(void)
{
	struct sched_param sp = {
		.sched_priority = sched_get_priority_max(SCHED_FIFO),
	};

	if (sched_setscheduler(0, SCHED_FIFO, &sp))
		fprintf(stderr,
			"# warning: SCHED_FIFO: %s: other tasks may run inside the counted calls\n",
			strerror(errno));
}

/* Fills r, and rb with the B side of an A/B run when rb is not NULL. */
static int measure(struct run *r, struct run *rb, const struct options *o,
		   const struct provenance *prov)
{
	struct run_side sides[2] = { { r, -1, -1 }, { rb, -1, -1 } };
	size_t si, ti, mi, ni, i, k, rep, nr_mems, nr_sides = rb ? 2 : 1;
	struct bench_memory *mems, **point_mem;
	long saved_delay = -1, delay_now = -1, first_delay;
	int fd, file_fd = -1, err, ret = 0;
	struct run_point *p;

	fd = bench_open();
	if (fd < 0)
		return KSFT_SKIP;
	sides[0].fd = fd;
	sides[1].fd = fd;
	if (o->ab_dev) {
		sides[1].fd = open(o->ab_dev, O_RDWR);
		if (sides[1].fd < 0) {
			perror(o->ab_dev);
			close(fd);
			return KSFT_SKIP;
		}
	}
	if (o->file_given) {
		file_fd = open(o->up.file, O_RDWR | O_CREAT, 0600);
		if (file_fd < 0) {
			perror(o->up.file);
			ret = 1;
			goto close_files;
		}
	}
	/* B by delay: A runs at --delay-ns or none, B at --ab-delay-ns. */
	if (o->ab_delay_ns >= 0) {
		sides[0].delay_ns = o->delay_ns >= 0 ? o->delay_ns : 0;
		sides[1].delay_ns = o->ab_delay_ns;
	}
	first_delay = o->ab_delay_ns >= 0 ? sides[0].delay_ns : o->delay_ns;
	if (first_delay >= 0) {
		saved_delay = bench_delay_get();
		if (use_delay(first_delay, &delay_now)) {
			ret = 1;
			goto close_files;
		}
	}
	describe_system(r, o, prov);
	if (rb) {
		describe_system(rb, o, prov);
		/* One run in two halves: the date pairs them. */
		free(rb->date);
		rb->date = r->date ? strdup(r->date) : NULL;
		if (r->date && !rb->date)
			abort();
		rb->bench_delay_ns = o->ab_dev ? dev_bench_delay(o->ab_dev) :
						 o->ab_delay_ns;
	}

	nr_mems = o->nr_sizes * o->nr_types;
	r->nr_points = nr_mems * o->nr_methods * o->nr_npcs;
	mems = calloc(nr_mems, sizeof(*mems));
	point_mem = calloc(r->nr_points, sizeof(*point_mem));
	r->points = calloc(r->nr_points, sizeof(*r->points));
	if (!mems || !point_mem || !r->points)
		abort();

	i = 0;
	for (si = 0; si < o->nr_sizes; si++) {
		for (ti = 0; ti < o->nr_types; ti++) {
			struct bench_memory *m = &mems[si * o->nr_types + ti];
			char *why = prepare_memory(m, o, o->types[ti],
						   o->sizes[si], file_fd);

			for (mi = 0; mi < o->nr_methods; mi++) {
				for (ni = 0; ni < o->nr_npcs; ni++, i++) {
					p = &r->points[i];
					p->method = o->methods[mi];
					p->type = o->types[ti];
					p->size = o->sizes[si];
					p->nr_pages_per_call = o->npcs[ni];
					p->huge_bytes = -1;
					p->skipped = why ? strdup(why) : NULL;
					point_mem[i] = m;
				}
			}
			free(why);
		}
	}
	if (rb) {
		rb->nr_points = r->nr_points;
		rb->points = calloc(rb->nr_points, sizeof(*rb->points));
		if (!rb->points)
			abort();
	}
	for (k = 0; k < nr_sides; k++) {
		for (i = 0; i < r->nr_points; i++) {
			p = &sides[k].run->points[i];
			if (k) {
				*p = r->points[i];
				p->skipped = p->skipped ? strdup(p->skipped) :
							  NULL;
				if (r->points[i].skipped && !p->skipped)
					abort();
			}
			p->warmup = calloc(o->warmup + 1, sizeof(*p->warmup));
			p->samples = calloc(o->reps, sizeof(*p->samples));
			if (!p->warmup || !p->samples)
				abort();
		}
	}

	if (rb)
		fprintf(stderr,
			"# %zu configurations, %u warm-up for A and B, %u pairs in ABBA order\n",
			r->nr_points, o->warmup, o->reps);
	else
		fprintf(stderr, "# %zu configurations, %u warm-up and %u repetitions each\n",
			r->nr_points, o->warmup, o->reps);
	if (o->insn_marks)
		insn_marks_alone();
	/* Warm up every configuration, on both sides, before timing any. */
	for (i = 0; i < r->nr_points; i++) {
		for (k = 0; k < nr_sides; k++) {
			p = &sides[k].run->points[i];
			if (!p->skipped &&
			    use_delay(sides[k].delay_ns, &delay_now)) {
				ret = 1;
				goto out;
			}
			for (rep = 0; rep < o->warmup && !p->skipped; rep++) {
				err = bench_once(sides[k].fd, point_mem[i],
						 p->method, r->write,
						 p->nr_pages_per_call,
						 &p->warmup[p->nr_warmup]);
				if (err)
					skip_point(p, err);
				else
					p->nr_warmup++;
			}
		}
		if (point_skipped(sides, nr_sides, i))
			continue;
		/* After the warm-up, which faulted the pages in under -z. */
		p = &r->points[i];
		p->huge_bytes = memory_huge_bytes(point_mem[i]);
		p->nodes_known = !numa_where(point_mem[i]->addr,
					     point_mem[i]->size, p->node_pages,
					     MAX_NODES);
		if (rb) {
			rb->points[i].huge_bytes = p->huge_bytes;
			rb->points[i].nodes_known = p->nodes_known;
			memcpy(rb->points[i].node_pages, p->node_pages,
			       sizeof(p->node_pages));
		}
	}
	/*
	 * Round robin: drift of the host or of the guest during the run then
	 * weighs on every configuration alike, and ratios between them, which
	 * the selftests check, stay fair. An A/B run times each configuration
	 * in pairs, A B in even pairs and B A in odd ones: a drift that is
	 * linear over two pairs then adds as much to A's times as to B's.
	 */
	for (rep = 0; rep < o->reps; rep++) {
		for (i = 0; i < r->nr_points; i++) {
			for (k = 0; k < nr_sides; k++) {
				struct run_side *side =
					&sides[rep % 2 ? nr_sides - 1 - k : k];

				if (point_skipped(sides, nr_sides, i))
					break;
				if (use_delay(side->delay_ns, &delay_now)) {
					ret = 1;
					goto out;
				}
				time_once(side->run, i, side->fd, point_mem[i],
					  o->insn_marks);
			}
		}
	}

out:
	if (saved_delay >= 0)
		bench_delay_set(saved_delay);
	for (i = 0; i < nr_mems; i++)
		memory_unmap(&mems[i]);
	free(mems);
	free(point_mem);
close_files:
	if (file_fd >= 0)
		close(file_fd);
	if (sides[1].fd != fd)
		close(sides[1].fd);
	close(fd);
	return ret;
}

static bool run_measured(const struct run *r)
{
	size_t i;

	for (i = 0; i < r->nr_points; i++)
		if (!r->points[i].skipped)
			return true;
	return false;
}

/*
 * Comparisons between runs of separate processes need COMPARE_THRESHOLD;
 * pairs measured side by side hold COMPARE_THRESHOLD_PAIRED.
 */
static struct compare_policy policy_for(const struct options *o, bool paired)
{
	struct compare_policy policy = o->policy;

	if (!o->threshold_given)
		policy.threshold = paired ? COMPARE_THRESHOLD_PAIRED :
					    COMPARE_THRESHOLD;
	return policy;
}

static void print_side(const char *side, const struct run *r,
		       const char *dev, FILE *f)
{
	char path[PATH_MAX];

	fprintf(f, "# %s: %s, bench_delay_ns %ld\n", side,
		dev ? dev : gup_test_path(path, sizeof(path)),
		r->bench_delay_ns);
	run_print_table(r, f);
}

/* Whether base and cur compare: provenance_comparable(), then _verdict(). */
static bool same_host(const struct run *base, const char *base_name,
		      const struct run *cur, const char *cur_name,
		      const struct options *o, FILE *f)
{
	char what[4096];

	snprintf(what, sizeof(what), "%s and %s", base_name, cur_name);
	return provenance_verdict(provenance_comparable(&base->prov, base_name,
							&cur->prov, cur_name,
							f),
				  o->allow_hosts, what, f);
}

/* An A/B run's own verdict: B against A, pair by pair. */
static int compare_sides(const struct run *a, const struct run *b,
			 const struct options *o, FILE *f)
{
	struct compare_policy policy = policy_for(o, true);
	int regressions;

	fputs("# B against A:\n", f);
	regressions = run_compare_paired(a, b, &policy, f);
	if (regressions < 0)
		return 1;
	return regressions ? EXIT_REGRESSION : 0;
}

static int ns_main(const struct options *o)
{
	/* JSON on stdout keeps stdout parseable: text moves aside. */
	FILE *text = (o->json && !strcmp(o->json, "-")) ||
		     (o->ab_json && !strcmp(o->ab_json, "-")) ? stderr : stdout;
	bool ab = !o->from && (o->ab_delay_ns >= 0 || o->ab_dev);
	struct run run, base, cand;
	struct compare_policy policy;
	struct provenance prov = { 0 };
	int ret = 0, err, regressions, ab_ret = 0;

	memset(&cand, 0, sizeof(cand));
	if (o->from) {
		if (run_read_json(&run, o->from))
			return 1;
	} else {
		/* A bad file stops the run before anything is measured. */
		if (o->provenance && provenance_read(&prov, o->provenance))
			return 1;
		provenance_observe(&prov);
		memset(&run, 0, sizeof(run));
		ret = measure(&run, ab ? &cand : NULL, o, &prov);
		provenance_free(&prov);
		if (ret) {
			run_free(&run);
			run_free(&cand);
			return ret;
		}
	}

	if (ab) {
		print_side("A", &run, NULL, text);
		print_side("B", &cand, o->ab_dev, text);
		ab_ret = compare_sides(&run, &cand, o, text);
	} else {
		run_print_table(&run, text);
	}
	if (!o->from && !run_measured(&run)) {
		/* A wrong --node, no hugetlb pages: say so in the status. */
		fprintf(stderr, "gup_benchmark: no configuration could be measured\n");
		ret = 1;
	}
	if (o->json && run_write_json(&run, o->json))
		ret = 1;
	if (ab && o->ab_json && run_write_json(&cand, o->ab_json))
		ret = 1;
	if (o->plot) {
		err = plot_svg(&run, o->plot);
		/* The guest has no gnuplot: results still count there. */
		if (err && (o->from || err != -ENOENT))
			ret = 1;
		else if (err)
			fprintf(stderr, "plot later with: gup_benchmark --from RESULTS.json --plot %s\n",
				o->plot);
	}
	if (o->compare) {
		if (run_read_json(&base, o->compare)) {
			ret = 1;
		} else if (!same_host(&base, o->compare, &run,
				      o->from ? o->from : "this run", o, text)) {
			ret = 1;
			run_free(&base);
		} else {
			policy = policy_for(o, o->paired);
			regressions = o->paired ?
				run_compare_paired(&base, &run, &policy, text) :
				run_compare(&base, &run, &policy, text);
			if (regressions < 0)
				ret = 1;
			else if (regressions && !ret)
				ret = EXIT_REGRESSION;
			run_free(&base);
		}
	}
	/* An error outranks a regression, as above. */
	if (ab_ret && (!ret || ab_ret == 1))
		ret = ab_ret;
	run_free(&run);
	run_free(&cand);
	return ret;
}

int main(int argc, char **argv)
{
	struct options o;

	if (parse_options(&o, argc, argv)) {
		fprintf(stderr, "gup_benchmark --help lists the options\n");
		return EXIT_USAGE;
	}
	if (o.nr_across)
		return kernels_main(o.across, o.nr_across, &o.policy, o.plot,
				    o.allow_hosts);
	return o.ns_mode ? ns_main(&o) : upstream_run(&o.up);
}
