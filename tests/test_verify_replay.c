/* test_verify_replay.c: what `council sortition verify` replays from a
 * node's log to check Decision.too_few_volunteers, and the store step that
 * came with budget mandates in parts (found by a review).
 *
 * 1. Schema step 10: a database at version 9 (budget_profile_parts without
 *    its digest column, as the first version of mandates in parts made it)
 *    is migrated: budget mandate parts can be stored and read. The column
 *    was first added by editing step 9 in place, which such a database
 *    would never have run.
 * 2. The convener made at `councild init` is in no record of their own. A
 *    lot they propose as the node's first act, with nobody volunteering,
 *    is a convener's lot (no flag) and verifies.
 * 3. Only records a convener signed count in the replay: a dishonest node
 *    that logs a settings record signed by a throwaway key (the minimums
 *    off) and seats a member's lone volunteer is caught.
 * 4.-6. Nor does one an honest node would not log here (found by a third
 *    review): the convener's own old settings logged a second time, the
 *    convener's settings for another node, a delegate vouched for by a
 *    "child council" never admitted here. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "councilnet/log.h"
#include "councilnet/sortition.h"

#include "store.h"
#include "test.h"
#include "util.h"

#define T0 1900000000ULL

static void test_schema_step10(void)
{
  char dir[256], path[300], err[256];
  cn_store_t *s = NULL;
  uint8_t round[CN_HASH_BYTES], child[CN_PK_BYTES], digest[CN_HASH_BYTES];
  static const uint8_t body[] = { 0x08, 0x01 };
  cn_store_profile_part_t part;
  cn_store_profile_t have;

  memset(round, 1, sizeof round);
  memset(child, 2, sizeof child);
  memset(digest, 3, sizeof digest);
  dir[0] = 0;
  REQUIRE(util_tmpdir(dir, sizeof dir, "schema9") == 0);
  snprintf(path, sizeof path, "%s/node.db", dir);
  REQUIRE(cn_store_open(path, &s, err, sizeof err) == 0);
  cn_store_free(s);
  s = NULL;
  /* a version 9 database as 5efca7d..3d871cf made it: no digest column */
  REQUIRE(util_sql_exec(path, "ALTER TABLE budget_profile_parts DROP COLUMN digest;"
                              "ALTER TABLE rounds DROP COLUMN depth;"
                              "PRAGMA user_version = 9") == SQLITE_OK);
  REQUIRE(cn_store_open(path, &s, err, sizeof err) == 0);
  memset(&part, 0, sizeof part);
  part.part = 0;
  part.parts = 2;
  part.created = T0;
  part.voters = part.counted = 1;
  part.body = body;
  part.body_len = sizeof body;
  part.digest = digest;
  part.digest_len = sizeof digest;
  REQUIRE(cn_store_begin(s) == 0);
  CHECK_EQ_INT(cn_store_profile_put(s, round, child, &part), 1);
  CHECK_EQ_INT(cn_store_profile_get(s, round, child, &have), 0);
  cn_store_rollback(s);
done:
  cn_store_free(s);
  if (dir[0])
    util_rmtree(dir);
}

static tnode_t node;

static void test_first_convener_lot(void)
{
  uint8_t parent_pk[CN_PK_BYTES], parent_sk[CN_SK_BYTES], lot[CN_HASH_BYTES];
  char hex[2 * CN_HASH_BYTES + 1], key[2 * CN_PK_BYTES + 1], cmd[1024], *out = NULL;
  Councilnet__Decision *d = NULL;
  int started = 0, rc;

  if (!getenv("CN_COUNCIL"))
    return;
  cn_crypto_keypair(parent_pk, parent_sk);
  REQUIRE(tnode_start(&node, "fresh", T0) == 0);
  started = 1;
  /* the first act on the node: its convener proposes a lot */
  REQUIRE(util_propose_lot(&node, "first lot", 1, parent_pk, 50, lot) == CN_OK);
  REQUIRE(tnode_set_clock(&node, T0 + 51) == 0);
  d = util_wait_decision(&node, lot, 10000);
  REQUIRE(d);
  CHECK_EQ_INT(d->n_volunteers, 0);
  CHECK_EQ_INT(d->too_few_volunteers, 0);     /* a convener's lot: no minimum */
  cn_hex_encode(hex, lot, CN_HASH_BYTES);
  cn_hex_encode(key, node.pk, CN_PK_BYTES);
  snprintf(cmd, sizeof cmd, "'%s' sortition verify %s --json --node %s --node-key %s 2>&1",
           getenv("CN_COUNCIL"), hex, node.url, key);
  rc = util_sh(cmd, &out);
  CHECK_EQ_INT(rc, 0);
  CHECK(out && strstr(out, "\"ok\":true"));
  if (rc != 0)
    fprintf(stderr, "sortition verify of the honest decision: %s\n", out ? out : "(none)");
done:
  free(out);
  if (d)
    councilnet__decision__free_unpacked(d, NULL);
  if (started)
    CHECK(tnode_destroy(&node) == 0);
}


