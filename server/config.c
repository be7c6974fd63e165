/* config.c: see config.h. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define CONFIG_FILE_MAX (64 * 1024)

void cn_config_defaults(cn_config_t *c)
{
  memset(c, 0, sizeof *c);
  snprintf(c->listen, sizeof c->listen, "127.0.0.1:8080");
  c->max_body = 256 * 1024;
  c->max_headers = 8 * 1024;
  c->timeout_s = 10;
  c->close_interval_ms = 200;
  c->max_connections = 1024;
  c->group_commit = 1;
  c->workers = 0;
  c->rate_per_signer = 50;
  c->rate_burst = 200;
  c->backoff_base_ms = 100;
  c->backoff_cap_ms = 10000;
  c->follow_interval_ms = 500;
}

/* Parse V as an unsigned number within [LO, HI]. */
static int parse_num(const char *v, unsigned long long lo, unsigned long long hi,
                     unsigned long long *out)
{
  char *end = NULL;
  unsigned long long x;

  if (!isdigit((unsigned char)*v))
    return -1;
  errno = 0;
  x = strtoull(v, &end, 10);
  if (errno || *end || x < lo || x > hi)
    return -1;
  *out = x;
  return 0;
}

static int config_set(cn_config_t *c, const char *k, const char *v, char *why, size_t whylen)
{
  unsigned long long x;

  if (strcmp(k, "listen") == 0) {
    if (!*v || strlen(v) >= sizeof c->listen || !strchr(v, ':')) {
      snprintf(why, whylen, "listen wants host:port");
      return -1;
    }
    snprintf(c->listen, sizeof c->listen, "%s", v);
  } else if (strcmp(k, "max_body") == 0) {
    if (parse_num(v, 1024, 64ULL << 20, &x) != 0) {
      snprintf(why, whylen, "max_body wants 1024..67108864");
      return -1;
    }
    c->max_body = (size_t)x;
  } else if (strcmp(k, "max_headers") == 0) {
    if (parse_num(v, 512, 1 << 20, &x) != 0) {
      snprintf(why, whylen, "max_headers wants 512..1048576");
      return -1;
    }
    c->max_headers = (size_t)x;
  } else if (strcmp(k, "timeout") == 0) {
    if (parse_num(v, 1, 3600, &x) != 0) {
      snprintf(why, whylen, "timeout wants 1..3600 seconds");
      return -1;
    }
    c->timeout_s = (int)x;
  } else if (strcmp(k, "close_interval_ms") == 0) {
    if (parse_num(v, 10, 60000, &x) != 0) {
      snprintf(why, whylen, "close_interval_ms wants 10..60000");
      return -1;
    }
    c->close_interval_ms = (unsigned)x;
  } else if (strcmp(k, "rate_per_signer") == 0 || strcmp(k, "rate_burst") == 0) {
    if (parse_num(v, 0, 1000000, &x) != 0) {
      snprintf(why, whylen, "%s wants 0..1000000", k);
      return -1;
    }
    if (k[5] == 'p')
      c->rate_per_signer = (unsigned)x;
    else
      c->rate_burst = (unsigned)x;
  } else if (strcmp(k, "group_commit") == 0) {
    if (parse_num(v, 0, 1, &x) != 0) {
      snprintf(why, whylen, "group_commit wants 0 or 1");
      return -1;
    }
    c->group_commit = (int)x;
  } else if (strcmp(k, "workers") == 0) {
    if (parse_num(v, 0, 64, &x) != 0) {
      snprintf(why, whylen, "workers wants 0..64 (0: one per CPU)");
      return -1;
    }
    c->workers = (unsigned)x;
  } else if (strcmp(k, "max_connections") == 0) {
    if (parse_num(v, 1, 1000000, &x) != 0) {
      snprintf(why, whylen, "max_connections wants 1..1000000");
      return -1;
    }
    c->max_connections = (unsigned)x;
  } else if (strcmp(k, "backoff_base_ms") == 0 || strcmp(k, "backoff_cap_ms") == 0 ||
             strcmp(k, "follow_interval_ms") == 0) {
    if (parse_num(v, 10, 3600000, &x) != 0) {
      snprintf(why, whylen, "%s wants 10..3600000", k);
      return -1;
    }
    if (k[0] == 'f')
      c->follow_interval_ms = (unsigned)x;
    else if (k[8] == 'b')
      c->backoff_base_ms = (unsigned)x;
    else
      c->backoff_cap_ms = (unsigned)x;
  } else {
    snprintf(why, whylen, "unknown key '%.64s'", k);
    return -1;
  }
  return 0;
}

