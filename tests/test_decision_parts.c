/* test_decision_parts.c: a regional council of 1,000 child councils
 * decides, with real councild processes on 127.0.0.1 (a city, the region,
 * a follower of the region); the child councils are keys of this process,
 * whose records (admission, roll, their own decision, their delegate's
 * delivery of a binding mandate) are made here and posted to the region.
 *
 *  A. With every council's ballot in it the region's decision is larger
 *     than a record may be (75 KB, where a record holds 64 KiB): the close
 *     failed at every tick and the proposal never closed. Now the
 *     contributions go in "contributions" records just before the
 *     decision, which names them. Checked: the counts; each part (within
 *     the bound, node-signed, its proposal, time and number, in the log
 *     just before the decision, in order); all parts together are the one
 *     list the decision would have held; `council verify`; what
 *     `council decision show`, `council proposal show` and the follower's
 *     `council parent proposals` print.
 *  B. The region's delegate carries a mandate citing that decision to the
 *     city: the decision reaches the city, and the delivery counts there.
 *  C. A "contributions" record from outside is refused; a part sent back
 *     gets the receipt of its first entry and changes nothing.
 *  D. A dishonest region whose decision names its parts in another order,
 *     or a part it does not serve: the client says which part, and fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "councilnet/record.h"
#include "test.h"
#include "util.h"

#define T0 1900000000ULL
#define N_COUNCILS 1000
#define KEEP 0
#define SELL 1

static tnode_t city, region, follower;
static uint8_t csk[N_COUNCILS][CN_SK_BYTES], cpk[N_COUNCILS][CN_PK_BYTES];  /* councils */
static uint8_t dsk[N_COUNCILS][CN_SK_BYTES], dpk[N_COUNCILS][CN_PK_BYTES];  /* their delegates */
static uint8_t via[N_COUNCILS][CN_HASH_BYTES];   /* each council's mandate id */
static uint8_t creds[N_COUNCILS][CN_HASH_BYTES]; /* each council's delegate's credential */
static uint8_t lot[CN_HASH_BYTES];               /* the region's lot */
static uint8_t psk[CN_SK_BYTES], ppk[CN_PK_BYTES];   /* a person on the region's roll */
static char *options[2] = { "Keep the depot", "Sell the depot" };

static uint32_t choice_of(int i)
{
  return i % 3 == 0 ? SELL : KEEP;
}

static uint64_t people_of(int i)
{
  return (uint64_t)(i % 7) + 1;
}

static ProtobufCBinaryData bin(const uint8_t *p, size_t n)
{
  ProtobufCBinaryData b = { n, (uint8_t *)p };
  return b;
}

/* Council I's delegate delivers a mandate made at CREATED with the
 * binding instructions ON[0..N) (their choice 0, except CHOICE_OF(I) on
 * the region's question Q), each citing the council's own decision; its
 * credential is the same every time (deterministic signatures). MID (may
 * be NULL) gets the mandate id. The region's code, or -1. */
static int council_delivers(int i, const uint8_t q[CN_HASH_BYTES], const uint8_t *const *on,
                            size_t n, uint64_t created, uint8_t mid[CN_HASH_BYTES])
{
  Councilnet__Credential cr = COUNCILNET__CREDENTIAL__INIT;
  Councilnet__Mandate m = COUNCILNET__MANDATE__INIT;
  Councilnet__Instruction in[2], *ins[2] = { &in[0], &in[1] };
  Councilnet__Delivery dl = COUNCILNET__DELIVERY__INIT;
  uint8_t local[CN_HASH_BYTES], *cenv = NULL, *menv = NULL;
  uint32_t choice = choice_of(i), zero = 0;
  size_t clen = 0, mlen = 0;
  int rc = -1;

  if (n > 2)
    return -1;
  cn_crypto_hash(local, cpk[i], CN_PK_BYTES);   /* the council's own proposal */
  cr.node = bin(cpk[i], CN_PK_BYTES);
  cr.created = T0;
  cr.delegate = bin(dpk[i], CN_PK_BYTES);
  cr.parent = bin(region.pk, CN_PK_BYTES);
  cr.term_start = T0;
  cr.term_end = T0 + 100000;
  cr.selection = bin(local, CN_HASH_BYTES);
  cr.term = 1;
  if (util_seal("credential", &cr, csk[i], &cenv, &clen) != 0)
    goto out;
  cn_crypto_hash(creds[i], cenv, clen);
  m.node = bin(cpk[i], CN_PK_BYTES);
  m.created = created;
  m.credential = bin(creds[i], CN_HASH_BYTES);
  m.delegate = bin(dpk[i], CN_PK_BYTES);
  m.parent = bin(region.pk, CN_PK_BYTES);
  for (size_t k = 0; k < n; k++) {
    councilnet__instruction__init(&in[k]);
    in[k].decision = bin(local, CN_HASH_BYTES);
    in[k].parent_proposal = bin(on[k], CN_HASH_BYTES);
    in[k].binding = 1;
    in[k].choices = memcmp(on[k], q, CN_HASH_BYTES) == 0 ? &choice : &zero;
    in[k].n_choices = 1;
  }
  m.instructions = ins;
  m.n_instructions = n;
  if (util_seal("mandate", &m, csk[i], &menv, &mlen) != 0)
    goto out;
  if (mid)
    cn_crypto_hash(mid, menv, mlen);
  dl.node = bin(cpk[i], CN_PK_BYTES);
  dl.created = created;
  dl.mandate = bin(menv, mlen);
  dl.credential = bin(cenv, clen);
  rc = util_act(&region, "delivery", &dl, dsk[i], NULL);
out:
  free(cenv);
  free(menv);
  return rc;
}

