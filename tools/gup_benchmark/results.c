// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "results.h"

static void format_size(unsigned long size, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	int u = -1;

	while (size && !(size & 1023) && u < 3) {
		size >>= 10;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%lu", size);
	else
		snprintf(buf, len, "%lu%c", size, units[u]);
}

void point_label(const struct run *r, const struct run_point *p,
		 char *buf, size_t len)
{
	char size[32];
	int n;

	format_size(p->size, size, sizeof(size));
	n = snprintf(buf, len, "%s %s %s npc=%u", p->method->name,
		     page_type_names[p->type], size, p->nr_pages_per_call);
	if (!r->write && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, " ro");
	if (r->shared && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, " shared");
	if (r->file && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, " file=%s", r->file);
	if (r->node >= 0 && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - n, " node=%d", r->node);
}

size_t point_ns_per_page(const struct run_point *p, bool unpin, double *out)
{
	size_t i;

	for (i = 0; i < p->nr_samples; i++)
		out[i] = unpin ? sample_unpin_ns_per_page(&p->samples[i]) :
				 sample_pin_ns_per_page(&p->samples[i]);
	return p->nr_samples;
}

/* Writing. */

static json_object *json_str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *samples_to_json(const struct bench_sample *s, size_t n)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "pin_ns",
				       json_object_new_uint64(s[i].pin_ns));
		json_object_object_add(o, "unpin_ns",
				       json_object_new_uint64(s[i].unpin_ns));
		json_object_object_add(o, "nr_pages",
				       json_object_new_uint64(s[i].nr_pages));
		json_object_object_add(o, "nr_calls",
				       json_object_new_uint64(s[i].nr_calls));
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *summary_to_json(const struct run_point *p, bool unpin)
{
	double *v = malloc((p->nr_samples + 1) * sizeof(*v));
	json_object *o = json_object_new_object();
	struct summary s;

	if (!v)
		abort();
	summarize(v, point_ns_per_page(p, unpin, v), &s);
	free(v);
	json_object_object_add(o, "median", json_object_new_double(s.median));
	json_object_object_add(o, "min", json_object_new_double(s.min));
	json_object_object_add(o, "p90", json_object_new_double(s.p90));
	json_object_object_add(o, "spread", json_object_new_double(s.spread));
	return o;
}

static json_object *point_to_json(const struct run_point *p)
{
	json_object *o = json_object_new_object();
	int node;

	json_object_object_add(o, "api", json_object_new_string(p->method->name));
	json_object_object_add(o, "type",
			       json_object_new_string(page_type_names[p->type]));
	json_object_object_add(o, "size", json_object_new_uint64(p->size));
	json_object_object_add(o, "nr_pages_per_call",
			       json_object_new_int(p->nr_pages_per_call));
	if (p->skipped) {
		json_object_object_add(o, "skipped",
				       json_object_new_string(p->skipped));
		return o;
	}
	json_object_object_add(o, "huge_bytes",
			       json_object_new_int64(p->huge_bytes));
	if (p->nodes_known) {
		json_object *nodes = json_object_new_object();
		char name[16];

		for (node = 0; node < MAX_NODES; node++) {
			long n = p->node_pages[node];

			if (!n)
				continue;
			snprintf(name, sizeof(name), "%d", node);
			json_object_object_add(nodes, name,
					       json_object_new_int64(n));
		}
		json_object_object_add(o, "node_pages", nodes);
	}
	json_object_object_add(o, "warmup",
			       samples_to_json(p->warmup, p->nr_warmup));
	json_object_object_add(o, "samples",
			       samples_to_json(p->samples, p->nr_samples));
	json_object_object_add(o, "pin_ns_per_page", summary_to_json(p, false));
	json_object_object_add(o, "unpin_ns_per_page", summary_to_json(p, true));
	return o;
}

