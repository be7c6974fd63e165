/* main.c: councild, the Councilnet node daemon. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "councilnet/crypto.h"
#include "councilnet/node.h"
#include "api.h"
#include "config.h"
#include "net.h"

/* Descriptors kept out of the connection cap: database, WAL, pipes,
 * the connection to the parent, logs. */
#define CN_FD_RESERVE 64

static const char usage_text[] =
  "usage: councild COMMAND [OPTIONS]\n"
  "\n"
  "Commands:\n"
  "  init   create a node: database, node key and settings in a data folder\n"
  "  run    serve the node's HTTP API\n"
  "  help   show this text (also: councild COMMAND --help)\n";

static const char init_usage[] =
  "usage: councild init --data DIR --name NAME --convener PUBKEY\n"
  "\n"
  "Creates DIR/node.db (SQLite, WAL), DIR/node.key (Ed25519, mode 0600) and\n"
  "DIR/councild.conf. PUBKEY (64 hex digits, from `council keygen`) becomes the\n"
  "first convener: the key that admits members and grants roles.\n"
  "\n"
  "  --data DIR        data folder (created if missing; must not hold a node)\n"
  "  --name NAME       the council's name, e.g. \"Riverside assembly\"\n"
  "  --convener KEY    public key of the first convener\n"
  "  --listen H:P      address stored in councild.conf (default 127.0.0.1:8080)\n"
  "  --parent URL      the parent council's node (http://HOST:PORT), for a\n"
  "                    node that reports to a regional council\n"
  "  --parent-key KEY  the parent node's public key (64 hex digits)\n";

static const char run_usage[] =
  "usage: councild run --data DIR [--listen HOST:PORT] [OPTIONS]\n"
  "\n"
  "Serves the HTTP API until SIGINT or SIGTERM. Settings come from\n"
  "DIR/councild.conf; flags override them.\n"
  "\n"
  "  --data DIR          data folder made by `councild init`\n"
  "  --listen HOST:PORT  address to serve (port 0 picks a free port)\n"
  "  --port-file FILE    write the port actually bound to FILE\n"
  "  --max-body BYTES    largest request body (default 262144)\n"
  "  --timeout SECONDS   deadline for each request to arrive whole (default 10)\n"
  "  --backoff-cap-ms MS longest wait between tries to reach the parent\n"
  "  --set KEY=VALUE     any councild.conf setting, e.g. --set follow_interval_ms=100\n"
  "  --clock-file FILE   read the time (seconds since the epoch) from FILE\n"
  "                      instead of the system clock; for tests\n";

typedef struct server_t {
  cn_node_t *node;
  const char *clock_file;
  cn_fed_t *fed;            /* kicked when closing queued records for the parent */
  struct stat clock_st;     /* the clock file when last read */
  unsigned long long clock_value;
  int clock_valid;
} server_t;

/* The injectable clock: the number in the clock file, else the system time.
 * Every record asks for the time, so the number is read again only when
 * the file changed (another inode, size or mtime: tests replace the file by
 * rename, which always gives another inode). */
static uint64_t clock_from_file(void *ctx)
{
  server_t *s = ctx;
  struct stat st;
  unsigned long long t = 0;
  FILE *f;

  if (stat(s->clock_file, &st) != 0) {
    s->clock_valid = 0;
    return (uint64_t)time(NULL);
  }
  if (s->clock_valid && st.st_ino == s->clock_st.st_ino && st.st_dev == s->clock_st.st_dev &&
      st.st_size == s->clock_st.st_size && st.st_mtim.tv_sec == s->clock_st.st_mtim.tv_sec &&
      st.st_mtim.tv_nsec == s->clock_st.st_mtim.tv_nsec)
    t = s->clock_value;
  else if ((f = fopen(s->clock_file, "r")) != NULL) {
    if (fscanf(f, "%llu", &t) != 1)
      t = 0;
    fclose(f);
    s->clock_st = st;
    s->clock_value = t;
    s->clock_valid = 1;
  }
  return t ? (uint64_t)t : (uint64_t)time(NULL);
}

static void on_close_timer(void *ctx)
{
  server_t *s = ctx;
  static time_t said;
  int n = cn_node_close_due(s->node);
  if (n < 0 && time(NULL) - said >= 60) {   /* tried again every tick: say it once a minute */
    said = time(NULL);
    fprintf(stderr, "councild: closing proposals failed; will retry\n");
  }
  else if (n > 0) {
    fprintf(stderr, "councild: closed %d proposal%s\n", n, n == 1 ? "" : "s");
    cn_fed_kick(s->fed);
  }
}