/* Council I joins the region and casts CHOICE_OF(I) on Q through its
 * delegate: admitted as a council, its roll, its own decision, and the
 * delivery of a mandate citing it. The mandate also instructs the
 * delegate on the region's lot, which is no vote: passed over (a lot's
 * decision lists no council ballots, so none can come between the head
 * its signature covers and the decision). Return 0 or -1. */
static int council_votes(int i, const uint8_t q[CN_HASH_BYTES])
{
  Councilnet__RollUpdate u = COUNCILNET__ROLL_UPDATE__INIT;
  Councilnet__Decision dec = COUNCILNET__DECISION__INIT;
  const uint8_t *on[2] = { q, lot };
  uint8_t local[CN_HASH_BYTES];
  char name[32];
  int rc = -1;

  snprintf(name, sizeof name, "Council %04d", i);
  if (util_admit_council(&region, cpk[i], name) != CN_OK)
    goto out;
  u.node = bin(cpk[i], CN_PK_BYTES);
  u.created = T0;
  u.roll = people_of(i);
  u.serial = 1;
  if (util_act(&region, "roll", &u, csk[i], NULL) != CN_OK)
    goto out;
  cn_crypto_hash(local, cpk[i], CN_PK_BYTES);   /* the council's own proposal */
  dec.node = bin(cpk[i], CN_PK_BYTES);
  dec.created = T0;
  dec.proposal = bin(local, CN_HASH_BYTES);
  dec.passed = 1;
  if (util_act(&region, "decision", &dec, csk[i], NULL) != CN_OK)
    goto out;
  if (council_delivers(i, q, on, 2, T0, via[i]) != CN_OK)
    goto out;
  rc = 0;
out:
  if (rc != 0)
    fprintf(stderr, "council %d could not cast its ballot\n", i);
  return rc;
}

/* The council whose node key is KEY, or -1. */
static int council_of(const ProtobufCBinaryData *key)
{
  for (int i = 0; key->len == CN_PK_BYTES && i < N_COUNCILS; i++)
    if (memcmp(key->data, cpk[i], CN_PK_BYTES) == 0)
      return i;
  return -1;
}

typedef struct ids_at_t {
  uint64_t from, to;                 /* seqs wanted, inclusive */
  uint8_t (*ids)[CN_HASH_BYTES];
  size_t n;
} ids_at_t;

static int ids_at(void *ctx, const Councilnet__LogEntry *le, const Councilnet__Envelope *e)
{
  ids_at_t *c = ctx;
  (void)e;
  if (le->seq >= c->from && le->seq <= c->to && le->record_id.len == CN_HASH_BYTES)
    memcpy(c->ids[c->n++], le->record_id.data, CN_HASH_BYTES);
  return le->seq >= c->to;
}

/* Run `council ARGS --node URL` (stderr too); OUT gets the output. */
static int council(const char *args, const char *url, char **out)
{
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "'%s' %s --node %s 2>&1", getenv("CN_COUNCIL"), args, url);
  return util_sh(cmd, out);
}

static size_t count_of(const char *text, const char *what)
{
  size_t n = 0;
  for (const char *p = text; p && (p = strstr(p, what)) != NULL; p += strlen(what))
    n++;
  return n;
}

