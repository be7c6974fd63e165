/* test_pool.c: the worker pool behind the write pipeline. Jobs run on
 * worker threads and report on the loop thread; urgent jobs go ahead of
 * queued ones; drain waits; free accepts NULL. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "pool.h"
#include "test.h"

#define N 2000

typedef struct tjob_t {
  cn_job_t job;
  int id;
  pthread_t worker;         /* the thread work() ran on */
  int worked, reported;
  int *order, *n_order;     /* work() order, for the urgent case */
  pthread_mutex_t *mu;
  int *gate;                /* work() waits while *gate is 0, if set */
} tjob_t;

static pthread_t loop_thread;
static int reported_on_worker;

static void tjob_work(cn_job_t *job)
{
  tjob_t *t = (tjob_t *)job;
  while (t->gate && !__atomic_load_n(t->gate, __ATOMIC_ACQUIRE))
    usleep(1000);
  t->worker = pthread_self();
  t->worked++;
  if (t->order) {
    pthread_mutex_lock(t->mu);
    t->order[(*t->n_order)++] = t->id;
    pthread_mutex_unlock(t->mu);
  }
}

static void tjob_done(cn_job_t *job)
{
  tjob_t *t = (tjob_t *)job;
  if (!pthread_equal(pthread_self(), loop_thread))
    reported_on_worker++;
  t->reported++;
}

static void test_many(cn_loop_t *loop)
{
  static tjob_t jobs[N];
  cn_pool_t *p = cn_pool_new(loop, 3, "test-pool");
  int on_loop = 0, once = 1;

  REQUIRE(p);
  for (int i = 0; i < N; i++) {
    jobs[i].id = i;
    jobs[i].job.work = tjob_work;
    jobs[i].job.done = tjob_done;
    cn_pool_submit(p, &jobs[i].job, i % 7 == 0);
  }
  while (cn_pool_drain(p, 1) > 0)
    ;
  for (int i = 0; i < N; i++) {
    if (jobs[i].worked != 1 || jobs[i].reported != 1)
      once = 0;
    if (pthread_equal(jobs[i].worker, loop_thread))
      on_loop++;
  }
  CHECK(once);
  CHECK_EQ_INT(on_loop, 0);
  CHECK_EQ_INT(reported_on_worker, 0);
  CHECK_EQ_INT(cn_pool_drain(p, 0), 0);
done:
  cn_pool_free(p);
}

/* One worker held by a first job; then A, B normal and C, D urgent are
 * queued: the worker takes C, D (in that order), then A, B. */
static void test_urgent(cn_loop_t *loop)
{
  tjob_t jobs[5];
  int order[5], n_order = 0;
  int gate = 0;
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  cn_pool_t *p = cn_pool_new(loop, 1, NULL);
  static const int urgent[5] = { 0, 0, 0, 1, 1 };

  REQUIRE(p);
  for (int i = 0; i < 5; i++) {
    jobs[i] = (tjob_t){ .id = i, .order = order, .n_order = &n_order, .mu = &mu };
    jobs[i].job.work = tjob_work;
    jobs[i].job.done = tjob_done;
  }
  jobs[0].gate = &gate;
  cn_pool_submit(p, &jobs[0].job, 0);
  usleep(20000);            /* the worker has taken job 0 and waits */
  for (int i = 1; i < 5; i++)
    cn_pool_submit(p, &jobs[i].job, urgent[i]);
  __atomic_store_n(&gate, 1, __ATOMIC_RELEASE);
  while (cn_pool_drain(p, 1) > 0)
    ;
  REQUIRE(n_order == 5);
  CHECK_EQ_INT(order[0], 0);
  CHECK_EQ_INT(order[1], 3);
  CHECK_EQ_INT(order[2], 4);
  CHECK_EQ_INT(order[3], 1);
  CHECK_EQ_INT(order[4], 2);
done:
  cn_pool_free(p);
}

/* done() may queue more work (the pipeline does: verify -> apply -> sign). */
static int chained;
static cn_pool_t *chain_pool;
static tjob_t chain_job;

static void chain_done(cn_job_t *job)
{
  if (++chained < 100)
    cn_pool_submit(chain_pool, job, chained % 2);
}

static void test_chain(cn_loop_t *loop)
{
  chain_pool = cn_pool_new(loop, 2, "test-chain");
  REQUIRE(chain_pool);
  chain_job.job.work = tjob_work;
  chain_job.job.done = chain_done;
  cn_pool_submit(chain_pool, &chain_job.job, 0);
  while (cn_pool_drain(chain_pool, 1) > 0)
    ;
  CHECK_EQ_INT(chained, 100);
  CHECK_EQ_INT(chain_job.worked, 100);
done:
  cn_pool_free(chain_pool);
}

/* Reports reach the loop through its pipe: run the loop, not drain. */
static cn_loop_t *the_loop;
static int via_loop;

static void via_loop_done(cn_job_t *job)
{
  (void)job;
  if (pthread_equal(pthread_self(), loop_thread))
    via_loop++;
  cn_loop_stop(the_loop);
}

static void test_wakes_loop(cn_loop_t *loop)
{
  cn_pool_t *p = cn_pool_new(loop, 1, NULL);
  tjob_t j;

  REQUIRE(p);
  memset(&j, 0, sizeof j);
  j.job.work = tjob_work;
  j.job.done = via_loop_done;
  the_loop = loop;
  cn_pool_submit(p, &j.job, 0);
  CHECK_EQ_INT(cn_loop_run(loop), 0);
  CHECK_EQ_INT(via_loop, 1);
  CHECK_EQ_INT(j.worked, 1);
done:
  cn_pool_free(p);
}

int main(void)
{
  cn_loop_t *loop = cn_loop_new();

  loop_thread = pthread_self();
  if (!loop)
    return 1;
  test_many(loop);
  test_urgent(loop);
  test_chain(loop);
  test_wakes_loop(loop);
  cn_pool_free(NULL);
  cn_loop_free(loop);
  return test_finish("test_pool");
}
