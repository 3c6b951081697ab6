/*
 * vecarray.c - real[] values as vectors, checked.
 *
 * Vectors reach whiplash as real[] (a pgvector vector casts to it).  Every
 * way an array can be unfit for a vector gets its own clear error, before
 * anything is sent to DynamoDB.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/lsyscache.h"

#include "whiplash.h"

/*
 * Copies a real[] into a palloc'd float array after checking it: one
 * dimension, not empty, no NULLs, no NaN or infinity, and exactly dims
 * elements (when dims > 0).  what names the value in messages ("vector",
 * "query vector").  Sets *ndims to the element count.
 */
float *
wl_array_to_vector(ArrayType *array, int dims, const char *what, int *ndims)
{
	int			nelems;
	Datum	   *elems;
	bool	   *nulls;
	float	   *out;
	int			i;

	if (ARR_ELEMTYPE(array) != FLOAT4OID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s must be of type real[]", what)));
	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", what)));
	deconstruct_array(array, FLOAT4OID, sizeof(float4), true, TYPALIGN_INT,
					  &elems, &nulls, &nelems);
	if (nelems == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s must not be empty", what)));
	for (i = 0; i < nelems; i++)
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not contain nulls", what)));
	if (dims > 0 && nelems != dims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s has %d dimensions, but the collection has %d", what, nelems, dims)));

	out = palloc(sizeof(float) * nelems);
	for (i = 0; i < nelems; i++)
	{
		out[i] = DatumGetFloat4(elems[i]);
		if (isnan(out[i]) || isinf(out[i]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("%s must not contain NaN or infinity", what),
					 errdetail("Element %d is %s.", i + 1,
							   isnan(out[i]) ? "NaN" : (out[i] > 0 ? "Infinity" : "-Infinity"))));
	}
	pfree(elems);
	pfree(nulls);
	*ndims = nelems;
	return out;
}

/* A new real[] holding the floats of a vector. */
ArrayType *
wl_vector_to_array(const float *vector, int dims)
{
	Datum	   *elems = palloc(sizeof(Datum) * dims);
	int			i;

	for (i = 0; i < dims; i++)
		elems[i] = Float4GetDatum(vector[i]);
	return construct_array(elems, dims, FLOAT4OID, sizeof(float4), true, TYPALIGN_INT);
}
