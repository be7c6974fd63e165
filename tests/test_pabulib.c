/* test_pabulib.c: the Pabulib .pb parser and writer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "councilnet/budget.h"
#include "test.h"

/* A small round by hand: quoting, CRLF, blank lines, extra columns, an
 * empty vote, assemblies by first appearance. */
static const char small_pb[] =
  "\xef\xbb\xbf" "META\n"
  "key;value\n"
  "description;\"Budget 2024; district \"\"North\"\"\"\n"
  "country;Nowhere\n"
  "num_projects;4\n"
  "num_votes;6\n"
  "budget;10\n"
  "vote_type;approval\n"
  "rule;greedy\n"
  "\n"
  "PROJECTS\r\n"
  "project_id;cost;name;category;proposer\r\n"
  "a1;6;Park;green;north\r\n"
  "b2;4.00;\"Bike; lane\";transport;\r\n"
  " c3 ; 4 ;Library;culture;south\n"
  "d4;2;;culture;south\n"
  "VOTES\n"
  "voter_id;age;vote;assembly\n"
  "1;30;a1,b2;north\n"
  "2;41;b2,a1;north\n"
  "3;55; c3 ;south\n"
  "4;23;;south\n"
  "5;67;a1,b2;south\n"
  "6;70;a1,b2,d4;north\n";

static void test_parse_fields(void)
{
  cn_budget_t b;
  char err[256];
  size_t i;

  REQUIRE(cn_pabulib_parse(small_pb, strlen(small_pb), &b, err, sizeof err) == 0);
  CHECK_STR(b.description, "Budget 2024; district \"North\"");
  CHECK_EQ_INT(b.total, 10);
  REQUIRE(b.n_projects == 4);
  CHECK_STR(b.projects[0].id, "a1");
  CHECK_EQ_INT(b.projects[0].cost, 6);
  CHECK_STR(b.projects[0].name, "Park");
  CHECK_STR(b.projects[0].proposer, "north");
  CHECK_STR(b.projects[1].id, "b2");
  CHECK_EQ_INT(b.projects[1].cost, 4);
  CHECK_STR(b.projects[1].name, "Bike; lane");
  CHECK(b.projects[1].proposer == NULL);
  CHECK_STR(b.projects[2].id, "c3");
  CHECK_EQ_INT(b.projects[2].cost, 4);
  CHECK_STR(b.projects[2].name, "Library");
  CHECK_STR(b.projects[2].proposer, "south");
  CHECK_STR(b.projects[3].id, "d4");
  CHECK(b.projects[3].name == NULL);
  CHECK_EQ_INT(b.n_groups, 2);                  /* north = 0, south = 1 */
  CHECK(b.group_weight == NULL);
  /* Sets in order of first appearance: {a1,b2}/north x2, {c3}/south,
   * {}/south, {a1,b2}/south, {a1,b2,d4}/north. */
  REQUIRE(b.n_sets == 5);
  CHECK_EQ_INT(b.sets[0].count, 2);
  CHECK_EQ_INT(b.sets[0].group, 0);
  REQUIRE(b.sets[0].n_projects == 2);
  CHECK_EQ_INT(b.sets[0].projects[0], 0);
  CHECK_EQ_INT(b.sets[0].projects[1], 1);
  CHECK_EQ_INT(b.sets[1].count, 1);
  CHECK_EQ_INT(b.sets[1].group, 1);
  REQUIRE(b.sets[1].n_projects == 1);
  CHECK_EQ_INT(b.sets[1].projects[0], 2);
  CHECK_EQ_INT(b.sets[2].n_projects, 0);
  CHECK_EQ_INT(b.sets[2].group, 1);
  CHECK_EQ_INT(b.sets[3].group, 1);
  CHECK_EQ_INT(b.sets[3].n_projects, 2);
  CHECK_EQ_INT(b.sets[4].group, 0);
  REQUIRE(b.sets[4].n_projects == 3);
  CHECK_EQ_INT(b.sets[4].projects[2], 3);
  for (i = 0; i < b.n_sets; i++)
    CHECK(b.sets[i].count >= 1);
done:
  cn_budget_free(&b);
}

