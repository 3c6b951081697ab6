/*
 * test_predicate.c - unit tests of three-valued filter trees
 * (core/predicate.c): AND, OR and NOT follow SQL's truth tables for every
 * pair of values, and evaluation stops at the first deciding test.
 */
#include "predicate.h"
#include "unit.h"

/* The tests' answers, and how many of them an evaluation asked. */
typedef struct TestValues
{
	WlTruth		values[4];
	int			asked;
} TestValues;

/* Answers test number `test` from the table. */
static WlTruth
answer(int test, void *arg)
{
	TestValues *values = arg;

	values->asked++;
	return values->values[test];
}

int
main(void)
{
	static const WlTruth sql_and[3][3] = {
		{WL_FALSE, WL_FALSE, WL_FALSE},
		{WL_FALSE, WL_TRUE, WL_UNKNOWN},
		{WL_FALSE, WL_UNKNOWN, WL_UNKNOWN}};
	static const WlTruth sql_or[3][3] = {
		{WL_FALSE, WL_TRUE, WL_UNKNOWN},
		{WL_TRUE, WL_TRUE, WL_TRUE},
		{WL_UNKNOWN, WL_TRUE, WL_UNKNOWN}};
	static const WlTruth sql_not[3] = {WL_TRUE, WL_FALSE, WL_UNKNOWN};
	WlPredicate leaves[4];
	WlPredicate *two[2] = {&leaves[0], &leaves[1]};
	WlPredicate and2 = {WL_PRED_AND, 0, 2, two};
	WlPredicate or2 = {WL_PRED_OR, 0, 2, two};
	WlPredicate *one[1] = {&leaves[0]};
	WlPredicate not1 = {WL_PRED_NOT, 0, 1, one};
	WlPredicate *nested_args[3] = {&not1, &leaves[2], &leaves[3]};
	WlPredicate nested = {WL_PRED_OR, 0, 3, nested_args};
	TestValues values = {{WL_FALSE}, 0};
	int			tables_hold = 1;
	int			a;
	int			b;

	for (a = 0; a < 4; a++)
		leaves[a] = (WlPredicate) {WL_PRED_TEST, a, 0, NULL};
	for (a = 0; a < 3; a++)
	{
		for (b = 0; b < 3; b++)
		{
			values.values[0] = (WlTruth) a;
			values.values[1] = (WlTruth) b;
			tables_hold &= wl_predicate_eval(&and2, answer, &values) == sql_and[a][b];
			tables_hold &= wl_predicate_eval(&or2, answer, &values) == sql_or[a][b];
		}
		tables_hold &= wl_predicate_eval(&not1, answer, &values) == sql_not[a];
	}
	CHECK(tables_hold, "AND, OR and NOT give SQL's truth table for every pair of values");

	values = (TestValues) {{WL_FALSE, WL_TRUE}, 0};
	CHECK(wl_predicate_eval(&and2, answer, &values) == WL_FALSE && values.asked == 1,
		  "AND stops at its first FALSE test");
	values = (TestValues) {{WL_TRUE, WL_FALSE}, 0};
	CHECK(wl_predicate_eval(&or2, answer, &values) == WL_TRUE && values.asked == 1,
		  "OR stops at its first TRUE test");
	values = (TestValues) {{WL_UNKNOWN, WL_FALSE}, 0};
	CHECK(wl_predicate_eval(&and2, answer, &values) == WL_FALSE && values.asked == 2,
		  "an UNKNOWN does not stop AND: a later FALSE still decides it");

	/* NOT a OR c OR d: a missing attribute under NOT stays UNKNOWN, as NULL does */
	values = (TestValues) {{WL_UNKNOWN, WL_FALSE, WL_FALSE, WL_UNKNOWN}, 0};
	CHECK(wl_predicate_eval(&nested, answer, &values) == WL_UNKNOWN && values.asked == 3,
		  "NOT of UNKNOWN OR FALSE OR UNKNOWN is UNKNOWN, which a filter drops");
	values = (TestValues) {{WL_UNKNOWN, WL_FALSE, WL_FALSE, WL_TRUE}, 0};
	CHECK(wl_predicate_eval(&nested, answer, &values) == WL_TRUE,
		  "one TRUE alternative keeps it");
	values = (TestValues) {{WL_FALSE, WL_FALSE, WL_UNKNOWN, WL_UNKNOWN}, 0};
	CHECK(wl_predicate_eval(&nested, answer, &values) == WL_TRUE && values.asked == 1,
		  "NOT of FALSE decides the OR before its other tests run");
	return unit_done();
}