static int cmd_init(int argc, char **argv)
{
  static const struct option opts[] = {
    { "data", required_argument, NULL, 'd' }, { "name", required_argument, NULL, 'n' },
    { "convener", required_argument, NULL, 'c' }, { "listen", required_argument, NULL, 'l' },
    { "parent", required_argument, NULL, 'P' }, { "parent-key", required_argument, NULL, 'K' },
    { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
  };
  const char *dir = NULL, *name = NULL, *convener = NULL, *listen_addr = NULL;
  const char *parent = NULL, *parent_key = NULL;
  uint8_t convener_pk[CN_PK_BYTES], parent_pk[CN_PK_BYTES];
  char err[512], conf_path[4096];
  cn_config_t conf;
  int c;

  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 'd': dir = optarg; break;
    case 'n': name = optarg; break;
    case 'c': convener = optarg; break;
    case 'l': listen_addr = optarg; break;
    case 'P': parent = optarg; break;
    case 'K': parent_key = optarg; break;
    case 'h': fputs(init_usage, stdout); return 0;
    default: fputs(init_usage, stderr); return 2;
    }
  }
  if (!dir || !name || !convener) {
    fputs("councild init: --data, --name and --convener are required\n\n", stderr);
    fputs(init_usage, stderr);
    return 2;
  }
  if (cn_hex_decode(convener_pk, CN_PK_BYTES, convener) != 0) {
    fprintf(stderr, "councild init: --convener must be 64 hex digits (a public key)\n");
    return 2;
  }
  if (!parent != !parent_key || (parent_key && cn_hex_decode(parent_pk, CN_PK_BYTES, parent_key) != 0) ||
      (parent && strncmp(parent, "http://", 7) != 0)) {
    fprintf(stderr, "councild init: --parent http://HOST:PORT and --parent-key (64 hex digits)"
                    " go together\n");
    return 2;
  }
  cn_config_defaults(&conf);
  if (listen_addr)
    snprintf(conf.listen, sizeof conf.listen, "%s", listen_addr);
  if (cn_node_create(dir, name, convener_pk, err, sizeof err) != 0) {
    fprintf(stderr, "councild init: %s\n", err);
    return 1;
  }
  snprintf(conf_path, sizeof conf_path, "%s/councild.conf", dir);
  if (cn_config_write(&conf, conf_path, err, sizeof err) != 0) {
    fprintf(stderr, "councild init: %s\n", err);
    return 1;
  }
  {
    cn_node_t *n = NULL;
    char hex[2 * CN_PK_BYTES + 1];
    if (cn_node_open(dir, &n, err, sizeof err) != 0) {
      fprintf(stderr, "councild init: %s\n", err);
      return 1;
    }
    if (parent && cn_node_set_parent(n, parent, parent_pk, err, sizeof err) != 0) {
      fprintf(stderr, "councild init: %s\n", err);
      cn_node_free(n);
      return 1;
    }
    cn_hex_encode(hex, cn_node_key(n), CN_PK_BYTES);
    printf("created node \"%s\" in %s\nnode key %s\n", name, dir, hex);
    if (parent)
      printf("parent %s\n(the parent's convener admits this node key: council member add KEY --council)\n", parent);
    cn_node_free(n);
  }
  return 0;
}

