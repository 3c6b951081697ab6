/*
 * compat.h - what differs between the PostgreSQL major versions supported
 * (15 to 18; 15, 17 and 18 tested), behind one spelling each.
 */
#ifndef WL_COMPAT_H
#define WL_COMPAT_H

#include "postgres.h"

#include "access/stratnum.h"
#include "catalog/pg_foreign_server.h"
#include "commands/explain.h"
#if PG_VERSION_NUM >= 180000
/* PG 18 split ExplainState and the ExplainProperty* writers out of explain.h. */
#include "commands/explain_format.h"
#include "commands/explain_state.h"
#endif
#include "executor/instrument.h"
#include "funcapi.h"
#include "optimizer/pathnode.h"
#include "tcop/tcopprot.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/tuplestore.h"

/*
 * What comparison an operator makes, by the btree strategy numbers (< 1,
 * <= 2, = 3, >= 4, > 5; <> WL_COMPARE_NE): PG 18 renamed the lookup and
 * gave its answer as a CompareType, numbered alike.
 */
#include "utils/lsyscache.h"
#if PG_VERSION_NUM >= 180000
#define wl_op_interpretations(opno) get_op_index_interpretation(opno)
#define wl_interpretation_compare(item) ((int) ((OpIndexInterpretation *) (item))->cmptype)
#define WL_COMPARE_NE COMPARE_NE
#else
#define wl_op_interpretations(opno) get_op_btree_interpretation(opno)
#define wl_interpretation_compare(item) (((OpBtreeInterpretation *) (item))->strategy)
#define WL_COMPARE_NE ROWCOMPARE_NE
#endif

/*
 * PG 18 replaced pg_attribute_noreturn(), after a declaration, with
 * pg_noreturn before it; GCC and Clang take the attribute after it still.
 */
#ifndef pg_attribute_noreturn
#define pg_attribute_noreturn() __attribute__((noreturn))
#endif

/*
 * The columns a statement updates in a range table entry's relation: PG 16
 * moved them from the entry to its RTEPermissionInfo.
 */
#if PG_VERSION_NUM >= 160000
#include "parser/parse_relation.h"
#define wl_rte_updated_cols(estate, rte) \
	(getRTEPermissionInfo((estate)->es_rteperminfos, (rte))->updatedCols)
#else
#define wl_rte_updated_cols(estate, rte) ((rte)->updatedCols)
#endif

/*
 * create_foreignscan_path: PG 17 added the restrictinfo list, PG 18 the
 * count of disabled nodes below the path.
 */
#if PG_VERSION_NUM >= 180000
#define wl_create_foreignscan_path(root, rel, target, rows, startup, total, pathkeys, outer, outerpath, priv) \
	create_foreignscan_path(root, rel, target, rows, 0, startup, total, pathkeys, outer, outerpath, NIL, priv)
#elif PG_VERSION_NUM >= 170000
#define wl_create_foreignscan_path(root, rel, target, rows, startup, total, pathkeys, outer, outerpath, priv) \
	create_foreignscan_path(root, rel, target, rows, startup, total, pathkeys, outer, outerpath, NIL, priv)
#else
#define wl_create_foreignscan_path create_foreignscan_path
#endif

/* Does a path key sort ascending?  PG 18 names its order by comparison type. */
#if PG_VERSION_NUM >= 180000
#define wl_pathkey_ascending(pathkey) ((pathkey)->pk_cmptype == COMPARE_LT)
#else
#define wl_pathkey_ascending(pathkey) ((pathkey)->pk_strategy == BTLessStrategyNumber)
#endif

/* PG 16 renamed the accessor of the backend status entries, from 1. */
#if PG_VERSION_NUM < 160000
#define pgstat_get_local_beentry_by_index(idx) pgstat_fetch_stat_local_beentry(idx)
#endif

/* PG 16 folded the per-object ACL checks into object_aclcheck. */
#if PG_VERSION_NUM >= 160000
#define wl_server_aclcheck(serverid, roleid, mode) \
	object_aclcheck(ForeignServerRelationId, (serverid), (roleid), (mode))
#else
#define wl_server_aclcheck(serverid, roleid, mode) \
	pg_foreign_server_aclcheck((serverid), (roleid), (mode))
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
