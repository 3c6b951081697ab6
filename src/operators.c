/*
 * operators.c - exact distances between real[] vectors in SQL, and which
 * metric an operator is.
 *
 * whiplash_distance(a, b, metric) and the operators <-> (Euclidean), <=>
 * (cosine distance) and <#> (negative inner product), spelled and meaning
 * as in pgvector, compute in C exactly what a search re-ranks with, so
 * brute-force ground truth is one SQL query.  They are defined on real[],
 * so they coexist with pgvector's operators on its vector type.  The
 * metrics themselves (names, operators, distances) are defined once, in
 * core/distance.c.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/syscache.h"

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

/* The metric of an SQL argument's name, or an error listing the valid ones. */
WlMetric
wl_metric_of_name(const char *name)
{
	WlMetric	metric;
	char		hint[128];

	if (wl_metric_parse(name, &metric))
		return metric;
	wl_metric_hint(hint, sizeof(hint));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown metric \"%s\"", name),
			 errhint("%s", hint)));
	return metric;				/* keep the compiler quiet */
}

/* whiplash_distance(a real[], b real[], metric text) returns float8. */
Datum
whiplash_distance(PG_FUNCTION_ARGS)
{
	char	   *metric_name = text_to_cstring(PG_GETARG_TEXT_PP(2));

	PG_RETURN_FLOAT8(wl_distance_args(fcinfo, wl_metric_of_name(metric_name)));
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

/* The schema the whiplash extension is installed in, or InvalidOid. */
static Oid
wl_extension_schema(void)
{
	Oid			extension = get_extension_oid("whiplash", true);
	Relation	catalog;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	Oid			schema = InvalidOid;

	if (!OidIsValid(extension))
		return InvalidOid;
	catalog = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(extension));
	scan = systable_beginscan(catalog, ExtensionOidIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
		schema = ((Form_pg_extension) GETSTRUCT(tuple))->extnamespace;
	systable_endscan(scan);
	table_close(catalog, AccessShareLock);
	return schema;
}

/*
 * The metric of a distance operator: one of whiplash's own (in the
 * extension's schema, on real[]), whatever the search path, or, for a
 * vector column of another type (vector_type, InvalidOid for real[]),
 * an operator of that type spelt as pgvector spells them.
 */
bool
wl_operator_metric(Oid opno, Oid vector_type, WlMetric *metric)
{
	HeapTuple	tuple = SearchSysCache1(OPEROID, ObjectIdGetDatum(opno));
	Form_pg_operator op;
	bool		found;

	if (!HeapTupleIsValid(tuple))
		return false;
	op = (Form_pg_operator) GETSTRUCT(tuple);
	if (OidIsValid(vector_type) && vector_type != FLOAT4ARRAYOID)
		found = op->oprleft == vector_type && op->oprright == vector_type &&
			wl_metric_by_operator(NameStr(op->oprname), metric);
	else
		found = op->oprleft == FLOAT4ARRAYOID && op->oprright == FLOAT4ARRAYOID &&
			wl_metric_by_operator(NameStr(op->oprname), metric) &&
			op->oprnamespace == wl_extension_schema();
	ReleaseSysCache(tuple);
	return found;
}