int run_write_json(const struct run *r, const char *path)
{
	json_object *root = json_object_new_object();
	json_object *kernel = json_object_new_object();
	json_object *params = json_object_new_object();
	json_object *points = json_object_new_array();
	const int flags = JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			  JSON_C_TO_STRING_NOSLASHESCAPE;
	size_t i;
	int err = 0;
	FILE *f;

	json_object_object_add(root, "schema",
			       json_object_new_string(RESULTS_SCHEMA));
	json_object_object_add(kernel, "sysname", json_str_or_null(r->sysname));
	json_object_object_add(kernel, "release", json_str_or_null(r->release));
	json_object_object_add(kernel, "version", json_str_or_null(r->version));
	json_object_object_add(kernel, "machine", json_str_or_null(r->machine));
	json_object_object_add(root, "kernel", kernel);
	json_object_object_add(root, "date", json_str_or_null(r->date));
	if (r->prov.nr)
		json_object_object_add(root, "provenance",
				       provenance_to_json(&r->prov));

	json_object_object_add(params, "reps", json_object_new_int(r->reps));
	json_object_object_add(params, "warmup", json_object_new_int(r->warmup));
	json_object_object_add(params, "write", json_object_new_boolean(r->write));
	json_object_object_add(params, "shared",
			       json_object_new_boolean(r->shared));
	json_object_object_add(params, "file", json_str_or_null(r->file));
	json_object_object_add(params, "prefault",
			       json_object_new_boolean(r->prefault));
	json_object_object_add(params, "node", json_object_new_int(r->node));
	json_object_object_add(params, "bench_delay_ns",
			       json_object_new_int64(r->bench_delay_ns));
	json_object_object_add(params, "page_size",
			       json_object_new_uint64(r->page_size));
	json_object_object_add(params, "huge_page_size",
			       json_object_new_uint64(r->huge_page_size));
	json_object_object_add(root, "parameters", params);

	for (i = 0; i < r->nr_points; i++)
		json_object_array_add(points, point_to_json(&r->points[i]));
	json_object_object_add(root, "results", points);

	/* Ends in a newline, which json_object_to_file() leaves out. */
	f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	if (!f) {
		err = -errno;
	} else {
		if (fprintf(f, "%s\n",
			    json_object_to_json_string_ext(root, flags)) < 0)
			err = -EIO;
		if ((f == stdout ? fflush(f) : fclose(f)) && !err)
			err = -EIO;
	}
	if (err)
		fprintf(stderr, "%s: %s\n", path, strerror(-err));
	json_object_put(root);
	return err;
}

/* Reading. */

static int member(json_object *o, const char *key, json_type type,
		  json_object **out, const char *path)
{
	if (json_object_object_get_ex(o, key, out) &&
	    (json_object_is_type(*out, type) ||
	     (type == json_type_double && json_object_is_type(*out, json_type_int))))
		return 0;
	fprintf(stderr, "%s: \"%s\" missing or not a %s\n", path, key,
		json_type_to_name(type));
	return -EINVAL;
}

static char *optional_string(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return strdup(json_object_get_string(v));
}

static int samples_from_json(json_object *a, struct bench_sample **out,
			     size_t *nr, const char *path)
{
	size_t n = json_object_array_length(a), i;
	struct bench_sample *s = calloc(n + 1, sizeof(*s));
	json_object *o, *v;

	if (!s)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		o = json_object_array_get_idx(a, i);
		if (member(o, "pin_ns", json_type_int, &v, path))
			goto bad;
		s[i].pin_ns = json_object_get_uint64(v);
		if (member(o, "unpin_ns", json_type_int, &v, path))
			goto bad;
		s[i].unpin_ns = json_object_get_uint64(v);
		if (member(o, "nr_pages", json_type_int, &v, path))
			goto bad;
		s[i].nr_pages = json_object_get_uint64(v);
		if (member(o, "nr_calls", json_type_int, &v, path))
			goto bad;
		s[i].nr_calls = json_object_get_uint64(v);
	}
	*out = s;
	*nr = n;
	return 0;
bad:
	free(s);
	return -EINVAL;
}

