/* cmd_mandates.c: `council mandate new|accept|list`. */
#include "commands.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "args.h"
#include "councilnet/pbjson.h"
#include "councilnet/record.h"

#define SHORT_HEX 8              /* bytes shown of ids and keys in listings */
#define MAX_INSTRUCTIONS 256     /* the node's limit per mandate */

static const char mandate_new_usage[] =
  "Usage: council mandate new --credential CRED_ID --instruction SPEC\n"
  "                           [--instruction SPEC]... --key CONVENER_KEY\n"
  "\n"
  "Draft a mandate for the delegate holding credential CRED_ID (64 hex\n"
  "digits); the delegate and the parent node are taken from the node-signed\n"
  "credential. Signed by a convener. The node checks the draft and signs the\n"
  "mandate itself. Prints the draft's receipt and the new mandate's id\n"
  "(--json: {\"receipt\":RECEIPT,\"mandate\":ID}).\n"
  "\n"
  "  --credential ID    the delegate's credential (see council delegate list)\n"
  "  --instruction SPEC one instruction (repeatable, 1 to 256). SPEC is a comma list:\n"
  "                       decision=PROPOSAL_ID   the local decision it comes from\n"
  "                                              (required; it must have passed)\n"
  "                     and exactly one target:\n"
  "                       parent-proposal=ID     a proposal at the parent node\n"
  "                       project=NAME           a budget project; to propose it for\n"
  "                                              the parent's budget round add\n"
  "                                              round=ROUND_ID cost=N [title=TEXT]\n"
  "                       position=TEXT          a free-text position\n"
  "                     then binding or discretionary (default discretionary),\n"
  "                     and for binding choice=N (option index, repeatable;\n"
  "                     required with parent-proposal). Write a comma inside\n"
  "                     a value as \\,\n"
  "                     e.g. decision=ab12...,parent-proposal=cd34...,binding,choice=0\n"
  "  --key FILE         the convener's key file (env COUNCIL_KEY)\n"
  CN_CLI_COMMON_USAGE;

static const char mandate_accept_usage[] =
  "Usage: council mandate accept MANDATE_ID --key DELEGATE_KEY\n"
  "\n"
  "Countersign mandate MANDATE_ID as its delegate (a delivery). The mandate\n"
  "and its credential are fetched as the exact node-signed records, their\n"
  "signatures checked, and both carried in the signed delivery. Prints the\n"
  "instructions and the receipt (--json: the Receipt).\n"
  "\n"
  "  --key FILE        the delegate's key file (env COUNCIL_KEY)\n"
  CN_CLI_COMMON_USAGE;

static const char mandate_list_usage[] =
  "Usage: council mandate list\n"
  "\n"
  "List the node's mandates: id, credential and delegate (shortened), whether\n"
  "the delegate countersigned it, and its instructions. --json prints the\n"
  "MandateList.\n"
  "\n"
  CN_CLI_COMMON_USAGE;

static int bytes_eq(const ProtobufCBinaryData *b, const uint8_t *p, size_t n)
{
  return b->len == n && memcmp(b->data, p, n) == 0;
}

/* Print instruction IN, numbered I, on one line. */
static void print_instruction(size_t i, const Councilnet__Instruction *in)
{
  char dec[2 * SHORT_HEX + 1], target[2 * SHORT_HEX + 1];
  size_t j;

  cn_cli_hex(dec, sizeof dec, &in->decision, SHORT_HEX);
  printf("  %zu. from decision %s: ", i + 1, dec);
  if (in->parent_proposal.len) {
    cn_cli_hex(target, sizeof target, &in->parent_proposal, SHORT_HEX);
    printf("parent proposal %s", target);
  } else if (in->budget_project && *in->budget_project) {
    printf("budget project \"%s\"", in->budget_project);
  } else {
    printf("position \"%s\"", in->position ? in->position : "");
  }
  printf(", %s", in->binding ? "binding" : "discretionary");
  for (j = 0; j < in->n_choices; j++)
    printf("%s%u", j ? "," : ", choice ", in->choices[j]);
  printf("\n");
}

/* The instructions given on the command line. */
typedef struct instr_args_t {
  cn_args_instruction_t *parsed;
  Councilnet__BudgetProject *projects;   /* proposed projects, one per instruction */
  Councilnet__Instruction *msgs;
  Councilnet__Instruction **ptrs;
  size_t n;
} instr_args_t;

