/* cmd_budget.c: participatory budgeting. Offline, on a Pabulib .pb file:
 * `council budget check` and `council budget allocate`. At a node:
 * `council budget import|rounds|show|vote|export`. */
#include "commands.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "args.h"
#include "councilnet/budget.h"
#include "councilnet/record.h"

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
  "\"need_weights\":BOOL,\"rule\":S|null} or {\"ok\":false,\"error\":REASON};\n"
  "rule is the file's META rule, as written there.\n"
  "\n"
  "  --json            machine-readable output\n"
  "  -h, --help        this help\n";

static const char budget_allocate_usage[] =
  "Usage: council budget allocate FILE.pb [--rule greedy|mes] [--json]\n"
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
  "  --rule RULE       greedy or mes; without it, the file's META rule\n"
  "                    (greedy, or equalshares for mes: what a node's\n"
  "                    council budget export writes)\n"
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
           "\"sets\":%zu,\"approvals\":%llu,\"assemblies\":%zu,\"need_weights\":%s,"
           "\"rule\":",
           (unsigned long long)b.total, b.n_projects, (unsigned long long)total_cost,
           (unsigned long long)voters, b.n_sets, (unsigned long long)approvals, b.n_groups,
           b.group_weight ? "true" : "false");
    if (b.rule)
      cn_cli_json_string(stdout, b.rule);
    else
      fputs("null", stdout);
    fputs("}\n", stdout);
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
    if (b.rule)
      printf("  rule         %s\n", b.rule);
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
  if (rule && strcmp(rule, "mes") != 0 && strcmp(rule, "greedy") != 0)
    return cn_cli_usage_error(cli, "--rule: expected greedy or mes, not \"%s\"", rule);
  rc = budget_load(path, &b, err, sizeof err);
  if (rc == CN_EXIT_LOCAL)
    return rc;
  if (rc != CN_EXIT_OK) {
    cn_cli_errorf("%s: %s", path, err);
    return CN_EXIT_LOCAL;
  }
  if (!rule) {
    /* The file's own rule, when it is one of ours under Pabulib's name.
     * Variants (equalshares/add1, ...) complete differently: not guessed. */
    if (b.rule && strcmp(b.rule, "greedy") == 0)
      rule = "greedy";
    else if (b.rule && strcmp(b.rule, "equalshares") == 0)
      rule = "mes";
    if (!rule) {
      if (b.rule)
        cn_cli_errorf("%s: the file's rule \"%s\" is not greedy or equalshares", path, b.rule);
      else
        cn_cli_errorf("%s: the file names no rule", path);
      cn_budget_free(&b);
      return cn_cli_usage_error(cli, "--rule greedy|mes is required for this file");
    }
  }
  mes = strcmp(rule, "mes") == 0;
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

/* ---- Rounds at a node ---- */

static const char budget_import_usage[] =
  "Usage: council budget import FILE.pb --title T [--opens TIME|now]\n"
  "                             (--closes TIME | --duration SECONDS)\n"
  "                             [--rule greedy|mes] [--proposals-close TIME]\n"
  "                             --key CONVENER_KEY\n"
  "\n"
  "Open a participatory budget round at the node (kind budget_round, signed\n"
  "by a convener) from a Pabulib file (FILE \"-\" reads stdin). The file's\n"
  "budget is the round's total; each project (project_id, name, cost) is a\n"
  "project of the round, in the file's order. A project's proposer is kept\n"
  "when the proposer column holds an assembly's node key (64 hex digits),\n"
  "else left empty. Need weights come from META assemblies when it names\n"
  "assemblies by their node keys with weights (\"KEY1:1.5,KEY2:1\");\n"
  "assemblies named otherwise are left out (with a warning).\n"
  "The VOTES section is ignored (it may be left out; if there, it must be\n"
  "valid): members vote at their own nodes (council budget vote). The round\n"
  "flows down to the node's child councils; when it closes, each sends its\n"
  "approval sets up and this node allocates by RULE.\n"
  "Prints the round id and the receipt's seq (--json: the Receipt; its\n"
  "record_id is the round id).\n"
  "\n"
  "  --title T            the round's title (required)\n"
  "  --opens TIME|now     start of the voting window (default now)\n"
  "  --closes TIME        end of the window (seconds since the epoch), or\n"
  "  --duration SECONDS   the window's length (one of the two is required)\n"
  "  --rule RULE          greedy (default) or mes, as for council budget allocate\n"
  "  --proposals-close TIME  let the direct child councils propose more projects\n"
  "                       through their delegates' mandates until TIME (at or\n"
  "                       before --opens); then the node publishes the final\n"
  "                       list, which flows down before voting opens\n"
  "  --key FILE           a convener's key file (env COUNCIL_KEY)\n"
  CN_CLI_COMMON_USAGE;

static const char budget_rounds_usage[] =
  "Usage: council budget rounds\n"
  "\n"
  "List the node's budget rounds: id, title, total, rule, voting window and\n"
  "its state at the node's time, whether the node owns the round (it\n"
  "allocates) or follows it from its parent council (it sends its approval\n"
  "sets up when it closes), ballots cast here and child councils' profiles\n"
  "received (one sent in parts counts once all its parts are here, the\n"
  "council's whole one before it until then; those still missing parts are\n"
  "shown apart); once allocated, per project its id,\n"
  "cost, votes, whether it is selected, the price each supporter paid\n"
  "(Equal Shares) and whether it was chosen in the completion phase.\n"
  "--json prints the RoundList.\n"
  "\n"
  CN_CLI_COMMON_USAGE;

static const char budget_show_usage[] =
  "Usage: council budget show ROUND_ID\n"
  "\n"
  "Show budget round ROUND_ID (64 hex digits) in detail: owner, title, total,\n"
  "rule, window, need weights, the projects with their indices (as council\n"
  "budget vote takes them), cost and proposer, and the allocation once made.\n"
  "--json prints the RoundView.\n"
  "\n"
  CN_CLI_COMMON_USAGE;

