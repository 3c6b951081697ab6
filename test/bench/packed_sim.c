/*
 * packed_sim.c - the packed format's search simulated in memory, to choose
 * an index's shape by measurement without a server (Postgres-free).
 *
 * Trains the core's model (src/core/model_train.c) on a sample of a data set,
 * hashes and encodes every vector as format_packed.c does, then searches
 * each query as search_plan.c's probe plan does: multi-probe every table,
 * rank what the probed buckets hold by their codes, re-rank the best
 * exactly.  Prints recall@10 against brute force, and the read units and
 * requests DynamoDB would bill (eventually consistent: a Query rounds its
 * bytes once to 4 KB, each fetched vector is an item of at most 4 KB).
 *
 * Built and run by packed_sim.sh.
 *
 *   packed_sim VECTORS.csv QUERIES.csv METRIC NQUERIES [key=value ...]
 *
 * keys: tables, rotation, subspaces, keep (keep_variance), plane_dims, bits (of a bucket and its
 * depth, as a search reads them), probes and rerank (comma lists swept),
 * seed; calibrate=1 also measures the calibration (calibrate.c) on 100 of
 * the vectors and prints its estimate beside each recall; holdout=1 takes
 * them from the end and trains without them, as a build does; groups=G puts
 * the cells in G groups (cells.h), trained on sample=N vectors (by default
 * what wl_packed_sample_size gives); truth=FILE.ivecs gives the exact
 * neighbours (test/bench/embedding_model.py truth) instead of computing
 * them; spill=L (cells, one table) also stores each vector in a second
 * cell, chosen among the 32 its own search would read first by ScaNN's SOAR
 * loss with weight L (L = 0: the second-nearest), and a search keeps each
 * vector's best estimate.  CSV rows are "id,x1,x2,..."; a file named *.fvecs holds rows of a
 * little-endian int32 dimension and its float32s, and its ids are taken to
 * be UUIDs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calibrate.h"
#include "distance.h"
#include "packed.h"
#include "lsh.h"
#include "model.h"
#include "model_internal.h"
#include "recordname.h"

#define SIM_MAX_LIST 16
#define SIM_K 10
#define SIM_SPILL_CHOICES 32

typedef struct SimSet
{
	int			n;
	int			dims;
	float	   *x;
	double		name_bytes;		/* mean length of the records' names */
} SimSet;

/* Reads up to limit (0: all) rows of an .fvecs file. */
static void
sim_read_fvecs(FILE *f, int limit, SimSet *set)
{
	int32_t		dims;
	long		alloc = 1024;

	memset(set, 0, sizeof(SimSet));
	while ((limit <= 0 || set->n < limit) && fread(&dims, 4, 1, f) == 1)
	{
		if (set->dims == 0)
		{
			set->dims = dims;
			set->x = malloc(sizeof(float) * alloc * dims);
		}
		if (dims != set->dims)
		{
			fprintf(stderr, "row %d has %d dimensions, not %d\n", set->n, dims, set->dims);
			exit(1);
		}
		if (set->n == alloc)
		{
			alloc *= 2;
			set->x = realloc(set->x, sizeof(float) * alloc * set->dims);
		}
		if (fread(set->x + (size_t) set->n * dims, sizeof(float), dims, f) != (size_t) dims)
		{
			fprintf(stderr, "row %d is cut short\n", set->n);
			exit(1);
		}
		set->n++;
	}
	set->name_bytes = wl_record_name_len("0b8a3a1e-6f0e-5d3c-9b1a-2f4c6d8e0a1b", true);
	fclose(f);
}

/* Reads the exact k nearest of nq queries from an .ivecs file into truth. */
static void
sim_read_truth(const char *path, int nq, int k, int *truth)
{
	FILE	   *f = fopen(path, "rb");
	int32_t		row[1 + 1024];

	for (int q = 0; q < nq; q++)
	{
		if (f == NULL || fread(row, 4, 1, f) != 1 || row[0] < k || row[0] > 1024 ||
			fread(row + 1, 4, row[0], f) != (size_t) row[0])
		{
			fprintf(stderr, "%s: no %d neighbours for query %d\n", path, k, q);
			exit(1);
		}
		memcpy(truth + (size_t) q * k, row + 1, sizeof(int) * k);
	}
	fclose(f);
}