static void instr_args_clear(instr_args_t *a)
{
  size_t i;

  for (i = 0; i < a->n; i++)
    cn_args_instruction_clear(&a->parsed[i]);
  free(a->parsed);
  free(a->projects);
  free(a->msgs);
  free(a->ptrs);
  memset(a, 0, sizeof *a);
}

static int instr_args_add(instr_args_t *a, const char *spec, const char **why)
{
  cn_args_instruction_t in, *p;

  memset(&in, 0, sizeof in);
  if (a->n >= MAX_INSTRUCTIONS) {
    *why = "at most 256 instructions";
    return -1;
  }
  if (cn_args_parse_instruction(spec, &in, why) < 0)
    return -1;
  p = realloc(a->parsed, (a->n + 1) * sizeof *p);
  if (!p) {
    cn_args_instruction_clear(&in);
    *why = "out of memory";
    return -1;
  }
  a->parsed = p;
  a->parsed[a->n++] = in;
  return 0;
}

/* Build the Instruction messages (pointing into the parsed ones). Return 0 or -1. */
static int instr_args_build(instr_args_t *a)
{
  size_t i;

  a->msgs = calloc(a->n, sizeof *a->msgs);
  a->ptrs = calloc(a->n, sizeof *a->ptrs);
  a->projects = calloc(a->n, sizeof *a->projects);
  if (!a->msgs || !a->ptrs || !a->projects)
    return -1;
  for (i = 0; i < a->n; i++) {
    Councilnet__Instruction init = COUNCILNET__INSTRUCTION__INIT;
    cn_args_instruction_t *in = &a->parsed[i];
    a->msgs[i] = init;
    a->msgs[i].decision.data = in->decision;
    a->msgs[i].decision.len = CN_HASH_BYTES;
    if (in->has_parent_proposal) {
      a->msgs[i].parent_proposal.data = in->parent_proposal;
      a->msgs[i].parent_proposal.len = CN_HASH_BYTES;
    }
    if (in->project)
      a->msgs[i].budget_project = in->project;
    if (in->has_round) {
      /* a project this assembly proposes for the parent's budget round */
      councilnet__budget_project__init(&a->projects[i]);
      a->projects[i].id = in->project;
      a->projects[i].title = in->title ? in->title : in->project;
      a->projects[i].cost = in->cost;
      a->msgs[i].project = &a->projects[i];
      a->msgs[i].round.data = in->round;
      a->msgs[i].round.len = CN_HASH_BYTES;
    }
    if (in->position)
      a->msgs[i].position = in->position;
    a->msgs[i].binding = in->binding;
    a->msgs[i].choices = in->choices;
    a->msgs[i].n_choices = in->n_choices;
    a->ptrs[i] = &a->msgs[i];
  }
  return 0;
}

/* Return 1 if the node's mandate M carries exactly the content of DRAFT
 * (all but created and draft), else 0. */
static int same_content(const Councilnet__Mandate *m, const Councilnet__Mandate *draft)
{
  Councilnet__Mandate a = *m, b = *draft;
  uint8_t *pa = NULL, *pb = NULL;
  size_t la = 0, lb = 0;
  int same;

  a.created = b.created = 0;
  a.draft.data = b.draft.data = NULL;
  a.draft.len = b.draft.len = 0;
  if (cn_pb_pack(&a.base, &pa, &la) != 0 || cn_pb_pack(&b.base, &pb, &lb) != 0) {
    free(pa);
    return 0;
  }
  same = la == lb && memcmp(pa, pb, la) == 0;
  free(pa);
  free(pb);
  return same;
}

/* Find the node's mandate made from draft DRAFT_ID (GET /v1/mandates), fetch
 * it as a node-signed record and check it carries the content of BODY. Write
 * its id to ID. Return a CN_EXIT_ status. */
