/*
 * test_distance.c - unit tests of the distances and top-k selection:
 * hand-computed answers, a straightforward double-precision reference, and
 * top-k against a full sort.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "distance.h"
#include "unit.h"

/*
 * Is got within a few units in the last place of want?  For results that
 * involve a rounded division or square root: x87 builds may keep excess
 * precision in either operand.
 */
static int
close_to(double got, double want)
{
	return fabs(got - want) <= 4 * DBL_EPSILON * fabs(want);
}

/* Metric names, both ways. */
static void
test_metric_names(void)
{
	WlMetric	metric = WL_METRIC_L2;

	CHECK(wl_metric_parse("cosine", &metric) && metric == WL_METRIC_COSINE, "cosine parses");
	CHECK(wl_metric_parse("l2", &metric) && metric == WL_METRIC_L2, "l2 parses");
	CHECK(wl_metric_parse("inner_product", &metric) && metric == WL_METRIC_INNER_PRODUCT,
		  "inner_product parses");
	CHECK(!wl_metric_parse("L2", &metric) && !wl_metric_parse("cosine ", &metric) &&
		  !wl_metric_parse("", &metric) && !wl_metric_parse("euclidean", &metric),
		  "other names are refused (names are exact and lower case)");
	CHECK(metric == WL_METRIC_INNER_PRODUCT, "a refused name leaves the output alone");
	CHECK_STR(wl_metric_name(WL_METRIC_COSINE), "cosine", "cosine is named cosine");
	CHECK_STR(wl_metric_name(WL_METRIC_L2), "l2", "l2 is named l2");
	CHECK_STR(wl_metric_name(WL_METRIC_INNER_PRODUCT), "inner_product",
			  "inner_product is named inner_product");
	CHECK(wl_metric_name((WlMetric) 3) == NULL, "a value outside the enum has no name");
	CHECK(wl_metric_by_operator("<->", &metric) && metric == WL_METRIC_L2 &&
		  wl_metric_by_operator("<=>", &metric) && metric == WL_METRIC_COSINE &&
		  wl_metric_by_operator("<#>", &metric) && metric == WL_METRIC_INNER_PRODUCT &&
		  !wl_metric_by_operator("<+>", &metric), "operators name their metrics, as in pgvector");
	{
		char		hint[128];

		wl_metric_hint(hint, sizeof(hint));
		CHECK_STR(hint, "Valid metrics are cosine, l2 and inner_product.",
				  "the hint lists every metric");
	}
}

/* Small vectors with answers worked out by hand. */
static void
test_hand_computed(void)
{
	const float a[3] = {1, 2, 2};
	const float b[3] = {2, 0, 0};
	const float opposite[3] = {-1, -2, -2};
	const float orthogonal[3] = {0, 1, -1};
	const float zero[3] = {0, 0, 0};
	const float origin[2] = {0, 0};
	const float point[2] = {3, 4};
	float		counting[11];
	float		ones[11];
	int			i;

	for (i = 0; i < 11; i++)
	{
		counting[i] = (float) (i + 1);
		ones[i] = 1;
	}

	/* |a - b| = |(-1, 2, 2)| = sqrt(9) = 3 */
	CHECK(wl_distance(WL_METRIC_L2, a, b, 3) == 3.0, "L2 of (1,2,2) and (2,0,0) is 3");
	CHECK(wl_distance(WL_METRIC_L2, origin, point, 2) == 5.0, "L2 of (0,0) and (3,4) is 5");
	CHECK(wl_distance(WL_METRIC_L2, a, a, 3) == 0.0, "L2 of a vector to itself is 0");
	/* 11 dimensions also run the tail after the 8-lane loop */
	CHECK(close_to(wl_distance(WL_METRIC_L2, counting, ones, 11), sqrt(385.0)),
		  "L2 of 1..11 and ones is sqrt(0 + 1 + 4 + ... + 100) = sqrt(385)");

	/* a . b = 2 */
	CHECK(wl_distance(WL_METRIC_INNER_PRODUCT, a, b, 3) == -2.0,
		  "inner product distance of (1,2,2) and (2,0,0) is -2");
	CHECK(wl_distance(WL_METRIC_INNER_PRODUCT, counting, ones, 11) == -66.0,
		  "inner product distance of 1..11 and ones is -66");

	/* cos = 2 / (3 * 2) */
	CHECK(close_to(wl_distance(WL_METRIC_COSINE, a, b, 3), 2.0 / 3.0),
		  "cosine distance of (1,2,2) and (2,0,0) is 1 - 2/6 = 2/3");
	CHECK(wl_distance(WL_METRIC_COSINE, a, a, 3) == 0.0, "cosine distance to itself is 0");
	CHECK(wl_distance(WL_METRIC_COSINE, a, opposite, 3) == 2.0,
		  "cosine distance to the opposite vector is 2");
	CHECK(wl_distance(WL_METRIC_COSINE, b, orthogonal, 3) == 1.0,
		  "cosine distance of orthogonal vectors is 1");
	CHECK(isnan(wl_distance(WL_METRIC_COSINE, a, zero, 3)) &&
		  isnan(wl_distance(WL_METRIC_COSINE, zero, zero, 3)),
		  "cosine distance with a zero vector is NaN, as in pgvector");
	CHECK(wl_distance(WL_METRIC_L2, zero, zero, 3) == 0.0 &&
		  wl_distance(WL_METRIC_INNER_PRODUCT, zero, a, 3) == 0.0,
		  "L2 and inner product of zero vectors are 0");
}

