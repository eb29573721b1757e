// SPDX-License-Identifier: GPL-2.0
/*
 * The cross-kernel report. Timings of one kernel differ more between boots
 * (where the guest's memory landed, what the host was doing) than between
 * repetitions of one boot, so the boot is the unit: each contributes the
 * median of its samples, and kernels are compared on those medians alone.
 * Repetitions would make a 2% boot-to-boot wobble look significant.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "kernels.h"
#include "plot.h"
#include "results.h"

#define CI_LEVEL	0.95

struct kernel {
	char *name;
	struct run *boots;
	size_t nr_boots;
	json_object *insns;	/* gup_insn/1 of a counting boot, or NULL */
};

/* A configuration of the report: all points with this point_label(). */
struct row {
	char label[128];
	const struct run_point *point;	/* the first one, for its fields */
	char extra[128];		/* the label less api, type and npc */
};

/* One configuration and metric on one kernel. */
struct cell {
	double *medians;	/* of each boot that measured it */
	size_t nr;
	bool skipped;		/* a boot has it, but skipped */
	double value;		/* the median of medians */
	double min, max;
};

struct report {
	struct kernel *kernels;
	size_t nr_kernels;
	struct row *rows;
	size_t nr_rows;
	struct cell *cells;	/* [unpin][row][kernel] */
	bool same_extra;	/* every row has one size and setting */
};

struct change {
	double change;		/* value / base value - 1 */
	bool ci;		/* lo and hi known: two boots on both sides */
	double lo, hi;		/* the interval of change */
	const char *verdict;
};

static const char *const metric_names[] = { "pin", "unpin" };

static struct cell *cell_of(const struct report *rep, bool unpin,
			    size_t row, size_t k)
{
	return &rep->cells[((size_t)unpin * rep->nr_rows + row) *
			   rep->nr_kernels + k];
}

static void kernel_free(struct kernel *k)
{
	size_t i;

	for (i = 0; i < k->nr_boots; i++)
		run_free(&k->boots[i]);
	free(k->boots);
	free(k->name);
	json_object_put(k->insns);
	memset(k, 0, sizeof(*k));
}