static int followed(void *ctx)
{
  const uint8_t *q = ctx;
  Councilnet__ProposalList *pl = (Councilnet__ProposalList *)util_get(
    &follower, "/v1/parent/proposals", &councilnet__proposal_list__descriptor);
  int ok = 0;
  for (size_t i = 0; pl && i < pl->n_proposals; i++)
    ok |= memcmp(pl->proposals[i]->id.data, q, CN_HASH_BYTES) == 0 && pl->proposals[i]->decision;
  if (pl)
    councilnet__proposal_list__free_unpacked(pl, NULL);
  return ok;
}


/* Put ENV in place of the log entry at SEQ (util_log_forge). */
typedef struct forge_t {
  uint64_t seq;
  const uint8_t *env;
  size_t len;
  struct forge_t *also;     /* another entry to replace, or NULL */
} forge_t;

static int forge_at(void *ctx, uint64_t seq, const uint8_t prev[CN_HASH_BYTES], uint8_t **env,
                    size_t *len)
{
  forge_t *f = ctx;
  (void)prev;
  while (f && seq != f->seq)
    f = f->also;
  if (!f)
    return 0;
  *env = malloc(f->len);
  if (!*env)
    return -1;
  memcpy(*env, f->env, f->len);
  *len = f->len;
  return 1;
}

/* `council verify` of the region's log fails at entry SEQ, saying WHY
 * (the start of its reason). */
static void verify_refuses(uint64_t seq, const char *why)
{
  char want[256], *out = NULL;

  snprintf(want, sizeof want, "entry %llu: %s", (unsigned long long)seq, why);
  CHECK_EQ_INT(council("verify", region.url, &out), 1);
  CHECK(out && strstr(out, want));
  if (test_failures_)
    fprintf(stderr, "%.3000s\n", out ? out : "");
  free(out);
}

/* Region's decision D signed again by its key SK, in place of the entry at
 * SEQ; then what `council decision show Q` says of it. */
static int forged_show_also(const Councilnet__Decision *d, const uint8_t sk[CN_SK_BYTES],
                            uint64_t seq, const char *q_hex, forge_t *also, char **out)
{
  forge_t f = { seq, NULL, 0, also };
  uint8_t *env = NULL;
  char args[128];
  int rc = -1;

  if (cn_record_seal("decision", &d->base, sk, &env, &f.len) != 0)
    return -1;
  f.env = env;
  if (util_log_forge(&region, also ? also->seq : seq, 0, forge_at, &f) == 0) {
    snprintf(args, sizeof args, "decision show %s", q_hex);
    rc = council(args, region.url, out);
  }
  free(env);
  return rc;
}

static int forged_show(const Councilnet__Decision *d, const uint8_t sk[CN_SK_BYTES], uint64_t seq,
                       const char *q_hex, char **out)
{
  return forged_show_also(d, sk, seq, q_hex, NULL, out);
}

/* The client, shown forged decision D, names it incomplete (exit 1) and
 * says each text of WANT (NULL-ended; NULL: nothing asked); its output is
 * printed when a check fails. */
static void forged_show_says(const Councilnet__Decision *d, const uint8_t sk[CN_SK_BYTES],
                             uint64_t seq, const char *q_hex, const char *const *want)
{
  char *out = NULL;

  CHECK_EQ_INT(forged_show(d, sk, seq, q_hex, &out), 1);
  for (size_t i = 0; want && want[i]; i++)
    CHECK(out && strstr(out, want[i]));
  if (test_failures_)
    fprintf(stderr, "%.3000s\n", out ? out : "");
  free(out);
}

