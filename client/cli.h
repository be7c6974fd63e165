/* cli.h: what every `council` command shares: the options all commands
 * accept, talking to the node (GET a message, POST a signed record and
 * check the receipt, check node signatures), loading keys, and output. */
#ifndef CN_CLIENT_CLI_H
#define CN_CLIENT_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <getopt.h>
#include <protobuf-c/protobuf-c.h>

#include "councilnet/crypto.h"
#include "councilnet.pb-c.h"
#include "http.h"

/* Exit statuses of `council`. */
#define CN_EXIT_OK 0
#define CN_EXIT_REFUSED 1       /* the node refused, or its answer failed verification */
#define CN_EXIT_LOCAL 2         /* usage error, or a local/connection failure */

#define CN_CLI_DEFAULT_NODE "http://127.0.0.1:8080"
#define CN_CLI_DEFAULT_TIMEOUT_MS 60000
#define CN_CLI_PASSPHRASE_MAX 1024

/* Values of the long options every command accepts (beside 'h'). */
enum cn_cli_opt {
  CN_OPT_NODE = 0x100,
  CN_OPT_NODE_KEY,
  CN_OPT_JSON,
  CN_OPT_TIMEOUT,
  CN_OPT_KEY,
  CN_OPT_FIRST_LOCAL            /* commands number their own options from here */
};

#define CN_CLI_COMMON_LONGOPTS \
  {"node", required_argument, NULL, CN_OPT_NODE}, \
  {"node-key", required_argument, NULL, CN_OPT_NODE_KEY}, \
  {"json", no_argument, NULL, CN_OPT_JSON}, \
  {"timeout", required_argument, NULL, CN_OPT_TIMEOUT}, \
  {"help", no_argument, NULL, 'h'}

/* The --key option, for commands that sign. */
#define CN_CLI_KEY_LONGOPT {"key", required_argument, NULL, CN_OPT_KEY}

#define CN_CLI_COMMON_USAGE \
  "Common options:\n" \
  "  --node URL        node to talk to (env COUNCIL_NODE, default " CN_CLI_DEFAULT_NODE ")\n" \
  "  --node-key HEX    expected node public key (default: asked from GET /v1/node)\n" \
  "  --json            machine-readable output\n" \
  "  --timeout SECONDS per-request timeout (default 60)\n" \
  "  -h, --help        this help\n"

typedef struct cn_cli_t {
  const char *node_url;         /* --node or COUNCIL_NODE */
  const char *key_path;         /* --key or COUNCIL_KEY, NULL if neither */
  int json;                     /* --json */
  int help;                     /* --help was given */
  int timeout_ms;
  int have_node_pk;             /* node_pk is known (--node-key or fetched) */
  uint8_t node_pk[CN_PK_BYTES];
  cn_http_conn_t *conn;         /* keep-alive connection, opened on first use */
  const char *usage;            /* the running command's usage text */
  const char *command;          /* the running command's name, "council vote" */
} cn_cli_t;

/* Fill CLI with defaults from the environment. */
void cn_cli_init(cn_cli_t *cli);

/* Close the connection and forget key material. Accepts NULL. */
void cn_cli_clear(cn_cli_t *cli);

/* Handle option C (from getopt_long) if it is a common one (or --key).
 * Return 1 if handled, -1 on a bad value or an unknown option (getopt's
 * '?'; message and usage printed), 0 if C is none of these (a bug). */
int cn_cli_common_option(cn_cli_t *cli, int c, const char *arg);
/* Parse the options of a command that takes only the common ones (and
 * --key), OPTS as getopt_long wants them. Return 1 to go on, optind at the
 * first operand; or 0 when the command is done, *RC its status: --help
 * printed (CN_EXIT_OK), or a bad option reported (CN_EXIT_LOCAL). */
int cn_cli_parse_options(cn_cli_t *cli, int argc, char **argv, const struct option *opts,
                         int *rc);

/* Print "council: MESSAGE" on stderr. */
void cn_cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print "council: MESSAGE" and a pointer to the command's --help on
 * stderr. Return CN_EXIT_LOCAL. */
int cn_cli_usage_error(const cn_cli_t *cli, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));

/* Print the command's usage on stdout. Return CN_EXIT_OK. */
int cn_cli_print_usage(const cn_cli_t *cli);

/* GET PATH. On 200 with a protobuf body, unpack it as DESC into *OUT
 * (free with protobuf_c_message_free_unpacked). On an Error answer, print
 * it (see cn_cli_report_error). Return a CN_EXIT_ status. */
int cn_cli_get(cn_cli_t *cli, const char *path, const ProtobufCMessageDescriptor *desc,
               ProtobufCMessage **out);

/* GET PATH and keep the raw 200 body in OUT (clear with cn_http_resp_clear()).
 * Return a CN_EXIT_ status; errors printed. */