static int kernel_read(struct kernel *k, const char *path)
{
	const char *schema = NULL;
	json_object *root, *v, *boots;
	char where[4096];
	int err = -EINVAL;
	size_t n, i;

	memset(k, 0, sizeof(*k));
	root = json_object_from_file(path);
	if (!root) {
		fprintf(stderr, "%s: %s\n", path, json_util_get_last_err());
		return -EINVAL;
	}
	if (json_object_object_get_ex(root, "schema", &v) &&
	    json_object_is_type(v, json_type_string))
		schema = json_object_get_string(v);
	if (!schema || strcmp(schema, KERNELS_SCHEMA)) {
		fprintf(stderr, "%s: schema %s, expected %s\n", path,
			schema ? schema : "missing", KERNELS_SCHEMA);
		goto out;
	}
	if (!json_object_object_get_ex(root, "name", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    !*json_object_get_string(v)) {
		fprintf(stderr, "%s: \"name\" missing or not a string\n", path);
		goto out;
	}
	k->name = strdup(json_object_get_string(v));
	if (!json_object_object_get_ex(root, "boots", &boots) ||
	    !json_object_is_type(boots, json_type_array) ||
	    !json_object_array_length(boots)) {
		fprintf(stderr, "%s: \"boots\" missing, empty or not an array\n",
			path);
		goto out;
	}
	n = json_object_array_length(boots);
	k->boots = calloc(n, sizeof(*k->boots));
	if (!k->name || !k->boots)
		abort();
	for (i = 0; i < n; i++) {
		snprintf(where, sizeof(where), "%s boot %zu", path, i + 1);
		if (run_from_json(json_object_array_get_idx(boots, i),
				  &k->boots[i], where))
			goto out;
		k->nr_boots++;
	}
	/* Instruction counts (tools/gup_benchmark/insn/count): optional. */
	if (json_object_object_get_ex(root, "insns", &v)) {
		json_object *s, *points;

		if (!json_object_object_get_ex(v, "schema", &s) ||
		    !json_object_is_type(s, json_type_string) ||
		    strcmp(json_object_get_string(s), INSN_SCHEMA) ||
		    !json_object_object_get_ex(v, "points", &points) ||
		    !json_object_is_type(points, json_type_array)) {
			fprintf(stderr, "%s: \"insns\" is not %s\n", path,
				INSN_SCHEMA);
			goto out;
		}
		k->insns = json_object_get(v);
	}
	err = 0;
out:
	json_object_put(root);
	return err;
}

/* "64M ro" from "gup thp 64M npc=32 ro": what the columns do not say. */
static void row_extra(struct row *row)
{
	const struct run_point *p = row->point;
	const char *rest, *npc, *tail;

	rest = row->label + strlen(p->method->name) + 1 +
	       strlen(page_type_names[p->type]) + 1;
	npc = strstr(rest, " npc=");
	if (!npc) {
		snprintf(row->extra, sizeof(row->extra), "%s", rest);
		return;
	}
	tail = strchr(npc + 1, ' ');
	snprintf(row->extra, sizeof(row->extra), "%.*s%s", (int)(npc - rest),
		 rest, tail ? tail : "");
}

/* Every configuration of every boot, in the order they first appear. */
static void collect_rows(struct report *rep)
{
	size_t k, b, i, cap = 0;
	char label[128];

	for (k = 0; k < rep->nr_kernels; k++) {
		const struct kernel *kn = &rep->kernels[k];

		for (b = 0; b < kn->nr_boots; b++) {
			const struct run *r = &kn->boots[b];

			for (i = 0; i < r->nr_points; i++) {
				struct row *row;
				size_t j;

				point_label(r, &r->points[i], label,
					    sizeof(label));
				for (j = 0; j < rep->nr_rows; j++)
					if (!strcmp(rep->rows[j].label, label))
						break;
				if (j < rep->nr_rows)
					continue;
				if (rep->nr_rows == cap) {
					cap = cap ? 2 * cap : 16;
					rep->rows = realloc(rep->rows,
							    cap * sizeof(*row));
					if (!rep->rows)
						abort();
				}
				row = &rep->rows[rep->nr_rows++];
				memcpy(row->label, label, sizeof(label));
				row->point = &r->points[i];
				row_extra(row);
			}
		}
	}
	rep->same_extra = true;
	for (i = 1; i < rep->nr_rows; i++)
		if (strcmp(rep->rows[i].extra, rep->rows[0].extra))
			rep->same_extra = false;
}

static void fill_cell(const struct kernel *k, const char *label, bool unpin,
		      struct cell *c)
{
	double *v = NULL;
	struct summary s;
	size_t b;

	c->medians = calloc(k->nr_boots, sizeof(*c->medians));
	if (!c->medians)
		abort();
	for (b = 0; b < k->nr_boots; b++) {
		const struct run_point *p = run_find_point(&k->boots[b], label);

		if (!p)
			continue;
		if (p->skipped) {
			c->skipped = true;
			continue;
		}
		if (!p->nr_samples)
			continue;
		v = realloc(v, p->nr_samples * sizeof(*v));
		if (!v)
			abort();
		summarize(v, point_ns_per_page(p, unpin, v), &s);
		c->medians[c->nr++] = s.median;
	}
	free(v);
	summarize(c->medians, c->nr, &s);
	c->value = s.median;
	c->min = s.min;
	c->max = s.min;
	for (b = 0; b < c->nr; b++)
		if (c->medians[b] > c->max)
			c->max = c->medians[b];
}

static void fill_cells(struct report *rep)
{
	size_t row, k;
	int unpin;

	rep->cells = calloc(2 * rep->nr_rows * rep->nr_kernels + 1,
			    sizeof(*rep->cells));
	if (!rep->cells)
		abort();
	for (unpin = 0; unpin < 2; unpin++)
		for (row = 0; row < rep->nr_rows; row++)
			for (k = 0; k < rep->nr_kernels; k++)
				fill_cell(&rep->kernels[k],
					  rep->rows[row].label, unpin,
					  cell_of(rep, unpin, row, k));
}

static void report_free(struct report *rep)
{
	size_t i;

	if (rep->cells)
		for (i = 0; i < 2 * rep->nr_rows * rep->nr_kernels; i++)
			free(rep->cells[i].medians);
	free(rep->cells);
	free(rep->rows);
	for (i = 0; i < rep->nr_kernels; i++)
		kernel_free(&rep->kernels[i]);
	free(rep->kernels);
}

/* max / min - 1 of the boot medians; NAN with fewer than two. */
static double boot_spread(const struct cell *c)
{
	return c->nr >= 2 && c->min > 0 ? c->max / c->min - 1 : NAN;
}

/* False when either side has no value to compare. */
static bool compare_cells(const struct cell *base, const struct cell *cur,
			  const struct compare_policy *policy,
			  struct change *ch)
{
	double t = policy->threshold;

	if (!base->nr || !cur->nr || !(base->value > 0))
		return false;
	ch->change = cur->value / base->value - 1;
	ch->ci = !welch_ratio_interval(base->medians, base->nr, cur->medians,
				       cur->nr, CI_LEVEL, &ch->lo, &ch->hi);
	if (!ch->ci) {
		ch->verdict = "n/a";
		return true;
	}
	ch->lo -= 1;
	ch->hi -= 1;
	if (ch->lo > 0 && ch->change > t)
		ch->verdict = verdict_name(VERDICT_SLOWER);
	else if (ch->hi < 0 && ch->change < -t)
		ch->verdict = verdict_name(VERDICT_FASTER);
	else
		ch->verdict = verdict_name(VERDICT_SAME);
	return true;
}

/* A percentage with one decimal, never "-0.0%". */
static const char *percent(char *buf, size_t len, double x, bool sign)
{
	x = round(x * 1000) / 10;
	if (x == 0)
		x = 0;
	snprintf(buf, len, sign ? "%+.1f%%" : "%.1f%%", x);
	return buf;
}

/* Markdown tables, padded so that they also read well as plain text. */
struct table {
	size_t nr_cols, nr_cells;
	char **cells;		/* row by row, the header first */
	bool *right;		/* per column: numbers, aligned right */
};

static void table_init(struct table *t, size_t nr_cols)
{
	memset(t, 0, sizeof(*t));
	t->nr_cols = nr_cols;
	t->right = calloc(nr_cols, sizeof(*t->right));
	if (!t->right)
		abort();
}

/* Takes over cell, a string from malloc(). */
static void table_push(struct table *t, char *cell)
{
	t->cells = realloc(t->cells, (t->nr_cells + 1) * sizeof(*t->cells));
	if (!t->cells)
		abort();
	t->cells[t->nr_cells++] = cell;
}

/* A macro, so that the compiler checks the format as asprintf()'s. */
#define table_add(t, ...)					\
	do {							\
		char *cell_;					\
								\
		if (asprintf(&cell_, __VA_ARGS__) < 0)		\
			abort();				\
		table_push(t, cell_);				\
	} while (0)

static void table_print(struct table *t, FILE *f)
{
	size_t *width = calloc(t->nr_cols, sizeof(*width)), i, j, c;

	if (!width)
		abort();
	for (i = 0; i < t->nr_cells; i++) {
		c = i % t->nr_cols;
		if (strlen(t->cells[i]) > width[c])
			width[c] = strlen(t->cells[i]);
	}
	for (i = 0; i < t->nr_cells; i++) {
		c = i % t->nr_cols;
		fprintf(f, "| %*s ",
			t->right[c] ? (int)width[c] : -(int)width[c],
			t->cells[i]);
		if (c < t->nr_cols - 1)
			continue;
		fputs("|\n", f);
		if (i != c)
			continue;
		/* Below the header: the column alignments. */
		for (c = 0; c < t->nr_cols; c++) {
			fputc('|', f);
			for (j = 0; j <= width[c]; j++)
				fputc('-', f);
			fputc(t->right[c] ? ':' : '-', f);
		}
		fputs("|\n", f);
	}
	for (i = 0; i < t->nr_cells; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->right);
	free(width);
}

static void kernel_cell_text(const struct kernel *k, const struct cell *c,
			     char *buf, size_t len)
{
	char spread[16];

	if (!c->nr)
		snprintf(buf, len, "%s", c->skipped ? "skipped" : "-");
	else if (c->nr == 1)
		snprintf(buf, len, "%.1f (1 boot)", c->value);
	else if (c->nr < k->nr_boots)
		snprintf(buf, len, "%.1f (%s, %zu boots)", c->value,
			 percent(spread, sizeof(spread), boot_spread(c), false),
			 c->nr);
	else
		snprintf(buf, len, "%.1f (%s)", c->value,
			 percent(spread, sizeof(spread), boot_spread(c), false));
}

/* Prints one metric's table; returns how many of its changes are SLOWER. */
/* The columns every table of the report starts with: api, type, npc. */
static void table_add_head(struct table *t)
{
	table_add(t, "api");
	table_add(t, "type");
	table_add(t, "npc");
	t->right[2] = true;
}

static void table_add_row_head(struct table *t, const struct report *rep,
			       const struct row *r)
{
	table_add(t, "%s", r->point->method->name);
	table_add(t, "%s%s%s", page_type_names[r->point->type],
		  rep->same_extra ? "" : " ", rep->same_extra ? "" : r->extra);
	table_add(t, "%u", r->point->nr_pages_per_call);
}

static size_t print_metric(const struct report *rep, bool unpin,
			   const struct compare_policy *policy, FILE *f)
{
	char text[96], lo[16], hi[16], change[16];
	size_t row, k, slower = 0;
	struct table t;

	table_init(&t, 4 + 3 * (rep->nr_kernels - 1));
	table_add_head(&t);
	for (k = 0; k < rep->nr_kernels; k++) {
		table_add(&t, "%s ns/page (%s)", rep->kernels[k].name,
			  k ? "spread" : "boot spread");
		t.right[k ? 3 * k + 1 : 3] = true;
		if (!k)
			continue;
		table_add(&t, "change [%g%% CI]", 100 * CI_LEVEL);
		table_add(&t, "verdict");
		t.right[3 * k + 2] = true;
	}
	for (row = 0; row < rep->nr_rows; row++) {
		const struct row *r = &rep->rows[row];
		const struct cell *base = cell_of(rep, unpin, row, 0);

		table_add_row_head(&t, rep, r);
		for (k = 0; k < rep->nr_kernels; k++) {
			const struct cell *c = cell_of(rep, unpin, row, k);
			struct change ch;

			kernel_cell_text(&rep->kernels[k], c, text,
					 sizeof(text));
			table_add(&t, "%s", text);
			if (!k)
				continue;
			if (!compare_cells(base, c, policy, &ch)) {
				table_add(&t, "-");
				table_add(&t, "-");
				continue;
			}
			percent(change, sizeof(change), ch.change, true);
			if (ch.ci)
				table_add(&t, "%s [%s, %s]", change,
					  percent(lo, sizeof(lo), ch.lo, true),
					  percent(hi, sizeof(hi), ch.hi, true));
			else
				table_add(&t, "%s [n/a]", change);
			table_add(&t, "%s", ch.verdict);
			slower += !strcmp(ch.verdict,
					  verdict_name(VERDICT_SLOWER));
		}
	}
	fprintf(f, "\n### %s ns/page\n\n", metric_names[unpin]);
	table_print(&t, f);
	return slower;
}

/*
 * A point's instructions per page in k's counting boot: false if it has
 * none or did not count that point.
 */
static bool insns_of(const struct kernel *k, const struct run_point *p,
		     bool unpin, double *out)
{
	json_object *points, *pt, *v, *side;
	size_t i, n;

	if (!k->insns || !json_object_object_get_ex(k->insns, "points", &points))
		return false;
	n = json_object_array_length(points);
	for (i = 0; i < n; i++) {
		pt = json_object_array_get_idx(points, i);
		if (!json_object_object_get_ex(pt, "api", &v) ||
		    strcmp(json_object_get_string(v), p->method->name) ||
		    !json_object_object_get_ex(pt, "type", &v) ||
		    strcmp(json_object_get_string(v),
			   page_type_names[p->type]) ||
		    !json_object_object_get_ex(pt, "size", &v) ||
		    (unsigned long)json_object_get_int64(v) != p->size ||
		    !json_object_object_get_ex(pt, "npc", &v) ||
		    json_object_get_int64(v) != (int64_t)p->nr_pages_per_call)
			continue;
		if (!json_object_object_get_ex(pt, metric_names[unpin], &side) ||
		    !json_object_object_get_ex(side, "insns_per_page", &v) ||
		    !json_object_is_type(v, json_type_double))
			return false;
		*out = json_object_get_double(v);
		return true;
	}
	return false;
}

/*
 * Beside the times, when every kernel was counted: the exact instructions
 * per page of the same points, and each kernel's difference from the
 * first's.
 */
static void print_insns(const struct report *rep, FILE *f)
{
	size_t row, k, side;
	struct table t;
	double v, base;

	for (k = 0; k < rep->nr_kernels; k++)
		if (!rep->kernels[k].insns)
			return;
	table_init(&t, 3 + 2 * (2 * rep->nr_kernels - 1));
	table_add_head(&t);
	for (side = 0; side < 2; side++)
		for (k = 0; k < rep->nr_kernels; k++) {
			t.right[t.nr_cells] = true;
			table_add(&t, "%s %s", rep->kernels[k].name,
				  side ? "release" : "pin");
			if (!k)
				continue;
			t.right[t.nr_cells] = true;
			table_add(&t, "change");
		}
	for (row = 0; row < rep->nr_rows; row++) {
		const struct row *r = &rep->rows[row];

		table_add_row_head(&t, rep, r);
		for (side = 0; side < 2; side++) {
			bool have_base = insns_of(&rep->kernels[0], r->point,
						  side, &base);

			for (k = 0; k < rep->nr_kernels; k++) {
				bool have = insns_of(&rep->kernels[k],
						     r->point, side, &v);

				if (have)
					table_add(&t, "%.1f", v);
				else
					table_add(&t, "-");
				if (!k)
					continue;
				if (have && have_base)
					table_add(&t, "%+.1f", v - base);
				else
					table_add(&t, "-");
			}
		}
	}
	fprintf(f, "\n### Instructions per page\n\n");
	fprintf(f,
		"Exact, from one counting boot of each kernel (tools/gup_benchmark/insn): the kernel's instructions in the same timed regions; change: against %s.\n\n",
		rep->kernels[0].name);
	table_print(&t, f);
}

/* Per kernel, how far its boots stray from each other over all rows. */
static void print_boot_to_boot(const struct report *rep, FILE *f)
{
	double *spreads = calloc(2 * rep->nr_rows + 1, sizeof(*spreads));
	char median[16], max[16];
	struct summary s;
	struct table t;
	size_t k, row, n, worst_row;
	int unpin, worst_unpin;

	if (!spreads)
		abort();
	table_init(&t, 6);
	table_add(&t, "kernel");
	table_add(&t, "boots");
	table_add(&t, "rows");
	table_add(&t, "median spread");
	table_add(&t, "max spread");
	table_add(&t, "row with the max");
	for (k = 1; k <= 4; k++)
		t.right[k] = true;
	for (k = 0; k < rep->nr_kernels; k++) {
		double worst = -1;

		n = 0;
		worst_row = 0;
		worst_unpin = 0;
		for (unpin = 0; unpin < 2; unpin++) {
			for (row = 0; row < rep->nr_rows; row++) {
				double sp = boot_spread(cell_of(rep, unpin,
								row, k));

				if (isnan(sp))
					continue;
				spreads[n++] = sp;
				if (sp > worst) {
					worst = sp;
					worst_row = row;
					worst_unpin = unpin;
				}
			}
		}
		table_add(&t, "%s", rep->kernels[k].name);
		table_add(&t, "%zu", rep->kernels[k].nr_boots);
		table_add(&t, "%zu", n);
		if (!n) {
			table_add(&t, "n/a");
			table_add(&t, "n/a");
			table_add(&t, "-");
			continue;
		}
		summarize(spreads, n, &s);
		table_add(&t, "%s", percent(median, sizeof(median), s.median,
					    false));
		table_add(&t, "%s", percent(max, sizeof(max), worst, false));
		table_add(&t, "%s %s", metric_names[worst_unpin],
			  rep->rows[worst_row].label);
	}
	fprintf(f, "\n### Boot to boot\n\n");
	fprintf(f,
		"Spread (max / min - 1 of the boot medians) over the rows of both tables that two boots or more measured.\n\n");
	table_print(&t, f);
	free(spreads);
}

static const char *release_of(const struct run *r)
{
	return r->release ? r->release : "?";
}

/* A fact of k's first boot, or "?". */
static const char *fact(const struct kernel *k, const char *key)
{
	const char *v = provenance_get(&k->boots[0].prov, key);

	return v ? v : "?";
}

/*
 * What built and measured k, from its boots' provenance: the first boot's,
 * and the facts in which any other boot differs from it.
 */
static void print_kernel_provenance(const struct kernel *k, FILE *f)
{
	static const char *const keys[] = {
		"kernel_source", "kernel_config_sha256",
		"config_fragments_sha256", "compiler", "repo_commit",
		"repo_dirty", "qemu", "accel", "host_cpu", "host_cpus",
		"guest_vcpus", "guest_memory_mib",
	};
	const char *v, *first;
	size_t b, i;

	if (!k->boots[0].prov.nr)
		return;
	fprintf(f, "  - built: %s, %s; .config sha256 %.12s, fragments %.12s\n",
		fact(k, "kernel_source"), fact(k, "compiler"),
		fact(k, "kernel_config_sha256"),
		fact(k, "config_fragments_sha256"));
	fprintf(f,
		"  - measured: %s on %s (%s CPUs), %s, guest %s vCPUs and %s MiB; gup_pin %.12s%s\n",
		fact(k, "accel"), fact(k, "host_cpu"), fact(k, "host_cpus"),
		fact(k, "qemu"), fact(k, "guest_vcpus"),
		fact(k, "guest_memory_mib"), fact(k, "repo_commit"),
		!strcmp(fact(k, "repo_dirty"), "no") ? "" : " (dirty tree)");
	for (b = 1; b < k->nr_boots; b++) {
		for (i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
			v = provenance_get(&k->boots[b].prov, keys[i]);
			first = provenance_get(&k->boots[0].prov, keys[i]);
			if ((v || first) && (!v || !first || strcmp(v, first)))
				fprintf(f, "  - boot %zu differs: %s %s\n", b + 1,
					keys[i], v ? v : "?");
		}
	}
}

static void print_kernel_line(const struct kernel *k, FILE *f)
{
	const char *first = NULL, *last = NULL;
	size_t b, c;

	fprintf(f, "- %s:", k->name);
	/* Each release once: a kernel's boots normally share one. */
	for (b = 0; b < k->nr_boots; b++) {
		const char *rel = release_of(&k->boots[b]);

		for (c = 0; c < b; c++)
			if (!strcmp(release_of(&k->boots[c]), rel))
				break;
		if (c == b)
			fprintf(f, "%s %s", b ? "," : "", rel);
	}
	for (b = 0; b < k->nr_boots; b++) {
		const char *d = k->boots[b].date;

		if (!d)
			continue;
		if (!first || strcmp(d, first) < 0)
			first = d;
		if (!last || strcmp(d, last) > 0)
			last = d;
	}
	fprintf(f, "; %zu boot%s", k->nr_boots, k->nr_boots == 1 ? "" : "s");
	if (first && strcmp(first, last))
		fprintf(f, ", %s to %s", first, last);
	else if (first)
		fprintf(f, ", %s", first);
	fputc('\n', f);
	print_kernel_provenance(k, f);
}

/* Prints the report; returns how many changes are SLOWER. */
static size_t print_report(const struct report *rep,
			   const struct compare_policy *policy, FILE *f)
{
	char threshold[16];
	size_t k, slower;

	fprintf(f, "## gup_benchmark across kernels\n\n");
	for (k = 0; k < rep->nr_kernels; k++)
		print_kernel_line(&rep->kernels[k], f);
	fprintf(f,
		"\nns/page: the median over boots of each boot's median; (spread): max / min - 1 of the boot medians. change: against %s, with Welch's %g%% interval on the logs of the boot medians (n/a: fewer than two boots). verdict: SLOWER or faster when the interval excludes 0 and the change exceeds %s.\n",
		rep->kernels[0].name, 100 * CI_LEVEL,
		percent(threshold, sizeof(threshold), policy->threshold,
			false));
	if (rep->same_extra && rep->nr_rows)
		fprintf(f, "Every row: %s.\n", rep->rows[0].extra);
	slower = print_metric(rep, false, policy, f);
	slower += print_metric(rep, true, policy, f);
	print_insns(rep, f);
	print_boot_to_boot(rep, f);
	return slower;
}

/* Plot. */

/* A gnuplot string in single quotes, in which '' stands for '. */
static void gp_string(FILE *g, const char *s)
{
	fputc('\'', g);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', g);
		fputc(*s == '\n' ? ' ' : *s, g);
	}
	fputc('\'', g);
}