static int cmd_run(int argc, char **argv)
{
  static const struct option opts[] = {
    { "data", required_argument, NULL, 'd' }, { "listen", required_argument, NULL, 'l' },
    { "port-file", required_argument, NULL, 'p' }, { "max-body", required_argument, NULL, 'b' },
    { "timeout", required_argument, NULL, 't' }, { "clock-file", required_argument, NULL, 'k' },
    { "backoff-cap-ms", required_argument, NULL, 'B' }, { "set", required_argument, NULL, 'S' },
    { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
  };
  const char *dir = NULL, *listen_addr = NULL, *port_file = NULL;
  char err[512], conf_path[4096], hex[2 * CN_PK_BYTES + 1], flag_conf[1024];
  server_t srv;
  cn_api_t api;
  cn_fed_config_t fed_cfg;
  cn_loop_t *loop = NULL;
  cn_http_t *http = NULL;
  cn_http_limits_t limits;
  cn_config_t conf;
  int c, port = 0, rc = 1;

  memset(&srv, 0, sizeof srv);
  memset(&api, 0, sizeof api);
  memset(&fed_cfg, 0, sizeof fed_cfg);
  flag_conf[0] = 0;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    size_t used = strlen(flag_conf);
    switch (c) {
    case 'd': dir = optarg; break;
    case 'l': listen_addr = optarg; break;
    case 'p': port_file = optarg; break;
    case 'b': snprintf(flag_conf + used, sizeof flag_conf - used, "max_body=%.40s\n", optarg); break;
    case 't': snprintf(flag_conf + used, sizeof flag_conf - used, "timeout=%.40s\n", optarg); break;
    case 'B': snprintf(flag_conf + used, sizeof flag_conf - used, "backoff_cap_ms=%.40s\n", optarg); break;
    case 'S': snprintf(flag_conf + used, sizeof flag_conf - used, "%.80s\n", optarg); break;
    case 'k': srv.clock_file = optarg; break;
    case 'h': fputs(run_usage, stdout); return 0;
    default: fputs(run_usage, stderr); return 2;
    }
  }
  if (!dir) {
    fputs("councild run: --data is required\n\n", stderr);
    fputs(run_usage, stderr);
    return 2;
  }
  cn_config_defaults(&conf);
  snprintf(conf_path, sizeof conf_path, "%s/councild.conf", dir);
  if (cn_config_load(&conf, conf_path, err, sizeof err) != 0 ||
      cn_config_parse(&conf, flag_conf, strlen(flag_conf), err, sizeof err) != 0) {
    fprintf(stderr, "councild run: %s\n", err);
    return 2;
  }
  if (listen_addr)
    snprintf(conf.listen, sizeof conf.listen, "%s", listen_addr);
  if (cn_node_open(dir, &srv.node, err, sizeof err) != 0) {
    fprintf(stderr, "councild run: %s\n", err);
    return 1;
  }
  if (srv.clock_file)
    cn_node_set_clock(srv.node, clock_from_file, &srv);
  cn_node_set_rate(srv.node, conf.rate_per_signer, conf.rate_burst);
  api.node = srv.node;
  loop = cn_loop_new();
  limits.max_body = conf.max_body;
  limits.max_headers = conf.max_headers;
  limits.timeout_s = conf.timeout_s;
  limits.max_conns = conf.max_connections;
  {
    /* Room for the connection cap: raise the soft file limit to the hard one. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = rl.rlim_max;
      setrlimit(RLIMIT_NOFILE, &rl);
    }
    /* A cap above the file limit is never reached: accept() fails first.
     * Keep CN_FD_RESERVE descriptors for the database, the pipes and the
     * outgoing connection, and answer 503 past what is left. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (rlim_t)limits.max_conns + CN_FD_RESERVE > rl.rlim_cur) {
      unsigned fit = rl.rlim_cur >= CN_FD_RESERVE + 16 ? (unsigned)(rl.rlim_cur - CN_FD_RESERVE)
                                                       : 16;
      fprintf(stderr, "councild: max_connections %u does not fit the file limit %llu; "
              "using %u (raise ulimit -n for more)\n", limits.max_conns,
              (unsigned long long)rl.rlim_cur, fit);
      limits.max_conns = fit;
    }
  }
  http = loop ? cn_http_new(loop, &limits, cn_api_handle, &api) : NULL;
  if (!http) {
    fprintf(stderr, "councild run: cannot start the event loop\n");
    goto out;
  }
  if (cn_http_listen(http, conf.listen, &port, err, sizeof err) != 0) {
    fprintf(stderr, "councild run: %s\n", err);
    goto out;
  }
  fed_cfg.backoff_base_ms = conf.backoff_base_ms;
  fed_cfg.backoff_cap_ms = conf.backoff_cap_ms;
  fed_cfg.follow_interval_ms = conf.follow_interval_ms;
  fed_cfg.durable = cn_api_durable;
  fed_cfg.durable_ctx = &api;
  api.http = http;
  if (conf.group_commit && cn_api_init(&api, loop, conf.workers) != 0)
    fprintf(stderr, "councild: group commit unavailable; one transaction per record\n");
  api.fed = srv.fed = cn_fed_new(loop, srv.node, &fed_cfg);
  if (!api.fed || cn_loop_every(loop, conf.close_interval_ms, on_close_timer, &srv) != 0) {
    fprintf(stderr, "councild run: cannot start the timer\n");
    goto out;
  }
  if (port_file) {
    FILE *f = fopen(port_file, "w");
    if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0) {
      fprintf(stderr, "councild run: %s: %s\n", port_file, strerror(errno));
      goto out;
    }
  }
  cn_hex_encode(hex, cn_node_key(srv.node), CN_PK_BYTES);
  fprintf(stderr, "councild: node \"%s\" (%s) listening on port %d\n",
          cn_node_name(srv.node), hex, port);
  on_close_timer(&srv);
  if (cn_loop_run(loop) != 0)
    goto out;
  rc = 0;
out:
  if (cn_api_close(&api) != 0)
    rc = 1;             /* a record stranded in the pipeline: fail loudly */
  if (loop)
    cn_loop_poll(loop, 20);   /* let the last answers go out */
  cn_http_free(http);
  cn_fed_free(api.fed);
  cn_loop_free(loop);
  cn_node_free(srv.node);
  return rc;
}

int main(int argc, char **argv)
{
  if (cn_crypto_init() != 0) {
    fprintf(stderr, "councild: libsodium cannot be initialised\n");
    return 1;
  }
  if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
      strcmp(argv[1], "-h") == 0) {
    fputs(usage_text, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "init") == 0)
    return cmd_init(argc - 1, argv + 1);
  if (strcmp(argv[1], "run") == 0)
    return cmd_run(argc - 1, argv + 1);
  fprintf(stderr, "councild: unknown command '%s'\n\n%s", argv[1], usage_text);
  return 2;
}
