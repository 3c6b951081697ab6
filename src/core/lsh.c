/*
 * lsh.c - random-hyperplane LSH.
 *
 * Native planes are never stored: every backend of every server re-derives
 * them from the collection's seed, so the generator must give the same bits
 * on every machine and compiler, forever.  It therefore uses integer
 * arithmetic only (splitmix64 seeding xoshiro256**), and makes each normal
 * deviate with a single floating-point rounding that IEEE 754 defines to
 * the bit (see wl_random_normal).  No libm function is involved: log, cos or sqrt
 * may differ in the last bit between C libraries.
 */
#include "lsh.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Planes per block of the projection loop (see wl_lsh_project_table). */
#define WL_PROJECT_BLOCK 4

/* 2^-53, exact in double. */
#define WL_TWO_TO_MINUS_53 (1.0 / 9007199254740992.0)

struct WlLsh
{
	int			dims;
	int			ntables;
	int		   *bits;			/* per table */
	double	  **planes;			/* per table: dims x bits, row-major */
	float	   *center;			/* dims, or NULL */
};

/* The default host: the C library's allocator, never stopping. */
static void *
wl_default_alloc(size_t size, void *arg)
{
	return malloc(size);
}

static void
wl_default_release(void *pointer, void *arg)
{
	free(pointer);
}

static const WlLshHost wl_default_host = {wl_default_alloc, wl_default_release, NULL, NULL};

static WlLshHost wl_host = {wl_default_alloc, wl_default_release, NULL, NULL};

/* Whether the last derivation was abandoned by the host. */
static bool wl_last_stopped = false;

/*
 * A set of flipped bits for multi-probe.  Its members are positions in the
 * bits sorted by |projection|; last is the highest member, base the sum of
 * the members' margins but last's, and score = base + margins[last].
 */
typedef struct WlFlipSet
{
	double		base;
	double		score;
	uint64_t	flips;			/* the code bits the members flip */
	int			last;
} WlFlipSet;

/* splitmix64: the next output of a seed sequence, to fill the generator's state. */
static uint64_t
wl_splitmix64(uint64_t *state)
{
	uint64_t	z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Rotates x left by k (1..63) bits. */
static inline uint64_t
wl_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman and Vigna): the next 64 random bits. */
static uint64_t
wl_xoshiro256ss(uint64_t *s)
{
	uint64_t	result = wl_rotl(s[1] * 5, 7) * 9;
	uint64_t	t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = wl_rotl(s[3], 45);
	return result;
}

/* A generator seeded from seed by splitmix64 (see wl_lsh_create_seeded). */
void
wl_random_seed(WlRandom *random, uint64_t seed)
{
	uint64_t	seed_sequence = seed;
	int			i;

	for (i = 0; i < 4; i++)
		random->state[i] = wl_splitmix64(&seed_sequence);
}

/* The next 64 random bits. */
uint64_t
wl_random_next(WlRandom *random)
{
	return wl_xoshiro256ss(random->state);
}

/*
 * An approximately standard normal deviate, by Irwin-Hall: the sum of 12
 * uniforms on [0, 1) has mean 6 and variance 1.  Each uniform is a 53-bit
 * integer (the top bits of a generator output); the sum minus 6 * 2^53 is
 * exact in int64 (its magnitude is below 2^56), is converted to double once
 * (the only rounding: to nearest, ties to even, as IEEE 754 fixes it) and
 * scaled by 2^-53, which is exact.  Values lie in [-6, 6).
 */
double
wl_random_normal(WlRandom *random)
{
	uint64_t   *state = random->state;
	int64_t		sum = -((int64_t) 6 << 53);
	int			i;

	for (i = 0; i < 12; i++)
		sum += (int64_t) (wl_xoshiro256ss(state) >> 11);
	return (double) sum * WL_TWO_TO_MINUS_53;
}

/* See lsh.h. */
void
wl_lsh_set_host(const WlLshHost *host)
{
	wl_host = host != NULL ? *host : wl_default_host;
}

/* See lsh.h. */
bool
wl_lsh_stopped(void)
{
	return wl_last_stopped;
}

/* Memory from the host, zeroed; NULL when refused. */
static void *
wl_host_zalloc(size_t size)
{
	void	   *pointer = wl_host.alloc(size, wl_host.arg);

	if (pointer != NULL)
		memset(pointer, 0, size);
	return pointer;
}

