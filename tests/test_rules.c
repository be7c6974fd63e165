/* test_rules.c: proposal and ballot checks and the tally, against
 * hand-computed results. Ballots are written as short strings: "00112" is five
 * single-choice ballots; "01 2 -" is three approval ballots ({0,1}, {2}, {}). */
#include <stdint.h>
#include <stdlib.h>

#include "councilnet.pb-c.h"
#include "councilnet/rules.h"
#include "test.h"

#define FX_MAX 64
#define FX_MAX_CHOICES 8

typedef struct fixture_t {
  cn_tally_ballot_t b[FX_MAX];
  uint32_t ch[FX_MAX][FX_MAX_CHOICES];
  size_t n;
} fixture_t;

typedef struct expect_t {
  size_t n_counts;
  uint64_t counts[8];
  uint64_t ballots, cast;
  int turnout_held, threshold_held, passed;
  int32_t winner;
} expect_t;

static char *renters[] = { "renters" };
static char *renters_twice[] = { "renters", "renters" };
static char *renters_youth[] = { "youth", "renters" };
static char *youth[] = { "youth" };

/* Reset FX and add one single-choice ballot per digit of S. */
static void fx_singles(fixture_t *fx, const char *s)
{
  memset(fx, 0, sizeof *fx);
  for (; *s && fx->n < FX_MAX; s++) {
    fx->ch[fx->n][0] = (uint32_t)(*s - '0');
    fx->b[fx->n].choices = fx->ch[fx->n];
    fx->b[fx->n].n_choices = 1;
    fx->n++;
  }
}

/* Reset FX and add one approval ballot per space-separated word of S; a word
 * is the digits chosen, or "-" for an empty ballot. */
static void fx_sets(fixture_t *fx, const char *s)
{
  cn_tally_ballot_t *b;

  memset(fx, 0, sizeof *fx);
  while (*s && fx->n < FX_MAX) {
    if (*s == ' ') {
      s++;
      continue;
    }
    b = &fx->b[fx->n];
    b->choices = fx->ch[fx->n];
    for (; *s && *s != ' '; s++)
      if (*s != '-' && b->n_choices < FX_MAX_CHOICES)
        fx->ch[fx->n][b->n_choices++] = (uint32_t)(*s - '0');
    fx->n++;
  }
}

static void prop_init(Councilnet__Proposal *p, Councilnet__Rule *r, Councilnet__OptionKind kind,
                      size_t n_options, Councilnet__Threshold t)
{
  static char *opts[70];
  size_t i;

  for (i = 0; i < 70; i++)
    opts[i] = "option";
  councilnet__proposal__init(p);
  councilnet__rule__init(r);
  p->title = "Test";
  p->option_kind = kind;
  p->n_options = n_options;
  p->options = n_options ? opts : NULL;
  p->opens = 100;
  p->closes = 200;
  p->rule = r;
  r->threshold = t;
}

/* Tally FX for P with ROLL and compare with E; LINE names the caller. */
static void check_tally(int line, const Councilnet__Proposal *p, const fixture_t *fx,
                        uint64_t roll, const expect_t *e)
{
  Councilnet__Decision d = COUNCILNET__DECISION__INIT;
  size_t i;

  test_checks_++;
  if (cn_rules_tally(p, fx->b, fx->n, roll, &d) != 0) {
    test_failures_++;
    fprintf(stderr, "line %d: tally failed\n", line);
    return;
  }
  if (d.n_counts != e->n_counts || d.ballots != e->ballots || d.cast != e->cast ||
      d.roll != roll || !d.turnout_held != !e->turnout_held ||
      !d.threshold_held != !e->threshold_held || !d.passed != !e->passed ||
      d.winner != e->winner) {
    test_failures_++;
    fprintf(stderr, "line %d: got n_counts %zu ballots %llu cast %llu roll %llu turnout %d "
            "threshold %d passed %d winner %d\n", line, d.n_counts,
            (unsigned long long)d.ballots, (unsigned long long)d.cast,
            (unsigned long long)d.roll, d.turnout_held, d.threshold_held, d.passed,
            (int)d.winner);
  } else {
    for (i = 0; i < d.n_counts; i++) {
      if (d.counts[i] != e->counts[i]) {
        test_failures_++;
        fprintf(stderr, "line %d: counts[%zu] = %llu, expected %llu\n", line, i,
                (unsigned long long)d.counts[i], (unsigned long long)e->counts[i]);
        break;
      }
    }
  }
  cn_rules_decision_clear(&d);
}

#define TALLY(p, fx, roll, ...) do { expect_t e_ = __VA_ARGS__; \
  check_tally(__LINE__, (p), (fx), (roll), &e_); } while (0)

/* expect_t fields: n_counts, {counts}, ballots, cast, turnout, threshold, passed, winner */

