/*
 * lsh.h - random-hyperplane LSH: planes, projections, bucket codes and keys,
 * and multi-probe (Postgres-free).
 *
 * Hash table t has bits_t hyperplanes, stored as a (dims x bits_t)
 * row-major matrix of doubles, element [f][b] at f * bits_t + b: the layout
 * of the original library's planes (v1), so that its collections hash here
 * exactly as there.  A bucket code holds one bit per plane, bit 0 (plane 0)
 * being the most significant, so a table has at most 64 bits.
 */
#ifndef WL_LSH_H
#define WL_LSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Most bits of one table: a bucket code is a uint64_t. */
#define WL_LSH_MAX_BITS 64

/* Most bits per table of seeded (native) planes. */
#define WL_LSH_MAX_SEEDED_BITS 62

/*
 * Room for any bucket key with its terminating zero: a native key is at
 * most "-2147483648:", 16 hex digits, "/" and WL_LSH_MAX_SUFFIX_BITS
 * binary digits (54 bytes), a v1 key 13 base-36 digits.
 */
#define WL_LSH_KEY_MAX 64

/* Most low bits of a code a native key spells out after its "/". */
#define WL_LSH_MAX_SUFFIX_BITS 24

typedef struct WlLsh WlLsh;

/*
 * What a host program lends the LSH: the memory its planes live in, and a
 * question asked between tables while they are derived, so that a host
 * that accounts for memory and must stay interruptible (PostgreSQL) can
 * have both without the core knowing it.  alloc returns NULL when it
 * refuses; stop returns true to abandon the derivation, which then frees
 * what it took and fails.  The default is malloc and free, never stopping.
 */
typedef struct WlLshHost
{
	void	   *(*alloc) (size_t size, void *arg);
	void		(*release) (void *pointer, void *arg);
	bool		(*stop) (void *arg);
	void	   *arg;
} WlLshHost;

/*
 * Sets the host (NULL: the default).  Set it before any LSH is made: an LSH
 * goes back to the host in place when it is freed.
 */
extern void wl_lsh_set_host(const WlLshHost *host);

/* Did the last failed derivation fail because the host's stop said so? */
extern bool wl_lsh_stopped(void);

/*
 * The generator native planes derive from (xoshiro256** seeded by
 * splitmix64, integers only), for other uses that must be reproducible.
 */
typedef struct WlRandom
{
	uint64_t	state[4];
} WlRandom;

extern void wl_random_seed(WlRandom *random, uint64_t seed);
extern uint64_t wl_random_next(WlRandom *random);

/* An approximately standard normal deviate in [-6, 6) (Irwin-Hall). */
extern double wl_random_normal(WlRandom *random);

/*
 * Native planes: ntables tables of bits (1..62) planes each, over dims
 * features, derived from seed so that every machine derives the same planes
 * bit for bit (see lsh.c).  NULL when an argument is out of range or out of
 * memory.
 */
extern WlLsh *wl_lsh_create_seeded(int dims, int ntables, int bits, uint64_t seed);

/*
 * Planes given as they are (v1 collections): table t has bits[t] (1..64)
 * planes, planes[t] holding dims * bits[t] doubles in the layout above.
 * Copied.  NULL when an argument is out of range or out of memory.
 */
extern WlLsh *wl_lsh_create_from_planes(int dims, int ntables, const int *bits,
										const double *const *planes);

/*
 * Sets the centre (dims floats, copied) subtracted from vectors before they
 * are projected; NULL clears it.  Returns 0, or -1 when out of memory (the
 * centre is then cleared).
 */
extern int	wl_lsh_set_center(WlLsh *lsh, const float *center);

/* Frees everything; NULL is a no-op. */
extern void wl_lsh_destroy(WlLsh *lsh);

extern int	wl_lsh_dims(const WlLsh *lsh);
extern int	wl_lsh_ntables(const WlLsh *lsh);

/* Bits (planes) of one table. */
extern int	wl_lsh_table_bits(const WlLsh *lsh, int table);

/* Bits of all tables together: the length of a projection vector. */
extern int	wl_lsh_total_bits(const WlLsh *lsh);

/* The planes of one table, dims * bits doubles, [f][b] at f * bits + b. */
extern const double *wl_lsh_planes(const WlLsh *lsh, int table);

/*
 * Projects (vector - centre) on every plane of every table into
 * projections (total_bits doubles): table 0's bits first, then table 1's,
 * and so on.
 */
extern void wl_lsh_project(const WlLsh *lsh, const float *vector, double *projections);

/*
 * The bucket code of one table's projections (bits of them): bit b is 1
 * when projections[b] >= 0 (zero counts as 1), and bit 0 is the most
 * significant (v1's rule).
 */
extern uint64_t wl_lsh_bits(const double *projections, int bits);

/* v1 key: the code in base 36, digits 0-9A-Z, no padding ("0" for 0). */
extern void wl_lsh_key_v1(uint64_t code, char *out);

/*
 * Native key: "<table>:<code in lower-case hex, zero-padded to
 * ceil(nbits / 4) digits>", so that tables never share a bucket.
 */
extern void wl_lsh_key_native(int table, uint64_t code, int nbits, char *out);

/*
 * Native key of a code whose nsuffix low bits (0..WL_LSH_MAX_SUFFIX_BITS)
 * go after the bucket: "<table>:<hex of the nbits - nsuffix high bits>/
 * <the nsuffix low bits as 0 and 1 digits>".  The part before "/" names the
 * bucket (a DynamoDB partition), the digits after it begin the entry's sort
 * key, so that a Query can read any longer prefix of the code with
 * begins_with.  nsuffix 0 gives wl_lsh_key_native's key of the whole bucket.
 */
extern void wl_lsh_key_split(int table, uint64_t code, int nbits, int nsuffix, char *out);

/*
 * Multi-probe (Lv et al., VLDB 2007): writes the home code first, then
 * codes with sets of bits flipped, in increasing order of the sum of
 * |projections[b]| over the flipped bits, none twice.  Writes up to nprobes
 * codes into out and returns how many: fewer only when the table has fewer
 * than nprobes buckets; -1 when out of memory.
 */
extern int	wl_lsh_probes(const double *projections, int bits, int nprobes, uint64_t *out);

#endif							/* WL_LSH_H */
