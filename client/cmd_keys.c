/* cmd_keys.c: `council keygen` and `council pubkey`. */
#include "commands.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

static const char keygen_usage[] =
  "Usage: council keygen --out FILE [--passphrase] [--json]\n"
  "\n"
  "Make a new Ed25519 key. The secret key is written to FILE (mode 0600,\n"
  "never overwriting), the public key as hex to FILE.pub, and the public key\n"
  "is printed. With --passphrase the key file is sealed with a key derived by\n"
  "Argon2id; the passphrase comes from env COUNCIL_PASSPHRASE or is asked\n"
  "twice on the terminal.\n"
  "\n"
  "  --out FILE        where to write the secret key\n"
  "  --passphrase      seal the key file with a passphrase\n"
  "  --json            print {\"key\": HEX, \"file\": FILE}\n"
  "  -h, --help        this help\n";

static const char pubkey_usage[] =
  "Usage: council pubkey --key FILE [--json]\n"
  "\n"
  "Print the public key (hex) of a key file (env COUNCIL_KEY if --key is\n"
  "not given). A sealed key file needs COUNCIL_PASSPHRASE or a passphrase\n"
  "typed on the terminal.\n"
  "\n"
  "  --key FILE        the key file\n"
  "  --json            print {\"key\": HEX, \"file\": FILE}\n"
  "  -h, --help        this help\n";

static void print_key_json(const char *hex, const char *file)
{
  fputs("{\n  \"key\": ", stdout);
  cn_cli_json_string(stdout, hex);
  fputs(",\n  \"file\": ", stdout);
  cn_cli_json_string(stdout, file);
  fputs("\n}\n", stdout);
}

/* Write HEX and a newline to PATH (mode 0644, replacing it). Through a
 * new file renamed over PATH: a symlink at PATH is replaced, never
 * followed, so keygen cannot be made to overwrite what it points to.
 * Return 0 or -1 (printed). */
static int write_pub_file(const char *path, const char *hex)
{
  char line[2 * CN_PK_BYTES + 2], *tmp = NULL;
  size_t n = strlen(hex);
  int fd = -1, rc = -1;

  memcpy(line, hex, n);
  line[n++] = '\n';
  tmp = malloc(strlen(path) + 8);
  if (!tmp) {
    cn_cli_errorf("out of memory");
    return -1;
  }
  memcpy(tmp, path, strlen(path));
  memcpy(tmp + strlen(path), ".XXXXXX", 8);
  fd = mkstemp(tmp);
  if (fd < 0) {
    cn_cli_errorf("%s: %s", path, strerror(errno));
    goto out;
  }
  if (fchmod(fd, 0644) != 0 || write(fd, line, n) != (ssize_t)n) {
    cn_cli_errorf("%s: write: %s", path, strerror(errno));
    goto out;
  }
  if (close(fd) != 0) {
    fd = -1;
    cn_cli_errorf("%s: close: %s", path, strerror(errno));
    goto out;
  }
  fd = -1;
  if (rename(tmp, path) != 0) {
    cn_cli_errorf("%s: %s", path, strerror(errno));
    goto out;
  }
  rc = 0;
out:
  if (fd >= 0)
    close(fd);
  if (rc != 0 && tmp)
    unlink(tmp);
  free(tmp);
  return rc;
}

int cn_cmd_keygen(cn_cli_t *cli, int argc, char **argv)
{
  enum { OPT_OUT = CN_OPT_FIRST_LOCAL, OPT_PASSPHRASE };
  static const struct option opts[] = {
    {"out", required_argument, NULL, OPT_OUT},
    {"passphrase", no_argument, NULL, OPT_PASSPHRASE},
    CN_CLI_COMMON_LONGOPTS,
    {NULL, 0, NULL, 0}
  };
  uint8_t pk[CN_PK_BYTES], sk[CN_SK_BYTES];
  char pass[CN_CLI_PASSPHRASE_MAX], hex[2 * CN_PK_BYTES + 1], err[512];
  char *pub_path = NULL;
  const char *out = NULL;
  int sealed = 0, c, rc = CN_EXIT_LOCAL;

  pass[0] = '\0';
  cli->usage = keygen_usage;
  optind = 0;
  for (;;) {
    c = getopt_long(argc, argv, "h", opts, NULL);
    if (c == -1)
      break;
    if (c == OPT_OUT)
      out = optarg;
    else if (c == OPT_PASSPHRASE)
      sealed = 1;
    else if (cn_cli_common_option(cli, c, optarg) <= 0)
      goto out;
  }
  if (cli->help) {
    rc = cn_cli_print_usage(cli);
    goto out;
  }
  if (optind < argc) {
    rc = cn_cli_usage_error(cli, "unexpected argument \"%s\"", argv[optind]);
    goto out;
  }
  if (!out || !*out) {
    rc = cn_cli_usage_error(cli, "--out FILE is required");
    goto out;
  }
  if (access(out, F_OK) == 0) {
    cn_cli_errorf("%s already exists; not overwriting it", out);
    goto out;
  }
  if (sealed && cn_cli_passphrase(1, pass, sizeof pass) < 0)
    goto out;
  pub_path = malloc(strlen(out) + 5);
  if (!pub_path) {
    cn_cli_errorf("out of memory");
    goto out;
  }
  memcpy(pub_path, out, strlen(out));
  memcpy(pub_path + strlen(out), ".pub", 5);
  cn_crypto_keypair(pk, sk);
  if (cn_keyfile_write(out, sk, sealed ? pass : NULL, err, sizeof err) != 0) {
    cn_cli_errorf("%s", err);
    goto out;
  }
  cn_hex_encode(hex, pk, CN_PK_BYTES);
  if (write_pub_file(pub_path, hex) < 0)
    goto out;
  if (cli->json)
    print_key_json(hex, out);
  else
    printf("%s\n", hex);
  rc = CN_EXIT_OK;
out:
  sodium_memzero(sk, sizeof sk);
  sodium_memzero(pass, sizeof pass);
  free(pub_path);
  return rc;
}

int cn_cmd_pubkey(cn_cli_t *cli, int argc, char **argv)
{
  static const struct option opts[] = {
    CN_CLI_KEY_LONGOPT,
    CN_CLI_COMMON_LONGOPTS,
    {NULL, 0, NULL, 0}
  };
  uint8_t pk[CN_PK_BYTES], sk[CN_SK_BYTES];
  char hex[2 * CN_PK_BYTES + 1];
  int rc = CN_EXIT_LOCAL;

  cli->usage = pubkey_usage;
  if (!cn_cli_parse_options(cli, argc, argv, opts, &rc))
    goto out;
  if (optind < argc) {
    rc = cn_cli_usage_error(cli, "unexpected argument \"%s\"", argv[optind]);
    goto out;
  }
  rc = cn_cli_load_key(cli, sk);
  if (rc != CN_EXIT_OK)
    goto out;
  cn_crypto_sk_to_pk(pk, sk);
  cn_hex_encode(hex, pk, CN_PK_BYTES);
  if (cli->json)
    print_key_json(hex, cli->key_path);
  else
    printf("%s\n", hex);
out:
  sodium_memzero(sk, sizeof sk);
  return rc;
}
