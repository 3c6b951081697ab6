/*
 * test_lsh.c - unit tests of the LSH maths: v1 keys and bit order exactly
 * as the original library has them, hashing against a brute-force
 * reference, native keys, a plane generator that must never change, the
 * centre, and multi-probe order against enumerating every flip set.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "lsh.h"
#include "unit.h"

/* FNV-1a (64 bits) over the little-endian bytes of doubles, whatever the host. */
static uint64_t
fnv1a_doubles(const double *values, size_t count, uint64_t hash)
{
	size_t		i;
	int			byte;

	for (i = 0; i < count; i++)
	{
		uint64_t	bits;

		memcpy(&bits, &values[i], sizeof(bits));
		for (byte = 0; byte < 8; byte++)
		{
			hash ^= (bits >> (8 * byte)) & 0xff;
			hash *= UINT64_C(0x100000001b3);
		}
	}
	return hash;
}

/* v1 keys: base 36, upper case, no padding. */
static void
test_keys_v1(void)
{
	char		key[WL_LSH_KEY_MAX];

	wl_lsh_key_v1(242, key);
	CHECK_STR(key, "6Q", "v1: 242 (bits 11110010) is 6Q, as the original has it");
	wl_lsh_key_v1(255, key);
	CHECK_STR(key, "73", "v1: 255 (8 ones) is 73, as the original has it");
	wl_lsh_key_v1(0, key);
	CHECK_STR(key, "0", "v1: 0 is 0");
	wl_lsh_key_v1(35, key);
	CHECK_STR(key, "Z", "v1: 35 is Z");
	wl_lsh_key_v1(36, key);
	CHECK_STR(key, "10", "v1: 36 is 10");

	/* python3: int("Z1CI99JJ7473", 36) == 2**62 - 1 */
	wl_lsh_key_v1((UINT64_C(1) << 62) - 1, key);
	CHECK_STR(key, "Z1CI99JJ7473", "v1: 2^62-1 is Z1CI99JJ7473");
	/* python3: int("3W5E11264SGSF", 36) == 2**64 - 1 */
	wl_lsh_key_v1(UINT64_MAX, key);
	CHECK_STR(key, "3W5E11264SGSF", "v1: 2^64-1 is 3W5E11264SGSF");
}

/* Bit 0 is the most significant, and a zero projection counts as 1. */
static void
test_bit_order(void)
{
	/* Two features, 8 planes: row 0 is what (1, 0) projects to. */
	const double plane[2 * 8] = {
		1, 1, 1, 1, -1, -1, 1, -1,
		0, -0.0, -1e-300, 1e-300, -2, 2, -3, 3,
	};
	const double *planes[1] = {plane};
	int			bits[1] = {8};
	const float along_first[2] = {1, 0};
	const float along_second[2] = {0, 1};
	const float zero[2] = {0, 0};
	double		projections[8];
	double		single_first[3] = {1, -1, -1};
	double		signed_zeros[3] = {0.0, -0.0, -1e-300};
	char		key[WL_LSH_KEY_MAX];
	WlLsh	   *lsh = wl_lsh_create_from_planes(2, 1, bits, planes);

	CHECK(wl_lsh_bits(single_first, 3) == 4, "bit 0 alone is the most significant bit");
	CHECK(wl_lsh_bits(signed_zeros, 3) == 6, "0 and -0 count as 1, a tiny negative as 0");

	wl_lsh_project(lsh, along_first, projections);
	CHECK(wl_lsh_bits(projections, 8) == 242, "planes 11110010 hash (1, 0) to 242");
	wl_lsh_key_v1(wl_lsh_bits(projections, 8), key);
	CHECK_STR(key, "6Q", "and its v1 key is 6Q");

	wl_lsh_project(lsh, along_second, projections);
	CHECK(wl_lsh_bits(projections, 8) == 0xd5, "row 1 hashes to 11010101 (0 and -0 as 1)");

	wl_lsh_project(lsh, zero, projections);
	wl_lsh_key_v1(wl_lsh_bits(projections, 8), key);
	CHECK_STR(key, "73", "the zero vector projects to zeros: 8 ones, key 73");
	wl_lsh_destroy(lsh);
}