/* Trim spaces at both ends of S in place; return the start. */
static char *trim(char *s)
{
  char *e;
  while (isspace((unsigned char)*s))
    s++;
  e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1]))
    *--e = 0;
  return s;
}

int cn_config_parse(cn_config_t *c, const char *text, size_t len, char *err, size_t errlen)
{
  char line[1024], why[160];
  size_t pos = 0;
  int lineno = 0;

  while (pos < len) {
    size_t end = pos, n;
    char *k, *v, *eq, *hash;

    while (end < len && text[end] != '\n')
      end++;
    n = end - pos;
    lineno++;
    if (n >= sizeof line) {
      snprintf(err, errlen, "line %d: too long", lineno);
      return -1;
    }
    memcpy(line, text + pos, n);
    line[n] = 0;
    pos = end + 1;
    if (memchr(line, 0, n)) {
      snprintf(err, errlen, "line %d: NUL byte", lineno);
      return -1;
    }
    hash = strchr(line, '#');
    if (hash)
      *hash = 0;
    k = trim(line);
    if (!*k)
      continue;
    eq = strchr(k, '=');
    if (!eq) {
      snprintf(err, errlen, "line %d: expected key = value", lineno);
      return -1;
    }
    *eq = 0;
    v = trim(eq + 1);
    k = trim(k);
    if (config_set(c, k, v, why, sizeof why) != 0) {
      snprintf(err, errlen, "line %d: %s", lineno, why);
      return -1;
    }
  }
  return 0;
}

int cn_config_load(cn_config_t *c, const char *path, char *err, size_t errlen)
{
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t n;
  int rc = -1;

  if (!f) {
    if (errno == ENOENT)
      return 0;
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  buf = malloc(CONFIG_FILE_MAX + 1);
  if (!buf) {
    snprintf(err, errlen, "out of memory");
    goto out;
  }
  n = fread(buf, 1, CONFIG_FILE_MAX + 1, f);
  if (ferror(f)) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    goto out;
  }
  if (n > CONFIG_FILE_MAX) {
    snprintf(err, errlen, "%s: larger than %d bytes", path, CONFIG_FILE_MAX);
    goto out;
  }
  if (cn_config_parse(c, buf, n, err, errlen) != 0) {
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s: %s", path, err);
    snprintf(err, errlen, "%s", tmp);
    goto out;
  }
  rc = 0;
out:
  free(buf);
  fclose(f);
  return rc;
}

int cn_config_write(const cn_config_t *c, const char *path, char *err, size_t errlen)
{
  FILE *f = fopen(path, "wx");
  int rc = -1;

  if (!f) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  fprintf(f, "# councild settings; command-line flags override them.\n"
             "listen = %s\n"
             "max_body = %zu          # bytes per request body\n"
             "max_headers = %zu        # bytes of request line and headers\n"
             "timeout = %d              # seconds for each request to arrive whole\n"
             "close_interval_ms = %u  # how often due proposals are closed\n"
             "max_connections = %u   # open connections; more are answered 503\n"
             "group_commit = %d         # 1: records of one loop pass share one commit\n"
             "workers = %u              # threads checking signatures (0: one per CPU)\n"
             "rate_per_signer = %u      # member acts per second per key (0: no limit)\n"
             "rate_burst = %u          # acts a key may send at once\n"
             "backoff_base_ms = %u     # federation: first retry delay to the parent\n"
             "backoff_cap_ms = %u    # federation: longest retry delay\n"
             "follow_interval_ms = %u  # federation: how often the parent's log is read\n",
          c->listen, c->max_body, c->max_headers, c->timeout_s, c->close_interval_ms,
          c->max_connections, c->group_commit, c->workers, c->rate_per_signer, c->rate_burst,
          c->backoff_base_ms, c->backoff_cap_ms, c->follow_interval_ms);
  if (fclose(f) != 0) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  rc = 0;
  return rc;
}
