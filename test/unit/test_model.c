/*
 * test_model.c - unit tests of the trained index model (core/model.c):
 * training is deterministic, a model survives its bytes, codes rank
 * neighbours close to the exact order, cells hold neighbours together, and
 * bad bytes or shapes are refused.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cells.h"
#include "model.h"
#include "unit.h"

#define DIMS 32
#define COUNT 2000
#define CLUSTERS 20
#define QUERIES 50

/*
 * Clustered test vectors, anisotropic as learned embeddings are: cluster
 * centres on a few strong directions, a shared offset, and small noise.
 */
static float *
make_vectors(int n, uint64_t seed)
{
	float	   *vectors = malloc(sizeof(float) * n * DIMS);
	float		centres[CLUSTERS][DIMS];
	uint64_t	state = seed;
	int			c,
				i,
				d;

	for (c = 0; c < CLUSTERS; c++)
		for (d = 0; d < DIMS; d++)
			centres[c][d] = (float) (test_uniform(&state) * (d < 8 ? 4.0 : 0.5) + 2.0);
	for (i = 0; i < n; i++)
	{
		c = (int) (test_next(&state) % CLUSTERS);
		for (d = 0; d < DIMS; d++)
			vectors[i * DIMS + d] = centres[c][d] + (float) (test_uniform(&state) * 0.6);
	}
	return vectors;
}

static const WlModelShape shape = {
	.dims = DIMS,
	.metric = WL_METRIC_L2,
	.rotation = 16,
	.subspaces = 8,
	.plane_dims = 8,
	.ntables = 4,
	.bits = 6,
	.seed = 7,
};

/* Never abandons training. */
static bool
never(void *arg)
{
	return false;
}

/* Abandons training at once. */
static bool
always(void *arg)
{
	return true;
}

/* Two trainings on the same sample give the same bytes, and so do its bytes read back. */
static void
test_deterministic(const float *vectors)
{
	char		errbuf[256];
	WlModel    *a = wl_model_train(&shape, vectors, COUNT, never, NULL, errbuf, sizeof(errbuf));
	WlModel    *b = wl_model_train(&shape, vectors, COUNT, never, NULL, errbuf, sizeof(errbuf));
	unsigned char *bytes_a = NULL,
			   *bytes_b = NULL,
			   *bytes_c = NULL;
	size_t		len_a,
				len_b,
				len_c = 0;
	WlModel    *c;

	CHECK(a != NULL && b != NULL, "a model trains on 2,000 vectors");
	if (a == NULL || b == NULL)
		return;
	len_a = wl_model_serialize(a, &bytes_a);
	len_b = wl_model_serialize(b, &bytes_b);
	CHECK(len_a > 0 && len_a == len_b && memcmp(bytes_a, bytes_b, len_a) == 0,
		  "training twice gives the same bytes");
	CHECK(wl_model_code_bytes(a) == shape.subspaces / 2, "a code is two subspaces a byte");
	c = wl_model_deserialize(&shape, bytes_a, len_a, errbuf, sizeof(errbuf));
	CHECK(c != NULL, "a model's bytes read back");
	if (c != NULL)
		len_c = wl_model_serialize(c, &bytes_c);
	CHECK(c != NULL && len_c == len_a && memcmp(bytes_a, bytes_c, len_a) == 0,
		  "a model read back writes the same bytes");
	wl_model_free(a);
	wl_model_free(b);
	wl_model_free(c);
	free(bytes_a);
	free(bytes_b);
	free(bytes_c);
}

/*
 * Ranked by their codes, the exact nearest neighbour of a query is among
 * the first 20 of 2,000 for nearly every query.
 */