static void test_option_count(void)
{
  Councilnet__Proposal p;
  Councilnet__Rule r;

  CHECK_EQ_INT(cn_rules_option_count(NULL), 0);
  prop_init(&p, &r, COUNCILNET__OPTION_KIND__YES_NO_ABSTAIN, 0, COUNCILNET__THRESHOLD__MAJORITY);
  CHECK_EQ_INT(cn_rules_option_count(&p), 3);
  p.n_options = 5;                      /* ignored for YES_NO_ABSTAIN */
  CHECK_EQ_INT(cn_rules_option_count(&p), 3);
  prop_init(&p, &r, COUNCILNET__OPTION_KIND__ONE_OF_N, 4, COUNCILNET__THRESHOLD__MAJORITY);
  CHECK_EQ_INT(cn_rules_option_count(&p), 4);
  prop_init(&p, &r, COUNCILNET__OPTION_KIND__APPROVAL, 7, COUNCILNET__THRESHOLD__MAJORITY);
  CHECK_EQ_INT(cn_rules_option_count(&p), 7);
}

static void test_check_choices(void)
{
  Councilnet__Proposal p;
  Councilnet__Rule r;
  uint32_t c[6];

  prop_init(&p, &r, COUNCILNET__OPTION_KIND__YES_NO_ABSTAIN, 0, COUNCILNET__THRESHOLD__MAJORITY);
  c[0] = 0;
  CHECK_EQ_INT(cn_rules_check_choices(&p, c, 1), 0);
  c[0] = 2;
  CHECK_EQ_INT(cn_rules_check_choices(&p, c, 1), 0);
  c[0] = 3;
  CHECK_EQ_INT(cn_rules_check_choices(&p, c, 1), -1);
  CHECK_EQ_INT(cn_rules_check_choices(&p, NULL, 0), -1);
  c[0] = 0;
  c[1] = 1;
  CHECK_EQ_INT(cn_rules_check_choices(&p, c, 2), -1);
  CHECK_EQ_INT(cn_rules_check_choices(&p, NULL, 1), -1);
  CHECK_EQ_INT(cn_rules_check_choices(NULL, c, 1), -1);

  prop_init(&p, &r, COUNCILNET__OPTION_KIND__ONE_OF_N, 3, COUNCILNET__THRESHOLD__MAJORITY);
  c[0] = 2;
  CHECK_EQ_INT(cn_rules_check_choices(&p, c, 1), 0);
  c[0] = 3;
  CHECK_EQ_INT(cn_rules_check_choices(&p, c, 1), -1);
  c[0] = UINT32_MAX;
  CHECK_EQ_INT(cn_rules_check_choices(&p, c, 1), -1);
  c[0] = 0;
  c[1] = 1;
  CHECK_EQ_INT(cn_rules_check_choices(&p, c, 2), -1);      /* two choices for one-of-N */
  c[1] = 0;
  CHECK_EQ_INT(cn_rules_check_choices(&p, c, 2), -1);
  CHECK_EQ_INT(cn_rules_check_choices(&p, NULL, 0), -1);

  prop_init(&p, &r, COUNCILNET__OPTION_KIND__APPROVAL, 4, COUNCILNET__THRESHOLD__MAJORITY);
  CHECK_EQ_INT(cn_rules_check_choices(&p, NULL, 0), 0);    /* empty set is valid */
  CHECK_EQ_INT(cn_rules_check_choices(&p, c, 0), 0);
  c[0] = 0;
  c[1] = 3;
  CHECK_EQ_INT(cn_rules_check_choices(&p, c, 2), 0);
  c[0] = 3;
  c[1] = 0;
  c[2] = 2;
  c[3] = 1;
  CHECK_EQ_INT(cn_rules_check_choices(&p, c, 4), 0);
  c[4] = 2;
  CHECK_EQ_INT(cn_rules_check_choices(&p, c, 5), -1);      /* five of four */
  c[0] = 0;
  c[1] = 0;
  CHECK_EQ_INT(cn_rules_check_choices(&p, c, 2), -1);      /* duplicate */
  c[0] = 1;
  c[1] = 2;
  c[2] = 1;
  CHECK_EQ_INT(cn_rules_check_choices(&p, c, 3), -1);      /* duplicate, not adjacent */
  c[0] = 4;
  CHECK_EQ_INT(cn_rules_check_choices(&p, c, 1), -1);
  c[0] = 0;
  c[1] = UINT32_MAX;
  CHECK_EQ_INT(cn_rules_check_choices(&p, c, 2), -1);
  CHECK_EQ_INT(cn_rules_check_choices(&p, NULL, 1), -1);

  p.option_kind = (Councilnet__OptionKind)7;
  c[0] = 0;
  CHECK_EQ_INT(cn_rules_check_choices(&p, c, 1), -1);
}

