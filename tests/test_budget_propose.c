/* test_budget_propose.c: assemblies propose budget projects through their
 * mandates. A district opens a round that takes proposals until a date; a
 * neighborhood decides to propose a playground and mandates its delegate,
 * whose delivery adds the project (proposed by that neighborhood) to the
 * round; at the date the district publishes the final list, which flows
 * down; members vote on it; the allocation funds the proposed project.
 * A late proposal and a second one with the same id are refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "councilnet/budget.h"
#include "councilnet/record.h"
#include "test.h"
#include "util.h"

#define T0 1900000000ULL
#define ROLL 5

static tnode_t dist, hood;
static uint8_t msk[ROLL][CN_SK_BYTES], mpk[ROLL][CN_PK_BYTES];

typedef struct listed_ctx_t {
  tnode_t *n;
  size_t want;
  int allocated;
} listed_ctx_t;

/* Does N's round show WANT projects (from the final list)? */
static int round_listed(void *ctx)
{
  listed_ctx_t *l = ctx;
  Councilnet__RoundList *rl =
    (Councilnet__RoundList *)util_get(l->n, "/v1/budget", &councilnet__round_list__descriptor);
  int ok = 0;
  if (rl && rl->n_rounds == 1)
    ok = l->allocated ? rl->rounds[0]->allocation != NULL &&
                          rl->rounds[0]->allocation->n_projects == l->want
                      : 1;
  if (rl)
    councilnet__round_list__free_unpacked(rl, NULL);
  return ok;
}

/* B: a budget ballot addressed to NODE_PK for ROUND, approving PROJECTS. */
static void ballot_init(Councilnet__BudgetBallot *b, const uint8_t node_pk[CN_PK_BYTES],
                        const uint8_t round[CN_HASH_BYTES], uint32_t *projects, size_t n)
{
  councilnet__budget_ballot__init(b);
  b->node.data = (uint8_t *)node_pk;
  b->node.len = CN_PK_BYTES;
  b->created = T0 + 50;
  b->round.data = (uint8_t *)round;
  b->round.len = CN_HASH_BYTES;
  b->projects = projects;
  b->n_projects = n;
}

/* The delegate presents a mandate with one instruction proposing PROJECT. */
static tnode_t *deliver_to;     /* where the delivery is posted: the district (NULL) */

static const char *propose_title;   /* the project's title, if not its id */

static int propose(const uint8_t cred[CN_HASH_BYTES], const uint8_t decision[CN_HASH_BYTES],
                   const uint8_t round[CN_HASH_BYTES], const char *id, uint64_t cost, uint64_t bump)
{
  Councilnet__Mandate m = COUNCILNET__MANDATE__INIT;
  Councilnet__Instruction in = COUNCILNET__INSTRUCTION__INIT;
  Councilnet__Instruction *ins[1] = { &in };
  Councilnet__BudgetProject p = COUNCILNET__BUDGET_PROJECT__INIT;
  Councilnet__MandateList *ml;
  Councilnet__Delivery d = COUNCILNET__DELIVERY__INIT;
  uint8_t mid[CN_HASH_BYTES], *menv = NULL, *cenv = NULL;
  size_t mlen = 0, clen = 0;
  int code = -1, found = 0;

  p.id = (char *)id;
  p.title = (char *)(propose_title ? propose_title : id);
  p.cost = cost;
  in.decision.data = (uint8_t *)decision;
  in.decision.len = CN_HASH_BYTES;
  in.budget_project = (char *)id;
  in.project = &p;
  in.round.data = (uint8_t *)round;
  in.round.len = CN_HASH_BYTES;
  m.node.data = hood.pk;
  m.node.len = CN_PK_BYTES;
  m.created = hood.now + bump;
  m.credential.data = (uint8_t *)cred;
  m.credential.len = CN_HASH_BYTES;
  m.delegate.data = mpk[0];
  m.delegate.len = CN_PK_BYTES;
  m.parent.data = dist.pk;
  m.parent.len = CN_PK_BYTES;
  m.instructions = ins;
  m.n_instructions = 1;
  if (util_act(&hood, "mandate_draft", &m, hood.convener_sk, NULL) != CN_OK)
    return -1;
  ml = (Councilnet__MandateList *)util_get(&hood, "/v1/mandates", &councilnet__mandate_list__descriptor);
  for (size_t i = 0; ml && i < ml->n_mandates; i++)
    if (!ml->mandates[i]->delivered) {
      memcpy(mid, ml->mandates[i]->id.data, CN_HASH_BYTES);
      found = 1;
    }
  if (ml)
    councilnet__mandate_list__free_unpacked(ml, NULL);
  if (!found || util_get_record(&hood, mid, &menv, &mlen) != 0 ||
      util_get_record(&hood, cred, &cenv, &clen) != 0)
    goto out;
  d.node.data = hood.pk;
  d.node.len = CN_PK_BYTES;
  d.created = hood.now + bump;
  d.mandate.data = menv;
  d.mandate.len = mlen;
  d.credential.data = cenv;
  d.credential.len = clen;
  /* posted straight to the district, to see its answer (or, with
   * deliver_to, to the hood, whose outbox takes it up) */
  code = util_act(deliver_to ? deliver_to : &dist, "delivery", &d, msk[0], NULL);
out:
  free(menv);
  free(cenv);
  return code;
}

