/*
 * operators.c - exact distances between real[] vectors in SQL.
 *
 * whiplash_distance(a, b, metric) and the operators <-> (Euclidean), <=>
 * (cosine distance) and <#> (negative inner product), spelled and meaning
 * as in pgvector, compute in C exactly what a search re-ranks with, so
 * brute-force ground truth is one SQL query.  They are defined on real[],
 * so they coexist with pgvector's operators on its vector type.
 */
#include "postgres.h"

#include "utils/builtins.h"

#include "whiplash.h"

PG_FUNCTION_INFO_V1(whiplash_distance);
PG_FUNCTION_INFO_V1(whiplash_l2_distance);
PG_FUNCTION_INFO_V1(whiplash_cosine_distance);
PG_FUNCTION_INFO_V1(whiplash_negative_inner_product);

/* The distance between the two real[] arguments under metric. */
static double
wl_distance_args(FunctionCallInfo fcinfo, WlMetric metric)
{
	int			adims;
	int			bdims;
	float	   *a = wl_array_to_vector(PG_GETARG_ARRAYTYPE_P(0), 0, "vector", &adims);
	float	   *b = wl_array_to_vector(PG_GETARG_ARRAYTYPE_P(1), 0, "vector", &bdims);

	if (adims != bdims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different vector dimensions %d and %d", adims, bdims)));
	return wl_distance(metric, a, b, adims);
}

/* whiplash_distance(a real[], b real[], metric text) returns float8. */
Datum
whiplash_distance(PG_FUNCTION_ARGS)
{
	char	   *metric_name = text_to_cstring(PG_GETARG_TEXT_PP(2));
	WlMetric	metric;

	if (!wl_metric_parse(metric_name, &metric))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown metric \"%s\"", metric_name),
				 errhint("Valid metrics are cosine, l2 and inner_product.")));
	PG_RETURN_FLOAT8(wl_distance_args(fcinfo, metric));
}

/* a <-> b: Euclidean distance. */
Datum
whiplash_l2_distance(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(wl_distance_args(fcinfo, WL_METRIC_L2));
}

/* a <=> b: cosine distance, 1 - cosine similarity. */
Datum
whiplash_cosine_distance(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(wl_distance_args(fcinfo, WL_METRIC_COSINE));
}

/* a <#> b: negative inner product. */
Datum
whiplash_negative_inner_product(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(wl_distance_args(fcinfo, WL_METRIC_INNER_PRODUCT));
}