static const char budget_vote_usage[] =
  "Usage: council budget vote ROUND_ID PROJECT... --key KEY\n"
  "\n"
  "Approve projects of budget round ROUND_ID (64 hex digits) with a member's\n"
  "ballot at this node (kind budget_ballot). PROJECT is a project id or its\n"
  "index in the round (see council budget show; an id is matched first).\n"
  "Name every project you approve: one ballot per member and round, it\n"
  "cannot be replaced. A PROJECT not in the round, or named twice, is refused\n"
  "here (exit 2). Prints the receipt (--json: the Receipt).\n"
  "\n"
  "  --key FILE        the member's key file (env COUNCIL_KEY)\n"
  CN_CLI_COMMON_USAGE;

static const char budget_export_usage[] =
  "Usage: council budget export ROUND_ID [--out FILE]\n"
  "\n"
  "Fetch budget round ROUND_ID as Pabulib text (GET /v1/budget/ROUND_ID.pb):\n"
  "the title as description, the total as budget, the projects, and the\n"
  "approval sets this node holds (its members' ballots and its child\n"
  "councils' profiles), one line per voter, with assemblies numbered 0, 1, ...\n"
  "and their need weights. council budget allocate on it with the round's\n"
  "rule gives the node's allocation. Written to stdout, or to FILE.\n"
  "--json prints {\"round\":ID,\"pb\":TEXT}, or with --out\n"
  "{\"round\":ID,\"out\":FILE,\"bytes\":N}.\n"
  "\n"
  "  --out FILE        write the .pb to FILE\n"
  CN_CLI_COMMON_USAGE;

#define PERMILLE_MAX 4294967295.0

static const char *plural(uint64_t n)
{
  return n == 1 ? "" : "s";
}

static const char *rule_name(Councilnet__BudgetRule r)
{
  return r == COUNCILNET__BUDGET_RULE__EQUAL_SHARES ? "mes" : "greedy";
}

/* Split one .pb line S (N bytes, no line end) into at most MAX fields as
 * the Pabulib parser does (';', double quotes, spaces around fields
 * dropped) into BUF (at least N + MAX bytes). Return the field count. */
static size_t pb_fields(const char *s, size_t n, char *buf, char **f, size_t max)
{
  size_t i = 0, o = 0, k = 0;

  while (k < max) {
    size_t start;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
      i++;
    start = o;
    if (i < n && s[i] == '"') {
      for (i++; i < n; i++) {
        if (s[i] == '"' && i + 1 < n && s[i + 1] == '"')
          i++;
        else if (s[i] == '"')
          break;
        buf[o++] = s[i];
      }
      for (i++; i < n && s[i] != ';'; i++)
        ;
    } else {
      for (; i < n && s[i] != ';'; i++)
        buf[o++] = s[i];
      while (o > start && (buf[o - 1] == ' ' || buf[o - 1] == '\t'))
        o--;
    }
    buf[o++] = '\0';
    f[k++] = buf + start;
    if (i >= n)
      break;
    i++;
  }
  return k;
}

/* Scan TEXT (LEN bytes of .pb) for the value of META key KEY (NULL: none
 * wanted), malloc'd into *VALUE (NULL when absent), and for a VOTES section (*HAS_VOTES).
 * cn_budget_t keeps the need weights but not the assemblies' names, so
 * they are read here. Return 0 or -1 (no memory). */
static int pb_scan(const char *text, size_t len, const char *key, char **value, int *has_votes)
{
  size_t pos = 0;
  int sec = 0, header = 0;      /* sec: 1 META, 2 another section */
  char *buf = NULL, *f[3];

  *value = NULL;
  *has_votes = 0;
  if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
    pos = 3;
  while (pos < len) {
    const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - s) : len - pos, i, k;
    char *b;

    pos += n + (nl ? 1 : 0);
    if (n > 0 && s[n - 1] == '\r')
      n--;
    for (i = 0; i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'); i++)
      ;
    if (i == n)
      continue;
    b = realloc(buf, n + 4);
    if (!b)
      goto fail;
    buf = b;
    k = pb_fields(s, n, buf, f, 3);
    if (header) {
      header = 0;
      continue;
    }
    if (k == 1 && (strcasecmp(f[0], "meta") == 0 || strcasecmp(f[0], "projects") == 0
                   || strcasecmp(f[0], "votes") == 0)) {
      sec = strcasecmp(f[0], "meta") == 0 ? 1 : 2;
      *has_votes |= strcasecmp(f[0], "votes") == 0;
      header = 1;
      continue;
    }
    if (key && sec == 1 && k == 2 && !*value && strcmp(f[0], key) == 0 && !(*value = strdup(f[1])))
      goto fail;
  }
  free(buf);
  return 0;
fail:
  free(buf);
  free(*value);
  *value = NULL;
  return -1;
}

/* Trim spaces and tabs around S[0..*N); return the new start. */
static const char *trim(const char *s, size_t *n)
{
  while (*n > 0 && (*s == ' ' || *s == '\t'))
    s++, (*n)--;
  while (*n > 0 && (s[*n - 1] == ' ' || s[*n - 1] == '\t'))
    (*n)--;
  return s;
}

/* The need weights of B's META assemblies that are named by node keys,
 * into NEEDS/KEYS (N_NEEDS of them, B->n_groups at most); others are left
 * out with a warning. TEXT: the file B was parsed from. Return a CN_EXIT_
 * status (errors printed). */