int cn_cli_get_raw(cn_cli_t *cli, const char *path, cn_http_resp_t *out);

/* Print a non-200 answer: "refused: NAME: message" on stderr, or with
 * --json the Error as JSON on stdout. Return CN_EXIT_REFUSED. */
int cn_cli_report_error(const cn_cli_t *cli, const cn_http_resp_t *resp);

/* Make sure cli->node_pk is known: from --node-key, else GET /v1/node.
 * Return a CN_EXIT_ status. */
int cn_cli_node_key(cn_cli_t *cli);

/* Open ENV (an Envelope), check it is of KIND, signed by the node key and
 * addressed to it (body field `node`), and unpack its body as DESC into
 * *OUT. Print "node signature invalid" or the reason on failure. Return a
 * CN_EXIT_ status. Needs cli->node_pk (call cn_cli_node_key() first). */
int cn_cli_open_node_signed(cn_cli_t *cli, const uint8_t *env, size_t len, const char *kind,
                            const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out);

/* GET /v1/records/ID (ID: a record id of CN_HASH_BYTES), check that the
 * answer is the record asked for (its BLAKE2b-256 is ID) and a node-signed
 * record of KIND (see cn_cli_open_node_signed), and unpack its body as DESC
 * into *OUT. RAW, if not NULL, receives the envelope's exact bytes (clear
 * with cn_http_resp_clear()). Fetches the node key if needed. Errors are
 * printed. Return a CN_EXIT_ status. */
int cn_cli_get_record(cn_cli_t *cli, const uint8_t id[CN_HASH_BYTES], const char *kind,
                      const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out,
                      cn_http_resp_t *raw);

/* GET /v1/records/ID, check that the answer is the record asked for (its
 * BLAKE2b-256 is ID), that its signature verifies (any signer: a member's
 * proposal, a child council's credential; SIGNER, if not NULL, gets the
 * key) and that it is of KIND, and unpack its body strictly as DESC into
 * *OUT. What a member signs a choice against comes from here, never from a
 * node's unsigned view. Errors are printed. Return a CN_EXIT_ status. */
int cn_cli_get_signed_record(cn_cli_t *cli, const uint8_t id[CN_HASH_BYTES], const char *kind,
                             const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out,
                             uint8_t signer[CN_PK_BYTES]);

/* Load the signing key named by --key / COUNCIL_KEY. A sealed key file is
 * opened with COUNCIL_PASSPHRASE or a passphrase asked on the terminal.
 * Return a CN_EXIT_ status. */
int cn_cli_load_key(cn_cli_t *cli, uint8_t sk[CN_SK_BYTES]);

/* Get a passphrase: COUNCIL_PASSPHRASE, else asked on the terminal (twice
 * when CONFIRM). Return 0 or -1 (message printed). */
int cn_cli_passphrase(int confirm, char *buf, size_t cap);

/* Seal BODY as KIND with SK, POST it to /v1/records, and check the
 * receipt: node-signed, for this node, naming the record id we sent.
 * OUT: *RECEIPT, free with councilnet__receipt__free_unpacked. Errors are
 * printed. Return a CN_EXIT_ status. */
int cn_cli_post_record(cn_cli_t *cli, const char *kind, const ProtobufCMessage *body,
                       const uint8_t sk[CN_SK_BYTES], Councilnet__Receipt **receipt);

/* Print the "accepted" line for a receipt, or the Receipt as JSON. Return a CN_EXIT_ status. */
int cn_cli_print_receipt(const cn_cli_t *cli, const Councilnet__Receipt *r);

/* cn_cli_post_record() then cn_cli_print_receipt(). Return a CN_EXIT_ status. */
int cn_cli_submit(cn_cli_t *cli, const char *kind, const ProtobufCMessage *body,
                  const uint8_t sk[CN_SK_BYTES]);

/* Point B at the node key (cli->node_pk must be known). */
void cn_cli_node_field(const cn_cli_t *cli, ProtobufCBinaryData *b);

/* Print M as pretty JSON on stdout. Return a CN_EXIT_ status. */
int cn_cli_print_json(const ProtobufCMessage *m);

/* write(2) all LEN bytes of BUF to FD, across short writes and EINTR.
 * Return 0, or -1 with errno set. */
int cn_cli_write_all(int fd, const void *buf, size_t len);

/* Write S as a JSON string literal (quotes included) to F. */
void cn_cli_json_string(FILE *f, const char *s);

/* Format T (seconds since the epoch) as "YYYY-MM-DD HH:MM:SS UTC" into BUF. */
void cn_cli_format_time(char *buf, size_t cap, uint64_t t);

/* Lower-case hex of the first N bytes of B into BUF (fewer if B or CAP
 * are shorter; CAP >= 2*N+1 for all of them); "-" if B is empty. */
void cn_cli_hex(char *buf, size_t cap, const ProtobufCBinaryData *b, size_t n);

#endif
