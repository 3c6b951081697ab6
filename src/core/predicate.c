/*
 * predicate.c - three-valued evaluation of filter trees (see predicate.h).
 */
#include "predicate.h"

/*
 * AND is FALSE when any argument is, else UNKNOWN when any is, else TRUE;
 * OR is its dual.  The first deciding argument stops the evaluation, so
 * the tests a caller orders first are the only ones most vectors pay for.
 */
static WlTruth
wl_predicate_junction(const WlPredicate *predicate, WlPredicateTest test, void *arg)
{
	WlTruth		decides = predicate->kind == WL_PRED_AND ? WL_FALSE : WL_TRUE;
	WlTruth		result = predicate->kind == WL_PRED_AND ? WL_TRUE : WL_FALSE;
	int			i;

	for (i = 0; i < predicate->nargs; i++)
	{
		WlTruth		value = wl_predicate_eval(predicate->args[i], test, arg);

		if (value == decides)
			return decides;
		if (value == WL_UNKNOWN)
			result = WL_UNKNOWN;
	}
	return result;
}

WlTruth
wl_predicate_eval(const WlPredicate *predicate, WlPredicateTest test, void *arg)
{
	WlTruth		value;

	switch (predicate->kind)
	{
		case WL_PRED_TEST:
			return test(predicate->test, arg);
		case WL_PRED_AND:
		case WL_PRED_OR:
			return wl_predicate_junction(predicate, test, arg);
		case WL_PRED_NOT:
			value = wl_predicate_eval(predicate->args[0], test, arg);
			return value == WL_UNKNOWN ? WL_UNKNOWN : (value == WL_TRUE ? WL_FALSE : WL_TRUE);
	}
	return WL_UNKNOWN;
}
