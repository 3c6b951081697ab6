/*
 * lsh.h - random-hyperplane LSH: planes, projections, bucket keys and
 * multi-probe (Postgres-free).
 *
 * A hash table t has bits_t hyperplanes, stored as a (dims x bits_t)
 * row-major matrix of doubles, element [f][b] at f * bits_t + b: the layout
 * of the original library's planes (v1), so that its collections hash here
 * exactly as there.
 */
#ifndef WL_LSH_H
#define WL_LSH_H

#include <stdint.h>

/* Room for any bucket key, native ("63:" + 16 hex digits) or v1 (base 36). */
#define WL_LSH_KEY_MAX 24

typedef struct WlLsh WlLsh;

/*
 * Native planes: ntables tables of `bits` bits each (1..62), derived from
 * seed by an integer-only generator so that every machine derives the same
 * planes bit for bit.  NULL when out of memory.
 */
extern WlLsh *wl_lsh_create_seeded(int dims, int ntables, int bits, uint64_t seed);

/* Planes given as they are (v1 collections); copied. */
extern WlLsh *wl_lsh_create_from_planes(int dims, int ntables, const int *bits,
										const double *const *planes);

/* Sets (copies) the centre subtracted before projecting; NULL clears it. */
extern int	wl_lsh_set_center(WlLsh *lsh, const float *center);

extern void wl_lsh_destroy(WlLsh *lsh);

extern int	wl_lsh_dims(const WlLsh *lsh);
extern int	wl_lsh_ntables(const WlLsh *lsh);
extern int	wl_lsh_bits(const WlLsh *lsh, int table);
extern int	wl_lsh_total_bits(const WlLsh *lsh);
extern const double *wl_lsh_planes(const WlLsh *lsh, int table);

/*
 * Projects (vector - centre) on every plane of every table, into
 * projections (total_bits doubles, table by table).
 */
extern void wl_lsh_project(const WlLsh *lsh, const float *vector, double *projections);

/*
 * The bucket code of one table's projections: bit b is 1 when proj[b] >= 0
 * (zero counts as 1), and bit 0 is the most significant (v1's rule).
 */
extern uint64_t wl_lsh_code(const double *projections, int bits);

/* v1 key: the code in base 36, digits 0-9A-Z, no padding. */
extern void wl_lsh_key_v1(uint64_t code, char *out);

/* Native key: "<table>:<code in lower-case hex, ceil(bits/4) digits>". */
extern void wl_lsh_key_native(int table, uint64_t code, int bits, char *out);

/*
 * Multi-probe (Lv et al., VLDB 2007): the home code first, then codes with
 * sets of bits flipped, in increasing order of the sum of |proj| over the
 * flipped bits.  Writes up to nprobes codes into out; returns how many.
 */
extern int	wl_lsh_probes(const double *projections, int bits, int nprobes, uint64_t *out);

#endif							/* WL_LSH_H */