/* Gives memory back to the host; NULL is a no-op. */
static void
wl_host_release(void *pointer)
{
	if (pointer != NULL)
		wl_host.release(pointer, wl_host.arg);
}

/* Frees everything; NULL is a no-op. */
void
wl_lsh_destroy(WlLsh *lsh)
{
	int			t;

	if (lsh == NULL)
		return;
	if (lsh->planes != NULL)
		for (t = 0; t < lsh->ntables; t++)
			wl_host_release(lsh->planes[t]);
	wl_host_release(lsh->planes);
	wl_host_release(lsh->bits);
	wl_host_release(lsh->center);
	wl_host_release(lsh);
}

/*
 * Allocates an LSH with uninitialised planes of the given shape, after
 * checking it: both constructors share this.  NULL when a size is out of
 * range or out of memory.
 */
static WlLsh *
wl_lsh_alloc(int dims, int ntables, const int *bits)
{
	WlLsh	   *lsh;
	int			t;

	if (dims < 1 || ntables < 1)
		return NULL;
	for (t = 0; t < ntables; t++)
		if (bits[t] < 1 || bits[t] > WL_LSH_MAX_BITS ||
			(size_t) dims > SIZE_MAX / sizeof(double) / (size_t) bits[t])
			return NULL;
	lsh = wl_host_zalloc(sizeof(WlLsh));
	if (lsh == NULL)
		return NULL;
	lsh->dims = dims;
	lsh->ntables = ntables;
	lsh->bits = wl_host_zalloc(sizeof(int) * (size_t) ntables);
	lsh->planes = wl_host_zalloc(sizeof(double *) * (size_t) ntables);
	if (lsh->bits == NULL || lsh->planes == NULL)
	{
		wl_lsh_destroy(lsh);
		return NULL;
	}
	for (t = 0; t < ntables; t++)
	{
		lsh->bits[t] = bits[t];
		lsh->planes[t] = wl_host.alloc(sizeof(double) * (size_t) dims * (size_t) bits[t],
									   wl_host.arg);
		if (lsh->planes[t] == NULL)
		{
			wl_lsh_destroy(lsh);
			return NULL;
		}
	}
	return lsh;
}

/*
 * Native planes from a seed.  The generator's state is four splitmix64
 * outputs of the seed; the deviates then fill table 0 first, each table
 * row-major ([f][b]), so a collection's planes are a function of (seed,
 * dims, ntables, bits) alone.
 */
WlLsh *
wl_lsh_create_seeded(int dims, int ntables, int bits, uint64_t seed)
{
	int		   *all_bits;
	WlLsh	   *lsh;
	WlRandom	random;
	size_t		nvalues;
	size_t		i;
	int			t;

	wl_last_stopped = false;
	if (bits < 1 || bits > WL_LSH_MAX_SEEDED_BITS || ntables < 1)
		return NULL;
	all_bits = malloc(sizeof(int) * (size_t) ntables);
	if (all_bits == NULL)
		return NULL;
	for (t = 0; t < ntables; t++)
		all_bits[t] = bits;
	lsh = wl_lsh_alloc(dims, ntables, all_bits);
	free(all_bits);
	if (lsh == NULL)
		return NULL;

	wl_random_seed(&random, seed);
	nvalues = (size_t) dims * (size_t) bits;
	for (t = 0; t < ntables; t++)
	{
		if (wl_host.stop != NULL && wl_host.stop(wl_host.arg))
		{
			wl_lsh_destroy(lsh);
			wl_last_stopped = true;
			return NULL;
		}
		for (i = 0; i < nvalues; i++)
			lsh->planes[t][i] = wl_random_normal(&random);
	}
	return lsh;
}

/* Planes given as they are (v1 collections), copied. */
WlLsh *
wl_lsh_create_from_planes(int dims, int ntables, const int *bits,
						  const double *const *planes)
{
	WlLsh	   *lsh = wl_lsh_alloc(dims, ntables, bits);
	int			t;

	if (lsh == NULL)
		return NULL;
	for (t = 0; t < ntables; t++)
		memcpy(lsh->planes[t], planes[t], sizeof(double) * (size_t) dims * (size_t) bits[t]);
	return lsh;
}

/* Replaces the centre with a copy of center, or clears it when NULL. */
int
wl_lsh_set_center(WlLsh *lsh, const float *center)
{
	wl_host_release(lsh->center);
	lsh->center = NULL;
	if (center == NULL)
		return 0;
	lsh->center = wl_host.alloc(sizeof(float) * (size_t) lsh->dims, wl_host.arg);
	if (lsh->center == NULL)
		return -1;
	memcpy(lsh->center, center, sizeof(float) * (size_t) lsh->dims);
	return 0;
}

