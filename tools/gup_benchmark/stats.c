// SPDX-License-Identifier: GPL-2.0
/*
 * Summaries of repeated timings and the tests that decide whether one set
 * of timings is slower than another: Mann-Whitney U between separate runs,
 * Wilcoxon signed-rank with the Hodges-Lehmann estimate between paired
 * ones. They are chosen because they assume no distribution: timings under
 * TCG are skewed by occasional slow repetitions, which would dominate a
 * t-test's mean. Student's t serves only the cross-kernel report, whose
 * values are boot medians, in which those repetitions no longer weigh.
 */
#include <float.h>
#include <math.h>
#include <stdbool.h>
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

/* A value to rank, and whether its rank counts in the statistic. */
struct ranked {
	double value;
	bool counted;
};

static int cmp_ranked(const void *a, const void *b)
{
	return cmp_double(&((const struct ranked *)a)->value,
			  &((const struct ranked *)b)->value);
}

/*
 * Sorts v and returns the sum of the ranks, from 1, of the counted values;
 * a run of equal values shares their mean rank. *ties gets the sum of
 * t^3 - t over the runs, t values long, that both tests' variances lose.
 */
static double counted_rank_sum(struct ranked *v, size_t n, double *ties)
{
	double sum = 0, t, mean_rank;
	size_t i, j;

	*ties = 0;
	qsort(v, n, sizeof(*v), cmp_ranked);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && v[j].value == v[i].value; j++)
			;
		t = j - i;
		*ties += t * t * t - t;
		mean_rank = (i + 1 + j) / 2.0;
		for (; i < j; i++)
			if (v[i].counted)
				sum += mean_rank;
	}
	return sum;
}

double mann_whitney_greater(const double *a, size_t na,
			    const double *b, size_t nb)
{
	size_t n = na + nb, i;
	double rank_sum_b, ties, u, mu, sigma;
	struct ranked *all;

	if (!na || !nb)
		return 1;
	all = malloc(n * sizeof(*all));
	if (!all)
		abort();
	for (i = 0; i < na; i++)
		all[i] = (struct ranked){ a[i], false };
	for (i = 0; i < nb; i++)
		all[na + i] = (struct ranked){ b[i], true };
	rank_sum_b = counted_rank_sum(all, n, &ties);
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

/*
 * The continued fraction of the incomplete beta function,
 *   1 / (1 + d1 / (1 + d2 / (1 + ...))),
 *   d(2m+1) = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)),
 *   d(2m) = m (b - m) x / ((a + 2m - 1)(a + 2m)),
 * evaluated front to back by the modified Lentz method. It converges
 * quickly for x < (a + 1) / (a + b + 2); the caller swaps the arguments
 * otherwise.
 */
static double beta_fraction(double a, double b, double x)
{
	/* Stands in for a zero denominator, small yet safe to invert. */
	const double tiny = FLT_MIN;
	double f = tiny, c = tiny, d = 0, coef, step;
	int k, m;

	for (k = 0; k < 1000; k++) {
		m = k / 2;
		if (k == 0)
			coef = 1;
		else if (k % 2)
			coef = -(a + m) * (a + b + m) * x /
			       ((a + 2 * m) * (a + 2 * m + 1));
		else
			coef = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
		d = 1 + coef * d;
		d = 1 / (fabs(d) < tiny ? tiny : d);
		c = 1 + coef / c;
		if (fabs(c) < tiny)
			c = tiny;
		step = c * d;
		f *= step;
		if (fabs(step - 1) < 4 * DBL_EPSILON)
			break;
	}
	return f;
}

/* The regularized incomplete beta function I_x(a, b). */
static double incomplete_beta(double a, double b, double x)
{
	double front;

	if (x <= 0)
		return 0;
	if (x >= 1)
		return 1;
	front = exp(a * log(x) + b * log1p(-x) + lgamma(a + b) - lgamma(a) -
		    lgamma(b));
	if (x < (a + 1) / (a + b + 2))
		return front * beta_fraction(a, b, x) / a;
	return 1 - front * beta_fraction(b, a, 1 - x) / b;
}

/* P(|T| > t) / 2 for t >= 0, without the cancellation of 1 - cdf. */
static double student_t_tail(double t, double df)
{
	return 0.5 * incomplete_beta(df / 2, 0.5, df / (df + t * t));
}

double student_t_cdf(double t, double df)
{
	double tail;

	if (isnan(t) || !(df > 0))
		return NAN;
	tail = student_t_tail(fabs(t), df);
	return t > 0 ? 1 - tail : tail;
}

double student_t_quantile(double p, double df)
{
	double lo = 0, hi = 1, mid, tail;
	int i;

	if (!(p > 0 && p < 1) || !(df > 0))
		return NAN;
	if (p < 0.5)
		return -student_t_quantile(1 - p, df);
	tail = 1 - p;
	if (tail == 0.5)
		return 0;
	/* The tail falls as t grows: bracket the answer, then halve. */
	while (student_t_tail(hi, df) > tail && hi < 1e300) {
		lo = hi;
		hi *= 2;
	}
	for (i = 0; i < 2000 && hi - lo > 64 * DBL_EPSILON * hi; i++) {
		mid = lo + (hi - lo) / 2;
		if (student_t_tail(mid, df) > tail)
			lo = mid;
		else
			hi = mid;
	}
	return lo + (hi - lo) / 2;
}

/* Mean and sample variance of ln(v); false if a value is not positive. */
static bool log_moments(const double *v, size_t n, double *mean, double *var)
{
	double sum = 0, sq = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!(v[i] > 0))
			return false;
		sum += log(v[i]);
	}
	*mean = sum / n;
	for (i = 0; i < n; i++)
		sq += (log(v[i]) - *mean) * (log(v[i]) - *mean);
	*var = sq / (n - 1);
	return true;
}

