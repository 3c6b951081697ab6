/*
 * unit.h - a minimal TAP-style test harness for the Postgres-free core.
 *
 * Each check prints "ok N - name" or "not ok N - name"; unit_done() prints
 * the plan and returns the exit status.  The test runner counts these lines.
 */
#ifndef WL_UNIT_H
#define WL_UNIT_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int	unit_count;
static int	unit_failed;

/* Records one check. */
static inline void
unit_check(int ok, const char *name, const char *file, int line)
{
	unit_count++;
	if (ok)
		printf("ok %d - %s\n", unit_count, name);
	else
	{
		unit_failed++;
		printf("not ok %d - %s (%s:%d)\n", unit_count, name, file, line);
	}
}

#define CHECK(cond, name) unit_check((cond) ? 1 : 0, (name), __FILE__, __LINE__)

/* Checks that two strings are equal, showing both when they are not. */
#define CHECK_STR(got, want, name) \
	do { \
		const char *g_ = (got), *w_ = (want); \
		int			ok_ = g_ && w_ && strcmp(g_, w_) == 0; \
		if (!ok_) \
			printf("# got:  %s\n# want: %s\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
		unit_check(ok_, (name), __FILE__, __LINE__); \
	} while (0)

/* The next value of a test-data generator (xorshift64*). */
static inline uint64_t
test_next(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * UINT64_C(2685821657736338717);
}

/* A reproducible double in [-1, 1) for test data. */
static inline double
test_uniform(uint64_t *state)
{
	return (double) (test_next(state) >> 11) / 4503599627370496.0 - 1.0;
}

/* Prints the plan line and returns the process exit status. */
static inline int
unit_done(void)
{
	printf("1..%d\n", unit_count);
	return unit_failed ? 1 : 0;
}

#endif							/* WL_UNIT_H */