static tnode_t dn;

typedef struct forge_ctx_t {
  uint64_t seq_a, seq_d;
  const uint8_t *env_a;
  size_t len_a;
  Councilnet__Decision *d;
  const uint8_t *lot;
} forge_ctx_t;

static int forge_entry(void *ctx, uint64_t seq, const uint8_t prev[CN_HASH_BYTES], uint8_t **env,
                       size_t *len)
{
  forge_ctx_t *f = ctx;
  uint8_t nsk[CN_SK_BYTES], sig[CN_SIG_BYTES], seed[CN_HASH_BYTES];
  ProtobufCBinaryData sig_was, seed_was;
  int sealed;

  if (seq == f->seq_a) {
    *env = malloc(f->len_a);
    if (!*env)
      return -1;
    memcpy(*env, f->env_a, f->len_a);
    *len = f->len_a;
    return 1;
  }
  if (seq != f->seq_d)
    return 0;
  /* the lot signed again over the head before it, as the node would */
  if (tnode_secret_key(&dn, nsk) != 0 || cn_sortition_sign_lot(sig, f->lot, prev, nsk) != 0)
    return -1;
  cn_sortition_seed(seed, f->lot, prev, sig);
  sig_was = f->d->lot_signature;
  seed_was = f->d->seed;
  f->d->lot_signature.data = sig;
  f->d->lot_signature.len = CN_SIG_BYTES;
  f->d->seed.data = seed;
  f->d->seed.len = CN_HASH_BYTES;
  sealed = util_seal("decision", f->d, nsk, env, len);
  f->d->lot_signature = sig_was;      /* D keeps its own buffers, freed with it */
  f->d->seed = seed_was;
  return sealed == 0 ? 1 : -1;
}

/* Play a dishonest node DN (util_log_forge; its log may repeat a record
 * id): the entry at SEQ_A replaced by ENV_A and the decision at SEQ_D by D,
 * its lot signature and seed made again over the new head before it with
 * the node key. Return 0 or -1. */
static int forge_two(uint64_t seq_a, const uint8_t *env_a, size_t len_a, uint64_t seq_d,
                     Councilnet__Decision *d, const uint8_t lot[CN_HASH_BYTES])
{
  forge_ctx_t f = { seq_a, seq_d, env_a, len_a, d, lot };
  return util_log_forge(&dn, seq_a, 1, forge_entry, &f);
}

/* Seq of the node's decision on LOT, or -1. */
static int64_t decision_seq(const uint8_t lot[CN_HASH_BYTES])
{
  uint64_t seq = 0;
  return util_decision_entry(&dn, lot, &seq, NULL) == 0 ? (int64_t)seq : -1;
}

static int verify_lot(const uint8_t lot[CN_HASH_BYTES], char **out)
{
  char hex[2 * CN_HASH_BYTES + 1], key[2 * CN_PK_BYTES + 1], cmd[1024];
  cn_hex_encode(hex, lot, CN_HASH_BYTES);
  cn_hex_encode(key, dn.pk, CN_PK_BYTES);
  snprintf(cmd, sizeof cmd, "'%s' sortition verify %s --json --node %s --node-key %s 2>&1",
           getenv("CN_COUNCIL"), hex, dn.url, key);
  return util_sh(cmd, out);
}

