/* test_budget_fed.c: a participatory budget round across a three-level
 * federation on 127.0.0.1. The city opens the round; it flows down to four
 * neighborhoods through two districts; members sign approval ballots; each
 * node sends its approval sets up; the city allocates with the Method of
 * Equal Shares. The allocation must equal the offline allocation of the
 * same ballots exported as Pabulib .pb (lib/budget.c directly, and the
 * `council budget allocate` command when it is there). A neighbourhood's
 * mandate in parts: bad parts refused, a partial one not counted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "councilnet/budget.h"
#include "councilnet/record.h"
#include "http.h"
#include "test.h"
#include "util.h"

#define T0 1900000000ULL
#define NB 4
#define NP 6

static tnode_t city, dist[2], hood[NB];
static const int roll_of[NB] = { 6, 9, 4, 11 };

static int outbox_empty(void *ctx)
{
  return util_outbox(ctx) == 0;
}

/* Part PART of PARTS of a budget mandate of hood 0 for ROUND at its
 * district, made at CREATED for VOTERS voters, with one set: COUNT voters
 * approving project PROJECT (no set if COUNT is 0). The API code. */
static int hood_part(const uint8_t round[CN_HASH_BYTES], uint64_t created, uint32_t part,
                     uint32_t parts, uint64_t voters, uint64_t count, uint32_t project,
                     int tag)
{
  Councilnet__BudgetMandate m = COUNCILNET__BUDGET_MANDATE__INIT;
  Councilnet__ApprovalSet set = COUNCILNET__APPROVAL_SET__INIT, *sets[1] = { &set };
  uint8_t sk[CN_SK_BYTES], digest[CN_HASH_BYTES];

  /* the mandate's digest: TAG in each byte (-1: none, as a whole one) */
  memset(digest, tag, sizeof digest);
  if (tag >= 0) {
    m.digest.data = digest;
    m.digest.len = CN_HASH_BYTES;
  }

  if (tnode_secret_key(&hood[0], sk) != 0)
    return -1;
  set.projects = &project;
  set.n_projects = 1;
  set.count = count;
  m.node.data = hood[0].pk;
  m.node.len = CN_PK_BYTES;
  m.created = created;
  m.round.data = (uint8_t *)round;
  m.round.len = CN_HASH_BYTES;
  m.sets = sets;
  m.n_sets = count ? 1 : 0;
  m.voters = voters;
  m.part = part;
  m.parts = parts;
  return util_act(&dist[0], "budget_mandate", &m, sk, NULL);
}

/* The district's count of hood mandates received whole, and with parts
 * missing. */
static void dist_profiles(uint64_t *whole, uint64_t *partial)
{
  Councilnet__RoundList *rl =
    (Councilnet__RoundList *)util_get(&dist[0], "/v1/budget", &councilnet__round_list__descriptor);
  *whole = *partial = 99;
  if (rl && rl->n_rounds == 1) {
    *whole = rl->rounds[0]->profiles;
    *partial = rl->rounds[0]->partial;
  }
  if (rl)
    councilnet__round_list__free_unpacked(rl, NULL);
}

static void set_all_clocks(uint64_t t)
{
  tnode_set_clock(&city, t);
  for (int i = 0; i < 2; i++)
    tnode_set_clock(&dist[i], t);
  for (int i = 0; i < NB; i++)
    tnode_set_clock(&hood[i], t);
}

