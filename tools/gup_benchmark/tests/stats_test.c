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

TEST_HARNESS_MAIN
