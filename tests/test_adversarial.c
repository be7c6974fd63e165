/* test_adversarial.c: the adversarial corpus of tests/adversarial/index.txt
 * against a real councild on 127.0.0.1: forged, replayed, re-encoded and
 * misaddressed records, weak signatures and keys, acts under recalled
 * credentials, and a lying or impersonated child council. Each case must
 * be refused with the code the index names and leave the log unchanged;
 * the controls at the end must be accepted.
 *
 * The index is the committed part; the bytes are made here, the same on
 * every run: every key (the nodes' own included: the freshly made node.key
 * is replaced by a fixed one before the node has logged anything) comes
 * from a fixed seed, and the node's clock is set. CN_WRITE_CORPUS=1 writes
 * each case's bytes to tests/adversarial/generated/<file>. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "councilnet/record.h"
#include "test.h"
#include "util.h"

#define T0 1900000000ULL
#define T1 (T0 + 60)            /* after the first proposals closed */
#define MIN_CASES 50

enum {
  K_CONV, K_M0, K_M1, K_M2, K_M3, K_CLERK, K_STRANGER, K_CHILD, K_CD, K_CM, K_PARENT, K_OTHER,
  K_P, K_Q, NK
};
static uint8_t sk[NK][CN_SK_BYTES], pk[NK][CN_PK_BYTES];
static tnode_t P, Q;

typedef struct buf_t {
  uint8_t *d;
  size_t n;
} buf_t;

/* Setup state (see the index's header). */
static uint8_t id_p1[32], id_pfut[32], id_dpass[32], id_dfail[32], id_dopen[32], id_br[32];
static uint8_t cr1[32], cr2[32], cc1[32], cc2[32], x1[32], x2[32];
static buf_t env_cr1, env_cr2, env_md1, env_md2, env_md2b, env_cc1, env_cc2, env_cmd1;
static buf_t bb, q_ballot, q_member_add;
static buf_t bb_kind, bb_body, bb_signer, bb_sig;
static size_t kind_off, body_off, signer_off, sig_off;
static uint8_t known_mandates[8][32];
static size_t n_known_mandates;

static ProtobufCBinaryData bin(const uint8_t *p, size_t n)
{
  ProtobufCBinaryData b = { n, (uint8_t *)p };
  return b;
}

static void fill(uint8_t out[32], uint8_t v)
{
  memset(out, v, 32);
}

#define ADDR(m, k, t) do { (m).node = bin(pk[k], CN_PK_BYTES); (m).created = (t); } while (0)

/* ---- bytes ---- */

static int put(buf_t *b, const void *d, size_t n)
{
  uint8_t *nd = realloc(b->d, b->n + n + 1);
  if (!nd)
    return -1;
  b->d = nd;
  if (n)
    memcpy(b->d + b->n, d, n);
  b->n += n;
  return 0;
}