static void test_forged_settings(void)
{
  Councilnet__Settings st = COUNCILNET__SETTINGS__INIT;
  Councilnet__Volunteer v = COUNCILNET__VOLUNTEER__INIT;
  Councilnet__Decision *d = NULL;
  ProtobufCBinaryData seated;
  uint8_t parent_pk[CN_PK_BYTES], parent_sk[CN_SK_BYTES], lot[CN_HASH_BYTES];
  uint8_t msk[CN_SK_BYTES], mpk[CN_PK_BYTES], vsk[CN_SK_BYTES], vpk[CN_PK_BYTES];
  uint8_t ysk[CN_SK_BYTES], ypk[CN_PK_BYTES], *env = NULL;
  size_t len = 0;
  uint64_t settings_seq = 0;
  int64_t dseq;
  char *out = NULL;
  int started = 0, rc;

  if (!getenv("CN_COUNCIL"))
    return;
  cn_crypto_keypair(parent_pk, parent_sk);
  cn_crypto_keypair(mpk, msk);
  cn_crypto_keypair(vpk, vsk);
  cn_crypto_keypair(ypk, ysk);
  REQUIRE(tnode_start(&dn, "dishonest", T0) == 0);
  started = 1;
  /* the convener's settings: the minimums on */
  st.node.data = dn.pk;
  st.node.len = CN_PK_BYTES;
  st.created = dn.now;
  st.selection_min_window = 86400;
  st.selection_min_turnout_permille = 100;
  REQUIRE(util_act(&dn, "settings", &st, dn.convener_sk, &settings_seq) == CN_OK);
  REQUIRE(util_admit(&dn, mpk, "proposer") == CN_OK);
  REQUIRE(util_admit(&dn, vpk, "volunteer") == CN_OK);
  /* a member's lot, one volunteer for two seats */
  REQUIRE(util_propose_lot_by(&dn, msk, "member lot", 2, parent_pk, 86400 + 50, lot) == CN_OK);
  v.node.data = dn.pk;
  v.node.len = CN_PK_BYTES;
  v.created = dn.now;
  v.proposal.data = lot;
  v.proposal.len = CN_HASH_BYTES;
  REQUIRE(util_act(&dn, "volunteer", &v, vsk, NULL) == CN_OK);
  REQUIRE(tnode_set_clock(&dn, dn.now + 86400 + 51) == 0);
  d = util_wait_decision(&dn, lot, 10000);
  REQUIRE(d && d->n_volunteers == 1);
  CHECK_EQ_INT(d->too_few_volunteers, 1);     /* honest: nobody */
  rc = verify_lot(lot, &out);
  CHECK_EQ_INT(rc, 0);                         /* the honest decision verifies */
  free(out);
  out = NULL;
  dseq = decision_seq(lot);
  REQUIRE(dseq > 0);
  /* the dishonest node: the settings record is one signed by a key of its
   * own (minimums off), and the decision seats the lone volunteer */
  st.selection_min_window = 0;
  st.selection_min_turnout_permille = 0;
  REQUIRE(util_seal("settings", &st, ysk, &env, &len) == 0);
  seated.data = vpk;
  seated.len = CN_PK_BYTES;
  d->too_few_volunteers = 0;
  d->selected = &seated;
  d->n_selected = 1;
  d->passed = 1;
  {
    int forged = forge_two(settings_seq, env, len, (uint64_t)dseq, d, lot);
    d->selected = NULL;
    d->n_selected = 0;
    REQUIRE(forged == 0);
  }
  rc = verify_lot(lot, &out);
  CHECK(rc != 0);
  CHECK(out && strstr(out, "signed by a key that was no convener there"));
  if (rc == 0)
    fprintf(stderr, "sortition verify of the forged decision (settings signed by a stranger): %s\n",
            out ? out : "(none)");
  free(out);
  out = NULL;
  {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "'%s' verify --node %s 2>&1", getenv("CN_COUNCIL"), dn.url);
    rc = util_sh(cmd, &out);
    printf("council verify of the forged log: exit %d\n", rc);
  }
