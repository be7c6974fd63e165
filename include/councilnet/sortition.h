/* sortition.h: verifiable selection by lot. Pure functions, no I/O.
 *
 * seed = BLAKE2b-256("councilnet/sortition" || proposal id || head hash),
 * where head hash is the hash of the last log entry before the decision
 * (the decision entry's `prev`). The draw is a Fisher-Yates shuffle of the
 * volunteer keys sorted in ascending byte order, driven by the stream
 * r_i = first 8 bytes (big-endian) of BLAKE2b-256(seed || be64(i)), i = 0, 1, ...
 * with rejection sampling so each index is uniform. Seats are then filled:
 * first, quota by quota in the order given, the earliest volunteers in
 * shuffled order who belong to the quota's group until min_seats of that
 * group are selected (counting those already selected) or none remain; then
 * the remaining seats in shuffled order. */
#ifndef COUNCILNET_SORTITION_H
#define COUNCILNET_SORTITION_H

#include <stddef.h>
#include <stdint.h>

#include "councilnet/crypto.h"

typedef struct cn_volunteer_t {
  uint8_t key[CN_PK_BYTES];
  char *const *groups;        /* the volunteer's group labels */
  size_t n_groups;
} cn_volunteer_t;

typedef struct cn_quota_t {
  const char *group;
  uint32_t min_seats;
} cn_quota_t;

void cn_sortition_seed(uint8_t seed[CN_HASH_BYTES], const uint8_t proposal_id[CN_HASH_BYTES],
                       const uint8_t head_hash[CN_HASH_BYTES]);

/* Sort V (N entries) in place by key, ascending. */
void cn_sortition_sort(cn_volunteer_t *v, size_t n);

/* Draw SEATS from the N volunteers V (any order: a sorted copy is used),
 * honouring QUOTAS. Write the selected keys to OUT (room for SEATS keys) in
 * selection order and their count to *N_OUT (min(SEATS, N)). Duplicate keys
 * in V are refused. Return 0, or -1 on bad input or allocation failure. */
int cn_sortition_draw(const uint8_t seed[CN_HASH_BYTES], const cn_volunteer_t *v, size_t n,
                      uint32_t seats, const cn_quota_t *quotas, size_t n_quotas,
                      uint8_t (*out)[CN_PK_BYTES], size_t *n_out);

/* Recompute the draw and compare with SELECTED (N_SELECTED keys, in order).
 * Return 0 if they match exactly, 1 if they differ, -1 on bad input. */
int cn_sortition_verify(const uint8_t seed[CN_HASH_BYTES], const cn_volunteer_t *v, size_t n,
                        uint32_t seats, const cn_quota_t *quotas, size_t n_quotas,
                        const uint8_t (*selected)[CN_PK_BYTES], size_t n_selected);

#endif
