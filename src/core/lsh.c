/*
 * lsh.c - random-hyperplane LSH.
 *
 * Native planes are never stored: they are re-derived from the
 * collection's seed in every backend, so the generator must give the same
 * bits on every machine and compiler, forever.  It therefore uses integers
 * only (splitmix64 seeding xoshiro256**) and an Irwin-Hall normal deviate:
 * the sum of 12 uniform 53-bit integers, exact in int64, converted to
 * double once and scaled by 2^-53 (exact), minus 6.  No libm is involved.
 */
#include "lsh.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct WlLsh
{
	int			dims;
	int			ntables;
	int		   *bits;			/* per table */
	double	  **planes;			/* per table: dims x bits, row-major */
	float	   *center;			/* dims, or NULL */
};

/* splitmix64: spreads a seed over the generator's state. */
static uint64_t
wl_splitmix64(uint64_t *state)
{
	uint64_t	z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Rotates x left by k bits. */
static inline uint64_t
wl_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256**: the next 64 random bits. */
static uint64_t
wl_xoshiro(uint64_t *s)
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

/* An approximately standard normal deviate (Irwin-Hall, 12 terms). */
static double
wl_normal(uint64_t *s)
{
	int64_t		sum = 0;
	int			i;

	for (i = 0; i < 12; i++)
		sum += (int64_t) (wl_xoshiro(s) >> 11);
	return (double) sum * (1.0 / 9007199254740992.0) - 6.0;
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
			free(lsh->planes[t]);
	free(lsh->planes);
	free(lsh->bits);
	free(lsh->center);
	free(lsh);
}

/* Allocates an LSH with room for its planes. */
static WlLsh *
wl_lsh_alloc(int dims, int ntables, const int *bits)
{
	WlLsh	   *lsh = calloc(1, sizeof(WlLsh));
	int			t;

	if (lsh == NULL)
		return NULL;
	lsh->dims = dims;
	lsh->ntables = ntables;
	lsh->bits = malloc(sizeof(int) * ntables);
	lsh->planes = calloc(ntables, sizeof(double *));
	if (lsh->bits == NULL || lsh->planes == NULL)
	{
		wl_lsh_destroy(lsh);
		return NULL;
	}
	for (t = 0; t < ntables; t++)
	{
		lsh->bits[t] = bits[t];
		lsh->planes[t] = malloc(sizeof(double) * dims * bits[t]);
		if (lsh->planes[t] == NULL)
		{
			wl_lsh_destroy(lsh);
			return NULL;
		}
	}
	return lsh;
}

/* Native planes from a seed: table 0 first, each row-major. */
WlLsh *
wl_lsh_create_seeded(int dims, int ntables, int bits, uint64_t seed)
{
	int		   *all_bits = malloc(sizeof(int) * ntables);
	WlLsh	   *lsh;
	uint64_t	state[4];
	uint64_t	mix = seed;
	int			t;
	int			i;

	if (all_bits == NULL)
		return NULL;
	for (t = 0; t < ntables; t++)
		all_bits[t] = bits;
	lsh = wl_lsh_alloc(dims, ntables, all_bits);
	free(all_bits);
	if (lsh == NULL)
		return NULL;
	for (i = 0; i < 4; i++)
		state[i] = wl_splitmix64(&mix);
	for (t = 0; t < ntables; t++)
		for (i = 0; i < dims * bits; i++)
			lsh->planes[t][i] = wl_normal(state);
	return lsh;
}

/* Planes given as they are. */
WlLsh *
wl_lsh_create_from_planes(int dims, int ntables, const int *bits,
						  const double *const *planes)
{
	WlLsh	   *lsh = wl_lsh_alloc(dims, ntables, bits);
	int			t;

	if (lsh == NULL)
		return NULL;
	for (t = 0; t < ntables; t++)
		memcpy(lsh->planes[t], planes[t], sizeof(double) * dims * bits[t]);
	return lsh;
}

/* Sets or clears the centre. */
int
wl_lsh_set_center(WlLsh *lsh, const float *center)
{
	free(lsh->center);
	lsh->center = NULL;
	if (center == NULL)
		return 0;
	lsh->center = malloc(sizeof(float) * lsh->dims);
	if (lsh->center == NULL)
		return -1;
	memcpy(lsh->center, center, sizeof(float) * lsh->dims);
	return 0;
}

int
wl_lsh_dims(const WlLsh *lsh)
{
	return lsh->dims;
}

int
wl_lsh_ntables(const WlLsh *lsh)
{
	return lsh->ntables;
}

int
wl_lsh_bits(const WlLsh *lsh, int table)
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

const double *
wl_lsh_planes(const WlLsh *lsh, int table)
{
	return lsh->planes[table];
}

/*
 * Projections of (vector - centre) on every plane.  The inner loop runs
 * over a row of bits, contiguous in memory, so that it vectorises.
 */
void
wl_lsh_project(const WlLsh *lsh, const float *vector, double *projections)
{
	double	   *out = projections;
	int			t;

	for (t = 0; t < lsh->ntables; t++)
	{
		int			bits = lsh->bits[t];
		const double *plane = lsh->planes[t];
		int			f;
		int			b;

		for (b = 0; b < bits; b++)
			out[b] = 0.0;
		for (f = 0; f < lsh->dims; f++)
		{
			double		x = (double) vector[f] - (lsh->center ? (double) lsh->center[f] : 0.0);
			const double *row = plane + (size_t) f * bits;

			for (b = 0; b < bits; b++)
				out[b] += x * row[b];
		}
		out += bits;
	}
}

/* The code of one table: bit 0 most significant, >= 0 counts as 1. */
uint64_t
wl_lsh_code(const double *projections, int bits)
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
	char		digits[16];
	int			n = 0;

	do
	{
		digits[n++] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[code % 36];
		code /= 36;
	} while (code > 0);
	while (n > 0)
		*out++ = digits[--n];
	*out = '\0';
}