static void test_check_proposal(void)
{
  Councilnet__Proposal p;
  Councilnet__Rule r;
  Councilnet__GroupQuorum g = COUNCILNET__GROUP_QUORUM__INIT;
  Councilnet__GroupQuorum *gs[1] = { &g };
  const char *why = "unset";

  prop_init(&p, &r, COUNCILNET__OPTION_KIND__YES_NO_ABSTAIN, 0, COUNCILNET__THRESHOLD__MAJORITY);
  CHECK_EQ_INT(cn_rules_check_proposal(&p, &why), 0);
  CHECK(why == NULL);
  CHECK_EQ_INT(cn_rules_check_proposal(&p, NULL), 0);
  p.rule = NULL;                        /* proto3 default rule */
  CHECK_EQ_INT(cn_rules_check_proposal(&p, &why), 0);

  CHECK_EQ_INT(cn_rules_check_proposal(NULL, &why), -1);
  CHECK(why != NULL);

  prop_init(&p, &r, COUNCILNET__OPTION_KIND__YES_NO_ABSTAIN, 2, COUNCILNET__THRESHOLD__MAJORITY);
  why = NULL;
  CHECK_EQ_INT(cn_rules_check_proposal(&p, &why), -1);
  CHECK(why != NULL);
  CHECK_EQ_INT(cn_rules_check_proposal(&p, NULL), -1);

  /* Titles. */
  prop_init(&p, &r, COUNCILNET__OPTION_KIND__YES_NO_ABSTAIN, 0, COUNCILNET__THRESHOLD__MAJORITY);
  p.title = "";
  why = NULL;
  CHECK_EQ_INT(cn_rules_check_proposal(&p, &why), -1);
  CHECK(why != NULL);
  p.title = NULL;
  CHECK_EQ_INT(cn_rules_check_proposal(&p, &why), -1);

  /* Option counts: 2..64 for ONE_OF_N and APPROVAL. */
  prop_init(&p, &r, COUNCILNET__OPTION_KIND__ONE_OF_N, 2, COUNCILNET__THRESHOLD__MAJORITY);
  CHECK_EQ_INT(cn_rules_check_proposal(&p, &why), 0);
  p.n_options = 64;
  CHECK_EQ_INT(cn_rules_check_proposal(&p, &why), 0);
  p.n_options = 65;
  CHECK_EQ_INT(cn_rules_check_proposal(&p, &why), -1);
  p.n_options = 1;
  CHECK_EQ_INT(cn_rules_check_proposal(&p, &why), -1);
  prop_init(&p, &r, COUNCILNET__OPTION_KIND__ONE_OF_N, 0, COUNCILNET__THRESHOLD__MAJORITY);
  CHECK_EQ_INT(cn_rules_check_proposal(&p, &why), -1);
  prop_init(&p, &r, COUNCILNET__OPTION_KIND__APPROVAL, 1, COUNCILNET__THRESHOLD__MAJORITY);
  CHECK_EQ_INT(cn_rules_check_proposal(&p, &why), -1);
  p.n_options = 2;
  CHECK_EQ_INT(cn_rules_check_proposal(&p, &why), 0);
  p.n_options = 65;
  CHECK_EQ_INT(cn_rules_check_proposal(&p, &why), -1);
  p.option_kind = (Councilnet__OptionKind)3;
  p.n_options = 2;
  CHECK_EQ_INT(cn_rules_check_proposal(&p, &why), -1);

  /* Window. */
  prop_init(&p, &r, COUNCILNET__OPTION_KIND__APPROVAL, 3, COUNCILNET__THRESHOLD__MAJORITY);
  p.opens = 200;
  p.closes = 200;
  CHECK_EQ_INT(cn_rules_check_proposal(&p, &why), -1);
  p.opens = 201;
  CHECK_EQ_INT(cn_rules_check_proposal(&p, &why), -1);
  p.opens = 199;
  CHECK_EQ_INT(cn_rules_check_proposal(&p, &why), 0);

  /* Permille bounds and group names. */
  r.turnout_permille = 1000;
  CHECK_EQ_INT(cn_rules_check_proposal(&p, &why), 0);
  r.turnout_permille = 1001;
  CHECK_EQ_INT(cn_rules_check_proposal(&p, &why), -1);
  r.turnout_permille = 0;
  r.n_group_quorums = 1;
  r.group_quorums = gs;
  g.group = "renters";
  g.share_permille = 1000;
  CHECK_EQ_INT(cn_rules_check_proposal(&p, &why), 0);
  g.share_permille = 1001;
  CHECK_EQ_INT(cn_rules_check_proposal(&p, &why), -1);
  g.share_permille = 300;
  g.group = "";
  CHECK_EQ_INT(cn_rules_check_proposal(&p, &why), -1);
  g.group = NULL;
  CHECK_EQ_INT(cn_rules_check_proposal(&p, &why), -1);
  g.group = "renters";
  gs[0] = NULL;
  CHECK_EQ_INT(cn_rules_check_proposal(&p, &why), -1);
  gs[0] = &g;
  CHECK_EQ_INT(cn_rules_check_proposal(&p, &why), 0);
  r.threshold = (Councilnet__Threshold)4;
  CHECK_EQ_INT(cn_rules_check_proposal(&p, &why), -1);
}

