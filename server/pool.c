/* pool.c: worker threads reporting to the event loop. See pool.h. */
#define _GNU_SOURCE 1   /* pthread_setname_np */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "pool.h"

struct cn_pool_t {
  pthread_mutex_t mu;
  pthread_cond_t work_cv;      /* a job was queued, or stop */
  pthread_cond_t done_cv;      /* a job finished */
  cn_job_t *todo, *todo_tail;  /* queued, FIFO */
  cn_job_t *done, *done_tail;  /* finished, done() not run yet */
  int woken;                   /* a byte is in the pipe */
  int stop;
  size_t out;                  /* submitted, done() not run; loop thread only */
  int pipe_rd, pipe_wr;
  cn_watch_t *watch;
  pthread_t *threads;
  unsigned n_threads;
  char name[16];               /* thread name, for top -H and perf */
};

static void *pool_worker(void *arg)
{
  cn_pool_t *p = arg;
  cn_job_t *job;

#ifdef __linux__
  pthread_setname_np(pthread_self(), p->name);
#endif
  for (;;) {
    pthread_mutex_lock(&p->mu);
    while (!p->todo && !p->stop)
      pthread_cond_wait(&p->work_cv, &p->mu);
    job = p->todo;
    if (!job) {                 /* stop, and nothing left */
      pthread_mutex_unlock(&p->mu);
      return NULL;
    }
    p->todo = job->next;
    if (!p->todo)
      p->todo_tail = NULL;
    pthread_mutex_unlock(&p->mu);

    job->work(job);

    pthread_mutex_lock(&p->mu);
    job->next = NULL;
    if (p->done_tail)
      p->done_tail->next = job;
    else
      p->done = job;
    p->done_tail = job;
    if (!p->woken) {
      ssize_t k;
      do
        k = write(p->pipe_wr, "", 1);
      while (k < 0 && errno == EINTR);
      p->woken = 1;             /* the pipe is never full: one byte at most */
    }
    pthread_cond_signal(&p->done_cv);
    pthread_mutex_unlock(&p->mu);
  }
}

static void pool_on_wake(void *ctx)
{
  cn_pool_drain(ctx, 0);
}

cn_pool_t *cn_pool_new(cn_loop_t *loop, unsigned threads, const char *name)
{
  cn_pool_t *p = calloc(1, sizeof *p);
  int fds[2];

  if (!p)
    return NULL;
  if (threads == 0)
    threads = 1;
  snprintf(p->name, sizeof p->name, "%s", name ? name : "cn-pool");
  p->pipe_rd = p->pipe_wr = -1;
  if (pthread_mutex_init(&p->mu, NULL) != 0) {
    free(p);
    return NULL;
  }
  pthread_cond_init(&p->work_cv, NULL);
  pthread_cond_init(&p->done_cv, NULL);
  if (pipe(fds) != 0)
    goto fail;
  p->pipe_rd = fds[0];
  p->pipe_wr = fds[1];
  for (int i = 0; i < 2; i++) {
    fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
    fcntl(fds[i], F_SETFD, FD_CLOEXEC);
  }
  p->watch = cn_watch_new(loop, p->pipe_rd, pool_on_wake, p);
  p->threads = calloc(threads, sizeof *p->threads);
  if (!p->watch || !p->threads)
    goto fail;
  for (unsigned i = 0; i < threads; i++) {
    if (pthread_create(&p->threads[i], NULL, pool_worker, p) != 0)
      goto fail;
    p->n_threads++;
  }
  return p;
fail:
  cn_pool_free(p);
  return NULL;
}

void cn_pool_submit(cn_pool_t *p, cn_job_t *job, int urgent)
{
  job->next = NULL;
  job->urgent_ = urgent;
  p->out++;
  pthread_mutex_lock(&p->mu);
  if (!p->todo) {
    p->todo = p->todo_tail = job;
  } else if (urgent) {
    /* ahead of the queue, behind the urgent ones already there */
    cn_job_t **at = &p->todo;
    while (*at && (*at)->urgent_)
      at = &(*at)->next;
    job->next = *at;
    *at = job;
    if (!job->next)
      p->todo_tail = job;
  } else {
    p->todo_tail->next = job;
    p->todo_tail = job;
  }
  pthread_cond_signal(&p->work_cv);
  pthread_mutex_unlock(&p->mu);
}

size_t cn_pool_drain(cn_pool_t *p, int wait)
{
  cn_job_t *list;
  char buf[16];

  pthread_mutex_lock(&p->mu);
  while (wait && !p->done && p->out > 0)
    pthread_cond_wait(&p->done_cv, &p->mu);
  list = p->done;
  p->done = p->done_tail = NULL;
  if (p->woken) {
    while (read(p->pipe_rd, buf, sizeof buf) > 0)
      ;
    p->woken = 0;
  }
  pthread_mutex_unlock(&p->mu);
  while (list) {
    cn_job_t *job = list;
    list = job->next;
    p->out--;
    job->done(job);             /* may submit, may free JOB */
  }
  return p->out;
}

size_t cn_pool_pending(const cn_pool_t *p)
{
  return p->out;
}

void cn_pool_free(cn_pool_t *p)
{
  if (!p)
    return;
  pthread_mutex_lock(&p->mu);
  p->stop = 1;
  pthread_cond_broadcast(&p->work_cv);
  pthread_mutex_unlock(&p->mu);
  for (unsigned i = 0; i < p->n_threads; i++)
    pthread_join(p->threads[i], NULL);
  if (p->out)
    fprintf(stderr, "councild: pool: BUG: %zu jobs never reported\n", p->out);
  cn_watch_free(p->watch);
  if (p->pipe_rd >= 0)
    close(p->pipe_rd);
  if (p->pipe_wr >= 0)
    close(p->pipe_wr);
  free(p->threads);
  pthread_cond_destroy(&p->work_cv);
  pthread_cond_destroy(&p->done_cv);
  pthread_mutex_destroy(&p->mu);
  free(p);
}