/* Features per vector. */
int
wl_lsh_dims(const WlLsh *lsh)
{
	return lsh->dims;
}

/* Number of hash tables. */
int
wl_lsh_ntables(const WlLsh *lsh)
{
	return lsh->ntables;
}

/* Bits (planes) of one table. */
int
wl_lsh_table_bits(const WlLsh *lsh, int table)
{
	return lsh->bits[table];
}

/* Bits of all tables together: the length of a projection vector. */
int
wl_lsh_total_bits(const WlLsh *lsh)
{
	int			total = 0;
	int			t;

	for (t = 0; t < lsh->ntables; t++)
		total += lsh->bits[t];
	return total;
}

/* One table's planes, [f][b] at f * bits + b. */
const double *
wl_lsh_planes(const WlLsh *lsh, int table)
{
	return lsh->planes[table];
}

/*
 * Projections of (vector - center) on one table's planes; center may be
 * NULL.  Each feature adds x * row to the row of sums, so every sum runs
 * over the features in order, as v1's dot product does.  The sums live in
 * a local array, which cannot alias the planes, and the row is taken in
 * blocks of WL_PROJECT_BLOCK, so gcc vectorises the block at -O2 without
 * run-time alias checks.
 */
static void
wl_lsh_project_table(const double *plane, int bits, int dims, const float *vector,
					 const float *center, double *out)
{
	double		sums[WL_LSH_MAX_BITS];
	int			f;
	int			b;
	int			j;

	for (b = 0; b < bits; b++)
		sums[b] = 0.0;
	for (f = 0; f < dims; f++)
	{
		double		x = center ? (double) vector[f] - (double) center[f] : (double) vector[f];
		const double *row = plane + (size_t) f * (size_t) bits;

		for (b = 0; b + WL_PROJECT_BLOCK <= bits; b += WL_PROJECT_BLOCK)
			for (j = 0; j < WL_PROJECT_BLOCK; j++)
				sums[b + j] += x * row[b + j];
		for (; b < bits; b++)
			sums[b] += x * row[b];
	}
	memcpy(out, sums, sizeof(double) * (size_t) bits);
}

/* Projections of (vector - centre) on every table, table by table. */
void
wl_lsh_project(const WlLsh *lsh, const float *vector, double *projections)
{
	double	   *out = projections;
	int			t;

	for (t = 0; t < lsh->ntables; t++)
	{
		wl_lsh_project_table(lsh->planes[t], lsh->bits[t], lsh->dims, vector,
							 lsh->center, out);
		out += lsh->bits[t];
	}
}

/* The bucket code: bit 0 most significant, a projection >= 0 gives a 1. */
uint64_t
wl_lsh_bits(const double *projections, int bits)
{
	uint64_t	code = 0;
	int			b;

	for (b = 0; b < bits; b++)
		code = (code << 1) | (projections[b] >= 0.0 ? 1 : 0);
	return code;
}

/* Base 36, upper case, no padding: the original library's keys. */
void
wl_lsh_key_v1(uint64_t code, char *out)
{
	char		reversed[16];
	int			n = 0;

	do
	{
		reversed[n++] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[code % 36];
		code /= 36;
	} while (code > 0);
	while (n > 0)
		*out++ = reversed[--n];
	*out = '\0';
}

/* "<table>:<hex>", the hex zero-padded to the table's bit width. */
void
wl_lsh_key_native(int table, uint64_t code, int nbits, char *out)
{
	snprintf(out, WL_LSH_KEY_MAX, "%d:%0*" PRIx64, table, (nbits + 3) / 4, code);
}

/* "<table>:<hex of the high bits>/<low bits in binary>"; see the header. */
void
wl_lsh_key_split(int table, uint64_t code, int nbits, int nsuffix, char *out)
{
	uint64_t	high = code >> nsuffix;
	int			digits = (nbits - nsuffix + 3) / 4;
	int			len;
	int			i;

	if (nsuffix <= 0)
	{
		wl_lsh_key_native(table, code, nbits, out);
		return;
	}
	len = snprintf(out, WL_LSH_KEY_MAX, "%d:", table);
	for (i = digits - 1; i >= 0; i--)
		out[len++] = "0123456789abcdef"[(high >> (4 * i)) & 0xf];
	out[len++] = '/';
	for (i = nsuffix - 1; i >= 0; i--)
		out[len++] = (code >> i) & 1 ? '1' : '0';
	out[len] = '\0';
}

