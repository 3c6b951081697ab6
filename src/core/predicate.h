/*
 * predicate.h - filters as trees of AND, OR and NOT over tests, evaluated
 * in three-valued logic.
 *
 * A test (a leaf) says TRUE, FALSE or UNKNOWN.  UNKNOWN is SQL's NULL when
 * a vector lacks the attribute tested, and "cannot tell" when the test
 * sees only part of a vector (a code's record rather than its item).
 * AND, OR and NOT combine them as SQL does (Kleene's logic), so a filter
 * keeps a vector only when it is TRUE, as WHERE keeps a row.
 */
#ifndef WL_PREDICATE_H
#define WL_PREDICATE_H

typedef enum WlTruth
{
	WL_FALSE = 0,
	WL_TRUE = 1,
	WL_UNKNOWN = 2
} WlTruth;

typedef enum WlPredicateKind
{
	WL_PRED_TEST,				/* a leaf: test number `test` */
	WL_PRED_AND,
	WL_PRED_OR,
	WL_PRED_NOT					/* of args[0] */
} WlPredicateKind;

typedef struct WlPredicate
{
	WlPredicateKind kind;
	int			test;			/* WL_PRED_TEST: which test, for the caller */
	int			nargs;
	struct WlPredicate **args;
} WlPredicate;

/* Says what test number `test` finds; arg is the evaluation's. */
typedef WlTruth (*WlPredicateTest) (int test, void *arg);

/*
 * The predicate's truth, running tests left to right and only as many as
 * decide it.  The caller owns the tree: nothing here allocates.
 */
extern WlTruth wl_predicate_eval(const WlPredicate *predicate, WlPredicateTest test, void *arg);

#endif