static void
test_ranking(const float *vectors)
{
	char		errbuf[256];
	WlModel    *model = wl_model_train(&shape, vectors, COUNT, never, NULL, errbuf, sizeof(errbuf));
	float	   *queries = make_vectors(QUERIES, 99);
	unsigned char *codes = malloc((size_t) COUNT * shape.subspaces / 2);
	float		y[DIMS];
	float		table[8 * WL_MODEL_CENTROIDS];
	int			found = 0;
	int			q,
				i,
				d;

	if (model == NULL)
	{
		CHECK(0, errbuf);
		return;
	}
	for (i = 0; i < COUNT; i++)
	{
		wl_model_transform(model, vectors + i * DIMS, y);
		wl_model_encode(model, 0, -1, y, codes + i * (shape.subspaces / 2));
	}
	for (q = 0; q < QUERIES; q++)
	{
		const float *query = queries + q * DIMS;
		int			nearest = 0;
		double		best = INFINITY;
		float		nearest_code;
		int			closer = 0;

		for (i = 0; i < COUNT; i++)
		{
			double		dist = 0;

			for (d = 0; d < DIMS; d++)
				dist += (query[d] - vectors[i * DIMS + d]) * (query[d] - vectors[i * DIMS + d]);
			if (dist < best)
			{
				best = dist;
				nearest = i;
			}
		}
		wl_model_query(model, query, y);
		wl_model_lookup(model, 0, -1, y, table);
		nearest_code = wl_model_distance(model, table, codes + nearest * (shape.subspaces / 2));
		for (i = 0; i < COUNT; i++)
			if (wl_model_distance(model, table, codes + i * (shape.subspaces / 2)) < nearest_code)
				closer++;
		found += closer < 20;
	}
	printf("# nearest neighbour in the codes' top 20 for %d of %d queries\n", found, QUERIES);
	CHECK(found >= QUERIES * 9 / 10, "codes rank the nearest neighbour in the top 1%");
	wl_model_free(model);
	free(queries);
	free(codes);
}

/* Every cut of a model's bytes, a flipped magic and another shape are refused. */
static void
test_bad_bytes(const float *vectors)
{
	char		errbuf[256];
	WlModel    *model = wl_model_train(&shape, vectors, COUNT, never, NULL, errbuf, sizeof(errbuf));
	unsigned char *bytes = NULL;
	size_t		len,
				cut;
	int			refused = 0;
	int			cuts = 0;
	WlModelShape other = shape;
	WlModel    *read;

	if (model == NULL)
	{
		CHECK(0, errbuf);
		return;
	}
	len = wl_model_serialize(model, &bytes);
	for (cut = 0; cut < len; cut += 1 + cut / 16)
	{
		read = wl_model_deserialize(&shape, bytes, cut, errbuf, sizeof(errbuf));
		refused += read == NULL;
		cuts++;
		wl_model_free(read);
	}
	CHECK(cuts > 0 && refused == cuts, "every cut of a model's bytes is refused");
	bytes[0] ^= 0xff;
	read = wl_model_deserialize(&shape, bytes, len, errbuf, sizeof(errbuf));
	CHECK(read == NULL, "bytes without a model's magic are refused");
	wl_model_free(read);
	bytes[0] ^= 0xff;
	other.dims = DIMS - 1;
	read = wl_model_deserialize(&other, bytes, len, errbuf, sizeof(errbuf));
	CHECK(read == NULL, "a model of other dimensions is refused");
	wl_model_free(read);
	wl_model_free(model);
	free(bytes);
}

/* A sample too small, an abandoned training and a zero cosine vector fail cleanly. */
static void
test_edges(const float *vectors)
{
	char		errbuf[256];
	WlModelShape cosine = shape;
	WlModel    *model;
	float		zero[DIMS] = {0};
	float		y[DIMS];

	model = wl_model_train(&shape, vectors, WL_MODEL_CENTROIDS - 1, never, NULL,
						   errbuf, sizeof(errbuf));
	CHECK(model == NULL, "a sample of 15 vectors is too small");
	model = wl_model_train(&shape, vectors, COUNT, always, NULL, errbuf, sizeof(errbuf));
	CHECK_STR(model == NULL ? errbuf : "trained", "interrupted", "an abandoned training says so");
	cosine.metric = WL_METRIC_COSINE;
	model = wl_model_train(&cosine, vectors, COUNT, never, NULL, errbuf, sizeof(errbuf));
	CHECK(model != NULL && wl_model_transform(model, zero, y) == -1,
		  "a zero vector has no cosine code");
	wl_model_free(model);
}

/* The index of the nearest of the other vectors to vector q (L2). */
static int
nearest_other(const float *vectors, int q)
{
	int			best = -1;
	double		best_distance = INFINITY;
	int			i;

	for (i = 0; i < COUNT; i++)
	{
		double		distance = 0;
		int			d;

		for (d = 0; d < DIMS && i != q; d++)
			distance += pow(vectors[i * DIMS + d] - vectors[q * DIMS + d], 2);
		if (i != q && distance < best_distance)
		{
			best = i;
			best_distance = distance;
		}
	}
	return best;
}

