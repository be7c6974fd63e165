/* util.c: see util.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "councilnet/record.h"
#include "http.h"
#include "util.h"

int util_tmpdir(char *out, size_t cap, const char *tag)
{
  const char *tmp = getenv("TMPDIR");
  snprintf(out, cap, "%s/cn-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", tag);
  return mkdtemp(out) ? 0 : -1;
}

void util_rmtree(const char *dir)
{
  char cmd[600];
  if (!dir || !*dir || strstr(dir, "/cn-") == NULL)
    return;
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0)
    fprintf(stderr, "util: cannot remove %s\n", dir);
}

static void sleep_ms(int ms)
{
  struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
  nanosleep(&ts, NULL);
}

int tnode_set_clock(tnode_t *n, uint64_t now)
{
  char tmp[320];
  FILE *f;

  snprintf(tmp, sizeof tmp, "%s.tmp", n->clock_file);
  f = fopen(tmp, "w");
  if (!f)
    return -1;
  fprintf(f, "%llu\n", (unsigned long long)now);
  if (fclose(f) != 0 || rename(tmp, n->clock_file) != 0)
    return -1;
  n->now = now;
  return 0;
}

static int tnode_spawn(tnode_t *n, const char *listen_addr)
{
  const char *councild = getenv("CN_COUNCILD");
  char port_file[300], log_file[300];
  int tries;

  snprintf(port_file, sizeof port_file, "%s/port", n->dir);
  snprintf(log_file, sizeof log_file, "%s/councild.log", n->dir);
  unlink(port_file);
  n->pid = fork();
  if (n->pid < 0)
    return -1;
  if (n->pid == 0) {
    int fd = open(log_file, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 2);
      dup2(fd, 1);
      close(fd);
    }
    execl(councild, "councild", "run", "--data", n->dir, "--listen", listen_addr,
          "--port-file", port_file, "--clock-file", n->clock_file, (char *)NULL);
    _exit(127);
  }
  for (tries = 0; tries < 500; tries++) {
    FILE *f = fopen(port_file, "r");
    int status;
    if (f) {
      int ok = fscanf(f, "%d", &n->port) == 1;
      fclose(f);
      if (ok && n->port > 0)
        break;
    }
    if (waitpid(n->pid, &status, WNOHANG) == n->pid) {
      fprintf(stderr, "util: councild exited early; see %s\n", log_file);
      n->pid = 0;
      return -1;
    }
    sleep_ms(10);
  }
  if (tries == 500)
    return -1;
  snprintf(n->url, sizeof n->url, "http://127.0.0.1:%d", n->port);
  return 0;
}

int tnode_start(tnode_t *n, const char *name, uint64_t now)
{
  const char *councild = getenv("CN_COUNCILD");
  char cmd[1024], hex[2 * CN_PK_BYTES + 1], data[240], *out = NULL;
  char err[256];
  uint8_t sk[CN_SK_BYTES];

  memset(n, 0, sizeof *n);
  if (!councild) {
    fprintf(stderr, "util: CN_COUNCILD is not set (run through ctest)\n");
    return -1;
  }
  if (util_tmpdir(n->dir, sizeof n->dir, "node") != 0)
    return -1;
  cn_crypto_keypair(n->convener_pk, n->convener_sk);
  cn_hex_encode(hex, n->convener_pk, CN_PK_BYTES);
  snprintf(data, sizeof data, "%.200s/data", n->dir);
  snprintf(cmd, sizeof cmd, "'%s' init --data '%s' --name '%s' --convener %s >/dev/null",
           councild, data, name, hex);
  if (util_sh(cmd, &out) != 0) {
    free(out);
    return -1;
  }
  free(out);
  snprintf(n->dir, sizeof n->dir, "%s", data);
  snprintf(n->clock_file, sizeof n->clock_file, "%s/clock", n->dir);
  if (tnode_set_clock(n, now) != 0 || tnode_spawn(n, "127.0.0.1:0") != 0)
    return -1;
  if (cn_keyfile_read(strcat(strcpy(cmd, n->dir), "/node.key"), sk, NULL, NULL, err, sizeof err) != 0)
    return -1;
  cn_crypto_sk_to_pk(n->pk, sk);
  return 0;
}

int tnode_restart(tnode_t *n)
{
  char addr[64];
  snprintf(addr, sizeof addr, "127.0.0.1:%d", n->port);
  if (tnode_spawn(n, addr) == 0)
    return 0;
  return tnode_spawn(n, "127.0.0.1:0");
}

void tnode_kill(tnode_t *n, int sig)
{
  int status;
  if (n->pid <= 0)
    return;
  kill(n->pid, sig);
  waitpid(n->pid, &status, 0);
  n->pid = 0;
}

void tnode_destroy(tnode_t *n)
{
  char parent[256], *slash;
  tnode_kill(n, SIGTERM);
  snprintf(parent, sizeof parent, "%s", n->dir);
  slash = strrchr(parent, '/');
  if (slash && getenv("CN_KEEP") == NULL) {
    *slash = 0;
    util_rmtree(parent);
  }
}

int util_seal(const char *kind, const void *body, const uint8_t sk[CN_SK_BYTES],
              uint8_t **out, size_t *len)
{
  return cn_record_seal(kind, body, sk, out, len);
}

int util_post(tnode_t *n, const uint8_t *env, size_t len, uint64_t *seq)
{
  cn_http_resp_t resp;
  char err[256];
  int code = -1;

  if (cn_http_request(n->url, "POST", "/v1/records", NULL, "application/x-protobuf", env, len,
                      10000, &resp, err, sizeof err) != 0) {
    fprintf(stderr, "util: POST: %s\n", err);
    return -1;
  }
  if (resp.status == 200) {
    cn_record_t rec;
    Councilnet__Receipt *r = NULL;
    if (cn_record_open(resp.body, resp.len, &rec) == CN_OK && strcmp(rec.kind, "receipt") == 0 &&
        memcmp(rec.signer, n->pk, CN_PK_BYTES) == 0)
      r = councilnet__receipt__unpack(NULL, rec.body_len, rec.body);
    if (r) {
      uint8_t id[CN_HASH_BYTES];
      cn_crypto_hash(id, env, len);
      if (r->record_id.len == CN_HASH_BYTES && memcmp(r->record_id.data, id, CN_HASH_BYTES) == 0) {
        code = CN_OK;
        if (seq)
          *seq = r->seq;
      }
      councilnet__receipt__free_unpacked(r, NULL);
    }
    cn_record_close(&rec);
  } else {
    Councilnet__Error *e = councilnet__error__unpack(NULL, resp.len, resp.body);
    if (e) {
      code = (int)e->code;
      if (cn_err_http_status((cn_err)e->code) != resp.status)
        code = -2;   /* status and code disagree: a bug */
      councilnet__error__free_unpacked(e, NULL);
    } else if (resp.status == 413) {
      code = CN_ERR_TOO_LARGE;
    }
  }
  cn_http_resp_clear(&resp);
  return code;
}

