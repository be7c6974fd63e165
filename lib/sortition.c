/* sortition.c: verifiable selection by lot; see sortition.h.
 *
 * The exact algorithm, so that anyone can reimplement it bit for bit:
 *
 *  lot   = the node's Ed25519 signature (RFC 8032, 64 bytes) of kind "lot"
 *          (crypto.h) over proposal_id || head_hash, i.e. over the bytes
 *          "councilnet/1/lot" || 0x00 || proposal_id || head_hash (81 bytes),
 *          where head_hash is the hash of the log entry before the decision.
 *
 *  seed  = BLAKE2b-256("councilnet/sortition" || proposal_id || head_hash || lot),
 *          the tag being its 20 ASCII bytes without a NUL: 148 bytes hashed.
 *          A decision made before nodes signed the lot (no lot_signature)
 *          was drawn with BLAKE2b-256("councilnet/sortition" || proposal_id
 *          || head_hash), 84 bytes hashed.
 *
 *          Why the signature: the head is partly decided by whoever posts
 *          the last record before the close, who could try records offline
 *          until the draw favours them. Nobody but the node can compute its
 *          signature before the decision; Ed25519 signs deterministically,
 *          so an honest node makes exactly one, and anyone can check it
 *          against the node key.
 *
 *  r_i   = first 8 bytes, read big-endian, of BLAKE2b-256(seed || be64(i)),
 *          for the stream counter i = 0, 1, 2, ...  The counter is shared by
 *          the whole draw and every value taken from the stream advances it,
 *          including values that are rejected below.
 *
 *  uniform(k), k >= 1, an unbiased index in [0, k):
 *          limit = UINT64_MAX - (UINT64_MAX % k)   (a multiple of k)
 *          repeat: r = next stream value
 *          until r < limit;  return r % k.
 *          (This rejects at most k of the 2^64 values, occasionally a few
 *          more than strictly needed, e.g. when k is a power of two; that
 *          keeps the result exactly uniform and the rule simple.)
 *
 *  shuffle: the volunteers are sorted by key, ascending byte order
 *          (memcmp), into a[0..n-1]; then Fisher-Yates from the top:
 *              for i = n-1 down to 1: j = uniform(i + 1); swap(a[i], a[j]).
 *
 *  seats:  s = min(SEATS, n) seats are filled. First, for each quota in the
 *          order given: walk a[0..n-1] in shuffled order and select each
 *          not-yet-selected volunteer of the quota's group (one of its labels
 *          equals the group string exactly) while fewer than min_seats
 *          selected volunteers (counting those selected earlier, by any
 *          quota) belong to the group and fewer than s seats are taken. Then
 *          walk a[0..n-1] again and select not-yet-selected volunteers until
 *          s seats are taken. The output lists keys in selection order.
 *
 * Input checks: NULL seed or n_out, NULL V with N > 0, NULL OUT with
 * SEATS > 0, NULL QUOTAS with N_QUOTAS > 0, a quota with a NULL group, a
 * volunteer with NULL groups and n_groups > 0 or a NULL label, and duplicate
 * keys all give -1. */
#include "councilnet/sortition.h"

#include <stdlib.h>
#include <string.h>

#define SORTITION_TAG "councilnet/sortition"
#define SORTITION_TAG_LEN (sizeof SORTITION_TAG - 1)

typedef struct sortition_stream_t {
  uint8_t seed[CN_HASH_BYTES];
  uint64_t counter;
} sortition_stream_t;

/* The message the lot signature covers: proposal_id || head_hash. */
static void sortition_lot_message(uint8_t msg[2 * CN_HASH_BYTES],
                                  const uint8_t proposal_id[CN_HASH_BYTES],
                                  const uint8_t head_hash[CN_HASH_BYTES])
{
  memcpy(msg, proposal_id, CN_HASH_BYTES);
  memcpy(msg + CN_HASH_BYTES, head_hash, CN_HASH_BYTES);
}