/* Does flip set x come before y in the probing order (a lower score)? */
static int
wl_flip_before(const WlFlipSet *x, const WlFlipSet *y)
{
	return x->score < y->score;
}

/* Adds a flip set to a min-heap of count sets. */
static void
wl_flip_push(WlFlipSet *heap, int *count, WlFlipSet set)
{
	int			i = (*count)++;

	while (i > 0 && wl_flip_before(&set, &heap[(i - 1) / 2]))
	{
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = set;
}

/* Removes and returns the first flip set of a non-empty min-heap. */
static WlFlipSet
wl_flip_pop(WlFlipSet *heap, int *count)
{
	WlFlipSet	top = heap[0];
	WlFlipSet	moved = heap[--(*count)];
	int			i = 0;

	for (;;)
	{
		int			child = 2 * i + 1;

		if (child >= *count)
			break;
		if (child + 1 < *count && wl_flip_before(&heap[child + 1], &heap[child]))
			child++;
		if (!wl_flip_before(&heap[child], &moved))
			break;
		heap[i] = heap[child];
		i = child;
	}
	heap[i] = moved;
	return top;
}

/*
 * Sorts the bits by margin |projection|, ascending, ties by bit number:
 * margins[p] is the p-th smallest margin and code_bits[p] the code bit of
 * its plane (plane b sets code bit bits - 1 - b).  Insertion sort: there
 * are at most 64.
 */
static void
wl_sort_margins(const double *projections, int bits, double *margins, uint64_t *code_bits)
{
	int			b;

	for (b = 0; b < bits; b++)
	{
		double		margin = fabs(projections[b]);
		int			p = b;

		while (p > 0 && margins[p - 1] > margin)
		{
			margins[p] = margins[p - 1];
			code_bits[p] = code_bits[p - 1];
			p--;
		}
		margins[p] = margin;
		code_bits[p] = (uint64_t) 1 << (bits - 1 - b);
	}
}

/*
 * Query-directed probing (Lv et al., VLDB 2007).  Over positions sorted by
 * margin, every non-empty set of positions is reached exactly once from
 * {0} by two moves: shift (replace the highest member by the next
 * position) and expand (add the next position).  Neither lowers the score,
 * so popping a min-heap seeded with {0} yields the sets in score order,
 * each once.  Every pop pushes at most two sets, so the heap never holds
 * more sets than the number of probes.
 */
int
wl_lsh_probes(const double *projections, int bits, int nprobes, uint64_t *out)
{
	double		margins[WL_LSH_MAX_BITS];
	uint64_t	code_bits[WL_LSH_MAX_BITS];
	uint64_t	home = wl_lsh_bits(projections, bits);
	WlFlipSet  *heap;
	WlFlipSet	first;
	int			heap_count = 0;
	int			limit = nprobes;
	int			count = 0;

	if (bits < 31 && limit > (1 << bits))
		limit = 1 << bits;
	if (limit < 1)
		return 0;
	out[count++] = home;
	if (limit == 1)
		return count;

	heap = malloc(sizeof(WlFlipSet) * (size_t) limit);
	if (heap == NULL)
		return -1;
	wl_sort_margins(projections, bits, margins, code_bits);
	first.base = 0.0;
	first.score = margins[0];
	first.flips = code_bits[0];
	first.last = 0;
	wl_flip_push(heap, &heap_count, first);

	while (count < limit && heap_count > 0)
	{
		WlFlipSet	set = wl_flip_pop(heap, &heap_count);

		out[count++] = home ^ set.flips;
		if (set.last + 1 < bits)
		{
			int			next = set.last + 1;
			WlFlipSet	shifted = set;
			WlFlipSet	expanded;

			shifted.score = set.base + margins[next];
			shifted.flips = set.flips ^ code_bits[set.last] ^ code_bits[next];
			shifted.last = next;
			expanded.base = set.score;
			expanded.score = set.score + margins[next];
			expanded.flips = set.flips | code_bits[next];
			expanded.last = next;
			wl_flip_push(heap, &heap_count, shifted);
			wl_flip_push(heap, &heap_count, expanded);
		}
	}
	free(heap);
	return count;
}
