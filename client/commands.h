/* commands.h: the `council` commands. Each takes the shared CLI state and
 * its own argv (argv[0] names the command, e.g. "council member add"),
 * parses it with getopt_long, and returns a CN_EXIT_ status. */
#ifndef CN_CLIENT_COMMANDS_H
#define CN_CLIENT_COMMANDS_H

#include "cli.h"

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

/* cmd_node.c */
int cn_cmd_node_info(cn_cli_t *cli, int argc, char **argv);
int cn_cmd_log(cn_cli_t *cli, int argc, char **argv);

/* cmd_verify.c */
int cn_cmd_verify(cn_cli_t *cli, int argc, char **argv);

#endif
