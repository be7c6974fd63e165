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

#include <sqlite3.h>

#include "councilnet/log.h"
#include "councilnet/receipt.h"
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

void util_remove_db(const char *path)
{
  static const char *const side[] = { "-wal", "-shm", "-journal" };
  char name[4096];

  unlink(path);
  for (size_t i = 0; i < sizeof side / sizeof side[0]; i++) {
    snprintf(name, sizeof name, "%s%s", path, side[i]);
    unlink(name);
  }
}

int util_sql_exec(const char *path, const char *sql)
{
  sqlite3 *db = NULL;
  int rc = sqlite3_open(path, &db);

  if (rc == SQLITE_OK)
    rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
  sqlite3_close(db);
  return rc;
}

void util_sleep_ms(int ms)
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
    {
      const char *argv[32];
      int k = 0;
      argv[k++] = "councild";
      argv[k++] = "run";
      argv[k++] = "--data";
      argv[k++] = n->dir;
      argv[k++] = "--listen";
      argv[k++] = listen_addr;
      argv[k++] = "--port-file";
      argv[k++] = port_file;
      argv[k++] = "--clock-file";
      argv[k++] = n->clock_file;
      argv[k++] = "--set";
      argv[k++] = "follow_interval_ms=50";
      argv[k++] = "--set";
      argv[k++] = "backoff_base_ms=20";
      argv[k++] = "--set";
      argv[k++] = "backoff_cap_ms=400";
      for (int i = 0; i < 4 && n->set[i]; i++) {
        argv[k++] = "--set";
        argv[k++] = n->set[i];
      }
      argv[k] = NULL;
      execv(councild, (char *const *)argv);
    }
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
    util_sleep_ms(10);
  }
  if (tries == 500)
    return -1;
  snprintf(n->url, sizeof n->url, "http://127.0.0.1:%d", n->port);
  return 0;
}

static int tnode_start_with(tnode_t *n, const char *name, uint64_t now, const tnode_t *parent);

int tnode_start(tnode_t *n, const char *name, uint64_t now)
{
  memset(n, 0, sizeof *n);
  return tnode_start_with(n, name, now, NULL);
}

int tnode_start_set(tnode_t *n, const char *name, uint64_t now, const char *const *set, size_t n_set)
{
  memset(n, 0, sizeof *n);
  for (size_t i = 0; i < n_set && i < 4; i++)
    n->set[i] = set[i];
  return tnode_start_with(n, name, now, NULL);
}

int tnode_start_child(tnode_t *n, const char *name, uint64_t now, const tnode_t *parent)
{
  memset(n, 0, sizeof *n);
  return tnode_start_with(n, name, now, parent);
}

static int tnode_start_with(tnode_t *n, const char *name, uint64_t now, const tnode_t *parent)
{
  const char *councild = getenv("CN_COUNCILD");
  char cmd[1024], hex[2 * CN_PK_BYTES + 1], data[240], *out = NULL;
  uint8_t sk[CN_SK_BYTES];

  if (!councild) {
    fprintf(stderr, "util: CN_COUNCILD is not set (run through ctest)\n");
    return -1;
  }
  if (util_tmpdir(n->dir, sizeof n->dir, "node") != 0)
    return -1;
  cn_crypto_keypair(n->convener_pk, n->convener_sk);
  cn_hex_encode(hex, n->convener_pk, CN_PK_BYTES);
  snprintf(data, sizeof data, "%.200s/data", n->dir);
  if (parent) {
    char phex[2 * CN_PK_BYTES + 1];
    cn_hex_encode(phex, parent->pk, CN_PK_BYTES);
    snprintf(cmd, sizeof cmd, "'%s' init --data '%s' --name '%s' --convener %s --parent %s"
             " --parent-key %s >/dev/null", councild, data, name, hex, parent->url, phex);
  } else {
    snprintf(cmd, sizeof cmd, "'%s' init --data '%s' --name '%s' --convener %s >/dev/null",
             councild, data, name, hex);
  }
  if (util_sh(cmd, &out) != 0) {
    free(out);
    return -1;
  }
  free(out);
  snprintf(n->dir, sizeof n->dir, "%s", data);
  snprintf(n->clock_file, sizeof n->clock_file, "%s/clock", n->dir);
  if (tnode_set_clock(n, now) != 0 || tnode_spawn(n, "127.0.0.1:0") != 0)
    return -1;
  if (tnode_secret_key(n, sk) != 0)
    return -1;
  cn_crypto_sk_to_pk(n->pk, sk);
  return 0;
}