/* Each metric against a plain double-precision loop, for several lengths. */
static void
test_against_reference(void)
{
	static const int lengths[] = {1, 7, 8, 9, 783, 784, 785};
	float	   *a = malloc(sizeof(float) * 785);
	float	   *b = malloc(sizeof(float) * 785);
	uint64_t	state = 42;
	double		worst = 0;
	int			ok = 1;
	int			trial;
	int			l;
	int			i;

	for (trial = 0; trial < 20; trial++)
		for (l = 0; l < (int) (sizeof(lengths) / sizeof(lengths[0])); l++)
		{
			int			dims = lengths[l];
			double		dot = 0;
			double		norm_a = 0;
			double		norm_b = 0;
			double		squares = 0;
			double		want[3];
			double		got[3];
			int			m;

			for (i = 0; i < dims; i++)
			{
				a[i] = (float) (test_uniform(&state) * 10);
				b[i] = (float) (test_uniform(&state) * 10);
				dot += (double) a[i] * b[i];
				norm_a += (double) a[i] * a[i];
				norm_b += (double) b[i] * b[i];
				squares += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
			}
			want[0] = sqrt(squares);
			want[1] = 1.0 - dot / (sqrt(norm_a) * sqrt(norm_b));
			want[2] = -dot;
			got[0] = wl_distance(WL_METRIC_L2, a, b, dims);
			got[1] = wl_distance(WL_METRIC_COSINE, a, b, dims);
			got[2] = wl_distance(WL_METRIC_INNER_PRODUCT, a, b, dims);
			for (m = 0; m < 3; m++)
			{
				/*
				 * Relative error; but a cosine distance is a difference from
				 * 1 (exactly 0 or 2 in one dimension), so its error is
				 * measured against 1.
				 */
				double		scale = m == 1 ? 1.0 : fabs(want[m]);
				double		error = fabs(got[m] - want[m]) / scale;

				if (error > worst)
					worst = error;
				ok &= error <= 1e-9;
			}
		}
	printf("# worst relative error %g\n", worst);
	CHECK(ok, "L2, cosine and inner product match a double reference within 1e-9 (up to 785 dims)");
	free(a);
	free(b);
}

/* A distance and its index, for the full-sort reference. */
typedef struct Candidate
{
	double		distance;
	int			index;
} Candidate;

static int
compare_candidates(const void *x, const void *y)
{
	const Candidate *a = x;
	const Candidate *b = y;

	if (a->distance != b->distance)
		return a->distance < b->distance ? -1 : 1;
	return a->index - b->index;
}

