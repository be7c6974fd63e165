/* cli.c: what every `council` command shares (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "councilnet/pbjson.h"
#include "councilnet/receipt.h"
#include "councilnet/record.h"
#include "tty.h"

#define CT_PROTOBUF "application/x-protobuf"

void cn_cli_init(cn_cli_t *cli)
{
  const char *env;

  memset(cli, 0, sizeof *cli);
  env = getenv("COUNCIL_NODE");
  cli->node_url = env && *env ? env : CN_CLI_DEFAULT_NODE;
  env = getenv("COUNCIL_KEY");
  cli->key_path = env && *env ? env : NULL;
  cli->timeout_ms = CN_CLI_DEFAULT_TIMEOUT_MS;
}

void cn_cli_clear(cn_cli_t *cli)
{
  if (!cli)
    return;
  cn_http_conn_free(cli->conn);
  cli->conn = NULL;
}

void cn_cli_errorf(const char *fmt, ...)
{
  va_list ap;

  fputs("council: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

static void print_help_hint(const cn_cli_t *cli)
{
  fprintf(stderr, "Run '%s --help' for usage.\n", cli->command ? cli->command : "council");
}

int cn_cli_usage_error(const cn_cli_t *cli, const char *fmt, ...)
{
  va_list ap;

  fputs("council: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  print_help_hint(cli);
  return CN_EXIT_LOCAL;
}

int cn_cli_print_usage(const cn_cli_t *cli)
{
  if (cli->usage)
    fputs(cli->usage, stdout);
  return CN_EXIT_OK;
}

int cn_cli_common_option(cn_cli_t *cli, int c, const char *arg)
{
  uint64_t secs = 0;
  char *end = NULL;

  switch (c) {
  case CN_OPT_NODE:
    cli->node_url = arg;
    return 1;
  case CN_OPT_NODE_KEY:
    if (!arg || strlen(arg) != 2 * CN_PK_BYTES
        || cn_hex_decode(cli->node_pk, CN_PK_BYTES, arg) != 0) {
      cn_cli_usage_error(cli, "--node-key: expected %d hex digits", 2 * CN_PK_BYTES);
      return -1;
    }
    cli->have_node_pk = 1;
    return 1;
  case CN_OPT_JSON:
    cli->json = 1;
    return 1;
  case CN_OPT_TIMEOUT:
    if (arg && *arg >= '0' && *arg <= '9')
      secs = strtoull(arg, &end, 10);
    if (!end || *end != '\0' || secs == 0 || secs > 86400) {
      cn_cli_usage_error(cli, "--timeout: expected seconds from 1 to 86400");
      return -1;
    }
    cli->timeout_ms = (int)secs * 1000;
    return 1;
  case CN_OPT_KEY:
    cli->key_path = arg;
    return 1;
  case 'h':
    cli->help = 1;
    return 1;
  case '?':
  case ':':
    print_help_hint(cli);
    return -1;
  default:
    return 0;
  }
}

int cn_cli_parse_options(cn_cli_t *cli, int argc, char **argv, const struct option *opts,
                         int *rc)
{
  int c;

  optind = 0;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (cn_cli_common_option(cli, c, optarg) <= 0) {
      *rc = CN_EXIT_LOCAL;
      return 0;
    }
  }
  if (cli->help) {
    *rc = cn_cli_print_usage(cli);
    return 0;
  }
  return 1;
}

void cn_cli_json_string(FILE *f, const char *s)
{
  char *q = cn_pbjson_string(s);

  fputs(q ? q : "\"\"", f);     /* out of memory: an empty string, still JSON */
  free(q);
}