static void test_yes_no_abstain(void)
{
  Councilnet__Proposal p;
  Councilnet__Rule r;
  fixture_t fx;

  /* MAJORITY: yes*2 > yes+no; abstentions do not count as cast. */
  prop_init(&p, &r, COUNCILNET__OPTION_KIND__YES_NO_ABSTAIN, 0, COUNCILNET__THRESHOLD__MAJORITY);
  fx_singles(&fx, "000112");
  TALLY(&p, &fx, 10, { 3, { 3, 2, 1 }, 6, 5, 1, 1, 1, 0 });
  fx_singles(&fx, "01012222");
  TALLY(&p, &fx, 10, { 3, { 2, 2, 4 }, 8, 4, 1, 0, 0, 1 });        /* 4 > 4 fails */
  fx_singles(&fx, "0222222222");
  TALLY(&p, &fx, 10, { 3, { 1, 0, 9 }, 10, 1, 1, 1, 1, 0 });       /* one yes, nine abstain */
  fx_singles(&fx, "222");
  TALLY(&p, &fx, 3, { 3, { 0, 0, 3 }, 3, 0, 1, 0, 0, 1 });          /* nothing cast */

  /* TWO_THIRDS: yes*3 >= cast*2, cast > 0. */
  r.threshold = COUNCILNET__THRESHOLD__TWO_THIRDS;
  fx_singles(&fx, "001");
  TALLY(&p, &fx, 3, { 3, { 2, 1, 0 }, 3, 3, 1, 1, 1, 0 });          /* 6 >= 6 */
  fx_singles(&fx, "00011");
  TALLY(&p, &fx, 5, { 3, { 3, 2, 0 }, 5, 5, 1, 0, 0, 1 });          /* 9 < 10 */
  fx_singles(&fx, "001100222");
  TALLY(&p, &fx, 9, { 3, { 4, 2, 3 }, 9, 6, 1, 1, 1, 0 });          /* 12 >= 12 */
  fx_singles(&fx, "22");
  TALLY(&p, &fx, 2, { 3, { 0, 0, 2 }, 2, 0, 1, 0, 0, 1 });

  /* UNANIMITY: yes == cast, cast > 0. */
  r.threshold = COUNCILNET__THRESHOLD__UNANIMITY;
  fx_singles(&fx, "00022");
  TALLY(&p, &fx, 5, { 3, { 3, 0, 2 }, 5, 3, 1, 1, 1, 0 });
  fx_singles(&fx, "0001");
  TALLY(&p, &fx, 5, { 3, { 3, 1, 0 }, 4, 4, 1, 0, 0, 1 });
  fx_singles(&fx, "2");
  TALLY(&p, &fx, 5, { 3, { 0, 0, 1 }, 1, 0, 1, 0, 0, 1 });

  /* PLURALITY: yes > no. */
  r.threshold = COUNCILNET__THRESHOLD__PLURALITY;
  fx_singles(&fx, "001");
  TALLY(&p, &fx, 3, { 3, { 2, 1, 0 }, 3, 3, 1, 1, 1, 0 });
  fx_singles(&fx, "0122");
  TALLY(&p, &fx, 4, { 3, { 1, 1, 2 }, 4, 2, 1, 0, 0, 1 });          /* tie fails */
  fx_singles(&fx, "022222");
  TALLY(&p, &fx, 6, { 3, { 1, 0, 5 }, 6, 1, 1, 1, 1, 0 });
  fx_singles(&fx, "1");
  TALLY(&p, &fx, 6, { 3, { 0, 1, 0 }, 1, 1, 1, 0, 0, 1 });

  /* Threshold held but turnout missed: winner -1. 3*1000 < 500*10. */
  r.threshold = COUNCILNET__THRESHOLD__MAJORITY;
  r.turnout_permille = 500;
  fx_singles(&fx, "000");
  TALLY(&p, &fx, 10, { 3, { 3, 0, 0 }, 3, 3, 0, 1, 0, -1 });
  /* Both failed: winner 1 (no). */
  fx_singles(&fx, "011");
  TALLY(&p, &fx, 10, { 3, { 1, 2, 0 }, 3, 3, 0, 0, 0, 1 });
  /* Abstentions count for turnout: 5*1000 >= 500*10. */
  fx_singles(&fx, "00022");
  TALLY(&p, &fx, 10, { 3, { 3, 0, 2 }, 5, 3, 1, 1, 1, 0 });
}