/*
 * Codes of a model with cells are of what is left after a vector's cell,
 * so they rank only under the lookup table of that cell: the nearest
 * neighbour of most queries is among the 20 codes nearest them.
 */
static void
test_cell_codes(const WlModel *model, const float *vectors)
{
	const WlModelShape *celled = wl_model_shape(model);
	int			code_bytes = wl_model_code_bytes(model);
	unsigned char *codes = malloc((size_t) COUNT * code_bytes);
	int		   *cell_of = malloc(sizeof(int) * COUNT);
	float	   *tables = malloc(sizeof(float) * celled->cells * celled->subspaces *
								WL_MODEL_CENTROIDS);
	float		y[DIMS];
	int			found = 0;
	int			i;
	int			q;

	for (i = 0; i < COUNT; i++)
	{
		wl_model_transform(model, vectors + i * DIMS, y);
		wl_model_encode(model, 0, -1, y, codes + i * code_bytes);
		cell_of[i] = wl_model_cell(model, 0, y);
	}
	for (q = 0; q < QUERIES; q++)
	{
		int			other = nearest_other(vectors, q);
		int			c;
		int			closer = 0;
		float		nearest_code;

		wl_model_query(model, vectors + q * DIMS, y);
		for (c = 0; c < celled->cells; c++)
			wl_model_lookup(model, 0, c, y, tables + c * celled->subspaces * WL_MODEL_CENTROIDS);
#define CELL_TABLE(i) (tables + cell_of[i] * celled->subspaces * WL_MODEL_CENTROIDS)
		nearest_code = wl_model_distance(model, CELL_TABLE(other), codes + other * code_bytes);
		for (i = 0; i < COUNT; i++)
			closer += i != q && i != other &&
				wl_model_distance(model, CELL_TABLE(i), codes + i * code_bytes) < nearest_code;
#undef CELL_TABLE
		found += closer < 20;
	}
	printf("# with cells, nearest neighbour in the codes' top 20 for %d of %d queries\n", found,
		   QUERIES);
	CHECK(found >= QUERIES * 9 / 10, "codes of what is left after a cell rank under its table");
	free(codes);
	free(cell_of);
	free(tables);
}

/*
 * The cells within a spread of the nearest: the leading cells whose
 * squared distance from the query is within 1 + spread times the
 * nearest's, as the distances wl_model_probe_cells gives say.
 */
static void
test_spread(const WlModel *model, const float *vectors)
{
	static const float keys[] = {4.0f, 4.2f, 4.4f, 9.0f};
	int			cells = wl_model_shape(model)->cells;
	int		   *order = malloc(sizeof(int) * cells);
	float	   *distances = malloc(sizeof(float) * cells);
	float		y[DIMS];
	int			ordered = 1;
	int			i;

	CHECK(wl_cells_within(keys, 4, 0) == 1 && wl_cells_within(keys, 4, 0.06) == 2 &&
		  wl_cells_within(keys, 4, 0.11) == 3 && wl_cells_within(keys, 4, 5) == 4 &&
		  wl_cells_within(keys, 1, 5) == 1,
		  "a spread reads the leading cells within it of the nearest, at least one");
	wl_model_transform(model, vectors, y);
	wl_model_probe_cells(model, 0, y, cells, order, distances);
	for (i = 1; i < cells; i++)
		ordered &= distances[i] >= distances[i - 1];
	CHECK(ordered && order[0] == wl_model_cell(model, 0, y) && distances[0] >= 0 &&
		  wl_model_spreads(model),
		  "probed cells come with their squared distances, nearest first");
	free(order);
	free(distances);
}

/*
 * Trains a model of cells twice and checks what every model of cells must
 * be: deterministic, stored under its magic and read back to the same
 * cells, every cut refused.  Returns the model and its bytes (*bytes, *len),
 * or NULL when it did not train.
 */
