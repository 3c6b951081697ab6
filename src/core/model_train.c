/*
 * model_train.c - training a model (see model.h) on a sample: its mean, its
 * top principal components by subspace iteration (on the covariance matrix
 * when it is small enough to form, on the sample itself otherwise), and
 * per subspace of the rotated vectors a k-means codebook of 16 centroids.
 * Rotated dimensions are dealt to subspaces by their variance, largest
 * first, each to the subspace that holds the least so far, so that every
 * subspace carries about the same variance and none wastes its 16
 * centroids.  A model with cells also gets k-means cells of the rotated
 * sample (cells.c).  The result is deterministic for a sample and a seed.
 */
#include "model_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cells.h"

#define WL_MODEL_ITERATIONS 12	/* of subspace iteration */
#define WL_MODEL_KMEANS_ROUNDS 15

/*
 * Work (multiply-adds) principal components may take: forming the
 * covariance matrix, or, where that is too much, each iteration's pass
 * over the sample rows; both bound the rows used.
 */
#define WL_MODEL_COVARIANCE_WORK 2.0e9
#define WL_MODEL_ITERATION_WORK 1.0e10
#define WL_MODEL_MIN_PCA_ROWS 256

/* Training: the centred sample and what is derived from it. */
typedef struct WlTraining
{
	const WlModelShape *shape;
	double	   *x;				/* n x dims, centred (normalised for cosine) */
	int			n;
	int			pca_rows;		/* of x, for principal components */
	double		scale;			/* x is the centred sample times this */
	WlRandom	random;
	WlModelAbortCheck abort_check;
	void	   *abort_arg;
} WlTraining;

/* The rows a budget allows: all n, or at least WL_MODEL_MIN_PCA_ROWS. */
static int
wl_pca_rows(int n, double rows)
{
	if (rows < WL_MODEL_MIN_PCA_ROWS)
		rows = WL_MODEL_MIN_PCA_ROWS;
	return n < rows ? n : (int) rows;
}

/* Has training been asked to stop? */
static bool
wl_training_aborted(WlTraining *training)
{
	return training->abort_check != NULL && training->abort_check(training->abort_arg);
}

/* The same, as cells.c polls it. */
static bool
wl_training_aborted_arg(void *arg)
{
	return wl_training_aborted(arg);
}

