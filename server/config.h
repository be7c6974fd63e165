/* config.h: DIR/councild.conf, "key = value" lines, '#' starts a comment.
 * Keys: listen, max_body, max_headers, timeout, close_interval_ms, max_connections,
 * group_commit, workers, rate_per_signer, rate_burst,
 * backoff_base_ms, backoff_cap_ms, follow_interval_ms. */
#ifndef CN_CONFIG_H
#define CN_CONFIG_H

#include <stddef.h>

typedef struct cn_config_t {
  char listen[256];
  size_t max_body;
  size_t max_headers;
  int timeout_s;
  unsigned close_interval_ms;
  unsigned max_connections;     /* open connections; more get 503 */
  int group_commit;             /* one transaction per loop pass (default 1) */
  unsigned workers;             /* signature threads with group commit; 0: one per CPU */
  unsigned rate_per_signer;     /* member acts per second per key; 0 = no limit */
  unsigned rate_burst;          /* acts a key may send at once */
  unsigned backoff_base_ms;     /* federation: first retry delay */
  unsigned backoff_cap_ms;      /* federation: longest retry delay */
  unsigned follow_interval_ms;  /* federation: parent log polling */
} cn_config_t;

void cn_config_defaults(cn_config_t *c);
/* Parse TEXT (LEN bytes, need not be NUL-terminated) over C's values.
 * Return 0, or -1 with "line N: ..." in ERR; C may then be partly updated. */
int cn_config_parse(cn_config_t *c, const char *text, size_t len, char *err, size_t errlen);
/* Parse the file at PATH; a missing file leaves C as it is. Return 0 or -1. */
int cn_config_load(cn_config_t *c, const char *path, char *err, size_t errlen);
/* Write C to PATH. Return 0 or -1. */
int cn_config_write(const cn_config_t *c, const char *path, char *err, size_t errlen);

#endif
