/* commands.h: the `council` commands. Each takes the shared CLI state and
 * its own argv (argv[0] names the command, e.g. "council member add"),
 * parses it with getopt_long, and returns a CN_EXIT_ status. */
#ifndef CN_CLIENT_COMMANDS_H
#define CN_CLIENT_COMMANDS_H

#include "cli.h"
#include "councilnet/log.h"

typedef int (*cn_cmd_fn)(cn_cli_t *cli, int argc, char **argv);

/* cmd_keys.c */
int cn_cmd_keygen(cn_cli_t *cli, int argc, char **argv);
int cn_cmd_pubkey(cn_cli_t *cli, int argc, char **argv);

/* cmd_members.c */
int cn_cmd_member_add(cn_cli_t *cli, int argc, char **argv);
int cn_cmd_member_remove(cn_cli_t *cli, int argc, char **argv);
int cn_cmd_member_list(cn_cli_t *cli, int argc, char **argv);
int cn_cmd_role_set(cn_cli_t *cli, int argc, char **argv);

/* cmd_proposals.c */
int cn_cmd_proposal_new(cn_cli_t *cli, int argc, char **argv);
int cn_cmd_proposal_list(cn_cli_t *cli, int argc, char **argv);
int cn_cmd_proposal_show(cn_cli_t *cli, int argc, char **argv);
int cn_cmd_decision_show(cn_cli_t *cli, int argc, char **argv);

/* cmd_vote.c */
int cn_cmd_vote(cn_cli_t *cli, int argc, char **argv);
int cn_cmd_delegate_vote(cn_cli_t *cli, int argc, char **argv);

/* cmd_node.c */
int cn_cmd_node_info(cn_cli_t *cli, int argc, char **argv);
int cn_cmd_log(cn_cli_t *cli, int argc, char **argv);

/* cmd_verify.c */
int cn_cmd_verify(cn_cli_t *cli, int argc, char **argv);

/* cmd_receipt.c */
int cn_cmd_receipt_check(cn_cli_t *cli, int argc, char **argv);

/* Called with each log entry once it is verified. Return CN_EXIT_OK to go
 * on, or another CN_EXIT_ status (error printed) to stop the walk. */
typedef int (*cn_verify_entry_fn)(void *ctx, const Councilnet__LogEntry *e);

/* Where a log check failed: FAILED is set, SEQ the entry, WHAT "entry" or
 * "after entry"; the reason is in the verifier's error. */
typedef struct cn_verify_failure_t {
  int failed;
  uint64_t seq;
  const char *what;
} cn_verify_failure_t;

/* Fetch the node's whole log page by page, check every entry with V
 * (initialised with the node key) and then the node-signed head, and pass
 * each checked entry to FN (may be NULL). Return CN_EXIT_OK; CN_EXIT_REFUSED
 * with BAD filled when a check failed (nothing printed); or the status of a
 * failed request or of FN (error printed, BAD->failed = 0). */
int cn_verify_log_walk(cn_cli_t *cli, cn_log_verifier_t *v, cn_verify_entry_fn fn, void *ctx,
                       cn_verify_failure_t *bad);

/* cmd_delegates.c */
int cn_cmd_settings_set(cn_cli_t *cli, int argc, char **argv);
int cn_cmd_volunteer(cn_cli_t *cli, int argc, char **argv);
int cn_cmd_delegate_list(cn_cli_t *cli, int argc, char **argv);
int cn_cmd_recall(cn_cli_t *cli, int argc, char **argv);
int cn_cmd_recall_list(cn_cli_t *cli, int argc, char **argv);

/* cmd_mandates.c */
int cn_cmd_mandate_new(cn_cli_t *cli, int argc, char **argv);
int cn_cmd_mandate_accept(cn_cli_t *cli, int argc, char **argv);
int cn_cmd_mandate_list(cn_cli_t *cli, int argc, char **argv);

/* cmd_sortition.c */
int cn_cmd_sortition_verify(cn_cli_t *cli, int argc, char **argv);

/* cmd_budget.c: offline, on Pabulib files (check, allocate); rounds at a node */
int cn_cmd_budget_check(cn_cli_t *cli, int argc, char **argv);
int cn_cmd_budget_allocate(cn_cli_t *cli, int argc, char **argv);
int cn_cmd_budget_import(cn_cli_t *cli, int argc, char **argv);
int cn_cmd_budget_rounds(cn_cli_t *cli, int argc, char **argv);
int cn_cmd_budget_show(cn_cli_t *cli, int argc, char **argv);
int cn_cmd_budget_vote(cn_cli_t *cli, int argc, char **argv);
int cn_cmd_budget_export(cn_cli_t *cli, int argc, char **argv);

/* cmd_federation.c */
int cn_cmd_parent_set(cn_cli_t *cli, int argc, char **argv);
int cn_cmd_parent_proposals(cn_cli_t *cli, int argc, char **argv);
int cn_cmd_federation(cn_cli_t *cli, int argc, char **argv);
int cn_cmd_federation_resend(cn_cli_t *cli, int argc, char **argv);

#endif
