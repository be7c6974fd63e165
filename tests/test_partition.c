/* test_partition.c: a child node reaches its parent through a loopback
 * proxy that this test controls (127.0.0.1 only). While the proxy drops
 * every connection, then delays every byte, the child keeps working; its
 * retries back off and stay under the cap. When the link heals, every
 * record arrives exactly once in effect. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "councilnet/record.h"
#include "test.h"
#include "util.h"

#define T0 1900000000ULL
#define CAP_MS 400          /* the backoff cap util.c gives councild */
#define MAX_ACCEPTS 4096

enum { PROXY_FORWARD, PROXY_DROP, PROXY_DELAY };

typedef struct proxy_t {
  int listen_fd, port, target_port;
  atomic_int mode, stop;
  double accepts[MAX_ACCEPTS];      /* when each connection was tried */
  atomic_int n_accepts;
  double posts[MAX_ACCEPTS];        /* when each dropped POST was tried */
  atomic_int n_posts;
  pthread_t thread;
} proxy_t;

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dial(int port)
{
  struct sockaddr_in a;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Shuttle bytes between A and B until either closes; in delay mode each
 * chunk waits 300 ms. One connection pair at a time is enough here. */
static void pump(proxy_t *p, int a, int b)
{
  struct pollfd fds[2] = { { a, POLLIN, 0 }, { b, POLLIN, 0 } };
  char buf[65536];

  while (!atomic_load(&p->stop)) {
    if (poll(fds, 2, 100) < 0)
      break;
    for (int i = 0; i < 2; i++) {
      ssize_t n;
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0)
        return;
      if (atomic_load(&p->mode) == PROXY_DELAY)
        util_sleep_ms(300);
      if (atomic_load(&p->mode) == PROXY_DROP)
        return;
      if (write(fds[1 - i].fd, buf, (size_t)n) != n)
        return;
    }
  }
}

static void *proxy_main(void *arg)
{
  proxy_t *p = arg;
  while (!atomic_load(&p->stop)) {
    struct pollfd pf = { p->listen_fd, POLLIN, 0 };
    int c, up;
    if (poll(&pf, 1, 100) <= 0)
      continue;
    c = accept(p->listen_fd, NULL, NULL);
    if (c < 0)
      continue;
    {
      int k = atomic_fetch_add(&p->n_accepts, 1);
      if (k < MAX_ACCEPTS)
        p->accepts[k] = now_s();
    }
    if (atomic_load(&p->mode) == PROXY_DROP) {
      /* The parent is unreachable. Note only the outbox's tries (POST);
       * the log follower (GET) backs off on its own. */
      struct pollfd cf = { c, POLLIN, 0 };
      char head[8] = { 0 };
      if (poll(&cf, 1, 200) > 0 && read(c, head, 4) == 4 && memcmp(head, "POST", 4) == 0) {
        int k = atomic_fetch_add(&p->n_posts, 1);
        if (k < MAX_ACCEPTS)
          p->posts[k] = now_s();
      }
      close(c);
      continue;
    }
    up = dial(p->target_port);
    if (up >= 0) {
      pump(p, c, up);
      close(up);
    }
    close(c);
  }
  return NULL;
}

