/*
 * test_lsh.c - unit tests of the LSH maths and distances: exact keys and
 * bits, a generator that must never change, multi-probe order against
 * brute force, and distances and top-k against straightforward references.
 */
#include <math.h>
#include <stdlib.h>

#include "distance.h"
#include "lsh.h"
#include "unit.h"

/* A reproducible double in [-1, 1) for test data. */
static double
test_random(unsigned *state)
{
	*state = *state * 1103515245u + 12345u;
	return ((*state >> 8) & 0xffff) / 32768.0 - 1.0;
}

/*
 * The seeded generator is part of the storage format: planes are derived,
 * never stored.  These values were computed by an independent Python
 * implementation of the same integer algorithm (splitmix64 -> xoshiro256**,
 * Irwin-Hall of 12 53-bit integers) for seed 42.
 */
static void
test_seeded_planes(void)
{
	WlLsh	   *lsh = wl_lsh_create_seeded(2, 1, 2, 42);
	const double *planes = wl_lsh_planes(lsh, 0);
	WlLsh	   *again = wl_lsh_create_seeded(2, 1, 2, 42);
	WlLsh	   *other = wl_lsh_create_seeded(2, 1, 2, 43);
	WlLsh	   *big = wl_lsh_create_seeded(784, 8, 12, 7);
	double		sum = 0;
	double		squares = 0;
	int			n = 784 * 12;
	int			t;
	int			i;

	CHECK(planes[0] == 1.7162442967012348, "plane value 0 is the golden value");
	CHECK(planes[1] == 0.90496837875784841, "plane value 1 is the golden value");
	CHECK(planes[2] == 1.2638128195207141, "plane value 2 is the golden value");
	CHECK(planes[3] == 1.2727371553056495, "plane value 3 is the golden value");
	CHECK(memcmp(planes, wl_lsh_planes(again, 0), 4 * sizeof(double)) == 0,
		  "the same seed gives the same planes");
	CHECK(memcmp(planes, wl_lsh_planes(other, 0), 4 * sizeof(double)) != 0,
		  "another seed gives other planes");
	for (t = 0; t < 8; t++)
		for (i = 0; i < n; i++)
		{
			double		x = wl_lsh_planes(big, t)[i];

			sum += x;
			squares += x * x;
		}
	CHECK(fabs(sum / (8.0 * n)) < 0.02, "plane entries have mean near 0");
	CHECK(fabs(squares / (8.0 * n) - 1.0) < 0.03, "plane entries have variance near 1");
	CHECK(wl_lsh_total_bits(big) == 96, "8 tables of 12 bits make 96");
	wl_lsh_destroy(lsh);
	wl_lsh_destroy(again);
	wl_lsh_destroy(other);
	wl_lsh_destroy(big);
}

/* Keys as the original library spells them, and native keys. */
static void
test_keys(void)
{
	char		key[WL_LSH_KEY_MAX];
	double		projections[8] = {1, 1, 1, 1, -1, -1, 1, -1};
	double		zeros[3] = {0, -0.0, -1e-300};

	CHECK(wl_lsh_code(projections, 8) == 242, "bits 11110010 are 242 (bit 0 most significant)");
	wl_lsh_key_v1(242, key);
	CHECK_STR(key, "6Q", "242 is 6Q in base 36");
	wl_lsh_key_v1(255, key);
	CHECK_STR(key, "73", "255 is 73 in base 36");
	wl_lsh_key_v1(0, key);
	CHECK_STR(key, "0", "0 is 0");
	wl_lsh_key_v1(((uint64_t) 1 << 62) - 1, key);
	CHECK_STR(key, "Z1CI99JJ7473", "2^62-1 in base 36 (Python's numpy.base_repr)");
	CHECK(wl_lsh_code(zeros, 3) == 6, "zero and minus zero count as 1, negatives as 0");
	wl_lsh_key_native(3, 0xa5f, 12, key);
	CHECK_STR(key, "3:a5f", "native key: table and hex");
	wl_lsh_key_native(0, 1, 12, key);
	CHECK_STR(key, "0:001", "native key is zero-padded to the bit width");
	wl_lsh_key_native(63, ((uint64_t) 1 << 62) - 1, 62, key);
	CHECK_STR(key, "63:3fffffffffffffff", "the longest native key fits");
}

/* Projections against a reference, with and without a centre. */
static void
test_projection(void)
{
	int			dims = 50;
	int			bits[2] = {5, 7};
	double		plane0[50 * 5];
	double		plane1[50 * 7];
	const double *planes[2] = {plane0, plane1};
	float		vector[50];
	float		center[50];
	float		shifted[50];
	double		got[12];
	double		want[12];
	double		centered[12];
	unsigned	state = 1;
	WlLsh	   *lsh;
	int			ok = 1;
	int			i;
	int			b;
	int			f;

	for (i = 0; i < 50 * 5; i++)
		plane0[i] = test_random(&state);
	for (i = 0; i < 50 * 7; i++)
		plane1[i] = test_random(&state);
	for (f = 0; f < dims; f++)
	{
		vector[f] = (float) test_random(&state);
		center[f] = (float) test_random(&state);
		shifted[f] = vector[f] - center[f];
	}
	lsh = wl_lsh_create_from_planes(dims, 2, bits, planes);
	wl_lsh_project(lsh, vector, got);
	for (b = 0; b < 5; b++)
	{
		want[b] = 0;
		for (f = 0; f < dims; f++)
			want[b] += (double) vector[f] * plane0[f * 5 + b];
	}
	for (b = 0; b < 7; b++)
	{
		want[5 + b] = 0;
		for (f = 0; f < dims; f++)
			want[5 + b] += (double) vector[f] * plane1[f * 7 + b];
	}
	for (i = 0; i < 12; i++)
		ok &= fabs(got[i] - want[i]) < 1e-12;
	CHECK(ok, "projections match the [f][b] row-major reference");

	wl_lsh_set_center(lsh, center);
	wl_lsh_project(lsh, vector, centered);
	wl_lsh_set_center(lsh, NULL);
	wl_lsh_project(lsh, shifted, got);
	ok = 1;
	for (i = 0; i < 12; i++)
		ok &= fabs(got[i] - centered[i]) < 1e-6;
	CHECK(ok, "a centre acts as subtracting it from the vector");
	wl_lsh_destroy(lsh);
}