int cn_sortition_sign_lot(uint8_t sig[CN_SIG_BYTES], const uint8_t proposal_id[CN_HASH_BYTES],
                          const uint8_t head_hash[CN_HASH_BYTES], const uint8_t sk[CN_SK_BYTES])
{
  uint8_t msg[2 * CN_HASH_BYTES];

  sortition_lot_message(msg, proposal_id, head_hash);
  return cn_crypto_sign(sig, CN_SORTITION_LOT_KIND, msg, sizeof msg, sk);
}

int cn_sortition_check_lot(const uint8_t sig[CN_SIG_BYTES], const uint8_t proposal_id[CN_HASH_BYTES],
                           const uint8_t head_hash[CN_HASH_BYTES], const uint8_t node_pk[CN_PK_BYTES])
{
  uint8_t msg[2 * CN_HASH_BYTES];

  sortition_lot_message(msg, proposal_id, head_hash);
  return cn_crypto_verify(sig, CN_SORTITION_LOT_KIND, msg, sizeof msg, node_pk);
}

void cn_sortition_seed(uint8_t seed[CN_HASH_BYTES], const uint8_t proposal_id[CN_HASH_BYTES],
                       const uint8_t head_hash[CN_HASH_BYTES], const uint8_t *lot_sig)
{
  uint8_t buf[SORTITION_TAG_LEN + 2 * CN_HASH_BYTES + CN_SIG_BYTES];
  size_t len = SORTITION_TAG_LEN + 2 * CN_HASH_BYTES;

  memcpy(buf, SORTITION_TAG, SORTITION_TAG_LEN);
  memcpy(buf + SORTITION_TAG_LEN, proposal_id, CN_HASH_BYTES);
  memcpy(buf + SORTITION_TAG_LEN + CN_HASH_BYTES, head_hash, CN_HASH_BYTES);
  /* Without a signature: the old formula, so decisions made before nodes
   * signed the lot still verify (as predictable; see the top of the file). */
  if (lot_sig) {
    memcpy(buf + len, lot_sig, CN_SIG_BYTES);
    len += CN_SIG_BYTES;
  }
  cn_crypto_hash(seed, buf, len);
}

/* Return r_i for the stream's counter and advance it. */
static uint64_t sortition_next(sortition_stream_t *st)
{
  uint8_t buf[CN_HASH_BYTES + 8], h[CN_HASH_BYTES];
  uint64_t r = 0;
  size_t k;

  memcpy(buf, st->seed, CN_HASH_BYTES);
  for (k = 0; k < 8; k++)
    buf[CN_HASH_BYTES + k] = (uint8_t)(st->counter >> (56 - 8 * k));
  st->counter++;
  cn_crypto_hash(h, buf, sizeof buf);
  for (k = 0; k < 8; k++)
    r = (r << 8) | h[k];
  return r;
}

/* Uniform index in [0, K), K >= 1, by rejection (see the top of the file). */
static uint64_t sortition_uniform(sortition_stream_t *st, uint64_t k)
{
  uint64_t limit = UINT64_MAX - (UINT64_MAX % k);
  uint64_t r;

  do
    r = sortition_next(st);
  while (r >= limit);
  return r % k;
}

static int sortition_cmp(const void *a, const void *b)
{
  const cn_volunteer_t *x = a, *y = b;

  return memcmp(x->key, y->key, CN_PK_BYTES);
}

void cn_sortition_sort(cn_volunteer_t *v, size_t n)
{
  if (!v || n < 2)
    return;
  qsort(v, n, sizeof *v, sortition_cmp);
}

/* Whether V carries the label GROUP. */
static int sortition_in_group(const cn_volunteer_t *v, const char *group)
{
  size_t g;

  for (g = 0; g < v->n_groups; g++)
    if (strcmp(v->groups[g], group) == 0)
      return 1;
  return 0;
}