/* Reads "id,x1,..." rows (or .fvecs); the first row fixes dims. */
static void
sim_read(const char *path, int limit, SimSet *set)
{
	FILE	   *f = fopen(path, "r");
	char	   *line = NULL;
	size_t		cap = 0;
	int			alloc = 1024;
	double		idsum = 0;

	if (f == NULL)
	{
		perror(path);
		exit(1);
	}
	if (strlen(path) > 6 && strcmp(path + strlen(path) - 6, ".fvecs") == 0)
	{
		sim_read_fvecs(f, limit, set);
		return;
	}
	memset(set, 0, sizeof(SimSet));
	while (getline(&line, &cap, f) > 0 && (limit <= 0 || set->n < limit))
	{
		char	   *p = strchr(line, ',');
		int			d = 0;

		if (p == NULL)
			continue;
		*p = '\0';
		idsum += wl_record_name_len(line, true);
		*p = ',';
		if (set->dims == 0)
		{
			char	   *q;

			for (q = p; *q; q++)
				d += *q == ',';
			set->dims = d;
			set->x = malloc(sizeof(float) * alloc * set->dims);
		}
		if (set->n == alloc)
		{
			alloc *= 2;
			set->x = realloc(set->x, sizeof(float) * alloc * set->dims);
		}
		for (d = 0; d < set->dims; d++)
			set->x[(size_t) set->n * set->dims + d] = strtof(p + 1, &p);
		set->n++;
	}
	set->name_bytes = idsum / (set->n ? set->n : 1);
	free(line);
	fclose(f);
}

/* Parses a comma list of ints into out; returns how many. */
static int
sim_list(const char *text, int *out)
{
	int			n = 0;

	while (*text && n < SIM_MAX_LIST)
	{
		out[n++] = atoi(text);
		text = strchr(text, ',');
		if (text == NULL)
			break;
		text++;
	}
	return n;
}

/* The nearest of k centroids to y (first of equals). */
static int
sim_nearest(const float *c, int k, int d, const float *y)
{
	int			best = 0;
	double		bestd = INFINITY;

	for (int j = 0; j < k; j++)
	{
		double		dist = wl_distance(WL_METRIC_L2, c + (size_t) j * d, y, d);

		if (dist < bestd)
		{
			bestd = dist;
			best = j;
		}
	}
	return best;
}

/* The nearest nprobes of k centroids to y, nearest first. */
static int
sim_ivf_probes(const float *c, int k, int d, const float *y, int nprobes, uint64_t *out)
{
	double	   *dist = malloc(sizeof(double) * k);
	int			n = nprobes < k ? nprobes : k;

	for (int j = 0; j < k; j++)
		dist[j] = wl_distance(WL_METRIC_L2, c + (size_t) j * d, y, d);
	for (int p = 0; p < n; p++)
	{
		int			best = -1;

		for (int j = 0; j < k; j++)
			if (dist[j] >= 0 && (best < 0 || dist[j] < dist[best]))
				best = j;
		out[p] = best;
		dist[best] = -1;
	}
	free(dist);
	return n;
}

typedef struct SimHit
{
	float		dist;
	int			id;
} SimHit;

static int
sim_hit_cmp(const void *a, const void *b)
{
	const SimHit *x = a;
	const SimHit *y = b;

	return x->dist < y->dist ? -1 : x->dist > y->dist ? 1 : x->id - y->id;
}