int main(void)
{
  static const char *ids[NP] = { "park", "library", "pool", "bikes", "lights", "garden" };
  static const uint64_t costs[NP] = { 400, 300, 700, 200, 150, 250 };
  Councilnet__BudgetRound br = COUNCILNET__BUDGET_ROUND__INIT;
  Councilnet__BudgetProject proj[NP], *pp[NP];
  Councilnet__RoundList *rl = NULL;
  util_round_t rc = { NULL, { 0 }, 0 };
  cn_budget_t offline;
  cn_budget_result_t res;
  char *pb = NULL;
  size_t pb_len = 0;
  uint64_t ballots = 0;
  int started = 0;

  memset(&offline, 0, sizeof offline);
  memset(&res, 0, sizeof res);
  cn_crypto_init();
  REQUIRE(tnode_start(&city, "City", T0) == 0);
  started = 1;
  for (int i = 0; i < 2; i++) {
    REQUIRE(tnode_start_child(&dist[i], "District", T0, &city) == 0);
    REQUIRE(util_admit_council(&city, dist[i].pk, "District") == CN_OK);
  }
  for (int h = 0; h < NB; h++) {
    REQUIRE(tnode_start_child(&hood[h], "Neighborhood", T0, &dist[h / 2]) == 0);
    REQUIRE(util_admit_council(&dist[h / 2], hood[h].pk, "Neighborhood") == CN_OK);
  }

  /* The round, at the city: 1,000 to spend on six projects. */
  for (int p = 0; p < NP; p++) {
    councilnet__budget_project__init(&proj[p]);
    proj[p].id = (char *)ids[p];
    proj[p].title = (char *)ids[p];
    proj[p].cost = costs[p];
    proj[p].proposer.data = hood[p % NB].pk;
    proj[p].proposer.len = CN_PK_BYTES;
    pp[p] = &proj[p];
  }
  br.node.data = city.pk;
  br.node.len = CN_PK_BYTES;
  br.created = T0;
  br.title = "City budget 2027";
  br.total = 1000;
  br.projects = pp;
  br.n_projects = NP;
  br.opens = T0;
  br.closes = T0 + 100;
  br.rule = COUNCILNET__BUDGET_RULE__EQUAL_SHARES;
  REQUIRE(util_act(&city, "budget_round", &br, city.convener_sk, NULL) == CN_OK);

  /* It reaches every neighborhood through its district. */
  for (int h = 0; h < NB; h++) {
    rc.n = &hood[h];
    rc.allocated = 0;
    REQUIRE(util_wait(util_round_seen, &rc, 10000) == 0);
  }

  /* Members vote: each neighborhood leans to its own projects. */
  for (int h = 0; h < NB; h++) {
    for (int m = 0; m < roll_of[h]; m++) {
      Councilnet__BudgetBallot b = COUNCILNET__BUDGET_BALLOT__INIT;
      uint8_t pk[CN_PK_BYTES], sk[CN_SK_BYTES];
      uint32_t approve[NP];
      size_t n = 0;
      cn_crypto_keypair(pk, sk);
      REQUIRE(util_admit(&hood[h], pk, "member") == CN_OK);
      for (uint32_t p = 0; p < NP; p++)
        if ((int)(p % NB) == h || (m + p) % 3 == 0)
          approve[n++] = p;
      b.node.data = hood[h].pk;
      b.node.len = CN_PK_BYTES;
      b.created = T0 + 1;
      b.round.data = rc.id;
      b.round.len = CN_HASH_BYTES;
      b.projects = approve;
      b.n_projects = n;
      CHECK_EQ_INT(util_act(&hood[h], "budget_ballot", &b, sk, NULL), CN_OK);
      /* one ballot per member */
      b.created = T0 + 2;
      if (m == 0)
        CHECK_EQ_INT(util_act(&hood[h], "budget_ballot", &b, sk, NULL), CN_ERR_ALREADY_VOTED);
      ballots++;
    }
  }

  /* A child's mandate may not label its voters as someone else's assembly
   * (need weights go by the label): not the parent's own, not a sibling
   * council's, not one on a sibling's forwarded roll, not the parent's
   * parent's. Each refusal
   * changes nothing: the real mandates follow. */
  {
    static const struct { int from_dist; const char *what; } cases[] = {
      { 0, "as the parent's own assembly" }, { 0, "as a sibling council" },
      { 1, "as an assembly on a sibling's roll" },
      { 0, "as the parent's parent's own (which would refuse the parent's mandate)" }
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
      Councilnet__BudgetMandate m = COUNCILNET__BUDGET_MANDATE__INIT;
      Councilnet__ApprovalSet set = COUNCILNET__APPROVAL_SET__INIT, *sets[1] = { &set };
      tnode_t *child = cases[c].from_dist ? &dist[0] : &hood[0];
      tnode_t *parent = cases[c].from_dist ? &city : &dist[0];
      uint8_t sk[CN_SK_BYTES];
      uint32_t p0 = 0;
      REQUIRE(tnode_secret_key(child, sk) == 0);
      set.projects = &p0;
      set.n_projects = 1;
      set.count = 1;
      set.assembly.data = c == 0 ? dist[0].pk : c == 1 ? hood[1].pk : c == 2 ? hood[2].pk : city.pk;
      set.assembly.len = CN_PK_BYTES;
      m.node.data = child->pk;
      m.node.len = CN_PK_BYTES;
      m.created = T0 + 3;
      m.round.data = rc.id;
      m.round.len = CN_HASH_BYTES;
      m.sets = sets;
      m.n_sets = 1;
      m.voters = 1;
      if (util_act(parent, "budget_mandate", &m, sk, NULL) != CN_ERR_INVALID) {
        fprintf(stderr, "a mandate labelling its voters %s was not refused\n",
                cases[c].what);
        CHECK(0);
      }
    }
  }

  /* A mandate in parts, hood 0 to its district (which has its roll: 6
   * people). Each bad part is refused and changes nothing; the good ones
   * count only once all the parts of their time are there; the hood's real
   * mandate at the close replaces them (the allocation below counts it,
   * not these 5 voters). */
  {
    static const struct {
      uint64_t created;
      uint32_t part, parts;
      uint64_t voters, count;
      uint32_t project;
      int tag;
      int code;
      const char *what;
    } steps[] = {
      { T0 + 3, 2, 2, 5, 1, 0, 3, CN_ERR_INVALID, "part >= parts" },
      { T0 + 3, 1, 0, 5, 1, 0, 3, CN_ERR_INVALID, "a part of no parts" },
      { T0 + 3, 0, 4097, 5, 1, 0, 3, CN_ERR_INVALID, "parts over the bound" },
      { T0 + 3, 0, 2, 7, 1, 0, 3, CN_ERR_INVALID, "voters over the roll" },
      { T0 + 3, 0, 2, 5, 1, 0, -1, CN_ERR_INVALID, "a part without the mandate's digest" },
      { T0 + 3, 0, 0, 1, 1, 0, 3, CN_ERR_INVALID, "a whole mandate with a digest" },
      { T0 + 3, 0, 2, 5, 3, 0, 3, CN_OK, "part 0 of 2" },
      { T0 + 3, 0, 2, 5, 1, 1, 3, CN_ERR_DUPLICATE, "part 0 again, other sets" },
      { T0 + 3, 1, 3, 5, 1, 1, 3, CN_ERR_INVALID, "3 parts after 2" },
      { T0 + 3, 1, 2, 4, 1, 1, 3, CN_ERR_INVALID, "4 voters after 5" },
      { T0 + 3, 1, 2, 5, 2, 1, 9, CN_ERR_INVALID, "a part of another mandate of that time" },
      { T0 + 3, 1, 2, 5, 4, 1, 3, CN_ERR_INVALID, "7 voters across the parts, over the roll" },
      { T0 + 3, 1, 2, 5, 1, 1, 3, CN_ERR_INVALID, "4 voters in all the parts, of 5" },
      { T0 + 2, 1, 2, 5, 2, 1, 2, CN_ERR_DUPLICATE, "a part of an older mandate" },
      { T0 + 4, 0, 3, 5, 1, 2, 4, CN_OK, "part 0 of 3 of a newer mandate" },
      { T0 + 4, 2, 3, 5, 2, 3, 4, CN_OK, "part 2 of 3" },
      { T0 + 4, 1, 3, 5, 2, 4, 4, CN_OK, "part 1 of 3" },
    };
    uint64_t whole = 0, partial = 0;
    int64_t head;
    REQUIRE(util_wait(outbox_empty, &hood[0], 10000) == 0);
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
      int code;
      head = util_head_seq(&dist[0]);
      code = hood_part(rc.id, steps[i].created, steps[i].part, steps[i].parts, steps[i].voters,
                       steps[i].count, steps[i].project, steps[i].tag);
      if (code != steps[i].code)
        fprintf(stderr, "mandate part: %s: code %d, not %d\n", steps[i].what, code, steps[i].code);
      CHECK_EQ_INT(code, steps[i].code);
      if (steps[i].code != CN_OK)
        CHECK_EQ_INT(util_head_seq(&dist[0]), head);
      dist_profiles(&whole, &partial);
      if (i == 6 || i == 14 || i == 15) {           /* parts missing: not counted */
        CHECK_EQ_INT(whole, 0);
        CHECK_EQ_INT(partial, 1);
      }
    }
    dist_profiles(&whole, &partial);
    CHECK_EQ_INT(whole, 1);
    CHECK_EQ_INT(partial, 0);
  }

  /* Two different mandates of one `created` (a child restored from a
   * backup that closes again within the second, or whose clock went back)
   * do not mix: a review found part 0 of A and part 1 of B counted as one
   * whole mandate the child never made. The digest of its sets ties each
   * part to its mandate. The whole mandate of T0+4 still counts; at the
   * close the district waits for A to be whole, or for a newer whole
   * mandate: the hood's real one, which replaces both. */
  {
    uint64_t whole = 0, partial = 0;
    CHECK_EQ_INT(hood_part(rc.id, T0 + 5, 0, 2, 5, 3, 0, 0xA), CN_OK);          /* A */
    CHECK_EQ_INT(hood_part(rc.id, T0 + 5, 1, 2, 5, 2, 1, 0xB), CN_ERR_INVALID); /* B */
    dist_profiles(&whole, &partial);
    CHECK_EQ_INT(whole, 1);
    CHECK_EQ_INT(partial, 1);
  }

  /* The window closes everywhere: mandates go up; the city allocates. */
  set_all_clocks(T0 + 100);
  rc.n = &city;
  rc.allocated = 1;
  REQUIRE(util_wait(util_round_seen, &rc, 15000) == 0);
  rl = (Councilnet__RoundList *)util_get(&city, "/v1/budget", &councilnet__round_list__descriptor);
  REQUIRE(rl && rl->n_rounds == 1 && rl->rounds[0]->allocation);
  CHECK_EQ_INT(rl->rounds[0]->allocation->voters, ballots);
  CHECK_EQ_INT(rl->rounds[0]->profiles, 2);

  /* The same ballots, exported as .pb, allocated offline. */
  {
    char path[160], hex[2 * CN_HASH_BYTES + 1], err[256];
    cn_http_resp_t resp;
    cn_hex_encode(hex, rc.id, CN_HASH_BYTES);
    snprintf(path, sizeof path, "/v1/budget/%s.pb", hex);
    REQUIRE(cn_http_request(city.url, "GET", path, NULL, NULL, NULL, 0, 10000, &resp, err, sizeof err) == 0);
    if (resp.status != 200)
      fprintf(stderr, "export: HTTP %d: %.*s\n", resp.status, (int)resp.len, (char *)resp.body);
    REQUIRE(resp.status == 200);
    pb = (char *)resp.body;
    pb_len = resp.len;
  }
  {
    char err[256];
    if (cn_pabulib_parse(pb, pb_len, &offline, err, sizeof err) != 0)
      fprintf(stderr, "exported .pb does not parse: %s\n", err);
    REQUIRE(offline.n_projects == NP);
  }
  {
    uint64_t voters = 0;
    for (size_t i = 0; i < offline.n_sets; i++)
      voters += offline.sets[i].count;
    CHECK_EQ_INT(voters, ballots);
  }
  REQUIRE(cn_budget_allocate(&offline, CN_BUDGET_MES, &res) == 0);
  {
    Councilnet__BudgetAllocation *al = rl->rounds[0]->allocation;
    REQUIRE(al->n_projects == NP && res.n_projects == NP);
    CHECK_EQ_INT(al->spent, res.spent);
    for (int p = 0; p < NP; p++) {
      CHECK_STR(al->projects[p]->id, offline.projects[p].id);
      CHECK_EQ_INT(al->projects[p]->selected, res.selected[p]);
      CHECK_EQ_INT(al->projects[p]->votes, res.votes[p]);
      printf("%-8s cost %4llu votes %3llu %s\n", al->projects[p]->id,
             (unsigned long long)al->projects[p]->cost, (unsigned long long)al->projects[p]->votes,
             al->projects[p]->selected ? "selected" : "-");
    }
    printf("spent %llu of 1000 (the node and the offline allocation agree)\n",
           (unsigned long long)al->spent);
  }
  /* And through the client's offline command, if the build has it. */
  if (getenv("CN_COUNCIL")) {
    char file[300], cmd[600], *out = NULL;
    FILE *f;
    snprintf(file, sizeof file, "%s/round.pb", city.dir);
    f = fopen(file, "w");
    REQUIRE(f && fwrite(pb, 1, pb_len, f) == pb_len);
    fclose(f);
    snprintf(cmd, sizeof cmd, "'%s' budget allocate '%s' --rule mes --json 2>/dev/null",
             getenv("CN_COUNCIL"), file);
    if (util_sh(cmd, &out) == 0 && out) {
      Councilnet__BudgetAllocation *al = rl->rounds[0]->allocation;
      for (int p = 0; p < NP; p++) {
        char needle[96], *line, *eol;
        snprintf(needle, sizeof needle, "{\"id\":\"%s\"", al->projects[p]->id);
        line = strstr(out, needle);
        CHECK(line != NULL);
        if (!line)
          continue;
        eol = strchr(line, '\n');
        if (eol)
          *eol = 0;
        CHECK(strstr(line, al->projects[p]->selected ? "\"selected\":true" : "\"selected\":false") != NULL);
        if (eol)
          *eol = '\n';
      }
      {
        char spent[64];
        snprintf(spent, sizeof spent, "\"spent\":%llu,", (unsigned long long)al->spent);
        CHECK(strstr(out, spent) != NULL);
      }
    } else {
      fprintf(stderr, "council budget allocate not available; checked with lib/budget.c only\n");
    }
    free(out);
  }
done:
  if (rl)
    councilnet__round_list__free_unpacked(rl, NULL);
  free(pb);
  cn_budget_free(&offline);
  cn_budget_result_free(&res);
  if (started) {
    for (int h = 0; h < NB; h++)
      if (hood[h].pid)
        CHECK(tnode_destroy(&hood[h]) == 0);
    for (int i = 0; i < 2; i++)
      if (dist[i].pid)
        CHECK(tnode_destroy(&dist[i]) == 0);
    CHECK(tnode_destroy(&city) == 0);
  }
  return test_finish("test_budget_fed");
}
