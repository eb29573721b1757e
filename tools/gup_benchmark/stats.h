/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Statistics of repeated timings and the regression test, shared by
 * gup_benchmark and selftests/cost.c so that both judge a slowdown the same
 * way.
 */
#ifndef GUP_BENCHMARK_STATS_H
#define GUP_BENCHMARK_STATS_H

#include <stddef.h>

/*
 * Quantiles interpolate linearly between order statistics (Hyndman and
 * Fan's type 7, numpy's default). spread is (p90 - min) / median: how far
 * the slowest tenth of repetitions strays from the best one, relative to a
 * typical one.
 */
struct summary {
	size_t n;
	double min;
	double median;
	double p90;
	double spread;
};

void summarize(const double *samples, size_t n, struct summary *s);
double quantile(const double *sorted, size_t n, double q);

/*
 * One-sided Mann-Whitney U test: the probability, if both samples come from
 * one distribution, of the values of b exceeding those of a as often as
 * they do or more often. Exact without ties for up to MW_EXACT_MAX values
 * per sample, otherwise the normal approximation with tie and continuity
 * corrections.
 */
#define MW_EXACT_MAX	50
double mann_whitney_greater(const double *a, size_t na,
			    const double *b, size_t nb);
/* The smallest p-value the test can give for samples of these sizes. */
double mann_whitney_min_p(size_t na, size_t nb);

/*
 * A configuration got slower when its samples are larger than the
 * baseline's with p < alpha AND its median exceeds the baseline's by more
 * than threshold (0.03 is 3%). Requiring both keeps a significant but
 * negligible shift, which TCG produces between any two runs, from being
 * called a regression, and a large but noisy shift from being trusted.
 * Faster is the mirror image.
 */
struct compare_policy {
	double alpha;
	double threshold;
};

#define COMPARE_ALPHA		0.01
#define COMPARE_THRESHOLD	0.05

enum verdict {
	VERDICT_SAME,
	VERDICT_SLOWER,
	VERDICT_FASTER,
};

struct comparison {
	double base_median;
	double cur_median;
	double change;		/* cur_median / base_median - 1 */
	double p_slower;
	double p_faster;
	enum verdict verdict;
};

void compare_samples(const double *base, size_t nb,
		     const double *cur, size_t nc,
		     const struct compare_policy *policy,
		     struct comparison *c);
const char *verdict_name(enum verdict v);

#endif /* GUP_BENCHMARK_STATS_H */
