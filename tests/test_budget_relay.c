/* test_budget_relay.c: a budget record from the parent too large to pass
 * down (lib/node.c, budget_relay_append, and its callers budget_round_adopt
 * and budget_projects_adopt).
 *
 * A parent older than the RELAY_SLACK bound at the door could log a round
 * (or a final list) of up to 64 KiB. Its child cannot wrap that in a
 * budget_relay for its own children: the relay would be larger than any
 * node accepts. The child must still take it in (its members vote in it,
 * it closes it and sends its mandate up), pass nothing down, and go on
 * following its parent: the rounds and lists after it are passed down as
 * before, and its log verifies.
 *
 * Current parents refuse such a round at the door, so the parent here is a
 * fake one on 127.0.0.1, playing an older node: it serves a log page of
 * hand-signed, hash-chained entries at GET /v1/log and answers 503 to
 * anything else. Below it a real middle council, and below that a real
 * leaf. */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "councilnet/log.h"
#include "councilnet/record.h"
#include "test.h"
#include "util.h"

#define T0 1900000000ULL
#define FAKE_ENTRIES_MAX 16
#define RELAY_SLACK 256        /* as lib/node.c: room a round leaves for the relay */

/* The fake parent: its keys, its log so far, the process serving it. */
typedef struct fake_t {
  uint8_t pk[CN_PK_BYTES], sk[CN_SK_BYTES];    /* the parent node's key */
  uint8_t convener_sk[CN_SK_BYTES];            /* who signs its rounds */
  char dir[256];
  char page_path[300];                         /* the whole log, a LogPage */
  char url[64];
  int listen_fd;
  pid_t pid;
  uint8_t *env[FAKE_ENTRIES_MAX];
  size_t env_len[FAKE_ENTRIES_MAX];
  uint8_t hash[FAKE_ENTRIES_MAX][CN_HASH_BYTES];
  uint8_t id[FAKE_ENTRIES_MAX][CN_HASH_BYTES];
  size_t n;
} fake_t;

static tnode_t mid, leaf;

/* Write the whole log as one LogPage to F->page_path (atomically). */
static int fake_write_page(fake_t *f)
{
  Councilnet__LogPage page = COUNCILNET__LOG_PAGE__INIT;
  Councilnet__LogEntry e[FAKE_ENTRIES_MAX], *ep[FAKE_ENTRIES_MAX];
  static const uint8_t zero[CN_HASH_BYTES];
  char tmp[320];
  uint8_t *buf = NULL;
  size_t len = 0;
  FILE *out = NULL;
  int rc = -1;

  for (size_t i = 0; i < f->n; i++) {
    councilnet__log_entry__init(&e[i]);
    e[i].seq = i + 1;
    e[i].prev.data = (uint8_t *)(i ? f->hash[i - 1] : zero);
    e[i].prev.len = CN_HASH_BYTES;
    e[i].record_id.data = f->id[i];
    e[i].record_id.len = CN_HASH_BYTES;
    e[i].received = T0;
    e[i].hash.data = f->hash[i];
    e[i].hash.len = CN_HASH_BYTES;
    e[i].envelope.data = f->env[i];
    e[i].envelope.len = f->env_len[i];
    ep[i] = &e[i];
  }
  page.entries = ep;
  page.n_entries = f->n;
  snprintf(tmp, sizeof tmp, "%s.tmp", f->page_path);
  if (cn_pb_pack(&page.base, &buf, &len) != 0 || !(out = fopen(tmp, "wb")))
    goto out;
  if (fwrite(buf, 1, len, out) != len)
    goto out;
  if (fclose(out) != 0) {
    out = NULL;
    goto out;
  }
  out = NULL;
  rc = rename(tmp, f->page_path);
out:
  if (out)
    fclose(out);
  free(buf);
  return rc;
}