static bool same_series(const struct row *a, const struct row *b)
{
	return a->point->method == b->point->method &&
	       a->point->type == b->point->type &&
	       !strcmp(a->extra, b->extra);
}

/* Emits one series' points, by pages per call; returns how many. */
static size_t emit_series(const struct report *rep, bool unpin, size_t head,
			  size_t k, FILE *g)
{
	unsigned int npc, last = 0;
	size_t row, n = 0;

	/* Smallest npc above the last one, until there is none. */
	for (;;) {
		const struct cell *c = NULL;

		npc = 0;
		for (row = head; row < rep->nr_rows; row++) {
			const struct row *r = &rep->rows[row];
			unsigned int v = r->point->nr_pages_per_call;

			if (!same_series(&rep->rows[head], r) || v <= last ||
			    (npc && v >= npc) ||
			    !cell_of(rep, unpin, row, k)->nr)
				continue;
			npc = v;
			c = cell_of(rep, unpin, row, k);
		}
		if (!npc)
			break;
		fprintf(g, "%u %g %g %g\n", npc, c->value, c->min, c->max);
		last = npc;
		n++;
	}
	return n;
}

static bool series_head(const struct report *rep, size_t row)
{
	size_t r;

	for (r = 0; r < row; r++)
		if (same_series(&rep->rows[r], &rep->rows[row]))
			return false;
	return true;
}