static WlModel *
train_stored_cells(const WlModelShape *celled, const float *vectors, const char *magic,
				   const char *what, unsigned char **bytes, size_t *len)
{
	WlModel    *a = wl_model_train(celled, vectors, COUNT, never, NULL, NULL, 0);
	WlModel    *b = wl_model_train(celled, vectors, COUNT, never, NULL, NULL, 0);
	WlModel    *back;
	unsigned char *bytes_b = NULL;
	size_t		len_b;
	char		errbuf[256];
	char		label[160];
	float		y[16];
	int			same = 0;
	int			i;

	snprintf(label, sizeof(label), "%s trains", what);
	CHECK(a != NULL && b != NULL, label);
	if (a == NULL || b == NULL)
	{
		wl_model_free(a);
		wl_model_free(b);
		return NULL;
	}
	*len = wl_model_serialize(a, bytes);
	len_b = wl_model_serialize(b, &bytes_b);
	snprintf(label, sizeof(label), "%s is deterministic and stored as %s", what, magic);
	CHECK(*len == wl_model_size(celled) && *len == len_b &&
		  memcmp(*bytes, bytes_b, *len) == 0 && memcmp(*bytes, magic, 4) == 0, label);
	back = wl_model_deserialize(celled, *bytes, *len, errbuf, sizeof(errbuf));
	for (i = 0; back != NULL && i < COUNT; i++)
	{
		wl_model_transform(a, vectors + i * DIMS, y);
		same += wl_model_cell(a, 0, y) == wl_model_cell(back, 0, y) &&
			wl_model_cell(a, 0, y) >= 0 && wl_model_cell(a, 0, y) < celled->cells;
	}
	snprintf(label, sizeof(label), "%s read back assigns every vector alike", what);
	CHECK(same == COUNT, label);
	for (i = 0; i < (int) *len; i += 97)
		if (wl_model_deserialize(celled, *bytes, (size_t) i, errbuf, sizeof(errbuf)) != NULL)
			break;
	snprintf(label, sizeof(label), "every cut of %s is refused", what);
	CHECK(i >= (int) *len, label);
	wl_model_free(b);
	wl_model_free(back);
	free(bytes_b);
	return a;
}

/*
 * A model with cells: deterministic, stored as "WLM2" and read back to the
 * same cells, every cut refused, and a vector's nearest neighbour in one of
 * the two cells nearest it almost always.
 */
static void
test_cells(const float *vectors)
{
	WlModelShape celled = shape;
	WlModel    *a;
	unsigned char *bytes_a = NULL;
	size_t		len_a;
	char		errbuf[256];
	float		y[16];
	int			found = 0;
	int			i;

	celled.ntables = 1;
	celled.cells = 24;
	a = train_stored_cells(&celled, vectors, "WLM2", "a model with cells", &bytes_a, &len_a);
	if (a == NULL)
		return;
	CHECK(wl_model_deserialize(&shape, bytes_a, len_a, errbuf, sizeof(errbuf)) == NULL,
		  "a model with cells is not read as one without");
	for (i = 0; i < QUERIES; i++)
	{
		int			other = nearest_other(vectors, i);
		int			probed[2];
		int			n;

		wl_model_transform(a, vectors + i * DIMS, y);
		n = wl_model_probe_cells(a, 0, y, 2, probed, NULL);
		wl_model_transform(a, vectors + other * DIMS, y);
		found += n == 2 && (wl_model_cell(a, 0, y) == probed[0] ||
							wl_model_cell(a, 0, y) == probed[1]);
	}
	CHECK(found >= QUERIES * 9 / 10, "the two nearest cells hold the nearest neighbour");
	test_spread(a, vectors);
	test_cell_codes(a, vectors);
	wl_model_free(a);
	free(bytes_a);
}

/* Squared distance of two centroids. */
static double
centroid_distance(const float *a, const float *b, int p)
{
	double		sum = 0;
	int			j;

	for (j = 0; j < p; j++)
		sum += ((double) a[j] - b[j]) * ((double) a[j] - b[j]);
	return sum;
}

/*
 * Cells numbered near as they lie (wl_cells_arrange): the same centroids,
 * each once, and cells of adjacent numbers nearer each other than cells on
 * average (a path through them, not the order k-means found them in).
 */
