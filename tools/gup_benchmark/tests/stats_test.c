// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side tests of stats.c. Expected p-values were computed independently
 * by enumerating every split of the pooled values (exact cases) or from
 * the textbook formula (tied cases).
 */
#include <math.h>

#include "kselftest_harness.h"
#include "../stats.h"

#define NEAR(x, y, rel)	(fabs((x) - (y)) <= (rel) * fabs(y))

static const struct compare_policy policy = {
	.alpha = COMPARE_ALPHA,
	.threshold = COMPARE_THRESHOLD,
};

TEST(quantiles_interpolate)
{
	const double v[] = { 7, 1, 9, 3, 10, 2, 5, 4, 8, 6 };
	struct summary s;

	summarize(v, ARRAY_SIZE(v), &s);
	ASSERT_EQ(10, s.n);
	ASSERT_TRUE(s.min == 1);
	ASSERT_TRUE(NEAR(s.median, 5.5, 1e-12));
	ASSERT_TRUE(NEAR(s.p90, 9.1, 1e-12));
	ASSERT_TRUE(NEAR(s.spread, (9.1 - 1) / 5.5, 1e-12));
}

TEST(summary_of_one_and_none)
{
	const double one = 42;
	struct summary s;

	summarize(&one, 1, &s);
	ASSERT_TRUE(s.min == 42 && s.median == 42 && s.p90 == 42);
	ASSERT_TRUE(s.spread == 0);
	summarize(NULL, 0, &s);
	ASSERT_EQ(0, s.n);
	ASSERT_TRUE(isnan(s.median));
}

TEST(mann_whitney_exact_extremes)
{
	const double lo[] = { 1, 2, 3, 4, 5 }, hi[] = { 6, 7, 8, 9, 10 };

	/* Complete separation is the one most extreme of C(10,5) splits. */
	ASSERT_TRUE(NEAR(mann_whitney_greater(lo, 5, hi, 5), 1 / 252.0, 1e-9));
	ASSERT_TRUE(NEAR(mann_whitney_greater(hi, 5, lo, 5), 1.0, 1e-9));
	ASSERT_TRUE(NEAR(mann_whitney_min_p(5, 5), 1 / 252.0, 1e-12));
	ASSERT_TRUE(NEAR(mann_whitney_min_p(10, 10), 5.412544112234515e-06,
			 1e-9));
}

TEST(mann_whitney_exact_unequal_sizes)
{
	const double a[] = { 10.1, 11.2, 9.8, 10.5, 10.0, 10.3, 9.9, 10.7,
			     10.2, 10.4, 10.6, 9.7 };
	const double b[] = { 10.9, 11.5, 10.8, 11.1, 10.45, 11.3, 11.0,
			     10.95, 11.7, 10.65 };
	const double c[] = { 5, 3, 8, 1, 9, 2, 7 };
	const double d[] = { 4, 6, 10, 11, 0.5, 12 };

	ASSERT_TRUE(NEAR(mann_whitney_greater(a, ARRAY_SIZE(a),
					      b, ARRAY_SIZE(b)),
			 0.0003000095879352845, 1e-9));
	ASSERT_TRUE(NEAR(mann_whitney_greater(c, ARRAY_SIZE(c),
					      d, ARRAY_SIZE(d)),
			 0.18298368298368298, 1e-9));
}

TEST(mann_whitney_ties_use_normal_approximation)
{
	const double a[] = { 3, 1, 4, 1, 5, 9, 2, 6, 5, 3 };
	const double b[] = { 5, 8, 9, 7, 9, 3, 2, 3, 8, 4 };
	const double same[] = { 2, 2, 2 };

	ASSERT_TRUE(NEAR(mann_whitney_greater(a, 10, b, 10),
			 0.07924322120893496, 1e-9));
	/* Nothing to rank: no evidence either way. */
	ASSERT_TRUE(mann_whitney_greater(same, 3, same, 3) == 1);
	ASSERT_TRUE(mann_whitney_greater(a, 0, b, 10) == 1);
}

TEST(mann_whitney_large_samples)
{
	double a[200], b[200];
	int i;

	/* Interleaved: U sits at its mean, p close to one half. */
	for (i = 0; i < 200; i++) {
		a[i] = 2 * i;
		b[i] = 2 * i + 1;
	}
	ASSERT_TRUE(fabs(mann_whitney_greater(a, 200, b, 200) - 0.5) < 0.05);
}