static void emit_panel(const struct report *rep, bool unpin,
		       enum page_type type, FILE *g)
{
	size_t *heads = calloc(rep->nr_rows * rep->nr_kernels + 1,
			       sizeof(*heads));
	size_t *kernel_of = calloc(rep->nr_rows * rep->nr_kernels + 1,
				   sizeof(*kernel_of));
	unsigned int lo = 0, hi = 0, npc;
	size_t k, row, n = 0, i;
	char title[256];

	if (!heads || !kernel_of)
		abort();
	/* gnuplot cannot autoscale a single npc: a factor of 2 around. */
	for (row = 0; row < rep->nr_rows; row++) {
		if (rep->rows[row].point->type != type)
			continue;
		npc = rep->rows[row].point->nr_pages_per_call;
		lo = !lo || npc < lo ? npc : lo;
		hi = npc > hi ? npc : hi;
	}
	fprintf(g, "set xrange [%g:%g]\n", lo / 2.0, hi * 2.0);
	fprintf(g, "$%s_%s << EOD\n", metric_names[unpin],
		page_type_names[type]);
	for (k = 0; k < rep->nr_kernels; k++) {
		for (row = 0; row < rep->nr_rows; row++) {
			if (rep->rows[row].point->type != type ||
			    !series_head(rep, row) ||
			    !emit_series(rep, unpin, row, k, g))
				continue;
			/* Two blank lines end a data set that "index" picks. */
			fprintf(g, "\n\n");
			heads[n] = row;
			kernel_of[n++] = k;
		}
	}
	fprintf(g, "EOD\n");
	fprintf(g, "set title '%s, %s' noenhanced\n", metric_names[unpin],
		page_type_names[type]);
	for (i = 0; i < n; i++) {
		const struct row *r = &rep->rows[heads[i]];
		int api = r->point->method - pin_methods;

		snprintf(title, sizeof(title), "%s %s%s%s",
			 rep->kernels[kernel_of[i]].name, r->point->method->name,
			 rep->same_extra ? "" : " ",
			 rep->same_extra ? "" : r->extra);
		/* Colour says the kernel, point and dash say the api. */
		fprintf(g,
			"%s$%s_%s index %zu using 1:2:3:4 with yerrorlines lc %zu pt %d dt %d title ",
			i ? ", \\\n     " : "plot ", metric_names[unpin],
			page_type_names[type], i, kernel_of[i] + 1,
			4 + 2 * api, 1 + api % 5);
		gp_string(g, title);
	}
	fprintf(g, "\n");
	free(heads);
	free(kernel_of);
}