static void
test_arranged_cells(const float *vectors)
{
	enum
	{
		K = 64
	};
	float	   *trained = malloc(sizeof(float) * K * DIMS);
	float	   *arranged = malloc(sizeof(float) * K * DIMS);
	bool		used[K] = {false};
	WlRandom	random;
	double		adjacent = 0;
	double		before = 0;
	double		all = 0;
	int			matched = 0;
	int			i;
	int			j;

	wl_random_seed(&random, 7);
	CHECK(wl_cells_train(vectors, COUNT, DIMS, K, &random, NULL, NULL, trained),
		  "cells train for arranging");
	memcpy(arranged, trained, sizeof(float) * K * DIMS);
	CHECK(wl_cells_arrange(arranged, K, DIMS, &random, NULL, NULL), "cells are arranged");
	for (i = 0; i < K; i++)
		for (j = 0; j < K; j++)
			if (!used[j] && memcmp(arranged + i * DIMS, trained + j * DIMS,
								   sizeof(float) * DIMS) == 0)
			{
				used[j] = true;
				matched++;
				break;
			}
	CHECK(matched == K, "arranged cells are the trained ones, each once");
	for (i = 0; i + 1 < K; i++)
	{
		adjacent += centroid_distance(arranged + i * DIMS, arranged + (i + 1) * DIMS, DIMS);
		before += centroid_distance(trained + i * DIMS, trained + (i + 1) * DIMS, DIMS);
	}
	for (i = 0; i < K; i++)
		for (j = 0; j < K; j++)
			all += centroid_distance(trained + i * DIMS, trained + j * DIMS, DIMS);
	all /= (double) K * (K - 1);
	CHECK(adjacent / (K - 1) < 0.8 * all && adjacent < 0.8 * before,
		  "cells of adjacent numbers are near each other");
	free(trained);
	free(arranged);
}

/*
 * A model of cells in groups: deterministic, stored as "WLM3" and read back
 * to the same cells, every cut and a group's run out of order refused, not
 * read as a model of ungrouped cells; probes of the nearest groups (20 of
 * them: more than one batch) come nearest first and distinct, hold a
 * vector's own cell and its nearest neighbour's, and those of fewer cells
 * are the first of those of more.
 */
static void
test_grouped_cells(const float *vectors)
{
	WlModelShape grouped = shape;
	WlModel    *a;
	unsigned char *bytes_a = NULL;
	size_t		len_a;
	char		errbuf[256];
	float		y[16];
	int			probed[8];
	float		keys[8];
	int			more[40];
	int			own = 0;
	int			found = 0;
	bool		ordered = true;
	bool		prefix = true;
	int			i;

	grouped.ntables = 1;
	grouped.cells = 60;
	grouped.groups = 20;
	a = train_stored_cells(&grouped, vectors, "WLM3", "a model of grouped cells", &bytes_a,
						   &len_a);
	if (a == NULL)
		return;
	{
		/* the second group's first cell, set to the first's: runs out of order */
		size_t		at = len_a - 4 * (size_t) grouped.groups * grouped.rotation -
			4 * (size_t) (grouped.groups + 1) + 4;
		unsigned char *bad = malloc(len_a);

		memcpy(bad, bytes_a, len_a);
		memset(bad + at, 0, 4);
		CHECK(wl_model_deserialize(&grouped, bad, len_a, errbuf, sizeof(errbuf)) == NULL &&
			  strcmp(errbuf, "the model holds a value out of range") == 0,
			  "a model whose groups' runs of cells are out of order is refused");
		free(bad);
	}
	grouped.groups = 0;
	CHECK(wl_model_deserialize(&grouped, bytes_a, len_a, errbuf, sizeof(errbuf)) == NULL,
		  "a model of grouped cells is not read as one of ungrouped cells");
	for (i = 0; i < COUNT; i++)
	{
		int			n;
		int			cell;

		wl_model_transform(a, vectors + i * DIMS, y);
		cell = wl_model_cell(a, 0, y);
		n = wl_model_probe_cells(a, 0, y, 8, probed, keys);
		ordered = ordered && n == 8;
		for (int p = 1; p < n; p++)
			for (int q = 0; q < p; q++)
				ordered = ordered && keys[q] <= keys[p] && probed[q] != probed[p];
		for (int p = 0; p < n; p++)
			own += probed[p] == cell;
		prefix = prefix && wl_model_probe_cells(a, 0, y, 40, more, NULL) == 40 &&
			memcmp(more, probed, sizeof(probed)) == 0;
		if (i < QUERIES)
		{
			wl_model_transform(a, vectors + nearest_other(vectors, i) * DIMS, y);
			cell = wl_model_cell(a, 0, y);
			for (int p = 0; p < n; p++)
				found += probed[p] == cell;
		}
	}
	CHECK(ordered, "grouped cells are probed nearest first, each once");
	CHECK(prefix, "a probe of fewer grouped cells reads the first of a probe of more");
	CHECK(own >= COUNT * 95 / 100, "a vector's eight nearest grouped cells hold its own");
	CHECK(found >= QUERIES * 9 / 10, "a vector's eight nearest grouped cells hold its nearest neighbour");
	printf("# grouped cells: own cell probed for %d of %d, nearest neighbour's for %d of %d\n",
		   own, COUNT, found, QUERIES);
	wl_model_free(a);
	free(bytes_a);
}

