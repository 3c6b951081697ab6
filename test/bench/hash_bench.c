/*
 * hash_bench.c - the CPU cost of the work a search and a write do in C,
 * without Postgres or a network: hashing a vector (its written keys),
 * the multi-probe keys of a query, and exact distances for re-ranking.
 *
 *   hash_bench DIMS TABLES BITS FINE_BITS PROBES
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "format.h"
#include "meta.h"

#define NVECTORS 2000

/* Seconds on a monotonic clock. */
static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Times hashing, probing and distances over NVECTORS pseudo-random
 * vectors, each repeated until it has run for about a second, and prints
 * one JSON line.
 */
int
main(int argc, char **argv)
{
	int			dims;
	int			ntables;
	int			bits;
	int			fine_bits;
	int			probes;
	WlMeta	   *meta;
	WlLsh	   *lsh;
	char		err[256];
	float	   *vectors;
	char	   *keys;
	double		t0;
	double		hash_us;
	double		probe_us;
	double		distance_ns;
	double		sink = 0;
	long		runs;
	long		i;

	if (argc != 6)
	{
		fprintf(stderr, "usage: hash_bench DIMS TABLES BITS FINE_BITS PROBES\n");
		return 2;
	}
	dims = atoi(argv[1]);
	ntables = atoi(argv[2]);
	bits = atoi(argv[3]);
	fine_bits = atoi(argv[4]);
	probes = atoi(argv[5]);
	meta = wl_meta_new(&wl_format_native, "p", "s", "bench", dims, WL_METRIC_L2, ntables, bits,
							  fine_bits, 1, "00000000", NULL, false);
	lsh = meta ? meta->format->open(meta, NULL, 0, err, sizeof(err)) : NULL;
	vectors = malloc(sizeof(float) * dims * NVECTORS);
	keys = malloc((size_t) ntables * probes * WL_LSH_KEY_MAX);
	if (lsh == NULL || vectors == NULL || keys == NULL)
	{
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	srand(1);
	for (i = 0; i < (long) dims * NVECTORS; i++)
		vectors[i] = (float) (rand() % 256);

	t0 = now_s();
	for (runs = 0; now_s() - t0 < 1.0; runs++)
		wl_meta_vector_keys(meta, lsh, vectors + (runs % NVECTORS) * dims, keys);
	hash_us = (now_s() - t0) * 1e6 / runs;

	t0 = now_s();
	for (runs = 0; now_s() - t0 < 1.0; runs++)
		wl_meta_probe_keys(meta, lsh, vectors + (runs % NVECTORS) * dims, probes, fine_bits,
						   keys);
	probe_us = (now_s() - t0) * 1e6 / runs;

	t0 = now_s();
	for (runs = 0; now_s() - t0 < 1.0; runs += 1000)
		for (i = 0; i < 1000; i++)
			sink += wl_distance(WL_METRIC_L2, vectors, vectors + ((runs + i) % NVECTORS) * dims,
								dims);
	distance_ns = (now_s() - t0) * 1e9 / runs;

	printf("{\"dims\": %d, \"tables\": %d, \"bits\": %d, \"fine_bits\": %d, \"probes\": %d, "
		   "\"hash_us\": %.2f, \"probe_keys_us\": %.2f, \"distance_ns\": %.1f, \"sink\": %d}\n",
		   dims, ntables, bits, fine_bits, probes, hash_us, probe_us, distance_ns, sink > 0);
	wl_lsh_destroy(lsh);
	wl_meta_free(meta);
	free(vectors);
	free(keys);
	return 0;
}