static int find_mandate(cn_cli_t *cli, const ProtobufCBinaryData *draft_id,
                        const Councilnet__Mandate *body, uint8_t id[CN_HASH_BYTES])
{
  Councilnet__MandateList *list = NULL;
  Councilnet__Mandate *m = NULL;
  size_t i;
  int rc;

  rc = cn_cli_get(cli, "/v1/mandates", &councilnet__mandate_list__descriptor,
                  (ProtobufCMessage **)&list);
  if (rc != CN_EXIT_OK)
    return rc;
  rc = CN_EXIT_REFUSED;
  for (i = 0; i < list->n_mandates; i++) {
    const Councilnet__MandateView *v = list->mandates[i];
    if (v->mandate && v->id.len == CN_HASH_BYTES
        && bytes_eq(&v->mandate->draft, draft_id->data, draft_id->len))
      break;
  }
  if (i == list->n_mandates) {
    cn_cli_errorf("the node accepted the draft but lists no mandate made from it");
    goto out;
  }
  memcpy(id, list->mandates[i]->id.data, CN_HASH_BYTES);
  rc = cn_cli_get_record(cli, id, "mandate", &councilnet__mandate__descriptor,
                         (ProtobufCMessage **)&m, NULL);
  if (rc != CN_EXIT_OK)
    goto out;
  rc = CN_EXIT_REFUSED;
  if (!bytes_eq(&m->draft, draft_id->data, draft_id->len) || !same_content(m, body)) {
    cn_cli_errorf("the node's mandate differs from the draft");
    goto out;
  }
  rc = CN_EXIT_OK;
out:
  if (m)
    councilnet__mandate__free_unpacked(m, NULL);
  councilnet__mandate_list__free_unpacked(list, NULL);
  return rc;
}

int cn_cmd_mandate_new(cn_cli_t *cli, int argc, char **argv)
{
  enum { OPT_CREDENTIAL = CN_OPT_FIRST_LOCAL, OPT_INSTRUCTION };
  static const struct option opts[] = {
    {"credential", required_argument, NULL, OPT_CREDENTIAL},
    {"instruction", required_argument, NULL, OPT_INSTRUCTION},
    CN_CLI_KEY_LONGOPT,
    CN_CLI_COMMON_LONGOPTS,
    {NULL, 0, NULL, 0}
  };
  Councilnet__Mandate body = COUNCILNET__MANDATE__INIT;
  Councilnet__Credential *cred = NULL;
  Councilnet__Receipt *receipt = NULL;
  instr_args_t instr;
  uint8_t cred_id[CN_HASH_BYTES], mandate_id[CN_HASH_BYTES], sk[CN_SK_BYTES];
  char hex[2 * CN_HASH_BYTES + 1], draft_hex[2 * CN_HASH_BYTES + 1];
  char *json = NULL;
  const char *why = NULL;
  int c, have_cred = 0, rc = CN_EXIT_LOCAL;

  memset(&instr, 0, sizeof instr);
  cli->usage = mandate_new_usage;
  optind = 0;
  for (;;) {
    c = getopt_long(argc, argv, "h", opts, NULL);
    if (c == -1)
      break;
    if (c == OPT_CREDENTIAL) {
      if (cn_args_parse_hex32(optarg, cred_id) < 0) {
        rc = cn_cli_usage_error(cli, "--credential: expected %d hex digits", 2 * CN_HASH_BYTES);
        goto out;
      }
      have_cred = 1;
    } else if (c == OPT_INSTRUCTION) {
      if (instr_args_add(&instr, optarg, &why) < 0) {
        rc = cn_cli_usage_error(cli, "--instruction \"%s\": %s", optarg, why);
        goto out;
      }
    } else if (cn_cli_common_option(cli, c, optarg) <= 0) {
      goto out;
    }
  }
  if (cli->help) {
    rc = cn_cli_print_usage(cli);
    goto out;
  }
  if (optind < argc) {
    rc = cn_cli_usage_error(cli, "unexpected argument \"%s\"", argv[optind]);
    goto out;
  }
  if (!have_cred) {
    rc = cn_cli_usage_error(cli, "--credential is required");
    goto out;
  }
  if (instr.n == 0) {
    rc = cn_cli_usage_error(cli, "at least one --instruction is required");
    goto out;
  }
  if (instr_args_build(&instr) < 0) {
    cn_cli_errorf("out of memory");
    goto out;
  }
  rc = cn_cli_load_key(cli, sk);
  if (rc != CN_EXIT_OK)
    goto out;
  rc = cn_cli_get_record(cli, cred_id, "credential", &councilnet__credential__descriptor,
                         (ProtobufCMessage **)&cred, NULL);
  if (rc != CN_EXIT_OK)
    goto out;
  if (cred->delegate.len != CN_PK_BYTES || cred->parent.len != CN_PK_BYTES) {
    cn_cli_errorf("the node's credential names no delegate or parent key");
    rc = CN_EXIT_REFUSED;
    goto out;
  }
  cn_cli_node_field(cli, &body.node);
  body.created = (uint64_t)time(NULL);
  body.credential.data = cred_id;
  body.credential.len = CN_HASH_BYTES;
  body.delegate = cred->delegate;
  body.parent = cred->parent;
  body.instructions = instr.ptrs;
  body.n_instructions = instr.n;
  rc = cn_cli_post_record(cli, "mandate_draft", &body.base, sk, &receipt);
  if (rc != CN_EXIT_OK)
    goto out;
  rc = find_mandate(cli, &receipt->record_id, &body, mandate_id);
  if (rc != CN_EXIT_OK)
    goto out;
  cn_hex_encode(hex, mandate_id, CN_HASH_BYTES);
  if (cli->json) {
    json = cn_pbjson_encode(&receipt->base, 0);
    if (!json) {
      cn_cli_errorf("out of memory");
      rc = CN_EXIT_LOCAL;
      goto out;
    }
    printf("{\"receipt\":%s,\"mandate\":\"%s\"}\n", json, hex);
    goto out;
  }
  cn_cli_hex(draft_hex, sizeof draft_hex, &receipt->record_id, CN_HASH_BYTES);
  printf("draft accepted: seq %llu, record %s\n", (unsigned long long)receipt->seq, draft_hex);
  printf("mandate %s\n", hex);
out:
  free(json);
  if (receipt)
    councilnet__receipt__free_unpacked(receipt, NULL);
  if (cred)
    councilnet__credential__free_unpacked(cred, NULL);
  sodium_memzero(sk, sizeof sk);
  instr_args_clear(&instr);
  return rc;
}

