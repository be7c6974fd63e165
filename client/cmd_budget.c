/* cmd_budget.c: `council budget check` and `council budget allocate`:
 * participatory budgeting on a Pabulib .pb file, offline (no node). */
#include "commands.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "councilnet/budget.h"

static const char budget_check_usage[] =
  "Usage: council budget check FILE.pb [--json]\n"
  "\n"
  "Parse a participatory budgeting round in the Pabulib format (approval\n"
  "votes; FILE \"-\" reads stdin) and summarise it: budget, projects, voters,\n"
  "distinct approval sets, assemblies. Offline: no node is contacted.\n"
  "Exit 0 if the file is valid, 1 if not (the first error is printed as\n"
  "\"FILE: line N: reason\"), 2 on a usage error or an unreadable file.\n"
  "--json prints {\"ok\":true,\"description\":S|null,\"budget\":N,\"projects\":N,\n"
  "\"total_cost\":N,\"voters\":N,\"sets\":N,\"approvals\":N,\"assemblies\":N,\n"
  "\"need_weights\":BOOL} or {\"ok\":false,\"error\":REASON}.\n"
  "\n"
  "  --json            machine-readable output\n"
  "  -h, --help        this help\n";

static const char budget_allocate_usage[] =
  "Usage: council budget allocate FILE.pb --rule greedy|mes [--json]\n"
  "\n"
  "Allocate the budget of a Pabulib round (FILE \"-\" reads stdin) with a\n"
  "published rule, offline. Prints per project its id, cost, votes,\n"
  "whether it is selected and, for mes, the price each supporter paid,\n"
  "marking projects chosen in the completion phase; then spent and budget.\n"
  "\n"
  "  greedy  projects by votes (ties: cheaper, then earlier in the file);\n"
  "          each one that still fits is funded, one that does not is skipped.\n"
  "  mes     Method of Equal Shares, approval votes with cost utilities: the\n"
  "          budget is split equally among voters (scaled by the need weights\n"
  "          of META assemblies, if any); a project is funded when its\n"
  "          supporters can pay for it, the one with the largest effective\n"
  "          vote count (cost / payment per voter) first. Completion: the\n"
  "          budget is raised by 1% steps while the outcome still fits in the\n"
  "          real budget, then what is left is filled greedily.\n"
  "\n"
  "--json prints {\"rule\":\"greedy\"|\"mes\",\"budget\":N,\"spent\":N,\"projects\":\n"
  "[{\"id\":S,\"name\":S|null,\"cost\":N,\"votes\":N,\"selected\":BOOL,\n"
  "\"price\":X|null,\"completion\":BOOL}...]}; price is the payment per voter\n"
  "of a project funded by MES (null otherwise).\n"
  "Exit 0, or 2 on a usage error or a file that cannot be read or parsed.\n"
  "\n"
  "  --rule RULE       greedy or mes (required)\n"
  "  --json            machine-readable output\n"
  "  -h, --help        this help\n";

/* Read PATH ("-": stdin) whole into *OUT (NUL-terminated), *LEN bytes.
 * Return 0, or -1 with the reason printed. */
static int read_all(const char *path, char **out, size_t *len)
{
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  char *buf = NULL;
  size_t n = 0, cap = 0;

  *out = NULL;
  *len = 0;
  if (!f) {
    cn_cli_errorf("%s: %s", path, strerror(errno));
    return -1;
  }
  for (;;) {
    size_t got;
    if (cap - n < 65536) {
      char *b;
      cap = cap ? cap * 2 : 65536;
      b = realloc(buf, cap + 1);
      if (!b) {
        cn_cli_errorf("%s: out of memory", path);
        goto fail;
      }
      buf = b;
    }
    got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0) {
      if (ferror(f)) {
        cn_cli_errorf("%s: read error", path);
        goto fail;
      }
      break;
    }
  }
  if (f != stdin)
    fclose(f);
  if (!buf && !(buf = malloc(1))) {
    cn_cli_errorf("%s: out of memory", path);
    return -1;
  }
  buf[n] = '\0';
  *out = buf;
  *len = n;
  return 0;
fail:
  if (f != stdin)
    fclose(f);
  free(buf);
  return -1;
}

/* Parse the common part of both commands: options (--rule when RULE is not
 * NULL) and one FILE. Return CN_EXIT_OK with *PATH set, or an exit status
 * (-1: --help was printed, return CN_EXIT_OK). */