/* Every error names its line. */
static void test_parse_errors(void)
{
  static const struct {
    const char *text;
    const char *err;
  } cases[] = {
    {"", "line 1: no META section"},
    /* a carriage return inside a field, quoted or not: the writer could
     * not carry it back */
    {"META\nkey;value\nbudget;10\nvote_type;approval\nPROJECTS\nproject_id;cost;name\n"
     "1;5;\"a\rb\"\n",
     "line 7: carriage return inside a field"},
    {"META\nkey;value\ndescription;two\rlines\n",
     "line 3: carriage return inside a field"},
    {"PROJECTS\n", "line 1: section PROJECTS before META"},
    {"hello\n", "line 1: expected META"},
    {"META\nkey;value\nvote_type;approval\nPROJECTS\n",
     "line 4: META has no budget"},
    {"META\nkey;value\nbudget;10\nPROJECTS\n", "line 4: META has no vote_type"},
    {"META\nkey;value\nbudget;10\nvote_type;ordinal\n",
     "line 4: vote_type \"ordinal\" is not supported (only approval)"},
    {"META\nkey;value\nbudget;ten\n",
     "line 3: bad budget \"ten\" (a whole number up to 2^53)"},
    {"META\nkey;value\nbudget;10\nbudget;11\n", "line 4: META key \"budget\" twice"},
    {"META\nkey;val\n", "line 2: META header must be key;value"},
    {"META\nkey;value\nbudget;10;x\n", "line 3: 3 fields, the META header has 2"},
    {"META\nkey;value\nbudget;10\nvote_type;approval\n", "line 5: no PROJECTS section"},
    {"META\nkey;value\nbudget;10\nvote_type;approval\nPROJECTS\n",
     "line 6: no header line for PROJECTS"},
    {"META\nkey;value\nbudget;10\nvote_type;approval\nPROJECTS\nproject_id;cost\n1;5\n",
     "line 8: no VOTES section"},
    {"META\nkey;value\nbudget;10\nvote_type;approval\nPROJECTS\nproject_id;name\n",
     "line 6: PROJECTS header needs project_id and cost"},
    {"META\nkey;value\nbudget;10\nvote_type;approval\nPROJECTS\nproject_id;cost\n"
     "1;5\n2;-3\n",
     "line 8: bad cost \"-3\" for project \"2\" (a whole number up to 2^53)"},
    {"META\nkey;value\nbudget;10\nvote_type;approval\nPROJECTS\nproject_id;cost\n"
     "1;5.5\n",
     "line 7: bad cost \"5.5\" for project \"1\" (a whole number up to 2^53)"},
    {"META\nkey;value\nbudget;10\nvote_type;approval\nPROJECTS\nproject_id;cost\n"
     "1;5\n\n1;6\n",
     "line 9: duplicate project_id \"1\""},
    {"META\nkey;value\nbudget;10\nvote_type;approval\nPROJECTS\nproject_id;cost\n"
     "1;5;x\n",
     "line 7: 3 fields, the PROJECTS header has 2"},
    {"META\nkey;value\nbudget;10\nvote_type;approval\nPROJECTS\nproject_id;cost;cost\n",
     "line 6: column \"cost\" twice in header"},
    {"META\nkey;value\nbudget;10\nvote_type;approval\nPROJECTS\nproject_id;cost\n"
     "1;5\nVOTES\nvoter_id;vote\nv1;1\nv2;1,7\n",
     "line 11: unknown project \"7\" in the vote of \"v2\""},
    {"META\nkey;value\nbudget;10\nvote_type;approval\nPROJECTS\nproject_id;cost\n"
     "1;5\nVOTES\nvoter_id;vote\nv1;1,1\n",
     "line 10: project \"1\" twice in the vote of \"v1\""},
    {"META\nkey;value\nbudget;10\nvote_type;approval\nPROJECTS\nproject_id;cost\n"
     "1;5\nVOTES\nvoter_id;vote\nv1;1\nv1;1\n",
     "line 11: duplicate voter_id \"v1\""},
    {"META\nkey;value\nbudget;10\nvote_type;approval\nPROJECTS\nproject_id;cost\n"
     "1;5\nVOTES\nvoter_id;ballot\n",
     "line 9: VOTES header needs voter_id and vote"},
    {"META\nkey;value\nbudget;10\nvote_type;approval\nnum_votes;2\nPROJECTS\n"
     "project_id;cost\n1;5\nVOTES\nvoter_id;vote\nv1;1\n",
     "line 5: num_votes is 2 but VOTES has 1"},
    {"META\nkey;value\nbudget;10\nvote_type;approval\nnum_projects;3\nPROJECTS\n"
     "project_id;cost\n1;5\nVOTES\nvoter_id;vote\n",
     "line 5: num_projects is 3 but PROJECTS has 1"},
    {"META\nkey;value\ndescription;\"open\n", "line 3: unterminated quoted field"},
    {"META\nkey;value\ndescription;say \"hi\"\n",
     "line 3: '\"' inside an unquoted field"},
    {"META\nkey;value\nbudget;10\nvote_type;approval\nMETA\n", "line 5: section META again"},
    {"META\nkey;value\nbudget;10\nvote_type;approval\nassemblies;n:1,s:x\n",
     "line 5: assemblies: bad need weight \"x\""},
    {"META\nkey;value\nbudget;10\nvote_type;approval\nassemblies;n\nPROJECTS\n"
     "project_id;cost\n1;5\nVOTES\nvoter_id;vote;assembly\nv1;1;s\n",
     "line 11: assembly \"s\" is not in META assemblies"},
  };
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cn_budget_t b;
    char err[256];
    int rc = cn_pabulib_parse(cases[i].text, strlen(cases[i].text), &b, err, sizeof err);
    CHECK_EQ_INT(rc, -1);
    CHECK_STR(err, cases[i].err);
    CHECK(b.projects == NULL && b.sets == NULL && b.description == NULL);
  }
  {
    static const char nul[] = "META\nkey;value\nbud\0get;10\n";
    cn_budget_t b;
    char err[64];
    CHECK(cn_pabulib_parse(nul, sizeof nul - 1, &b, err, sizeof err) == -1);
    CHECK_STR(err, "line 3: NUL byte");
    CHECK(cn_pabulib_parse(small_pb, strlen(small_pb), &b, NULL, 0) == 0);  /* no err buffer */
    cn_budget_free(&b);
    CHECK(cn_pabulib_parse("x", 1, &b, err, 4) == -1);   /* truncated message */
    CHECK_STR(err, "lin");
  }
}