static int import_needs(const char *path, const char *text, size_t len, const cn_budget_t *b,
                        Councilnet__NeedWeight *needs, uint8_t (*keys)[CN_PK_BYTES],
                        size_t *n_needs)
{
  char *list = NULL, name[2 * CN_PK_BYTES + 1];
  const char *p;
  size_t g = 0, i;
  int has_votes, rc = CN_EXIT_LOCAL;

  *n_needs = 0;
  if (!b->group_weight || b->n_groups == 0)
    return CN_EXIT_OK;          /* no weights: every assembly weighs 1 */
  if (pb_scan(text, len, "assemblies", &list, &has_votes) != 0) {
    cn_cli_errorf("out of memory");
    return CN_EXIT_LOCAL;
  }
  if (!list) {
    cn_cli_errorf("%s: need weights without META assemblies", path);
    return CN_EXIT_LOCAL;
  }
  for (p = list; g < b->n_groups; g++) {
    const char *e = strchr(p, ','), *colon, *nm;
    size_t n = e ? (size_t)(e - p) : strlen(p), nlen;
    double w = b->group_weight[g];

    nm = trim(p, &n);
    colon = memchr(nm, ':', n);
    nlen = colon ? (size_t)(colon - nm) : n;
    nm = trim(nm, &nlen);
    if (nlen != 2 * CN_PK_BYTES) {
      fprintf(stderr, "council: %s: assembly \"%.*s\" is not named by its node key; "
              "its need weight is not imported\n", path, (int)nlen, nm);
    } else {
      Councilnet__NeedWeight init = COUNCILNET__NEED_WEIGHT__INIT;
      memcpy(name, nm, nlen);
      name[nlen] = '\0';
      if (cn_args_parse_hex32(name, keys[*n_needs]) < 0) {
        fprintf(stderr, "council: %s: assembly \"%s\" is not named by its node key; "
                "its need weight is not imported\n", path, name);
        goto next;
      }
      for (i = 0; i < *n_needs; i++) {
        if (memcmp(keys[i], keys[*n_needs], CN_PK_BYTES) == 0) {
          cn_cli_errorf("%s: META assemblies names %s twice", path, name);
          goto out;
        }
      }
      if (!(w * 1000.0 + 0.5 >= 1.0) || w * 1000.0 + 0.5 > PERMILLE_MAX) {
        cn_cli_errorf("%s: need weight %g of assembly %s: the node takes weights from "
                      "0.001 to %.0f", path, w, name, PERMILLE_MAX / 1000.0);
        goto out;
      }
      needs[*n_needs] = init;
      needs[*n_needs].assembly.data = keys[*n_needs];
      needs[*n_needs].assembly.len = CN_PK_BYTES;
      needs[*n_needs].permille = (uint32_t)(w * 1000.0 + 0.5);
      (*n_needs)++;
    }
  next:
    if (!e)
      break;
    p = e + 1;
  }
  rc = CN_EXIT_OK;
out:
  free(list);
  return rc;
}