static int budget_args(cn_cli_t *cli, int argc, char **argv, const char **path,
                       const char **rule)
{
  enum { OPT_RULE = CN_OPT_FIRST_LOCAL };
  static const struct option opts[] = {
    {"rule", required_argument, NULL, OPT_RULE},
    CN_CLI_COMMON_LONGOPTS,
    {NULL, 0, NULL, 0}
  };
  int c;

  *path = NULL;
  optind = 0;
  for (;;) {
    c = getopt_long(argc, argv, "h", opts, NULL);
    if (c == -1)
      break;
    if (c == OPT_RULE && rule)
      *rule = optarg;
    else if (c == OPT_RULE)
      return cn_cli_usage_error(cli, "--rule is an option of council budget allocate");
    else if (cn_cli_common_option(cli, c, optarg) <= 0)
      return CN_EXIT_LOCAL;
  }
  if (cli->help) {
    cn_cli_print_usage(cli);
    return -1;
  }
  if (optind >= argc)
    return cn_cli_usage_error(cli, "FILE.pb is required");
  if (optind + 1 < argc)
    return cn_cli_usage_error(cli, "unexpected argument \"%s\"", argv[optind + 1]);
  *path = argv[optind];
  return CN_EXIT_OK;
}

/* Read and parse PATH into B. Return CN_EXIT_OK; CN_EXIT_LOCAL if the file
 * cannot be read (printed); or CN_EXIT_REFUSED with the parser's reason in
 * ERR (not printed). */
static int budget_load(const char *path, cn_budget_t *b, char *err, size_t errlen)
{
  char *text;
  size_t len;
  int rc;

  memset(b, 0, sizeof *b);
  err[0] = '\0';
  if (read_all(path, &text, &len) != 0)
    return CN_EXIT_LOCAL;
  rc = cn_pabulib_parse(text, len, b, err, errlen) == 0 ? CN_EXIT_OK : CN_EXIT_REFUSED;
  free(text);
  return rc;
}

int cn_cmd_budget_check(cn_cli_t *cli, int argc, char **argv)
{
  cn_budget_t b;
  char err[512];
  const char *path;
  uint64_t voters = 0, approvals = 0, total_cost = 0, over = 0;
  size_t i;
  int rc;

  cli->usage = budget_check_usage;
  rc = budget_args(cli, argc, argv, &path, NULL);
  if (rc != CN_EXIT_OK)
    return rc < 0 ? CN_EXIT_OK : rc;
  rc = budget_load(path, &b, err, sizeof err);
  if (rc == CN_EXIT_LOCAL)
    return rc;
  if (rc != CN_EXIT_OK) {
    if (cli->json) {
      fputs("{\"ok\":false,\"error\":", stdout);
      cn_cli_json_string(stdout, err);
      fputs("}\n", stdout);
    } else {
      fprintf(stderr, "%s: %s\n", path, err);
    }
    return CN_EXIT_REFUSED;
  }
  for (i = 0; i < b.n_sets; i++) {
    voters += b.sets[i].count;
    approvals += b.sets[i].count * b.sets[i].n_projects;
  }
  for (i = 0; i < b.n_projects; i++) {
    total_cost += b.projects[i].cost;
    over += b.projects[i].cost > b.total;
  }
  if (cli->json) {
    fputs("{\"ok\":true,\"description\":", stdout);
    if (b.description)
      cn_cli_json_string(stdout, b.description);
    else
      fputs("null", stdout);
    printf(",\"budget\":%llu,\"projects\":%zu,\"total_cost\":%llu,\"voters\":%llu,"
           "\"sets\":%zu,\"approvals\":%llu,\"assemblies\":%zu,\"need_weights\":%s}\n",
           (unsigned long long)b.total, b.n_projects, (unsigned long long)total_cost,
           (unsigned long long)voters, b.n_sets, (unsigned long long)approvals, b.n_groups,
           b.group_weight ? "true" : "false");
  } else {
    printf("%s: valid Pabulib round (approval votes)\n", path);
    if (b.description)
      printf("  description  %s\n", b.description);
    printf("  budget       %llu\n", (unsigned long long)b.total);
    printf("  projects     %zu, costing %llu in all", b.n_projects,
           (unsigned long long)total_cost);
    if (over)
      printf(" (%llu over the budget)", (unsigned long long)over);
    printf("\n  voters       %llu, %zu distinct approval sets\n", (unsigned long long)voters,
           b.n_sets);
    printf("  approvals    %llu", (unsigned long long)approvals);
    if (voters)
      printf(" (%.2f per voter)", (double)approvals / (double)voters);
    printf("\n");
    if (b.n_groups)
      printf("  assemblies   %zu%s\n", b.n_groups, b.group_weight ? ", with need weights" : "");
  }
  cn_budget_free(&b);
  return CN_EXIT_OK;
}

/* Was project I funded by MES proper (it has a price), as opposed to the
 * greedy fill of the completion? */
static int mes_priced(const cn_budget_t *b, const cn_budget_result_t *r, size_t i)
{
  return r->selected[i] && (r->price[i] > 0 || b->projects[i].cost == 0);
}