/* Check everything but duplicates. Return 0 or -1. */
static int sortition_check(const uint8_t *seed, const cn_volunteer_t *v, size_t n,
                           const cn_quota_t *quotas, size_t n_quotas)
{
  size_t i, g;

  if (!seed || (n > 0 && !v) || (n_quotas > 0 && !quotas))
    return -1;
  for (i = 0; i < n_quotas; i++)
    if (!quotas[i].group)
      return -1;
  for (i = 0; i < n; i++) {
    if (v[i].n_groups > 0 && !v[i].groups)
      return -1;
    for (g = 0; g < v[i].n_groups; g++)
      if (!v[i].groups[g])
        return -1;
  }
  return 0;
}

int cn_sortition_draw(const uint8_t seed[CN_HASH_BYTES], const cn_volunteer_t *v, size_t n,
                      uint32_t seats, const cn_quota_t *quotas, size_t n_quotas,
                      uint8_t (*out)[CN_PK_BYTES], size_t *n_out)
{
  sortition_stream_t st;
  cn_volunteer_t *a = NULL;
  unsigned char *taken = NULL;
  size_t s, got = 0, i, q;
  int rc = -1;

  if (n_out)
    *n_out = 0;
  if (!n_out || sortition_check(seed, v, n, quotas, n_quotas) < 0 || (seats > 0 && !out))
    goto cleanup;
  if (n == 0) {
    rc = 0;
    goto cleanup;
  }
  if (n > SIZE_MAX / sizeof *a)
    goto cleanup;
  a = malloc(n * sizeof *a);
  taken = calloc(n, 1);
  if (!a || !taken)
    goto cleanup;
  memcpy(a, v, n * sizeof *a);
  cn_sortition_sort(a, n);
  for (i = 1; i < n; i++)
    if (memcmp(a[i - 1].key, a[i].key, CN_PK_BYTES) == 0)
      goto cleanup;

  memcpy(st.seed, seed, CN_HASH_BYTES);
  st.counter = 0;
  for (i = n - 1; i >= 1; i--) {
    size_t j = (size_t)sortition_uniform(&st, (uint64_t)i + 1);
    cn_volunteer_t tmp = a[i];

    a[i] = a[j];
    a[j] = tmp;
  }

  s = (size_t)seats < n ? (size_t)seats : n;
  for (q = 0; q < n_quotas && got < s; q++) {
    size_t have = 0;

    for (i = 0; i < n; i++)
      if (taken[i] && sortition_in_group(&a[i], quotas[q].group))
        have++;
    for (i = 0; i < n && have < quotas[q].min_seats && got < s; i++) {
      if (taken[i] || !sortition_in_group(&a[i], quotas[q].group))
        continue;
      taken[i] = 1;
      memcpy(out[got++], a[i].key, CN_PK_BYTES);
      have++;
    }
  }
  for (i = 0; i < n && got < s; i++) {
    if (taken[i])
      continue;
    taken[i] = 1;
    memcpy(out[got++], a[i].key, CN_PK_BYTES);
  }
  *n_out = got;
  rc = 0;

cleanup:
  free(a);
  free(taken);
  return rc;
}

int cn_sortition_verify(const uint8_t seed[CN_HASH_BYTES], const cn_volunteer_t *v, size_t n,
                        uint32_t seats, const cn_quota_t *quotas, size_t n_quotas,
                        const uint8_t (*selected)[CN_PK_BYTES], size_t n_selected)
{
  uint8_t (*mine)[CN_PK_BYTES] = NULL;
  size_t room = (size_t)seats < n ? (size_t)seats : n, got = 0;
  int rc = -1;

  if ((n_selected > 0 && !selected) || room > SIZE_MAX / sizeof *mine)
    goto cleanup;
  /* Room for at least one key so malloc(0) never happens; OUT is then
   * non-NULL, and the draw still checks everything else. */
  mine = malloc((room > 0 ? room : 1) * sizeof *mine);
  if (!mine)
    goto cleanup;
  if (cn_sortition_draw(seed, v, n, seats, quotas, n_quotas, mine, &got) < 0)
    goto cleanup;
  if (got != n_selected || (got > 0 && memcmp(mine, selected, got * sizeof *mine) != 0))
    rc = 1;
  else
    rc = 0;

cleanup:
  free(mine);
  return rc;
}