int cn_cmd_budget_import(cn_cli_t *cli, int argc, char **argv)
{
  enum { OPT_TITLE = CN_OPT_FIRST_LOCAL, OPT_OPENS, OPT_CLOSES, OPT_DURATION, OPT_RULE,
         OPT_PROPOSALS_CLOSE };
  static const struct option opts[] = {
    {"title", required_argument, NULL, OPT_TITLE},
    {"opens", required_argument, NULL, OPT_OPENS},
    {"closes", required_argument, NULL, OPT_CLOSES},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"rule", required_argument, NULL, OPT_RULE},
    {"proposals-close", required_argument, NULL, OPT_PROPOSALS_CLOSE},
    CN_CLI_KEY_LONGOPT,
    CN_CLI_COMMON_LONGOPTS,
    {NULL, 0, NULL, 0}
  };
  Councilnet__BudgetRound body = COUNCILNET__BUDGET_ROUND__INIT;
  Councilnet__BudgetProject *projects = NULL, **project_ptrs = NULL;
  Councilnet__NeedWeight *needs = NULL, **need_ptrs = NULL;
  Councilnet__Receipt *receipt = NULL;
  uint8_t (*proposers)[CN_PK_BYTES] = NULL, (*need_keys)[CN_PK_BYTES] = NULL;
  uint8_t sk[CN_SK_BYTES];
  cn_budget_t b;
  char err[512], id[2 * CN_HASH_BYTES + 1], *text = NULL, *list = NULL;
  const char *path, *title = NULL;
  uint64_t now = (uint64_t)time(NULL), opens = now, closes = 0, duration = 0, voters = 0;
  uint64_t proposals_close = 0;
  size_t len = 0, n_needs = 0, i;
  int c, have_closes = 0, have_duration = 0, has_votes = 0, rc = CN_EXIT_LOCAL;

  memset(&b, 0, sizeof b);
  body.rule = COUNCILNET__BUDGET_RULE__GREEDY;
  cli->usage = budget_import_usage;
  optind = 0;
  for (;;) {
    c = getopt_long(argc, argv, "h", opts, NULL);
    if (c == -1)
      break;
    switch (c) {
    case OPT_TITLE:
      title = optarg;
      break;
    case OPT_OPENS:
      if (cn_args_parse_time(optarg, now, &opens) < 0) {
        rc = cn_cli_usage_error(cli, "--opens: expected seconds since the epoch or \"now\"");
        goto out;
      }
      break;
    case OPT_CLOSES:
      if (cn_args_parse_time(optarg, now, &closes) < 0) {
        rc = cn_cli_usage_error(cli, "--closes: expected seconds since the epoch");
        goto out;
      }
      have_closes = 1;
      break;
    case OPT_DURATION:
      if (cn_args_parse_u64(optarg, &duration) < 0 || duration == 0) {
        rc = cn_cli_usage_error(cli, "--duration: expected a positive number of seconds");
        goto out;
      }
      have_duration = 1;
      break;
    case OPT_PROPOSALS_CLOSE:
      if (cn_args_parse_time(optarg, now, &proposals_close) < 0 || proposals_close == 0) {
        rc = cn_cli_usage_error(cli, "--proposals-close: expected seconds since the epoch");
        goto out;
      }
      break;
    case OPT_RULE:
      if (strcmp(optarg, "greedy") == 0) {
        body.rule = COUNCILNET__BUDGET_RULE__GREEDY;
      } else if (strcmp(optarg, "mes") == 0) {
        body.rule = COUNCILNET__BUDGET_RULE__EQUAL_SHARES;
      } else {
        rc = cn_cli_usage_error(cli, "--rule: expected greedy or mes, not \"%s\"", optarg);
        goto out;
      }
      break;
    default:
      if (cn_cli_common_option(cli, c, optarg) <= 0)
        goto out;
    }
  }
  if (cli->help) {
    rc = cn_cli_print_usage(cli);
    goto out;
  }
  if (optind >= argc) {
    rc = cn_cli_usage_error(cli, "FILE.pb is required");
    goto out;
  }
  if (optind + 1 < argc) {
    rc = cn_cli_usage_error(cli, "unexpected argument \"%s\"", argv[optind + 1]);
    goto out;
  }
  path = argv[optind];
  if (!title || !*title) {
    rc = cn_cli_usage_error(cli, "--title is required");
    goto out;
  }
  if (have_closes == have_duration) {
    rc = cn_cli_usage_error(cli, "give --closes TIME or --duration SECONDS (one of them)");
    goto out;
  }
  if (have_duration) {
    if (opens > UINT64_MAX - duration) {
      rc = cn_cli_usage_error(cli, "--duration: too long");
      goto out;
    }
    closes = opens + duration;
  }
  if (opens >= closes) {
    rc = cn_cli_usage_error(cli, "the window must open before it closes");
    goto out;
  }
  if (proposals_close > opens) {
    rc = cn_cli_usage_error(cli, "--proposals-close must be at or before --opens");
    goto out;
  }
  if (read_all(path, &text, &len) != 0)
    goto out;
  if (pb_scan(text, len, NULL, &list, &has_votes) != 0) {
    cn_cli_errorf("out of memory");
    goto out;
  }
  if (!has_votes) {
    /* A round without ballots yet: the parser wants the section. */
    static const char votes[] = "\nVOTES\nvoter_id;vote\n";
    char *t = realloc(text, len + sizeof votes);
    if (!t) {
      cn_cli_errorf("out of memory");
      goto out;
    }
    text = t;
    memcpy(text + len, votes, sizeof votes);
    len += sizeof votes - 1;
  }
  if (cn_pabulib_parse(text, len, &b, err, sizeof err) != 0) {
    cn_cli_errorf("%s: %s", path, err);
    goto out;
  }
  if (b.total == 0 || b.n_projects == 0) {
    cn_cli_errorf("%s: a round needs a budget above 0 and at least one project", path);
    goto out;
  }
  projects = calloc(b.n_projects, sizeof *projects);
  project_ptrs = calloc(b.n_projects, sizeof *project_ptrs);
  proposers = calloc(b.n_projects, sizeof *proposers);
  needs = calloc(b.n_groups + 1, sizeof *needs);
  need_ptrs = calloc(b.n_groups + 1, sizeof *need_ptrs);
  need_keys = calloc(b.n_groups + 1, sizeof *need_keys);
  if (!projects || !project_ptrs || !proposers || !needs || !need_ptrs || !need_keys) {
    cn_cli_errorf("out of memory");
    goto out;
  }
  for (i = 0; i < b.n_projects; i++) {
    const cn_budget_project_t *p = &b.projects[i];
    Councilnet__BudgetProject init = COUNCILNET__BUDGET_PROJECT__INIT;
    if (p->cost == 0) {
      cn_cli_errorf("%s: project \"%s\" costs 0; a round's projects have a cost", path, p->id);
      goto out;
    }
    projects[i] = init;
    projects[i].id = (char *)p->id;
    projects[i].title = p->name ? p->name : (char *)"";
    projects[i].cost = p->cost;
    if (p->proposer && cn_args_parse_hex32(p->proposer, proposers[i]) == 0) {
      projects[i].proposer.data = proposers[i];
      projects[i].proposer.len = CN_PK_BYTES;
    }
    project_ptrs[i] = &projects[i];
  }
  rc = import_needs(path, text, len, &b, needs, need_keys, &n_needs);
  if (rc != CN_EXIT_OK)
    goto out;
  rc = CN_EXIT_LOCAL;
  for (i = 0; i < n_needs; i++)
    need_ptrs[i] = &needs[i];
  for (i = 0; i < b.n_sets; i++)
    voters += b.sets[i].count;
  body.title = (char *)title;
  body.total = b.total;
  body.projects = project_ptrs;
  body.n_projects = b.n_projects;
  body.opens = opens;
  body.closes = closes;
  body.proposals_close = proposals_close;
  body.needs = need_ptrs;
  body.n_needs = n_needs;
  rc = cn_cli_load_key(cli, sk);
  if (rc != CN_EXIT_OK)
    goto out;
  rc = cn_cli_node_key(cli);
  if (rc != CN_EXIT_OK)
    goto out;
  cn_cli_node_field(cli, &body.node);
  body.created = (uint64_t)time(NULL);
  rc = cn_cli_post_record(cli, "budget_round", &body.base, sk, &receipt);
  if (rc != CN_EXIT_OK)
    goto out;
  if (cli->json) {
    rc = cn_cli_print_json(&receipt->base);
    goto out;
  }
  cn_cli_hex(id, sizeof id, &receipt->record_id, CN_HASH_BYTES);
  printf("%s\naccepted: seq %llu\n", id, (unsigned long long)receipt->seq);
  printf("round: %zu projects, total %llu, rule %s", b.n_projects,
         (unsigned long long)b.total, rule_name(body.rule));
  if (n_needs)
    printf(", need weights for %zu assembl%s", n_needs, n_needs == 1 ? "y" : "ies");
  if (voters)
    printf("; the file's %llu vote%s not imported", (unsigned long long)voters,
           voters == 1 ? " is" : "s are");
  if (proposals_close)
    printf("; child councils propose projects until %llu", (unsigned long long)proposals_close);
  printf("\n");
