// SPDX-License-Identifier: GPL-2.0
/*
 * Summaries of repeated timings and the Mann-Whitney U test that decides
 * whether one set of timings is slower than another. The test is chosen
 * because it assumes no distribution: timings under TCG are skewed by
 * occasional slow repetitions, which would dominate a t-test's mean.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double quantile(const double *sorted, size_t n, double q)
{
	double pos, frac;
	size_t i;

	if (!n)
		return NAN;
	pos = q * (n - 1);
	i = (size_t)pos;
	if (i + 1 >= n)
		return sorted[n - 1];
	frac = pos - i;
	return sorted[i] + frac * (sorted[i + 1] - sorted[i]);
}

void summarize(const double *samples, size_t n, struct summary *s)
{
	double *sorted;

	memset(s, 0, sizeof(*s));
	s->n = n;
	s->min = NAN;
	s->median = NAN;
	s->p90 = NAN;
	s->spread = NAN;
	if (!n)
		return;
	sorted = malloc(n * sizeof(*sorted));
	if (!sorted)
		abort();
	memcpy(sorted, samples, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_double);
	s->min = sorted[0];
	s->median = quantile(sorted, n, 0.5);
	s->p90 = quantile(sorted, n, 0.9);
	s->spread = s->median > 0 ? (s->p90 - s->min) / s->median : 0;
	free(sorted);
}

/*
 * P(U >= u) for U, the number of (a, b) pairs with b > a, when the na + nb
 * values are a random permutation. The largest value is a b with
 * probability nb / (na + nb), and then beats every a; otherwise it is an a
 * and beats nothing. That gives
 *   p(m, n, u) = n/(m+n) p(m, n-1, u-m) + m/(m+n) p(m-1, n, u),
 * computed row by row in m, in probabilities rather than counts so that
 * nothing overflows.
 */
static double mw_exact_upper(size_t na, size_t nb, size_t u_obs)
{
	size_t umax = na * nb, width = umax + 1, m, n, u;
	double *prev, *cur, *tmp, p = 0;

	prev = calloc((nb + 1) * width, sizeof(*prev));
	cur = calloc((nb + 1) * width, sizeof(*cur));
	if (!prev || !cur)
		abort();
	/* m = 0: no a to beat, U is 0 whatever n. */
	for (n = 0; n <= nb; n++)
		prev[n * width] = 1;
	for (m = 1; m <= na; m++) {
		memset(cur, 0, (nb + 1) * width * sizeof(*cur));
		cur[0] = 1;
		for (n = 1; n <= nb; n++) {
			double pb = (double)n / (m + n), pa = 1 - pb;

			for (u = 0; u <= m * n; u++) {
				double v = pa * prev[n * width + u];

				if (u >= m)
					v += pb * cur[(n - 1) * width + u - m];
				cur[n * width + u] = v;
			}
		}
		tmp = prev;
		prev = cur;
		cur = tmp;
	}
	for (u = u_obs; u <= umax; u++)
		p += prev[nb * width + u];
	free(prev);
	free(cur);
	return p > 1 ? 1 : p;
}

struct ranked {
	double value;
	int from_b;
};

static int cmp_ranked(const void *a, const void *b)
{
	return cmp_double(&((const struct ranked *)a)->value,
			  &((const struct ranked *)b)->value);
}

double mann_whitney_greater(const double *a, size_t na,
			    const double *b, size_t nb)
{
	size_t n = na + nb, i, j;
	double rank_sum_b = 0, ties = 0, u, mu, sigma;
	struct ranked *all;

	if (!na || !nb)
		return 1;
	all = malloc(n * sizeof(*all));
	if (!all)
		abort();
	for (i = 0; i < na; i++)
		all[i] = (struct ranked){ a[i], 0 };
	for (i = 0; i < nb; i++)
		all[na + i] = (struct ranked){ b[i], 1 };
	qsort(all, n, sizeof(*all), cmp_ranked);

	/* Ranks from 1; a run of equal values shares their mean rank. */
	for (i = 0; i < n; i = j) {
		double t, mean_rank;

		for (j = i + 1; j < n && all[j].value == all[i].value; j++)
			;
		t = j - i;
		ties += t * t * t - t;
		mean_rank = (i + 1 + j) / 2.0;
		for (; i < j; i++)
			if (all[i].from_b)
				rank_sum_b += mean_rank;
	}
	free(all);
	/* Pairs with b > a, ties counting one half. */
	u = rank_sum_b - nb * (nb + 1) / 2.0;

	if (ties == 0 && na <= MW_EXACT_MAX && nb <= MW_EXACT_MAX)
		return mw_exact_upper(na, nb, (size_t)llround(u));

	mu = na * nb / 2.0;
	sigma = sqrt(na * nb / 12.0 * ((n + 1) - ties / ((double)n * (n - 1))));
	if (sigma == 0)
		return 1;
	return 0.5 * erfc((u - mu - 0.5) / sigma / M_SQRT2);
}

double mann_whitney_min_p(size_t na, size_t nb)
{
	double p = 1;
	size_t i;

	/* 1 / C(na + nb, na): only the most extreme arrangement. */
	for (i = 1; i <= na; i++)
		p *= (double)i / (nb + i);
	return p;
}

void compare_samples(const double *base, size_t nb,
		     const double *cur, size_t nc,
		     const struct compare_policy *policy,
		     struct comparison *c)
{
	struct summary sb, sc;

	summarize(base, nb, &sb);
	summarize(cur, nc, &sc);
	c->base_median = sb.median;
	c->cur_median = sc.median;
	c->change = sb.median > 0 ? sc.median / sb.median - 1 : 0;
	c->p_slower = mann_whitney_greater(base, nb, cur, nc);
	c->p_faster = mann_whitney_greater(cur, nc, base, nb);
	c->verdict = VERDICT_SAME;
	if (c->p_slower < policy->alpha && c->change > policy->threshold)
		c->verdict = VERDICT_SLOWER;
	else if (c->p_faster < policy->alpha && c->change < -policy->threshold)
		c->verdict = VERDICT_FASTER;
}

const char *verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_SLOWER:
		return "SLOWER";
	case VERDICT_FASTER:
		return "faster";
	default:
		return "same";
	}
}