int cn_cmd_mandate_accept(cn_cli_t *cli, int argc, char **argv)
{
  static const struct option opts[] = {
    CN_CLI_KEY_LONGOPT,
    CN_CLI_COMMON_LONGOPTS,
    {NULL, 0, NULL, 0}
  };
  Councilnet__Delivery body = COUNCILNET__DELIVERY__INIT;
  Councilnet__Mandate *m = NULL;
  Councilnet__Credential *cred = NULL;
  Councilnet__Receipt *receipt = NULL;
  cn_http_resp_t raw_m, raw_c;
  uint8_t id[CN_HASH_BYTES], sk[CN_SK_BYTES], pk[CN_PK_BYTES];
  char hex[2 * CN_PK_BYTES + 1];
  size_t i;
  int rc = CN_EXIT_LOCAL;

  memset(&raw_m, 0, sizeof raw_m);
  memset(&raw_c, 0, sizeof raw_c);
  cli->usage = mandate_accept_usage;
  if (!cn_cli_parse_options(cli, argc, argv, opts, &rc))
    goto out;
  if (optind >= argc) {
    rc = cn_cli_usage_error(cli, "MANDATE_ID is required");
    goto out;
  }
  if (optind + 1 < argc) {
    rc = cn_cli_usage_error(cli, "unexpected argument \"%s\"", argv[optind + 1]);
    goto out;
  }
  if (cn_args_parse_hex32(argv[optind], id) < 0) {
    rc = cn_cli_usage_error(cli, "MANDATE_ID must be %d hex digits", 2 * CN_HASH_BYTES);
    goto out;
  }
  rc = cn_cli_load_key(cli, sk);
  if (rc != CN_EXIT_OK)
    goto out;
  cn_crypto_sk_to_pk(pk, sk);
  rc = cn_cli_get_record(cli, id, "mandate", &councilnet__mandate__descriptor,
                         (ProtobufCMessage **)&m, &raw_m);
  if (rc != CN_EXIT_OK)
    goto out;
  rc = CN_EXIT_REFUSED;
  if (m->credential.len != CN_HASH_BYTES) {
    cn_cli_errorf("the node's mandate names no credential");
    goto out;
  }
  rc = cn_cli_get_record(cli, m->credential.data, "credential",
                         &councilnet__credential__descriptor, (ProtobufCMessage **)&cred, &raw_c);
  if (rc != CN_EXIT_OK)
    goto out;
  rc = CN_EXIT_REFUSED;
  if (!bytes_eq(&m->delegate, cred->delegate.data, cred->delegate.len)
      || !bytes_eq(&m->parent, cred->parent.data, cred->parent.len)) {
    cn_cli_errorf("the mandate's delegate or parent differs from its credential's");
    goto out;
  }
  if (!bytes_eq(&cred->delegate, pk, CN_PK_BYTES)) {
    cn_cli_hex(hex, sizeof hex, &cred->delegate, CN_PK_BYTES);
    cn_cli_errorf("this mandate is for delegate %s, not for the key given", hex);
    rc = CN_EXIT_LOCAL;
    goto out;
  }
  cn_cli_node_field(cli, &body.node);
  body.created = (uint64_t)time(NULL);
  body.mandate.data = raw_m.body;
  body.mandate.len = raw_m.len;
  body.credential.data = raw_c.body;
  body.credential.len = raw_c.len;
  rc = cn_cli_post_record(cli, "delivery", &body.base, sk, &receipt);
  if (rc != CN_EXIT_OK)
    goto out;
  if (!cli->json) {
    cn_cli_hex(hex, sizeof hex, &m->parent, CN_PK_BYTES);
    printf("Mandate for parent %s, term %u:\n", hex, cred->term);
    for (i = 0; i < m->n_instructions; i++)
      print_instruction(i, m->instructions[i]);
  }
  rc = cn_cli_print_receipt(cli, receipt);
out:
  if (receipt)
    councilnet__receipt__free_unpacked(receipt, NULL);
  if (cred)
    councilnet__credential__free_unpacked(cred, NULL);
  if (m)
    councilnet__mandate__free_unpacked(m, NULL);
  cn_http_resp_clear(&raw_m);
  cn_http_resp_clear(&raw_c);
  sodium_memzero(sk, sizeof sk);
  return rc;
}