out:
  if (receipt)
    councilnet__receipt__free_unpacked(receipt, NULL);
  sodium_memzero(sk, sizeof sk);
  free(projects);
  free(project_ptrs);
  free(proposers);
  free(needs);
  free(need_ptrs);
  free(need_keys);
  free(text);
  free(list);
  cn_budget_free(&b);
  return rc;
}

/* Parse the options of a round query: the common ones, --key when KEY_OK,
 * --out into *OUT_PATH when OUT_PATH is not NULL; then at least NPOS
 * positional arguments (exactly NPOS unless MORE). Return CN_EXIT_OK to go
 * on; *DONE is set when --help was answered. */
static int round_args(cn_cli_t *cli, int argc, char **argv, int npos, int more, int key_ok,
                      const char **out_path, int *done)
{
  enum { OPT_OUT = CN_OPT_FIRST_LOCAL };
  static const struct option opts[] = {
    {"out", required_argument, NULL, OPT_OUT},
    CN_CLI_KEY_LONGOPT,
    CN_CLI_COMMON_LONGOPTS,
    {NULL, 0, NULL, 0}
  };
  int c;

  *done = 0;
  optind = 0;
  for (;;) {
    c = getopt_long(argc, argv, "h", opts, NULL);
    if (c == -1)
      break;
    if (c == OPT_OUT && out_path)
      *out_path = optarg;
    else if (c == OPT_OUT)
      return cn_cli_usage_error(cli, "--out goes with council budget export");
    else if (c == CN_OPT_KEY && !key_ok)
      return cn_cli_usage_error(cli, "--key: %s signs nothing", cli->command);
    else if (cn_cli_common_option(cli, c, optarg) <= 0)
      return CN_EXIT_LOCAL;
  }
  if (cli->help) {
    *done = 1;
    return cn_cli_print_usage(cli);
  }
  if (argc - optind < npos)
    return cn_cli_usage_error(cli, npos > 1 ? "ROUND_ID and at least one PROJECT are required"
                              : "ROUND_ID is required");
  if (!more && argc - optind > npos)
    return cn_cli_usage_error(cli, "unexpected argument \"%s\"", argv[optind + npos]);
  if (npos && strlen(argv[optind]) != 2 * CN_HASH_BYTES)
    return cn_cli_usage_error(cli, "ROUND_ID must be %d hex digits", 2 * CN_HASH_BYTES);
  return CN_EXIT_OK;
}

/* GET /v1/budget and find round ID in it: *VIEW points into *LIST (free
 * *LIST with councilnet__round_list__free_unpacked). A round the node does
 * not list is reported as the node reports an unknown id (NOT_FOUND, exit
 * 1). Return a CN_EXIT_ status. */
static int round_find(cn_cli_t *cli, const uint8_t id[CN_HASH_BYTES],
                      Councilnet__RoundList **list, const Councilnet__RoundView **view)
{
  Councilnet__Error e = COUNCILNET__ERROR__INIT;
  char hex[2 * CN_HASH_BYTES + 1], msg[160];
  size_t i;
  int rc;

  *view = NULL;
  rc = cn_cli_get(cli, "/v1/budget", &councilnet__round_list__descriptor,
                  (ProtobufCMessage **)list);
  if (rc != CN_EXIT_OK)
    return rc;
  for (i = 0; i < (*list)->n_rounds; i++) {
    const Councilnet__RoundView *v = (*list)->rounds[i];
    if (v->round && v->id.len == CN_HASH_BYTES && memcmp(v->id.data, id, CN_HASH_BYTES) == 0) {
      *view = v;
      return CN_EXIT_OK;
    }
  }
  cn_hex_encode(hex, id, CN_HASH_BYTES);
  snprintf(msg, sizeof msg, "no budget round %s at this node", hex);
  if (cli->json) {
    e.code = COUNCILNET__ERROR_CODE__NOT_FOUND;
    e.name = (char *)"NOT_FOUND";
    e.message = msg;
    cn_cli_print_json(&e.base);
  } else {
    fprintf(stderr, "refused: NOT_FOUND: %s (see council budget rounds)\n", msg);
  }
  return CN_EXIT_REFUSED;
}

/* The node's clock (GET /v1/node), for the state of a window. */
static int node_time(cn_cli_t *cli, uint64_t *now)
{
  Councilnet__NodeInfo *info = NULL;
  int rc = cn_cli_get(cli, "/v1/node", &councilnet__node_info__descriptor,
                      (ProtobufCMessage **)&info);

  if (rc == CN_EXIT_OK)
    *now = info->time;
  if (info)
    councilnet__node_info__free_unpacked(info, NULL);
  return rc;
}

static const char *round_state(const Councilnet__RoundView *v, uint64_t now)
{
  if (v->allocation)
    return "allocated";
  if (now < v->round->opens)
    return "upcoming";
  if (now < v->round->closes && !v->mandated)
    return "open";
  if (v->mandated)
    return "closed, approval sets sent up";
  return v->owned ? "closed, allocation pending" : "closed, approval sets not sent yet";
}

static void print_window(const Councilnet__RoundView *v, uint64_t now)
{
  char t0[64], t1[64];

  cn_cli_format_time(t0, sizeof t0, v->round->opens);
  cn_cli_format_time(t1, sizeof t1, v->round->closes);
  printf("  window     %s .. %s (%s)\n", t0, t1, round_state(v, now));
}

static void print_role(const Councilnet__RoundView *v)
{
  char partial[128] = "";

  /* a child's mandate in parts counts once every part is here; the
   * council's whole one before it, if any, until then */
  if (v->partial)
    snprintf(partial, sizeof partial, " (%llu mandate%s with parts still missing, not "
             "counted yet)", (unsigned long long)v->partial, plural(v->partial));
  printf("  %-10s %s; %llu ballot%s here, %llu child profile%s received%s%s\n",
         v->owned ? "owned" : "followed",
         v->owned ? "this node allocates" : "from the parent council",
         (unsigned long long)v->ballots, plural(v->ballots), (unsigned long long)v->profiles,
         plural(v->profiles), partial, !v->owned && v->mandated ? "; approval sets sent up" : "");
}

