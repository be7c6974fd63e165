/* test_federation.c: a three-level federation of real councild processes on
 * 127.0.0.1 (a city, two districts, four neighborhoods). Neighborhoods
 * decide, elect delegates by vote and mandate them; districts weigh their
 * neighborhoods' mandates by the people each speaks for, draw their city
 * delegate by lot from the neighborhood delegates and mandate them; the
 * city decision is the weighted sum, checked number by number. Then the
 * refusals at the parent (mandate violation, altered mandate) and a recall
 * from a neighborhood that voids the credential at every level above,
 * with the time it took. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "councilnet/record.h"
#include "test.h"
#include "util.h"

#define T0 1900000000ULL
#define NB 4
#define TRAM 0
#define BUS 1

static tnode_t city, dist[2], hood[NB];
static const int roll_of[NB] = { 3, 5, 4, 6 };
/* Tram votes per neighborhood: N1 2/3 tram, N2 1/5, N3 3/4, N4 4/6. */
static const int tram_of[NB] = { 2, 1, 3, 4 };
static uint8_t msk[NB][6][CN_SK_BYTES], mpk[NB][6][CN_PK_BYTES];
static char *options[2] = { "Tram line", "Bus lanes" };

static void set_all_clocks(uint64_t t)
{
  tnode_set_clock(&city, t);
  for (int i = 0; i < 2; i++)
    tnode_set_clock(&dist[i], t);
  for (int i = 0; i < NB; i++)
    tnode_set_clock(&hood[i], t);
}

static tnode_t *parent_of(int h)
{
  return &dist[h / 2];
}

static void choice_proposal(Councilnet__Proposal *p, Councilnet__Rule *r, const char *title,
                            uint64_t closes, int weighted)
{
  councilnet__proposal__init(p);
  councilnet__rule__init(r);
  p->title = (char *)title;
  p->option_kind = COUNCILNET__OPTION_KIND__ONE_OF_N;
  p->options = options;
  p->n_options = 2;
  p->opens = T0;
  p->closes = closes;
  p->rule = r;
  r->threshold = COUNCILNET__THRESHOLD__PLURALITY;
  r->weight_by_roll = weighted;
}

/* Mandate DELEGATE (credential CRED at N) to cast CHOICE on each of the
 * parent's N_PIDS proposals PARENT_PIDS, citing N's decision on LOCAL_PID;
 * OUT gets the mandate id. Return 0, the node's code when it refuses the
 * draft, or -1. */
static int mandate_on(tnode_t *n, const uint8_t cred[CN_HASH_BYTES],
                      const uint8_t delegate[CN_PK_BYTES], const uint8_t parent_pk[CN_PK_BYTES],
                      const uint8_t local_pid[CN_HASH_BYTES],
                      const uint8_t (*parent_pids)[CN_HASH_BYTES], size_t n_pids, uint32_t choice,
                      uint8_t out[CN_HASH_BYTES])
{
  Councilnet__Mandate m = COUNCILNET__MANDATE__INIT;
  Councilnet__Instruction in[4], *ins[4];
  Councilnet__MandateList *ml;
  int found = -1, code;

  if (n_pids == 0 || n_pids > 4)
    return -1;
  for (size_t i = 0; i < n_pids; i++) {
    councilnet__instruction__init(&in[i]);
    in[i].decision.data = (uint8_t *)local_pid;
    in[i].decision.len = CN_HASH_BYTES;
    in[i].parent_proposal.data = (uint8_t *)parent_pids[i];
    in[i].parent_proposal.len = CN_HASH_BYTES;
    in[i].binding = 1;
    in[i].choices = &choice;
    in[i].n_choices = 1;
    ins[i] = &in[i];
  }

  m.node.data = n->pk;
  m.node.len = CN_PK_BYTES;
  m.created = n->now;
  m.credential.data = (uint8_t *)cred;
  m.credential.len = CN_HASH_BYTES;
  m.delegate.data = (uint8_t *)delegate;
  m.delegate.len = CN_PK_BYTES;
  m.parent.data = (uint8_t *)parent_pk;
  m.parent.len = CN_PK_BYTES;
  m.instructions = ins;
  m.n_instructions = n_pids;
  if ((code = util_act(n, "mandate_draft", &m, n->convener_sk, NULL)) != CN_OK)
    return code;
  ml = (Councilnet__MandateList *)util_get(n, "/v1/mandates", &councilnet__mandate_list__descriptor);
  for (size_t i = 0; ml && i < ml->n_mandates; i++)
    if (memcmp(ml->mandates[i]->mandate->credential.data, cred, CN_HASH_BYTES) == 0) {
      memcpy(out, ml->mandates[i]->id.data, CN_HASH_BYTES);
      found = 0;
    }
  if (ml)
    councilnet__mandate_list__free_unpacked(ml, NULL);
  return found;
}

