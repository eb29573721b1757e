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
 * Student's t distribution with df degrees of freedom, df > 0 and not
 * necessarily whole (Welch's df is not): P(T <= t), and the t with
 * P(T <= t) = p for 0 < p < 1.
 */
double student_t_cdf(double t, double df);
double student_t_quantile(double p, double df);

/*
 * Welch's interval for cur / base as a ratio of geometric means: Welch's t
 * interval for the difference of the means of ln(cur) and ln(base), with
 * the Welch-Satterthwaite degrees of freedom, exponentiated. level is the
 * confidence, 0.95 for a 95% interval. Fills lo and hi and returns 0, or
 * returns -1 when either side has fewer than two values or a value that is
 * not positive.
 */
int welch_ratio_interval(const double *base, size_t nb,
			 const double *cur, size_t nc, double level,
			 double *lo, double *hi);

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
	double change;		/* cur_median / base_median - 1; paired: HL */
	double p_slower;
	double p_faster;
	enum verdict verdict;
};

void compare_samples(const double *base, size_t nb,
		     const double *cur, size_t nc,
		     const struct compare_policy *policy,
		     struct comparison *c);
const char *verdict_name(enum verdict v);

/*
 * One-sided Wilcoxon signed-rank test on paired differences d: the
 * probability, if each difference is as likely to be positive as negative
 * by the same amount, of a sum of the ranks of the positive ones (ranked
 * by absolute value) at least as large as observed. Zero differences are
 * dropped before ranking (Wilcoxon's convention, not Pratt's), and so are
 * NaNs. Exact when no absolute values tie and at most WSR_EXACT_MAX are
 * left, otherwise the normal approximation with tie and continuity
 * corrections.
 */
#define WSR_EXACT_MAX	50
double wilcoxon_greater(const double *d, size_t n);
/* The smallest p-value the test can give for n non-zero differences. */
double wilcoxon_min_p(size_t n);
/* Hodges-Lehmann estimate: the median of (d[i] + d[j]) / 2 over i <= j. */
double hodges_lehmann(const double *d, size_t n);

/*
 * Paired samples: base[i] and cur[i] were measured next to each other, in
 * one process. The test and the estimate are on d[i] = ln(cur[i] /
 * base[i]), so that a slowdown by a factor counts alike at any speed;
 * change is exp(hodges_lehmann(d)) - 1. Pairing cancels what both sides of
 * a pair share (drift, a slow boot), which is what lets a smaller
 * threshold hold than between separate runs.
 */
#define COMPARE_THRESHOLD_PAIRED	0.01

void compare_paired(const double *base, const double *cur, size_t n,
		    const struct compare_policy *policy,
		    struct comparison *c);

#endif /* GUP_BENCHMARK_STATS_H */