/* The allocation of V (set), one line per project. */
static void print_allocation(const Councilnet__RoundView *v)
{
  const Councilnet__BudgetAllocation *a = v->allocation;
  int wid = 2, wcost = 4, wvotes = 5, wsel = 8;
  int mes = a->rule == COUNCILNET__BUDGET_RULE__EQUAL_SHARES;
  size_t i, n_sel = 0;

  for (i = 0; i < a->n_projects; i++) {
    const Councilnet__ProjectResult *p = a->projects[i];
    if ((int)strlen(p->id) > wid)
      wid = (int)strlen(p->id);
    if (digits(p->cost) > wcost)
      wcost = digits(p->cost);
    if (digits(p->votes) > wvotes)
      wvotes = digits(p->votes);
    if (p->completion)
      wsel = 16;
    n_sel += p->selected != 0;
  }
  printf("  allocation %s: %zu selected, spent %llu of %llu, %llu voter%s\n", rule_name(a->rule),
         n_sel, (unsigned long long)a->spent, (unsigned long long)v->round->total,
         (unsigned long long)a->voters, plural(a->voters));
  printf("    %-*s  %*s  %*s  %-*s%s\n", wid, "id", wcost, "cost", wvotes, "votes", wsel,
         "selected", mes ? "  price/voter" : "");
  for (i = 0; i < a->n_projects; i++) {
    const Councilnet__ProjectResult *p = a->projects[i];
    printf("    %-*s  %*llu  %*llu  %-*s", wid, p->id, wcost, (unsigned long long)p->cost, wvotes,
           (unsigned long long)p->votes, wsel,
           !p->selected ? "no" : p->completion ? "yes (completion)" : "yes");
    if (mes && p->selected && p->price > 0)
      printf("  %11.2f", p->price);
    else if (mes)
      printf("  %11s", "-");
    printf("\n");
  }
}

int cn_cmd_budget_rounds(cn_cli_t *cli, int argc, char **argv)
{
  Councilnet__RoundList *list = NULL;
  char id[2 * CN_HASH_BYTES + 1];
  uint64_t now = 0;
  size_t i;
  int done, rc;

  cli->usage = budget_rounds_usage;
  rc = round_args(cli, argc, argv, 0, 0, 0, NULL, &done);
  if (rc != CN_EXIT_OK || done)
    goto out;
  rc = cn_cli_get(cli, "/v1/budget", &councilnet__round_list__descriptor,
                  (ProtobufCMessage **)&list);
  if (rc != CN_EXIT_OK)
    goto out;
  if (cli->json) {
    rc = cn_cli_print_json(&list->base);
    goto out;
  }
  if (list->n_rounds == 0) {
    printf("no budget rounds\n");
    goto out;
  }
  rc = node_time(cli, &now);
  if (rc != CN_EXIT_OK)
    goto out;
  for (i = 0; i < list->n_rounds; i++) {
    const Councilnet__RoundView *v = list->rounds[i];
    if (!v->round)
      continue;
    cn_cli_hex(id, sizeof id, &v->id, CN_HASH_BYTES);
    printf("%s%s  %s\n", i ? "\n" : "", id, v->round->title);
    printf("  total      %llu, %zu projects, rule %s\n", (unsigned long long)v->round->total,
           v->round->n_projects, rule_name(v->round->rule));
    print_window(v, now);
    print_role(v);
    if (v->allocation)
      print_allocation(v);
  }
out:
  if (list)
    councilnet__round_list__free_unpacked(list, NULL);
  return rc;
}

int cn_cmd_budget_show(cn_cli_t *cli, int argc, char **argv)
{
  Councilnet__RoundList *list = NULL;
  const Councilnet__RoundView *v = NULL;
  const Councilnet__BudgetRound *r;
  uint8_t id[CN_HASH_BYTES];
  char hex[2 * CN_PK_BYTES + 1], t[64];
  uint64_t now = 0, cost = 0;
  size_t i;
  int done, rc, wid = 2, wcost = 4;

  cli->usage = budget_show_usage;
  rc = round_args(cli, argc, argv, 1, 0, 0, NULL, &done);
  if (rc != CN_EXIT_OK || done)
    goto out;
  if (cn_args_parse_hex32(argv[optind], id) < 0) {
    rc = cn_cli_usage_error(cli, "ROUND_ID must be %d hex digits", 2 * CN_HASH_BYTES);
    goto out;
  }
  rc = round_find(cli, id, &list, &v);
  if (rc != CN_EXIT_OK)
    goto out;
  if (cli->json) {
    rc = cn_cli_print_json(&v->base);
    goto out;
  }
  rc = node_time(cli, &now);
  if (rc != CN_EXIT_OK)
    goto out;
  r = v->round;
  cn_cli_hex(hex, sizeof hex, &v->id, CN_HASH_BYTES);
  printf("Round:       %s\n", hex);
  printf("Title:       %s\n", r->title);
  cn_cli_hex(hex, sizeof hex, &r->node, CN_PK_BYTES);
  cn_cli_format_time(t, sizeof t, r->created);
  printf("Owner:       node %s, created %s\n", hex, t);
  for (i = 0; i < r->n_projects; i++)
    cost += r->projects[i]->cost;
  printf("Total:       %llu (the projects cost %llu in all)\n", (unsigned long long)r->total,
         (unsigned long long)cost);
  printf("Rule:        %s\n", r->rule == COUNCILNET__BUDGET_RULE__EQUAL_SHARES
         ? "mes (Method of Equal Shares, with completion)" : "greedy (by votes)");
  printf("Round at this node:\n");
  print_window(v, now);
  print_role(v);
  for (i = 0; i < r->n_needs; i++) {
    cn_cli_hex(hex, sizeof hex, &r->needs[i]->assembly, CN_PK_BYTES);
    printf("%s %s weighs %.3f\n", i ? "            " : "Need weights:", hex,
           r->needs[i]->permille / 1000.0);
  }
  for (i = 0; i < r->n_projects; i++) {
    if ((int)strlen(r->projects[i]->id) > wid)
      wid = (int)strlen(r->projects[i]->id);
    if (digits(r->projects[i]->cost) > wcost)
      wcost = digits(r->projects[i]->cost);
  }
  printf("Projects:\n    #  %-*s  %*s  %-16s  title\n", wid, "id", wcost, "cost", "proposer");
  for (i = 0; i < r->n_projects; i++) {
    const Councilnet__BudgetProject *p = r->projects[i];
    cn_cli_hex(hex, sizeof hex, &p->proposer, 8);
    printf("  %3zu  %-*s  %*llu  %-16s  %s\n", i, wid, p->id, wcost, (unsigned long long)p->cost,
           hex, p->title && *p->title ? p->title : "-");
  }
  if (v->allocation)
    print_allocation(v);
out:
  if (list)
    councilnet__round_list__free_unpacked(list, NULL);
  return rc;
}