/* The sets of X and Y are the same multiset of (projects, group, count)
 * after merging (both come merged here), and everything else is equal. */
static int same_budget(const cn_budget_t *x, const cn_budget_t *y)
{
  size_t i, j;

  if (x->total != y->total || x->n_projects != y->n_projects || x->n_sets != y->n_sets
      || x->n_groups != y->n_groups || !x->group_weight != !y->group_weight)
    return 0;
  if ((x->description || y->description)
      && (!x->description || !y->description || strcmp(x->description, y->description)))
    return 0;
  if ((x->rule || y->rule) && (!x->rule || !y->rule || strcmp(x->rule, y->rule)))
    return 0;
  for (i = 0; i < x->n_projects; i++) {
    const cn_budget_project_t *p = &x->projects[i], *q = &y->projects[i];
    if (strcmp(p->id, q->id) != 0 || p->cost != q->cost)
      return 0;
    if ((p->name || q->name) && (!p->name || !q->name || strcmp(p->name, q->name)))
      return 0;
    if ((p->proposer || q->proposer)
        && (!p->proposer || !q->proposer || strcmp(p->proposer, q->proposer)))
      return 0;
  }
  for (i = 0; x->group_weight && i < x->n_groups; i++)
    if (x->group_weight[i] != y->group_weight[i])
      return 0;
  for (i = 0; i < x->n_sets; i++) {
    const cn_budget_set_t *s = &x->sets[i];
    int found = 0;
    for (j = 0; j < y->n_sets && !found; j++) {
      const cn_budget_set_t *t = &y->sets[j];
      found = s->group == t->group && s->count == t->count && s->n_projects == t->n_projects
              && (s->n_projects == 0
                  || memcmp(s->projects, t->projects, s->n_projects * sizeof *s->projects) == 0);
    }
    if (!found)
      return 0;
  }
  return 1;
}

/* Carriage returns before a line's LF all belong to the line end
 * ("name\r\r\n", a file converted twice): the field is "name", and the
 * budget writes back and reads back the same. */