int main(void)
{
  Councilnet__Proposal p = COUNCILNET__PROPOSAL__INIT;
  Councilnet__Rule r = COUNCILNET__RULE__INIT;
  Councilnet__Decision *d = NULL;
  const Councilnet__Contribution **all = NULL;
  uint8_t q[CN_HASH_BYTES], cq[CN_HASH_BYTES], region_sk[CN_SK_BYTES];
  uint8_t dec_id[CN_HASH_BYTES] = { 0 }, (*log_ids)[CN_HASH_BYTES] = NULL;
  uint64_t want[2] = { 1, 0 }, people = 1, dec_seq = 0;   /* the person's ballot: keep, 1 */
  size_t n_parts = 0, n_all = 0;
  char q_hex[2 * CN_HASH_BYTES + 1], args[256], *out = NULL;
  int seen[N_COUNCILS];
  int started = 0, cli = getenv("CN_COUNCIL") != NULL;

  cn_crypto_init();
  REQUIRE(tnode_start(&city, "City council", T0) == 0);
  started = 1;
  REQUIRE(tnode_start(&region, "Regional council", T0) == 0);
  REQUIRE(tnode_secret_key(&region, region_sk) == 0);
  REQUIRE(util_admit_council(&city, region.pk, "Regional council") == CN_OK);
  REQUIRE(tnode_start_child(&follower, "A follower of the region", T0, &region) == 0);

  /* the region's question, weighted by the people each council speaks
   * for; a person member votes too and volunteers to go to the city */
  p.title = "Keep the tram depot?";
  p.option_kind = COUNCILNET__OPTION_KIND__ONE_OF_N;
  p.options = options;
  p.n_options = 2;
  p.opens = T0;
  p.closes = T0 + 1000;
  p.rule = &r;
  r.threshold = COUNCILNET__THRESHOLD__PLURALITY;
  r.weight_by_roll = 1;
  REQUIRE(util_propose(&region, region.convener_sk, &p, q) == CN_OK);
  cn_hex_encode(q_hex, q, CN_HASH_BYTES);
  cn_crypto_keypair(ppk, psk);
  REQUIRE(util_admit(&region, ppk, "A person") == CN_OK);
  REQUIRE(util_vote(&region, psk, q, KEEP) == CN_OK);
  REQUIRE(util_propose_lot(&region, "Delegate to the city", 1, city.pk, 1000, lot) == CN_OK);
  {
    Councilnet__Volunteer v = COUNCILNET__VOLUNTEER__INIT;
    v.node = bin(region.pk, CN_PK_BYTES);
    v.created = T0;
    v.proposal = bin(lot, CN_HASH_BYTES);
    REQUIRE(util_act(&region, "volunteer", &v, psk, NULL) == CN_OK);
  }
  p.title = "Fund the regional depots?";
  p.closes = T0 + 5000;
  REQUIRE(util_propose(&city, city.convener_sk, &p, cq) == CN_OK);

  for (int i = 0; i < N_COUNCILS; i++) {
    cn_crypto_keypair(cpk[i], csk[i]);
    cn_crypto_keypair(dpk[i], dsk[i]);
    REQUIRE(council_votes(i, q) == 0);
    want[choice_of(i)] += people_of(i);
    people += people_of(i);
  }
  {
    util_ballots_t b = { &region, q, N_COUNCILS + 1 };
    REQUIRE(util_ballots_ready(&b));
  }
  /* a delegate's own ballot on the lot, under a mandate instructing it:
   * refused, as a member's is, and nothing logged */
  {
    Councilnet__DelegateBallot db = COUNCILNET__DELEGATE_BALLOT__INIT;
    uint32_t zero = 0;
    uint64_t head = util_head_seq(&region);
    db.node = bin(region.pk, CN_PK_BYTES);
    db.created = T0;
    db.proposal = bin(lot, CN_HASH_BYTES);
    db.choices = &zero;
    db.n_choices = 1;
    db.credential = bin(creds[0], CN_HASH_BYTES);
    CHECK_EQ_INT(util_act(&region, "delegate_ballot", &db, dsk[0], NULL), CN_ERR_INVALID);
    CHECK_EQ_INT(util_head_seq(&region), head);
  }
  /* the region becomes the city's child council now (its whole roll goes
   * up in two records, rather than a roll update per council) */
  REQUIRE(util_parent_set(&region, &city) == CN_OK);

  /* ---- A. the close ---- */
  REQUIRE(tnode_set_clock(&region, T0 + 1000) == 0);
  REQUIRE(tnode_set_clock(&city, T0 + 1000) == 0);
  REQUIRE(tnode_set_clock(&follower, T0 + 1000) == 0);
  d = util_wait_decision(&region, q, 30000);
  REQUIRE(d);
  CHECK_EQ_INT(d->n_counts, 2);
  if (d->n_counts == 2) {
    CHECK_EQ_INT(d->counts[KEEP], want[KEEP]);
    CHECK_EQ_INT(d->counts[SELL], want[SELL]);
  }
  CHECK_EQ_INT(d->ballots, N_COUNCILS + 1);
  CHECK_EQ_INT(d->roll, people);
  CHECK_EQ_INT(d->winner, KEEP);
  CHECK(d->passed);
  CHECK_EQ_INT(d->n_contributions, 0);
  n_parts = d->n_contribution_records;
  fprintf(stderr, "a decision of %d council ballots: %zu records of contributions\n",
          N_COUNCILS, n_parts);
  CHECK(n_parts >= 2 && n_parts <= 4);
  all = calloc(N_COUNCILS + 1, sizeof *all);
  log_ids = calloc(n_parts + 1, sizeof *log_ids);
  REQUIRE(all && log_ids && n_parts >= 1);

  /* each part: within the bound, signed by the region, this decision's
   * part K of N; kept for the list they make together */
  {
    Councilnet__DecisionContributions **parts = calloc(n_parts, sizeof *parts);
    REQUIRE(parts);
    for (size_t k = 0; k < n_parts; k++) {
      uint8_t *env = NULL;
      size_t len = 0;
      cn_record_t rec;
      parts[k] = NULL;
      if (d->contribution_records[k].len != CN_HASH_BYTES ||
          util_get_record(&region, d->contribution_records[k].data, &env, &len) != 0) {
        CHECK(!"a part can be fetched");
        continue;
      }
      CHECK(len <= CN_RECORD_MAX);
      if (cn_record_open(env, len, &rec) == CN_OK) {
        CHECK_STR(rec.kind, "contributions");
        CHECK(memcmp(rec.signer, region.pk, CN_PK_BYTES) == 0);
        parts[k] = (Councilnet__DecisionContributions *)cn_pb_unpack_strict(
          &councilnet__decision_contributions__descriptor, rec.body, rec.body_len);
        cn_record_close(&rec);
      }
      free(env);
      CHECK(parts[k] != NULL);
      if (!parts[k])
        continue;
      CHECK(parts[k]->node.len == CN_PK_BYTES &&
            memcmp(parts[k]->node.data, region.pk, CN_PK_BYTES) == 0);
      CHECK(parts[k]->proposal.len == CN_HASH_BYTES &&
            memcmp(parts[k]->proposal.data, q, CN_HASH_BYTES) == 0);
      CHECK_EQ_INT(parts[k]->created, d->created);
      CHECK_EQ_INT(parts[k]->part, k);
      CHECK_EQ_INT(parts[k]->parts, n_parts);
      for (size_t i = 0; i < parts[k]->n_contributions && n_all < N_COUNCILS + 1; i++)
        all[n_all++] = parts[k]->contributions[i];
    }
    /* together: every council once, with its choice, the people it speaks
     * for and the mandate it came by */
    CHECK_EQ_INT(n_all, N_COUNCILS);
    memset(seen, 0, sizeof seen);
    for (size_t i = 0; i < n_all; i++) {
      const Councilnet__Contribution *c = all[i];
      int k = council_of(&c->member);
      CHECK(k >= 0);
      if (k < 0)
        continue;
      seen[k]++;
      CHECK(c->n_choices == 1 && c->choices[0] == choice_of(k));
      CHECK_EQ_INT(c->weight, people_of(k));
      CHECK(c->via.len == CN_HASH_BYTES && memcmp(c->via.data, via[k], CN_HASH_BYTES) == 0);
    }
    for (int i = 0; i < N_COUNCILS; i++)
      if (seen[i] != 1) {
        CHECK_EQ_INT(seen[i], 1);
        break;
      }
    /* the one decision with them all inline is what did not fit */
    {
      Councilnet__Decision whole = *d;
      uint8_t *env = NULL;
      size_t len = 0;
      whole.contributions = (Councilnet__Contribution **)all;
      whole.n_contributions = n_all;
      whole.contribution_records = NULL;
      whole.n_contribution_records = 0;
      REQUIRE(cn_record_seal("decision", &whole.base, region_sk, &env, &len) == 0);
      fprintf(stderr, "inline, the decision would be a record of %zu bytes\n", len);
      CHECK(len > CN_RECORD_MAX);
      free(env);
    }
    /* in the log just before the decision, in order */
    {
      ids_at_t ia;
      REQUIRE(util_decision_entry(&region, q, &dec_seq, NULL) == 0);
      ia.from = dec_seq - n_parts;
      ia.to = dec_seq;
      ia.ids = log_ids;
      ia.n = 0;
      REQUIRE(util_log_each(&region, ids_at, &ia) == 0);
      CHECK_EQ_INT(ia.n, n_parts + 1);
      for (size_t k = 0; k < n_parts && k < ia.n; k++)
        CHECK(memcmp(log_ids[k], d->contribution_records[k].data, CN_HASH_BYTES) == 0);
      if (ia.n == n_parts + 1)
        memcpy(dec_id, log_ids[n_parts], CN_HASH_BYTES);
    }
    CHECK_EQ_INT(util_council_verify(&region), 0);
    for (size_t k = 0; k < n_parts; k++)
      if (parts[k])
        councilnet__decision_contributions__free_unpacked(parts[k], NULL);
    free(parts);
  }

  /* what members read: every council ballot, checked, and the people they
   * speak for */
  if (cli) {
    char line[160];
    snprintf(args, sizeof args, "decision show %s", q_hex);
    CHECK_EQ_INT(council(args, region.url, &out), 0);
    CHECK(strstr(out, "Councils:   1000 council ballots, each weighing the people it speaks for\n"));
    snprintf(line, sizeof line, "(listed in %zu records of their own, each signed by the node and "
             "checked)\n", n_parts);
    CHECK(strstr(out, line));
    snprintf(line, sizeof line, "(%d ballots speaking for %llu of %llu people", N_COUNCILS + 1,
             (unsigned long long)people, (unsigned long long)people);
    CHECK(strstr(out, line));
    CHECK_EQ_INT(count_of(out, "  via "), N_COUNCILS);
    CHECK(strstr(out, "Council 0000 ") && strstr(out, "Council 0999 "));
    CHECK(!strstr(out, "INCOMPLETE"));
    if (test_failures_)
      fprintf(stderr, "%.3000s\n", out ? out : "");
    free(out);
    out = NULL;
    snprintf(args, sizeof args, "proposal show %s", q_hex);
    CHECK_EQ_INT(council(args, region.url, &out), 0);
    CHECK(strstr(out, "Councils:   1000 council ballots"));
    CHECK_EQ_INT(count_of(out, "  via "), N_COUNCILS);
    free(out);
    out = NULL;
    /* a child council reads the decision from the region's log it follows,
     * and the ballots from the region */
    CHECK(util_wait(followed, q, 20000) == 0);
    CHECK_EQ_INT(council("parent proposals", follower.url, &out), 0);
    snprintf(line, sizeof line, "(%d ballots, %d from councils)", N_COUNCILS + 1, N_COUNCILS);
    CHECK(strstr(out, line));
    if (!strstr(out, line))
      fprintf(stderr, "%s\n", out ? out : "");
    free(out);
    out = NULL;
  }

  /* ---- B. the decision goes up to the city with the mandate citing it ---- */
  {
    Councilnet__Mandate m = COUNCILNET__MANDATE__INIT;
    Councilnet__Instruction in = COUNCILNET__INSTRUCTION__INIT, *ins[1] = { &in };
    Councilnet__Delivery dl = COUNCILNET__DELIVERY__INIT;
    Councilnet__MandateList *ml = NULL;
    Councilnet__Decision *lot_d = util_wait_decision(&region, lot, 10000);
    uint8_t cred[CN_HASH_BYTES], mid[CN_HASH_BYTES], *menv = NULL, *cenv = NULL;
    size_t mlen = 0, clen = 0;
    uint32_t keep = KEEP;
    util_ballots_t b = { &city, cq, 1 };
    int found = 0;

    CHECK(lot_d && lot_d->n_selected == 1);
    /* the councils' instructions on the lot counted nothing */
    CHECK(lot_d && lot_d->ballots == 0 && lot_d->n_contributions == 0 &&
          lot_d->n_contribution_records == 0);
    if (lot_d)
      councilnet__decision__free_unpacked(lot_d, NULL);
    /* an instruction on the lot, now closed, is passed over as well: the
     * delivery (whatever else it carries) is not refused for it */
    {
      const uint8_t *on[1] = { lot };
      CHECK_EQ_INT(council_delivers(1, q, on, 1, T0 + 2, NULL), CN_OK);
    }
    if (cli) {
      char lot_hex[2 * CN_HASH_BYTES + 1];
      cn_hex_encode(lot_hex, lot, CN_HASH_BYTES);
      snprintf(args, sizeof args, "sortition verify %s", lot_hex);
      CHECK_EQ_INT(council(args, region.url, &out), 0);
      if (test_failures_)
        fprintf(stderr, "%.3000s\n", out ? out : "");
      free(out);
      out = NULL;
    }
    REQUIRE(util_credential_of(&region, ppk, cred, NULL) == 0);
    m.node = bin(region.pk, CN_PK_BYTES);
    m.created = T0 + 1000;
    m.credential = bin(cred, CN_HASH_BYTES);
    m.delegate = bin(ppk, CN_PK_BYTES);
    m.parent = bin(city.pk, CN_PK_BYTES);
    in.decision = bin(q, CN_HASH_BYTES);
    in.parent_proposal = bin(cq, CN_HASH_BYTES);
    in.binding = 1;
    in.choices = &keep;
    in.n_choices = 1;
    m.instructions = ins;
    m.n_instructions = 1;
    REQUIRE(util_act(&region, "mandate_draft", &m, region.convener_sk, NULL) == CN_OK);
    ml = (Councilnet__MandateList *)util_get(&region, "/v1/mandates",
                                             &councilnet__mandate_list__descriptor);
    for (size_t i = 0; ml && i < ml->n_mandates; i++)
      if (memcmp(ml->mandates[i]->mandate->credential.data, cred, CN_HASH_BYTES) == 0) {
        memcpy(mid, ml->mandates[i]->id.data, CN_HASH_BYTES);
        found = 1;
      }
    if (ml)
      councilnet__mandate_list__free_unpacked(ml, NULL);
    REQUIRE(found);
    REQUIRE(util_get_record(&region, mid, &menv, &mlen) == 0);
    if (util_get_record(&region, cred, &cenv, &clen) == 0) {
      dl.node = bin(region.pk, CN_PK_BYTES);
      dl.created = T0 + 1000;
      dl.mandate = bin(menv, mlen);
      dl.credential = bin(cenv, clen);
      CHECK_EQ_INT(util_act(&region, "delivery", &dl, psk, NULL), CN_OK);
    }
    free(menv);
    free(cenv);
    /* the city counts the region's ballot: it took the decision cited */
    CHECK(util_wait(util_ballots_ready, &b, 20000) == 0);
    CHECK_EQ_INT(util_log_count(&city, dec_id), 1);
  }

  /* ---- C. made by the node only ---- */
  {
    Councilnet__DecisionContributions fake = COUNCILNET__DECISION_CONTRIBUTIONS__INIT;
    Councilnet__Contribution c = COUNCILNET__CONTRIBUTION__INIT, *cs[1] = { &c };
    uint32_t sell = SELL;
    uint8_t *env = NULL;
    size_t len = 0;
    uint64_t seq = 0;
    int64_t head = util_head_seq(&region);

    fake.node = bin(region.pk, CN_PK_BYTES);
    fake.created = T0 + 1000;
    fake.proposal = bin(q, CN_HASH_BYTES);
    fake.parts = 1;
    c.member = bin(cpk[0], CN_PK_BYTES);
    c.choices = &sell;
    c.n_choices = 1;
    c.weight = 1000000;
    c.via = bin(via[0], CN_HASH_BYTES);
    fake.contributions = cs;
    fake.n_contributions = 1;
    CHECK_EQ_INT(util_act(&region, "contributions", &fake, region_sk, NULL), CN_ERR_UNKNOWN_KIND);
    fake.node = bin(cpk[0], CN_PK_BYTES);          /* as a child council's */
    CHECK_EQ_INT(util_act(&region, "contributions", &fake, csk[0], NULL), CN_ERR_UNKNOWN_KIND);
    CHECK_EQ_INT(util_head_seq(&region), head);
    /* a part sent back: the receipt of its first entry */
    REQUIRE(util_get_record(&region, d->contribution_records[0].data, &env, &len) == 0);
    CHECK_EQ_INT(util_post(&region, env, len, &seq), CN_OK);
    CHECK_EQ_INT(seq, dec_seq - n_parts);
    CHECK_EQ_INT(util_head_seq(&region), head);
    free(env);
  }

  /* ---- D. a dishonest region's parts: the client names the one that
   * does not check ---- */
  if (cli && n_parts >= 2) {
    ProtobufCBinaryData first = d->contribution_records[0];
    uint8_t last_real[CN_HASH_BYTES];
    d->contribution_records[0] = d->contribution_records[1];
    d->contribution_records[1] = first;
    forged_show_says(d, region_sk, dec_seq, q_hex, (const char *[]){
                       "INCOMPLETE: part 1 of",
                       "is another part than the one the decision names there",
                       "council ballots are incomplete", NULL });
    /* every record of that log checks alone; verify ties the decision to
     * the parts logged before it */
    verify_refuses(dec_seq, "the decision names other contributions parts");
    d->contribution_records[1] = d->contribution_records[0];
    d->contribution_records[0] = first;
    memcpy(last_real, d->contribution_records[n_parts - 1].data, CN_HASH_BYTES);
    memset(d->contribution_records[n_parts - 1].data, 0x5a, CN_HASH_BYTES);
    snprintf(args, sizeof args, "INCOMPLETE: part %zu of %zu (record 5a5a", n_parts, n_parts);
    forged_show_says(d, region_sk, dec_seq, q_hex,
                     (const char *[]){ args, "cannot be fetched", "NOT_FOUND", NULL });
    verify_refuses(dec_seq, "the decision names other contributions parts");
    memcpy(d->contribution_records[n_parts - 1].data, last_real, CN_HASH_BYTES);
    /* and one naming a part more than the node logged */
    d->n_contribution_records = n_parts - 1;
    forged_show_says(d, region_sk, dec_seq, q_hex, NULL);   /* the client too */
    verify_refuses(dec_seq, "the decision names another number of contributions parts");
    d->n_contribution_records = n_parts;
    /* and one listing a ballot inline besides its parts: an older client
     * would show the one, a newer the others */
    {
      Councilnet__Contribution fake = COUNCILNET__CONTRIBUTION__INIT, *fakes[1] = { &fake };
      uint32_t keep = KEEP;
      fake.member = bin(cpk[0], CN_PK_BYTES);
      fake.choices = &keep;
      fake.n_choices = 1;
      fake.weight = 999999;
      fake.via = bin(via[0], CN_HASH_BYTES);
      d->contributions = fakes;
      d->n_contributions = 1;
      forged_show_says(d, region_sk, dec_seq, q_hex,
                       (const char *[]){ "lists council ballots inline as well as in", NULL });
      verify_refuses(dec_seq, "a decision in parts lists contributions inline");
      d->contributions = NULL;   /* not ours to free */
      d->n_contributions = 0;
    }
    free(out);
    out = NULL;
    /* and a last part that is not the decision's: empty (the node never
     * makes one), of another time, proposal or node (signed by the region) */
    {
      Councilnet__DecisionContributions *real = NULL;
      uint8_t *renv = NULL;
      size_t rlen = 0;
      cn_record_t rec;
      /* the real last part, before the forgeries below replace it */
      REQUIRE(util_get_record(&region, d->contribution_records[n_parts - 1].data, &renv,
                              &rlen) == 0);
      REQUIRE(cn_record_open(renv, rlen, &rec) == CN_OK);
      real = councilnet__decision_contributions__unpack(NULL, rec.body_len, rec.body);
      cn_record_close(&rec);
      free(renv);
      REQUIRE(real);
      for (int k = 0; k < 4; k++) {
        static const char *const want_why[4] = {
          "holds no council ballot", "was made at another time than the decision",
          "is about another proposal", "is not a contributions record signed by the node"
        };
        Councilnet__DecisionContributions alt = *real;
        forge_t part = { dec_seq - 1, NULL, 0, NULL };
        uint8_t *penv = NULL, pid[CN_HASH_BYTES], keep_id[CN_HASH_BYTES];
        ProtobufCBinaryData *last = &d->contribution_records[n_parts - 1];
        if (k == 0)
          alt.n_contributions = 0;
        else if (k == 1)
          alt.created = real->created + 1;
        else if (k == 2)
          alt.proposal = bin(cq, CN_HASH_BYTES);
        else
          alt.node = bin(city.pk, CN_PK_BYTES);
        REQUIRE(cn_record_seal("contributions", &alt.base, region_sk, &penv, &part.len) == 0);
        part.env = penv;
        cn_crypto_hash(pid, penv, part.len);
        memcpy(keep_id, last->data, CN_HASH_BYTES);
        memcpy(last->data, pid, CN_HASH_BYTES);
        free(out);
        out = NULL;
        CHECK_EQ_INT(forged_show_also(d, region_sk, dec_seq, q_hex, &part, &out), 1);
        snprintf(args, sizeof args, "part %zu of %zu (record", n_parts, n_parts);
        CHECK(out && strstr(out, args) && strstr(out, want_why[k]));
        if (test_failures_)
          fprintf(stderr, "%s: %.3000s\n", want_why[k], out ? out : "");
        memcpy(last->data, keep_id, CN_HASH_BYTES);
        free(penv);
      }
      councilnet__decision_contributions__free_unpacked(real, NULL);
    }
  }

done:
  free(out);
  free(all);
  free(log_ids);
  if (d)
    councilnet__decision__free_unpacked(d, NULL);
  if (started) {
    if (follower.pid)
      CHECK(tnode_destroy(&follower) == 0);
    if (region.pid)
      CHECK(tnode_destroy(&region) == 0);
    CHECK(tnode_destroy(&city) == 0);
  }
  return test_finish("test_decision_parts");
}