/* Append ENV (taken over) to the fake parent's log and serve it. */
static int fake_append(fake_t *f, uint8_t *env, size_t len)
{
  static const uint8_t zero[CN_HASH_BYTES];
  size_t i = f->n;

  if (i == FAKE_ENTRIES_MAX) {
    free(env);
    return -1;
  }
  f->env[i] = env;
  f->env_len[i] = len;
  cn_crypto_hash(f->id[i], env, len);
  cn_log_entry_hash(f->hash[i], i + 1, i ? f->hash[i - 1] : zero, f->id[i], T0);
  f->n++;
  return fake_write_page(f);
}

/* Read the whole of PATH; NULL on failure. */
static uint8_t *file_read(const char *path, size_t *len)
{
  FILE *in = fopen(path, "rb");
  uint8_t *buf = NULL;
  long size;

  if (!in)
    return NULL;
  if (fseek(in, 0, SEEK_END) == 0 && (size = ftell(in)) >= 0 && fseek(in, 0, SEEK_SET) == 0 &&
      (buf = malloc((size_t)size + 1)) != NULL && fread(buf, 1, (size_t)size, in) != (size_t)size) {
    free(buf);
    buf = NULL;
  }
  if (buf)
    *len = (size_t)size;
  fclose(in);
  return buf;
}

static void send_all(int fd, const void *buf, size_t len)
{
  const char *p = buf;
  while (len) {
    ssize_t w = write(fd, p, len);
    if (w <= 0)
      return;
    p += w;
    len -= (size_t)w;
  }
}

/* One request on C: GET /v1/log?after=N gets the entries after N, the
 * rest 503 (a parent busy for good: the middle's outbox waits). */
static void fake_answer(int c, const char *page_path)
{
  static char req[256 * 1024];
  size_t n = 0, body = 0, want = 0;
  char *end = NULL, *cl, head[256];
  unsigned long long after = 0;

  while (!end && n < sizeof req - 1) {
    ssize_t r = read(c, req + n, sizeof req - 1 - n);
    if (r <= 0)
      return;
    n += (size_t)r;
    req[n] = 0;
    end = strstr(req, "\r\n\r\n");
  }
  if (!end)
    return;
  for (cl = req; cl < end; cl++)
    if (strncasecmp(cl, "\r\nContent-Length:", 17) == 0) {
      want = strtoul(cl + 17, NULL, 10);
      break;
    }
  body = n - (size_t)(end + 4 - req);
  while (body < want) {         /* read the body (a record sent up) and drop it */
    char sink[4096];
    ssize_t r = read(c, sink, sizeof sink);
    if (r <= 0)
      return;
    body += (size_t)r;
  }
  if (strncmp(req, "GET /v1/log?after=", 18) == 0 &&
      sscanf(req + 18, "%llu", &after) == 1) {
    size_t len = 0, out_len = 0;
    uint8_t *page = file_read(page_path, &len), *out = NULL;
    Councilnet__LogPage *lp = page ? councilnet__log_page__unpack(NULL, len, page) : NULL;
    if (lp) {
      Councilnet__LogPage sub = COUNCILNET__LOG_PAGE__INIT;
      size_t skip = after < lp->n_entries ? (size_t)after : lp->n_entries;
      /* no entries: lp->entries is NULL, and NULL + 0 is undefined */
      sub.entries = lp->n_entries ? lp->entries + skip : NULL;
      sub.n_entries = lp->n_entries - skip;
      if (cn_pb_pack(&sub.base, &out, &out_len) == 0) {
        snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
                 "Content-Length: %zu\r\nConnection: close\r\n\r\n", out_len);
        send_all(c, head, strlen(head));
        send_all(c, out, out_len);
      }
      free(out);
      councilnet__log_page__free_unpacked(lp, NULL);
      free(page);
      return;
    }
    free(page);
  }
  snprintf(head, sizeof head, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
           "Connection: close\r\n\r\n");
  send_all(c, head, strlen(head));
}

/* Listen on 127.0.0.1 (a free port), write an empty log, and serve it from
 * a child process. Return 0 or -1. */