static void test_one_of_n(void)
{
  Councilnet__Proposal p;
  Councilnet__Rule r;
  fixture_t fx;

  /* MAJORITY: top*2 > ballots, unique top. */
  prop_init(&p, &r, COUNCILNET__OPTION_KIND__ONE_OF_N, 3, COUNCILNET__THRESHOLD__MAJORITY);
  fx_singles(&fx, "00012");
  TALLY(&p, &fx, 5, { 3, { 3, 1, 1 }, 5, 5, 1, 1, 1, 0 });
  fx_singles(&fx, "0012");
  TALLY(&p, &fx, 5, { 3, { 2, 1, 1 }, 4, 4, 1, 0, 0, -1 });         /* 4 > 4 fails */
  fx_singles(&fx, "00112");
  TALLY(&p, &fx, 5, { 3, { 2, 2, 1 }, 5, 5, 1, 0, 0, -1 });         /* tie */
  fx_singles(&fx, "2221");
  TALLY(&p, &fx, 5, { 3, { 0, 1, 3 }, 4, 4, 1, 1, 1, 2 });

  /* TWO_THIRDS: top*3 >= ballots*2. */
  r.threshold = COUNCILNET__THRESHOLD__TWO_THIRDS;
  fx_singles(&fx, "001");
  TALLY(&p, &fx, 3, { 3, { 2, 1, 0 }, 3, 3, 1, 1, 1, 0 });          /* 6 >= 6 */
  fx_singles(&fx, "0012");
  TALLY(&p, &fx, 4, { 3, { 2, 1, 1 }, 4, 4, 1, 0, 0, -1 });         /* 6 < 8 */
  fx_singles(&fx, "1112");
  TALLY(&p, &fx, 4, { 3, { 0, 3, 1 }, 4, 4, 1, 1, 1, 1 });          /* 9 >= 8 */

  /* UNANIMITY: top == ballots. */
  r.threshold = COUNCILNET__THRESHOLD__UNANIMITY;
  fx_singles(&fx, "222");
  TALLY(&p, &fx, 3, { 3, { 0, 0, 3 }, 3, 3, 1, 1, 1, 2 });
  fx_singles(&fx, "2221");
  TALLY(&p, &fx, 4, { 3, { 0, 1, 3 }, 4, 4, 1, 0, 0, -1 });

  /* PLURALITY: unique top, no share needed. */
  r.threshold = COUNCILNET__THRESHOLD__PLURALITY;
  fx_singles(&fx, "0112");
  TALLY(&p, &fx, 4, { 3, { 1, 2, 1 }, 4, 4, 1, 1, 1, 1 });
  fx_singles(&fx, "0011");
  TALLY(&p, &fx, 4, { 3, { 2, 2, 0 }, 4, 4, 1, 0, 0, -1 });
  fx_singles(&fx, "0122");
  TALLY(&p, &fx, 4, { 3, { 1, 1, 2 }, 4, 4, 1, 1, 1, 2 });          /* tie below the top */
  fx_singles(&fx, "0011222");
  TALLY(&p, &fx, 7, { 3, { 2, 2, 3 }, 7, 7, 1, 1, 1, 2 });          /* a later top clears a tie */
  fx_singles(&fx, "00011122");
  TALLY(&p, &fx, 8, { 3, { 3, 3, 2 }, 8, 8, 1, 0, 0, -1 });         /* a smaller later count does not */
  fx_singles(&fx, "012");
  TALLY(&p, &fx, 3, { 3, { 1, 1, 1 }, 3, 3, 1, 0, 0, -1 });

  /* An invalid ballot counts as a ballot but for no option. */
  r.threshold = COUNCILNET__THRESHOLD__MAJORITY;
  fx_singles(&fx, "0009");
  TALLY(&p, &fx, 4, { 3, { 3, 0, 0 }, 4, 4, 1, 1, 1, 0 });          /* 6 > 4 */
  fx_singles(&fx, "0099");
  TALLY(&p, &fx, 4, { 3, { 2, 0, 0 }, 4, 4, 1, 0, 0, -1 });         /* 4 > 4 fails */
  fx_sets(&fx, "0 01 -");
  TALLY(&p, &fx, 3, { 3, { 1, 0, 0 }, 3, 3, 1, 0, 0, -1 });         /* two choices, none */
}

