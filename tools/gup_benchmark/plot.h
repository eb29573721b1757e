/* SPDX-License-Identifier: GPL-2.0 */
#ifndef GUP_BENCHMARK_PLOT_H
#define GUP_BENCHMARK_PLOT_H

#include <stdbool.h>
#include <stdio.h>

#include "results.h"

bool plot_available(void);
/*
 * Starts gnuplot drawing an SVG of width x height pixels into path; the
 * caller writes the script to *g and hands it to plot_close(), which waits
 * for gnuplot. Both return 0 or -errno; -ENOENT: no gnuplot.
 */
int plot_open(FILE **g, const char *path, int width, int height);
int plot_close(FILE *g, const char *path);
/* Draws r into an SVG file at path with gnuplot. Returns 0 or -errno. */
int plot_svg(const struct run *r, const char *path);

#endif /* GUP_BENCHMARK_PLOT_H */