static int plot_report(const struct report *rep, const char *path)
{
	bool present[PAGE_TYPE_NR] = { false };
	int type, nr_types = 0, err;
	size_t row, k;
	FILE *g;

	for (row = 0; row < rep->nr_rows; row++)
		for (k = 0; k < rep->nr_kernels; k++)
			if (cell_of(rep, false, row, k)->nr)
				present[rep->rows[row].point->type] = true;
	for (type = 0; type < PAGE_TYPE_NR; type++)
		nr_types += present[type];
	if (!nr_types) {
		fprintf(stderr, "%s: nothing measured to plot\n", path);
		return -EINVAL;
	}
	err = plot_open(&g, path, 150 + 450 * nr_types, 1000);
	if (err)
		return err;
	fprintf(g,
		"set multiplot layout 2,%d title 'gup_benchmark across kernels: ns per page, median of the boot medians, bars from the lowest to the highest boot median' noenhanced\n",
		nr_types);
	fprintf(g, "set logscale xy 2\nset xlabel 'pages per call'\n");
	fprintf(g, "set ylabel 'ns per page'\nset grid\n");
	fprintf(g, "set key below font ',8' noenhanced\n");
	fprintf(g, "set offsets 0, 0, graph 0.05, graph 0.05\n");
	for (k = 0; k < 2; k++)
		for (type = 0; type < PAGE_TYPE_NR; type++)
			if (present[type])
				emit_panel(rep, k, type, g);
	fprintf(g, "unset multiplot\n");
	return plot_close(g, path);
}

