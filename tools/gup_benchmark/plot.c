// SPDX-License-Identifier: GPL-2.0
/*
 * ns/page against pages per call, one line per api, page type and size,
 * drawn by gnuplot. The guest has no gnuplot, so this runs on the host from
 * a JSON file as readily as after a measurement.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plot.h"

static bool in_path(const char *prog)
{
	const char *path = getenv("PATH"), *end;
	char buf[4096];

	for (; path && *path; path = *end ? end + 1 : end) {
		end = strchrnul(path, ':');
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)(end - path), path,
			 prog);
		if (!access(buf, X_OK))
			return true;
	}
	return false;
}

bool plot_available(void)
{
	return in_path("gnuplot");
}

static bool same_series(const struct run_point *a, const struct run_point *b)
{
	return a->method == b->method && a->type == b->type &&
	       a->size == b->size;
}

/* Whether point i is the first measured point of its series. */
static bool series_head(const struct run *r, size_t i)
{
	size_t j;

	if (r->points[i].skipped)
		return false;
	for (j = 0; j < i; j++)
		if (!r->points[j].skipped &&
		    same_series(&r->points[j], &r->points[i]))
			return false;
	return true;
}

static void emit_data(const struct run *r, bool unpin, FILE *g)
{
	size_t i, j;

	fprintf(g, "$%s << EOD\n", unpin ? "unpin" : "pin");
	for (i = 0; i < r->nr_points; i++) {
		if (!series_head(r, i))
			continue;
		for (j = i; j < r->nr_points; j++) {
			const struct run_point *p = &r->points[j];
			double *v = malloc((p->nr_samples + 1) * sizeof(*v));
			struct summary s;

			if (!v)
				abort();
			if (p->skipped || !same_series(&r->points[i], p)) {
				free(v);
				continue;
			}
			summarize(v, point_ns_per_page(p, unpin, v), &s);
			free(v);
			fprintf(g, "%u %g %g %g\n", p->nr_pages_per_call,
				s.median, s.min, s.p90);
		}
		/* Two blank lines end a data set that "index" selects. */
		fprintf(g, "\n\n");
	}
	fprintf(g, "EOD\n");
}

static void emit_plot(const struct run *r, bool unpin, FILE *g)
{
	const char *sep = "plot ";
	size_t i, set = 0;
	char label[128];

	fprintf(g, "set title '%s, against pages per call'\n",
		unpin ? "unpin" : "pin");
	for (i = 0; i < r->nr_points; i++) {
		const struct run_point *p = &r->points[i];

		if (!series_head(r, i))
			continue;
		/* Colour says the api, point and dash say the page type. */
		point_label(r, p, label, sizeof(label));
		*strstr(label, " npc=") = '\0';
		fprintf(g,
			"%s$%s index %zu using 1:2:3:4 with yerrorlines lc %d pt %d dt %d title '%s'",
			sep, unpin ? "unpin" : "pin", set++,
			(int)(p->method - pin_methods) + 1, 5 + 2 * p->type,
			1 + p->type, label);
		sep = ", \\\n     ";
	}
	fprintf(g, "\n");
}

int plot_open(FILE **out, const char *path, int width, int height)
{
	FILE *g;

	if (strpbrk(path, "'\n")) {
		fprintf(stderr, "%s: quote or newline in plot file name\n", path);
		return -EINVAL;
	}
	if (!plot_available()) {
		fprintf(stderr, "gnuplot not found: not plotting %s\n", path);
		return -ENOENT;
	}
	g = popen("gnuplot", "w");
	if (!g)
		return -errno;
	fprintf(g, "set terminal svg size %d,%d dynamic font 'sans,10'\n",
		width, height);
	fprintf(g, "set output '%s'\n", path);
	*out = g;
	return 0;
}

int plot_close(FILE *g, const char *path)
{
	int status = pclose(g);

	if (status == -1)
		return -errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "gnuplot failed drawing %s\n", path);
		return -EIO;
	}
	return 0;
}

int plot_svg(const struct run *r, const char *path)
{
	FILE *g;
	int err;

	err = plot_open(&g, path, 1200, 600);
	if (err)
		return err;
	emit_data(r, false, g);
	emit_data(r, true, g);
	fprintf(g,
		"set multiplot layout 1,2 title 'gup_benchmark %s %s: ns per page, median with min..p90 bars (%u reps)' noenhanced\n",
		r->release ? r->release : "", r->date ? r->date : "", r->reps);
	/* The key below the plots takes the x label's place. */
	fprintf(g, "set logscale xy 2\n");
	fprintf(g, "set ylabel 'ns per page'\nset grid\n");
	fprintf(g, "set key below maxrows 4 font ',8' noenhanced\n");
	fprintf(g, "set offsets graph 0.05, graph 0.05, 0, 0\n");
	emit_plot(r, false, g);
	emit_plot(r, true, g);
	fprintf(g, "unset multiplot\n");
	return plot_close(g, path);
}