static void test_approval(void)
{
  Councilnet__Proposal p;
  Councilnet__Rule r;
  fixture_t fx;

  prop_init(&p, &r, COUNCILNET__OPTION_KIND__APPROVAL, 4, COUNCILNET__THRESHOLD__MAJORITY);
  fx_sets(&fx, "01 02 0 3");
  TALLY(&p, &fx, 4, { 4, { 3, 1, 1, 1 }, 4, 4, 1, 1, 1, 0 });       /* 6 > 4 */
  fx_sets(&fx, "01 0 12 3");
  TALLY(&p, &fx, 4, { 4, { 2, 2, 1, 1 }, 4, 4, 1, 0, 0, -1 });      /* tie */
  fx_sets(&fx, "0 01 - -");
  TALLY(&p, &fx, 4, { 4, { 2, 1, 0, 0 }, 4, 4, 1, 0, 0, -1 });      /* empty ballots are cast: 4 > 4 fails */
  fx_sets(&fx, "0123 0123 0123");
  TALLY(&p, &fx, 3, { 4, { 3, 3, 3, 3 }, 3, 3, 1, 0, 0, -1 });

  r.threshold = COUNCILNET__THRESHOLD__TWO_THIRDS;
  fx_sets(&fx, "012 02 03");
  TALLY(&p, &fx, 3, { 4, { 3, 1, 2, 1 }, 3, 3, 1, 1, 1, 0 });
  fx_sets(&fx, "3 3 1");
  TALLY(&p, &fx, 3, { 4, { 0, 1, 0, 2 }, 3, 3, 1, 1, 1, 3 });       /* 6 >= 6 */
  fx_sets(&fx, "3 3 1 -");
  TALLY(&p, &fx, 4, { 4, { 0, 1, 0, 2 }, 4, 4, 1, 0, 0, -1 });      /* 6 < 8 */

  r.threshold = COUNCILNET__THRESHOLD__UNANIMITY;
  fx_sets(&fx, "01 0 03");
  TALLY(&p, &fx, 3, { 4, { 3, 1, 0, 1 }, 3, 3, 1, 1, 1, 0 });
  fx_sets(&fx, "01 0 -");
  TALLY(&p, &fx, 3, { 4, { 2, 1, 0, 0 }, 3, 3, 1, 0, 0, -1 });

  r.threshold = COUNCILNET__THRESHOLD__PLURALITY;
  fx_sets(&fx, "0 01 - -");
  TALLY(&p, &fx, 4, { 4, { 2, 1, 0, 0 }, 4, 4, 1, 1, 1, 0 });
  fx_sets(&fx, "23 23 1");
  TALLY(&p, &fx, 3, { 4, { 0, 1, 2, 2 }, 3, 3, 1, 0, 0, -1 });
  fx_sets(&fx, "- -");
  TALLY(&p, &fx, 2, { 4, { 0, 0, 0, 0 }, 2, 2, 1, 0, 0, -1 });

  /* A ballot with a repeated choice counts for no option. */
  r.threshold = COUNCILNET__THRESHOLD__MAJORITY;
  fx_sets(&fx, "00 1 1");
  TALLY(&p, &fx, 3, { 4, { 0, 2, 0, 0 }, 3, 3, 1, 1, 1, 1 });       /* 4 > 3 */
}

static void test_turnout(void)
{
  Councilnet__Proposal p;
  Councilnet__Rule r;
  fixture_t fx;

  prop_init(&p, &r, COUNCILNET__OPTION_KIND__ONE_OF_N, 2, COUNCILNET__THRESHOLD__MAJORITY);
  r.turnout_permille = 250;
  fx_singles(&fx, "000");
  TALLY(&p, &fx, 12, { 2, { 3, 0 }, 3, 3, 1, 1, 1, 0 });            /* 3000 >= 3000 */
  fx_singles(&fx, "00");
  TALLY(&p, &fx, 12, { 2, { 2, 0 }, 2, 2, 0, 1, 0, -1 });           /* 2000 < 3000 */
  fx_singles(&fx, "000");
  TALLY(&p, &fx, 13, { 2, { 3, 0 }, 3, 3, 0, 1, 0, -1 });           /* 3000 < 3250 */

  r.turnout_permille = 333;
  fx_singles(&fx, "1");
  TALLY(&p, &fx, 3, { 2, { 0, 1 }, 1, 1, 1, 1, 1, 1 });             /* 1000 >= 999 */

  r.turnout_permille = 1000;
  fx_singles(&fx, "0000");
  TALLY(&p, &fx, 4, { 2, { 4, 0 }, 4, 4, 1, 1, 1, 0 });
  fx_singles(&fx, "000");
  TALLY(&p, &fx, 4, { 2, { 3, 0 }, 3, 3, 0, 1, 0, -1 });

  /* Huge roll: 16 * 2^60 wraps to 0 in 64 bits; it must not count as held. */
  r.turnout_permille = 16;
  fx_singles(&fx, "0");
  TALLY(&p, &fx, (uint64_t)1 << 60, { 2, { 1, 0 }, 1, 1, 0, 1, 0, -1 });

  /* No ballots at all. */
  r.turnout_permille = 0;
  fx_singles(&fx, "");
  TALLY(&p, &fx, 0, { 2, { 0, 0 }, 0, 0, 1, 0, 0, -1 });
  r.turnout_permille = 100;
  TALLY(&p, &fx, 10, { 2, { 0, 0 }, 0, 0, 0, 0, 0, -1 });
}

static void test_empty(void)
{
  Councilnet__Proposal p;
  Councilnet__Rule r;
  Councilnet__Decision d = COUNCILNET__DECISION__INIT;
  fixture_t fx;

  prop_init(&p, &r, COUNCILNET__OPTION_KIND__YES_NO_ABSTAIN, 0, COUNCILNET__THRESHOLD__PLURALITY);
  fx_singles(&fx, "");
  TALLY(&p, &fx, 5, { 3, { 0, 0, 0 }, 0, 0, 1, 0, 0, 1 });
  prop_init(&p, &r, COUNCILNET__OPTION_KIND__APPROVAL, 5, COUNCILNET__THRESHOLD__UNANIMITY);
  TALLY(&p, &fx, 5, { 5, { 0, 0, 0, 0, 0 }, 0, 0, 1, 0, 0, -1 });

  /* NULL ballots with zero count. */
  REQUIRE(cn_rules_tally(&p, NULL, 0, 0, &d) == 0);
  CHECK_EQ_INT(d.n_counts, 5);
  CHECK_EQ_INT(d.ballots, 0);
  CHECK_EQ_INT(d.n_group_quorums, 0);
  CHECK_EQ_INT(d.winner, -1);
done:
  cn_rules_decision_clear(&d);
}