TEST(compare_flags_slowdown_above_threshold)
{
	double base[10], cur[10];
	struct comparison c;
	int i;

	for (i = 0; i < 10; i++) {
		base[i] = 100 + i;
		cur[i] = 110 + i;
	}
	compare_samples(base, 10, cur, 10, &policy, &c);
	ASSERT_EQ(VERDICT_SLOWER, c.verdict);
	ASSERT_TRUE(NEAR(c.change, 114.5 / 104.5 - 1, 1e-12));
	ASSERT_TRUE(c.p_slower < 0.01);

	compare_samples(cur, 10, base, 10, &policy, &c);
	ASSERT_EQ(VERDICT_FASTER, c.verdict);
}

TEST(compare_ignores_significant_but_small_shift)
{
	double base[10], cur[10];
	struct comparison c;
	int i;

	/* Fully separated, hence significant, yet only 2% slower. */
	for (i = 0; i < 10; i++) {
		base[i] = 100 + 0.1 * i;
		cur[i] = 102 + 0.1 * i;
	}
	compare_samples(base, 10, cur, 10, &policy, &c);
	ASSERT_TRUE(c.p_slower < 0.01);
	ASSERT_EQ(VERDICT_SAME, c.verdict);
}

TEST(compare_ignores_large_but_noisy_shift)
{
	const double base[] = { 100, 180, 105, 170, 110 };
	const double cur[] = { 120, 175, 101, 185, 115 };
	struct comparison c;

	compare_samples(base, 5, cur, 5, &policy, &c);
	ASSERT_TRUE(c.change > 0.03);
	ASSERT_TRUE(c.p_slower >= 0.01);
	ASSERT_EQ(VERDICT_SAME, c.verdict);
}

TEST(student_t_quantiles)
{
	/* Tables of t; the non-integer degrees from scipy.stats.t.ppf. */
	ASSERT_TRUE(NEAR(student_t_quantile(0.975, 2), 4.302653, 1e-6));
	ASSERT_TRUE(NEAR(student_t_quantile(0.975, 4), 2.776445, 1e-6));
	ASSERT_TRUE(NEAR(student_t_quantile(0.975, 10), 2.228139, 1e-6));
	ASSERT_TRUE(NEAR(student_t_quantile(0.975, 30), 2.042272, 1e-6));
	ASSERT_TRUE(NEAR(student_t_quantile(0.975, 2.5), 3.574654842, 1e-8));
	ASSERT_TRUE(NEAR(student_t_quantile(0.975, 7.3), 2.345066736, 1e-8));
	ASSERT_TRUE(NEAR(student_t_quantile(0.005, 0.5), -4113.964591, 1e-8));
	ASSERT_TRUE(student_t_quantile(0.5, 3) == 0);
	ASSERT_TRUE(isnan(student_t_quantile(1, 3)));
	ASSERT_TRUE(isnan(student_t_quantile(0.9, 0)));
}

TEST(student_t_cdf_known_values)
{
	double p, df = 3.7;
	int i;

	/* One degree is Cauchy; two have a closed form. */
	ASSERT_TRUE(NEAR(student_t_cdf(1, 1), 0.75, 1e-12));
	ASSERT_TRUE(NEAR(student_t_cdf(1.5, 2),
			 0.5 + 1.5 / (2 * sqrt(2 + 1.5 * 1.5)), 1e-12));
	ASSERT_TRUE(NEAR(student_t_cdf(2, 4), 0.941941738242, 1e-10));
	ASSERT_TRUE(NEAR(student_t_cdf(-0.3, 7.3), 0.38627026809, 1e-10));
	ASSERT_TRUE(NEAR(student_t_cdf(2, 1e6), 0.977249733, 1e-8));
	ASSERT_TRUE(student_t_cdf(0, 5) == 0.5);
	for (i = 1; i < 10; i++) {
		p = i / 10.0;
		ASSERT_TRUE(NEAR(student_t_cdf(student_t_quantile(p, df), df),
				 p, 1e-10));
	}
}