static int proxy_start(proxy_t *p, int target_port)
{
  struct sockaddr_in a;
  socklen_t al = sizeof a;
  int one = 1;

  memset(p, 0, sizeof *p);
  p->target_port = target_port;
  p->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  setsockopt(p->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (p->listen_fd < 0 || bind(p->listen_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
      listen(p->listen_fd, 64) != 0 || getsockname(p->listen_fd, (struct sockaddr *)&a, &al) != 0)
    return -1;
  p->port = ntohs(a.sin_port);
  return pthread_create(&p->thread, NULL, proxy_main, p) == 0 ? 0 : -1;
}

static int outbox_empty(void *ctx)
{
  return util_outbox(ctx) == 0;
}

int main(void)
{
  static proxy_t proxy;
  tnode_t parent, child, fake;
  uint8_t ids[64][CN_HASH_BYTES];
  int n_ids = 0, started = 0, proxy_up = 0;

  cn_crypto_init();
  memset(&child, 0, sizeof child);
  REQUIRE(tnode_start(&parent, "parent", T0) == 0);
  started = 1;
  REQUIRE(proxy_start(&proxy, parent.port) == 0);
  proxy_up = 1;
  /* The child knows its parent only through the proxy's address. */
  fake = parent;
  snprintf(fake.url, sizeof fake.url, "http://127.0.0.1:%d", proxy.port);
  REQUIRE(tnode_start_child(&child, "child", T0, &fake) == 0);
  REQUIRE(util_admit_council(&parent, child.pk, "child") == CN_OK);

  /* Partition: the proxy drops everything for 3 s while members join. */
  atomic_store(&proxy.mode, PROXY_DROP);
  util_sleep_ms(100);
  atomic_store(&proxy.n_accepts, 0);
  atomic_store(&proxy.n_posts, 0);
  for (int i = 0; i < 20; i++) {
    uint8_t pk[CN_PK_BYTES], sk[CN_SK_BYTES];
    cn_crypto_keypair(pk, sk);
    REQUIRE(util_admit(&child, pk, "member") == CN_OK);
  }
  util_sleep_ms(3000);
  {
    int n = atomic_load(&proxy.n_posts), all = atomic_load(&proxy.n_accepts);
    double max_gap = 0, first_gap = n > 1 ? proxy.posts[1] - proxy.posts[0] : 0;
    for (int i = 1; i < n && i < MAX_ACCEPTS; i++) {
      double gap = proxy.posts[i] - proxy.posts[i - 1];
      if (gap > max_gap)
        max_gap = gap;
    }
    printf("partition: %d outbox tries (%d connections in all) in 3 s; first gap %.0f ms, largest"
           " %.0f ms (cap %d ms)\n", n, all, first_gap * 1000, max_gap * 1000, CAP_MS);
    /* backing off: far fewer tries than a busy loop, but still trying */
    CHECK(n >= 4 && n <= 25);
    CHECK(all <= 60);
    /* growing, then capped: no gap much beyond the cap */
    CHECK(max_gap > first_gap);
    CHECK(max_gap * 1000 < CAP_MS * 1.2 + 250);
    CHECK(util_outbox(&child) >= 20);
  }
  /* A slow link: every chunk delayed 300 ms. More members join. */
  atomic_store(&proxy.mode, PROXY_DELAY);
  for (int i = 0; i < 5; i++) {
    Councilnet__MemberAdd m = COUNCILNET__MEMBER_ADD__INIT;
    uint8_t pk[CN_PK_BYTES], sk[CN_SK_BYTES], *env = NULL;
    size_t len = 0;
    cn_crypto_keypair(pk, sk);
    m.node.data = child.pk;
    m.node.len = CN_PK_BYTES;
    m.created = T0;
    m.member.data = pk;
    m.member.len = CN_PK_BYTES;
    REQUIRE(util_seal("member_add", &m, child.convener_sk, &env, &len) == 0);
    CHECK_EQ_INT(util_post(&child, env, len, NULL), CN_OK);
    free(env);
  }
  util_sleep_ms(1500);
  /* Healed. */
  atomic_store(&proxy.mode, PROXY_FORWARD);
  CHECK(util_wait(outbox_empty, &child, 20000) == 0);
  /* Every roll update of the child is at the parent exactly once. */
  {
    uint64_t after = 0;
    for (;;) {
      char path[96];
      Councilnet__LogPage *page;
      size_t k;
      snprintf(path, sizeof path, "/v1/log?after=%llu&limit=1000", (unsigned long long)after);
      page = (Councilnet__LogPage *)util_get(&child, path, &councilnet__log_page__descriptor);
      REQUIRE(page);
      k = page->n_entries;
      for (size_t i = 0; i < k; i++) {
        Councilnet__Envelope *e = councilnet__envelope__unpack(NULL, page->entries[i]->envelope.len,
                                                               page->entries[i]->envelope.data);
        if (e && strcmp(e->kind, "roll") == 0 && n_ids < 64)
          memcpy(ids[n_ids++], page->entries[i]->record_id.data, CN_HASH_BYTES);
        if (e)
          councilnet__envelope__free_unpacked(e, NULL);
        after = page->entries[i]->seq;
      }
      councilnet__log_page__free_unpacked(page, NULL);
      if (k == 0)
        break;
    }
  }
  CHECK_EQ_INT(n_ids, 25);
  for (int i = 0; i < n_ids; i++)
    CHECK_EQ_INT(util_log_count(&parent, ids[i]), 1);
  printf("healed: %d roll updates delivered, each exactly once\n", n_ids);
done:
  if (proxy_up) {
    atomic_store(&proxy.stop, 1);
    pthread_join(proxy.thread, NULL);
    close(proxy.listen_fd);
  }
  if (started) {
    if (child.pid)
      CHECK(tnode_destroy(&child) == 0);
    CHECK(tnode_destroy(&parent) == 0);
  }
  return test_finish("test_partition");
}