static int point_from_json(json_object *o, struct run_point *p,
			   const char *path)
{
	json_object *v, *nodes;
	int type;

	memset(p, 0, sizeof(*p));
	p->huge_bytes = -1;
	if (member(o, "api", json_type_string, &v, path))
		return -EINVAL;
	p->method = pin_method_by_name(json_object_get_string(v));
	if (member(o, "type", json_type_string, &v, path))
		return -EINVAL;
	type = page_type_by_name(json_object_get_string(v));
	if (!p->method || type < 0) {
		fprintf(stderr, "%s: unknown api or page type\n", path);
		return -EINVAL;
	}
	p->type = type;
	if (member(o, "size", json_type_int, &v, path))
		return -EINVAL;
	p->size = json_object_get_uint64(v);
	if (member(o, "nr_pages_per_call", json_type_int, &v, path))
		return -EINVAL;
	p->nr_pages_per_call = json_object_get_int(v);
	p->skipped = optional_string(o, "skipped");
	if (p->skipped)
		return 0;
	if (json_object_object_get_ex(o, "huge_bytes", &v))
		p->huge_bytes = json_object_get_int64(v);
	if (json_object_object_get_ex(o, "node_pages", &nodes)) {
		p->nodes_known = true;
		json_object_object_foreach(nodes, key, count) {
			int node = atoi(key);

			if (node >= 0 && node < MAX_NODES)
				p->node_pages[node] = json_object_get_int64(count);
		}
	}
	if (member(o, "warmup", json_type_array, &v, path) ||
	    samples_from_json(v, &p->warmup, &p->nr_warmup, path))
		return -EINVAL;
	if (member(o, "samples", json_type_array, &v, path) ||
	    samples_from_json(v, &p->samples, &p->nr_samples, path))
		return -EINVAL;
	return 0;
}

int run_from_json(json_object *root, struct run *r, const char *path)
{
	json_object *kernel, *params, *points, *v;
	int err = -EINVAL;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (member(root, "schema", json_type_string, &v, path))
		goto out;
	if (strcmp(json_object_get_string(v), RESULTS_SCHEMA)) {
		fprintf(stderr, "%s: schema %s, expected %s\n", path,
			json_object_get_string(v), RESULTS_SCHEMA);
		goto out;
	}
	if (member(root, "kernel", json_type_object, &kernel, path) ||
	    member(root, "parameters", json_type_object, &params, path) ||
	    member(root, "results", json_type_array, &points, path))
		goto out;
	r->sysname = optional_string(kernel, "sysname");
	r->release = optional_string(kernel, "release");
	r->version = optional_string(kernel, "version");
	r->machine = optional_string(kernel, "machine");
	r->date = optional_string(root, "date");
	/* Runs written before it was recorded have none. */
	if (json_object_object_get_ex(root, "provenance", &v) &&
	    provenance_from_json(v, &r->prov, path))
		goto out;
	r->file = optional_string(params, "file");

	if (member(params, "reps", json_type_int, &v, path))
		goto out;
	r->reps = json_object_get_int(v);
	if (member(params, "warmup", json_type_int, &v, path))
		goto out;
	r->warmup = json_object_get_int(v);
	if (member(params, "write", json_type_boolean, &v, path))
		goto out;
	r->write = json_object_get_boolean(v);
	if (member(params, "shared", json_type_boolean, &v, path))
		goto out;
	r->shared = json_object_get_boolean(v);
	if (member(params, "prefault", json_type_boolean, &v, path))
		goto out;
	r->prefault = json_object_get_boolean(v);
	if (member(params, "node", json_type_int, &v, path))
		goto out;
	r->node = json_object_get_int(v);
	r->bench_delay_ns = -1;
	if (json_object_object_get_ex(params, "bench_delay_ns", &v))
		r->bench_delay_ns = json_object_get_int64(v);
	if (json_object_object_get_ex(params, "page_size", &v))
		r->page_size = json_object_get_uint64(v);
	if (json_object_object_get_ex(params, "huge_page_size", &v))
		r->huge_page_size = json_object_get_uint64(v);

	r->nr_points = json_object_array_length(points);
	r->points = calloc(r->nr_points + 1, sizeof(*r->points));
	if (!r->points) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < r->nr_points; i++) {
		err = point_from_json(json_object_array_get_idx(points, i),
				      &r->points[i], path);
		if (err)
			goto out;
	}
	err = 0;
