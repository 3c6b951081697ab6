/*
 * tune.c - choosing an index's code size by measuring each candidate on
 * the sample it is trained on (see tune.h).
 *
 * A candidate is measured as a search of the whole collection would use
 * it: a cell of the collection holds vectors / cells records of the id's
 * length plus the code's, so reading it costs what its bytes cost, and the
 * candidates that compete for the re-ranked places grow with the
 * collection's size over the sample's.
 */
#include "tune.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynamodb.h"

/* An eventually consistent read's share of a read unit. */
#define WL_TUNE_EVENTUAL 0.5

/* The fewest subspaces a candidate has. */
#define WL_TUNE_MIN_SUBSPACES 8

/* Measures a model on the sample into *choice; false when nothing could be. */
static bool
wl_tune_measure(const WlTuneInput *input, const WlModel *model, WlCalibChoice *choice)
{
	const WlModelShape *shape = wl_model_shape(model);
	int			nq = input->nq < WL_TUNE_QUERIES ? input->nq : WL_TUNE_QUERIES;
	WlCalibrator *calibrator = wl_calib_begin(model, input->queries, input->query_keys, nq,
											  input->n, false);
	WlCalibration grid;
	double		per_cell = (double) (input->vectors > input->n ? input->vectors : input->n) /
		shape->cells;
	double		record = input->name_bytes + wl_model_code_bytes(model);
	double		cell_units = wl_ddb_read_quanta(per_cell * record) * WL_TUNE_EVENTUAL;
	double		scale = fmax(1.0, (double) input->vectors / fmax(input->n, 1));
	bool		ok = calibrator != NULL;
	int			i;

	for (i = 0; ok && i < input->n; i++)
		ok = wl_calib_add(calibrator, input->sample_keys[i],
						  input->sample + (size_t) i * shape->dims);
	ok = ok && wl_calib_end(calibrator, &grid);
	wl_calib_free(calibrator);
	if (!ok)
		return false;
	wl_calib_choose(&grid, input->target, 0, grid.k, shape->cells, cell_units,
					input->fetch_units, scale, 0, 0, choice);
	return true;
}

/* Is choice a better one than best: it reaches the target more cheaply, or comes nearer? */
static bool
wl_tune_better(const WlCalibChoice *choice, const WlCalibChoice *best)
{
	if (choice->reached != best->reached)
		return choice->reached;
	if (choice->reached)
		return choice->units < best->units;
	return choice->recall > best->recall;
}

/* Trains the candidates and returns the best, or NULL with the reason in errbuf. */
static WlModel *
wl_tune_pick(const WlTuneInput *input, WlModelAbortCheck abort_check, void *abort_arg,
			 WlCalibChoice *chosen, char *errbuf, size_t errlen)
{
	WlModelShape shape = *input->shape;
	WlModel    *best = NULL;
	int			candidates[2];
	int			ncandidates = 1;
	int			i;

	memset(chosen, 0, sizeof(WlCalibChoice));
	chosen->recall = -1;
	candidates[0] = shape.subspaces;
	if (shape.cells > 0 && input->nq > 0 && shape.subspaces / 2 >= WL_TUNE_MIN_SUBSPACES)
		candidates[ncandidates++] = shape.subspaces / 2;
	for (i = 0; i < ncandidates; i++)
	{
		WlCalibChoice choice;
		WlModel    *model;

		shape.subspaces = candidates[i];
		model = wl_model_train(&shape, input->sample, input->n, abort_check, abort_arg,
							   errbuf, errlen);
		if (model == NULL)
		{
			wl_model_free(best);
			return NULL;
		}
		if (ncandidates == 1)
			return model;
		if (!wl_tune_measure(input, model, &choice))
		{
			/* out of memory: keep what trained */
			wl_model_free(best);
			return model;
		}
		if (best == NULL || wl_tune_better(&choice, chosen))
		{
			wl_model_free(best);
			best = model;
			*chosen = choice;
		}
		else
			wl_model_free(model);
	}
	return best;
}

/*
 * Trains the candidates and keeps the best, its cells numbered so that a
 * partition's near cells are read together (packed_keys.c); see the header.
 */
WlModel *
wl_tune_train(const WlTuneInput *input, WlModelAbortCheck abort_check, void *abort_arg,
			  WlCalibChoice *chosen, char *errbuf, size_t errlen)
{
	WlModel    *model = wl_tune_pick(input, abort_check, abort_arg, chosen, errbuf, errlen);

	/* out of memory, the cells stay as they are (any numbering reads right) */
	if (model != NULL && !wl_model_arrange_cells(model, abort_check, abort_arg) &&
		abort_check != NULL && abort_check(abort_arg))
	{
		snprintf(errbuf, errlen, "interrupted");
		wl_model_free(model);
		return NULL;
	}
	return model;
}