void cn_cli_format_time(char *buf, size_t cap, uint64_t t)
{
  struct tm tm;
  time_t tt = (time_t)t;

  if (t > (uint64_t)253402300799ULL || !gmtime_r(&tt, &tm)
      || strftime(buf, cap, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
    snprintf(buf, cap, "%llu", (unsigned long long)t);
}

void cn_cli_hex(char *buf, size_t cap, const ProtobufCBinaryData *b, size_t n)
{
  if (!b || b->len == 0) {
    snprintf(buf, cap, "-");
    return;
  }
  if (n > b->len)
    n = b->len;
  if (n > (cap - 1) / 2)
    n = (cap - 1) / 2;
  cn_hex_encode(buf, b->data, n);
}

int cn_cli_print_json(const ProtobufCMessage *m)
{
  char *json = cn_pbjson_encode(m, 1);

  if (!json) {
    cn_cli_errorf("out of memory");
    return CN_EXIT_LOCAL;
  }
  fputs(json, stdout);
  free(json);
  return CN_EXIT_OK;
}

/* Send one request on the CLI's keep-alive connection. Return 0 or -1 (printed). */
static int cli_request(cn_cli_t *cli, const char *method, const char *path,
                       const uint8_t *body, size_t len, cn_http_resp_t *resp)
{
  char err[256];

  if (!cli->conn) {
    cli->conn = cn_http_conn_open(cli->node_url, cli->timeout_ms, err, sizeof err);
    if (!cli->conn) {
      cn_cli_errorf("%s", err);
      return -1;
    }
  }
  if (cn_http_conn_request(cli->conn, method, path, CT_PROTOBUF, body ? CT_PROTOBUF : NULL,
                           body, len, resp, err, sizeof err) < 0) {
    cn_cli_errorf("%s %s: %s", method, path, err);
    return -1;
  }
  return 0;
}

int cn_cli_report_error(const cn_cli_t *cli, const cn_http_resp_t *resp)
{
  Councilnet__Error *e = NULL;
  size_t n;

  /* A node's words reach the terminal through the client's output filter
   * (safeout.h), which prints their control bytes as '?'. */
  if (strncmp(resp->content_type, CT_PROTOBUF, strlen(CT_PROTOBUF)) == 0)
    e = councilnet__error__unpack(NULL, resp->len, resp->body);
  if (!e) {
    n = strcspn((const char *)resp->body, "\r\n");
    if (n > 200)
      n = 200;
    cn_cli_errorf("node answered HTTP %d%s%.*s", resp->status, n ? ": " : "", (int)n,
                  (const char *)resp->body);
    return CN_EXIT_REFUSED;
  }
  if (cli->json)
    cn_cli_print_json(&e->base);
  else
    fprintf(stderr, "refused: %s: %s\n", e->name && *e->name ? e->name : "ERROR",
            e->message ? e->message : "");
  councilnet__error__free_unpacked(e, NULL);
  return CN_EXIT_REFUSED;
}

int cn_cli_get_raw(cn_cli_t *cli, const char *path, cn_http_resp_t *out)
{
  if (cli_request(cli, "GET", path, NULL, 0, out) < 0)
    return CN_EXIT_LOCAL;
  if (out->status != 200) {
    int rc = cn_cli_report_error(cli, out);
    cn_http_resp_clear(out);
    return rc;
  }
  return CN_EXIT_OK;
}

int cn_cli_get(cn_cli_t *cli, const char *path, const ProtobufCMessageDescriptor *desc,
               ProtobufCMessage **out)
{
  cn_http_resp_t resp;
  int rc;

  *out = NULL;
  rc = cn_cli_get_raw(cli, path, &resp);
  if (rc != CN_EXIT_OK)
    return rc;
  *out = protobuf_c_message_unpack(desc, NULL, resp.len, resp.body);
  if (!*out) {
    cn_cli_errorf("GET %s: the node's answer is not a valid %s", path, desc->short_name);
    rc = CN_EXIT_REFUSED;
  }
  cn_http_resp_clear(&resp);
  return rc;
}

int cn_cli_node_key(cn_cli_t *cli)
{
  Councilnet__NodeInfo *info = NULL;
  int rc;

  if (cli->have_node_pk)
    return CN_EXIT_OK;
  rc = cn_cli_get(cli, "/v1/node", &councilnet__node_info__descriptor, (ProtobufCMessage **)&info);
  if (rc != CN_EXIT_OK)
    return rc;
  if (info->key.len != CN_PK_BYTES) {
    cn_cli_errorf("GET /v1/node: node key is not %d bytes", CN_PK_BYTES);
    rc = CN_EXIT_REFUSED;
  } else {
    memcpy(cli->node_pk, info->key.data, CN_PK_BYTES);
    cli->have_node_pk = 1;
  }
  councilnet__node_info__free_unpacked(info, NULL);
  return rc;
}

/* Return the bytes field `node` of M, or NULL if M has none. */
static const ProtobufCBinaryData *message_node_field(const ProtobufCMessage *m)
{
  const ProtobufCFieldDescriptor *f =
    protobuf_c_message_descriptor_get_field_by_name(m->descriptor, "node");

  if (!f || f->type != PROTOBUF_C_TYPE_BYTES || f->label == PROTOBUF_C_LABEL_REPEATED)
    return NULL;
  return (const ProtobufCBinaryData *)(const void *)((const char *)m + f->offset);
}

int cn_cli_open_node_signed(cn_cli_t *cli, const uint8_t *env, size_t len, const char *kind,
                            const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
  const ProtobufCBinaryData *node;
  cn_record_t rec;
  ProtobufCMessage *m = NULL;
  cn_err e;
  int rc = CN_EXIT_REFUSED;

  *out = NULL;
  memset(&rec, 0, sizeof rec);
  e = cn_record_open(env, len, &rec);
  if (e != CN_OK) {
    cn_cli_errorf("node signature invalid (%s: %s)", kind, cn_err_name(e));
    goto out;
  }
  if (!cli->have_node_pk || memcmp(rec.signer, cli->node_pk, CN_PK_BYTES) != 0) {
    cn_cli_errorf("node signature invalid (%s not signed by the node key)", kind);
    goto out;
  }
  if (strcmp(rec.kind, kind) != 0) {
    cn_cli_errorf("node answered a \"%s\" record where a \"%s\" was expected", rec.kind, kind);
    goto out;
  }
  m = protobuf_c_message_unpack(desc, NULL, rec.body_len, rec.body);
  if (!m) {
    cn_cli_errorf("the node's %s body is not a valid %s", kind, desc->short_name);
    goto out;
  }
  node = message_node_field(m);
  if (node && (node->len != CN_PK_BYTES || memcmp(node->data, cli->node_pk, CN_PK_BYTES) != 0)) {
    cn_cli_errorf("the node's %s names another node", kind);
    goto out;
  }
  *out = m;
  m = NULL;
  rc = CN_EXIT_OK;
out:
  if (m)
    protobuf_c_message_free_unpacked(m, NULL);
  cn_record_close(&rec);
  return rc;
}

/* GET /v1/records/ID into RESP, and check it is that record: its
 * BLAKE2b-256 is ID. Return a CN_EXIT_ status (errors printed). */
static int cli_fetch_record(cn_cli_t *cli, const uint8_t id[CN_HASH_BYTES], cn_http_resp_t *resp)
{
  uint8_t got[CN_HASH_BYTES];
  char path[128], hex[2 * CN_HASH_BYTES + 1];
  int rc;

  memset(resp, 0, sizeof *resp);
  rc = cn_cli_node_key(cli);
  if (rc != CN_EXIT_OK)
    return rc;
  cn_hex_encode(hex, id, CN_HASH_BYTES);
  snprintf(path, sizeof path, "/v1/records/%s", hex);
  rc = cn_cli_get_raw(cli, path, resp);
  if (rc != CN_EXIT_OK)
    return rc;
  cn_crypto_hash(got, resp->body, resp->len);
  if (memcmp(got, id, CN_HASH_BYTES) != 0) {
    cn_cli_errorf("GET %s: the node answered another record than the one asked", path);
    cn_http_resp_clear(resp);
    return CN_EXIT_REFUSED;
  }
  return CN_EXIT_OK;
}

int cn_cli_get_signed_record(cn_cli_t *cli, const uint8_t id[CN_HASH_BYTES], const char *kind,
                             const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out,
                             uint8_t signer[CN_PK_BYTES])
{
  cn_http_resp_t resp;
  cn_record_t rec;
  int rc;

  *out = NULL;
  memset(&rec, 0, sizeof rec);
  rc = cli_fetch_record(cli, id, &resp);
  if (rc != CN_EXIT_OK)
    return rc;
  rc = CN_EXIT_REFUSED;
  if (cn_record_open(resp.body, resp.len, &rec) != CN_OK)
    cn_cli_errorf("the %s's signature does not verify", kind);
  else if (strcmp(rec.kind, kind) != 0)
    cn_cli_errorf("the node answered a \"%s\" record where a \"%s\" was expected", rec.kind,
                  kind);
  else if (!(*out = cn_pb_unpack_strict(desc, rec.body, rec.body_len)))
    cn_cli_errorf("the %s's body is not a valid %s", kind, desc->short_name);
  else
    rc = CN_EXIT_OK;
  if (rc == CN_EXIT_OK && signer)
    memcpy(signer, rec.signer, CN_PK_BYTES);
  cn_record_close(&rec);
  cn_http_resp_clear(&resp);
  return rc;
}

int cn_cli_get_record(cn_cli_t *cli, const uint8_t id[CN_HASH_BYTES], const char *kind,
                      const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out,
                      cn_http_resp_t *raw)
{
  cn_http_resp_t resp;
  int rc;

  *out = NULL;
  if (raw)
    memset(raw, 0, sizeof *raw);
  rc = cli_fetch_record(cli, id, &resp);
  if (rc != CN_EXIT_OK)
    return rc;
  rc = cn_cli_open_node_signed(cli, resp.body, resp.len, kind, desc, out);
  if (rc == CN_EXIT_OK && raw) {
    *raw = resp;
    memset(&resp, 0, sizeof resp);
  }
  cn_http_resp_clear(&resp);
  return rc;
}

int cn_cli_passphrase(int confirm, char *buf, size_t cap)
{
  char again[CN_CLI_PASSPHRASE_MAX];
  const char *env = getenv("COUNCIL_PASSPHRASE");
  int rc = -1;

  if (env) {
    if (!*env || strlen(env) >= cap) {
      cn_cli_errorf("COUNCIL_PASSPHRASE must be 1 to %zu characters", cap - 1);
      return -1;
    }
    memcpy(buf, env, strlen(env) + 1);
    return 0;
  }
  if (cn_tty_read_secret("Passphrase: ", buf, cap) < 0) {
    cn_cli_errorf("cannot read a passphrase: no terminal (set COUNCIL_PASSPHRASE)");
    goto out;
  }
  if (!*buf) {
    cn_cli_errorf("empty passphrase");
    goto out;
  }
  if (confirm) {
    if (cn_tty_read_secret("Passphrase again: ", again, sizeof again) < 0) {
      cn_cli_errorf("cannot read a passphrase");
      goto out;
    }
    if (strcmp(buf, again) != 0) {
      cn_cli_errorf("passphrases differ");
      goto out;
    }
  }
  rc = 0;
out:
  sodium_memzero(again, sizeof again);
  if (rc < 0)
    sodium_memzero(buf, cap);
  return rc;
}

int cn_cli_load_key(cn_cli_t *cli, uint8_t sk[CN_SK_BYTES])
{
  char pass[CN_CLI_PASSPHRASE_MAX], err[512];
  int sealed = 0, rc = CN_EXIT_LOCAL;

  pass[0] = '\0';
  if (!cli->key_path) {
    cn_cli_usage_error(cli, "a signing key is needed: --key FILE (or env COUNCIL_KEY)");
    goto out;
  }
  if (cn_keyfile_read(cli->key_path, sk, NULL, &sealed, err, sizeof err) == 0) {
    rc = CN_EXIT_OK;
    goto out;
  }
  if (!sealed) {
    cn_cli_errorf("%s", err);
    goto out;
  }
  if (cn_cli_passphrase(0, pass, sizeof pass) < 0)
    goto out;
  if (cn_keyfile_read(cli->key_path, sk, pass, &sealed, err, sizeof err) != 0) {
    cn_cli_errorf("%s", err);
    goto out;
  }
  rc = CN_EXIT_OK;
out:
  sodium_memzero(pass, sizeof pass);
  if (rc != CN_EXIT_OK)
    sodium_memzero(sk, CN_SK_BYTES);
  return rc;
}

int cn_cli_write_all(int fd, const void *buf, size_t len)
{
  const char *p = buf;

  while (len > 0) {
    ssize_t k = write(fd, p, len);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      return -1;
    p += k;
    len -= (size_t)k;
  }
  return 0;
}

/* COUNCIL_RECEIPTS=DIR: keep each receipt (the node's exact answer) as
 * DIR/<record id>.receipt: written to a fresh temporary file, flushed to
 * disk, renamed into place and the folder flushed, so a crash leaves the
 * whole receipt or none. A receipt that cannot be kept is reported; the
 * act itself has been accepted, so the command still succeeds (running it
 * again would be a second act). */
static void cli_keep_receipt(const uint8_t id[CN_HASH_BYTES], const uint8_t *buf, size_t len)
{
  const char *dir = getenv("COUNCIL_RECEIPTS");
  char hex[2 * CN_HASH_BYTES + 1], path[4096], tmp[4096];
  int fd = -1, dfd = -1, ok = 0, made = 0, err = 0;

  if (!dir || !*dir)
    return;
  cn_hex_encode(hex, id, CN_HASH_BYTES);
  if ((size_t)snprintf(path, sizeof path, "%s/%s.receipt", dir, hex) >= sizeof path ||
      (size_t)snprintf(tmp, sizeof tmp, "%s/.receipt-XXXXXX", dir) >= sizeof tmp) {
    cn_cli_errorf("COUNCIL_RECEIPTS: the path is too long; this receipt was not kept");
    return;
  }
  fd = mkstemp(tmp);
  if (fd < 0)
    goto out;
  made = 1;
  if (cn_cli_write_all(fd, buf, len) != 0 || fchmod(fd, 0644) != 0 || fsync(fd) != 0)
    goto out;
  if (close(fd) != 0) {
    fd = -1;
    goto out;
  }
  fd = -1;
  if (rename(tmp, path) != 0)
    goto out;
  ok = 1;
  dfd = open(dir, O_RDONLY | O_DIRECTORY);
  if (dfd < 0 || fsync(dfd) != 0)
    cn_cli_errorf("COUNCIL_RECEIPTS: kept %s, but the folder could not be flushed to disk: %s",
                  path, strerror(errno));
out:
  err = errno;
  if (fd >= 0)
    close(fd);
  if (dfd >= 0)
    close(dfd);
  if (!ok) {
    if (made)
      unlink(tmp);
    cn_cli_errorf("COUNCIL_RECEIPTS: cannot keep %s: %s; this receipt was not kept", path,
                  strerror(err));
  }
}

int cn_cli_post_record(cn_cli_t *cli, const char *kind, const ProtobufCMessage *body,
                       const uint8_t sk[CN_SK_BYTES], Councilnet__Receipt **receipt)
{
  cn_http_resp_t resp;
  uint8_t *env = NULL, id[CN_HASH_BYTES];
  size_t env_len = 0;
  Councilnet__Receipt *r = NULL;
  char msg[160];
  int rc = CN_EXIT_LOCAL;

  *receipt = NULL;
  memset(&resp, 0, sizeof resp);
  if (cn_record_seal(kind, body, sk, &env, &env_len) != 0) {
    cn_cli_errorf("cannot sign the %s record", kind);
    goto out;
  }
  if (env_len > CN_RECORD_MAX) {
    cn_cli_errorf("the %s record is too large (%zu bytes, at most %d)", kind, env_len,
                  CN_RECORD_MAX);
    goto out;
  }
  cn_crypto_hash(id, env, env_len);
  if (cli_request(cli, "POST", "/v1/records", env, env_len, &resp) < 0)
    goto out;
  if (resp.status != 200) {
    rc = cn_cli_report_error(cli, &resp);
    goto out;
  }
  rc = CN_EXIT_REFUSED;
  if (!cli->have_node_pk) {
    cn_cli_errorf("node signature invalid (receipt: the node key is not known)");
    goto out;
  }
  if (cn_receipt_open(resp.body, resp.len, cli->node_pk, &r, msg, sizeof msg) != CN_OK) {
    cn_cli_errorf("node signature invalid (%s)", msg);
    goto out;
  }
  if (r->record_id.len != CN_HASH_BYTES || memcmp(r->record_id.data, id, CN_HASH_BYTES) != 0) {
    cn_cli_errorf("the receipt names another record than the one sent");
    goto out;
  }
  cli_keep_receipt(id, resp.body, resp.len);
  *receipt = r;
  r = NULL;
  rc = CN_EXIT_OK;
out:
  if (r)
    councilnet__receipt__free_unpacked(r, NULL);
  cn_http_resp_clear(&resp);
  free(env);
  return rc;
}

int cn_cli_print_receipt(const cn_cli_t *cli, const Councilnet__Receipt *r)
{
  char id[2 * CN_HASH_BYTES + 1];

  if (cli->json)
    return cn_cli_print_json(&r->base);
  cn_cli_hex(id, sizeof id, &r->record_id, CN_HASH_BYTES);
  printf("accepted: seq %llu, record %s\n", (unsigned long long)r->seq, id);
  return CN_EXIT_OK;
}

int cn_cli_submit(cn_cli_t *cli, const char *kind, const ProtobufCMessage *body,
                  const uint8_t sk[CN_SK_BYTES])
{
  Councilnet__Receipt *r = NULL;
  int rc = cn_cli_post_record(cli, kind, body, sk, &r);

  if (rc == CN_EXIT_OK)
    rc = cn_cli_print_receipt(cli, r);
  if (r)
    councilnet__receipt__free_unpacked(r, NULL);
  return rc;
}

void cn_cli_node_field(const cn_cli_t *cli, ProtobufCBinaryData *b)
{
  b->data = (uint8_t *)cli->node_pk;
  b->len = CN_PK_BYTES;
}