/* The exact k nearest of q among set's vectors, into out. */
static void
sim_exact(const SimSet *set, WlMetric metric, const float *q, const int *only, int nonly,
		  int k, int *out)
{
	SimHit	   *hits = malloc(sizeof(SimHit) * (nonly > 0 ? nonly : set->n));
	int			n = nonly > 0 ? nonly : set->n;
	int			i;

	for (i = 0; i < n; i++)
	{
		int			id = nonly > 0 ? only[i] : i;

		hits[i].id = id;
		hits[i].dist = wl_distance(metric, q, set->x + (size_t) id * set->dims, set->dims);
	}
	qsort(hits, n, sizeof(SimHit), sim_hit_cmp);
	for (i = 0; i < k; i++)
		out[i] = i < n ? hits[i].id : -1;
	free(hits);
}

/* Lloyd's k-means of n rows of d floats into k centroids (seeded by rows). */
static float *
sim_kmeans(const float *rows, int n, int d, int k, int rounds)
{
	float	   *c = malloc(sizeof(float) * k * d);
	double	   *sum = malloc(sizeof(double) * k * d);
	int		   *cnt = malloc(sizeof(int) * k);

	for (int j = 0; j < k; j++)
		memcpy(c + (size_t) j * d, rows + (size_t) ((long) j * n / k) * d, sizeof(float) * d);
	for (int r = 0; r < rounds; r++)
	{
		memset(sum, 0, sizeof(double) * k * d);
		memset(cnt, 0, sizeof(int) * k);
		for (int i = 0; i < n; i++)
		{
			int			best = sim_nearest(c, k, d, rows + (size_t) i * d);

			cnt[best]++;
			for (int x = 0; x < d; x++)
				sum[(size_t) best * d + x] += rows[(size_t) i * d + x];
		}
		for (int j = 0; j < k; j++)
			if (cnt[j] > 0)
				for (int x = 0; x < d; x++)
					c[(size_t) j * d + x] = sum[(size_t) j * d + x] / cnt[j];
	}
	free(sum);
	free(cnt);
	return c;
}

/*
 * The second cell of a vector y (rotated) whose own cell is first: among
 * the cells a search from y reads first, the one of least SOAR loss,
 * |y - c|^2 + lambda <r, y - c>^2 / |r|^2 with r = y - first's centroid,
 * which favours cells whose residual is orthogonal to r.
 */
static int
sim_spill_cell(const WlModel *model, const float *vector, const float *y, int first,
			   double lambda)
{
	int			p = model->shape.rotation;
	const float *c1 = model->cells + (size_t) first * p;
	float		yq[WL_MODEL_MAX_ROTATION];
	int			choices[SIM_SPILL_CHOICES];
	int			n;
	int			best = first;
	double		best_loss = INFINITY;
	double		rr = 0;

	for (int j = 0; j < p; j++)
		rr += (double) (y[j] - c1[j]) * (y[j] - c1[j]);
	wl_model_query(model, vector, yq);
	n = wl_model_probe_cells(model, 0, yq, SIM_SPILL_CHOICES, choices, NULL);
	for (int i = 0; i < n; i++)
	{
		const float *c = model->cells + (size_t) choices[i] * p;
		double		d = 0;
		double		dot = 0;
		double		loss;

		if (choices[i] == first)
			continue;
		for (int j = 0; j < p; j++)
		{
			d += (double) (y[j] - c[j]) * (y[j] - c[j]);
			dot += (double) (y[j] - c1[j]) * (y[j] - c[j]);
		}
		loss = d + (rr > 0 ? lambda * dot * dot / rr : 0);
		if (loss < best_loss)
		{
			best_loss = loss;
			best = choices[i];
		}
	}
	return best;
}

/*
 * What the calibration's filtered grids choose at recall target 0.95 for
 * filters that a tenth, a hundredth and a thousandth of the vectors pass
 * (records dropped before fetching): cells read, candidates re-ranked,
 * the recall estimated and read units (eventually consistent).
 */
static void
sim_print_filtered(const WlCalibration *calibration, int cells, double per_cell,
				   double record)
{
	static const double shares[] = {0.1, 0.01, 0.001};

	for (int i = 0; i < 3 && calibration->nlevels > 0; i++)
	{
		WlCalibChoice choice;
		double		cell_units = ceil(per_cell * (record + 9) / 4096.0) * 0.5;

		wl_calib_choose_filtered(calibration, shares[i], 0.95, 0, SIM_K, cells, cell_units,
								 0.5, 1.0, &choice);
		printf("filtered share=%g cells=%d rerank=%d estimate=%.3f%s units=%.1f\n", shares[i],
			   choice.probes, choice.rerank, choice.recall, choice.reached ? "" : " (below)",
			   choice.units);
	}
}