static int put_varint(buf_t *b, uint64_t v)
{
  uint8_t tmp[10];
  size_t n = 0;
  do {
    tmp[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
    v >>= 7;
  } while (v);
  return put(b, tmp, n);
}

static int put_field(buf_t *b, unsigned field, const void *d, size_t n)
{
  return put_varint(b, (uint64_t)field << 3 | 2) || put_varint(b, n) || put(b, d, n);
}

static int copy_of(buf_t *out, const buf_t *in)
{
  return put(out, in->d, in->n);
}

static void buf_free(buf_t *b)
{
  free(b->d);
  b->d = NULL;
  b->n = 0;
}

/* An Envelope written field by field, canonical order, default fields left
 * out: what protobuf-c would pack for the same values. */
static int env_manual(buf_t *out, uint32_t version, const void *kind, size_t klen, const void *body,
                      size_t blen, const void *signer, size_t slen, const void *sig, size_t siglen)
{
  if (version && (put_varint(out, 1 << 3) || put_varint(out, version)))
    return -1;
  if (klen && put_field(out, 2, kind, klen))
    return -1;
  if (blen && put_field(out, 3, body, blen))
    return -1;
  if (slen && put_field(out, 4, signer, slen))
    return -1;
  if (siglen && put_field(out, 5, sig, siglen))
    return -1;
  return 0;
}

static int seal_to(buf_t *out, const char *kind, const uint8_t *key, const ProtobufCMessage *m)
{
  uint8_t *env = NULL;
  size_t len = 0;
  int rc = cn_record_seal(kind, m, key, &env, &len);
  if (rc == 0)
    rc = put(out, env, len);
  free(env);
  return rc;
}

static int seal(buf_t *out, const char *kind, int k, const ProtobufCMessage *m)
{
  return seal_to(out, kind, sk[k], m);
}

/* ---- posting during setup ---- */

static int post_ok_to(tnode_t *n, const char *kind, const uint8_t *key, const ProtobufCMessage *m,
                      uint8_t id[32], buf_t *keep)
{
  buf_t b = { NULL, 0 };
  int code;

  if (seal_to(&b, kind, key, m) != 0)
    return -1;
  code = util_post(n, b.d, b.n, NULL);
  if (code != CN_OK)
    fprintf(stderr, "setup: %s refused: %s\n", kind, code >= 0 ? cn_err_name((cn_err)code) : "no answer");
  if (id)
    cn_crypto_hash(id, b.d, b.n);
  if (keep)
    *keep = b;
  else
    buf_free(&b);
  return code == CN_OK ? 0 : -1;
}

static int post_ok(const char *kind, int k, const ProtobufCMessage *m, uint8_t id[32], buf_t *keep)
{
  return post_ok_to(&P, kind, sk[k], m, id, keep);
}

/* Swap N's node key for key K while it is stopped and its log is empty. */
static int fix_node_key(tnode_t *n, int k)
{
  char path[400], err[256];

  if (tnode_kill(n, SIGTERM) != 0)
    return -1;
  snprintf(path, sizeof path, "%s/node.key", n->dir);
  if (unlink(path) != 0 || cn_keyfile_write(path, sk[k], NULL, err, sizeof err) != 0) {
    fprintf(stderr, "setup: %s: %s\n", path, err);
    return -1;
  }
  if (tnode_restart(n) != 0)
    return -1;
  memcpy(n->pk, pk[k], CN_PK_BYTES);
  return 0;
}

static int get_record(const uint8_t id[32], buf_t *out)
{
  uint8_t *env = NULL;
  size_t len = 0;
  int rc;

  if (util_get_record(&P, id, &env, &len) != 0)
    return -1;
  rc = put(out, env, len);
  free(env);
  return rc;
}

/* The id of the mandate the node made last (one of its own, not seen
 * before; the list also holds the child councils' delivered mandates). */
static int newest_mandate(uint8_t id[32])
{
  Councilnet__MandateList *ml =
    (Councilnet__MandateList *)util_get(&P, "/v1/mandates", &councilnet__mandate_list__descriptor);
  int rc = -1;

  for (size_t i = 0; ml && i < ml->n_mandates; i++) {
    int seen = 0;
    for (size_t j = 0; j < n_known_mandates; j++)
      seen |= memcmp(known_mandates[j], ml->mandates[i]->id.data, 32) == 0;
    const Councilnet__Mandate *m = ml->mandates[i]->mandate;
    if (!m || m->node.len != 32 || memcmp(m->node.data, pk[K_P], 32) != 0)
      continue;
    if (!seen && ml->mandates[i]->id.len == 32 && n_known_mandates < 8) {
      memcpy(id, ml->mandates[i]->id.data, 32);
      memcpy(known_mandates[n_known_mandates++], id, 32);
      rc = 0;
      break;
    }
  }
  if (ml)
    councilnet__mandate_list__free_unpacked(ml, NULL);
  return rc;
}

/* ---- record bodies ---- */

static void yesno(Councilnet__Proposal *p, Councilnet__Rule *r, const char *title, uint64_t opens,
                  uint64_t closes)
{
  councilnet__proposal__init(p);
  councilnet__rule__init(r);
  ADDR(*p, K_P, T0);
  p->title = (char *)title;
  p->opens = opens;
  p->closes = closes;
  p->rule = r;
}

static void ballot(Councilnet__Ballot *b, const uint8_t *proposal, uint32_t *choice, uint64_t t)
{
  councilnet__ballot__init(b);
  ADDR(*b, K_P, t);
  b->proposal = bin(proposal, 32);
  b->choices = choice;
  b->n_choices = 1;
}

static int vote(int k, const uint8_t *proposal, uint32_t choice)
{
  Councilnet__Ballot b;
  ballot(&b, proposal, &choice, T0);
  return post_ok("ballot", k, &b.base, NULL, NULL);
}

static void selection(Councilnet__Proposal *p, Councilnet__Rule *r, Councilnet__Selection *s,
                      ProtobufCBinaryData cands[2], char *names[2], int a, int b, uint64_t opens,
                      uint64_t closes, uint64_t term_start)
{
  yesno(p, r, "Delegate to the district", opens, closes);
  councilnet__selection__init(s);
  p->created = opens;
  p->option_kind = COUNCILNET__OPTION_KIND__ONE_OF_N;
  names[0] = "first";
  names[1] = "second";
  p->options = names;
  p->n_options = 2;
  r->threshold = COUNCILNET__THRESHOLD__PLURALITY;
  s->method = COUNCILNET__SELECTION_METHOD__BY_VOTE;
  s->seats = 1;
  cands[0] = bin(pk[a], 32);
  cands[1] = bin(pk[b], 32);
  s->candidates = cands;
  s->n_candidates = 2;
  s->parent = bin(pk[K_PARENT], 32);
  s->term_start = term_start;
  s->term_end = T0 + 1000000;
  p->selection = s;
}

/* A mandate under CRED for DELEGATE, one instruction citing DECISION. */
static void mandate(Councilnet__Mandate *m, Councilnet__Instruction *in, Councilnet__Instruction **ins,
                    int node, const uint8_t *cred, int delegate, int parent, const uint8_t *decision,
                    const uint8_t *parent_proposal, uint32_t *choice)
{
  councilnet__mandate__init(m);
  councilnet__instruction__init(in);
  ADDR(*m, node, T1);
  m->credential = bin(cred, 32);
  m->delegate = bin(pk[delegate], 32);
  m->parent = bin(pk[parent], 32);
  in->decision = bin(decision, 32);
  if (parent_proposal) {
    in->parent_proposal = bin(parent_proposal, 32);
    in->binding = 1;
    in->choices = choice;
    in->n_choices = 1;
  } else {
    in->position = "Keep the library open on Sundays";
  }
  ins[0] = in;
  m->instructions = ins;
  m->n_instructions = 1;
}

static int delivery_env(buf_t *out, int signer, int node, uint64_t t, const buf_t *mand, const buf_t *cred)
{
  Councilnet__Delivery d = COUNCILNET__DELIVERY__INIT;
  ADDR(d, node, t);
  d.mandate = bin(mand->d, mand->n);
  d.credential = bin(cred->d, cred->n);
  return seal(out, "delivery", signer, &d.base);
}

/* CHILD's credential for DELEGATE at PARENT (the envelope, not posted). */
static int child_credential(buf_t *out, int delegate, int parent, uint8_t sel, uint8_t id[32])
{
  Councilnet__Credential c = COUNCILNET__CREDENTIAL__INIT;
  uint8_t s[32];
  fill(s, sel);
  ADDR(c, K_CHILD, T0);
  c.delegate = bin(pk[delegate], 32);
  c.parent = bin(pk[parent], 32);
  c.term_start = T0;
  c.term_end = T0 + 1000000;
  c.selection = bin(s, 32);
  c.term = 1;
  if (seal(out, "credential", K_CHILD, &c.base) != 0)
    return -1;
  cn_crypto_hash(id, out->d, out->n);
  return 0;
}

/* CHILD's mandate (signed by SIGNER) under CRED for DELEGATE, binding yes on P1. */
static int child_mandate(buf_t *out, int signer, const uint8_t *cred, int delegate, int parent,
                         const uint8_t *decision)
{
  Councilnet__Mandate m;
  Councilnet__Instruction in, *ins[1];
  uint32_t yes = 0;
  mandate(&m, &in, ins, K_CHILD, cred, delegate, parent, decision, id_p1, &yes);
  return seal(out, "mandate", signer, &m.base);
}

static int child_decision(const uint8_t *proposal, int passed)
{
  Councilnet__Decision d = COUNCILNET__DECISION__INIT;
  uint64_t counts[3] = { 4, 1, 0 };
  ADDR(d, K_CHILD, T0);
  d.proposal = bin(proposal, 32);
  d.counts = counts;
  d.n_counts = 3;
  d.ballots = 5;
  d.roll = 2;
  d.passed = passed;
  d.threshold_held = passed;
  d.turnout_held = 1;
  return post_ok("decision", K_CHILD, &d.base, NULL, NULL);
}

/* ---- setup ---- */

static int setup_members(tnode_t *n)
{
  Councilnet__RoleSet r = COUNCILNET__ROLE_SET__INIT;
  ADDR(r, n == &P ? K_P : K_Q, T0);
  r.key = bin(pk[K_CONV], 32);
  r.convener = 1;
  if (post_ok_to(n, "role_set", n->convener_sk, &r.base, NULL, NULL) != 0)
    return -1;
  if (n == &P) {
    const int ms[5] = { K_M0, K_M1, K_M2, K_M3, K_CHILD };
    for (int i = 0; i < 5; i++) {
      Councilnet__MemberAdd m = COUNCILNET__MEMBER_ADD__INIT;
      char *renters = "renters";
      ADDR(m, K_P, T0);
      m.member = bin(pk[ms[i]], 32);
      m.name = ms[i] == K_CHILD ? "Child council" : "member";
      m.council = ms[i] == K_CHILD;
      m.groups = i == 0 ? &renters : NULL;
      m.n_groups = i == 0;
      if (post_ok("member_add", K_CONV, &m.base, NULL, NULL) != 0)
        return -1;
    }
    councilnet__role_set__init(&r);
    ADDR(r, K_P, T0);
    r.key = bin(pk[K_CLERK], 32);
    r.clerk = 1;
    return post_ok("role_set", K_CONV, &r.base, NULL, NULL);
  }
  return 0;
}

static int setup_proposals(void)
{
  Councilnet__Proposal p;
  Councilnet__Rule r;
  Councilnet__Selection s;
  ProtobufCBinaryData cands[2];
  char *names[2];
  Councilnet__BudgetRound br = COUNCILNET__BUDGET_ROUND__INIT;
  Councilnet__BudgetProject bp[3] = { COUNCILNET__BUDGET_PROJECT__INIT, COUNCILNET__BUDGET_PROJECT__INIT,
                                      COUNCILNET__BUDGET_PROJECT__INIT };
  Councilnet__BudgetProject *bps[3] = { &bp[0], &bp[1], &bp[2] };
  uint8_t s1[32], s2[32];
  Councilnet__Settings st = COUNCILNET__SETTINGS__INIT;

  /* Members below propose selections of seconds with no quorum. */
  ADDR(st, K_P, T0);
  if (post_ok("settings", K_CONV, &st.base, NULL, NULL) != 0)
    return -1;
  yesno(&p, &r, "P1: a regional bus line", T0, T0 + 100000);
  if (post_ok("proposal", K_M0, &p.base, id_p1, NULL) != 0 || vote(K_M0, id_p1, 0) != 0)
    return -1;
  yesno(&p, &r, "PFUT: later", T0 + 5000, T0 + 10000);
  if (post_ok("proposal", K_M0, &p.base, id_pfut, NULL) != 0)
    return -1;
  yesno(&p, &r, "DPASS: keep the library open", T0, T0 + 50);
  if (post_ok("proposal", K_M0, &p.base, id_dpass, NULL) != 0)
    return -1;
  yesno(&p, &r, "DFAIL: close the road", T0, T0 + 50);
  if (post_ok("proposal", K_M1, &p.base, id_dfail, NULL) != 0)
    return -1;
  yesno(&p, &r, "DOPEN: still open", T0, T0 + 100000);
  if (post_ok("proposal", K_M2, &p.base, id_dopen, NULL) != 0)
    return -1;
  selection(&p, &r, &s, cands, names, K_M0, K_M1, T0, T0 + 50, T0 + 50);
  if (post_ok("proposal", K_M0, &p.base, s1, NULL) != 0)
    return -1;
  selection(&p, &r, &s, cands, names, K_M1, K_M3, T0, T0 + 50, T0 + 50);
  if (post_ok("proposal", K_M1, &p.base, s2, NULL) != 0)
    return -1;
  for (int k = K_M0; k <= K_M2; k++)
    if (vote(k, id_dpass, 0) != 0 || vote(k, id_dfail, 1) != 0 || vote(k, s1, 0) != 0 ||
        vote(k, s2, 0) != 0)
      return -1;
  ADDR(br, K_P, T0);
  br.title = "BR: neighbourhood budget";
  br.total = 100;
  bp[0].id = "park";
  bp[0].cost = 60;
  bp[1].id = "bikes";
  bp[1].cost = 50;
  bp[2].id = "lamps";
  bp[2].cost = 30;
  br.projects = bps;
  br.n_projects = 3;
  br.opens = T0;
  br.closes = T0 + 100000;
  return post_ok("budget_round", K_CONV, &br.base, id_br, NULL);
}

static int setup_child(void)
{
  Councilnet__RollUpdate u = COUNCILNET__ROLL_UPDATE__INIT;
  Councilnet__Recall rc = COUNCILNET__RECALL__INIT;
  ProtobufCBinaryData added[2] = { bin(pk[K_CM], 32), bin(pk[K_CD], 32) };
  buf_t b = { NULL, 0 };
  int code;

  ADDR(u, K_CHILD, T0);
  u.added = added;
  u.n_added = 2;
  u.roll = 2;
  if (post_ok("roll", K_CHILD, &u.base, NULL, NULL) != 0 ||
      child_credential(&env_cc1, K_CD, K_P, 0x11, cc1) != 0 ||
      child_credential(&env_cc2, K_CM, K_P, 0x12, cc2) != 0 ||
      util_post(&P, env_cc1.d, env_cc1.n, NULL) != CN_OK ||
      util_post(&P, env_cc2.d, env_cc2.n, NULL) != CN_OK)
    return -1;
  fill(x1, 0x21);
  fill(x2, 0x22);
  if (child_decision(x1, 1) != 0 || child_decision(x2, 0) != 0 ||
      child_mandate(&env_cmd1, K_CHILD, cc1, K_CD, K_P, x1) != 0 ||
      delivery_env(&b, K_CD, K_CHILD, T0, &env_cmd1, &env_cc1) != 0)
    return -1;
  code = util_post(&P, b.d, b.n, NULL);
  buf_free(&b);
  if (code != CN_OK) {
    fprintf(stderr, "setup: the child's delivery was refused (%d)\n", code);
    return -1;
  }
  ADDR(rc, K_CHILD, T0);
  rc.credential = bin(cc2, 32);
  rc.delegate = bin(pk[K_CM], 32);
  rc.votes = 2;
  rc.roll = 2;
  return post_ok("recall", K_CHILD, &rc.base, NULL, NULL);
}

static int draft(const uint8_t *cred, int delegate, const uint8_t *decision, const char *position,
                 buf_t *keep)
{
  Councilnet__Mandate m;
  Councilnet__Instruction in, *ins[1];
  uint8_t id[32];
  mandate(&m, &in, ins, K_P, cred, delegate, K_PARENT, decision, NULL, NULL);
  in.position = (char *)position;
  if (post_ok("mandate_draft", K_CONV, &m.base, NULL, NULL) != 0)
    return -1;
  if (newest_mandate(id) != 0 || get_record(id, keep) != 0) {
    fprintf(stderr, "setup: the mandate drafted (%s) is not found\n", position);
    return -1;
  }
  return 0;
}

static int setup_delegates(void)
{
  Councilnet__Decision *d;
  Councilnet__RecallVote v = COUNCILNET__RECALL_VOTE__INIT;
  Councilnet__Settings st = COUNCILNET__SETTINGS__INIT;
  const uint8_t *decided[2] = { id_dpass, id_dfail };
  buf_t b = { NULL, 0 };
  int recalled = 0, code;

  if (tnode_set_clock(&P, T1) != 0)
    return -1;
  for (int i = 0; i < 2; i++) {
    d = util_wait_decision(&P, decided[i], 10000);
    if (!d || d->passed != (i == 0)) {
      fprintf(stderr, "setup: decision %d missing or wrong\n", i);
      return -1;
    }
    councilnet__decision__free_unpacked(d, NULL);
  }
  for (int i = 0; i < 500 && (util_credential_of(&P, pk[K_M0], cr1, NULL) != 0 ||
                              util_credential_of(&P, pk[K_M1], cr2, NULL) != 0); i++)
    util_sleep_ms(10);
  if (util_credential_of(&P, pk[K_M0], cr1, NULL) != 0 || util_credential_of(&P, pk[K_M1], cr2, NULL) != 0 ||
      get_record(cr1, &env_cr1) != 0 || get_record(cr2, &env_cr2) != 0) {
    fprintf(stderr, "setup: credentials missing\n");
    return -1;
  }
  if (draft(cr1, K_M0, id_dpass, "MD1", &env_md1) != 0 || draft(cr2, K_M1, id_dpass, "MD2", &env_md2) != 0 ||
      draft(cr2, K_M1, id_dpass, "MD2B", &env_md2b) != 0 ||
      delivery_env(&b, K_M1, K_P, T1, &env_md2, &env_cr2) != 0)
    return -1;
  code = util_post(&P, b.d, b.n, NULL);
  buf_free(&b);
  if (code != CN_OK) {
    fprintf(stderr, "setup: M1's delivery of MD2 refused (%d)\n", code);
    return -1;
  }
  /* Recall CR1: three of the five on the roll. */
  ADDR(v, K_P, T1);
  v.credential = bin(cr1, 32);
  for (int k = K_M0; k <= K_M2; k++)
    if (post_ok("recall_vote", k, &v.base, NULL, NULL) != 0)
      return -1;
  if (util_credential_of(&P, pk[K_M0], cr1, &recalled) != 0 || !recalled) {
    fprintf(stderr, "setup: CR1 not recalled\n");
    return -1;
  }
  v.credential = bin(cr2, 32);
  if (post_ok("recall_vote", K_M3, &v.base, NULL, NULL) != 0)
    return -1;
  ADDR(st, K_P, T1);
  st.max_terms = 1;
  return post_ok("settings", K_CONV, &st.base, NULL, NULL);
}

static int setup_q(void)
{
  Councilnet__MemberAdd m = COUNCILNET__MEMBER_ADD__INIT;
  Councilnet__Proposal p;
  Councilnet__Rule r;
  Councilnet__Ballot b;
  uint8_t qp[32];
  uint32_t yes = 0;

  if (setup_members(&Q) != 0)
    return -1;
  ADDR(m, K_Q, T0);
  m.member = bin(pk[K_M0], 32);
  if (post_ok_to(&Q, "member_add", sk[K_CONV], &m.base, NULL, NULL) != 0)
    return -1;
  m.member = bin(pk[K_M3], 32);
  if (post_ok_to(&Q, "member_add", sk[K_CONV], &m.base, NULL, &q_member_add) != 0)
    return -1;
  yesno(&p, &r, "Q: a proposal at another node", T0, T0 + 100000);
  p.node = bin(pk[K_Q], 32);
  if (post_ok_to(&Q, "proposal", sk[K_M0], &p.base, qp, NULL) != 0)
    return -1;
  ballot(&b, qp, &yes, T0);
  b.node = bin(pk[K_Q], 32);
  return post_ok_to(&Q, "ballot", sk[K_M0], &b.base, NULL, &q_ballot);
}

/* BB: M3's ballot on P1, and where its parts are. */
static int setup_bb(void)
{
  Councilnet__Ballot b;
  Councilnet__Envelope *e;
  uint32_t yes = 0;

  ballot(&b, id_p1, &yes, T1);
  if (seal(&bb, "ballot", K_M3, &b.base) != 0)
    return -1;
  e = councilnet__envelope__unpack(NULL, bb.n, bb.d);
  if (!e)
    return -1;
  put(&bb_kind, e->kind, strlen(e->kind));
  put(&bb_body, e->body.data, e->body.len);
  put(&bb_signer, e->signer.data, e->signer.len);
  put(&bb_sig, e->signature.data, e->signature.len);
  councilnet__envelope__free_unpacked(e, NULL);
  kind_off = 4;
  body_off = kind_off + bb_kind.n + 1 + (bb_body.n < 128 ? 1 : 2);
  signer_off = body_off + bb_body.n + 2;
  sig_off = signer_off + CN_PK_BYTES + 2;
  if (sig_off + CN_SIG_BYTES != bb.n || bb_body.n != 77 ||
      memcmp(bb.d + body_off, bb_body.d, bb_body.n) != 0 ||
      memcmp(bb.d + sig_off, bb_sig.d, CN_SIG_BYTES) != 0) {
    fprintf(stderr, "setup: BB is not laid out as expected\n");
    return -1;
  }
  return 0;
}

/* ---- the cases: each builds one envelope into OUT ---- */

typedef int (*build_fn)(long arg, buf_t *out);

static int flip_at(buf_t *out, size_t off)
{
  if (copy_of(out, &bb) != 0 || off >= out->n)
    return -1;
  out->d[off] ^= 0x01;
  return 0;
}

static int c_flip_sig(long a, buf_t *o) { return a < 0 || a >= 64 ? -1 : flip_at(o, sig_off + (size_t)a); }
static int c_flip_body(long a, buf_t *o)
{
  if (a == -1)
    a = (long)bb_body.n - 1;
  return a < 0 || (size_t)a >= bb_body.n ? -1 : flip_at(o, body_off + (size_t)a);
}
static int c_flip_signer(long a, buf_t *o) { return a < 0 || a >= 32 ? -1 : flip_at(o, signer_off + (size_t)a); }
static int c_flip_kind(long a, buf_t *o) { return a < 0 || (size_t)a >= bb_kind.n ? -1 : flip_at(o, kind_off + (size_t)a); }

static int c_flip_version(long a, buf_t *o)
{
  if (copy_of(o, &bb) != 0)
    return -1;
  o->d[1] = (uint8_t)a;
  return 0;
}

static int c_flip_tag_group(long a, buf_t *o)
{
  (void)a;
  if (copy_of(o, &bb) != 0)
    return -1;
  o->d[2] = (uint8_t)(2 << 3 | 3);
  return 0;
}

static int c_truncate_last(long a, buf_t *o) { (void)a; return put(o, bb.d, bb.n - 1); }
static int c_truncate_half(long a, buf_t *o) { (void)a; return put(o, bb.d, body_off + 30); }
static int c_truncate_version(long a, buf_t *o) { (void)a; return put(o, bb.d, 2); }
static int c_empty(long a, buf_t *o) { (void)a; return put(o, "", 0); }

/* S + K*L, little-endian, K small: RFC 8032's L = 2^252 + 27742317777372353535851937790883648493. */
static int c_sig_s_plus(long k, buf_t *o)
{
  static const uint8_t L[32] = { 0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                 0, 0, 0x10 };
  unsigned carry = 0;
  if (copy_of(o, &bb) != 0)
    return -1;
  for (int i = 0; i < 32; i++) {
    unsigned v = o->d[sig_off + 32 + (size_t)i] + (unsigned)k * L[i] + carry;
    o->d[sig_off + 32 + (size_t)i] = (uint8_t)v;
    carry = v >> 8;
  }
  return carry ? -1 : 0;    /* S + kL must still fit in 32 bytes */
}

static int c_sig_r_identity(long a, buf_t *o)
{
  (void)a;
  if (copy_of(o, &bb) != 0)
    return -1;
  memset(o->d + sig_off, 0, 32);
  o->d[sig_off] = 1;
  return 0;
}

static int c_sig_zero(long a, buf_t *o)
{
  (void)a;
  if (copy_of(o, &bb) != 0)
    return -1;
  memset(o->d + sig_off, 0, 64);
  return 0;
}

/* A convener's member_add, "signed" by SIGNER with R = identity, S = 0. */
static int weak_signer(const uint8_t signer[32], buf_t *o)
{
  Councilnet__MemberAdd m = COUNCILNET__MEMBER_ADD__INIT;
  uint8_t *body = NULL, sig[64];
  size_t blen = 0;
  int rc;

  ADDR(m, K_P, T1);
  m.member = bin(pk[K_STRANGER], 32);
  m.name = "Mallory";
  if (cn_pb_pack(&m.base, &body, &blen) != 0)
    return -1;
  memset(sig, 0, sizeof sig);
  sig[0] = 1;
  rc = env_manual(o, 1, "member_add", 10, body, blen, signer, 32, sig, 64);
  free(body);
  return rc;
}

static int c_smallorder(long which, buf_t *o)
{
  static const uint8_t o8a[32] = { 0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
                                   0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
                                   0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a };
  static const uint8_t o8c[32] = { 0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
                                   0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
                                   0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05 };
  uint8_t key[32];

  memset(key, 0, 32);
  switch (which) {
  case 0: key[0] = 1; break;                                    /* identity */
  case 1: break;                                                /* zero */
  case 2: key[31] = 0x80; break;                                /* zero, sign bit */
  case 3: memset(key, 0xff, 32); key[0] = 0xec; key[31] = 0x7f; break;   /* y = -1 */
  case 4: memcpy(key, o8a, 32); break;
  case 5: memcpy(key, o8a, 32); key[31] |= 0x80; break;
  case 6: memcpy(key, o8c, 32); break;
  case 7: memcpy(key, o8c, 32); key[31] |= 0x80; break;
  case 8: memset(key, 0xff, 32); key[0] = 0xed; key[31] = 0x7f; break;  /* y = p */
  case 9: memset(key, 0xff, 32); key[0] = 0xee; key[31] = 0x7f; break;  /* y = p + 1 */
  case 10: memcpy(key, pk[K_CONV], 32); break;                  /* a real key, weak signature */
  default: return -1;
  }
  return weak_signer(key, o);
}

static const char *const relabels[] = { "proposal", "paper_ballot", "recall_vote", "volunteer",
                                        "budget_ballot", "delegate_ballot" };

static int c_relabel(long which, buf_t *o)
{
  const char *k = relabels[which];
  return env_manual(o, 1, k, strlen(k), bb_body.d, bb_body.n, bb_signer.d, 32, bb_sig.d, 64);
}

static int c_replay_ballot_from_q(long a, buf_t *o) { (void)a; return copy_of(o, &q_ballot); }
static int c_replay_member_add_from_q(long a, buf_t *o) { (void)a; return copy_of(o, &q_member_add); }

static int c_addressed(long which, buf_t *o)
{
  Councilnet__Ballot b;
  uint32_t yes = 0;
  ballot(&b, id_p1, &yes, T1);
  if (which == 0)
    b.node = bin(pk[K_OTHER], 32);
  else if (which == 1)
    b.node = bin(NULL, 0);
  else
    b.node = bin(pk[K_P], 31);
  return seal(o, "ballot", K_M3, &b.base);
}

static int c_foreign_unknown_child(long a, buf_t *o)
{
  Councilnet__RollUpdate u = COUNCILNET__ROLL_UPDATE__INIT;
  (void)a;
  ADDR(u, K_OTHER, T1);
  u.roll = 7;
  return seal(o, "roll", K_OTHER, &u.base);
}

static int c_foreign_kind_not_forwarded(long a, buf_t *o)
{
  Councilnet__Ballot b;
  uint32_t yes = 0;
  (void)a;
  ballot(&b, id_p1, &yes, T1);
  b.node = bin(pk[K_CHILD], 32);
  return seal(o, "ballot", K_CM, &b.base);
}

static int c_noncanon(long which, buf_t *o)
{
  static const uint8_t kind_field[] = { 0x12, 6, 'b', 'a', 'l', 'l', 'o', 't' };
  switch (which) {
  case 0:                       /* version as 81 00 */
    return put(o, "\x08\x81\x00", 3) || put(o, bb.d + 2, bb.n - 2);
  case 1:                       /* version twice */
    return put(o, "\x08\x01", 2) || copy_of(o, &bb);
  case 2:                       /* kind twice */
    return put(o, bb.d, 2) || put(o, kind_field, sizeof kind_field) || put(o, bb.d + 2, bb.n - 2);
  case 3:                       /* signature twice */
    return copy_of(o, &bb) || put_field(o, 5, bb_sig.d, 64);
  case 4:                       /* fields in reverse order */
    return put_field(o, 5, bb_sig.d, 64) || put_field(o, 4, bb_signer.d, 32) ||
           put_field(o, 3, bb_body.d, bb_body.n) || put_field(o, 2, "ballot", 6) ||
           put(o, "\x08\x01", 2);
  case 5:                       /* kind length as 86 00 */
    return put(o, bb.d, 2) || put(o, "\x12\x86\x00", 3) || put(o, "ballot", 6) ||
           put(o, bb.d + 10, bb.n - 10);
  case 6:                       /* kind "ballot\0x": protobuf-c reads "ballot" */
    return env_manual(o, 1, "ballot\0x", 8, bb_body.d, bb_body.n, bb_signer.d, 32, bb_sig.d, 64);
  default:
    return -1;
  }
}

static int c_unknown_env(long which, buf_t *o)
{
  if (copy_of(o, &bb) != 0)
    return -1;
  switch (which) {
  case 0: return put(o, "\x30\x01", 2);                     /* field 6, varint */
  case 1: return put(o, "\x7a\x01\x00", 3);                 /* field 15, bytes */
  case 2: return put(o, "\xc0\x3e\x01", 3);                 /* field 1000, varint */
  case 3: return put(o, "\x39\x01\x02\x03\x04\x05\x06\x07\x08", 9);   /* field 7, fixed64 */
  default: return -1;
  }
}

/* Give M one unknown varint field TAG, whose one byte is *ONE (UF and ONE
 * outlive the sealing). */
static void add_unknown_field(ProtobufCMessage *m, ProtobufCMessageUnknownField *uf,
                              uint32_t tag, uint8_t *one)
{
  memset(uf, 0, sizeof *uf);
  uf->tag = tag;
  uf->wire_type = PROTOBUF_C_WIRE_TYPE_VARINT;
  uf->len = 1;
  uf->data = one;
  m->n_unknown_fields = 1;
  m->unknown_fields = uf;
}

static int c_unknown_body_field(long a, buf_t *o)
{
  Councilnet__Ballot b;
  ProtobufCMessageUnknownField uf;
  uint8_t one = 1;
  uint32_t yes = 0;
  (void)a;
  ballot(&b, id_p1, &yes, T1 + 1);
  add_unknown_field(&b.base, &uf, 99, &one);
  return seal(o, "ballot", K_M3, &b.base);
}

static int c_unknown_nested_field(long a, buf_t *o)
{
  Councilnet__Proposal p;
  Councilnet__Rule r;
  ProtobufCMessageUnknownField uf;
  uint8_t one = 1;
  (void)a;
  yesno(&p, &r, "A proposal with a strange rule", T1, T1 + 1000);
  p.created = T1;
  add_unknown_field(&r.base, &uf, 50, &one);
  return seal(o, "proposal", K_M0, &p.base);
}

static int c_kind(long which, buf_t *o)
{
  Councilnet__Ballot b;
  Councilnet__Mandate m;
  Councilnet__Instruction in, *ins[1];
  Councilnet__Receipt rc = COUNCILNET__RECEIPT__INIT;
  Councilnet__ReceiptBatch rb = COUNCILNET__RECEIPT_BATCH__INIT;
  Councilnet__Head h = COUNCILNET__HEAD__INIT;
  Councilnet__DecisionContributions dc = COUNCILNET__DECISION_CONTRIBUTIONS__INIT;
  Councilnet__Contribution co = COUNCILNET__CONTRIBUTION__INIT, *cos[1] = { &co };
  uint32_t yes = 0;
  char kind[40];

  switch (which) {
  case 0:
    ballot(&b, id_p1, &yes, T1);
    return seal(o, "sermon", K_M3, &b.base);
  case 1:
    mandate(&m, &in, ins, K_P, cr2, K_M1, K_PARENT, id_dpass, NULL, NULL);
    return seal(o, "mandate", K_M0, &m.base);
  case 2:
    ADDR(rc, K_P, T1);
    rc.record_id = bin(id_p1, 32);
    rc.seq = 1;
    return seal(o, "receipt", K_M0, &rc.base);
  case 3:
    ADDR(h, K_P, T1);
    h.seq = 1000;
    h.hash = bin(id_p1, 32);
    return seal(o, "head", K_M0, &h.base);
  case 4:                       /* 33 bytes: no signature can be made for it */
    memset(kind, 'a', 33);
    return env_manual(o, 1, kind, 33, bb_body.d, bb_body.n, bb_signer.d, 32, bb_sig.d, 64);
  case 5:
    return env_manual(o, 1, "", 0, bb_body.d, bb_body.n, bb_signer.d, 32, bb_sig.d, 64);
  case 6:
    return env_manual(o, 1, "ballot", 6, bb_body.d, bb_body.n, bb_signer.d, 31, bb_sig.d, 64);
  case 7:
    return env_manual(o, 1, "ballot", 6, bb_body.d, bb_body.n, bb_signer.d, 32, bb_sig.d, 63);
  case 8:                       /* the node's own receipt batch, sent back to it */
    ADDR(rb, K_P, T1);
    rb.root = bin(id_p1, 32);
    rb.leaves = 1;
    return seal(o, "receipt_batch", K_P, &rb.base);
  case 9:                       /* a decision's contributions: made by the node only */
  case 10:
    ADDR(dc, which == 9 ? K_P : K_CHILD, T1);
    dc.proposal = bin(id_dopen, 32);
    dc.parts = 1;
    co.member = bin(pk[K_CHILD], CN_PK_BYTES);
    co.choices = &yes;
    co.n_choices = 1;
    co.weight = 1000;
    co.via = bin(id_p1, 32);
    dc.contributions = cos;
    dc.n_contributions = 1;
    return seal(o, "contributions", which == 9 ? K_P : K_CHILD, &dc.base);
  default:
    return -1;
  }
}

static int c_too_large(long a, buf_t *o)
{
  Councilnet__Proposal p;
  Councilnet__Rule r;
  char *text = malloc(70001);
  int rc;
  (void)a;
  if (!text)
    return -1;
  memset(text, 'x', 70000);
  text[70000] = 0;
  yesno(&p, &r, "A very long proposal", T1, T1 + 1000);
  p.text = text;
  rc = seal(o, "proposal", K_M0, &p.base);
  free(text);
  return rc;
}

/* Node-made kinds addressed to P, signed by M0 (or by P's own key). */
static int c_node_kind(long which, buf_t *o)
{
  Councilnet__Decision d = COUNCILNET__DECISION__INIT;
  Councilnet__Credential c = COUNCILNET__CREDENTIAL__INIT;
  Councilnet__Recall r = COUNCILNET__RECALL__INIT;
  Councilnet__RollUpdate u = COUNCILNET__ROLL_UPDATE__INIT;
  Councilnet__BudgetMandate bm = COUNCILNET__BUDGET_MANDATE__INIT;

  switch (which) {
  case 0:
  case 5:
    ADDR(d, K_P, T1);
    d.proposal = bin(id_dopen, 32);
    d.passed = 1;
    return seal(o, "decision", which ? K_P : K_M0, &d.base);
  case 1:
    ADDR(c, K_P, T1);
    c.delegate = bin(pk[K_M0], 32);
    c.parent = bin(pk[K_PARENT], 32);
    c.term_start = T1;
    c.term_end = T1 + 1000;
    return seal(o, "credential", K_M0, &c.base);
  case 2:
    ADDR(r, K_P, T1);
    r.credential = bin(cr2, 32);
    r.delegate = bin(pk[K_M1], 32);
    return seal(o, "recall", K_M0, &r.base);
  case 3:
    ADDR(u, K_P, T1);
    u.roll = 1000;
    return seal(o, "roll", K_M0, &u.base);
  case 4:
    ADDR(bm, K_P, T1);
    bm.round = bin(id_br, 32);
    return seal(o, "budget_mandate", K_M0, &bm.base);
  default:
    return -1;
  }
}

/* Settings out of range, signed by the convener. */
static int c_settings(long which, buf_t *o)
{
  Councilnet__Settings st = COUNCILNET__SETTINGS__INIT;

  ADDR(st, K_P, T1);
  if (which == 0)
    st.selection_min_turnout_permille = 1001;
  else
    st.max_terms = 1001;
  return seal(o, "settings", K_CONV, &st.base);
}

static int c_role(long which, buf_t *o)
{
  Councilnet__MemberAdd m = COUNCILNET__MEMBER_ADD__INIT;
  Councilnet__RoleSet rs = COUNCILNET__ROLE_SET__INIT;
  Councilnet__Settings st = COUNCILNET__SETTINGS__INIT;
  Councilnet__ParentSet ps = COUNCILNET__PARENT_SET__INIT;
  Councilnet__BudgetRound br = COUNCILNET__BUDGET_ROUND__INIT;
  Councilnet__BudgetProject bp = COUNCILNET__BUDGET_PROJECT__INIT, *bps[1] = { &bp };
  Councilnet__Ballot b;
  Councilnet__Proposal p;
  Councilnet__Rule r;
  uint32_t yes = 0;

  switch (which) {
  case 0:
  case 1:
    ADDR(m, K_P, T1);
    m.member = bin(pk[K_OTHER], 32);
    m.name = "Oscar";
    return seal(o, "member_add", which ? K_STRANGER : K_M1, &m.base);
  case 2:
    ADDR(rs, K_P, T1);
    rs.key = bin(pk[K_M0], 32);
    rs.convener = 1;
    return seal(o, "role_set", K_M0, &rs.base);
  case 3:
    ADDR(st, K_P, T1);
    st.recall_threshold_permille = 100;
    return seal(o, "settings", K_CLERK, &st.base);
  case 4:
    ADDR(ps, K_P, T1);
    ps.url = "http://127.0.0.1:9";
    ps.key = bin(pk[K_PARENT], 32);
    return seal(o, "parent_set", K_M2, &ps.base);
  case 5:
    ADDR(br, K_P, T1);
    br.title = "M1's own round";
    br.total = 10;
    bp.id = "x";
    bp.cost = 5;
    br.projects = bps;
    br.n_projects = 1;
    br.opens = T1;
    br.closes = T1 + 1000;
    return seal(o, "budget_round", K_M1, &br.base);
  case 6:
    ballot(&b, id_p1, &yes, T1);
    b.member = bin(pk[K_M2], 32);
    return seal(o, "paper_ballot", K_M1, &b.base);
  case 7:
    ballot(&b, id_p1, &yes, T1);
    return seal(o, "ballot", K_CLERK, &b.base);
  case 8:
    yesno(&p, &r, "A stranger's proposal", T1, T1 + 1000);
    return seal(o, "proposal", K_STRANGER, &p.base);
  default:
    return -1;
  }
}

static int c_voting(long which, buf_t *o)
{
  Councilnet__Ballot b;
  Councilnet__Volunteer v = COUNCILNET__VOLUNTEER__INIT;
  Councilnet__MemberAdd m = COUNCILNET__MEMBER_ADD__INIT;
  Councilnet__Proposal p;
  Councilnet__Rule r;
  Councilnet__Selection s;
  ProtobufCBinaryData cands[2];
  char *names[2];
  uint32_t yes = 0, no = 1, nine = 9;
  uint8_t nobody[32];

  fill(nobody, 0x77);
  switch (which) {
  case 0:
    ballot(&b, id_p1, &no, T1);
    return seal(o, "ballot", K_M0, &b.base);
  case 1:
    ballot(&b, id_p1, &no, T1);
    b.member = bin(pk[K_M0], 32);
    return seal(o, "paper_ballot", K_CLERK, &b.base);
  case 2:
  case 3:
  case 4:
    ballot(&b, which == 2 ? id_pfut : which == 3 ? id_dpass : nobody, &yes, T1);
    return seal(o, "ballot", K_M3, &b.base);
  case 5:
    ballot(&b, id_p1, &nine, T1);
    return seal(o, "ballot", K_M3, &b.base);
  case 6:
    ballot(&b, id_p1, &yes, T1);
    b.member = bin(pk[K_M3], 32);
    return seal(o, "ballot", K_M3, &b.base);
  case 7:
    ADDR(v, K_P, T1);
    v.proposal = bin(id_p1, 32);
    return seal(o, "volunteer", K_M3, &v.base);
  case 8:
  case 9:
    ballot(&b, id_p1, &yes, which == 8 ? 0 : T1 + 601);
    return seal(o, "ballot", K_M3, &b.base);
  case 10:
    ADDR(m, K_P, T1);
    m.member = bin(pk[K_M1], 32);
    return seal(o, "member_add", K_CONV, &m.base);
  case 11:
    yesno(&p, &r, "Too late", T0, T0 + 30);
    p.created = T1;
    return seal(o, "proposal", K_M0, &p.base);
  case 12:
  case 13:
    selection(&p, &r, &s, cands, names, which == 12 ? K_M1 : K_STRANGER, K_M3, T1, T1 + 100, T1 + 100);
    return seal(o, "proposal", K_M3, &p.base);
  default:
    return -1;
  }
}

static int c_delegates(long which, buf_t *o)
{
  Councilnet__RecallVote v = COUNCILNET__RECALL_VOTE__INIT;
  Councilnet__Mandate m;
  Councilnet__Instruction in, *ins[1];
  Councilnet__Envelope *e;
  buf_t tmp = { NULL, 0 };
  uint8_t other[32];
  int rc;

  ADDR(v, K_P, T1);
  switch (which) {
  case 0:                       /* backdated recall vote under CR1 */
    v.created = T0 + 10;
    v.credential = bin(cr1, 32);
    return seal(o, "recall_vote", K_M3, &v.base);
  case 1:
    return delivery_env(o, K_M0, K_P, T0 + 55, &env_md1, &env_cr1);
  case 2:
  case 3:
  case 4:
  case 5:
  case 6:
  case 7:
    fill(other, 0x66);
    mandate(&m, &in, ins, K_P, which == 2 ? cr1 : cr2, which == 2 ? K_M0 : which == 7 ? K_M2 : K_M1,
            K_PARENT, which == 3 ? id_dfail : which == 4 ? id_dopen : which == 5 ? other : id_dpass,
            NULL, NULL);
    return seal(o, "mandate_draft", which == 6 ? K_M1 : K_CONV, &m.base);
  case 8:
    return delivery_env(o, K_M1, K_P, T1 + 1, &env_md2, &env_cr2);
  case 9:
    return delivery_env(o, K_M2, K_P, T1, &env_md2b, &env_cr2);
  case 10:
    if (copy_of(&tmp, &env_md2b) != 0)
      return -1;
    tmp.d[tmp.n - 1] ^= 0x01;
    rc = delivery_env(o, K_M1, K_P, T1, &tmp, &env_cr2);
    buf_free(&tmp);
    return rc;
  case 11:                      /* MD2B's body, sealed by M1 instead of the node */
    e = councilnet__envelope__unpack(NULL, env_md2b.n, env_md2b.d);
    if (!e)
      return -1;
    rc = -1;
    {
      uint8_t *env = NULL;
      size_t len = 0;
      if (cn_record_seal_bytes("mandate", e->body.data, e->body.len, sk[K_M1], &env, &len) == 0)
        rc = put(&tmp, env, len);
      free(env);
    }
    councilnet__envelope__free_unpacked(e, NULL);
    if (rc == 0)
      rc = delivery_env(o, K_M1, K_P, T1, &tmp, &env_cr2);
    buf_free(&tmp);
    return rc;
  case 12:
    return delivery_env(o, K_M1, K_P, T1, &env_cr2, &env_md2b);
  case 13:
  case 14:
  case 15:
    fill(other, 0x55);
    v.created = T1 + 1;
    v.credential = bin(which == 14 ? other : cr2, 32);
    return seal(o, "recall_vote", which == 15 ? K_CLERK : K_M3, &v.base);
  default:
    return -1;
  }
}

static int c_child(long which, buf_t *o)
{
  Councilnet__RecallVote v = COUNCILNET__RECALL_VOTE__INIT;
  Councilnet__RollUpdate u = COUNCILNET__ROLL_UPDATE__INIT;
  Councilnet__Decision d = COUNCILNET__DECISION__INIT;
  Councilnet__Recall r = COUNCILNET__RECALL__INIT;
  Councilnet__BudgetMandate bm = COUNCILNET__BUDGET_MANDATE__INIT;
  Councilnet__ApprovalSet set = COUNCILNET__APPROVAL_SET__INIT, *sets[1] = { &set };
  buf_t m = { NULL, 0 }, c = { NULL, 0 };
  uint8_t x3[32], ccx[32], unknown[32];
  uint32_t first = 0;
  int rc = -1;

  fill(x3, 0x23);
  fill(unknown, 0x56);
  switch (which) {
  case 0:
  case 1:
    if (child_mandate(&m, K_CHILD, cc1, K_CD, K_P, which ? x2 : x3) == 0)
      rc = delivery_env(o, K_CD, K_CHILD, T1, &m, &env_cc1);
    break;
  case 2:
    rc = delivery_env(o, K_M2, K_CHILD, T1, &env_cmd1, &env_cc1);
    break;
  case 3:
    if (child_mandate(&m, K_CD, cc1, K_CD, K_P, x1) == 0)
      rc = delivery_env(o, K_CD, K_CHILD, T1, &m, &env_cc1);
    break;
  case 4:
    if (child_credential(&c, K_CD, K_OTHER, 0x13, ccx) == 0 &&
        child_mandate(&m, K_CHILD, ccx, K_CD, K_P, x1) == 0)
      rc = delivery_env(o, K_CD, K_CHILD, T1, &m, &c);
    break;
  case 5:
    if (child_mandate(&m, K_CHILD, cc1, K_CD, K_OTHER, x1) == 0)
      rc = delivery_env(o, K_CD, K_CHILD, T1, &m, &env_cc1);
    break;
  case 6: {                     /* CMD1 with its binding choice changed, signature kept */
    Councilnet__Envelope *e = councilnet__envelope__unpack(NULL, env_cmd1.n, env_cmd1.d);
    Councilnet__Mandate *md = e ? councilnet__mandate__unpack(NULL, e->body.len, e->body.data) : NULL;
    uint8_t *body = NULL;
    size_t blen = 0;
    if (md && md->n_instructions == 1 && md->instructions[0]->n_choices == 1) {
      md->instructions[0]->choices[0] = 1;
      if (cn_pb_pack(&md->base, &body, &blen) == 0 &&
          env_manual(&m, 1, "mandate", 7, body, blen, e->signer.data, 32, e->signature.data, 64) == 0)
        rc = delivery_env(o, K_CD, K_CHILD, T1, &m, &env_cc1);
    }
    free(body);
    if (md)
      councilnet__mandate__free_unpacked(md, NULL);
    if (e)
      councilnet__envelope__free_unpacked(e, NULL);
    break;
  }
  case 7:
    if (child_mandate(&m, K_CHILD, cc2, K_CM, K_P, x1) == 0)
      rc = delivery_env(o, K_CM, K_CHILD, T0 + 1, &m, &env_cc2);
    break;
  case 8:
  case 9:
  case 10:
    ADDR(v, K_CHILD, T1);
    v.credential = bin(which == 8 ? cc1 : which == 9 ? cc2 : unknown, 32);
    rc = seal(o, "recall_vote", which == 8 ? K_M1 : K_CM, &v.base);
    break;
  case 11:
    ADDR(u, K_CHILD, T1);
    u.roll = 1000;
    rc = seal(o, "roll", K_M0, &u.base);
    break;
  case 12:
    ADDR(d, K_CHILD, T1);
    d.proposal = bin(x3, 32);
    d.passed = 1;
    rc = seal(o, "decision", K_CD, &d.base);
    break;
  case 13:
    ADDR(r, K_CHILD, T1);
    r.credential = bin(cr2, 32);
    r.delegate = bin(pk[K_M1], 32);
    rc = seal(o, "recall", K_CHILD, &r.base);
    break;
  case 14:
  case 15:
  case 16:
  case 17:
  case 18:
    ADDR(bm, K_CHILD, T1);
    bm.round = bin(id_br, 32);
    set.projects = &first;
    set.n_projects = 1;
    set.count = which == 15 ? 0 : 1;
    set.assembly = bin(pk[K_CHILD], 32);
    bm.sets = sets;
    bm.n_sets = 1;
    bm.voters = 1;
    /* 16: part 2 of 2; 17: part 0 of 4097 (over the bound); 18: part 1 of none */
    bm.part = which == 16 ? 2 : which == 18 ? 1 : 0;
    bm.parts = which == 16 ? 2 : which == 17 ? 4097 : 0;
    rc = seal(o, "budget_mandate", which == 14 ? K_CM : K_CHILD, &bm.base);
    break;
  default:
    break;
  }
  buf_free(&m);
  buf_free(&c);
  return rc;
}

static int c_delegate_ballot(long which, buf_t *o)
{
  Councilnet__DelegateBallot b = COUNCILNET__DELEGATE_BALLOT__INIT;
  uint32_t yes = 0, no = 1;
  static const int signer[5] = { K_CD, K_CD, K_CM, K_M1, K_CM };

  if (which < 0 || which > 4)
    return -1;
  ADDR(b, K_P, T1);
  b.proposal = bin(which == 1 ? id_dopen : id_p1, 32);
  b.choices = which == 0 ? &no : &yes;
  b.n_choices = 1;
  b.credential = bin(which == 3 ? cr2 : which == 4 ? cc2 : cc1, 32);
  return seal(o, "delegate_ballot", signer[which], &b.base);
}

static int c_budget(long which, buf_t *o)
{
  Councilnet__BudgetBallot b = COUNCILNET__BUDGET_BALLOT__INIT;
  Councilnet__BudgetRound br = COUNCILNET__BUDGET_ROUND__INIT;
  Councilnet__BudgetProject bp = COUNCILNET__BUDGET_PROJECT__INIT, *bps[1] = { &bp };
  uint32_t seven = 7, twice[2] = { 1, 1 }, zero = 0;
  uint8_t nobody[32];

  fill(nobody, 0x57);
  ADDR(b, K_P, T1);
  switch (which) {
  case 0:
    b.round = bin(nobody, 32);
    b.projects = &zero;
    b.n_projects = 1;
    return seal(o, "budget_ballot", K_M3, &b.base);
  case 1:
  case 2:
    b.round = bin(id_br, 32);
    b.projects = which == 1 ? &seven : twice;
    b.n_projects = which == 1 ? 1 : 2;
    return seal(o, "budget_ballot", K_M3, &b.base);
  case 3:
    ADDR(br, K_P, T1);
    br.title = "Nothing to spend";
    bp.id = "x";
    bp.cost = 5;
    br.projects = bps;
    br.n_projects = 1;
    br.opens = T1;
    br.closes = T1 + 1000;
    return seal(o, "budget_round", K_CONV, &br.base);
  default:
    return -1;
  }
}

static int c_control(long which, buf_t *o)
{
  Councilnet__Ballot b;
  uint32_t yes = 0;
  if (which == 0)
    return copy_of(o, &bb);
  ballot(&b, id_p1, &yes, T1);
  b.member = bin(pk[K_M2], 32);
  return seal(o, "paper_ballot", K_CLERK, &b.base);
}

/* Case names: an exact name with its argument, or a family prefix whose
 * argument is the number after it ("flip_sig_" + "7"; "last" is -1). */
static const struct builder_t {
  const char *name;
  int family;
  build_fn fn;
  long arg;
} builders[] = {
  { "flip_sig_", 1, c_flip_sig, 0 },
  { "flip_body_", 1, c_flip_body, 0 },
  { "flip_signer_", 1, c_flip_signer, 0 },
  { "flip_kind_", 1, c_flip_kind, 0 },
  { "flip_version_", 1, c_flip_version, 0 },
  { "flip_tag_group", 0, c_flip_tag_group, 0 },
  { "truncate_last", 0, c_truncate_last, 0 },
  { "truncate_half", 0, c_truncate_half, 0 },
  { "truncate_version", 0, c_truncate_version, 0 },
  { "empty", 0, c_empty, 0 },
  { "sig_s_plus_l", 0, c_sig_s_plus, 1 },
  { "sig_s_plus_2l", 0, c_sig_s_plus, 2 },
  { "sig_s_plus_7l", 0, c_sig_s_plus, 7 },
  { "sig_r_identity", 0, c_sig_r_identity, 0 },
  { "sig_zero", 0, c_sig_zero, 0 },
  { "smallorder_identity", 0, c_smallorder, 0 },
  { "smallorder_zero", 0, c_smallorder, 1 },
  { "smallorder_zero_neg", 0, c_smallorder, 2 },
  { "smallorder_order2", 0, c_smallorder, 3 },
  { "smallorder_order8_a", 0, c_smallorder, 4 },
  { "smallorder_order8_b", 0, c_smallorder, 5 },
  { "smallorder_order8_c", 0, c_smallorder, 6 },
  { "smallorder_order8_d", 0, c_smallorder, 7 },
  { "noncanon_key_p", 0, c_smallorder, 8 },
  { "noncanon_key_p1", 0, c_smallorder, 9 },
  { "smallorder_sig_only", 0, c_smallorder, 10 },
  { "relabel_proposal", 0, c_relabel, 0 },
  { "relabel_paper_ballot", 0, c_relabel, 1 },
  { "relabel_recall_vote", 0, c_relabel, 2 },
  { "relabel_volunteer", 0, c_relabel, 3 },
  { "relabel_budget_ballot", 0, c_relabel, 4 },
  { "relabel_delegate_ballot", 0, c_relabel, 5 },
  { "replay_ballot_from_q", 0, c_replay_ballot_from_q, 0 },
  { "replay_member_add_from_q", 0, c_replay_member_add_from_q, 0 },
  { "addressed_other", 0, c_addressed, 0 },
  { "addressed_none", 0, c_addressed, 1 },
  { "addressed_short", 0, c_addressed, 2 },
  { "foreign_unknown_child", 0, c_foreign_unknown_child, 0 },
  { "foreign_kind_not_forwarded", 0, c_foreign_kind_not_forwarded, 0 },
  { "noncanon_version_long", 0, c_noncanon, 0 },
  { "noncanon_dup_version", 0, c_noncanon, 1 },
  { "noncanon_dup_kind", 0, c_noncanon, 2 },
  { "noncanon_dup_signature", 0, c_noncanon, 3 },
  { "noncanon_reordered", 0, c_noncanon, 4 },
  { "noncanon_len_long", 0, c_noncanon, 5 },
  { "noncanon_kind_nul", 0, c_noncanon, 6 },
  { "unknown_env_varint", 0, c_unknown_env, 0 },
  { "unknown_env_bytes", 0, c_unknown_env, 1 },
  { "unknown_env_high", 0, c_unknown_env, 2 },
  { "unknown_env_fixed64", 0, c_unknown_env, 3 },
  { "unknown_body_field", 0, c_unknown_body_field, 0 },
  { "unknown_nested_field", 0, c_unknown_nested_field, 0 },
  { "kind_unknown", 0, c_kind, 0 },
  { "kind_mandate", 0, c_kind, 1 },
  { "kind_receipt", 0, c_kind, 2 },
  { "kind_head", 0, c_kind, 3 },
  { "kind_receipt_batch", 0, c_kind, 8 },
  { "kind_contributions", 0, c_kind, 9 },
  { "kind_contributions_child", 0, c_kind, 10 },
  { "kind_too_long", 0, c_kind, 4 },
  { "kind_empty", 0, c_kind, 5 },
  { "signer_short", 0, c_kind, 6 },
  { "signature_short", 0, c_kind, 7 },
  { "too_large", 0, c_too_large, 0 },
  { "node_kind_decision", 0, c_node_kind, 0 },
  { "node_kind_credential", 0, c_node_kind, 1 },
  { "node_kind_recall", 0, c_node_kind, 2 },
  { "node_kind_roll", 0, c_node_kind, 3 },
  { "node_kind_budget_mandate", 0, c_node_kind, 4 },
  { "node_kind_by_node_key", 0, c_node_kind, 5 },
  { "member_add_by_member", 0, c_role, 0 },
  { "member_add_by_stranger", 0, c_role, 1 },
  { "role_set_self_promotion", 0, c_role, 2 },
  { "settings_by_clerk", 0, c_role, 3 },
  { "settings_selection_turnout", 0, c_settings, 0 },
  { "settings_max_terms", 0, c_settings, 1 },
  { "parent_set_by_member", 0, c_role, 4 },
  { "budget_round_by_member", 0, c_role, 5 },
  { "paper_ballot_by_member", 0, c_role, 6 },
  { "ballot_by_clerk", 0, c_role, 7 },
  { "proposal_by_stranger", 0, c_role, 8 },
  { "ballot_again", 0, c_voting, 0 },
  { "paper_ballot_for_online_voter", 0, c_voting, 1 },
  { "ballot_not_open_yet", 0, c_voting, 2 },
  { "ballot_after_close", 0, c_voting, 3 },
  { "ballot_unknown_proposal", 0, c_voting, 4 },
  { "ballot_bad_choice", 0, c_voting, 5 },
  { "ballot_names_member", 0, c_voting, 6 },
  { "volunteer_not_lot", 0, c_voting, 7 },
  { "created_zero", 0, c_voting, 8 },
  { "created_future", 0, c_voting, 9 },
  { "member_add_duplicate", 0, c_voting, 10 },
  { "proposal_closes_in_past", 0, c_voting, 11 },
  { "term_limit", 0, c_voting, 12 },
  { "selection_candidate_stranger", 0, c_voting, 13 },
  { "recall_vote_backdated", 0, c_delegates, 0 },
  { "delivery_backdated", 0, c_delegates, 1 },
  { "mandate_draft_after_recall", 0, c_delegates, 2 },
  { "mandate_draft_failed_decision", 0, c_delegates, 3 },
  { "mandate_draft_undecided", 0, c_delegates, 4 },
  { "mandate_draft_unknown_decision", 0, c_delegates, 5 },
  { "mandate_draft_by_member", 0, c_delegates, 6 },
  { "mandate_draft_wrong_delegate", 0, c_delegates, 7 },
  { "delivery_again", 0, c_delegates, 8 },
  { "delivery_by_non_delegate", 0, c_delegates, 9 },
  { "delivery_forged_mandate", 0, c_delegates, 10 },
  { "delivery_mandate_by_member", 0, c_delegates, 11 },
  { "delivery_swapped", 0, c_delegates, 12 },
  { "recall_vote_twice", 0, c_delegates, 13 },
  { "recall_vote_unknown_credential", 0, c_delegates, 14 },
  { "recall_vote_by_clerk", 0, c_delegates, 15 },
  { "child_delivery_decision_never_sent", 0, c_child, 0 },
  { "child_delivery_decision_failed", 0, c_child, 1 },
  { "child_delivery_by_other", 0, c_child, 2 },
  { "child_delivery_mandate_not_by_child", 0, c_child, 3 },
  { "child_delivery_credential_other_parent", 0, c_child, 4 },
  { "child_delivery_mandate_other_parent", 0, c_child, 5 },
  { "child_delivery_tampered_mandate", 0, c_child, 6 },
  { "child_delivery_recalled", 0, c_child, 7 },
  { "child_recall_vote_not_on_roll", 0, c_child, 8 },
  { "child_recall_vote_recalled", 0, c_child, 9 },
  { "child_recall_vote_unknown", 0, c_child, 10 },
  { "child_roll_not_by_child", 0, c_child, 11 },
  { "child_decision_not_by_child", 0, c_child, 12 },
  { "child_recall_of_local_credential", 0, c_child, 13 },
  { "child_budget_mandate_not_by_child", 0, c_child, 14 },
  { "child_budget_mandate_empty_set", 0, c_child, 15 },
  { "child_budget_mandate_part_past_parts", 0, c_child, 16 },
  { "child_budget_mandate_too_many_parts", 0, c_child, 17 },
  { "child_budget_mandate_part_of_none", 0, c_child, 18 },
  { "delegate_ballot_violation", 0, c_delegate_ballot, 0 },
  { "delegate_ballot_no_mandate", 0, c_delegate_ballot, 1 },
  { "delegate_ballot_by_non_delegate", 0, c_delegate_ballot, 2 },
  { "delegate_ballot_local_credential", 0, c_delegate_ballot, 3 },
  { "delegate_ballot_recalled", 0, c_delegate_ballot, 4 },
  { "budget_ballot_unknown_round", 0, c_budget, 0 },
  { "budget_ballot_out_of_range", 0, c_budget, 1 },
  { "budget_ballot_repeat", 0, c_budget, 2 },
  { "budget_round_no_total", 0, c_budget, 3 },
  { "control_bb", 0, c_control, 0 },
  { "control_paper_ballot", 0, c_control, 1 },
};
#define N_BUILDERS (sizeof builders / sizeof builders[0])

/* Find NAME's builder and argument. Return its index or -1. */
static int builder_find(const char *name, long *arg)
{
  for (size_t i = 0; i < N_BUILDERS; i++) {
    const struct builder_t *b = &builders[i];
    size_t plen = strlen(b->name);
    if (!b->family && strcmp(name, b->name) == 0) {
      *arg = b->arg;
      return (int)i;
    }
    if (b->family && strncmp(name, b->name, plen) == 0 && name[plen]) {
      char *end = NULL;
      if (strcmp(name + plen, "last") == 0) {
        *arg = -1;
        return (int)i;
      }
      *arg = strtol(name + plen, &end, 10);
      if (*end == 0)
        return (int)i;
    }
  }
  return -1;
}

static int code_of(const char *name)
{
  for (int c = 0; c < CN_ERR_COUNT; c++)
    if (strcmp(cn_err_name((cn_err)c), name) == 0)
      return c;
  return -1;
}

static void write_case(const char *dir, const char *file, const buf_t *b)
{
  char path[800];
  FILE *f;
  snprintf(path, sizeof path, "%s/%s", dir, file);
  f = fopen(path, "wb");
  if (!f || (b->n && fwrite(b->d, 1, b->n, f) != b->n) || fclose(f) != 0)
    fprintf(stderr, "%s: cannot write\n", path);
}

static int run_index(const char *src)
{
  char path[600], gen_dir[600], line[512];
  int used[N_BUILDERS];
  int cases = 0, write = getenv("CN_WRITE_CORPUS") != NULL;
  FILE *f;

  memset(used, 0, sizeof used);
  snprintf(path, sizeof path, "%s/tests/adversarial/index.txt", src);
  snprintf(gen_dir, sizeof gen_dir, "%s/tests/adversarial/generated", src);
  f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "%s: %s\n", path, strerror(errno));
    return -1;
  }
  if (write && mkdir(gen_dir, 0755) != 0 && errno != EEXIST)
    fprintf(stderr, "%s: %s\n", gen_dir, strerror(errno));
  while (fgets(line, sizeof line, f)) {
    char file[128], expect[64], name[128], *dot;
    buf_t b = { NULL, 0 }, again = { NULL, 0 };
    long arg = 0;
    int idx, want, code;
    int64_t before, after;

    if (line[0] == '#' || line[0] == '\n' || sscanf(line, "%127s %63s", file, expect) != 2)
      continue;
    cases++;
    snprintf(name, sizeof name, "%s", file);
    dot = strrchr(name, '.');
    if (dot)
      *dot = 0;
    idx = builder_find(name, &arg);
    want = code_of(expect);
    test_checks_++;
    if (idx < 0 || want < 0) {
      test_failures_++;
      fprintf(stderr, "%s: %s\n", file, idx < 0 ? "no such case" : "no such error code");
      continue;
    }
    used[idx] = 1;
    test_checks_++;
    if (builders[idx].fn(arg, &b) != 0 || builders[idx].fn(arg, &again) != 0 || b.n != again.n ||
        (b.n && memcmp(b.d, again.d, b.n) != 0)) {
      test_failures_++;
      fprintf(stderr, "%s: cannot build it, or not the same bytes twice\n", file);
      buf_free(&b);
      buf_free(&again);
      continue;
    }
    buf_free(&again);
    if (write)
      write_case(gen_dir, file, &b);
    before = util_head_seq(&P);
    code = util_post(&P, b.d, b.n, NULL);
    after = util_head_seq(&P);
    test_checks_++;
    if (code != want || before < 0 || after != (want == CN_OK ? before + 1 : before)) {
      test_failures_++;
      fprintf(stderr, "%s: answered %s (want %s), head %lld -> %lld\n", file,
              code >= 0 ? cn_err_name((cn_err)code) : code == -1 ? "nothing" : "a mismatched status",
              expect, (long long)before, (long long)after);
    }
    buf_free(&b);
  }
  fclose(f);
  for (size_t i = 0; i < N_BUILDERS; i++) {
    test_checks_++;
    if (!used[i]) {
      test_failures_++;
      fprintf(stderr, "case %s%s is not in the index\n", builders[i].name,
              builders[i].family ? "<N>" : "");
    }
  }
  printf("test_adversarial: %d cases from %s%s\n", cases, path, write ? " (written to generated/)" : "");
  return cases;
}