static bool any_provenance(const struct report *rep)
{
	size_t k, b;

	for (k = 0; k < rep->nr_kernels; k++)
		for (b = 0; b < rep->kernels[k].nr_boots; b++)
			if (rep->kernels[k].boots[b].prov.nr)
				return true;
	return false;
}

/*
 * Whether every boot of every kernel was measured as the first kernel's
 * first boot was: kernels are told apart by their timings alone.
 */
static bool same_hosts(const struct report *rep, char *const *paths,
		       bool allow_hosts)
{
	const struct run *first = &rep->kernels[0].boots[0];
	char name[4096], first_name[4096];
	bool same = true;
	size_t k, b;

	if (!any_provenance(rep)) {
		fprintf(stderr,
			"# warning: no boot says what measured it: cannot tell whether they compare\n");
		return true;
	}
	snprintf(first_name, sizeof(first_name), "%s boot 1", paths[0]);
	for (k = 0; k < rep->nr_kernels; k++) {
		for (b = 0; b < rep->kernels[k].nr_boots; b++) {
			if (!k && !b)
				continue;
			snprintf(name, sizeof(name), "%s boot %zu", paths[k],
				 b + 1);
			if (!provenance_comparable(&first->prov, first_name,
						   &rep->kernels[k].boots[b].prov,
						   name, stderr))
				same = false;
		}
	}
	return provenance_verdict(same, allow_hosts, "the boots", stderr);
}