int cn_cmd_mandate_list(cn_cli_t *cli, int argc, char **argv)
{
  static const struct option opts[] = {
    CN_CLI_COMMON_LONGOPTS,
    {NULL, 0, NULL, 0}
  };
  Councilnet__MandateList *list = NULL;
  char id[2 * CN_HASH_BYTES + 1], cred[2 * SHORT_HEX + 1], del[2 * SHORT_HEX + 1];
  size_t i, j;
  int rc = CN_EXIT_LOCAL;

  cli->usage = mandate_list_usage;
  if (!cn_cli_parse_options(cli, argc, argv, opts, &rc))
    goto out;
  if (optind < argc) {
    rc = cn_cli_usage_error(cli, "unexpected argument \"%s\"", argv[optind]);
    goto out;
  }
  rc = cn_cli_get(cli, "/v1/mandates", &councilnet__mandate_list__descriptor,
                  (ProtobufCMessage **)&list);
  if (rc != CN_EXIT_OK)
    goto out;
  if (cli->json) {
    rc = cn_cli_print_json(&list->base);
    goto out;
  }
  if (list->n_mandates == 0) {
    printf("no mandates\n");
    goto out;
  }
  printf("%-64s  %-16s  %-16s  %9s\n", "MANDATE", "CREDENTIAL", "DELEGATE", "DELIVERED");
  for (i = 0; i < list->n_mandates; i++) {
    const Councilnet__MandateView *v = list->mandates[i];
    cn_cli_hex(id, sizeof id, &v->id, CN_HASH_BYTES);
    if (!v->mandate) {
      printf("%-64s  (no mandate body)\n", id);
      continue;
    }
    cn_cli_hex(cred, sizeof cred, &v->mandate->credential, SHORT_HEX);
    cn_cli_hex(del, sizeof del, &v->mandate->delegate, SHORT_HEX);
    printf("%-64s  %-16s  %-16s  %9s\n", id, cred, del, v->delivered ? "yes" : "no");
    for (j = 0; j < v->mandate->n_instructions; j++)
      print_instruction(j, v->mandate->instructions[j]);
  }
out:
  if (list)
    councilnet__mandate_list__free_unpacked(list, NULL);
  return rc;
}
