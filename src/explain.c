/*
 * explain.c - EXPLAIN ANALYZE of a statement that calls whiplash_search:
 * what those calls read from DynamoDB (requests, round trips, read units
 * against the plans' estimates), as a foreign scan's EXPLAIN ANALYZE shows
 * its own.  A Function Scan gives an extension no say in its lines, so the
 * figures follow the plan, summed over the statement's calls.
 */
#include "postgres.h"


#include "compat.h"
#include "whiplash.h"

/* What the calls of whiplash_search read, since the backend started. */
typedef struct WlFunctionSearches
{
	long		calls;
	long		requests;
	long		round_trips;
	long		vectors_read;
	long		rounds;
	double		capacity_units;
	double		estimated_units;
} WlFunctionSearches;

static WlFunctionSearches wl_function_searches;
static ExplainOneQuery_hook_type wl_previous_explain_hook = NULL;

/* Counts one call of whiplash_search: what it read and what its plan expected. */
void
wl_explain_count_search(const WlSearchStats *stats, double estimated_units)
{
	wl_function_searches.calls++;
	wl_function_searches.requests += stats->requests;
	wl_function_searches.round_trips += stats->round_trips;
	wl_function_searches.vectors_read += stats->vectors_read;
	wl_function_searches.rounds += stats->rounds;
	wl_function_searches.capacity_units += stats->capacity_units;
	wl_function_searches.estimated_units += estimated_units;
}

/* Adds the figures of the calls made since `before` to the EXPLAIN output. */
static void
wl_explain_searches(const WlFunctionSearches *before, ExplainState *es)
{
	const WlFunctionSearches *now = &wl_function_searches;

	if (es->format == EXPLAIN_FORMAT_TEXT)
	{
		appendStringInfoSpaces(es->str, es->indent * 2);
		appendStringInfoString(es->str, "whiplash_search:\n");
		es->indent++;
	}
	else
		ExplainOpenGroup("whiplash_search", NULL, true, es);
	ExplainPropertyInteger("Calls", NULL, now->calls - before->calls, es);
	ExplainPropertyInteger("DynamoDB Requests", NULL, now->requests - before->requests, es);
	ExplainPropertyInteger("DynamoDB Round Trips", NULL,
						   now->round_trips - before->round_trips, es);
	ExplainPropertyFloat("DynamoDB Read Capacity", "units",
						 now->capacity_units - before->capacity_units, 1, es);
	ExplainPropertyFloat("Estimated Read Capacity", "units",
						 now->estimated_units - before->estimated_units, 1, es);
	ExplainPropertyInteger("Vectors Read", NULL, now->vectors_read - before->vectors_read, es);
	ExplainPropertyInteger("Search Rounds", NULL, now->rounds - before->rounds, es);
	if (es->format == EXPLAIN_FORMAT_TEXT)
		es->indent--;
	else
		ExplainCloseGroup("whiplash_search", NULL, true, es);
}

/*
 * The ExplainOneQuery hook: plans and explains the query as PostgreSQL
 * would, then, under ANALYZE, adds what its whiplash_search calls read.
 */
static void
wl_explain_one_query(Query *query, int cursorOptions, IntoClause *into, ExplainState *es,
					 const char *queryString, ParamListInfo params,
					 QueryEnvironment *queryEnv)
{
	WlFunctionSearches before = wl_function_searches;

	if (wl_previous_explain_hook)
		wl_previous_explain_hook(query, cursorOptions, into, es, queryString, params,
								 queryEnv);
	else
		wl_standard_explain_one_query(query, cursorOptions, into, es, queryString, params,
									  queryEnv);
	if (es->analyze && wl_function_searches.calls > before.calls)
		wl_explain_searches(&before, es);
}

/* Installs the hook (from _PG_init). */
void
wl_explain_init(void)
{
	wl_previous_explain_hook = ExplainOneQuery_hook;
	ExplainOneQuery_hook = wl_explain_one_query;
}