static void test_cr_line_ends(void)
{
  static const char text[] =
    "META\r\r\nkey;value\r\nbudget;10\r\r\nvote_type;approval\r\n"
    "PROJECTS\r\nproject_id;cost;name\r\n1;5;Benches\r\r\n"
    "VOTES\r\nvoter_id;vote\r\nv1;1\r\r\n";
  cn_budget_t b, back;
  char err[256], *out = NULL;

  memset(&b, 0, sizeof b);
  memset(&back, 0, sizeof back);
  REQUIRE(cn_pabulib_parse(text, sizeof text - 1, &b, err, sizeof err) == 0);
  REQUIRE(b.n_projects == 1);
  CHECK_STR(b.projects[0].name, "Benches");
  REQUIRE(cn_pabulib_write(&b, &out) == 0);
  REQUIRE(cn_pabulib_parse(out, strlen(out), &back, err, sizeof err) == 0);
  CHECK_STR(back.projects[0].name, "Benches");
done:
  free(out);
  cn_budget_free(&b);
  cn_budget_free(&back);
}

static void test_round_trip(void)
{
  cn_budget_t b, c, d;
  char err[256], *text = NULL, *text2 = NULL;

  memset(&c, 0, sizeof c);
  memset(&d, 0, sizeof d);
  REQUIRE(cn_pabulib_parse(small_pb, strlen(small_pb), &b, err, sizeof err) == 0);
  REQUIRE(cn_pabulib_write(&b, &text) == 0);
  if (cn_pabulib_parse(text, strlen(text), &c, err, sizeof err) != 0)
    fprintf(stderr, "%s\n%s\n", err, text);
  REQUIRE(c.n_projects == 4);
  CHECK(same_budget(&b, &c));
  /* Writing again gives the same text. */
  REQUIRE(cn_pabulib_write(&c, &text2) == 0);
  CHECK_STR(text, text2);
  /* The writer's exact output. */
  CHECK(strstr(text, "META\nkey;value\ndescription;\"Budget 2024; district \"\"North\"\"\"\n"
                     "num_projects;4\nnum_votes;6\nbudget;10\nvote_type;approval\n"
                     "rule;greedy\nassemblies;0,1\nPROJECTS\n"
                     "project_id;cost;name;proposer\na1;6;Park;north\n"
                     "b2;4;\"Bike; lane\";\nc3;4;Library;south\nd4;2;;south\n"
                     "VOTES\nvoter_id;vote;assembly\nv1;a1,b2;0\nv2;a1,b2;0\nv3;c3;1\n"
                     "v4;;1\nv5;a1,b2;1\nv6;a1,b2,d4;0\n") == text);
  free(text);
  free(text2);
  text = text2 = NULL;

  /* Need weights travel in META assemblies, and survive exactly. */
  b.group_weight = calloc(2, sizeof *b.group_weight);
  REQUIRE(b.group_weight);
  b.group_weight[0] = 0.1;
  b.group_weight[1] = 2.5;
  REQUIRE(cn_pabulib_write(&b, &text) == 0);
  CHECK(strstr(text, "\nassemblies;0:0.10000000000000001,1:2.5\n") != NULL);
  REQUIRE(cn_pabulib_parse(text, strlen(text), &d, err, sizeof err) == 0);
  CHECK(same_budget(&b, &d));
  REQUIRE(d.group_weight);
  CHECK(d.group_weight[0] == 0.1);

  /* The rule: as the file names it; "unknown" when none is known; a rule
   * the parser would not read back is refused. */
  CHECK_STR(b.rule, "greedy");
  free(text);
  text = NULL;
  free(b.rule);
  b.rule = NULL;
  REQUIRE(cn_pabulib_write(&b, &text) == 0);
  CHECK(strstr(text, "\nrule;unknown\n") != NULL);
  free(text);
  text = NULL;
  b.rule = strdup("equalshares; with completion");
  REQUIRE(b.rule && cn_pabulib_write(&b, &text) == 0);
  CHECK(strstr(text, "\nrule;\"equalshares; with completion\"\n") != NULL);
  cn_budget_free(&d);
  REQUIRE(cn_pabulib_parse(text, strlen(text), &d, err, sizeof err) == 0);
  CHECK_STR(d.rule, "equalshares; with completion");
  free(text);
  text = NULL;
  b.rule[11] = '\n';
  CHECK(cn_pabulib_write(&b, &text) == -1);
  CHECK(text == NULL);
done:
  free(text);
  free(text2);
  cn_budget_free(&b);
  cn_budget_free(&c);
  cn_budget_free(&d);
}

