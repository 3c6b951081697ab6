/*
 * compat.h - what differs between the PostgreSQL major versions supported
 * (13 to 17), behind one spelling each.
 */
#ifndef WL_COMPAT_H
#define WL_COMPAT_H

#include "postgres.h"

#include "catalog/pg_foreign_server.h"
#include "commands/explain.h"
#include "executor/instrument.h"
#include "funcapi.h"
#include "tcop/tcopprot.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/tuplestore.h"

/* PG 16 folded the per-object ACL checks into object_aclcheck. */
#if PG_VERSION_NUM >= 160000
#define wl_server_aclcheck(serverid, roleid, mode) \
	object_aclcheck(ForeignServerRelationId, (serverid), (roleid), (mode))
#else
#define wl_server_aclcheck(serverid, roleid, mode) \
	pg_foreign_server_aclcheck((serverid), (roleid), (mode))
#endif

#if PG_VERSION_NUM < 150000
/* PG 15 added MarkGUCPrefixReserved; older ones only warn. */
#define MarkGUCPrefixReserved(prefix) EmitWarningsOnPlaceholders(prefix)

/*
 * PG 15 added InitMaterializedSRF; this is the same set-up for 13 and 14:
 * a tuplestore in the per-query context returned in materialize mode.
 */
static inline void
InitMaterializedSRF(FunctionCallInfo fcinfo, bits32 flags)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext oldcontext;
	TupleDesc	tupdesc;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	oldcontext = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = tuplestore_begin_heap(true, false, work_mem);
	rsinfo->setDesc = CreateTupleDescCopy(tupdesc);
	MemoryContextSwitchTo(oldcontext);
}
#endif

/*
 * What EXPLAIN does with a query when no hook takes it: PG 17 exports it
 * as standard_ExplainOneQuery; before, this is its body (plan, then run
 * and print), timing the planning and counting its buffers.
 */
#if PG_VERSION_NUM >= 170000
#define wl_standard_explain_one_query standard_ExplainOneQuery
#else
static inline void
wl_standard_explain_one_query(Query *query, int cursorOptions, IntoClause *into,
							  ExplainState *es, const char *queryString,
							  ParamListInfo params, QueryEnvironment *queryEnv)
{
	PlannedStmt *plan;
	instr_time	planstart;
	instr_time	planduration;
	BufferUsage bufusage_start = pgBufferUsage;
	BufferUsage bufusage;

	INSTR_TIME_SET_CURRENT(planstart);
	plan = pg_plan_query(query, queryString, cursorOptions, params);
	INSTR_TIME_SET_CURRENT(planduration);
	INSTR_TIME_SUBTRACT(planduration, planstart);
	memset(&bufusage, 0, sizeof(BufferUsage));
	BufferUsageAccumDiff(&bufusage, &pgBufferUsage, &bufusage_start);
	ExplainOnePlan(plan, into, es, queryString, params, queryEnv, &planduration,
				   es->buffers ? &bufusage : NULL);
}
#endif

#endif							/* WL_COMPAT_H */
