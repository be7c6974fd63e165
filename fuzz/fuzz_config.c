/* fuzz_config.c: libFuzzer entry point for councild.conf parsing
 * (cn_config_parse, server/config.h).
 *
 * Checked, beyond "no crash, no leak, no UB":
 *  - a refusal says "line N: ...";
 *  - an accepted file leaves every value in the range config.c documents;
 *  - round trip: cn_config_write() of the result, read back with
 *    cn_config_load() over the defaults, gives the same settings. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[256], path[300];

static void cleanup(void)
{
  unlink(path);
  rmdir(dir);
}

static void fail(const char *what, const char *text)
{
  fprintf(stderr, "fuzz_config: %s%s%s\n", what, text ? ": " : "", text ? text : "");
  abort();
}

static void clear_tail(char *s, size_t cap)
{
  size_t n = strnlen(s, cap);
  if (n < cap)
    memset(s + n, 0, cap - n);
}

static void check_ranges(const cn_config_t *c)
{
  if (!c->listen[0] || !strchr(c->listen, ':') || strlen(c->listen) >= sizeof c->listen)
    fail("listen is not host:port", c->listen);
  if (c->max_body < 1024 || c->max_body > (64u << 20) || c->max_headers < 512 ||
      c->max_headers > (1u << 20) || c->timeout_s < 1 || c->timeout_s > 3600 ||
      c->close_interval_ms < 10 || c->close_interval_ms > 60000 || c->max_connections < 1 ||
      c->max_connections > 1000000 || c->backoff_base_ms < 10 || c->backoff_base_ms > 3600000 ||
      c->backoff_cap_ms < 10 || c->backoff_cap_ms > 3600000 || c->follow_interval_ms < 10 ||
      c->follow_interval_ms > 3600000)
    fail("a value out of its range was accepted", NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  cn_config_t c, back;
  char err[256];

  if (!dir[0]) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "/dev/shm/cnfuzz-XXXXXX");
    if (access("/dev/shm", W_OK) != 0 || !mkdtemp(dir)) {
      snprintf(dir, sizeof dir, "%s/cnfuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
      if (!mkdtemp(dir))
        fail("mkdtemp", NULL);
    }
    snprintf(path, sizeof path, "%s/councild.conf", dir);
    atexit(cleanup);
  }
  cn_config_defaults(&c);
  err[0] = 0;
  if (cn_config_parse(&c, (const char *)data, size, err, sizeof err) != 0) {
    if (strncmp(err, "line ", 5) != 0)
      fail("a refusal without its line number", err);
    return 0;
  }
  check_ranges(&c);
  unlink(path);
  if (cn_config_write(&c, path, err, sizeof err) != 0)
    fail("cannot write the parsed settings back", err);
  cn_config_defaults(&back);
  if (cn_config_load(&back, path, err, sizeof err) != 0)
    fail("the written settings do not parse", err);
  /* Every setting, those added later included: compare the whole structs
   * (both start from cn_config_defaults' memset, so padding is zero), with
   * the bytes after listen's NUL cleared (a shorter value leaves old ones). */
  clear_tail(c.listen, sizeof c.listen);
  clear_tail(back.listen, sizeof back.listen);
  if (memcmp(&c, &back, sizeof c) != 0)
    fail("written and read back, the settings differ", c.listen);
  return 0;
}
