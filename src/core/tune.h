/*
 * tune.h - an index's code size, chosen by measuring (Postgres-free).
 *
 * Longer codes rank candidates better, so fewer are fetched, but every
 * cell read costs more.  Which wins depends on the data: on low-contrast
 * data (many noisy clusters) only long codes tell near neighbours apart;
 * on text embeddings whose neighbours are spread over many cells, short
 * codes that make each cell cheap win.  So a build trains a model for each
 * candidate code size, calibrates each on its sample (calibrate.h), and
 * keeps the one that reaches the recall target for the fewest read units
 * at the collection's size.
 */
#ifndef WL_TUNE_H
#define WL_TUNE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calibrate.h"
#include "model.h"

/* Queries of the sample each candidate is measured with, at most. */
#define WL_TUNE_QUERIES 200

/* What a build knows when it chooses. */
typedef struct WlTuneInput
{
	const WlModelShape *shape;	/* the longest codes (subspaces) tried */
	const float *sample;		/* n vectors to train on */
	const uint64_t *sample_keys;	/* their ids' hashes */
	int			n;
	const float *queries;		/* nq held out of the sample */
	const uint64_t *query_keys;
	int			nq;
	int64_t		vectors;		/* in the collection */
	double		name_bytes;		/* a record name's mean length (recordname.h) */
	double		fetch_units;	/* a vector's fetch */
	double		target;			/* recall */
} WlTuneInput;

/*
 * Trains a model of each candidate code size (the shape's subspaces, and
 * half as many), measures each on the sample, and returns the one that
 * reaches the target for the fewest read units (else the one of highest
 * recall), with its measured choice in *chosen (recall -1 where nothing
 * was measured: too few queries), its cells numbered near as they lie
 * (wl_model_arrange_cells).  NULL with a reason in errbuf as
 * wl_model_train.
 */
extern WlModel *wl_tune_train(const WlTuneInput *input, WlModelAbortCheck abort_check,
							  void *abort_arg, WlCalibChoice *chosen, char *errbuf,
							  size_t errlen);

#endif							/* WL_TUNE_H */