TEST(welch_interval_of_log_ratio)
{
	const double base[] = { 600, 610, 590 }, cur[] = { 690, 700, 710 };
	const double b4[] = { 100, 130, 90, 111 }, c2[] = { 120, 95 };
	const double flat[] = { 50, 50, 50 }, half[] = { 25, 25 };
	double lo, hi;

	/* Expected from scipy.stats.t on the logs (df 3.91 and 1.97). */
	ASSERT_EQ(0, welch_ratio_interval(base, 3, cur, 3, 0.95, &lo, &hi));
	ASSERT_TRUE(NEAR(lo, 1.125984023, 1e-8));
	ASSERT_TRUE(NEAR(hi, 1.208878611, 1e-8));
	ASSERT_EQ(0, welch_ratio_interval(b4, 4, c2, 2, 0.95, &lo, &hi));
	ASSERT_TRUE(NEAR(lo, 0.541250357, 1e-8));
	ASSERT_TRUE(NEAR(hi, 1.848213913, 1e-8));
	/* No scatter at all: the ratio is known exactly. */
	ASSERT_EQ(0, welch_ratio_interval(flat, 3, half, 2, 0.95, &lo, &hi));
	ASSERT_TRUE(NEAR(lo, 0.5, 1e-12) && NEAR(hi, 0.5, 1e-12));
	ASSERT_EQ(-1, welch_ratio_interval(base, 3, cur, 1, 0.95, &lo, &hi));
	ASSERT_EQ(-1, welch_ratio_interval(base, 1, cur, 3, 0.95, &lo, &hi));
}

/*
 * Signed-rank p-values: exact ones are counts of sign patterns over 2^n,
 * enumerated by hand (n = 5) or by listing all 2^n patterns (n = 8, 12);
 * scipy.stats.wilcoxon gives the same. The normal approximations are
 * scipy's (method="approx", correction=True), checked against the textbook
 * formula.
 */
/* Relative tolerances: checkpatch reads the '-' in 1e-9 as an operator. */
static const double exactly = 1 / 1e12, closely = 1 / 1e9;

TEST(wilcoxon_exact_small)
{
	const double up[] = { 1, 2, 3, 4, 5 }, one_down[] = { -1, 2, 3, 4, 5 };
	const double zeros[] = { 0, 1, 0, 2, 3, 4, 5 };
	const double d8[] = { 0.5, -1.2, 2.1, 3.3, -0.2, 1.7, 4.4, 2.8 };
	const double d12[] = { 0.8, -0.3, 1.1, 0.25, -0.6, 0.9, 1.4, 0.05,
			       -0.15, 0.7, 1.9, 0.45 };

	/* W+ = 15: only the all-positive pattern of 32 reaches it. */
	ASSERT_TRUE(NEAR(wilcoxon_greater(up, 5), 1 / 32.0, exactly));
	/* W+ = 14: that one and the one with rank 1 negative. */
	ASSERT_TRUE(NEAR(wilcoxon_greater(one_down, 5), 2 / 32.0, exactly));
	/* Zeros are dropped (Wilcoxon): n is 5 again, not 7 (Pratt). */
	ASSERT_TRUE(NEAR(wilcoxon_greater(zeros, 7), 1 / 32.0, exactly));
	/* W+ = 32: 7 of 256 patterns; W+ = 66: 70 of 4096. */
	ASSERT_TRUE(NEAR(wilcoxon_greater(d8, 8), 7 / 256.0, exactly));
	ASSERT_TRUE(NEAR(wilcoxon_greater(d12, 12), 70 / 4096.0, exactly));
	ASSERT_TRUE(NEAR(wilcoxon_min_p(7), 1 / 128.0, exactly));
}

/* A spread of values around 0.2, none of whose magnitudes tie. */
static void spread_values(double *d, int n)
{
	int i;

	for (i = 0; i < n; i++)
		d[i] = ((i * 37) % 61 - 22) / 10.0 + 0.001 * i;
}

TEST(wilcoxon_exact_at_the_limit)
{
	double d[WSR_EXACT_MAX];
	int i;

	spread_values(d, WSR_EXACT_MAX);
	ASSERT_TRUE(NEAR(wilcoxon_greater(d, WSR_EXACT_MAX),
			 0.0034706897898812983, closely));
	for (i = 0; i < WSR_EXACT_MAX; i++)
		d[i] = -d[i];
	ASSERT_TRUE(NEAR(wilcoxon_greater(d, WSR_EXACT_MAX),
			 0.9966347701652749, closely));
}