int welch_ratio_interval(const double *base, size_t nb,
			 const double *cur, size_t nc, double level,
			 double *lo, double *hi)
{
	double mb, vb, mc, vc, eb, ec, se, df, half = 0;

	if (nb < 2 || nc < 2 || !log_moments(base, nb, &mb, &vb) ||
	    !log_moments(cur, nc, &mc, &vc))
		return -1;
	eb = vb / nb;
	ec = vc / nc;
	se = sqrt(eb + ec);
	/* Identical values on both sides: the difference is exact. */
	if (se > 0) {
		df = (eb + ec) * (eb + ec) /
		     (eb * eb / (nb - 1) + ec * ec / (nc - 1));
		half = student_t_quantile(0.5 + level / 2, df) * se;
	}
	*lo = exp(mc - mb - half);
	*hi = exp(mc - mb + half);
	return 0;
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

/*
 * The signed-rank test and the Hodges-Lehmann estimate, for paired
 * samples. Like the U test they assume no distribution of the timings,
 * only that without a change a difference is as likely one way as the
 * other.
 */

/*
 * P(W+ >= w_obs) when each of the ranks 1..n is counted in W+ with
 * probability one half, independently: adding rank r either leaves a sum
 * or raises it by r. In probabilities, not counts, as mw_exact_upper().
 */
static double wsr_exact_upper(size_t n, size_t w_obs)
{
	size_t wmax = n * (n + 1) / 2, r, w;
	double *p = calloc(wmax + 1, sizeof(*p)), upper = 0;

	if (!p)
		abort();
	p[0] = 1;
	for (r = 1; r <= n; r++) {
		for (w = r * (r + 1) / 2; w >= r; w--)
			p[w] = 0.5 * (p[w] + p[w - r]);
		for (w = 0; w < r; w++)
			p[w] *= 0.5;
	}
	for (w = w_obs; w <= wmax; w++)
		upper += p[w];
	free(p);
	return upper > 1 ? 1 : upper;
}

double wilcoxon_greater(const double *d, size_t n)
{
	double w_plus, ties, mu, sigma;
	struct ranked *v;
	size_t m = 0, i;

	v = malloc((n + 1) * sizeof(*v));
	if (!v)
		abort();
	/* Ranked by size, counted when positive. */
	for (i = 0; i < n; i++)
		if (d[i] != 0 && !isnan(d[i]))
			v[m++] = (struct ranked){ fabs(d[i]), d[i] > 0 };
	if (!m) {
		free(v);
		return 1;
	}
	w_plus = counted_rank_sum(v, m, &ties);
	free(v);

	if (ties == 0 && m <= WSR_EXACT_MAX)
		return wsr_exact_upper(m, (size_t)llround(w_plus));

	mu = m * (m + 1) / 4.0;
	sigma = sqrt(m * (m + 1) * (2 * m + 1) / 24.0 - ties / 48.0);
	if (sigma == 0)
		return 1;
	return 0.5 * erfc((w_plus - mu - 0.5) / sigma / M_SQRT2);
}

double wilcoxon_min_p(size_t n)
{
	/* All differences positive: one of 2^n equally likely sign patterns. */
	return pow(0.5, n);
}

/* A small generator of its own keeps hodges_lehmann() reproducible. */
static size_t next_random(unsigned long long *state)
{
	*state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
	return *state >> 17;
}

/*
 * Per row i of the Walsh sums x[i] + x[j], j >= i, of sorted x, the first
 * column whose sum reaches the pivot (ge[i]) and the first that exceeds it
 * (gt[i]). Rows and columns are both sorted, so the boundaries only move
 * left as i grows and one pass finds them all.
 */
static void walsh_bounds(const double *x, size_t n, double pivot,
			 size_t *ge, size_t *gt)
{
	size_t i, a = n, b = n;

	for (i = 0; i < n; i++) {
		while (a > 0 && x[i] + x[a - 1] >= pivot)
			a--;
		while (b > 0 && x[i] + x[b - 1] > pivot)
			b--;
		ge[i] = a > i ? a : i;
		gt[i] = b > i ? b : i;
	}
}

/*
 * The k-th smallest (from 0) of the n(n+1)/2 Walsh sums of sorted x,
 * without listing them, which --reps 100000 would make 40 GB. Monahan's
 * selection: the sums still in play are, per row, the columns lo[i] <= j <
 * hi[i]; a pivot drawn from them at random either is the answer or lets
 * every row drop the columns on its wrong side. Expected O(n log n). Sums
 * are compared as computed, never halved, so each is always the same
 * double.
 */
static double walsh_sum_select(const double *x, size_t n, size_t k)
{
	size_t *lo = malloc(n * sizeof(*lo)), *hi = malloc(n * sizeof(*hi));
	size_t *ge = malloc(n * sizeof(*ge)), *gt = malloc(n * sizeof(*gt));
	size_t active = n * (n + 1) / 2, nr_below, nr_upto, pick, i;
	unsigned long long state = 0x9e3779b97f4a7c15ULL;
	double pivot = NAN;

	if (!lo || !hi || !ge || !gt)
		abort();
	for (i = 0; i < n; i++) {
		lo[i] = i;
		hi[i] = n;
	}
	/* The answer is always in play, so this ends with the break. */
	while (active) {
		pick = next_random(&state) % active;
		for (i = 0; pick >= hi[i] - lo[i]; i++)
			pick -= hi[i] - lo[i];
		pivot = x[i] + x[lo[i] + pick];

		walsh_bounds(x, n, pivot, ge, gt);
		nr_below = 0;
		nr_upto = 0;
		for (i = 0; i < n; i++) {
			nr_below += ge[i] - i;
			nr_upto += gt[i] - i;
		}
		if (k >= nr_below && k < nr_upto)
			break;
		active = 0;
		for (i = 0; i < n; i++) {
			if (k < nr_below && hi[i] > ge[i])
				hi[i] = ge[i];
			else if (k >= nr_upto && lo[i] < gt[i])
				lo[i] = gt[i];
			if (hi[i] < lo[i])
				hi[i] = lo[i];
			active += hi[i] - lo[i];
		}
	}
	free(lo);
	free(hi);
	free(ge);
	free(gt);
	return pivot;
}

double hodges_lehmann(const double *d, size_t n)
{
	size_t nr_sums = n * (n + 1) / 2;
	double *x, hl;

	if (!n)
		return NAN;
	x = malloc(n * sizeof(*x));
	if (!x)
		abort();
	memcpy(x, d, n * sizeof(*x));
	qsort(x, n, sizeof(*x), cmp_double);
	/* Halve the sums only now: a Walsh average is a sum over two. */
	if (nr_sums % 2)
		hl = walsh_sum_select(x, n, nr_sums / 2) / 2;
	else
		hl = (walsh_sum_select(x, n, nr_sums / 2 - 1) +
		      walsh_sum_select(x, n, nr_sums / 2)) / 4;
	free(x);
	return hl;
}

void compare_paired(const double *base, const double *cur, size_t n,
		    const struct compare_policy *policy,
		    struct comparison *c)
{
	double *d = calloc(n + 1, sizeof(*d));
	struct summary sb, sc;
	size_t m = 0, i;

	if (!d)
		abort();
	summarize(base, n, &sb);
	summarize(cur, n, &sc);
	c->base_median = sb.median;
	c->cur_median = sc.median;
	/* A pair without a positive time on both sides has no ratio. */
	for (i = 0; i < n; i++)
		if (base[i] > 0 && cur[i] > 0 && isfinite(base[i]) &&
		    isfinite(cur[i]))
			d[m++] = log(cur[i] / base[i]);
	c->change = m ? expm1(hodges_lehmann(d, m)) : 0;
	c->p_slower = wilcoxon_greater(d, m);
	for (i = 0; i < m; i++)
		d[i] = -d[i];
	c->p_faster = wilcoxon_greater(d, m);
	free(d);
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