/* Projections and codes against a straightforward double-precision reference. */
static void
test_hash_reference(void)
{
	enum
	{
		dims = 100, ntables = 3, nvectors = 50
	};
	const int	bits[ntables] = {8, 10, 12};
	double	   *plane_data[ntables];
	const double *planes[ntables];
	float		vector[dims];
	double		projections[30];
	uint64_t	state = 1;
	int			projections_ok = 1;
	int			codes_ok = 1;
	WlLsh	   *lsh;
	int			t;
	int			i;
	int			v;

	for (t = 0; t < ntables; t++)
	{
		plane_data[t] = malloc(sizeof(double) * dims * bits[t]);
		for (i = 0; i < dims * bits[t]; i++)
			plane_data[t][i] = test_uniform(&state);
		planes[t] = plane_data[t];
	}
	lsh = wl_lsh_create_from_planes(dims, ntables, bits, planes);

	for (v = 0; v < nvectors; v++)
	{
		int			offset = 0;

		for (i = 0; i < dims; i++)
			vector[i] = (float) test_uniform(&state);
		wl_lsh_project(lsh, vector, projections);
		for (t = 0; t < ntables; t++)
		{
			uint64_t	want_code = 0;
			int			b;

			for (b = 0; b < bits[t]; b++)
			{
				double		want = 0;
				int			f;

				for (f = 0; f < dims; f++)
					want += (double) vector[f] * plane_data[t][f * bits[t] + b];
				projections_ok &= fabs(projections[offset + b] - want) <= 1e-12 * (1 + fabs(want));
				if (want >= 0)
					want_code |= UINT64_C(1) << (bits[t] - 1 - b);
			}
			codes_ok &= wl_lsh_bits(projections + offset, bits[t]) == want_code;
			offset += bits[t];
		}
	}
	CHECK(projections_ok, "projections match the [f][b] row-major reference, table by table");
	CHECK(codes_ok, "codes match the reference for 50 vectors in tables of 8, 10 and 12 bits");

	CHECK(wl_lsh_dims(lsh) == dims && wl_lsh_ntables(lsh) == ntables,
		  "dims and ntables are reported");
	CHECK(wl_lsh_table_bits(lsh, 0) == 8 && wl_lsh_table_bits(lsh, 2) == 12 &&
		  wl_lsh_total_bits(lsh) == 30, "bits per table and in total are reported");
	plane_data[1][7] += 1.0;
	CHECK(wl_lsh_planes(lsh, 1)[7] == plane_data[1][7] - 1.0, "planes are copied");
	wl_lsh_destroy(lsh);
	for (t = 0; t < ntables; t++)
		free(plane_data[t]);
}

/* Native keys carry the table and fixed-width lower-case hex. */
static void
test_keys_native(void)
{
	char		key[WL_LSH_KEY_MAX];

	wl_lsh_key_native(3, 0xa5f, 12, key);
	CHECK_STR(key, "3:a5f", "native: table 3, 12 bits 0xa5f");
	wl_lsh_key_native(0, 1, 12, key);
	CHECK_STR(key, "0:001", "native: zero-padded to 3 digits for 12 bits");
	wl_lsh_key_native(12, 0, 10, key);
	CHECK_STR(key, "12:000", "native: 10 bits take 3 digits");
	wl_lsh_key_native(7, 1, 1, key);
	CHECK_STR(key, "7:1", "native: 1 bit takes 1 digit");
	wl_lsh_key_native(1, 0xabcd, 17, key);
	CHECK_STR(key, "1:0abcd", "native: 17 bits take 5 digits");
	wl_lsh_key_native(63, (UINT64_C(1) << 62) - 1, 62, key);
	CHECK_STR(key, "63:3fffffffffffffff", "native: 62 bits");
	wl_lsh_key_native(INT_MIN, UINT64_MAX, 64, key);
	CHECK_STR(key, "-2147483648:ffffffffffffffff", "native: the longest key fits WL_LSH_KEY_MAX");

	wl_lsh_key_split(3, 0xa5f6, 16, 4, key);
	CHECK_STR(key, "3:a5f/0110", "split: 12 bits in hex, 4 fine bits in binary");
	wl_lsh_key_split(3, 0xa5f, 12, 0, key);
	CHECK_STR(key, "3:a5f", "split: no fine bits is the native key");
	wl_lsh_key_split(0, 1, 13, 1, key);
	CHECK_STR(key, "0:000/1", "split: the high bits keep their own padding");
	wl_lsh_key_split(INT_MIN, UINT64_MAX >> 2, 62, WL_LSH_MAX_SUFFIX_BITS, key);
	CHECK_STR(key, "-2147483648:3fffffffff/111111111111111111111111",
			  "split: the longest key fits WL_LSH_KEY_MAX");
}