/* A round built with cn_budget_add_set, without groups: written, parsed
 * back and allocated, it gives the same result. Also what the writer
 * refuses. */
static void test_built_round_trip(void)
{
  static const uint32_t ab[] = {0, 1}, c[] = {2}, abd[] = {3, 1, 0};
  cn_budget_t b, p;
  cn_budget_result_t r1, r2;
  char err[256], *text = NULL;
  size_t i;

  memset(&b, 0, sizeof b);
  memset(&p, 0, sizeof p);
  memset(&r1, 0, sizeof r1);
  memset(&r2, 0, sizeof r2);
  b.total = 10;
  b.n_projects = 4;
  b.projects = calloc(4, sizeof *b.projects);
  REQUIRE(b.projects);
  for (i = 0; i < 4; i++)
    snprintf(b.projects[i].id, sizeof b.projects[i].id, "%c", (char)('A' + i));
  b.projects[0].cost = 6;
  b.projects[1].cost = 4;
  b.projects[2].cost = 4;
  b.projects[3].cost = 2;
  REQUIRE(cn_budget_add_set(&b, ab, 2, 5, 0) == 0);
  REQUIRE(cn_budget_add_set(&b, abd, 3, 1, 0) == 0);
  REQUIRE(cn_budget_add_set(&b, c, 1, 4, 0) == 0);
  REQUIRE(cn_pabulib_write(&b, &text) == 0);
  CHECK(strstr(text, "VOTES\nvoter_id;vote\nv1;A,B\n") != NULL);
  CHECK(strstr(text, "\nv10;C\n") != NULL);
  CHECK(strstr(text, "assemblies") == NULL);
  REQUIRE(cn_pabulib_parse(text, strlen(text), &p, err, sizeof err) == 0);
  CHECK(same_budget(&b, &p));
  CHECK_EQ_INT(p.n_groups, 0);
  REQUIRE(cn_budget_allocate(&b, CN_BUDGET_MES, &r1) == 0);
  REQUIRE(cn_budget_allocate(&p, CN_BUDGET_MES, &r2) == 0);
  CHECK_EQ_INT(r1.spent, 10);                  /* B, C, then D by the greedy fill */
  CHECK_EQ_INT(r2.spent, r1.spent);
  for (i = 0; i < 4; i++) {
    CHECK_EQ_INT(r2.selected[i], r1.selected[i]);
    CHECK_EQ_INT(r2.by_completion[i], r1.by_completion[i]);
    CHECK(r2.price[i] == r1.price[i]);
  }
  CHECK(r1.selected[1] && r1.selected[2] && r1.selected[3] && r1.by_completion[3]);
  cn_budget_result_free(&r1);
  cn_budget_result_free(&r2);
  REQUIRE(cn_budget_allocate(&b, CN_BUDGET_GREEDY, &r1) == 0);
  REQUIRE(cn_budget_allocate(&p, CN_BUDGET_GREEDY, &r2) == 0);
  for (i = 0; i < 4; i++)
    CHECK_EQ_INT(r2.selected[i], r1.selected[i]);
  free(text);
  text = NULL;

  /* Refused: what could not be read back the same. */
  b.sets[0].group = 1;                          /* a group but n_groups 0 */
  CHECK(cn_pabulib_write(&b, &text) == -1);
  CHECK(text == NULL);
  b.sets[0].group = 0;
  strcpy(b.projects[1].id, "A");                /* duplicate id */
  CHECK(cn_pabulib_write(&b, &text) == -1);
  strcpy(b.projects[1].id, "B,C");              /* ',' in an id */
  CHECK(cn_pabulib_write(&b, &text) == -1);
  strcpy(b.projects[1].id, "B");
  b.projects[1].name = strdup("two\nlines");
  CHECK(cn_pabulib_write(&b, &text) == -1);
  free(b.projects[1].name);
  b.projects[1].name = NULL;
  CHECK(cn_pabulib_write(&b, &text) == 0);
  free(text);
  CHECK(cn_pabulib_write(NULL, &text) == -1);
  CHECK(text == NULL);
done:
  free(text);
  cn_budget_result_free(&r1);
  cn_budget_result_free(&r2);
  cn_budget_free(&b);
  cn_budget_free(&p);
}