/* Resolve PROJECT against round R: an id, else an index. Return 0 or -1. */
static int resolve_project(Councilnet__BudgetProject *const *projects, size_t n, const char *arg,
                           uint32_t *out)
{
  uint64_t idx;
  size_t i;

  for (i = 0; i < n; i++) {
    if (strcmp(projects[i]->id, arg) == 0) {
      *out = (uint32_t)i;
      return 0;
    }
  }
  if (cn_args_parse_u64(arg, &idx) == 0 && idx < n) {
    *out = (uint32_t)idx;
    return 0;
  }
  return -1;
}

/* The round V as its owner signed it, for a ballot: the round's envelope
 * (hashing to ID) and, once published, the final list signed by the
 * owner node. The node's view is not taken for it: a dishonest node could
 * list the projects in another order and make the member approve others.
 * *ROUND and *LIST (NULL if none) are freed by the caller; *PROJECTS,
 * *N name the list to vote on. Return a CN_EXIT_ status (printed). */
static int round_signed(const Councilnet__RoundView *v, const uint8_t id[CN_HASH_BYTES],
                        Councilnet__BudgetRound **round, Councilnet__BudgetProjects **list,
                        Councilnet__BudgetProject ***projects, size_t *n)
{
  cn_record_t rec;
  uint8_t got[CN_HASH_BYTES];
  int rc = CN_EXIT_REFUSED;

  *round = NULL;
  *list = NULL;
  memset(&rec, 0, sizeof rec);
  if (!v->envelope.len) {
    cn_cli_errorf("the node does not show the round as its owner signed it (a node from before "
                  "November 2026?); nothing was signed");
    return rc;
  }
  cn_crypto_hash(got, v->envelope.data, v->envelope.len);
  if (memcmp(got, id, CN_HASH_BYTES) != 0 || cn_record_open(v->envelope.data, v->envelope.len,
                                                            &rec) != CN_OK ||
      strcmp(rec.kind, "budget_round") != 0 ||
      !(*round = (Councilnet__BudgetRound *)cn_pb_unpack_strict(
            &councilnet__budget_round__descriptor, rec.body, rec.body_len))) {
    cn_cli_errorf("the node's copy of the round is not the signed round asked for; nothing was "
                  "signed");
    goto out;
  }
  *projects = (*round)->projects;
  *n = (*round)->n_projects;
  cn_record_close(&rec);
  if (v->projects_envelope.len) {
    if (cn_record_open(v->projects_envelope.data, v->projects_envelope.len, &rec) != CN_OK ||
        strcmp(rec.kind, "budget_projects") != 0 || (*round)->node.len != CN_PK_BYTES ||
        memcmp(rec.signer, (*round)->node.data, CN_PK_BYTES) != 0 ||
        !(*list = (Councilnet__BudgetProjects *)cn_pb_unpack_strict(
              &councilnet__budget_projects__descriptor, rec.body, rec.body_len)) ||
        (*list)->round.len != CN_HASH_BYTES || memcmp((*list)->round.data, id, CN_HASH_BYTES) != 0) {
      cn_cli_errorf("the node's project list is not the one the round's owner signed; nothing "
                    "was signed");
      goto out;
    }
    *projects = (*list)->projects;
    *n = (*list)->n_projects;
  } else if (v->round && v->round->n_projects != *n) {
    /* the view shows a published list it does not show signed */
    cn_cli_errorf("the node lists %zu projects but shows no signed list for them; nothing was "
                  "signed", v->round->n_projects);
    goto out;
  }
  rc = CN_EXIT_OK;
out:
  cn_record_close(&rec);
  return rc;
}