TEST(wilcoxon_normal_approximation)
{
	const double tied[] = { 1, 1, -2, 3, 3, 3, 4, -1, 5, 2, -0.5, 2 };
	const double nothing[] = { 0, 0, 0 };
	double d[60];

	/* 60 > WSR_EXACT_MAX: W+ = 1344 of a mean of 915. */
	spread_values(d, 60);
	ASSERT_TRUE(NEAR(wilcoxon_greater(d, 60), 0.0008040132272733054,
			 closely));
	/* Ties of |d|: W+ = 68, variance less 48 / 48 for them. */
	ASSERT_TRUE(NEAR(wilcoxon_greater(tied, ARRAY_SIZE(tied)),
			 0.012348332356561959, closely));
	ASSERT_TRUE(wilcoxon_greater(nothing, 3) == 1);
	ASSERT_TRUE(wilcoxon_greater(NULL, 0) == 1);
}

static int cmp_sum(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

TEST(hodges_lehmann_small)
{
	const double three[] = { 1, 2, 3 }, wide[] = { 1, 9, 2 };
	const double two[] = { 10, 0 }, one = -4;

	/* Averages 1 1.5 2 2 2.5 3: median 2. */
	ASSERT_TRUE(hodges_lehmann(three, 3) == 2);
	/* 1 1.5 2 5 5.5 9: median 3.5, where the median of d is 2. */
	ASSERT_TRUE(hodges_lehmann(wide, 3) == 3.5);
	ASSERT_TRUE(hodges_lehmann(two, 2) == 5);
	ASSERT_TRUE(hodges_lehmann(&one, 1) == -4);
	ASSERT_TRUE(isnan(hodges_lehmann(NULL, 0)));
}

TEST(hodges_lehmann_matches_listing_every_average)
{
	double d[90], sums[90 * 91 / 2], want;
	unsigned int seed = 1;
	int n, i, j, m;

	/* Ties (values from a small set) as well as distinct values. */
	for (n = 1; n <= 90; n++) {
		for (i = 0; i < n; i++) {
			seed = seed * 1103515245 + 12345;
			d[i] = n % 2 ? (int)(seed >> 16) % 7 - 3 :
				       (double)(seed >> 8) / (1 << 24) - 0.3;
		}
		m = 0;
		for (i = 0; i < n; i++)
			for (j = i; j < n; j++)
				sums[m++] = d[i] + d[j];
		qsort(sums, m, sizeof(*sums), cmp_sum);
		want = m % 2 ? sums[m / 2] / 2 :
			       (sums[m / 2 - 1] + sums[m / 2]) / 4;
		EXPECT_TRUE(hodges_lehmann(d, n) == want)
			TH_LOG("n = %d", n);
	}
}

TEST(paired_compare_flags_small_consistent_shift)
{
	const struct compare_policy paired = {
		.alpha = COMPARE_ALPHA,
		.threshold = COMPARE_THRESHOLD_PAIRED,
	};
	double base[41], slow[41], tiny[41], noisy[41];
	struct comparison c;
	int i;

	/*
	 * Pairs share a drift from 100 to 140 and slow outliers that would
	 * swamp a 3% shift between unpaired samples; each pair's ratio
	 * varies by +-1%.
	 */
	for (i = 0; i < 41; i++) {
		double wobble = 1 + 0.01 * ((i * 7) % 5 - 2) / 2;

		base[i] = (100 + i) * (i % 10 ? 1 : 1.8);
		slow[i] = base[i] * 1.03 * wobble;
		tiny[i] = base[i] * 1.005 * wobble;
		noisy[i] = base[i] * wobble;
	}
	compare_paired(base, slow, 41, &paired, &c);
	ASSERT_EQ(VERDICT_SLOWER, c.verdict);
	ASSERT_TRUE(fabs(c.change - 0.03) < 0.002);
	ASSERT_TRUE(c.p_slower < 0.000001);
	/* The U test on the same samples sees nothing. */
	compare_samples(base, 41, slow, 41, &paired, &c);
	ASSERT_EQ(VERDICT_SAME, c.verdict);

	compare_paired(slow, base, 41, &paired, &c);
	ASSERT_EQ(VERDICT_FASTER, c.verdict);
	/* Significant, yet below the threshold. */
	compare_paired(base, tiny, 41, &paired, &c);
	ASSERT_TRUE(c.p_slower < 0.01);
	ASSERT_EQ(VERDICT_SAME, c.verdict);
	compare_paired(base, noisy, 41, &paired, &c);
	ASSERT_EQ(VERDICT_SAME, c.verdict);
	ASSERT_TRUE(c.p_slower > 0.01 && c.p_faster > 0.01);
}

TEST_HARNESS_MAIN