/*
 * Top-k of 10,000 distances against a full sort, for k = 1, 10 and 100:
 * distances on a coarse grid make many ties, and every 97th is NaN.  The
 * candidates are offered forwards and backwards: the result must not
 * depend on the order.
 */
static void
test_topk_against_sort(void)
{
	enum
	{
		n = 10000
	};
	static const int ks[] = {1, 10, 100};
	Candidate  *all = malloc(sizeof(Candidate) * n);
	Candidate  *sorted = malloc(sizeof(Candidate) * n);
	double		distances[100];
	int			indexes[100];
	uint64_t	state = 3;
	int			nsorted = 0;
	int			ties = 0;
	int			t;
	int			i;

	for (i = 0; i < n; i++)
	{
		all[i].distance = i % 97 == 0 ? NAN : floor(test_uniform(&state) * 500);
		all[i].index = i;
		if (!isnan(all[i].distance))
			sorted[nsorted++] = all[i];
	}
	qsort(sorted, nsorted, sizeof(Candidate), compare_candidates);
	for (i = 1; i < 100; i++)
		ties += sorted[i].distance == sorted[i - 1].distance;
	CHECK(ties > 50, "the test data has many ties among the best 100");

	for (t = 0; t < 3; t++)
	{
		int			k = ks[t];
		int			direction;

		for (direction = 0; direction < 2; direction++)
		{
			void	   *memory = malloc(wl_topk_size(k));
			WlTopK	   *topk = wl_topk_init(memory, k);
			int			count;
			int			ok;

			for (i = 0; i < n; i++)
			{
				const Candidate *c = &all[direction == 0 ? i : n - 1 - i];

				wl_topk_push(topk, c->distance, c->index);
			}
			count = wl_topk_sorted(topk, distances, indexes);
			ok = count == k;
			for (i = 0; i < count; i++)
				ok &= distances[i] == sorted[i].distance && indexes[i] == sorted[i].index;
			printf("# k = %d, %s\n", k, direction == 0 ? "forwards" : "backwards");
			CHECK(ok, "top-k equals the head of a full sort (ties by index, no NaN)");
			CHECK(wl_topk_sorted(topk, distances, indexes) == 0, "sorting empties the selector");
			free(memory);
		}
	}
	free(all);
	free(sorted);
}

/* Fewer candidates than k, only NaN, infinity, and bad k. */
static void
test_topk_edges(void)
{
	void	   *memory = malloc(wl_topk_size(5));
	WlTopK	   *topk = wl_topk_init(memory, 5);
	double		distances[5];
	int			indexes[5];
	int			count;

	wl_topk_push(topk, 2.0, 7);
	wl_topk_push(topk, NAN, 1);
	wl_topk_push(topk, INFINITY, 2);
	wl_topk_push(topk, -1.0, 9);
	count = wl_topk_sorted(topk, distances, indexes);
	CHECK(count == 3 && distances[0] == -1.0 && indexes[0] == 9 && distances[1] == 2.0 &&
		  indexes[1] == 7 && distances[2] == INFINITY && indexes[2] == 2,
		  "fewer than k: all non-NaN candidates, ascending, infinity last");

	wl_topk_push(topk, NAN, 0);
	wl_topk_push(topk, NAN, 1);
	CHECK(wl_topk_sorted(topk, distances, indexes) == 0, "only NaN: nothing kept");

	wl_topk_push(topk, 1.0, 3);
	wl_topk_push(topk, 1.0, 3);
	wl_topk_push(topk, 1.0, 1);
	count = wl_topk_sorted(topk, distances, indexes);
	CHECK(count == 3 && indexes[0] == 1 && indexes[1] == 3 && indexes[2] == 3,
		  "equal distances come out by index");
	free(memory);

	CHECK(wl_topk_init(&count, 0) == NULL && wl_topk_init(&count, -1) == NULL,
		  "k < 1 is refused");
}

int
main(void)
{
	test_metric_names();
	test_hand_computed();
	test_against_reference();
	test_topk_against_sort();
	test_topk_edges();
	return unit_done();
}