/* Orders doubles ascending, for qsort. */
static int
wl_double_compare(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/*
 * The power of two that brings the sample's median norm (norms, of n
 * vectors; reordered) near 1 when it is far from it, so that the model's
 * float arithmetic neither overflows nor underflows on data of any finite
 * size; 1 for data of ordinary size, whose models stay as they were.
 */
static double
wl_training_scale(double *norms, int n)
{
	double		median;
	int			exponent;

	if (n == 0)
		return 1.0;
	qsort(norms, (size_t) n, sizeof(double), wl_double_compare);
	median = norms[n / 2];
	if (median == 0 || (median >= 0x1p-20 && median <= 0x1p20))
		return 1.0;
	exponent = ilogb(median);
	exponent = exponent > WL_MODEL_MAX_EXPONENT ? WL_MODEL_MAX_EXPONENT :
		exponent < -WL_MODEL_MAX_EXPONENT ? -WL_MODEL_MAX_EXPONENT : exponent;
	return ldexp(1.0, -exponent);
}

/*
 * Copies the sample into the training, normalised for cosine (zero cosine
 * vectors left out), centres it on its mean, which goes to mean, and
 * multiplies it by the training's scale (wl_training_scale).  Vectors more
 * than WL_MODEL_OUTLIER times that scale's unit from the origin are left
 * out too: one would own the mean and the principal components, and float
 * arithmetic cannot hold its distances.  They are still coded (their
 * coordinates held at WL_MODEL_MAX_COORD), and searches re-rank them exactly.
 */
static bool
wl_training_load(WlTraining *training, const float *sample, int n, float *mean)
{
	int			d = training->shape->dims;
	double	   *sum = calloc((size_t) d, sizeof(double));
	double	   *norms = malloc(sizeof(double) * (size_t) (n > 0 ? n : 1));
	double	   *sorted = malloc(sizeof(double) * (size_t) (n > 0 ? n : 1));
	int			kept = 0;
	int			i;
	int			f;

	training->x = malloc(sizeof(double) * (size_t) n * d);
	if (sum == NULL || norms == NULL || sorted == NULL || training->x == NULL)
	{
		free(sum);
		free(norms);
		free(sorted);
		return false;
	}
	for (i = 0; i < n; i++)
		norms[i] = wl_norm(sample + (size_t) i * d, d);
	if (training->shape->metric == WL_METRIC_COSINE)
		training->scale = 1.0;
	else
	{
		memcpy(sorted, norms, sizeof(double) * (size_t) n);
		training->scale = wl_training_scale(sorted, n);
	}
	for (i = 0; i < n; i++)
	{
		const float *row = sample + (size_t) i * d;
		double		scale = 1.0;

		if (training->shape->metric == WL_METRIC_COSINE)
		{
			if (norms[i] == 0)
				continue;
			scale = 1.0 / norms[i];
		}
		else if (norms[i] * training->scale > WL_MODEL_OUTLIER)
			continue;
		for (f = 0; f < d; f++)
			sum[f] += (training->x[(size_t) kept * d + f] = row[f] * scale);
		kept++;
	}
	training->n = kept;
	for (f = 0; f < d; f++)
		mean[f] = kept > 0 ? (float) (sum[f] / kept) : 0.0f;
	for (i = 0; i < kept; i++)
		for (f = 0; f < d; f++)
			training->x[(size_t) i * d + f] =
				(training->x[(size_t) i * d + f] - mean[f]) * training->scale;
	free(sum);
	free(norms);
	free(sorted);
	return true;
}

/* Orthonormalises the p columns of v (d x p, row-major) by Gram-Schmidt. */
static void
wl_orthonormalise(double *v, int d, int p, WlRandom *random)
{
	int			j;
	int			k;
	int			f;

	for (j = 0; j < p; j++)
	{
		double		norm = 0;

		for (k = 0; k < j; k++)
		{
			double		dot = 0;

			for (f = 0; f < d; f++)
				dot += v[(size_t) f * p + j] * v[(size_t) f * p + k];
			for (f = 0; f < d; f++)
				v[(size_t) f * p + j] -= dot * v[(size_t) f * p + k];
		}
		for (f = 0; f < d; f++)
			norm += v[(size_t) f * p + j] * v[(size_t) f * p + j];
		norm = sqrt(norm);
		if (norm < 1e-12)
		{
			/* a degenerate column (rank-deficient sample): start it anew */
			for (f = 0; f < d; f++)
				v[(size_t) f * p + j] = wl_random_normal(random);
			j--;
			continue;
		}
		for (f = 0; f < d; f++)
			v[(size_t) f * p + j] /= norm;
	}
}

/*
 * out = C v for the sample's covariance C (d x d), v d x p: with the
 * covariance formed when given (cov), else as X'(X v) / n.
 */
static bool
wl_covariance_times(WlTraining *training, const double *cov, const double *v, double *out)
{
	int			d = training->shape->dims;
	int			p = training->shape->rotation;
	size_t		size = (size_t) d * p;
	int			i;
	int			f;
	int			g;
	int			j;

	memset(out, 0, sizeof(double) * size);
	if (cov != NULL)
	{
		for (f = 0; f < d; f++)
		{
			if (f % 64 == 0 && wl_training_aborted(training))
				return false;
			for (g = 0; g < d; g++)
			{
				double		c = cov[(size_t) f * d + g];

				for (j = 0; j < p; j++)
					out[(size_t) f * p + j] += c * v[(size_t) g * p + j];
			}
		}
		return true;
	}
	for (i = 0; i < training->pca_rows; i++)
	{
		const double *x = training->x + (size_t) i * d;
		double		t[WL_MODEL_MAX_ROTATION];

		if (i % 64 == 0 && wl_training_aborted(training))
			return false;
		for (j = 0; j < p; j++)
			t[j] = 0;
		for (f = 0; f < d; f++)
			for (j = 0; j < p; j++)
				t[j] += x[f] * v[(size_t) f * p + j];
		for (f = 0; f < d; f++)
			for (j = 0; j < p; j++)
				out[(size_t) f * p + j] += x[f] * t[j] / training->pca_rows;
	}
	return true;
}

/*
 * The sample's covariance matrix (d x d) when forming it costs at most
 * WL_MODEL_COVARIANCE_WORK multiply-adds, from at most as many sample rows
 * as that allows; NULL otherwise (and *failed when out of memory or
 * aborted).
 */
static double *
wl_covariance(WlTraining *training, bool *failed)
{
	int			d = training->shape->dims;
	double		rows = WL_MODEL_COVARIANCE_WORK / ((double) d * d / 2);
	int			n = training->n;
	double	   *cov;
	int			i;
	int			f;
	int			g;

	*failed = false;
	if (rows < 1000)
	{
		/* too wide to form: iterate on the rows instead, as many as allowed */
		rows = WL_MODEL_ITERATION_WORK /
			(2.0 * d * training->shape->rotation * (WL_MODEL_ITERATIONS + 1));
		training->pca_rows = wl_pca_rows(training->n, rows);
		return NULL;
	}
	if (n > rows)
		n = (int) rows;
	cov = calloc((size_t) d * d, sizeof(double));
	if (cov == NULL)
	{
		*failed = true;
		return NULL;
	}
	for (i = 0; i < n; i++)
	{
		const double *x = training->x + (size_t) i * d;

		if (i % 64 == 0 && wl_training_aborted(training))
		{
			free(cov);
			*failed = true;
			return NULL;
		}
		for (f = 0; f < d; f++)
			for (g = f; g < d; g++)
				cov[(size_t) f * d + g] += x[f] * x[g];
	}
	for (f = 0; f < d; f++)
		for (g = f; g < d; g++)
			cov[(size_t) g * d + f] = cov[(size_t) f * d + g] /= n;
	return cov;
}

/*
 * The sample's total variance (the covariance's trace), over the rows the
 * principal components are computed from.
 */
static double
wl_total_variance(const WlTraining *training, const double *cov)
{
	int			d = training->shape->dims;
	double		total = 0;
	int			i;
	int			f;

	if (cov != NULL)
	{
		for (f = 0; f < d; f++)
			total += cov[(size_t) f * d + f];
		return total;
	}
	for (i = 0; i < training->pca_rows; i++)
		for (f = 0; f < d; f++)
			total += training->x[(size_t) i * d + f] * training->x[(size_t) i * d + f];
	return total / (training->pca_rows > 0 ? training->pca_rows : 1);
}

/*
 * The top principal components of the sample into the model's rotation,
 * largest variance first, their variances into variance and the sample's
 * total variance into *total.
 */
static bool
wl_training_pca(WlTraining *training, WlModel *model, double *variance, double *total)
{
	int			d = training->shape->dims;
	int			p = training->shape->rotation;
	size_t		size = (size_t) d * p;
	double	   *v = malloc(sizeof(double) * size);
	double	   *w = malloc(sizeof(double) * size);
	int		   *order = malloc(sizeof(int) * p);
	double	   *cov;
	bool		failed = false;
	bool		ok = v && w && order;
	int			iteration;
	int			j;
	int			f;

	cov = ok ? wl_covariance(training, &failed) : NULL;
	ok = ok && !failed;
	if (ok)
		*total = wl_total_variance(training, cov);
	for (f = 0; ok && f < (int) size; f++)
		v[f] = wl_random_normal(&training->random);
	if (ok)
		wl_orthonormalise(v, d, p, &training->random);
	for (iteration = 0; ok && iteration < WL_MODEL_ITERATIONS; iteration++)
	{
		ok = !wl_training_aborted(training) && wl_covariance_times(training, cov, v, w);
		if (ok)
		{
			memcpy(v, w, sizeof(double) * size);
			wl_orthonormalise(v, d, p, &training->random);
		}
	}
	/* Rayleigh quotients: each component's variance, then largest first */
	if (ok)
		ok = wl_covariance_times(training, cov, v, w);
	for (j = 0; ok && j < p; j++)
	{
		int			k;

		variance[j] = 0;
		for (f = 0; f < d; f++)
			variance[j] += v[(size_t) f * p + j] * w[(size_t) f * p + j];
		for (k = j; k > 0 && variance[order[k - 1]] < variance[j]; k--)
			order[k] = order[k - 1];
		order[k] = j;
	}
	for (f = 0; ok && f < d; f++)
		for (j = 0; j < p; j++)
			model->rotation[(size_t) f * p + j] = (float) v[(size_t) f * p + order[j]];
	if (ok)
	{
		double	   *sorted = w;

		for (j = 0; j < p; j++)
			sorted[j] = variance[order[j]];
		memcpy(variance, sorted, sizeof(double) * p);
	}
	free(v);
	free(w);
	free(order);
	free(cov);
	return ok;
}

/*
 * Deals the rotated dimensions to subspaces: largest variance first, each
 * to the subspace with the least variance so far among those with room
 * (ceil(p / subspaces) dimensions each), and each subspace's dimensions in
 * ascending order.
 */
static void
wl_training_assign(WlModel *model, const double *variance)
{
	int			p = model->shape.rotation;
	int			m = model->shape.subspaces;
	int			room = (p + m - 1) / m;
	double		load[WL_MODEL_MAX_SUBSPACES] = {0};
	int			count[WL_MODEL_MAX_SUBSPACES] = {0};
	int			owner[WL_MODEL_MAX_ROTATION];
	int			j;
	int			i;
	int			at = 0;

	for (j = 0; j < p; j++)
	{
		int			best = -1;

		for (i = 0; i < m; i++)
			if (count[i] < room && (best < 0 || load[i] < load[best]))
				best = i;
		owner[j] = best;
		load[best] += variance[j];
		count[best]++;
	}
	for (i = 0; i < m; i++)
	{
		model->bounds[i] = at;
		for (j = 0; j < p; j++)
			if (owner[j] == i)
				model->dims_of[at++] = j;
	}
	model->bounds[m] = at;
}

/* k-means of the sample's rotated vectors (y, n x p) in one subspace. */
static void
wl_training_kmeans(WlTraining *training, WlModel *model, const float *y, int subspace,
				   int *assigned)
{
	int			p = model->shape.rotation;
	int			width = model->bounds[subspace + 1] - model->bounds[subspace];
	const int  *dims = model->dims_of + model->bounds[subspace];
	float	   *books = model->books + model->book_at[subspace];
	double		sums[WL_MODEL_CENTROIDS * WL_MODEL_MAX_ROTATION];
	int			sizes[WL_MODEL_CENTROIDS];
	int			n = training->n;
	int			round;
	int			i;
	int			c;
	int			k;

	for (c = 0; c < WL_MODEL_CENTROIDS; c++)
	{
		const float *pick = y + (size_t) (wl_random_next(&training->random) % n) * p;

		for (k = 0; k < width; k++)
			books[c * width + k] = pick[dims[k]];
	}
	for (round = 0; round < WL_MODEL_KMEANS_ROUNDS; round++)
	{
		memset(sums, 0, sizeof(double) * WL_MODEL_CENTROIDS * width);
		memset(sizes, 0, sizeof(sizes));
		for (i = 0; i < n; i++)
		{
			const float *row = y + (size_t) i * p;

			assigned[i] = wl_nearest_centroid(model, row, subspace);
			sizes[assigned[i]]++;
			for (k = 0; k < width; k++)
				sums[assigned[i] * width + k] += row[dims[k]];
		}
		for (c = 0; c < WL_MODEL_CENTROIDS; c++)
		{
			const float *pick = y + (size_t) (wl_random_next(&training->random) % n) * p;

			for (k = 0; k < width; k++)
				books[c * width + k] = sizes[c] > 0 ? (float) (sums[c * width + k] / sizes[c]) :
					pick[dims[k]];	/* an empty cluster starts again at a random point */
		}
	}
}

/*
 * Keeps only the leading principal components that hold the shape's
 * keep_variance share of the total variance, and subspaces in the shape's
 * proportion to them, so that a code spends its bits where the data
 * varies: on data whose spectrum decays slowly (sentence embeddings)
 * nearly every dimension is kept, on pixel data a few hundred of many.
 */
static void
wl_training_truncate(WlModel *model, const double *variance, double total)
{
	WlModelShape *shape = &model->shape;
	double		held = 0;
	int			keep = 0;
	int			subspaces;
	int			f;

	if (shape->keep_variance <= 0 || total <= 0)
		return;
	while (keep < shape->rotation && held < shape->keep_variance * total)
		held += variance[keep++];
	if (keep < shape->plane_dims)
		keep = shape->plane_dims;
	if (keep >= shape->rotation)
		return;
	subspaces = (int) (((int64_t) keep * shape->subspaces + shape->rotation - 1) /
					   shape->rotation);
	for (f = 1; f < shape->dims; f++)
		memmove(model->rotation + (size_t) f * keep,
				model->rotation + (size_t) f * shape->rotation, sizeof(float) * keep);
	shape->rotation = keep;
	if (subspaces < shape->subspaces)
		shape->subspaces = subspaces;
}

/* Trains a model; see the header. */
WlModel *
wl_model_train(const WlModelShape *shape, const float *sample, int n,
			   WlModelAbortCheck abort_check, void *abort_arg, char *errbuf, size_t errlen)
{
	WlTraining	training;
	WlModel    *model;
	double	   *variance = NULL;
	double		total = 0;
	float	   *y = NULL;
	int		   *assigned = NULL;
	bool		ok;
	int			i;

	if (!wl_model_shape_ok(shape) || shape->keep_variance < 0 || shape->keep_variance > 1)
	{
		snprintf(errbuf, errlen, "the model's shape is out of range");
		return NULL;
	}
	memset(&training, 0, sizeof(training));
	training.shape = shape;
	training.abort_check = abort_check;
	training.abort_arg = abort_arg;
	wl_random_seed(&training.random, shape->seed ^ UINT64_C(0x6d6f64656c));
	model = wl_model_alloc(shape);
	ok = model != NULL && wl_training_load(&training, sample, n, model->mean);
	if (ok && training.n < WL_MODEL_CENTROIDS)
	{
		snprintf(errbuf, errlen, "a model needs at least %d vectors to train on, not %d",
				 WL_MODEL_CENTROIDS, training.n);
		free(training.x);
		wl_model_free(model);
		return NULL;
	}
	variance = ok ? malloc(sizeof(double) * shape->rotation) : NULL;
	ok = ok && variance != NULL && wl_training_pca(&training, model, variance, &total);
	if (ok)
	{
		/* from here on the shape is the model's, with what training kept */
		wl_training_truncate(model, variance, total);
		shape = &model->shape;
		training.shape = shape;
		wl_training_assign(model, variance);
		wl_model_index_books(model);
		y = malloc(sizeof(float) * (size_t) training.n * shape->rotation);
		assigned = malloc(sizeof(int) * (size_t) training.n);
		ok = y != NULL && assigned != NULL;
	}
	for (i = 0; ok && i < training.n; i++)
	{
		float		row[WL_MODEL_MAX_ROTATION];
		int			f;
		int			j;

		/* the centred sample, rotated (wl_model_rotate wants floats) */
		for (j = 0; j < shape->rotation; j++)
		{
			double		sum = 0;

			for (f = 0; f < shape->dims; f++)
				sum += training.x[(size_t) i * shape->dims + f] *
					model->rotation[(size_t) f * shape->rotation + j];
			row[j] = (float) sum;
		}
		memcpy(y + (size_t) i * shape->rotation, row, sizeof(float) * shape->rotation);
		if (i % 256 == 0 && wl_training_aborted(&training))
			ok = false;
	}
	for (i = 0; ok && i < (shape->cells > 0 ? shape->ntables : 0); i++)
	{
		float	   *centroids = model->cells + (size_t) i * shape->cells * shape->rotation;

		ok = shape->cells <= training.n &&
			(shape->groups > 0 ?
			 wl_cells_train_grouped(y, training.n, shape->rotation, shape->cells, shape->groups,
									&training.random, wl_training_aborted_arg, &training,
									centroids,
									model->group_centroids +
									(size_t) i * shape->groups * shape->rotation,
									model->group_first + (size_t) i * (shape->groups + 1)) :
			 wl_cells_train(y, training.n, shape->rotation, shape->cells, &training.random,
							wl_training_aborted_arg, &training, centroids));
	}
	/* with cells, the codebooks learn what is left after table 0's cells */
	for (i = 0; ok && shape->cells > 0 && i < training.n; i++)
	{
		float	   *row = y + (size_t) i * shape->rotation;

		wl_model_residual(model, 0, wl_model_cell(model, 0, row), row, row);
	}
	for (i = 0; ok && i < shape->subspaces; i++)
	{
		wl_training_kmeans(&training, model, y, i, assigned);
		ok = !wl_training_aborted(&training);
	}
	/* the rotation takes the scale on, so that models apply to vectors as they are */
	for (i = 0; ok && i < shape->dims * shape->rotation; i++)
		model->rotation[i] = (float) (model->rotation[i] * training.scale);
	if (!ok || !wl_model_finite(model))
	{
		snprintf(errbuf, errlen, "%s",
				 !ok && wl_training_aborted(&training) ? "interrupted" :
				 !ok && shape->cells > training.n ? "the sample has fewer vectors than the index has cells" :
				 !ok ? "out of memory" :
				 "the sample's values are too large to train on");
		wl_model_free(model);
		model = NULL;
	}
	free(training.x);
	free(variance);
	free(y);
	free(assigned);
	return model;
}

/* Numbers a model's cells near as they lie; see the header. */
bool
wl_model_arrange_cells(WlModel *model, WlModelAbortCheck abort_check, void *abort_arg)
{
	const WlModelShape *shape = &model->shape;
	WlRandom	random;
	bool		ok = true;
	int			t;

	if (shape->cells == 0 || shape->groups > 0)
		return true;
	wl_random_seed(&random, shape->seed ^ UINT64_C(0x617272616e6765));
	for (t = 0; ok && t < shape->ntables; t++)
		ok = wl_cells_arrange(model->cells + (size_t) t * shape->cells * shape->rotation,
							  shape->cells, shape->rotation, &random, abort_check, abort_arg);
	return ok;
}