int main(void)
{
  static const char *const no_rate[1] = { "rate_per_signer=0" };
  const char *src = getenv("CN_SOURCE_DIR");
  int started_p = 0, started_q = 0, cases;

  cn_crypto_init();
  for (int i = 0; i < NK; i++) {
    uint8_t seed[crypto_sign_SEEDBYTES];
    memset(seed, 0, sizeof seed);
    snprintf((char *)seed, sizeof seed, "councilnet adversarial key %d", i);
    crypto_sign_seed_keypair(pk[i], sk[i], seed);
  }
  REQUIRE(src != NULL);
  /* No per-signer rate limit: it is checked before most of what the cases
   * are about, and would answer RATE_LIMITED instead. */
  REQUIRE(tnode_start_set(&P, "adversarial", T0, no_rate, 1) == 0);
  started_p = 1;
  REQUIRE(tnode_start_set(&Q, "adversarial-q", T0, no_rate, 1) == 0);
  started_q = 1;
  REQUIRE(fix_node_key(&P, K_P) == 0);
  REQUIRE(fix_node_key(&Q, K_Q) == 0);
  REQUIRE(setup_members(&P) == 0);
  REQUIRE(setup_proposals() == 0);
  REQUIRE(setup_child() == 0);
  REQUIRE(setup_delegates() == 0);
  REQUIRE(setup_q() == 0);
  REQUIRE(setup_bb() == 0);
  cases = run_index(src);
  CHECK(cases >= MIN_CASES);
done:
  if (started_q)
    CHECK(tnode_destroy(&Q) == 0);
  if (started_p)
    CHECK(tnode_destroy(&P) == 0);
  buf_free(&env_cr1);
  buf_free(&env_cr2);
  buf_free(&env_md1);
  buf_free(&env_md2);
  buf_free(&env_md2b);
  buf_free(&env_cc1);
  buf_free(&env_cc2);
  buf_free(&env_cmd1);
  buf_free(&bb);
  buf_free(&q_ballot);
  buf_free(&q_member_add);
  buf_free(&bb_kind);
  buf_free(&bb_body);
  buf_free(&bb_signer);
  buf_free(&bb_sig);
  return test_finish("test_adversarial");
}