/* The hood's federation status once it holds one dead letter (other than
 * number NOT_ID, if set), or NULL after 3 s. Free it. */
static Councilnet__FederationStatus *hood_dead_letter(uint64_t not_id)
{
  for (int i = 0; i < 300; i++) {
    Councilnet__FederationStatus *fs = (Councilnet__FederationStatus *)util_get(
      &hood, "/v1/federation", &councilnet__federation_status__descriptor);
    if (fs && fs->dead == 1 &&
        (!not_id || (fs->n_dead_letters == 1 && fs->dead_letters[0]->id != not_id)))
      return fs;
    if (fs)
      councilnet__federation_status__free_unpacked(fs, NULL);
    util_sleep_ms(10);
  }
  return NULL;
}

int main(void)
{
  Councilnet__BudgetRound br = COUNCILNET__BUDGET_ROUND__INIT;
  Councilnet__BudgetProject base = COUNCILNET__BUDGET_PROJECT__INIT, *bps[1] = { &base };
  Councilnet__Proposal p = COUNCILNET__PROPOSAL__INIT;
  Councilnet__Selection sel = COUNCILNET__SELECTION__INIT;
  Councilnet__RoundList *rl = NULL;
  ProtobufCBinaryData cands[2];
  char *names[2] = { "First", "Second" };
  uint8_t round[CN_HASH_BYTES], dec[CN_HASH_BYTES], sid[CN_HASH_BYTES], cred[CN_HASH_BYTES];
  Councilnet__Decision *d = NULL;
  listed_ctx_t lc;
  int started = 0;

  cn_crypto_init();
  REQUIRE(tnode_start(&dist, "District", T0) == 0);
  started = 1;
  REQUIRE(tnode_start_child(&hood, "Riverside", T0, &dist) == 0);
  REQUIRE(util_settings_open(&hood) == CN_OK);
  REQUIRE(util_admit_council(&dist, hood.pk, "Riverside") == CN_OK);
  for (int i = 0; i < ROLL; i++) {
    cn_crypto_keypair(mpk[i], msk[i]);
    REQUIRE(util_admit(&hood, mpk[i], "member") == CN_OK);
  }
  /* The round: proposals until T0+50, voting T0+50..T0+100. */
  base.id = "lights";
  base.title = "Street lights";
  base.cost = 300;
  br.node.data = dist.pk;
  br.node.len = CN_PK_BYTES;
  br.created = T0;
  br.title = "District budget";
  br.total = 1000;
  br.projects = bps;
  br.n_projects = 1;
  br.proposals_close = T0 + 50;
  br.opens = T0 + 50;
  br.closes = T0 + 100;
  br.rule = COUNCILNET__BUDGET_RULE__EQUAL_SHARES;
  {
    uint8_t *env = NULL;
    size_t len = 0;
    REQUIRE(util_seal("budget_round", &br, dist.convener_sk, &env, &len) == 0);
    REQUIRE(util_post(&dist, env, len, NULL) == CN_OK);
    cn_crypto_hash(round, env, len);
    free(env);
  }
  /* Amounts the allocation cannot take are refused at the door: such a
   * round could never close. */
  {
    uint8_t *env = NULL;
    size_t len = 0;
    br.title = "Too much";
    br.total = CN_BUDGET_MAX_AMOUNT + 1;
    REQUIRE(util_seal("budget_round", &br, dist.convener_sk, &env, &len) == 0);
    CHECK_EQ_INT(util_post(&dist, env, len, NULL), CN_ERR_INVALID);
    free(env);
    env = NULL;
    br.total = 1000;
    base.cost = CN_BUDGET_MAX_AMOUNT + 1;
    REQUIRE(util_seal("budget_round", &br, dist.convener_sk, &env, &len) == 0);
    CHECK_EQ_INT(util_post(&dist, env, len, NULL), CN_ERR_INVALID);
    free(env);
    base.cost = 300;
    br.title = "District budget";
  }
  /* A round that fits a record but leaves no room to wrap it in the
   * budget_relay each child council passes down with: TOO_LARGE. Taken in,
   * it stopped every child from following this node. */
  {
    uint8_t *env = NULL;
    size_t len = 0, want = CN_RECORD_MAX - 100, tlen = want - 400;
    char *title = NULL;
    for (int i = 0; i < 4; i++) {        /* the title's length, to the byte */
      free(title);
      free(env);
      env = NULL;
      title = malloc(tlen + 1);
      REQUIRE(title);
      memset(title, 'x', tlen);
      title[tlen] = 0;
      br.title = title;
      REQUIRE(util_seal("budget_round", &br, dist.convener_sk, &env, &len) == 0);
      tlen += want - len;
    }
    CHECK_EQ_INT(len, want);
    CHECK_EQ_INT(util_post(&dist, env, len, NULL), CN_ERR_TOO_LARGE);
    free(env);
    free(title);
    br.title = "District budget";
  }
  /* The neighborhood decides to propose a playground and elects its delegate. */
  p.title = "Propose a playground for the district budget";
  p.opens = T0;
  p.closes = T0 + 20;
  REQUIRE(util_propose(&hood, msk[0], &p, dec) == CN_OK);
  councilnet__proposal__init(&p);
  p.title = "Delegate to the district";
  p.option_kind = COUNCILNET__OPTION_KIND__ONE_OF_N;
  p.options = names;
  p.n_options = 2;
  p.opens = T0;
  p.closes = T0 + 20;
  p.selection = &sel;
  sel.method = COUNCILNET__SELECTION_METHOD__BY_VOTE;
  sel.seats = 1;
  cands[0].data = mpk[0];
  cands[0].len = CN_PK_BYTES;
  cands[1].data = mpk[1];
  cands[1].len = CN_PK_BYTES;
  sel.candidates = cands;
  sel.n_candidates = 2;
  sel.parent.data = dist.pk;
  sel.parent.len = CN_PK_BYTES;
  sel.term_start = T0 + 20;
  sel.term_end = T0 + 100000;
  REQUIRE(util_propose(&hood, msk[0], &p, sid) == CN_OK);
  for (int i = 0; i < ROLL; i++) {
    CHECK_EQ_INT(util_vote(&hood, msk[i], dec, 0), CN_OK);
    CHECK_EQ_INT(util_vote(&hood, msk[i], sid, 0), CN_OK);
  }
  tnode_set_clock(&hood, T0 + 20);
  tnode_set_clock(&dist, T0 + 20);
  d = util_wait_decision(&hood, dec, 10000);
  REQUIRE(d && d->passed);
  councilnet__decision__free_unpacked(d, NULL);
  d = util_wait_decision(&hood, sid, 10000);
  REQUIRE(d && d->n_selected == 1);
  councilnet__decision__free_unpacked(d, NULL);
  d = NULL;
  REQUIRE(util_credential_of(&hood, mpk[0], cred, NULL) == 0);
  /* the credential and the decision must be at the district before the delivery */
  util_sleep_ms(500);

  /* The proposal arrives through the mandate; a second with that id does not. */
  CHECK_EQ_INT(propose(cred, dec, round, "playground", 400, 0), CN_OK);
  CHECK_EQ_INT(propose(cred, dec, round, "playground", 250, 1), CN_ERR_DUPLICATE);
  CHECK_EQ_INT(propose(cred, dec, round, "lights", 250, 2), CN_ERR_DUPLICATE);
  CHECK_EQ_INT(propose(cred, dec, round, "huge", CN_BUDGET_MAX_AMOUNT + 1, 5), CN_ERR_INVALID);
  /* Proposals whose titles would make the final list too large a record:
   * the one that would is refused at the door. Taken in, the list could
   * not be made, and the round went on without any proposed project. */
  {
    char *title = malloc(40001);
    REQUIRE(title);
    memset(title, 't', 40000);
    title[40000] = 0;
    propose_title = title;
    CHECK_EQ_INT(propose(cred, dec, round, "long", 100, 6), CN_OK);
    title[30000] = 0;
    CHECK_EQ_INT(propose(cred, dec, round, "longer", 100, 7), CN_ERR_TOO_LARGE);
    propose_title = NULL;
    free(title);
  }

  /* Proposals close: the district publishes the list; it reaches the hood. */
  tnode_set_clock(&dist, T0 + 50);
  tnode_set_clock(&hood, T0 + 50);
  CHECK_EQ_INT(propose(cred, dec, round, "late", 100, 3), CN_ERR_WINDOW_CLOSED);
  /* The same late proposal the normal way, through the hood: the hood
   * takes the delivery, the district refuses it for good, and the hood
   * sets it aside as a dead letter, listed with the district's answer. */
  deliver_to = &hood;
  CHECK_EQ_INT(propose(cred, dec, round, "later", 100, 4), CN_OK);
  deliver_to = NULL;
  {
    Councilnet__FederationStatus *fs = NULL;
    fs = hood_dead_letter(0);
    CHECK(fs != NULL);
    if (fs) {
      CHECK_EQ_INT(fs->n_dead_letters, 1);
      if (fs->n_dead_letters == 1) {
        CHECK_STR(fs->dead_letters[0]->kind, "delivery");
        CHECK(strstr(fs->dead_letters[0]->error, "WINDOW_CLOSED") != NULL);
        CHECK_EQ_INT(fs->dead_letters[0]->record_id.len, CN_HASH_BYTES);
        printf("test_budget_propose: dead letter at the hood: %s (%s)\n",
               fs->dead_letters[0]->kind, fs->dead_letters[0]->error);
      }
      councilnet__federation_status__free_unpacked(fs, NULL);
    }
  }
  {
    /* the district lists the hood among its child councils */
    Councilnet__FederationStatus *ds = (Councilnet__FederationStatus *)util_get(
      &dist, "/v1/federation", &councilnet__federation_status__descriptor);
    int listed = 0;
    for (size_t i = 0; ds && i < ds->n_children; i++)
      listed |= ds->children[i]->key.len == CN_PK_BYTES &&
                memcmp(ds->children[i]->key.data, hood.pk, CN_PK_BYTES) == 0;
    CHECK(listed);
    if (ds)
      councilnet__federation_status__free_unpacked(ds, NULL);
  }
  {
    /* and through the CLI, readable; then sent again by a convener with
     * council federation resend: the district refuses it again, so it is
     * a dead letter once more, with a new number */
    char cmd[900], keyfile[400], err[256], *text = NULL;
    Councilnet__FederationStatus *fs = NULL;
    Councilnet__OutboxResend rs = COUNCILNET__OUTBOX_RESEND__INIT;
    uint64_t old_id = 0, unknown = 999999;

    snprintf(cmd, sizeof cmd, "\"%s\" federation --node %s", getenv("CN_COUNCIL"), hood.url);
    CHECK_EQ_INT(util_sh(cmd, &text), 0);
    CHECK(text && strstr(text, "Refused:") && strstr(text, "delivery") &&
          strstr(text, "WINDOW_CLOSED: project proposals for this round have closed"));
    free(text);
    text = NULL;
    fs = (Councilnet__FederationStatus *)util_get(&hood, "/v1/federation",
                                                  &councilnet__federation_status__descriptor);
    REQUIRE(fs && fs->n_dead_letters == 1);
    old_id = fs->dead_letters[0]->id;
    councilnet__federation_status__free_unpacked(fs, NULL);
    fs = NULL;

    /* refusals: a member is no convener; an unknown number; nothing moves */
    rs.node.data = hood.pk;
    rs.node.len = CN_PK_BYTES;
    rs.created = hood.now;
    rs.ids = &old_id;
    rs.n_ids = 1;
    CHECK_EQ_INT(util_act(&hood, "outbox_resend", &rs, msk[1], NULL), CN_ERR_FORBIDDEN);
    rs.ids = &unknown;
    CHECK_EQ_INT(util_act(&hood, "outbox_resend", &rs, hood.convener_sk, NULL), CN_ERR_NOT_FOUND);
    rs.n_ids = 0;
    CHECK_EQ_INT(util_act(&hood, "outbox_resend", &rs, hood.convener_sk, NULL), CN_ERR_INVALID);

    snprintf(keyfile, sizeof keyfile, "%s/convener-cli.key", hood.dir);
    REQUIRE(cn_keyfile_write(keyfile, hood.convener_sk, NULL, err, sizeof err) == 0);
    snprintf(cmd, sizeof cmd, "\"%s\" federation resend %llu --node %s --key %s",
             getenv("CN_COUNCIL"), (unsigned long long)old_id, hood.url, keyfile);
    CHECK_EQ_INT(util_sh(cmd, &text), 0);
    CHECK(text && strstr(text, "1 dead letter back in the outbox"));
    free(text);
    text = NULL;
    fs = hood_dead_letter(old_id);
    CHECK(fs != NULL);
    if (fs) {
      CHECK_EQ_INT(fs->outbox, 0);
      CHECK_STR(fs->dead_letters[0]->kind, "delivery");
      councilnet__federation_status__free_unpacked(fs, NULL);
    }
  }
  {
    int seen = 0;
    for (int i = 0; i < 300 && !seen; i++) {
      Councilnet__RoundList *h = (Councilnet__RoundList *)util_get(&hood, "/v1/budget",
                                                                   &councilnet__round_list__descriptor);
      /* a ballot for project 1 (the playground) is accepted only once the list is in */
      Councilnet__BudgetBallot b;
      uint32_t both[2] = { 0, 1 };
      if (h)
        councilnet__round_list__free_unpacked(h, NULL);
      ballot_init(&b, hood.pk, round, both, 2);
      seen = util_act(&hood, "budget_ballot", &b, msk[0], NULL) == CN_OK;
      if (!seen)
        util_sleep_ms(20);
    }
    CHECK(seen);
  }
  for (int i = 1; i < ROLL; i++) {
    Councilnet__BudgetBallot b;
    uint32_t play = 1;
    ballot_init(&b, hood.pk, round, &play, 1);
    CHECK_EQ_INT(util_act(&hood, "budget_ballot", &b, msk[i], NULL), CN_OK);
  }
  /* The hood's own key is a member of the district, as a council: its
   * voters count through its budget mandate, so its ballot is refused. */
  {
    Councilnet__BudgetBallot b;
    uint8_t hsk[CN_SK_BYTES];
    uint32_t play = 1;
    REQUIRE(tnode_secret_key(&hood, hsk) == 0);
    ballot_init(&b, dist.pk, round, &play, 1);
    CHECK_EQ_INT(util_act(&dist, "budget_ballot", &b, hsk, NULL), CN_ERR_FORBIDDEN);
  }
  tnode_set_clock(&hood, T0 + 100);
  tnode_set_clock(&dist, T0 + 100);
  lc.n = &dist;
  lc.want = 3;                  /* lights, playground, long */
  lc.allocated = 1;
  REQUIRE(util_wait(round_listed, &lc, 10000) == 0);
  rl = (Councilnet__RoundList *)util_get(&dist, "/v1/budget", &councilnet__round_list__descriptor);
  REQUIRE(rl && rl->n_rounds == 1 && rl->rounds[0]->allocation);
  {
    Councilnet__BudgetAllocation *al = rl->rounds[0]->allocation;
    CHECK_STR(al->projects[1]->id, "playground");
    CHECK_EQ_INT(al->projects[1]->votes, 5);
    CHECK(al->projects[1]->selected);
    CHECK_EQ_INT(al->projects[0]->votes, 1);
    printf("proposed through a mandate: playground (400) votes %llu %s; lights votes %llu %s\n",
           (unsigned long long)al->projects[1]->votes, al->projects[1]->selected ? "selected" : "not",
           (unsigned long long)al->projects[0]->votes, al->projects[0]->selected ? "selected" : "not");
  }
done:
  if (d)
    councilnet__decision__free_unpacked(d, NULL);
  if (rl)
    councilnet__round_list__free_unpacked(rl, NULL);
  if (started) {
    if (hood.pid)
      CHECK(tnode_destroy(&hood) == 0);
    CHECK(tnode_destroy(&dist) == 0);
  }
  return test_finish("test_budget_propose");
}