out:
	if (err)
		run_free(r);
	return err;
}

int run_read_json(struct run *r, const char *path)
{
	json_object *root;
	int err;

	memset(r, 0, sizeof(*r));
	root = json_object_from_file(path);
	if (!root) {
		fprintf(stderr, "%s: %s\n", path, json_util_get_last_err());
		return -EINVAL;
	}
	err = run_from_json(root, r, path);
	json_object_put(root);
	return err;
}

void run_free(struct run *r)
{
	size_t i;

	for (i = 0; i < r->nr_points; i++) {
		free(r->points[i].skipped);
		free(r->points[i].warmup);
		free(r->points[i].samples);
	}
	free(r->points);
	free(r->sysname);
	free(r->release);
	free(r->version);
	free(r->machine);
	free(r->date);
	free(r->file);
	provenance_free(&r->prov);
	memset(r, 0, sizeof(*r));
}

/* Text output. */

static void summarize_point(const struct run_point *p, bool unpin,
			    struct summary *s)
{
	double *v = malloc((p->nr_samples + 1) * sizeof(*v));

	if (!v)
		abort();
	summarize(v, point_ns_per_page(p, unpin, v), s);
	free(v);
}

void run_print_table(const struct run *r, FILE *f)
{
	struct summary pin, unpin;
	char label[128];
	size_t i;

	fprintf(f, "# %s %s %s, %s\n", r->sysname ? r->sysname : "?",
		r->release ? r->release : "?", r->machine ? r->machine : "?",
		r->date ? r->date : "?");
	fprintf(f, "# ns per page: median, min, p90 and spread = (p90 - min) / median over %u repetitions after %u warm-up\n",
		r->reps, r->warmup);
	fprintf(f, "%-34s %8s %8s %8s %6s  %8s %8s %8s %6s %5s\n",
		"config", "pin", "min", "p90", "spread",
		"unpin", "min", "p90", "spread", "huge");
	for (i = 0; i < r->nr_points; i++) {
		const struct run_point *p = &r->points[i];

		point_label(r, p, label, sizeof(label));
		if (p->skipped) {
			fprintf(f, "%-34s skipped: %s\n", label, p->skipped);
			continue;
		}
		summarize_point(p, false, &pin);
		summarize_point(p, true, &unpin);
		fprintf(f, "%-34s %8.1f %8.1f %8.1f %5.1f%%  %8.1f %8.1f %8.1f %5.1f%%",
			label, pin.median, pin.min, pin.p90, 100 * pin.spread,
			unpin.median, unpin.min, unpin.p90, 100 * unpin.spread);
		if (p->huge_bytes >= 0 && p->size)
			fprintf(f, " %4.0f%%", 100.0 * p->huge_bytes / p->size);
		fputc('\n', f);
	}
}

const struct run_point *run_find_point(const struct run *r, const char *label)
{
	char other[128];
	size_t i;

	for (i = 0; i < r->nr_points; i++) {
		point_label(r, &r->points[i], other, sizeof(other));
		if (!strcmp(label, other))
			return &r->points[i];
	}
	return NULL;
}

/*
 * Whether the baseline q of p, both under label, can be judged; prints why
 * not, or that the test cannot reach alpha with so few samples. *unpaired
 * counts configurations whose samples cannot pair up.
 */
static bool comparable(const struct run_point *q, const struct run_point *p,
		       const char *label, const struct compare_policy *policy,
		       bool paired, int *unpaired, FILE *f)
{
	if (p->skipped || !q || q->skipped) {
		fprintf(f, "%-34s %-6s %s\n", label, "-",
			p->skipped ? "skipped now" :
			!q ? "not in baseline" : "skipped in baseline");
		return false;
	}
	if (!paired) {
		if (mann_whitney_min_p(q->nr_samples, p->nr_samples) >=
		    policy->alpha)
			fprintf(f, "# %s: %zu and %zu repetitions cannot reach p < %g\n",
				label, q->nr_samples, p->nr_samples,
				policy->alpha);
		return true;
	}
	if (p->nr_samples != q->nr_samples) {
		fprintf(f, "%-34s %-6s not paired: %zu samples, %zu in baseline\n",
			label, "-", p->nr_samples, q->nr_samples);
		fprintf(stderr, "gup_benchmark: %s: %zu samples, %zu in the baseline\n",
			label, p->nr_samples, q->nr_samples);
		(*unpaired)++;
		return false;
	}
	if (wilcoxon_min_p(p->nr_samples) >= policy->alpha)
		fprintf(f, "# %s: %zu pairs cannot reach p < %g\n",
			label, p->nr_samples, policy->alpha);
	return true;
}