/*
 * The seeded generator is part of the storage format: planes are derived,
 * never stored.  The expected values below were computed by an independent
 * Python implementation of the same integer algorithm (splitmix64 seeding
 * xoshiro256**, both checked against their published test vectors; the
 * Irwin-Hall sum of 12 53-bit integers minus 6 * 2^53, converted to float
 * once and scaled by 2^-53), and agree with this implementation bit for bit.
 * They must never change.
 */
static void
test_seeded_golden(void)
{
	static const double first[8] = {
		1.7162442967012348, 0.90496837875784797, 1.2638128195207141,
		1.2727371553056495, 0.21692898609556455, -0.33831989509020688,
		-0.32869757379114695, 0.27851506679689686,
	};
	static const double small_first = 0.65762342387930139;
	static const double small_eighth = -0.81245353393069208;
	WlLsh	   *lsh = wl_lsh_create_seeded(784, 8, 12, 42);
	WlLsh	   *small = wl_lsh_create_seeded(3, 2, 2, 7);
	uint64_t	hash = UINT64_C(0xcbf29ce484222325);
	int			ok = 1;
	int			i;
	int			t;

	for (i = 0; i < 8; i++)
	{
		ok &= wl_lsh_planes(lsh, 0)[i] == first[i];
		printf("# plane[0][%d] = %.17g\n", i, wl_lsh_planes(lsh, 0)[i]);
	}
	CHECK(ok, "seed 42: the first 8 plane values are the golden ones");
	for (t = 0; t < 8; t++)
		hash = fnv1a_doubles(wl_lsh_planes(lsh, t), 784 * 12, hash);
	printf("# fnv1a64 = %016llx\n", (unsigned long long) hash);
	CHECK(hash == UINT64_C(0xae693585dc976939),
		  "seed 42, 784 dims, 8 tables of 12 bits: FNV-1a of all planes is golden");

	CHECK(wl_lsh_planes(small, 0)[0] == small_first &&
		  wl_lsh_planes(small, 1)[1] == small_eighth,
		  "seed 7, 3 dims, 2 tables of 2 bits: table 1 follows table 0 in the stream");
	hash = fnv1a_doubles(wl_lsh_planes(small, 0), 6, UINT64_C(0xcbf29ce484222325));
	hash = fnv1a_doubles(wl_lsh_planes(small, 1), 6, hash);
	CHECK(hash == UINT64_C(0xe2d3867d9022cc93), "seed 7: FNV-1a of all planes is golden");
	wl_lsh_destroy(lsh);
	wl_lsh_destroy(small);
}