/* The same, on one parent proposal. */
static int mandate(tnode_t *n, const uint8_t cred[CN_HASH_BYTES], const uint8_t delegate[CN_PK_BYTES],
                   const uint8_t parent_pk[CN_PK_BYTES], const uint8_t local_pid[CN_HASH_BYTES],
                   const uint8_t parent_pid[CN_HASH_BYTES], uint32_t choice, uint8_t out[CN_HASH_BYTES])
{
  return mandate_on(n, cred, delegate, parent_pk, local_pid,
                    (const uint8_t (*)[CN_HASH_BYTES])parent_pid, 1, choice, out);
}

/* Does N follow its parent's proposal ID (wait up to 4 s)? */
static int follows(tnode_t *n, const uint8_t id[CN_HASH_BYTES])
{
  int followed = 0;
  for (int k = 0; k < 200 && !followed; k++) {
    Councilnet__ProposalList *pl = (Councilnet__ProposalList *)util_get(
      n, "/v1/parent/proposals", &councilnet__proposal_list__descriptor);
    for (size_t j = 0; pl && j < pl->n_proposals; j++)
      followed |= memcmp(pl->proposals[j]->id.data, id, CN_HASH_BYTES) == 0;
    if (pl)
      councilnet__proposal_list__free_unpacked(pl, NULL);
    if (!followed)
      util_sleep_ms(20);
  }
  return followed;
}

/* The delegate countersigns mandate MID bound to credential CRED at N.
 * CREATED_BUMP makes a fresh countersignature. Return the API code. */
static int deliver(tnode_t *n, const uint8_t sk[CN_SK_BYTES], const uint8_t mid[CN_HASH_BYTES],
                   const uint8_t cred[CN_HASH_BYTES], uint64_t created_bump, tnode_t *post_to,
                   int tamper)
{
  Councilnet__Delivery d = COUNCILNET__DELIVERY__INIT;
  uint8_t *menv = NULL, *cenv = NULL;
  size_t mlen = 0, clen = 0;
  int code = -1;

  if (util_get_record(n, mid, &menv, &mlen) != 0 || util_get_record(n, cred, &cenv, &clen) != 0)
    goto out;
  if (tamper)
    menv[mlen - CN_SIG_BYTES - 40] ^= 0x01;   /* inside the signed body */
  d.node.data = n->pk;
  d.node.len = CN_PK_BYTES;
  d.created = n->now + created_bump;
  d.mandate.data = menv;
  d.mandate.len = mlen;
  d.credential.data = cenv;
  d.credential.len = clen;
  code = util_act(post_to ? post_to : n, "delivery", &d, sk, NULL);
out:
  free(menv);
  free(cenv);
  return code;
}

typedef struct wait_ctx_t {
  tnode_t *n;
  const uint8_t *key;
  int want_recalled;
} wait_ctx_t;

static int has_credential(void *ctx)
{
  wait_ctx_t *w = ctx;
  uint8_t id[CN_HASH_BYTES];
  int recalled = 0;
  return util_credential_of(w->n, w->key, id, &recalled) == 0 && recalled == w->want_recalled;
}

static int outbox_empty(void *ctx)
{
  return util_outbox(ctx) == 0;
}

static double now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