static int u32_cmp(const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

int cn_cmd_budget_vote(cn_cli_t *cli, int argc, char **argv)
{
  Councilnet__BudgetBallot body = COUNCILNET__BUDGET_BALLOT__INIT;
  Councilnet__RoundList *list = NULL;
  Councilnet__Receipt *receipt = NULL;
  Councilnet__BudgetRound *signed_round = NULL;
  Councilnet__BudgetProjects *signed_list = NULL;
  Councilnet__BudgetProject **choices = NULL;
  const Councilnet__RoundView *v = NULL;
  uint8_t id[CN_HASH_BYTES], sk[CN_SK_BYTES];
  uint32_t *projects = NULL;
  char hex[2 * CN_HASH_BYTES + 1];
  size_t n, i, n_choices = 0;
  int done, rc;

  cli->usage = budget_vote_usage;
  rc = round_args(cli, argc, argv, 2, 1, 1, NULL, &done);
  if (rc != CN_EXIT_OK || done)
    goto out;
  rc = CN_EXIT_LOCAL;
  if (cn_args_parse_hex32(argv[optind], id) < 0) {
    rc = cn_cli_usage_error(cli, "ROUND_ID must be %d hex digits", 2 * CN_HASH_BYTES);
    goto out;
  }
  n = (size_t)(argc - optind - 1);
  projects = calloc(n, sizeof *projects);
  if (!projects) {
    cn_cli_errorf("out of memory");
    goto out;
  }
  rc = cn_cli_node_key(cli);
  if (rc != CN_EXIT_OK)
    goto out;
  rc = round_find(cli, id, &list, &v);
  if (rc != CN_EXIT_OK)
    goto out;
  rc = round_signed(v, id, &signed_round, &signed_list, &choices, &n_choices);
  if (rc != CN_EXIT_OK)
    goto out;
  for (i = 0; i < n; i++) {
    const char *arg = argv[optind + 1 + (int)i];
    if (resolve_project(choices, n_choices, arg, &projects[i]) < 0) {
      rc = cn_cli_usage_error(cli, "\"%s\" is not a project of this round: give a project id "
                              "or an index below %zu (see council budget show)", arg, n_choices);
      goto out;
    }
  }
  qsort(projects, n, sizeof *projects, u32_cmp);
  for (i = 1; i < n; i++) {
    if (projects[i] == projects[i - 1]) {
      rc = cn_cli_usage_error(cli, "project \"%s\" is named twice", choices[projects[i]]->id);
      goto out;
    }
  }
  rc = cn_cli_load_key(cli, sk);
  if (rc != CN_EXIT_OK)
    goto out;
  cn_cli_node_field(cli, &body.node);
  body.created = (uint64_t)time(NULL);
  body.round.data = id;
  body.round.len = CN_HASH_BYTES;
  body.projects = projects;
  body.n_projects = n;
  rc = cn_cli_post_record(cli, "budget_ballot", &body.base, sk, &receipt);
  if (rc != CN_EXIT_OK)
    goto out;
  if (!cli->json) {
    cn_hex_encode(hex, id, CN_HASH_BYTES);
    printf("Round:      %s  %s\n", hex, signed_round->title);
    printf("Approved:   ");
    for (i = 0; i < n; i++)
      printf("%s%s (#%u)", i ? ", " : "", choices[projects[i]]->id, projects[i]);
    printf("\n");
  }
  rc = cn_cli_print_receipt(cli, receipt);
out:
  if (receipt)
    councilnet__receipt__free_unpacked(receipt, NULL);
  if (list)
    councilnet__round_list__free_unpacked(list, NULL);
  if (signed_round)
    councilnet__budget_round__free_unpacked(signed_round, NULL);
  if (signed_list)
    councilnet__budget_projects__free_unpacked(signed_list, NULL);
  sodium_memzero(sk, sizeof sk);
  free(projects);
  return rc;
}

/* The export is data: to a file or a pipe it goes out byte for byte,
 * around the client's output filter (safeout.h); to a terminal it is
 * shown through the filter like any text a node sent. */
static int budget_write_stdout(const uint8_t *data, size_t len)
{
  if (fflush(stdout) != 0)
    return -1;
  if (isatty(STDOUT_FILENO))
    return fwrite(data, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : -1;
  return cn_cli_write_all(STDOUT_FILENO, data, len);
}

int cn_cmd_budget_export(cn_cli_t *cli, int argc, char **argv)
{
  cn_http_resp_t resp;
  uint8_t id[CN_HASH_BYTES];
  char path[128], hex[2 * CN_HASH_BYTES + 1];
  const char *out_path = NULL;
  FILE *f;
  int done, rc;

  memset(&resp, 0, sizeof resp);
  cli->usage = budget_export_usage;
  rc = round_args(cli, argc, argv, 1, 0, 0, &out_path, &done);
  if (rc != CN_EXIT_OK || done)
    goto out;
  if (cn_args_parse_hex32(argv[optind], id) < 0) {
    rc = cn_cli_usage_error(cli, "ROUND_ID must be %d hex digits", 2 * CN_HASH_BYTES);
    goto out;
  }
  if (out_path && !*out_path) {
    rc = cn_cli_usage_error(cli, "--out: expected a file name");
    goto out;
  }
  cn_hex_encode(hex, id, CN_HASH_BYTES);
  snprintf(path, sizeof path, "/v1/budget/%s.pb", hex);
  rc = cn_cli_get_raw(cli, path, &resp);
  if (rc != CN_EXIT_OK)
    goto out;
  if (strncmp(resp.content_type, "text/plain", 10) != 0) {
    cn_cli_errorf("GET %s: the node answered %s, not Pabulib text", path,
                  resp.content_type[0] ? resp.content_type : "no content type");
    rc = CN_EXIT_REFUSED;
    goto out;
  }
  rc = CN_EXIT_LOCAL;
  if (out_path) {
    f = fopen(out_path, "wb");
    if (!f) {
      cn_cli_errorf("%s: %s", out_path, strerror(errno));
      goto out;
    }
    if (fwrite(resp.body, 1, resp.len, f) != resp.len) {
      cn_cli_errorf("%s: %s", out_path, strerror(errno));
      fclose(f);
      goto out;
    }
    if (fclose(f) != 0) {
      cn_cli_errorf("%s: %s", out_path, strerror(errno));
      goto out;
    }
    if (cli->json) {
      fputs("{\"round\":", stdout);
      cn_cli_json_string(stdout, hex);
      fputs(",\"out\":", stdout);
      cn_cli_json_string(stdout, out_path);
      printf(",\"bytes\":%zu}\n", resp.len);
    } else {
      printf("round %s: wrote %zu bytes to %s\n", hex, resp.len, out_path);
    }
  } else if (cli->json) {
    fputs("{\"round\":", stdout);
    cn_cli_json_string(stdout, hex);
    fputs(",\"pb\":", stdout);
    cn_cli_json_string(stdout, (const char *)resp.body);
    fputs("}\n", stdout);
  } else if (budget_write_stdout(resp.body, resp.len) != 0) {
    cn_cli_errorf("cannot write the output: %s", strerror(errno));
    goto out;
  }
  rc = CN_EXIT_OK;
out:
  cn_http_resp_clear(&resp);
  return rc;
}
