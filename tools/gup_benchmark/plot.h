/* SPDX-License-Identifier: GPL-2.0 */
#ifndef GUP_BENCHMARK_PLOT_H
#define GUP_BENCHMARK_PLOT_H

#include <stdbool.h>

#include "results.h"

bool plot_available(void);
/* Draws r into an SVG file at path with gnuplot. Returns 0 or -errno. */
int plot_svg(const struct run *r, const char *path);

#endif /* GUP_BENCHMARK_PLOT_H */