/* The hand-written round allocates the same from the file as when built
 * directly. small_pb has 6 voters: 3 approve a1,b2 (A, B below), 1
 * approves A,B,d4 (D), 1 approves c3 (C), 1 approves nothing. Costs A 6,
 * B 4, C 4, D 2; votes A 4, B 4, C 1, D 1; budget 10.
 * Greedy: B (4 votes, cost 4), A (4 votes, 6): 10. -> A,B.
 * MES, s = 10/6: A pays 1.5 each, key 1.5/6 = 1/4; B pays 1, key 1/4: tie,
 * same votes, B is cheaper. B's supporters keep 2/3: A (4 * 2/3 < 6), C
 * (10/6 < 4) and D (2/3 < 2) are out. Spent 4, left 6 >= 6: completion.
 * After B, A needs 4 (s - 1) >= 6, s >= 2.5 (T = 15, k = 50); D needs
 * s - 1 >= 2, s >= 3; C needs s >= 4. So k = 1..49 give B, and k = 50
 * gives B, A = 10, feasible and exhaustive. -> A+,B, spent 10. */
static void test_parsed_equals_built(void)
{
  static const uint32_t ab[] = {0, 1}, c[] = {2}, abd[] = {0, 1, 3};
  cn_budget_t parsed, built;
  cn_budget_result_t r1, r2, g;
  char err[256];
  size_t i;

  memset(&built, 0, sizeof built);
  memset(&r1, 0, sizeof r1);
  memset(&r2, 0, sizeof r2);
  memset(&g, 0, sizeof g);
  REQUIRE(cn_pabulib_parse(small_pb, strlen(small_pb), &parsed, err, sizeof err) == 0);
  built.total = 10;
  built.n_projects = 4;
  built.projects = calloc(4, sizeof *built.projects);
  REQUIRE(built.projects);
  strcpy(built.projects[0].id, "a1");
  strcpy(built.projects[1].id, "b2");
  strcpy(built.projects[2].id, "c3");
  strcpy(built.projects[3].id, "d4");
  built.projects[0].cost = 6;
  built.projects[1].cost = 4;
  built.projects[2].cost = 4;
  built.projects[3].cost = 2;
  REQUIRE(cn_budget_add_set(&built, ab, 2, 3, 0) == 0);   /* groups do not matter */
  REQUIRE(cn_budget_add_set(&built, abd, 3, 1, 0) == 0);
  REQUIRE(cn_budget_add_set(&built, c, 1, 1, 0) == 0);
  REQUIRE(cn_budget_add_set(&built, NULL, 0, 1, 0) == 0);
  REQUIRE(cn_budget_allocate(&parsed, CN_BUDGET_MES, &r1) == 0);
  REQUIRE(cn_budget_allocate(&built, CN_BUDGET_MES, &r2) == 0);
  for (i = 0; i < 4; i++) {
    CHECK_EQ_INT(r1.selected[i], r2.selected[i]);
    CHECK_EQ_INT(r1.votes[i], r2.votes[i]);
    CHECK_EQ_INT(r1.by_completion[i], r2.by_completion[i]);
    CHECK(r1.price[i] == r2.price[i]);
  }
  CHECK_EQ_INT(r1.votes[0], 4);
  CHECK_EQ_INT(r1.votes[2], 1);
  CHECK(r1.selected[0] && r1.by_completion[0] && r1.selected[1] && !r1.by_completion[1]);
  CHECK(!r1.selected[2] && !r1.selected[3]);
  CHECK_EQ_INT(r1.spent, 10);
  REQUIRE(cn_budget_allocate(&parsed, CN_BUDGET_GREEDY, &g) == 0);
  CHECK(g.selected[0] && g.selected[1] && !g.selected[2] && !g.selected[3]);
done:
  cn_budget_result_free(&r1);
  cn_budget_result_free(&r2);
  cn_budget_result_free(&g);
  cn_budget_free(&parsed);
  cn_budget_free(&built);
}

int main(void)
{
  test_parse_fields();
  test_parse_errors();
  test_cr_line_ends();
  test_round_trip();
  test_built_round_trip();
  test_parsed_equals_built();
  return test_finish("test_pabulib");
}