int kernels_main(char *const *paths, size_t nr,
		 const struct compare_policy *policy, const char *plot,
		 bool allow_hosts)
{
	struct report rep = { 0 };
	size_t i, slower;
	int ret = 0;

	rep.kernels = calloc(nr, sizeof(*rep.kernels));
	if (!rep.kernels)
		abort();
	for (i = 0; i < nr; i++) {
		rep.nr_kernels++;
		if (kernel_read(&rep.kernels[i], paths[i])) {
			ret = 1;
			goto out;
		}
	}
	if (!same_hosts(&rep, paths, allow_hosts)) {
		ret = 1;
		goto out;
	}
	collect_rows(&rep);
	if (!rep.nr_rows) {
		fprintf(stderr, "%s: no configurations to compare\n", paths[0]);
		ret = 1;
		goto out;
	}
	fill_cells(&rep);
	slower = print_report(&rep, policy, stdout);
	if (fflush(stdout))
		ret = 1;
	if (plot && plot_report(&rep, plot))
		ret = 1;
	if (!ret && slower) {
		fprintf(stderr, "%zu change%s SLOWER than %s\n", slower,
			slower == 1 ? "" : "s", rep.kernels[0].name);
		ret = 3;
	}
out:
	report_free(&rep);
	return ret;
}