/*
 * What run_compare() and run_compare_paired() share after their headers:
 * a row per configuration of cur and metric, the count, and the number of
 * regressions, or -EINVAL when samples could not pair up.
 */
static int compare_points(const struct run *base, const struct run *cur,
			  const struct compare_policy *policy, bool paired,
			  FILE *f)
{
	static const char *const metric[] = { "pin", "unpin" };
	int slower = 0, faster = 0, compared = 0, unpaired = 0, unpin;
	double *b = NULL, *c = NULL;
	char label[128];
	size_t i, nb, nc;

	fprintf(f, "%-34s %-6s %10s %10s %8s %9s  %s\n", "config", "metric",
		"base ns/p", "now ns/p", "change", "p", "verdict");
	for (i = 0; i < cur->nr_points; i++) {
		const struct run_point *p = &cur->points[i], *q;

		point_label(cur, p, label, sizeof(label));
		q = run_find_point(base, label);
		if (!comparable(q, p, label, policy, paired, &unpaired, f))
			continue;
		b = realloc(b, (q->nr_samples + 1) * sizeof(*b));
		c = realloc(c, (p->nr_samples + 1) * sizeof(*c));
		if (!b || !c)
			abort();
		for (unpin = 0; unpin < 2; unpin++) {
			struct comparison cmp;

			nb = point_ns_per_page(q, unpin, b);
			nc = point_ns_per_page(p, unpin, c);
			if (paired)
				compare_paired(b, c, nc, policy, &cmp);
			else
				compare_samples(b, nb, c, nc, policy, &cmp);
			fprintf(f, "%-34s %-6s %10.1f %10.1f %+7.1f%% %9.2g  %s\n",
				label, metric[unpin], cmp.base_median,
				cmp.cur_median, 100 * cmp.change,
				cmp.verdict == VERDICT_FASTER ? cmp.p_faster :
								cmp.p_slower,
				verdict_name(cmp.verdict));
			slower += cmp.verdict == VERDICT_SLOWER;
			faster += cmp.verdict == VERDICT_FASTER;
			compared++;
		}
	}
	free(b);
	free(c);
	fprintf(f, "# %d %scomparisons: %d slower, %d faster\n", compared,
		paired ? "paired " : "", slower, faster);
	return unpaired ? -EINVAL : slower;
}

int run_compare(const struct run *base, const struct run *cur,
		const struct compare_policy *policy, FILE *f)
{
	fprintf(f, "# baseline %s %s; verdict SLOWER when one-sided Mann-Whitney p < %g and median change > +%g%%\n",
		base->release ? base->release : "?",
		base->date ? base->date : "?", policy->alpha,
		100 * policy->threshold);
	return compare_points(base, cur, policy, false, f);
}

int run_compare_paired(const struct run *base, const struct run *cur,
		       const struct compare_policy *policy, FILE *f)
{
	fprintf(f,
		"# baseline %s %s; d = ln(now / base) pair by pair, Wilcoxon signed-rank test\n",
		base->release ? base->release : "?",
		base->date ? base->date : "?");
	fprintf(f,
		"# SLOWER when one-sided p < %g and Hodges-Lehmann change > +%g%%\n",
		policy->alpha, 100 * policy->threshold);
	/* Both halves of an A/B run carry its start. */
	if (!base->date || !cur->date || strcmp(base->date, cur->date))
		fprintf(f,
			"# warning: the runs started apart; pairs hold only in an A/B run\n");
	return compare_points(base, cur, policy, true, f);
}