int util_act(tnode_t *n, const char *kind, const void *body, const uint8_t sk[CN_SK_BYTES],
             uint64_t *seq)
{
  uint8_t *env = NULL;
  size_t len = 0;
  int code;

  if (util_seal(kind, body, sk, &env, &len) != 0)
    return -1;
  code = util_post(n, env, len, seq);
  free(env);
  return code;
}

int64_t util_head_seq(tnode_t *n)
{
  cn_http_resp_t resp;
  char err[256];
  int64_t seq = -1;
  cn_record_t rec;

  if (cn_http_request(n->url, "GET", "/v1/head", NULL, NULL, NULL, 0, 10000, &resp, err,
                      sizeof err) != 0)
    return -1;
  if (resp.status == 200 && cn_record_open(resp.body, resp.len, &rec) == CN_OK) {
    Councilnet__Head *h = councilnet__head__unpack(NULL, rec.body_len, rec.body);
    if (h && strcmp(rec.kind, "head") == 0 && memcmp(rec.signer, n->pk, CN_PK_BYTES) == 0)
      seq = (int64_t)h->seq;
    if (h)
      councilnet__head__free_unpacked(h, NULL);
    cn_record_close(&rec);
  }
  cn_http_resp_clear(&resp);
  return seq;
}

int util_sh(const char *cmd, char **out)
{
  FILE *p = popen(cmd, "r");
  size_t cap = 4096, len = 0, n;
  char *buf = malloc(cap);
  int status;

  *out = NULL;
  if (!p || !buf) {
    if (p)
      pclose(p);
    free(buf);
    return -1;
  }
  while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
    len += n;
    if (cap - len < 2) {
      char *nb = realloc(buf, cap * 2);
      if (!nb)
        break;
      buf = nb;
      cap *= 2;
    }
  }
  buf[len] = 0;
  status = pclose(p);
  *out = buf;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
