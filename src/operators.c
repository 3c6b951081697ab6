/*
 * operators.c - exact distances between real[] vectors in SQL.
 *
 * whiplash_distance(a, b, metric) computes in C exactly what a search uses
 * to re-rank, so brute-force ground truth for recall is one SQL query.
 */
#include "postgres.h"

#include "utils/builtins.h"

#include "whiplash.h"

PG_FUNCTION_INFO_V1(whiplash_distance);

/* whiplash_distance(a real[], b real[], metric text) returns float8. */
Datum
whiplash_distance(PG_FUNCTION_ARGS)
{
	int			adims;
	int			bdims;
	float	   *a = wl_array_to_vector(PG_GETARG_ARRAYTYPE_P(0), 0, "vector", &adims);
	float	   *b = wl_array_to_vector(PG_GETARG_ARRAYTYPE_P(1), adims, "vector", &bdims);
	char	   *metric_name = text_to_cstring(PG_GETARG_TEXT_PP(2));
	WlMetric	metric;

	if (!wl_metric_parse(metric_name, &metric))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown metric \"%s\"", metric_name),
				 errhint("Valid metrics are cosine, l2 and inner_product.")));
	PG_RETURN_FLOAT8(wl_distance(metric, a, b, adims));
}