/* Score of a flip set: the sum of |projection| of the flipped bits. */
static double
flip_score(const double *projections, int bits, uint64_t home, uint64_t code)
{
	double		score = 0;
	int			b;

	for (b = 0; b < bits; b++)
		if (((home ^ code) >> (bits - 1 - b)) & 1)
			score += fabs(projections[b]);
	return score;
}

static int
compare_doubles(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return x < y ? -1 : x > y;
}

/* Multi-probe order against enumerating every flip set. */
static void
test_probes(void)
{
	double		projections[10];
	uint64_t	probes[1024];
	double		all_scores[1024];
	unsigned	state = 7;
	uint64_t	home;
	int			n;
	int			ok = 1;
	int			i;
	int			j;
	char		seen[256] = {0};

	for (i = 0; i < 10; i++)
		projections[i] = test_random(&state);
	home = wl_lsh_code(projections, 10);
	n = wl_lsh_probes(projections, 10, 20, probes);
	CHECK(n == 20, "20 probes are written");
	CHECK(probes[0] == home, "the first probe is the home bucket");
	for (i = 0; i < 1024; i++)
		all_scores[i] = flip_score(projections, 10, home, home ^ (uint64_t) i);
	qsort(all_scores, 1024, sizeof(double), compare_doubles);
	for (i = 0; i < 20; i++)
		ok &= fabs(flip_score(projections, 10, home, probes[i]) - all_scores[i]) < 1e-12;
	CHECK(ok, "probe scores equal the 20 lowest of all 1,024 flip sets, in order");
	ok = 1;
	for (i = 0; i < 20; i++)
		for (j = 0; j < i; j++)
			ok &= probes[i] != probes[j];
	CHECK(ok, "no probe repeats");

	n = wl_lsh_probes(projections, 8, 256, probes);
	ok = n == 256;
	for (i = 0; i < n; i++)
	{
		ok &= probes[i] < 256 && !seen[probes[i]];
		seen[probes[i] & 255] = 1;
	}
	CHECK(ok, "256 probes of 8 bits visit every bucket once");
	CHECK(wl_lsh_probes(projections, 3, 100, probes) == 8, "3 bits have only 8 buckets");
}

/* Distances on small vectors with known answers. */
static void
test_distances(void)
{
	float		a[3] = {1, 2, 2};
	float		b[3] = {2, 0, 0};
	float		zero[3] = {0, 0, 0};
	WlMetric	metric;

	CHECK(fabs(wl_distance(WL_METRIC_L2, a, b, 3) - 3.0) < 1e-12, "L2 of (1,2,2),(2,0,0) is 3");
	CHECK(fabs(wl_distance(WL_METRIC_INNER_PRODUCT, a, b, 3) + 2.0) < 1e-12,
		  "inner product distance is -2");
	CHECK(fabs(wl_distance(WL_METRIC_COSINE, a, b, 3) - (1.0 - 2.0 / 6.0)) < 1e-12,
		  "cosine distance is 1 - 2/6");
	CHECK(fabs(wl_distance(WL_METRIC_COSINE, a, a, 3)) < 1e-12, "cosine distance to itself is 0");
	CHECK(isnan(wl_distance(WL_METRIC_COSINE, a, zero, 3)), "cosine with a zero vector is NaN");
	CHECK(wl_metric_parse("inner_product", &metric) && metric == WL_METRIC_INNER_PRODUCT,
		  "inner_product parses");
	CHECK(!wl_metric_parse("L2", &metric), "metric names are lower case");
	CHECK_STR(wl_metric_name(WL_METRIC_L2), "l2", "l2 is named l2");
}

static int
compare_pairs(const void *a, const void *b)
{
	const double *x = a;
	const double *y = b;

	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return x[1] < y[1] ? -1 : x[1] > y[1];
}

/* Top-k against a full sort, with ties and NaN. */
static void
test_topk(void)
{
	static double pairs[10000][2];
	double		distances[100];
	int			indexes[100];
	unsigned	state = 3;
	int			ks[3] = {1, 10, 100};
	int			ok = 1;
	int			t;
	int			i;

	for (t = 0; t < 3; t++)
	{
		WlTopK	   *topk = wl_topk_create(ks[t]);
		int			n;

		for (i = 0; i < 10000; i++)
		{
			pairs[i][0] = floor(test_random(&state) * 500);	/* many ties */
			pairs[i][1] = i;
			wl_topk_push(topk, i % 97 == 0 ? NAN : pairs[i][0], i);
			if (i % 97 == 0)
				pairs[i][0] = INFINITY;
		}
		qsort(pairs, 10000, sizeof(pairs[0]), compare_pairs);
		n = wl_topk_sorted(topk, distances, indexes);
		ok &= n == ks[t];
		for (i = 0; i < n; i++)
			ok &= distances[i] == pairs[i][0] && indexes[i] == (int) pairs[i][1];
		wl_topk_destroy(topk);
	}
	CHECK(ok, "top-k equals the head of a full sort (ties by index, NaN never kept)");
}

int
main(void)
{
	test_seeded_planes();
	test_keys();
	test_projection();
	test_probes();
	test_distances();
	test_topk();
	return unit_done();
}