static void test_group_quorums(void)
{
  Councilnet__Proposal p;
  Councilnet__Rule r;
  Councilnet__GroupQuorum g1 = COUNCILNET__GROUP_QUORUM__INIT;
  Councilnet__GroupQuorum g2 = COUNCILNET__GROUP_QUORUM__INIT;
  Councilnet__GroupQuorum *gs[2] = { &g1, &g2 };
  Councilnet__Decision d = COUNCILNET__DECISION__INIT;
  fixture_t fx;

  prop_init(&p, &r, COUNCILNET__OPTION_KIND__YES_NO_ABSTAIN, 0, COUNCILNET__THRESHOLD__MAJORITY);
  g1.group = "renters";
  g1.share_permille = 300;
  r.n_group_quorums = 1;
  r.group_quorums = gs;

  /* 10 ballots, 3 from renters: 3000 >= 3000 holds. */
  fx_singles(&fx, "0000001122");
  fx.b[0].groups = renters;
  fx.b[0].n_groups = 1;
  fx.b[4].groups = renters_twice;       /* counted once */
  fx.b[4].n_groups = 2;
  fx.b[9].groups = renters_youth;
  fx.b[9].n_groups = 2;
  fx.b[5].groups = youth;
  fx.b[5].n_groups = 1;
  fx.b[1].paper = 1;
  fx.b[9].paper = 1;
  REQUIRE(cn_rules_tally(&p, fx.b, fx.n, 20, &d) == 0);
  CHECK_EQ_INT(d.ballots, 10);
  CHECK_EQ_INT(d.paper, 2);
  CHECK_EQ_INT(d.roll, 20);
  CHECK_EQ_INT(d.cast, 8);
  REQUIRE(d.n_counts == 3);
  CHECK_EQ_INT(d.counts[0], 6);
  CHECK_EQ_INT(d.counts[1], 2);
  CHECK_EQ_INT(d.counts[2], 2);
  REQUIRE(d.n_group_quorums == 1);
  CHECK_STR(d.group_quorums[0]->group, "renters");
  CHECK(d.group_quorums[0]->group != g1.group);   /* a copy */
  CHECK_EQ_INT(d.group_quorums[0]->share_permille, 300);
  CHECK_EQ_INT(d.group_quorums[0]->votes, 3);
  CHECK_EQ_INT(d.group_quorums[0]->held, 1);
  CHECK_EQ_INT(d.turnout_held, 1);
  CHECK_EQ_INT(d.threshold_held, 1);
  CHECK_EQ_INT(d.passed, 1);
  CHECK_EQ_INT(d.winner, 0);
  cn_rules_decision_clear(&d);
  CHECK(d.counts == NULL && d.n_counts == 0);
  CHECK(d.group_quorums == NULL && d.n_group_quorums == 0);

  /* Only 2 of 10 from renters: 2000 < 3000 fails; the threshold still held. */
  fx.b[9].groups = youth;
  fx.b[9].n_groups = 1;
  REQUIRE(cn_rules_tally(&p, fx.b, fx.n, 20, &d) == 0);
  REQUIRE(d.n_group_quorums == 1);
  CHECK_EQ_INT(d.group_quorums[0]->votes, 2);
  CHECK_EQ_INT(d.group_quorums[0]->held, 0);
  CHECK_EQ_INT(d.threshold_held, 1);
  CHECK_EQ_INT(d.passed, 0);
  CHECK_EQ_INT(d.winner, -1);
  cn_rules_decision_clear(&d);

  /* Two quorums, in order: renters 2/10 at 200 holds, youth 2/10 at 201 fails. */
  g1.share_permille = 200;
  g2.group = "youth";
  g2.share_permille = 201;
  r.n_group_quorums = 2;
  REQUIRE(cn_rules_tally(&p, fx.b, fx.n, 20, &d) == 0);
  REQUIRE(d.n_group_quorums == 2);
  CHECK_STR(d.group_quorums[0]->group, "renters");
  CHECK_EQ_INT(d.group_quorums[0]->votes, 2);
  CHECK_EQ_INT(d.group_quorums[0]->held, 1);
  CHECK_STR(d.group_quorums[1]->group, "youth");
  CHECK_EQ_INT(d.group_quorums[1]->share_permille, 201);
  CHECK_EQ_INT(d.group_quorums[1]->votes, 2);
  CHECK_EQ_INT(d.group_quorums[1]->held, 0);
  CHECK_EQ_INT(d.passed, 0);
  cn_rules_decision_clear(&d);
  g2.share_permille = 200;
  REQUIRE(cn_rules_tally(&p, fx.b, fx.n, 20, &d) == 0);
  REQUIRE(d.n_group_quorums == 2);
  CHECK_EQ_INT(d.group_quorums[1]->held, 1);
  CHECK_EQ_INT(d.passed, 1);
  CHECK_EQ_INT(d.winner, 0);
  cn_rules_decision_clear(&d);

  /* A share of 0 holds with no votes from the group, but never without ballots. */
  g1.share_permille = 0;
  g1.group = "nobody";
  r.n_group_quorums = 1;
  REQUIRE(cn_rules_tally(&p, fx.b, fx.n, 20, &d) == 0);
  REQUIRE(d.n_group_quorums == 1);
  CHECK_EQ_INT(d.group_quorums[0]->votes, 0);
  CHECK_EQ_INT(d.group_quorums[0]->held, 1);
  cn_rules_decision_clear(&d);
  REQUIRE(cn_rules_tally(&p, fx.b, 0, 0, &d) == 0);
  REQUIRE(d.n_group_quorums == 1);
  CHECK_EQ_INT(d.group_quorums[0]->held, 0);
  CHECK_EQ_INT(d.turnout_held, 1);
  CHECK_EQ_INT(d.passed, 0);
  CHECK_EQ_INT(d.winner, 1);
  cn_rules_decision_clear(&d);

  /* ONE_OF_N with a failed group quorum: winner -1 despite a clear top. */
  prop_init(&p, &r, COUNCILNET__OPTION_KIND__ONE_OF_N, 3, COUNCILNET__THRESHOLD__PLURALITY);
  g1.group = "renters";
  g1.share_permille = 500;
  r.n_group_quorums = 1;
  r.group_quorums = gs;
  fx_singles(&fx, "2220");
  fx.b[3].groups = renters;
  fx.b[3].n_groups = 1;
  REQUIRE(cn_rules_tally(&p, fx.b, fx.n, 4, &d) == 0);
  CHECK_EQ_INT(d.group_quorums[0]->votes, 1);
  CHECK_EQ_INT(d.group_quorums[0]->held, 0);             /* 1000 < 2000 */
  CHECK_EQ_INT(d.threshold_held, 1);
  CHECK_EQ_INT(d.passed, 0);
  CHECK_EQ_INT(d.winner, -1);
  cn_rules_decision_clear(&d);
  fx.b[2].groups = renters;
  fx.b[2].n_groups = 1;
  REQUIRE(cn_rules_tally(&p, fx.b, fx.n, 4, &d) == 0);
  CHECK_EQ_INT(d.group_quorums[0]->held, 1);             /* 2000 >= 2000 */
  CHECK_EQ_INT(d.passed, 1);
  CHECK_EQ_INT(d.winner, 2);
done:
  cn_rules_decision_clear(&d);
}