/* Same seed, same planes; other seeds and other tables differ; bad shapes refused. */
static void
test_seeded_properties(void)
{
	enum
	{
		dims = 784, ntables = 8, bits = 12
	};
	WlLsh	   *lsh = wl_lsh_create_seeded(dims, ntables, bits, 12345);
	WlLsh	   *again = wl_lsh_create_seeded(dims, ntables, bits, 12345);
	WlLsh	   *other = wl_lsh_create_seeded(dims, ntables, bits, 12346);
	size_t		per_table = sizeof(double) * dims * bits;
	double		sum = 0;
	double		squares = 0;
	double		n = (double) ntables * dims * bits;
	double		mean;
	double		variance;
	int			same = 1;
	int			in_range = 1;
	int			t;
	int			i;

	for (t = 0; t < ntables; t++)
		same &= memcmp(wl_lsh_planes(lsh, t), wl_lsh_planes(again, t), per_table) == 0;
	CHECK(same, "the same seed gives the same planes");
	CHECK(memcmp(wl_lsh_planes(lsh, 0), wl_lsh_planes(other, 0), per_table) != 0,
		  "another seed gives other planes");
	CHECK(memcmp(wl_lsh_planes(lsh, 0), wl_lsh_planes(lsh, 1), per_table) != 0,
		  "tables have different planes");

	for (t = 0; t < ntables; t++)
		for (i = 0; i < dims * bits; i++)
		{
			double		x = wl_lsh_planes(lsh, t)[i];

			sum += x;
			squares += x * x;
			in_range &= x >= -6.0 && x < 6.0;
		}
	mean = sum / n;
	variance = squares / n - mean * mean;
	printf("# mean %.5f, variance %.5f over %.0f entries\n", mean, variance, n);
	CHECK(fabs(mean) < 0.02, "plane entries have mean near 0 (75,264 entries)");
	CHECK(fabs(variance - 1.0) < 0.03, "plane entries have variance near 1");
	CHECK(in_range, "plane entries lie in [-6, 6)");
	CHECK(wl_lsh_total_bits(lsh) == ntables * bits, "8 tables of 12 bits make 96");
	wl_lsh_destroy(lsh);
	wl_lsh_destroy(again);
	wl_lsh_destroy(other);

	CHECK(wl_lsh_create_seeded(dims, ntables, 0, 1) == NULL, "0 bits are refused");
	CHECK(wl_lsh_create_seeded(dims, ntables, 63, 1) == NULL, "63 bits are refused");
	CHECK(wl_lsh_create_seeded(0, ntables, bits, 1) == NULL, "0 dims are refused");
	CHECK(wl_lsh_create_seeded(dims, 0, bits, 1) == NULL, "0 tables are refused");
	lsh = wl_lsh_create_seeded(2, 1, 62, 1);
	CHECK(lsh != NULL && wl_lsh_table_bits(lsh, 0) == 62, "62 bits are accepted");
	wl_lsh_destroy(lsh);
}

/* A centre acts exactly as subtracting it from the vector. */
static void
test_center(void)
{
	enum
	{
		dims = 64, ntables = 3, bits = 12
	};
	WlLsh	   *lsh = wl_lsh_create_seeded(dims, ntables, bits, 99);
	float		vector[dims];
	float		center[dims];
	float		shifted[dims];
	double		centered[ntables * bits];
	double		direct[ntables * bits];
	double		cleared[ntables * bits];
	double		plain[ntables * bits];
	uint64_t	state = 5;
	int			f;

	/* Multiples of 1/64 in [-8, 8): vector - center is exact in float. */
	for (f = 0; f < dims; f++)
	{
		vector[f] = (float) floor(test_uniform(&state) * 512) / 64;
		center[f] = (float) floor(test_uniform(&state) * 512) / 64;
		shifted[f] = vector[f] - center[f];
	}
	wl_lsh_project(lsh, vector, plain);
	CHECK(wl_lsh_set_center(lsh, center) == 0, "a centre is set");
	wl_lsh_project(lsh, vector, centered);
	CHECK(wl_lsh_set_center(lsh, NULL) == 0, "the centre is cleared");
	wl_lsh_project(lsh, shifted, direct);
	wl_lsh_project(lsh, vector, cleared);
	CHECK(memcmp(centered, direct, sizeof(centered)) == 0,
		  "projecting with a centre equals projecting vector - centre, bit for bit");
	CHECK(memcmp(cleared, plain, sizeof(plain)) == 0, "a cleared centre no longer applies");
	CHECK(memcmp(centered, plain, sizeof(plain)) != 0, "the centre changed the projections");
	wl_lsh_destroy(lsh);
}