static int fake_start(fake_t *f)
{
  struct sockaddr_in sa;
  socklen_t sl = sizeof sa;
  int one = 1;

  memset(f, 0, sizeof *f);
  f->listen_fd = -1;
  cn_crypto_keypair(f->pk, f->sk);
  {
    uint8_t cpk[CN_PK_BYTES];
    cn_crypto_keypair(cpk, f->convener_sk);
  }
  if (util_tmpdir(f->dir, sizeof f->dir, "fakeparent") != 0)
    return -1;
  snprintf(f->page_path, sizeof f->page_path, "%s/log.pb", f->dir);
  if (fake_write_page(f) != 0)
    return -1;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = 0;
  f->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  if (f->listen_fd < 0 ||
      setsockopt(f->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(f->listen_fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(f->listen_fd, 16) != 0 ||
      getsockname(f->listen_fd, (struct sockaddr *)&sa, &sl) != 0)
    return -1;
  snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d", ntohs(sa.sin_port));
  f->pid = fork();
  if (f->pid < 0)
    return -1;
  if (f->pid == 0) {
    struct timeval tv = { 5, 0 };
    /* gone with the test, however it ends (killed by ctest's timeout) */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1)
      _exit(0);
    alarm(600);
    signal(SIGPIPE, SIG_IGN);
    for (;;) {
      int c = accept(f->listen_fd, NULL, NULL);
      if (c < 0) {
        if (errno == EINTR)
          continue;
        _exit(1);
      }
      setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      fake_answer(c, f->page_path);
      close(c);
    }
  }
  return 0;
}

static void fake_stop(fake_t *f)
{
  if (f->pid > 0) {
    kill(f->pid, SIGTERM);
    waitpid(f->pid, NULL, 0);
    f->pid = 0;
  }
  if (f->listen_fd >= 0)
    close(f->listen_fd);
  f->listen_fd = -1;
  for (size_t i = 0; i < f->n; i++)
    free(f->env[i]);
  f->n = 0;
  if (f->dir[0] && getenv("CN_KEEP") == NULL)
    util_rmtree(f->dir);
}

/* Seal BODY as KIND with SK, first growing *FIELD (a string field of BODY,
 * all 'x', in *OWNED: the caller frees it) until the envelope is exactly
 * WANT bytes. OUT malloc'd. */
static int seal_sized(const char *kind, const ProtobufCMessage *body, char **field, char **owned,
                      size_t want, const uint8_t sk[CN_SK_BYTES], uint8_t **out, size_t *len)
{
  size_t tlen = want > 1000 ? want - 1000 : 1;

  *out = NULL;
  for (int i = 0; i < 4; i++) {
    free(*owned);
    free(*out);
    *out = NULL;
    *field = *owned = malloc(tlen + 1);
    if (!*owned)
      return -1;
    memset(*owned, 'x', tlen);
    (*owned)[tlen] = 0;
    if (cn_record_seal(kind, body, sk, out, len) != 0)
      return -1;
    if (*len == want)
      return 0;
    tlen += want - *len;     /* a varint length may step: try again */
  }
  return -1;
}

typedef struct relays_ctx_t {
  const uint8_t (*ids)[CN_HASH_BYTES];
  size_t n_ids;
  int *counts;
} relays_ctx_t;

static int relay_entry(void *ctx, const Councilnet__LogEntry *le, const Councilnet__Envelope *e)
{
  relays_ctx_t *c = ctx;
  Councilnet__BudgetRelay *r;
  uint8_t id[CN_HASH_BYTES];

  (void)le;
  if (!e || !e->kind || strcmp(e->kind, "budget_relay") != 0)
    return 0;
  r = councilnet__budget_relay__unpack(NULL, e->body.len, e->body.data);
  if (r) {
    cn_crypto_hash(id, r->round.data, r->round.len);
    for (size_t k = 0; k < c->n_ids; k++)
      c->counts[k] += memcmp(id, c->ids[k], CN_HASH_BYTES) == 0;
    councilnet__budget_relay__free_unpacked(r, NULL);
  }
  return 0;
}

/* Count N's budget_relay records wrapping each of IDS[0..N_IDS). */
static int relays_count(tnode_t *n, const uint8_t (*ids)[CN_HASH_BYTES], size_t n_ids, int *counts)
{
  relays_ctx_t c = { ids, n_ids, counts };
  memset(counts, 0, n_ids * sizeof *counts);
  return util_log_each(n, relay_entry, &c);
}

/* The round ROUND as the fake parent's convener signs it. */
static void round_init(Councilnet__BudgetRound *r, const fake_t *f, const char *title,
                       Councilnet__BudgetProject **projects, size_t n)
{
  councilnet__budget_round__init(r);
  r->node.data = (uint8_t *)f->pk;
  r->node.len = CN_PK_BYTES;
  r->created = T0;
  r->title = (char *)title;
  r->total = 1000;
  r->projects = projects;
  r->n_projects = n;
  r->opens = T0;
  r->closes = T0 + 100;
  r->rule = COUNCILNET__BUDGET_RULE__GREEDY;
}

/* The final list of ROUND_ID, as the fake parent node signs it. */
static void list_init(Councilnet__BudgetProjects *l, const fake_t *f, const uint8_t *round_id,
                      Councilnet__BudgetProject **projects, size_t n)
{
  councilnet__budget_projects__init(l);
  l->node.data = (uint8_t *)f->pk;
  l->node.len = CN_PK_BYTES;
  l->created = T0;
  l->round.data = (uint8_t *)round_id;
  l->round.len = CN_HASH_BYTES;
  l->projects = projects;
  l->n_projects = n;
}

enum { BIG, A, A_LIST, B, B_LIST, N_RECORDS };

int main(void)
{
  static fake_t fake;
  Councilnet__BudgetProject park = COUNCILNET__BUDGET_PROJECT__INIT;
  Councilnet__BudgetProject pool = COUNCILNET__BUDGET_PROJECT__INIT;
  Councilnet__BudgetProject long_one = COUNCILNET__BUDGET_PROJECT__INIT;
  Councilnet__BudgetProject *one[1] = { &park }, *two[2] = { &park, &pool };
  Councilnet__BudgetProject *three[3] = { &park, &pool, &long_one };
  Councilnet__BudgetRound r;
  Councilnet__BudgetProjects l;
  Councilnet__RoundList *rl = NULL;
  uint8_t ids[N_RECORDS][CN_HASH_BYTES], msk[CN_SK_BYTES], mpk[CN_PK_BYTES];
  uint8_t *env = NULL;
  size_t len = 0;
  char *title = NULL;
  int counts[N_RECORDS], started = 0, fake_up = 0;
  tnode_t parent;

  cn_crypto_init();
  park.id = "park";
  park.title = "Park";
  park.cost = 400;
  pool.id = "pool";
  pool.title = "Pool";
  pool.cost = 300;
  long_one.id = "mural";
  long_one.cost = 200;
  REQUIRE(fake_start(&fake) == 0);
  fake_up = 1;
  memset(&parent, 0, sizeof parent);
  snprintf(parent.url, sizeof parent.url, "%s", fake.url);
  memcpy(parent.pk, fake.pk, CN_PK_BYTES);
  REQUIRE(tnode_start_child(&mid, "Middle", T0, &parent) == 0);
  started = 1;
  REQUIRE(tnode_start_child(&leaf, "Leaf", T0, &mid) == 0);
  started = 2;
  REQUIRE(util_admit_council(&mid, leaf.pk, "Leaf") == CN_OK);
  cn_crypto_keypair(mpk, msk);
  REQUIRE(util_admit(&mid, mpk, "member") == CN_OK);

  /* The older parent logs a round of 64 KiB, the most a record may be. */
  round_init(&r, &fake, NULL, one, 1);
  REQUIRE(seal_sized("budget_round", &r.base, &r.title, &title, CN_RECORD_MAX,
                     fake.convener_sk, &env, &len) == 0);
  cn_crypto_hash(ids[BIG], env, len);
  REQUIRE(fake_append(&fake, env, len) == 0);
  env = NULL;

  /* The middle takes it in, and its member votes in it. */
  CHECK(util_wait_round(&mid, ids[BIG], 0, 0, 0, 30000) == 0);
  {
    Councilnet__BudgetBallot b = COUNCILNET__BUDGET_BALLOT__INIT;
    uint32_t first = 0;
    b.node.data = mid.pk;
    b.node.len = CN_PK_BYTES;
    b.created = T0;
    b.round.data = ids[BIG];
    b.round.len = CN_HASH_BYTES;
    b.projects = &first;
    b.n_projects = 1;
    CHECK_EQ_INT(util_act(&mid, "budget_ballot", &b, msk, NULL), CN_OK);
  }

  /* Then a round of normal size, a final list for it too large to wrap, a
   * second normal round and its normal list. */
  round_init(&r, &fake, "Round A", two, 2);
  REQUIRE(cn_record_seal("budget_round", &r.base, fake.convener_sk, &env, &len) == 0);
  cn_crypto_hash(ids[A], env, len);
  REQUIRE(fake_append(&fake, env, len) == 0);
  env = NULL;
  list_init(&l, &fake, ids[A], three, 3);
  REQUIRE(seal_sized("budget_projects", &l.base, &long_one.title, &title, CN_RECORD_MAX, fake.sk,
                     &env, &len) == 0);
  cn_crypto_hash(ids[A_LIST], env, len);
  REQUIRE(fake_append(&fake, env, len) == 0);
  env = NULL;
  long_one.title = "Mural";
  round_init(&r, &fake, "Round B", two, 2);
  REQUIRE(cn_record_seal("budget_round", &r.base, fake.convener_sk, &env, &len) == 0);
  cn_crypto_hash(ids[B], env, len);
  REQUIRE(fake_append(&fake, env, len) == 0);
  env = NULL;
  list_init(&l, &fake, ids[B], three, 3);
  REQUIRE(cn_record_seal("budget_projects", &l.base, fake.sk, &env, &len) == 0);
  cn_crypto_hash(ids[B_LIST], env, len);
  REQUIRE(fake_append(&fake, env, len) == 0);
  env = NULL;

  /* The leaf gets the normal ones through the middle, B's list last. */
  CHECK(util_wait_round(&leaf, ids[B], 1, 0, 0, 30000) == 0);
  REQUIRE(relays_count(&mid, (const uint8_t (*)[CN_HASH_BYTES])ids, N_RECORDS, counts) == 0);
  CHECK_EQ_INT(counts[BIG], 0);
  CHECK_EQ_INT(counts[A], 1);
  CHECK_EQ_INT(counts[A_LIST], 0);
  CHECK_EQ_INT(counts[B], 1);
  CHECK_EQ_INT(counts[B_LIST], 1);

  /* The middle holds everything it took in, A's large list too. */
  rl = (Councilnet__RoundList *)util_get(&mid, "/v1/budget", &councilnet__round_list__descriptor);
  REQUIRE(rl);
  {
    Councilnet__RoundView *big = util_round_view(rl, ids[BIG]), *a = util_round_view(rl, ids[A]);
    Councilnet__RoundView *b = util_round_view(rl, ids[B]);
    CHECK_EQ_INT(rl->n_rounds, 3);
    CHECK(big && big->envelope.len == CN_RECORD_MAX && big->ballots == 1);
    CHECK(a && a->projects_envelope.len == CN_RECORD_MAX && a->round && a->round->n_projects == 3);
    CHECK(b && b->projects_envelope.len > 0 && b->round && b->round->n_projects == 3);
  }
  councilnet__round_list__free_unpacked(rl, NULL);
  /* The leaf: A and B, A with the round's own projects (its list never came). */
  rl = (Councilnet__RoundList *)util_get(&leaf, "/v1/budget", &councilnet__round_list__descriptor);
  REQUIRE(rl);
  {
    Councilnet__RoundView *a = util_round_view(rl, ids[A]), *b = util_round_view(rl, ids[B]);
    CHECK_EQ_INT(rl->n_rounds, 2);
    CHECK(util_round_view(rl, ids[BIG]) == NULL);
    CHECK(a && a->projects_envelope.len == 0 && a->round && a->round->n_projects == 2);
    CHECK(b && b->projects_envelope.len > 0 && b->round && b->round->n_projects == 3);
  }
  councilnet__round_list__free_unpacked(rl, NULL);
  rl = NULL;

  /* A current node's own round at the door's limit, taking proposals: its
   * final list must be one its child can pass down too. The list holds the
   * round's projects (the bulk of the round here) and the round's id, so
   * the door must leave room for it, not only for the round. */
  {
    Councilnet__BudgetProject e1 = COUNCILNET__BUDGET_PROJECT__INIT, *eps[2] = { &e1, &park };
    uint8_t e_id[CN_HASH_BYTES], list_id[CN_HASH_BYTES];
    int code = -1, relayed = -1;
    size_t want = CN_RECORD_MAX - RELAY_SLACK;
    e1.id = "hall";
    e1.cost = 500;
    councilnet__budget_round__init(&r);
    r.node.data = mid.pk;
    r.node.len = CN_PK_BYTES;
    r.created = T0;
    r.title = "Round E";
    r.total = 1000;
    r.projects = eps;
    r.n_projects = 2;
    r.proposals_close = T0 + 50;
    r.opens = T0 + 50;
    r.closes = T0 + 2000;
    /* the largest round the middle takes, in steps of 8 bytes */
    for (; code != CN_OK && want > CN_RECORD_MAX - 2 * RELAY_SLACK; want -= 8) {
      free(env);
      REQUIRE(seal_sized("budget_round", &r.base, &e1.title, &title, want, mid.convener_sk, &env,
                         &len) == 0);
      code = util_post(&mid, env, len, NULL);
      REQUIRE(code == CN_OK || code == CN_ERR_TOO_LARGE);
      cn_crypto_hash(e_id, env, len);
    }
    REQUIRE(code == CN_OK);
    printf("round E: taken in at %zu bytes\n", len);
    free(env);
    env = NULL;
    REQUIRE(tnode_set_clock(&mid, T0 + 50) == 0);
    CHECK(util_wait_round(&leaf, e_id, 1, 0, 0, 30000) == 0);
    rl = (Councilnet__RoundList *)util_get(&mid, "/v1/budget", &councilnet__round_list__descriptor);
    REQUIRE(rl);
    {
      Councilnet__RoundView *e = util_round_view(rl, e_id);
      REQUIRE(e && e->projects_envelope.len);
      cn_crypto_hash(list_id, e->projects_envelope.data, e->projects_envelope.len);
    }
    councilnet__round_list__free_unpacked(rl, NULL);
    rl = NULL;
    REQUIRE(relays_count(&leaf, (const uint8_t (*)[CN_HASH_BYTES])list_id, 1, &relayed) == 0);
    CHECK_EQ_INT(relayed, 1);
  }

  /* The round closes: the middle sends its mandate for the big round up. */
  REQUIRE(tnode_set_clock(&mid, T0 + 100 + 601) == 0);
  CHECK(util_wait_round(&mid, ids[BIG], 0, 1, 0, 30000) == 0);

  CHECK_EQ_INT(util_council_verify(&mid), 0);
  CHECK_EQ_INT(util_council_verify(&leaf), 0);
done:
  if (rl)
    councilnet__round_list__free_unpacked(rl, NULL);
  free(env);
  free(title);
  if (started > 1)
    CHECK(tnode_destroy(&leaf) == 0);
  if (started > 0)
    CHECK(tnode_destroy(&mid) == 0);
  if (fake_up)
    fake_stop(&fake);
  return test_finish("test_budget_relay");
}