static void test_misc(void)
{
  Councilnet__Proposal p;
  Councilnet__Rule r;
  Councilnet__Decision d = COUNCILNET__DECISION__INIT;
  fixture_t fx;

  /* No rule: proto3 defaults, MAJORITY without quorums. */
  prop_init(&p, &r, COUNCILNET__OPTION_KIND__YES_NO_ABSTAIN, 0, COUNCILNET__THRESHOLD__UNANIMITY);
  p.rule = NULL;
  fx_singles(&fx, "001");
  TALLY(&p, &fx, 100, { 3, { 2, 1, 0 }, 3, 3, 1, 1, 1, 0 });

  /* Unknown threshold or option kind never holds. */
  p.rule = &r;
  r.threshold = (Councilnet__Threshold)9;
  TALLY(&p, &fx, 3, { 3, { 2, 1, 0 }, 3, 3, 1, 0, 0, 1 });
  prop_init(&p, &r, COUNCILNET__OPTION_KIND__ONE_OF_N, 2, COUNCILNET__THRESHOLD__MAJORITY);
  p.option_kind = (Councilnet__OptionKind)5;
  fx_singles(&fx, "00");
  TALLY(&p, &fx, 2, { 2, { 0, 0 }, 2, 0, 1, 0, 0, -1 });

  /* Bad arguments. */
  CHECK_EQ_INT(cn_rules_tally(NULL, fx.b, fx.n, 2, &d), -1);
  CHECK_EQ_INT(cn_rules_tally(&p, fx.b, fx.n, 2, NULL), -1);
  CHECK_EQ_INT(cn_rules_tally(&p, NULL, 1, 2, &d), -1);
  CHECK(d.counts == NULL);
  cn_rules_decision_clear(NULL);
  cn_rules_decision_clear(&d);
}

int main(void)
{
  test_option_count();
  test_check_choices();
  test_check_proposal();
  test_yes_no_abstain();
  test_one_of_n();
  test_approval();
  test_turnout();
  test_empty();
  test_group_quorums();
  test_misc();
  return test_finish("test_rules");
}