/* The sum of |projection| over the bits set in flips (bit 0 most significant). */
static double
flip_score(const double *projections, int bits, uint64_t flips)
{
	double		score = 0;
	int			b;

	for (b = 0; b < bits; b++)
		if ((flips >> (bits - 1 - b)) & 1)
			score += fabs(projections[b]);
	return score;
}

/* A flip mask and its score, for the brute-force enumeration. */
typedef struct FlipCandidate
{
	double		score;
	uint64_t	flips;
} FlipCandidate;

/* Orders flip candidates by score, then mask. */
static int
compare_flip_candidates(const void *a, const void *b)
{
	const FlipCandidate *x = a;
	const FlipCandidate *y = b;

	if (x->score != y->score)
		return x->score < y->score ? -1 : 1;
	return x->flips < y->flips ? -1 : x->flips > y->flips;
}

/* Multi-probe against enumerating every flip set of 10 bits. */
static void
test_probes_brute_force(void)
{
	enum
	{
		bits = 10, nall = 1 << bits, nprobes = 20
	};
	double		projections[bits];
	uint64_t	probes[nall];
	FlipCandidate all[nall];
	char		seen[nall];
	uint64_t	state = 7;
	uint64_t	home;
	int			distinct = 1;
	int			same = 1;
	int			ordered = 1;
	int			once = 1;
	int			n;
	int			i;

	for (i = 0; i < bits; i++)
		projections[i] = test_uniform(&state);
	home = wl_lsh_bits(projections, bits);
	for (i = 0; i < nall; i++)
	{
		all[i].flips = (uint64_t) i;
		all[i].score = flip_score(projections, bits, (uint64_t) i);
	}
	qsort(all, nall, sizeof(all[0]), compare_flip_candidates);
	for (i = 1; i <= nprobes; i++)
		distinct &= all[i].score - all[i - 1].score > 1e-9;
	CHECK(distinct, "the test's 21 best flip sets have distinct scores");

	n = wl_lsh_probes(projections, bits, nprobes, probes);
	CHECK(n == nprobes, "20 probes are written");
	CHECK(probes[0] == home, "the first probe is the home bucket");
	for (i = 0; i < nprobes; i++)
		same &= probes[i] == (home ^ all[i].flips);
	CHECK(same, "the 20 probes are the 20 best of all 1,024 flip sets, in order");

	n = wl_lsh_probes(projections, bits, nall, probes);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < n; i++)
	{
		once &= probes[i] < nall && !seen[probes[i]];
		seen[probes[i] % nall] = 1;
		if (i > 0)
			ordered &= flip_score(projections, bits, home ^ probes[i]) >=
				flip_score(projections, bits, home ^ probes[i - 1]) - 1e-12;
	}
	CHECK(n == nall && once, "1,024 probes of 10 bits visit every bucket once");
	CHECK(ordered, "probe scores never decrease");
}