done:
  free(out);
  free(env);
  if (d)
    councilnet__decision__free_unpacked(d, NULL);
  if (started)
    CHECK(tnode_destroy(&dn) == 0);
}

/* Set up DN with the convener's settings (minimums on) and a
 * member's lot with one volunteer for two seats, closed honestly
 * (too_few_volunteers). EXTRA_OFF: first a settings record with the
 * minimums off, and the minimums on again after it; an unneeded member is
 * admitted after both (*SPARE_SEQ). Fills the ids, *D and *DSEQ. */
static int honest_lone_lot(int extra_off, Councilnet__Settings *off, uint64_t *on_seq,
                           uint64_t *spare_seq, uint8_t lot[CN_HASH_BYTES], uint8_t vpk[CN_PK_BYTES],
                           Councilnet__Decision **d, int64_t *dseq)
{
  Councilnet__Settings st = COUNCILNET__SETTINGS__INIT;
  Councilnet__Volunteer v = COUNCILNET__VOLUNTEER__INIT;
  uint8_t parent_pk[CN_PK_BYTES], parent_sk[CN_SK_BYTES];
  uint8_t msk[CN_SK_BYTES], mpk[CN_PK_BYTES], vsk[CN_SK_BYTES], xsk[CN_SK_BYTES], xpk[CN_PK_BYTES];
  static uint8_t node_pk[CN_PK_BYTES];

  cn_crypto_keypair(parent_pk, parent_sk);
  cn_crypto_keypair(mpk, msk);
  cn_crypto_keypair(vpk, vsk);
  cn_crypto_keypair(xpk, xsk);
  memcpy(node_pk, dn.pk, CN_PK_BYTES);
  if (extra_off) {
    off->node.data = node_pk;
    off->node.len = CN_PK_BYTES;
    off->created = dn.now;
    off->selection_min_window = 0;
    off->selection_min_turnout_permille = 0;
    if (util_act(&dn, "settings", off, dn.convener_sk, NULL) != CN_OK)
      return -1;
  }
  st.node.data = node_pk;
  st.node.len = CN_PK_BYTES;
  st.created = dn.now + 1;
  st.selection_min_window = 86400;
  st.selection_min_turnout_permille = 100;
  if (util_act(&dn, "settings", &st, dn.convener_sk, on_seq) != CN_OK)
    return -1;
  if (util_admit(&dn, mpk, "proposer") != CN_OK || util_admit(&dn, vpk, "volunteer") != CN_OK)
    return -1;
  if (spare_seq) {
    if (util_admit(&dn, xpk, "spare") != CN_OK)
      return -1;
    *spare_seq = (uint64_t)util_head_seq(&dn);
  }
  if (util_propose_lot_by(&dn, msk, "member lot", 2, parent_pk, 86400 + 50, lot) != CN_OK)
    return -1;
  v.node.data = node_pk;
  v.node.len = CN_PK_BYTES;
  v.created = dn.now;
  v.proposal.data = lot;
  v.proposal.len = CN_HASH_BYTES;
  if (util_act(&dn, "volunteer", &v, vsk, NULL) != CN_OK ||
      tnode_set_clock(&dn, dn.now + 86400 + 51) != 0)
    return -1;
  *d = util_wait_decision(&dn, lot, 10000);
  if (!*d || (*d)->n_volunteers != 1 || !(*d)->too_few_volunteers)
    return -1;
  *dseq = decision_seq(lot);
  return *dseq > 0 ? 0 : -1;
}

/* Forge (entry SEQ_A := ENV_A, the decision seating VPK alone) and verify:
 * a convener's own signature on a record no honest node of this key logs
 * there must not pass. */