/*
 * A sample of every vector times 2^exponent trains to a model that puts
 * each vector, so scaled, in the cell the model of the sample as it is
 * gives it (up to a few at cell borders): training scales data of any
 * finite size to where float arithmetic holds it.
 */
static void
test_scaled(const float *vectors, int exponent)
{
	WlModelShape celled = shape;
	float	   *scaled = malloc(sizeof(float) * COUNT * DIMS);
	char		errbuf[256];
	char		label[64];
	WlModel    *plain;
	WlModel    *model;
	int			same = 0;
	int			i;

	for (i = 0; i < COUNT * DIMS; i++)
		scaled[i] = ldexpf(vectors[i], exponent);
	celled.ntables = 1;
	celled.cells = 24;
	plain = wl_model_train(&celled, vectors, COUNT, never, NULL, errbuf, sizeof(errbuf));
	model = wl_model_train(&celled, scaled, COUNT, never, NULL, errbuf, sizeof(errbuf));
	for (i = 0; plain != NULL && model != NULL && i < COUNT; i++)
	{
		float		y[16];
		float		z[16];

		wl_model_transform(plain, vectors + i * DIMS, y);
		wl_model_transform(model, scaled + i * DIMS, z);
		same += wl_model_cell(plain, 0, y) == wl_model_cell(model, 0, z);
	}
	printf("# vectors times 2^%d: %d of %d in the same cell\n", exponent, same, COUNT);
	snprintf(label, sizeof(label), "vectors times 2^%d train to the same cells", exponent);
	CHECK(same >= COUNT * 95 / 100, label);
	wl_model_free(plain);
	wl_model_free(model);
	free(scaled);
}

/*
 * Finite values of any size train: a sample with one vector whose
 * components are near FLT_MAX trains with cells, the other vectors keep
 * their cells, and the large vector gets a cell and a code of its own.
 */
static void
test_huge_values(const float *vectors)
{
	WlModelShape celled = shape;
	float	   *sample = malloc(sizeof(float) * COUNT * DIMS);
	char		errbuf[256];
	WlModel    *model;
	float		y[16];
	unsigned char code[64];
	int			d;

	memcpy(sample, vectors, sizeof(float) * COUNT * DIMS);
	for (d = 0; d < DIMS; d++)
		sample[5 * DIMS + d] = (d % 2 == 0 ? 3.4e38f : -3.4e38f);
	celled.ntables = 1;
	celled.cells = 24;
	model = wl_model_train(&celled, sample, COUNT, never, NULL, errbuf, sizeof(errbuf));
	CHECK_STR(model != NULL ? "trained" : errbuf, "trained",
			  "a sample with components near FLT_MAX trains");
	if (model != NULL)
	{
		int			cell;

		wl_model_transform(model, sample + 5 * DIMS, y);
		cell = wl_model_cell(model, 0, y);
		CHECK(cell >= 0 && cell < celled.cells, "the large vector has a cell");
		wl_model_encode(model, 0, cell, y, code);
		wl_model_transform(model, sample, y);
		CHECK(isfinite(y[0]) && wl_model_cell(model, 0, y) >= 0, "the others keep theirs");
	}
	wl_model_free(model);
	free(sample);
	test_scaled(vectors, 100);
	test_scaled(vectors, -100);
}

int
main(void)
{
	float	   *vectors = make_vectors(COUNT, 12345);

	test_deterministic(vectors);
	test_ranking(vectors);
	test_bad_bytes(vectors);
	test_edges(vectors);
	test_cells(vectors);
	test_arranged_cells(vectors);
	test_grouped_cells(vectors);
	test_huge_values(vectors);
	free(vectors);
	return unit_done();
}