int main(void)
{
  Councilnet__Proposal p;
  Councilnet__Rule r;
  Councilnet__Decision *d = NULL;
  uint8_t pc[CN_HASH_BYTES], pc2[CN_HASH_BYTES], pd[2][CN_HASH_BYTES], pn[NB][CN_HASH_BYTES];
  uint8_t sn[NB][CN_HASH_BYTES], sd[2][CN_HASH_BYTES];
  uint8_t ncred[NB][CN_HASH_BYTES], dcred[2][CN_HASH_BYTES], dmand[2][CN_HASH_BYTES];
  uint8_t nmand[NB][CN_HASH_BYTES];
  int dwinner[2] = { -1, -1 };       /* which neighborhood's delegate each district drew */
  int started = 0, nwin[NB];

  cn_crypto_init();
  /* ---- start: city, districts (children of the city), neighborhoods ---- */
  REQUIRE(tnode_start(&city, "City council", T0) == 0);
  started = 1;
  for (int i = 0; i < 2; i++) {
    REQUIRE(tnode_start_child(&dist[i], i ? "District East" : "District West", T0, &city) == 0);
    REQUIRE(util_admit_council(&city, dist[i].pk, i ? "District East" : "District West") == CN_OK);
  }
  for (int h = 0; h < NB; h++) {
    char name[32];
    snprintf(name, sizeof name, "Neighborhood %d", h + 1);
    REQUIRE(tnode_start_child(&hood[h], name, T0, parent_of(h)) == 0);
    REQUIRE(util_settings_open(&hood[h]) == CN_OK);
    REQUIRE(util_admit_council(parent_of(h), hood[h].pk, name) == CN_OK);
    for (int m = 0; m < roll_of[h]; m++) {
      cn_crypto_keypair(mpk[h][m], msk[h][m]);
      REQUIRE(util_admit(&hood[h], mpk[h][m], "member") == CN_OK);
    }
  }

  /* ---- the agendas: city, then each district, then each neighborhood ---- */
  choice_proposal(&p, &r, "Tram or bus lanes for the city?", T0 + 1000, 1);
  REQUIRE(util_propose(&city, city.convener_sk, &p, pc) == CN_OK);
  choice_proposal(&p, &r, "Second question (stays open)", T0 + 5000, 1);
  REQUIRE(util_propose(&city, city.convener_sk, &p, pc2) == CN_OK);
  for (int i = 0; i < 2; i++) {
    choice_proposal(&p, &r, "How should the district vote on tram or bus?", T0 + 500, 1);
    REQUIRE(util_propose(&dist[i], dist[i].convener_sk, &p, pd[i]) == CN_OK);
  }
  for (int h = 0; h < NB; h++) {
    Councilnet__Selection sel = COUNCILNET__SELECTION__INIT;
    ProtobufCBinaryData cands[2] = { { CN_PK_BYTES, mpk[h][0] }, { CN_PK_BYTES, mpk[h][1] } };
    char *names[2] = { "First", "Second" };
    choice_proposal(&p, &r, "Tram or bus?", T0 + 100, 0);
    REQUIRE(util_propose(&hood[h], msk[h][0], &p, pn[h]) == CN_OK);
    choice_proposal(&p, &r, "Delegate to the district", T0 + 100, 0);
    p.options = names;
    p.selection = &sel;
    sel.method = COUNCILNET__SELECTION_METHOD__BY_VOTE;
    sel.seats = 1;
    sel.candidates = cands;
    sel.n_candidates = 2;
    sel.parent.data = parent_of(h)->pk;
    sel.parent.len = CN_PK_BYTES;
    sel.term_start = T0 + 100;
    sel.term_end = T0 + 100000;
    REQUIRE(util_propose(&hood[h], msk[h][0], &p, sn[h]) == CN_OK);
    for (int m = 0; m < roll_of[h]; m++) {
      CHECK_EQ_INT(util_vote(&hood[h], msk[h][m], pn[h], m < tram_of[h] ? TRAM : BUS), CN_OK);
      CHECK_EQ_INT(util_vote(&hood[h], msk[h][m], sn[h], 0), CN_OK);
    }
  }
  /* Children follow their parent's log: the district's question reaches them. */
  {
    Councilnet__ProposalList *pl = NULL;
    for (int i = 0; i < 200; i++) {
      pl = (Councilnet__ProposalList *)util_get(&hood[0], "/v1/parent/proposals",
                                                &councilnet__proposal_list__descriptor);
      if (pl && pl->n_proposals == 1)
        break;
      if (pl)
        councilnet__proposal_list__free_unpacked(pl, NULL);
      pl = NULL;
      util_sleep_ms(20);
    }
    REQUIRE(pl && pl->n_proposals == 1);
    CHECK(memcmp(pl->proposals[0]->id.data, pd[0], CN_HASH_BYTES) == 0);
    councilnet__proposal_list__free_unpacked(pl, NULL);
  }

  /* ---- neighborhoods close: decisions, delegates, mandates, deliveries ---- */
  set_all_clocks(T0 + 100);
  for (int h = 0; h < NB; h++) {
    wait_ctx_t w = { parent_of(h), mpk[h][0], 0 };
    d = util_wait_decision(&hood[h], pn[h], 10000);
    REQUIRE(d);
    CHECK_EQ_INT(d->counts[TRAM], tram_of[h]);
    CHECK_EQ_INT(d->counts[BUS], roll_of[h] - tram_of[h]);
    nwin[h] = d->winner;
    CHECK(nwin[h] == (tram_of[h] * 2 > roll_of[h] ? TRAM : BUS));
    councilnet__decision__free_unpacked(d, NULL);
    d = NULL;
    REQUIRE(util_credential_of(&hood[h], mpk[h][0], ncred[h], NULL) == 0);
    /* the credential reaches the district through the outbox */
    REQUIRE(util_wait(has_credential, &w, 10000) == 0);
    REQUIRE(mandate(&hood[h], ncred[h], mpk[h][0], parent_of(h)->pk, pn[h], pd[h / 2],
                    (uint32_t)nwin[h], nmand[h]) == 0);
    CHECK_EQ_INT(deliver(&hood[h], msk[h][0], nmand[h], ncred[h], 0, NULL, 0), CN_OK);
  }
  for (int i = 0; i < 2; i++) {
    util_ballots_t b = { &dist[i], pd[i], 2 };
    REQUIRE(util_wait(util_ballots_ready, &b, 10000) == 0);
  }

  /* ---- a neighborhood's delegate answers to that neighborhood alone ---- */
  {
    Councilnet__RecallVote rv = COUNCILNET__RECALL_VOTE__INIT;
    uint8_t ssk[CN_SK_BYTES], mid[CN_HASH_BYTES], id[CN_HASH_BYTES];
    int recalled = -1;
    /* Neighborhood 2, a sibling council: a member of the district */
    REQUIRE(tnode_secret_key(&hood[1], ssk) == 0);
    /* It cannot claim more people than there are: weights are summed, and
     * a claim near 2^63 made every weighted close here fail. */
    {
      Councilnet__RollUpdate u = COUNCILNET__ROLL_UPDATE__INIT;
      u.node.data = hood[1].pk;
      u.node.len = CN_PK_BYTES;
      u.created = dist[0].now;
      u.roll = UINT64_C(10000000001);
      u.serial = 999;
      CHECK_EQ_INT(util_act(&dist[0], "roll", &u, ssk, NULL), CN_ERR_INVALID);
    }
    rv.node.data = dist[0].pk;
    rv.node.len = CN_PK_BYTES;
    rv.created = dist[0].now;
    rv.credential.data = ncred[0];
    rv.credential.len = CN_HASH_BYTES;
    CHECK_EQ_INT(util_act(&dist[0], "recall_vote", &rv, ssk, NULL), CN_ERR_WRONG_NODE);
    /* nor does the district's convener instruct that delegate */
    CHECK_EQ_INT(mandate(&dist[0], ncred[0], mpk[0][0], dist[0].pk, pd[0], pd[0], 0, mid),
                 CN_ERR_WRONG_NODE);
    /* A mandate presented once cannot be presented again with a fresh
     * countersignature: replayed, it would override a newer mandate. */
    CHECK_EQ_INT(deliver(&hood[0], msk[0][0], nmand[0], ncred[0], 3, parent_of(0), 0),
                 CN_ERR_DUPLICATE);
    REQUIRE(util_credential_of(&dist[0], mpk[0][0], id, &recalled) == 0);
    CHECK(!recalled);
  }

  /* ---- a delivery sent before the district opens the question is not
   * final: TOO_EARLY, which the child's outbox retries (it was
   * WINDOW_CLOSED, set aside for good), and taken once it opens ---- */
  {
    uint8_t q[3][CN_HASH_BYTES], mid[CN_HASH_BYTES];
    /* q[0] opens at T0 + 150, q[1] within the hour after, q[2] later */
    static const uint64_t opens[3] = { T0 + 150, T0 + 150 + 1800, T0 + 150 + 7200 };
    for (int k = 0; k < 3; k++) {
      choice_proposal(&p, &r, k == 0 ? "Night buses too?" : k == 1 ? "Bike lanes?" : "Ferry?",
                      T0 + 20000, 1);
      p.opens = opens[k];
      REQUIRE(util_propose(&dist[0], dist[0].convener_sk, &p, q[k]) == CN_OK);
      REQUIRE(follows(&hood[0], q[k]));
    }
    REQUIRE(mandate(&hood[0], ncred[0], mpk[0][0], dist[0].pk, pn[0], q[0], (uint32_t)nwin[0],
                    mid) == 0);
    CHECK_EQ_INT(deliver(&hood[0], msk[0][0], mid, ncred[0], 4, &dist[0], 0), CN_ERR_TOO_EARLY);
    CHECK(util_ballots_are(&dist[0], q[0], 0));
    REQUIRE(tnode_set_clock(&dist[0], T0 + 150) == 0);
    CHECK_EQ_INT(deliver(&hood[0], msk[0][0], mid, ncred[0], 5, &dist[0], 0), CN_OK);
    CHECK(util_ballots_are(&dist[0], q[0], 1));
    /* Opening in two hours: not retried (the outbox would hold everything
     * behind it that long): WINDOW_CLOSED, saying when it opens. */
    REQUIRE(mandate(&hood[0], ncred[0], mpk[0][0], dist[0].pk, pn[0], q[2], (uint32_t)nwin[0],
                    mid) == 0);
    CHECK_EQ_INT(deliver(&hood[0], msk[0][0], mid, ncred[0], 6, &dist[0], 0),
                 CN_ERR_WINDOW_CLOSED);
    /* One instruction within the hour, one for good: the final refusal,
     * not TOO_EARLY (retried, only to be set aside later). */
    REQUIRE(mandate_on(&hood[0], ncred[0], mpk[0][0], dist[0].pk, pn[0],
                       (const uint8_t (*)[CN_HASH_BYTES])q[1], 2, (uint32_t)nwin[0], mid) == 0);
    CHECK_EQ_INT(deliver(&hood[0], msk[0][0], mid, ncred[0], 7, &dist[0], 0),
                 CN_ERR_WINDOW_CLOSED);
    CHECK(util_ballots_are(&dist[0], q[1], 0));
  }

  /* ---- districts draw their city delegate by lot among the neighborhood
   * delegates, then close ---- */
  for (int i = 0; i < 2; i++) {
    Councilnet__Selection sel = COUNCILNET__SELECTION__INIT;
    Councilnet__Volunteer v = COUNCILNET__VOLUNTEER__INIT;
    councilnet__proposal__init(&p);
    p.title = "Delegate to the city, by lot";
    p.opens = T0 + 100;
    p.closes = T0 + 500;
    p.selection = &sel;
    sel.method = COUNCILNET__SELECTION_METHOD__BY_LOT;
    sel.seats = 1;
    sel.parent.data = city.pk;
    sel.parent.len = CN_PK_BYTES;
    sel.term_start = T0 + 500;
    sel.term_end = T0 + 100000;
    REQUIRE(util_propose(&dist[i], dist[i].convener_sk, &p, sd[i]) == CN_OK);
    v.node.data = dist[i].pk;
    v.node.len = CN_PK_BYTES;
    v.created = dist[i].now;
    v.proposal.data = sd[i];
    v.proposal.len = CN_HASH_BYTES;
    for (int h = 2 * i; h < 2 * i + 2; h++)
      CHECK_EQ_INT(util_act(&dist[i], "volunteer", &v, msk[h][0], NULL), CN_OK);
  }
  /* A neighborhood cannot mandate its delegate on the district's lot: a
   * lot takes volunteers, not ballots (the district would pass the
   * instruction over), so the draft is refused once the lot is followed. */
  {
    uint8_t mid[CN_HASH_BYTES];
    int followed = 0;
    for (int k = 0; k < 200 && !followed; k++) {
      Councilnet__ProposalList *pl = (Councilnet__ProposalList *)util_get(
        &hood[0], "/v1/parent/proposals", &councilnet__proposal_list__descriptor);
      for (size_t j = 0; pl && j < pl->n_proposals; j++)
        followed |= memcmp(pl->proposals[j]->id.data, sd[0], CN_HASH_BYTES) == 0;
      if (pl)
        councilnet__proposal_list__free_unpacked(pl, NULL);
      if (!followed)
        util_sleep_ms(20);
    }
    REQUIRE(followed);
    CHECK_EQ_INT(mandate(&hood[0], ncred[0], mpk[0][0], dist[0].pk, pn[0], sd[0], 0, mid),
                 CN_ERR_INVALID);
  }
  set_all_clocks(T0 + 500);
  for (int i = 0; i < 2; i++) {
    uint64_t tram = 0, bus = 0;
    wait_ctx_t w;
    for (int h = 2 * i; h < 2 * i + 2; h++)
      *(nwin[h] == TRAM ? &tram : &bus) += (uint64_t)roll_of[h];
    d = util_wait_decision(&dist[i], pd[i], 10000);
    REQUIRE(d);
    /* the district's decision is the weighted sum of its neighborhoods' mandates */
    CHECK_EQ_INT(d->counts[TRAM], tram);
    CHECK_EQ_INT(d->counts[BUS], bus);
    CHECK_EQ_INT(d->n_contributions, 2);
    for (size_t c = 0; c < d->n_contributions; c++) {
      int h = memcmp(d->contributions[c]->member.data, hood[2 * i].pk, CN_PK_BYTES) == 0 ? 2 * i : 2 * i + 1;
      CHECK_EQ_INT(d->contributions[c]->weight, roll_of[h]);
      CHECK_EQ_INT(d->contributions[c]->choices[0], nwin[h]);
    }
    CHECK_EQ_INT(d->roll, (uint64_t)(roll_of[2 * i] + roll_of[2 * i + 1]));
    dwinner[i] = d->winner;
    councilnet__decision__free_unpacked(d, NULL);
    d = NULL;
    d = util_wait_decision(&dist[i], sd[i], 10000);
    REQUIRE(d && d->n_selected == 1);
    {
      int h = memcmp(d->selected[0].data, mpk[2 * i][0], CN_PK_BYTES) == 0 ? 2 * i : 2 * i + 1;
      uint8_t *dk = mpk[h][0];
      councilnet__decision__free_unpacked(d, NULL);
      d = NULL;
      REQUIRE(util_credential_of(&dist[i], dk, dcred[i], NULL) == 0);
      w.n = &city;
      w.key = dk;
      w.want_recalled = 0;
      REQUIRE(util_wait(has_credential, &w, 10000) == 0);
      REQUIRE(mandate(&dist[i], dcred[i], dk, city.pk, pd[i], pc, (uint32_t)dwinner[i], dmand[i]) == 0);
      /* An altered mandate, presented straight to the city, is refused there. */
      CHECK_EQ_INT(deliver(&dist[i], msk[h][0], dmand[i], dcred[i], 1, &city, 1), CN_ERR_BAD_SIGNATURE);
      CHECK_EQ_INT(deliver(&dist[i], msk[h][0], dmand[i], dcred[i], 0, NULL, 0), CN_OK);
      /* The delegate voting against the binding instruction at the city. */
      {
        Councilnet__DelegateBallot db = COUNCILNET__DELEGATE_BALLOT__INIT;
        uint32_t other = (uint32_t)(1 - dwinner[i]);
        db.node.data = city.pk;
        db.node.len = CN_PK_BYTES;
        db.created = city.now;
        db.proposal.data = pc;
        db.proposal.len = CN_HASH_BYTES;
        db.choices = &other;
        db.n_choices = 1;
        db.credential.data = dcred[i];
        db.credential.len = CN_HASH_BYTES;
        /* the delivery may still be on its way: wait for the credential's mandate */
        {
          util_ballots_t b = { &city, pc, (uint64_t)(i + 1) };
          REQUIRE(util_wait(util_ballots_ready, &b, 10000) == 0);
        }
        CHECK_EQ_INT(util_act(&city, "delegate_ballot", &db, msk[h][0], NULL), CN_ERR_MANDATE_VIOLATION);
        db.proposal.data = pc2;
        CHECK_EQ_INT(util_act(&city, "delegate_ballot", &db, msk[h][0], NULL), CN_ERR_MANDATE_VIOLATION);
      }
      dwinner[i] = dwinner[i] * 100 + h;    /* remember whose delegate went up */
    }
  }

  /* ---- the city decides: the sum of the districts, each weighing the
   * people it speaks for ---- */
  set_all_clocks(T0 + 1000);
  d = util_wait_decision(&city, pc, 10000);
  REQUIRE(d);
  {
    uint64_t want[2] = { 0, 0 };
    for (int i = 0; i < 2; i++)
      want[dwinner[i] / 100] += (uint64_t)(roll_of[2 * i] + roll_of[2 * i + 1]);
    CHECK_EQ_INT(d->counts[TRAM], want[TRAM]);
    CHECK_EQ_INT(d->counts[BUS], want[BUS]);
    CHECK_EQ_INT(d->roll, 18);
    CHECK_EQ_INT(d->n_contributions, 2);
    fprintf(stderr, "city decision: tram %llu, bus %llu (districts: west %s weight 8, east %s weight 10)\n",
            (unsigned long long)d->counts[TRAM], (unsigned long long)d->counts[BUS],
            dwinner[0] / 100 == TRAM ? "tram" : "bus", dwinner[1] / 100 == TRAM ? "tram" : "bus");
  }
  /* with the numbers of this test: west 3 tram + 5 bus -> bus (8); east 10 tram -> tram (10) */
  CHECK_EQ_INT(d->counts[TRAM], 10);
  CHECK_EQ_INT(d->counts[BUS], 8);
  CHECK_EQ_INT(d->winner, TRAM);
  councilnet__decision__free_unpacked(d, NULL);
  d = NULL;

  /* ---- recall: the west district's city delegate is recalled by their
   * own neighborhood; the credential must fall at the district and at the
   * city ---- */
  {
    int h = dwinner[0] % 100, need = roll_of[h] / 2 + 1, recalled = 0;
    Councilnet__RecallVote rv = COUNCILNET__RECALL_VOTE__INIT;
    wait_ctx_t w = { &city, mpk[h][0], 1 };
    uint8_t id[CN_HASH_BYTES];
    double t0, t1;
    rv.node.data = hood[h].pk;
    rv.node.len = CN_PK_BYTES;
    rv.created = hood[h].now;
    rv.credential.data = ncred[h];
    rv.credential.len = CN_HASH_BYTES;
    for (int m = 1; m < need; m++)
      CHECK_EQ_INT(util_act(&hood[h], "recall_vote", &rv, msk[h][m], NULL), CN_OK);
    REQUIRE(util_credential_of(&city, mpk[h][0], id, &recalled) == 0);
    CHECK(!recalled);
    t0 = now_ms();
    CHECK_EQ_INT(util_act(&hood[h], "recall_vote", &rv, msk[h][need], NULL), CN_OK);
    REQUIRE(util_wait(has_credential, &w, 10000) == 0);
    t1 = now_ms();
    printf("recall propagation: threshold crossed at the neighborhood -> credential void at the"
           " city: %.1f ms\n", t1 - t0);
    w.n = &dist[0];
    CHECK(util_wait(has_credential, &w, 1000) == 0);
    /* Every later act under it is refused, at every level. */
    CHECK_EQ_INT(deliver(&hood[h], msk[h][0], nmand[h], ncred[h], 7, NULL, 0), CN_ERR_CREDENTIAL_REVOKED);
    CHECK_EQ_INT(deliver(&dist[0], msk[h][0], dmand[0], dcred[0], 7, NULL, 0), CN_ERR_CREDENTIAL_REVOKED);
    {
      Councilnet__DelegateBallot db = COUNCILNET__DELEGATE_BALLOT__INIT;
      uint32_t c = 0;
      db.node.data = city.pk;
      db.node.len = CN_PK_BYTES;
      db.created = city.now + 9;
      db.proposal.data = pc2;
      db.proposal.len = CN_HASH_BYTES;
      db.choices = &c;
      db.n_choices = 1;
      db.credential.data = dcred[0];
      db.credential.len = CN_HASH_BYTES;
      CHECK_EQ_INT(util_act(&city, "delegate_ballot", &db, msk[h][0], NULL), CN_ERR_CREDENTIAL_REVOKED);
    }
  }
  /* Nothing is left waiting anywhere. */
  for (int i = 0; i < 2; i++)
    CHECK(util_wait(outbox_empty, &dist[i], 5000) == 0);
  for (int h = 0; h < NB; h++)
    CHECK(util_wait(outbox_empty, &hood[h], 5000) == 0);

done:
  if (d)
    councilnet__decision__free_unpacked(d, NULL);
  if (started) {
    for (int h = 0; h < NB; h++)
      if (hood[h].pid)
        CHECK(tnode_destroy(&hood[h]) == 0);
    for (int i = 0; i < 2; i++)
      if (dist[i].pid)
        CHECK(tnode_destroy(&dist[i]) == 0);
    CHECK(tnode_destroy(&city) == 0);
  }
  return test_finish("test_federation");
}