int tnode_secret_key(const tnode_t *n, uint8_t sk[CN_SK_BYTES])
{
  char path[sizeof n->dir + 16], err[128];

  snprintf(path, sizeof path, "%s/node.key", n->dir);
  return cn_keyfile_read(path, sk, NULL, NULL, err, sizeof err);
}

int tnode_restart(tnode_t *n)
{
  char addr[64];
  snprintf(addr, sizeof addr, "127.0.0.1:%d", n->port);
  if (tnode_spawn(n, addr) == 0)
    return 0;
  return tnode_spawn(n, "127.0.0.1:0");
}

int tnode_kill(tnode_t *n, int sig)
{
  int status = 0;
  if (n->pid <= 0)
    return 0;
  kill(n->pid, sig);
  waitpid(n->pid, &status, 0);
  n->pid = 0;
  if (sig == SIGTERM && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
    char cmd[400];
    fprintf(stderr, "util: councild in %s did not stop cleanly (status %d); its log:\n", n->dir, status);
    snprintf(cmd, sizeof cmd, "tail -n 40 '%s/councild.log' >&2", n->dir);
    if (system(cmd) != 0)
      fprintf(stderr, "(no log)\n");
    return -1;
  }
  return 0;
}

int tnode_destroy(tnode_t *n)
{
  char parent[256], *slash;
  int rc = tnode_kill(n, SIGTERM);
  snprintf(parent, sizeof parent, "%s", n->dir);
  slash = strrchr(parent, '/');
  if (slash && getenv("CN_KEEP") == NULL && rc == 0) {
    *slash = 0;
    util_rmtree(parent);
  }
  return rc;
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
    Councilnet__Receipt *r = NULL;
    char msg[160];
    if (cn_receipt_open(resp.body, resp.len, n->pk, &r, msg, sizeof msg) != CN_OK)
      fprintf(stderr, "util: POST: bad receipt: %s\n", msg);
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

int util_act_id(tnode_t *n, const char *kind, const void *body, const uint8_t sk[CN_SK_BYTES],
                uint64_t *seq, uint8_t id[CN_HASH_BYTES])
{
  uint8_t *env = NULL;
  size_t len = 0;
  int code;

  if (util_seal(kind, body, sk, &env, &len) != 0)
    return -1;
  code = util_post(n, env, len, seq);
  if (id)
    cn_crypto_hash(id, env, len);
  free(env);
  return code;
}

int util_act(tnode_t *n, const char *kind, const void *body, const uint8_t sk[CN_SK_BYTES],
             uint64_t *seq)
{
  return util_act_id(n, kind, body, sk, seq, NULL);
}

int util_parent_set(tnode_t *child, const tnode_t *parent)
{
  Councilnet__ParentSet ps = COUNCILNET__PARENT_SET__INIT;
  ps.node.data = child->pk;
  ps.node.len = CN_PK_BYTES;
  ps.created = child->now;
  ps.url = (char *)parent->url;
  ps.key.data = (uint8_t *)parent->pk;
  ps.key.len = CN_PK_BYTES;
  return util_act(child, "parent_set", &ps, child->convener_sk, NULL);
}

void util_budget_projects(Councilnet__BudgetProject *proj, Councilnet__BudgetProject **pp,
                          char *const *ids, size_t n, uint64_t cost)
{
  for (size_t i = 0; i < n; i++) {
    councilnet__budget_project__init(&proj[i]);
    proj[i].id = ids[i];
    proj[i].title = ids[i];
    proj[i].cost = cost;
    pp[i] = &proj[i];
  }
}

double util_metric(tnode_t *n, const char *name)
{
  cn_http_resp_t r;
  char err[256], *p;
  double v = -1;

  if (cn_http_request(n->url, "GET", "/metrics", NULL, NULL, NULL, 0, 5000, &r, err, sizeof err) != 0)
    return -1;
  for (p = (char *)r.body; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
    if (strncmp(p, name, strlen(name)) == 0 && p[strlen(name)] == ' ') {
      v = atof(p + strlen(name) + 1);
      break;
    }
  cn_http_resp_clear(&r);
  return v;
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

int util_wait(int (*pred)(void *ctx), void *ctx, int ms)
{
  for (int waited = 0; waited <= ms; waited += 10) {
    if (pred(ctx))
      return 0;
    util_sleep_ms(10);
  }
  return pred(ctx) ? 0 : -1;
}

ProtobufCMessage *util_get(tnode_t *n, const char *path, const ProtobufCMessageDescriptor *desc)
{
  cn_http_resp_t resp;
  char err[256];
  ProtobufCMessage *m = NULL;

  if (cn_http_request(n->url, "GET", path, NULL, NULL, NULL, 0, 10000, &resp, err, sizeof err) != 0)
    return NULL;
  if (resp.status == 200)
    m = protobuf_c_message_unpack(desc, NULL, resp.len, resp.body);
  cn_http_resp_clear(&resp);
  return m;
}

int util_get_record(tnode_t *n, const uint8_t id[CN_HASH_BYTES], uint8_t **out, size_t *len)
{
  char path[128], hex[2 * CN_HASH_BYTES + 1], err[256];
  cn_http_resp_t resp;

  cn_hex_encode(hex, id, CN_HASH_BYTES);
  snprintf(path, sizeof path, "/v1/records/%s", hex);
  if (cn_http_request(n->url, "GET", path, NULL, NULL, NULL, 0, 10000, &resp, err, sizeof err) != 0)
    return -1;
  if (resp.status != 200) {
    cn_http_resp_clear(&resp);
    return -1;
  }
  *out = resp.body;
  *len = resp.len;
  return 0;
}

static int admit(tnode_t *n, const uint8_t key[CN_PK_BYTES], const char *name, int council)
{
  Councilnet__MemberAdd m = COUNCILNET__MEMBER_ADD__INIT;
  m.council = council;
  m.node.data = n->pk;
  m.node.len = CN_PK_BYTES;
  m.created = n->now;
  m.member.data = (uint8_t *)key;
  m.member.len = CN_PK_BYTES;
  m.name = (char *)(name ? name : "");
  return util_act(n, "member_add", &m, n->convener_sk, NULL);
}

int util_admit(tnode_t *n, const uint8_t key[CN_PK_BYTES], const char *name)
{
  return admit(n, key, name, 0);
}

int util_admit_council(tnode_t *n, const uint8_t key[CN_PK_BYTES], const char *name)
{
  return admit(n, key, name, 1);
}

int util_settings_open(tnode_t *n)
{
  Councilnet__Settings st = COUNCILNET__SETTINGS__INIT;

  st.node.data = n->pk;
  st.node.len = CN_PK_BYTES;
  st.created = n->now;
  return util_act(n, "settings", &st, n->convener_sk, NULL);
}

int util_propose_lot(tnode_t *n, const char *title, uint32_t seats,
                     const uint8_t parent[CN_PK_BYTES], uint64_t window,
                     uint8_t id[CN_HASH_BYTES])
{
  return util_propose_lot_by(n, n->convener_sk, title, seats, parent, window, id);
}

int util_propose_lot_by(tnode_t *n, const uint8_t sk[CN_SK_BYTES], const char *title,
                        uint32_t seats, const uint8_t parent[CN_PK_BYTES], uint64_t window,
                        uint8_t id[CN_HASH_BYTES])
{
  Councilnet__Proposal p = COUNCILNET__PROPOSAL__INIT;
  Councilnet__Selection sel = COUNCILNET__SELECTION__INIT;

  p.title = (char *)title;
  p.opens = n->now;
  p.closes = n->now + window;
  p.selection = &sel;
  sel.method = COUNCILNET__SELECTION_METHOD__BY_LOT;
  sel.seats = seats;
  sel.parent.data = (uint8_t *)parent;
  sel.parent.len = CN_PK_BYTES;
  sel.term_start = n->now + window;
  sel.term_end = n->now + window + 100000;
  return util_propose(n, sk, &p, id);
}

int util_propose(tnode_t *n, const uint8_t sk[CN_SK_BYTES], Councilnet__Proposal *p,
                 uint8_t id[CN_HASH_BYTES])
{
  p->node.data = n->pk;
  p->node.len = CN_PK_BYTES;
  if (!p->created)
    p->created = n->now;
  return util_act_id(n, "proposal", p, sk, NULL, id);
}

int util_propose_question(tnode_t *n, const uint8_t sk[CN_SK_BYTES], const char *title,
                          uint64_t opens, uint64_t closes, uint8_t id[CN_HASH_BYTES])
{
  Councilnet__Proposal p = COUNCILNET__PROPOSAL__INIT;
  Councilnet__Rule rule = COUNCILNET__RULE__INIT;   /* replace = 0: one ballot each */
  p.created = opens;
  p.title = (char *)title;
  p.opens = opens;
  p.closes = closes;
  p.rule = &rule;
  return util_propose(n, sk, &p, id);
}

int util_seal_ballot(const tnode_t *n, const uint8_t sk[CN_SK_BYTES],
                     const uint8_t pid[CN_HASH_BYTES], uint32_t choice, uint64_t created,
                     uint8_t **out, size_t *len)
{
  Councilnet__Ballot b = COUNCILNET__BALLOT__INIT;
  b.node.data = (uint8_t *)n->pk;
  b.node.len = CN_PK_BYTES;
  b.created = created;
  b.proposal.data = (uint8_t *)pid;
  b.proposal.len = CN_HASH_BYTES;
  b.choices = &choice;
  b.n_choices = 1;
  return util_seal("ballot", &b, sk, out, len);
}

int util_vote(tnode_t *n, const uint8_t sk[CN_SK_BYTES], const uint8_t pid[CN_HASH_BYTES], uint32_t choice)
{
  uint8_t *env = NULL;
  size_t len = 0;
  int code;

  if (util_seal_ballot(n, sk, pid, choice, n->now, &env, &len) != 0)
    return -1;
  code = util_post(n, env, len, NULL);
  free(env);
  return code;
}

Councilnet__Decision *util_decision(tnode_t *n, const uint8_t pid[CN_HASH_BYTES])
{
  char path[128], hex[2 * CN_HASH_BYTES + 1];
  Councilnet__Envelope *env;
  Councilnet__Decision *d = NULL;

  cn_hex_encode(hex, pid, CN_HASH_BYTES);
  snprintf(path, sizeof path, "/v1/decisions/%s", hex);
  env = (Councilnet__Envelope *)util_get(n, path, &councilnet__envelope__descriptor);
  if (env && env->signer.len == CN_PK_BYTES && memcmp(env->signer.data, n->pk, CN_PK_BYTES) == 0)
    d = councilnet__decision__unpack(NULL, env->body.len, env->body.data);
  if (env)
    councilnet__envelope__free_unpacked(env, NULL);
  return d;
}

Councilnet__Decision *util_wait_decision(tnode_t *n, const uint8_t pid[CN_HASH_BYTES], int ms)
{
  for (int waited = 0; waited <= ms; waited += 20) {
    Councilnet__Decision *d = util_decision(n, pid);
    if (d)
      return d;
    util_sleep_ms(20);
  }
  return NULL;
}

int util_credential_of(tnode_t *n, const uint8_t delegate[CN_PK_BYTES], uint8_t id[CN_HASH_BYTES],
                       int *recalled)
{
  Councilnet__DelegateList *dl =
    (Councilnet__DelegateList *)util_get(n, "/v1/delegates", &councilnet__delegate_list__descriptor);
  int rc = -1;

  for (size_t i = 0; dl && i < dl->n_delegates; i++) {
    Councilnet__DelegateView *v = dl->delegates[i];
    if (v->credential && v->credential->delegate.len == CN_PK_BYTES &&
        memcmp(v->credential->delegate.data, delegate, CN_PK_BYTES) == 0) {
      memcpy(id, v->credential_id.data, CN_HASH_BYTES);
      if (recalled)
        *recalled = v->recalled;
      rc = 0;     /* the latest one wins */
    }
  }
  if (dl)
    councilnet__delegate_list__free_unpacked(dl, NULL);
  return rc;
}

int util_log_each(tnode_t *n, util_entry_fn fn, void *ctx)
{
  uint64_t after = 0;

  for (;;) {
    char path[96];
    Councilnet__LogPage *page;
    size_t got;
    int stop = 0;
    snprintf(path, sizeof path, "/v1/log?after=%llu&limit=5000", (unsigned long long)after);
    page = (Councilnet__LogPage *)util_get(n, path, &councilnet__log_page__descriptor);
    if (!page)
      return -1;
    got = page->n_entries;
    for (size_t i = 0; i < got && !stop; i++) {
      Councilnet__Envelope *e = councilnet__envelope__unpack(NULL, page->entries[i]->envelope.len,
                                                             page->entries[i]->envelope.data);
      stop = fn(ctx, page->entries[i], e);
      if (e)
        councilnet__envelope__free_unpacked(e, NULL);
      after = page->entries[i]->seq;
    }
    councilnet__log_page__free_unpacked(page, NULL);
    if (got == 0 || stop)
      return 0;
  }
}

typedef struct count_ctx_t {
  const uint8_t *id;
  int count;
} count_ctx_t;

static int count_entry(void *ctx, const Councilnet__LogEntry *le, const Councilnet__Envelope *e)
{
  count_ctx_t *c = ctx;
  (void)e;
  c->count += le->record_id.len == CN_HASH_BYTES &&
              memcmp(le->record_id.data, c->id, CN_HASH_BYTES) == 0;
  return 0;
}

int util_log_count(tnode_t *n, const uint8_t id[CN_HASH_BYTES])
{
  count_ctx_t c = { id, 0 };
  return util_log_each(n, count_entry, &c) == 0 ? c.count : -1;
}

typedef struct decision_ctx_t {
  const uint8_t *id;
  uint64_t seq;
  uint8_t prev[CN_HASH_BYTES];
  int found;
} decision_ctx_t;

static int decision_entry(void *ctx, const Councilnet__LogEntry *le, const Councilnet__Envelope *e)
{
  decision_ctx_t *c = ctx;
  Councilnet__Decision *d;

  if (!e || !e->kind || strcmp(e->kind, "decision") != 0 || le->prev.len != CN_HASH_BYTES)
    return 0;
  d = councilnet__decision__unpack(NULL, e->body.len, e->body.data);
  if (d && d->proposal.len == CN_HASH_BYTES && memcmp(d->proposal.data, c->id, CN_HASH_BYTES) == 0) {
    c->seq = le->seq;
    memcpy(c->prev, le->prev.data, CN_HASH_BYTES);
    c->found = 1;
  }
  if (d)
    councilnet__decision__free_unpacked(d, NULL);
  return c->found;
}

int util_decision_entry(tnode_t *n, const uint8_t id[CN_HASH_BYTES], uint64_t *seq,
                        uint8_t prev[CN_HASH_BYTES])
{
  decision_ctx_t c;

  memset(&c, 0, sizeof c);
  c.id = id;
  if (util_log_each(n, decision_entry, &c) != 0 || !c.found)
    return -1;
  *seq = c.seq;
  if (prev)
    memcpy(prev, c.prev, CN_HASH_BYTES);
  return 0;
}

int64_t util_outbox(tnode_t *n)
{
  Councilnet__FederationStatus *f = (Councilnet__FederationStatus *)util_get(
    n, "/v1/federation", &councilnet__federation_status__descriptor);
  int64_t v = f ? (int64_t)f->outbox : -1;
  if (f)
    councilnet__federation_status__free_unpacked(f, NULL);
  return v;
}

Councilnet__RoundView *util_round_view(Councilnet__RoundList *rl, const uint8_t id[CN_HASH_BYTES])
{
  for (size_t i = 0; rl && i < rl->n_rounds; i++)
    if (rl->rounds[i]->id.len == CN_HASH_BYTES &&
        memcmp(rl->rounds[i]->id.data, id, CN_HASH_BYTES) == 0)
      return rl->rounds[i];
  return NULL;
}

typedef struct round_want_t {
  tnode_t *n;
  const uint8_t *id;
  int listed, mandated, allocated;
} round_want_t;

static int round_as_wanted(void *ctx)
{
  round_want_t *w = ctx;
  Councilnet__RoundList *rl =
    (Councilnet__RoundList *)util_get(w->n, "/v1/budget", &councilnet__round_list__descriptor);
  Councilnet__RoundView *v = util_round_view(rl, w->id);
  int ok = v && (!w->listed || v->projects_envelope.len) && (!w->mandated || v->mandated) &&
           (!w->allocated || v->allocation);
  if (rl)
    councilnet__round_list__free_unpacked(rl, NULL);
  return ok;
}

int util_wait_round(tnode_t *n, const uint8_t id[CN_HASH_BYTES], int listed, int mandated,
                    int allocated, int ms)
{
  round_want_t w = { n, id, listed, mandated, allocated };
  return util_wait(round_as_wanted, &w, ms);
}

int util_round_seen(void *ctx)
{
  util_round_t *r = ctx;
  Councilnet__RoundList *rl =
    (Councilnet__RoundList *)util_get(r->n, "/v1/budget", &councilnet__round_list__descriptor);
  int ok = 0;

  if (rl && rl->n_rounds == 1) {
    memcpy(r->id, rl->rounds[0]->id.data, CN_HASH_BYTES);
    ok = !r->allocated || rl->rounds[0]->allocation != NULL;
  }
  if (rl)
    councilnet__round_list__free_unpacked(rl, NULL);
  return ok;
}

int util_ballots_are(tnode_t *n, const uint8_t pid[CN_HASH_BYTES], uint64_t want)
{
  char path[128], hex[2 * CN_HASH_BYTES + 1];
  Councilnet__ProposalView *v;
  int ok;

  cn_hex_encode(hex, pid, CN_HASH_BYTES);
  snprintf(path, sizeof path, "/v1/proposals/%s", hex);
  v = (Councilnet__ProposalView *)util_get(n, path, &councilnet__proposal_view__descriptor);
  ok = v && v->ballots == want;
  if (v)
    councilnet__proposal_view__free_unpacked(v, NULL);
  return ok;
}

int util_ballots_ready(void *ctx)
{
  util_ballots_t *b = ctx;
  return util_ballots_are(b->n, b->pid, b->want);
}

int util_council_verify(tnode_t *n)
{
  char cmd[512], *out = NULL;
  int rc;

  if (!getenv("CN_COUNCIL"))
    return 0;
  snprintf(cmd, sizeof cmd, "'%s' verify --node %s 2>&1", getenv("CN_COUNCIL"), n->url);
  rc = util_sh(cmd, &out);
  if (rc != 0)
    fprintf(stderr, "council verify %s: %s\n", n->url, out ? out : "");
  free(out);
  return rc;
}

typedef struct forge_row_t {
  uint64_t seq, received;
  uint8_t id[CN_HASH_BYTES];
} forge_row_t;

int util_log_forge(tnode_t *n, uint64_t from, int repeats, util_forge_fn fn, void *ctx)
{
  char path[sizeof n->dir + 16];
  sqlite3 *db = NULL;
  sqlite3_stmt *get = NULL, *put = NULL, *prop = NULL;
  forge_row_t *rows = NULL;
  size_t n_rows = 0, cap = 0;
  uint8_t prev[CN_HASH_BYTES], hash[CN_HASH_BYTES], *env = NULL;
  size_t len = 0;
  int rc = -1;

  if (tnode_kill(n, SIGTERM) != 0)
    goto out;
  snprintf(path, sizeof path, "%s/node.db", n->dir);
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
      sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
      /* a dishonest node's log need not keep record ids unique (the node
       * then takes no more acts: its insert relies on that index) */
      (repeats &&
       sqlite3_exec(db, "CREATE TABLE log2(seq INTEGER PRIMARY KEY, prev BLOB NOT NULL,"
                    " record_id BLOB NOT NULL, received INTEGER NOT NULL, hash BLOB NOT NULL,"
                    " kind TEXT NOT NULL, signer BLOB NOT NULL, envelope BLOB NOT NULL);"
                    "INSERT INTO log2 SELECT seq, prev, record_id, received, hash, kind, signer,"
                    " envelope FROM log; DROP TABLE log; ALTER TABLE log2 RENAME TO log;",
                    NULL, NULL, NULL) != SQLITE_OK) ||
      sqlite3_prepare_v2(db, "SELECT seq, prev, record_id, received FROM log WHERE seq >= ?1"
                         " ORDER BY seq", -1, &get, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "UPDATE log SET prev = ?1, record_id = ?2, hash = ?3,"
                         " envelope = coalesce(?4, envelope) WHERE seq = ?5", -1, &put,
                         NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "UPDATE proposals SET decision = ?1 WHERE decision = ?2", -1, &prop,
                         NULL) != SQLITE_OK ||
      sqlite3_bind_int64(get, 1, (sqlite3_int64)from) != SQLITE_OK)
    goto out;
  /* every row first, then the changes: the chain runs from FROM on */
  while ((rc = sqlite3_step(get)) == SQLITE_ROW) {
    if (n_rows == 0 && sqlite3_column_bytes(get, 1) == CN_HASH_BYTES)
      memcpy(prev, sqlite3_column_blob(get, 1), CN_HASH_BYTES);
    if (n_rows == cap) {
      void *p = realloc(rows, (cap = cap ? cap * 2 : 64) * sizeof *rows);
      if (!p)
        break;
      rows = p;
    }
    if (sqlite3_column_bytes(get, 2) != CN_HASH_BYTES)
      break;
    rows[n_rows].seq = (uint64_t)sqlite3_column_int64(get, 0);
    memcpy(rows[n_rows].id, sqlite3_column_blob(get, 2), CN_HASH_BYTES);
    rows[n_rows++].received = (uint64_t)sqlite3_column_int64(get, 3);
  }
  if (rc != SQLITE_DONE || n_rows == 0 || rows[0].seq != from) {
    rc = -1;
    goto out;
  }
  rc = -1;
  for (size_t i = 0; i < n_rows; i++) {
    uint8_t old[CN_HASH_BYTES];
    int changed;
    free(env);
    env = NULL;
    len = 0;
    changed = fn(ctx, rows[i].seq, prev, &env, &len);
    if (changed < 0)
      goto out;
    memcpy(old, rows[i].id, CN_HASH_BYTES);
    if (changed)
      cn_crypto_hash(rows[i].id, env, len);
    cn_log_entry_hash(hash, rows[i].seq, prev, rows[i].id, rows[i].received);
    sqlite3_reset(put);
    sqlite3_reset(prop);
    if (sqlite3_bind_blob(put, 1, prev, CN_HASH_BYTES, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_blob(put, 2, rows[i].id, CN_HASH_BYTES, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_blob(put, 3, hash, CN_HASH_BYTES, SQLITE_STATIC) != SQLITE_OK ||
        (changed ? sqlite3_bind_blob(put, 4, env, (int)len, SQLITE_STATIC)
                 : sqlite3_bind_null(put, 4)) != SQLITE_OK ||
        sqlite3_bind_int64(put, 5, (sqlite3_int64)rows[i].seq) != SQLITE_OK ||
        sqlite3_step(put) != SQLITE_DONE)
      goto out;
    /* a proposal's decision is found by its record id */
    if (changed &&
        (sqlite3_bind_blob(prop, 1, rows[i].id, CN_HASH_BYTES, SQLITE_STATIC) != SQLITE_OK ||
         sqlite3_bind_blob(prop, 2, old, CN_HASH_BYTES, SQLITE_TRANSIENT) != SQLITE_OK ||
         sqlite3_step(prop) != SQLITE_DONE))
      goto out;
    memcpy(prev, hash, CN_HASH_BYTES);
  }
  if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    goto out;
  rc = 0;
out:
  free(env);
  free(rows);
  sqlite3_finalize(get);
  sqlite3_finalize(put);
  sqlite3_finalize(prop);
  if (db)
    sqlite3_close(db);
  if (n->pid <= 0 && tnode_restart(n) != 0)
    rc = -1;
  return rc;
}