static void forge_and_verify(const char *what, uint64_t seq_a, const uint8_t *env_a, size_t len_a,
                             Councilnet__Decision *d, int64_t dseq, const uint8_t lot[CN_HASH_BYTES],
                             uint8_t vpk[CN_PK_BYTES])
{
  ProtobufCBinaryData seated;
  char *out = NULL;
  int rc, forged;

  rc = verify_lot(lot, &out);
  CHECK_EQ_INT(rc, 0);                         /* the honest decision verifies */
  free(out);
  out = NULL;
  seated.data = vpk;
  seated.len = CN_PK_BYTES;
  d->too_few_volunteers = 0;
  d->selected = &seated;
  d->n_selected = 1;
  d->passed = 1;
  forged = forge_two(seq_a, env_a, len_a, (uint64_t)dseq, d, lot);
  d->selected = NULL;
  d->n_selected = 0;
  REQUIRE(forged == 0);
  rc = verify_lot(lot, &out);
  CHECK(rc != 0);
  if (rc == 0)
    fprintf(stderr, "sortition verify of the forged decision (%s) passes: %s\n", what,
            out ? out : "(none)");
done:
  free(out);
}

/* 4. the convener's own earlier settings record (minimums off),
 * logged a second time after the minimums were set on again. An honest
 * node never logs a record id twice (the log's unique record id). */
static void test_replayed_settings(void)
{
  Councilnet__Settings off = COUNCILNET__SETTINGS__INIT;
  Councilnet__Decision *d = NULL;
  uint8_t lot[CN_HASH_BYTES], vpk[CN_PK_BYTES], *env = NULL;
  size_t len = 0;
  uint64_t on_seq = 0, spare_seq = 0;
  int64_t dseq = 0;
  int started = 0;

  if (!getenv("CN_COUNCIL"))
    return;
  REQUIRE(tnode_start(&dn, "replay", T0) == 0);
  started = 1;
  REQUIRE(honest_lone_lot(1, &off, &on_seq, &spare_seq, lot, vpk, &d, &dseq) == 0);
  /* the very bytes the node logged first (signatures are deterministic) */
  REQUIRE(util_seal("settings", &off, dn.convener_sk, &env, &len) == 0);
  forge_and_verify("the convener's old settings logged again", spare_seq, env, len, d, dseq, lot,
                   vpk);
done:
  free(env);
  if (d)
    councilnet__decision__free_unpacked(d, NULL);
  if (started)
    CHECK(tnode_destroy(&dn) == 0);
}

/* 5. a settings record the convener signed for another node
 * (body.node another key: a council they convene too), logged here in
 * place of theirs. An honest node refuses it (WRONG_NODE). */
static void test_cross_node_settings(void)
{
  Councilnet__Settings other = COUNCILNET__SETTINGS__INIT;
  Councilnet__Decision *d = NULL;
  uint8_t lot[CN_HASH_BYTES], vpk[CN_PK_BYTES], opk[CN_PK_BYTES], osk[CN_SK_BYTES];
  uint8_t *env = NULL;
  size_t len = 0;
  uint64_t on_seq = 0;
  int64_t dseq = 0;
  int started = 0;

  if (!getenv("CN_COUNCIL"))
    return;
  cn_crypto_keypair(opk, osk);
  REQUIRE(tnode_start(&dn, "crossnode", T0) == 0);
  started = 1;
  REQUIRE(honest_lone_lot(0, NULL, &on_seq, NULL, lot, vpk, &d, &dseq) == 0);
  other.node.data = opk;
  other.node.len = CN_PK_BYTES;
  other.created = T0;
  other.selection_min_window = 0;
  other.selection_min_turnout_permille = 0;
  REQUIRE(util_seal("settings", &other, dn.convener_sk, &env, &len) == 0);
  forge_and_verify("the convener's settings for another node", on_seq, env, len, d, dseq, lot, vpk);
done:
  free(env);
  if (d)
    councilnet__decision__free_unpacked(d, NULL);
  if (started)
    CHECK(tnode_destroy(&dn) == 0);
}

/* 6. a volunteer counted as a child council's delegate on a
 * credential signed by a key that was never admitted here as a child
 * council (the node checks the origin is a member council; the verifier
 * takes any signer but the node). Here on the first convener's first lot;
 * any lot works the same (padding the volunteers past the seats). */