static void print_json(const cn_budget_t *b, const cn_budget_result_t *r, int mes)
{
  size_t i;

  printf("{\"rule\":\"%s\",\"budget\":%llu,\"spent\":%llu,\"projects\":[", mes ? "mes" : "greedy",
         (unsigned long long)b->total, (unsigned long long)r->spent);
  for (i = 0; i < b->n_projects; i++) {
    const cn_budget_project_t *p = &b->projects[i];
    printf("%s\n{\"id\":", i ? "," : "");
    cn_cli_json_string(stdout, p->id);
    fputs(",\"name\":", stdout);
    if (p->name)
      cn_cli_json_string(stdout, p->name);
    else
      fputs("null", stdout);
    printf(",\"cost\":%llu,\"votes\":%llu,\"selected\":%s,\"price\":",
           (unsigned long long)p->cost, (unsigned long long)r->votes[i],
           r->selected[i] ? "true" : "false");
    if (mes && mes_priced(b, r, i))
      printf("%.15g", r->price[i]);
    else
      fputs("null", stdout);
    printf(",\"completion\":%s}", r->by_completion[i] ? "true" : "false");
  }
  printf("%s]}\n", b->n_projects ? "\n" : "");
}

static int digits(uint64_t v)
{
  int n = 1;

  while (v >= 10) {
    v /= 10;
    n++;
  }
  return n;
}

static void print_text(const cn_budget_t *b, const cn_budget_result_t *r, int mes)
{
  int wid = 2, wcost = 4, wvotes = 5, wsel = 8, wprice = 11;
  uint64_t voters = 0;
  size_t i, n_sel = 0;

  for (i = 0; i < b->n_sets; i++)
    voters += b->sets[i].count;
  for (i = 0; i < b->n_projects; i++) {
    int w = (int)strlen(b->projects[i].id);
    if (w > wid)
      wid = w;
    if (digits(b->projects[i].cost) > wcost)
      wcost = digits(b->projects[i].cost);
    if (digits(r->votes[i]) > wvotes)
      wvotes = digits(r->votes[i]);
    if (r->by_completion[i])
      wsel = 16;
    n_sel += r->selected[i] != 0;
  }
  printf("rule: %s\n", mes ? "mes (Method of Equal Shares, completion by +1% budget steps "
                             "then greedy)" : "greedy (by votes)");
  if (b->description)
    printf("round: %s\n", b->description);
  printf("%llu voters, %zu projects\n\n", (unsigned long long)voters, b->n_projects);
  printf("%-*s  %*s  %*s  %-*s", wid, "id", wcost, "cost", wvotes, "votes", wsel, "selected");
  if (mes)
    printf("  %*s", wprice, "price/voter");
  printf("  name\n");
  for (i = 0; i < b->n_projects; i++) {
    const cn_budget_project_t *p = &b->projects[i];
    printf("%-*s  %*llu  %*llu  %-*s", wid, p->id, wcost, (unsigned long long)p->cost, wvotes,
           (unsigned long long)r->votes[i], wsel,
           !r->selected[i] ? "no" : r->by_completion[i] ? "yes (completion)" : "yes");
    if (mes && mes_priced(b, r, i))
      printf("  %*.2f", wprice, r->price[i]);
    else if (mes)
      printf("  %*s", wprice, "-");
    printf("  %s\n", p->name ? p->name : "-");
  }
  printf("\n%zu selected; spent %llu of %llu (%llu left)\n", n_sel,
         (unsigned long long)r->spent, (unsigned long long)b->total,
         (unsigned long long)(b->total - r->spent));
}

int cn_cmd_budget_allocate(cn_cli_t *cli, int argc, char **argv)
{
  cn_budget_t b;
  cn_budget_result_t r;
  char err[512];
  const char *path, *rule = NULL;
  int rc, mes;

  cli->usage = budget_allocate_usage;
  rc = budget_args(cli, argc, argv, &path, &rule);
  if (rc != CN_EXIT_OK)
    return rc < 0 ? CN_EXIT_OK : rc;
  if (!rule)
    return cn_cli_usage_error(cli, "--rule greedy|mes is required");
  if (strcmp(rule, "mes") != 0 && strcmp(rule, "greedy") != 0)
    return cn_cli_usage_error(cli, "--rule: expected greedy or mes, not \"%s\"", rule);
  mes = strcmp(rule, "mes") == 0;
  rc = budget_load(path, &b, err, sizeof err);
  if (rc == CN_EXIT_LOCAL)
    return rc;
  if (rc != CN_EXIT_OK) {
    cn_cli_errorf("%s: %s", path, err);
    return CN_EXIT_LOCAL;
  }
  if (cn_budget_allocate(&b, mes ? CN_BUDGET_MES : CN_BUDGET_GREEDY, &r) != 0) {
    cn_cli_errorf("%s: the allocation failed (out of memory?)", path);
    cn_budget_free(&b);
    return CN_EXIT_LOCAL;
  }
  if (cli->json)
    print_json(&b, &r, mes);
  else
    print_text(&b, &r, mes);
  cn_budget_result_free(&r);
  cn_budget_free(&b);
  return CN_EXIT_OK;
}