int
main(int argc, char **argv)
{
	SimSet		base;
	SimSet		queries;
	WlMetric	metric;
	WlModelShape shape;
	WlModel    *model;
	char		errbuf[256];
	int			probes[SIM_MAX_LIST] = {5};
	int			reranks[SIM_MAX_LIST] = {100};
	int			nprobes = 1;
	int			nreranks = 1;
	int			nq;
	int			depth_bits = 4;
	int			ivf = 0;
	int			cells = 0;
	int			codes_list[SIM_MAX_LIST] = {0};
	int			ncodes = 0;
	int			calibrate = 0;
	int			holdout = 0;
	int			groups = 0;
	int			sample_size = 0;
	const char *truth_path = NULL;
	double		spill = -1;
	WlCalibration calibration;
	float	   *cents[WL_MODEL_MAX_TABLES] = {0};
	int			i;

	if (argc < 5 || !wl_metric_parse(argv[3], &metric))
	{
		fprintf(stderr, "usage: packed_sim VECTORS QUERIES METRIC NQUERIES [key=value ...]\n");
		return 2;
	}
	sim_read(argv[1], 0, &base);
	nq = atoi(argv[4]);
	sim_read(argv[2], nq, &queries);
	nq = queries.n;
	memset(&shape, 0, sizeof(shape));
	shape.dims = base.dims;
	shape.metric = metric;
	shape.rotation = base.dims < 64 ? base.dims : 64;
	shape.subspaces = 32;
	shape.plane_dims = 16;
	shape.ntables = 4;
	shape.seed = 1;
	for (i = 5; i < argc; i++)
	{
		char	   *eq = strchr(argv[i], '=');
		const char *v = eq ? eq + 1 : "";

		if (eq == NULL)
			continue;
		*eq = '\0';
		if (strcmp(argv[i], "tables") == 0)
			shape.ntables = atoi(v);
		else if (strcmp(argv[i], "rotation") == 0)
			shape.rotation = atoi(v);
		else if (strcmp(argv[i], "subspaces") == 0)
			shape.subspaces = atoi(v);
		else if (strcmp(argv[i], "plane_dims") == 0)
			shape.plane_dims = atoi(v);
		else if (strcmp(argv[i], "bits") == 0)
			depth_bits = atoi(v);
		else if (strcmp(argv[i], "probes") == 0)
			nprobes = sim_list(v, probes);
		else if (strcmp(argv[i], "rerank") == 0)
			nreranks = sim_list(v, reranks);
		else if (strcmp(argv[i], "ivf") == 0)
			ivf = atoi(v);
		else if (strcmp(argv[i], "cells") == 0)
			cells = atoi(v);
		else if (strcmp(argv[i], "codes") == 0)
			ncodes = sim_list(v, codes_list);
		else if (strcmp(argv[i], "keep") == 0)
			shape.keep_variance = atof(v);
		else if (strcmp(argv[i], "holdout") == 0)
			holdout = atoi(v);
		else if (strcmp(argv[i], "calibrate") == 0)
			calibrate = atoi(v);
		else if (strcmp(argv[i], "seed") == 0)
			shape.seed = strtoull(v, NULL, 10);
		else if (strcmp(argv[i], "groups") == 0)
			groups = atoi(v);
		else if (strcmp(argv[i], "sample") == 0)
			sample_size = atoi(v);
		else if (strcmp(argv[i], "truth") == 0)
			truth_path = v;
		else if (strcmp(argv[i], "spill") == 0)
			spill = atof(v);
	}
	shape.bits = depth_bits;
	shape.cells = cells;
	if (spill >= 0 && (cells == 0 || shape.ntables != 1))
	{
		fprintf(stderr, "spill needs cells and one table\n");
		return 2;
	}
	shape.groups = groups;
	if (sample_size <= 0)		/* as packed_plan.c's wl_packed_sample_size */
		sample_size = (int) (groups > 0 ?
							 fmin(fmax(WL_PACKED_SAMPLE_PER_CELL * cells, WL_PACKED_SAMPLE_MAX),
								  fmax(WL_PACKED_SAMPLE_MAX,
									   (double) WL_PACKED_SAMPLE_FLOATS / base.dims)) :
							 fmax(WL_PACKED_SAMPLE_PER_CELL * cells, WL_PACKED_SAMPLE_MAX));
	if (cells > 0)
	{
		/* the model's own cells (cells.c); probes from a budget of codes */
		depth_bits = 1;
		while ((1 << depth_bits) < cells)
			depth_bits++;
		if (ncodes > 0)
			nprobes = ncodes;
	}

	{
		int			want = sample_size;
		int			ncal = base.n < WL_CALIB_QUERIES ? base.n : WL_CALIB_QUERIES;
		int			trainable = holdout ? base.n - ncal : base.n;
		int			nsample = trainable < want ? trainable : want;
		float	   *sample = malloc(sizeof(float) * nsample * base.dims);
		int			code_bytes;
		unsigned char *codes;
		uint64_t   *buckets;
		int		   *counts;
		int			nbuckets = 1 << depth_bits;
		int			t;
		float	   *y = malloc(sizeof(float) * base.dims);
		double	   *proj = malloc(sizeof(double) * shape.ntables * shape.bits);
		int		   *truth = malloc(sizeof(int) * nq * SIM_K);
		long	   *members_at;
		int		   *members;
		long		nentries;
		double		record;

		for (i = 0; i < nsample; i++)
			memcpy(sample + (size_t) i * base.dims,
				   base.x + (size_t) ((long) i * trainable / nsample) * base.dims,
				   sizeof(float) * base.dims);
		model = wl_model_train(&shape, sample, nsample, NULL, NULL, errbuf, sizeof(errbuf));
		if (model == NULL)
		{
			fprintf(stderr, "training: %s\n", errbuf);
			return 1;
		}
		if (ivf)
		{
			float	   *sy = malloc(sizeof(float) * nsample * shape.rotation);

			for (i = 0; i < nsample; i++)
				wl_model_transform(model, sample + (size_t) i * base.dims,
								   sy + (size_t) i * shape.rotation);
			for (t = 0; t < shape.ntables; t++)
				cents[t] = sim_kmeans(sy + (size_t) t * 7 * shape.rotation, nsample - t * 7,
									  shape.rotation, nbuckets, ivf);
			free(sy);
		}
		shape = *wl_model_shape(model);
		code_bytes = wl_model_code_bytes(model);
		record = base.name_bytes + code_bytes;
		nentries = (long) base.n * (spill >= 0 ? 2 : 1);
		codes = malloc((size_t) code_bytes * nentries);
		buckets = malloc(sizeof(uint64_t) * nentries * shape.ntables);
		counts = calloc((size_t) nbuckets * shape.ntables, sizeof(int));
		for (i = 0; i < base.n; i++)
		{
			if (wl_model_transform(model, base.x + (size_t) i * base.dims, y) != 0)
				memset(y, 0, sizeof(float) * shape.rotation);
			wl_model_encode(model, 0, -1, y, codes + (size_t) i * code_bytes);
			wl_model_project(model, y, proj);
			for (t = 0; t < shape.ntables; t++)
			{
				uint64_t	b = cells ? (uint64_t) wl_model_cell(model, t, y) :
					ivf ? (uint64_t) sim_nearest(cents[t], nbuckets, shape.rotation, y) :
					wl_lsh_bits(proj + (size_t) t * shape.bits, shape.bits);

				buckets[(size_t) i * shape.ntables + t] = b;
				counts[t * nbuckets + b]++;
			}
			if (spill >= 0)		/* entry n + i: the vector in its second cell */
			{
				int			second = sim_spill_cell(model, base.x + (size_t) i * base.dims, y,
													(int) buckets[i], spill);

				buckets[base.n + i] = (uint64_t) second;
				counts[second]++;
				wl_model_encode(model, 0, second, y, codes + (size_t) (base.n + i) * code_bytes);
			}
		}
		/* each bucket's members, for gathering a probe's candidates */
		members_at = calloc((size_t) nbuckets * shape.ntables + 1, sizeof(long));
		members = malloc(sizeof(int) * (size_t) nentries * shape.ntables);
		for (t = 0; t < shape.ntables; t++)
			for (i = 0; i < nbuckets; i++)
				members_at[t * nbuckets + i + 1] = members_at[t * nbuckets + i] +
					counts[t * nbuckets + i];
		{
			long	   *fill = malloc(sizeof(long) * (size_t) nbuckets * shape.ntables);

			memcpy(fill, members_at, sizeof(long) * (size_t) nbuckets * shape.ntables);
			for (i = 0; i < nentries; i++)
				for (t = 0; t < shape.ntables; t++)
					members[fill[t * nbuckets + buckets[(size_t) i * shape.ntables + t]]++] = i;
			free(fill);
		}
		memset(&calibration, 0, sizeof(calibration));
		if (calibrate && cells)
		{
			float	   *calq = malloc(sizeof(float) * ncal * base.dims);
			uint64_t   *keys = malloc(sizeof(uint64_t) * ncal);
			WlCalibrator *cal;

			for (i = 0; i < ncal; i++)
			{
				keys[i] = (uint64_t) (holdout ? base.n - ncal + i : (long) i * base.n / ncal);
				memcpy(calq + (size_t) i * base.dims, base.x + keys[i] * base.dims,
					   sizeof(float) * base.dims);
			}
			cal = wl_calib_begin(model, calq, keys, ncal, base.n, true);
			for (i = 0; cal != NULL && i < base.n; i++)
				wl_calib_add(cal, (uint64_t) i, base.x + (size_t) i * base.dims);
			if (cal == NULL || !wl_calib_end(cal, &calibration))
				fprintf(stderr, "calibration failed\n");
			wl_calib_free(cal);
			free(calq);
			free(keys);
		}
		sim_print_filtered(&calibration, shape.cells, (double) nentries / shape.cells, record);
		if (truth_path != NULL)
			sim_read_truth(truth_path, nq, SIM_K, truth);
		for (i = 0; truth_path == NULL && i < nq; i++)
			sim_exact(&base, metric, queries.x + (size_t) i * base.dims, NULL, 0, SIM_K,
					  truth + i * SIM_K);
		printf("set n=%d dims=%d tables=%d rotation=%d subspaces=%d plane_dims=%d bits=%d "
			   "cells=%d groups=%d sample=%d code=%dB record=%.1fB\n", base.n, base.dims,
			   shape.ntables, shape.rotation, shape.subspaces, shape.plane_dims, shape.bits,
			   shape.cells, shape.groups, nsample, code_bytes, record);
		for (int pi = 0; pi < nprobes; pi++)
		{
			double		hits[SIM_MAX_LIST] = {0};
			double		coverage = 0;
			double		probe_units = 0;
			double		candidates = 0;
			float	   *lookup = malloc(sizeof(float) * shape.subspaces * WL_MODEL_CENTROIDS);
			int			np_want = cells && ncodes ?
				(int) fmin(cells, fmax(1, ceil(codes_list[pi] / ((double) nentries / cells)))) :
				probes[pi];
			uint64_t   *pcodes = malloc(sizeof(uint64_t) * (np_want > 0 ? np_want : 1));
			int		   *pcells = malloc(sizeof(int) * (np_want > 0 ? np_want : 1));
			char	   *seen = malloc(base.n);
			int		   *cand = malloc(sizeof(int) * nentries);
			int		   *slot = malloc(sizeof(int) * base.n);
			SimHit	   *ranked = malloc(sizeof(SimHit) * nentries);

			for (int q = 0; q < nq; q++)
			{
				const float *qv = queries.x + (size_t) q * base.dims;
				int			nc = 0;
				int			got[SIM_K];

				memset(seen, 0, base.n);
				wl_model_transform(model, qv, y);
				wl_model_project(model, y, proj);
				for (t = 0; t < shape.ntables; t++)
				{
					int			np;

					if (cells)
					{
						float		yq[WL_MODEL_MAX_ROTATION];

						wl_model_query(model, qv, yq);
						np = wl_model_probe_cells(model, t, yq, np_want, pcells, NULL);
						for (int p = 0; p < np; p++)
							pcodes[p] = (uint64_t) pcells[p];
					}
					else
						np = ivf ? sim_ivf_probes(cents[t], nbuckets, shape.rotation, y,
												  probes[pi], pcodes) :
							wl_lsh_probes(proj + (size_t) t * shape.bits, shape.bits,
										  probes[pi], pcodes);

					for (int p = 0; p < np; p++)
						probe_units += ceil(fmax(1.0, counts[t * nbuckets + pcodes[p]] * record) / 4096.0) * 0.5;
					for (int p = 0; p < np; p++)
						for (long m = members_at[t * nbuckets + pcodes[p]];
							 m < members_at[t * nbuckets + pcodes[p] + 1]; m++)
						{
							int			e = members[m];
							int			v = e % base.n;

							if (!seen[v])
							{
								seen[v] = 1;
								slot[v] = nc;
								cand[nc++] = e;
							}
							else if (spill >= 0)	/* its other entry: estimated below */
								cand[nc++] = e;
						}
				}
				candidates += nc;
				for (int c = 0; c < SIM_K; c++)
					coverage += truth[q * SIM_K + c] >= 0 && seen[truth[q * SIM_K + c]];
				wl_model_query(model, qv, y);
				if (!cells)
					wl_model_lookup(model, 0, -1, y, lookup);
				{
					int			nv = 0;

					for (int c = 0; c < nc; c++)
					{
						int			v = cand[c] % base.n;
						float		dist;

						if (cells)	/* codes are residuals: a table per cell */
							wl_model_lookup(model, 0,
											(int) buckets[(size_t) cand[c] * shape.ntables],
											y, lookup);
						dist = wl_model_distance(model, lookup,
												 codes + (size_t) cand[c] * code_bytes);
						if (slot[v] == c || spill < 0)
						{
							slot[v] = nv;
							ranked[nv].id = v;
							ranked[nv++].dist = dist;
						}
						else if (dist < ranked[slot[v]].dist)	/* a vector's best */
							ranked[slot[v]].dist = dist;
					}
					candidates -= nc - nv;
					nc = nv;
				}
				qsort(ranked, nc, sizeof(SimHit), sim_hit_cmp);
				for (int r = 0; r < nreranks; r++)
				{
					int			m = reranks[r] < nc ? reranks[r] : nc;

					for (int c = 0; c < m; c++)
						cand[c] = ranked[c].id;
					sim_exact(&base, metric, qv, cand, m, SIM_K, got);
					for (int a = 0; a < SIM_K; a++)
						for (int b = 0; b < SIM_K; b++)
							if (got[a] >= 0 && got[a] == truth[q * SIM_K + b])
								hits[r] += 1;
				}
			}
			for (int r = 0; r < nreranks; r++)
				printf("probes=%d rerank=%d recall=%.3f est=%.3f coverage=%.3f candidates=%.0f "
					   "requests=%d units=%.1f (probe %.1f)\n",
					   np_want, reranks[r], hits[r] / (nq * SIM_K),
					   wl_calib_recall(&calibration, np_want, reranks[r]), coverage / (nq * SIM_K),
					   candidates / nq, shape.ntables * np_want + 1,
					   probe_units / nq + reranks[r] * 0.5, probe_units / nq);
			free(lookup);
			free(pcodes);
			free(pcells);
			free(seen);
			free(slot);
			free(cand);
			free(ranked);
		}
	}
	return 0;
}