static void test_fake_delegate(void)
{
  Councilnet__Credential c = COUNCILNET__CREDENTIAL__INIT;
  Councilnet__Volunteer v = COUNCILNET__VOLUNTEER__INIT;
  Councilnet__Decision *d = NULL;
  ProtobufCBinaryData fbin;
  uint8_t parent_pk[CN_PK_BYTES], lot[CN_HASH_BYTES], filler[CN_HASH_BYTES], sel[CN_HASH_BYTES];
  uint8_t tpk[CN_PK_BYTES], tsk[CN_SK_BYTES], fpk[CN_PK_BYTES], fsk[CN_SK_BYTES];
  uint8_t *cenv = NULL, *venv = NULL;
  size_t clen = 0, vlen = 0;
  int64_t s1, s2, dseq;
  char *out = NULL;
  int started = 0, rc, f1, f2;

  if (!getenv("CN_COUNCIL"))
    return;
  cn_crypto_keypair(parent_pk, tsk);
  cn_crypto_keypair(tpk, tsk);
  cn_crypto_keypair(fpk, fsk);
  memset(sel, 7, sizeof sel);
  REQUIRE(tnode_start(&dn, "fakedel", T0) == 0);
  started = 1;
  REQUIRE(util_propose_lot(&dn, "first lot", 1, parent_pk, 50, lot) == CN_OK);
  REQUIRE(util_propose_lot(&dn, "filler 1", 1, parent_pk, 50, filler) == CN_OK);
  s1 = util_head_seq(&dn);
  REQUIRE(util_propose_lot(&dn, "filler 2", 1, parent_pk, 50, filler) == CN_OK);
  s2 = util_head_seq(&dn);
  REQUIRE(s1 > 0 && s2 == s1 + 1);
  REQUIRE(tnode_set_clock(&dn, T0 + 51) == 0);
  d = util_wait_decision(&dn, lot, 10000);
  REQUIRE(d && d->n_volunteers == 0 && d->n_selected == 0);
  rc = verify_lot(lot, &out);
  CHECK_EQ_INT(rc, 0);
  free(out);
  out = NULL;
  dseq = decision_seq(lot);
  REQUIRE(dseq > s2);
  /* a "child council" T never admitted here vouches for F; F volunteers */
  c.node.data = tpk;
  c.node.len = CN_PK_BYTES;
  c.created = T0;
  c.delegate.data = fpk;
  c.delegate.len = CN_PK_BYTES;
  c.parent.data = dn.pk;
  c.parent.len = CN_PK_BYTES;
  c.term_start = T0;
  c.term_end = T0 + 1000000;
  c.selection.data = sel;
  c.selection.len = sizeof sel;
  c.term = 1;
  REQUIRE(util_seal("credential", &c, tsk, &cenv, &clen) == 0);
  v.node.data = dn.pk;
  v.node.len = CN_PK_BYTES;
  v.created = T0;
  v.proposal.data = lot;
  v.proposal.len = CN_HASH_BYTES;
  REQUIRE(util_seal("volunteer", &v, fsk, &venv, &vlen) == 0);
  fbin.data = fpk;
  fbin.len = CN_PK_BYTES;
  d->volunteers = &fbin;
  d->n_volunteers = 1;
  d->selected = &fbin;
  d->n_selected = 1;
  d->passed = 1;
  d->too_few_volunteers = 0;
  f1 = forge_two((uint64_t)s1, cenv, clen, (uint64_t)dseq, d, lot);
  f2 = f1 == 0 ? forge_two((uint64_t)s2, venv, vlen, (uint64_t)dseq, d, lot) : -1;
  d->volunteers = NULL;
  d->n_volunteers = 0;
  d->selected = NULL;
  d->n_selected = 0;
  REQUIRE(f1 == 0 && f2 == 0);
  rc = verify_lot(lot, &out);
  CHECK(rc != 0);
  if (rc == 0)
    fprintf(stderr, "sortition verify of the forged decision (a delegate of a council never "
            "admitted) passes: %s\n", out ? out : "(none)");
done:
  free(out);
  free(cenv);
  free(venv);
  if (d)
    councilnet__decision__free_unpacked(d, NULL);
  if (started)
    CHECK(tnode_destroy(&dn) == 0);
}

int main(void)
{
  cn_crypto_init();
  test_schema_step10();
  test_first_convener_lot();
  test_forged_settings();
  test_replayed_settings();
  test_cross_node_settings();
  test_fake_delegate();
  return test_finish("test_verify_replay");
}