/* Small tables, ties, degenerate counts and 64-bit codes. */
static void
test_probes_edges(void)
{
	double		projections[64];
	double		tied[8] = {0.5, -0.5, 0.5, -0.5, 0.5, -0.5, 0.5, -0.5};
	uint64_t	probes[300];
	char		seen[256];
	uint64_t	state = 11;
	int			once = 1;
	int			smallest = 0;
	int			n;
	int			i;

	for (i = 0; i < 64; i++)
		projections[i] = test_uniform(&state);
	n = wl_lsh_probes(projections, 8, 256, probes);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < n; i++)
	{
		once &= probes[i] < 256 && !seen[probes[i]];
		seen[probes[i] & 255] = 1;
	}
	CHECK(n == 256 && once, "256 probes of 8 bits give every code exactly once");
	CHECK(wl_lsh_probes(projections, 8, 300, probes) == 256, "8 bits have only 256 buckets");
	CHECK(wl_lsh_probes(projections, 3, 100, probes) == 8, "3 bits have only 8 buckets");
	CHECK(wl_lsh_probes(projections, 8, 1, probes) == 1 &&
		  probes[0] == wl_lsh_bits(projections, 8), "one probe is the home bucket alone");
	CHECK(wl_lsh_probes(projections, 8, 0, probes) == 0, "no probes, nothing written");

	n = wl_lsh_probes(tied, 8, 256, probes);
	memset(seen, 0, sizeof(seen));
	once = 1;
	for (i = 0; i < n; i++)
	{
		once &= !seen[probes[i]];
		seen[probes[i] & 255] = 1;
	}
	CHECK(n == 256 && once, "equal margins still give every code exactly once");

	for (i = 1; i < 64; i++)
		if (fabs(projections[i]) < fabs(projections[smallest]))
			smallest = i;
	n = wl_lsh_probes(projections, 64, 5, probes);
	CHECK(n == 5 && probes[0] == wl_lsh_bits(projections, 64) &&
		  probes[1] == (probes[0] ^ (UINT64_C(1) << (63 - smallest))),
		  "64 bits: the second probe flips the bit nearest its plane");
}

/* A counting host: bytes lent and not yet returned, and a stop after some tables. */
typedef struct CountingHost
{
	long		live;			/* allocations not yet released */
	int			asked;			/* times stop was asked */
	int			stop_at;		/* stop when asked this many times; 0 never */
} CountingHost;

static void *
counting_alloc(size_t size, void *arg)
{
	((CountingHost *) arg)->live++;
	return malloc(size);
}

static void
counting_release(void *pointer, void *arg)
{
	((CountingHost *) arg)->live--;
	free(pointer);
}

static bool
counting_stop(void *arg)
{
	CountingHost *host = arg;

	return ++host->asked == host->stop_at;
}

/*
 * An LSH takes its memory from the host and gives all of it back, and a
 * host's stop abandons a derivation between tables, freeing what it took.
 */
static void
test_host(void)
{
	CountingHost counts = {0, 0, 0};
	WlLshHost	host = {counting_alloc, counting_release, counting_stop, &counts};
	WlLsh	   *lsh;
	WlLsh	   *plain = wl_lsh_create_seeded(16, 4, 8, 5);

	wl_lsh_set_host(&host);
	lsh = wl_lsh_create_seeded(16, 4, 8, 5);
	CHECK(lsh != NULL && counts.live > 4 && counts.asked == 4 && !wl_lsh_stopped(),
		  "the planes come from the host, which is asked once a table");
	CHECK(memcmp(wl_lsh_planes(lsh, 3), wl_lsh_planes(plain, 3), sizeof(double) * 16 * 8) == 0,
		  "a host changes where planes live, not what they are");
	wl_lsh_destroy(lsh);
	CHECK(counts.live == 0, "destroying the LSH gives the host back everything");

	counts.asked = 0;
	counts.stop_at = 3;
	lsh = wl_lsh_create_seeded(16, 4, 8, 5);
	CHECK(lsh == NULL && wl_lsh_stopped() && counts.asked == 3 && counts.live == 0,
		  "a stop abandons the derivation before table 3 and frees what it took");
	lsh = wl_lsh_create_seeded(0, 4, 8, 5);
	CHECK(lsh == NULL && !wl_lsh_stopped(), "a refused shape is not a stop");
	wl_lsh_set_host(NULL);
	wl_lsh_destroy(plain);
}

int
main(void)
{
	test_keys_v1();
	test_bit_order();
	test_hash_reference();
	test_keys_native();
	test_seeded_golden();
	test_seeded_properties();
	test_center();
	test_probes_brute_force();
	test_probes_edges();
	test_host();
	return unit_done();
}
