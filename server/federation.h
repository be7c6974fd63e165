/* federation.h: the two links of a child node to its parent, driven by
 * timers on the event loop.
 *
 * Up: the outbox is drained in order by POST /v1/records; a row is deleted
 * only when the parent answers with a receipt signed by the parent's key
 * for exactly that record. Failures back off exponentially with jitter up
 * to a cap; a record the parent refuses for good is moved to the dead
 * letters, so it cannot block the ones behind it.
 * Down: the parent's log is followed with GET /v1/log?after=N, each entry
 * verified against the parent's key, proposals and decisions kept. */
#ifndef CN_FEDERATION_H
#define CN_FEDERATION_H

#include "councilnet/node.h"
#include "net.h"

typedef struct cn_fed_t cn_fed_t;

typedef struct cn_fed_config_t {
  unsigned backoff_base_ms;     /* first retry delay */
  unsigned backoff_cap_ms;      /* longest delay between tries */
  unsigned follow_interval_ms;  /* how often the parent's log is polled */
  /* Optional: make every commit so far durable before a row goes up (the
   * write pipeline acknowledges a commit only after a later flush): 0, or
   * -1 to hold the row back. NULL: every commit is durable already. */
  int (*durable)(void *ctx);
  void *durable_ctx;
} cn_fed_config_t;

cn_fed_t *cn_fed_new(cn_loop_t *l, cn_node_t *n, const cn_fed_config_t *cfg);
void cn_fed_free(cn_fed_t *f);                       /* accepts NULL */
/* Wake the drain now: call whenever a record may have been queued (an
 * empty outbox is otherwise looked at again only once a second). */
void cn_fed_kick(cn_fed_t *f);
/* The last error seen on the links, "" if none. */
const char *cn_fed_last_error(const cn_fed_t *f);

#endif