/* "<table>:<hex>", the hex zero-padded to the table's bit width. */
void
wl_lsh_key_native(int table, uint64_t code, int bits, char *out)
{
	snprintf(out, WL_LSH_KEY_MAX, "%d:%0*llx", table, (bits + 3) / 4,
			 (unsigned long long) code);
}

/* A set of flipped bits, over positions sorted by |projection|. */
typedef struct WlFlipSet
{
	double		score;
	uint64_t	positions;		/* bit i: sorted position i is flipped */
	int			last;			/* the highest position in the set */
} WlFlipSet;

/* Pushes onto a min-heap of flip sets ordered by score. */
static void
wl_heap_push(WlFlipSet *heap, int *count, WlFlipSet set)
{
	int			i = (*count)++;

	heap[i] = set;
	while (i > 0 && heap[(i - 1) / 2].score > heap[i].score)
	{
		WlFlipSet	tmp = heap[i];

		heap[i] = heap[(i - 1) / 2];
		heap[(i - 1) / 2] = tmp;
		i = (i - 1) / 2;
	}
}

/* Pops the lowest-scored flip set. */
static WlFlipSet
wl_heap_pop(WlFlipSet *heap, int *count)
{
	WlFlipSet	top = heap[0];
	int			i = 0;

	heap[0] = heap[--(*count)];
	for (;;)
	{
		int			least = i;
		int			child;

		for (child = 2 * i + 1; child <= 2 * i + 2 && child < *count; child++)
			if (heap[child].score < heap[least].score)
				least = child;
		if (least == i)
			break;
		{
			WlFlipSet	tmp = heap[i];

			heap[i] = heap[least];
			heap[least] = tmp;
		}
		i = least;
	}
	return top;
}

/* Sorts bit numbers by |projection|, ascending (insertion sort: bits <= 62). */
static void
wl_sort_by_margin(const double *projections, int bits, int *order, double *margins)
{
	int			i;

	for (i = 0; i < bits; i++)
	{
		double		margin = fabs(projections[i]);
		int			j = i;

		while (j > 0 && margins[j - 1] > margin)
		{
			margins[j] = margins[j - 1];
			order[j] = order[j - 1];
			j--;
		}
		margins[j] = margin;
		order[j] = i;
	}
}

/*
 * Query-directed probing.  With positions sorted by margin, every flip set
 * is reached exactly once from {0} by "shift" (move the highest position
 * up one) and "expand" (add the position after the highest); both only
 * raise the score, so popping a min-heap yields sets in score order.
 */
int
wl_lsh_probes(const double *projections, int bits, int nprobes, uint64_t *out)
{
	int			order[64];
	double		margins[64];
	WlFlipSet  *heap;
	int			heap_count = 0;
	uint64_t	home = wl_lsh_code(projections, bits);
	int			count = 0;

	if (nprobes <= 0)
		return 0;
	out[count++] = home;
	if (nprobes == 1 || bits == 0)
		return count;
	heap = malloc(sizeof(WlFlipSet) * (2 * (size_t) nprobes + 2));
	if (heap == NULL)
		return count;
	wl_sort_by_margin(projections, bits, order, margins);
	wl_heap_push(heap, &heap_count, (WlFlipSet) {margins[0], 1, 0});

	while (count < nprobes && heap_count > 0)
	{
		WlFlipSet	set = wl_heap_pop(heap, &heap_count);
		uint64_t	code = home;
		int			p;

		for (p = 0; p <= set.last; p++)
			if (set.positions & ((uint64_t) 1 << p))
				code ^= (uint64_t) 1 << (bits - 1 - order[p]);
		out[count++] = code;

		if (set.last + 1 < bits)
		{
			int			next = set.last + 1;
			WlFlipSet	shifted = {set.score - margins[set.last] + margins[next],
				(set.positions & ~((uint64_t) 1 << set.last)) | ((uint64_t) 1 << next),
			next};
			WlFlipSet	expanded = {set.score + margins[next],
				set.positions | ((uint64_t) 1 << next), next};

			wl_heap_push(heap, &heap_count, shifted);
			wl_heap_push(heap, &heap_count, expanded);
		}
	}
	free(heap);
	return count;
}
