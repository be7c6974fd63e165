/* test_config.c: councild.conf parsing, loading and writing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "councilnet/crypto.h"
#include "test.h"

/* Parse exactly LEN bytes of TEXT from a heap copy with nothing after it, so
 * that a read past LEN is caught by the sanitizer build. */
static int parse_n(cn_config_t *c, const char *text, size_t len, char *err, size_t errlen)
{
  char *copy = malloc(len ? len : 1);
  int rc;

  if (!copy) {
    fprintf(stderr, "out of memory\n");
    return -2;
  }
  if (len)
    memcpy(copy, text, len);
  rc = cn_config_parse(c, copy, len, err, errlen);
  free(copy);
  return rc;
}

static int parse(cn_config_t *c, const char *text, char *err, size_t errlen)
{
  return parse_n(c, text, strlen(text), err, errlen);
}

static int same_config(const cn_config_t *a, const cn_config_t *b)
{
  return strcmp(a->listen, b->listen) == 0 && a->max_body == b->max_body &&
         a->max_headers == b->max_headers && a->timeout_s == b->timeout_s &&
         a->close_interval_ms == b->close_interval_ms;
}

/* Parse LEN bytes of TEXT over defaults and expect -1 with an error that
 * starts with exactly "line LINE: " and contains WHAT (if non-NULL). Return 1
 * if so, else print why and return 0. */
static int fails_n(const char *text, size_t len, int line, const char *what)
{
  cn_config_t c;
  char err[512], prefix[32];
  int rc;

  cn_config_defaults(&c);
  memset(err, 0, sizeof err);
  rc = parse_n(&c, text, len, err, sizeof err);
  snprintf(prefix, sizeof prefix, "line %d: ", line);
  if (rc != -1) {
    fprintf(stderr, "  parse of \"%.*s\" returned %d, expected -1\n", (int)(len > 80 ? 80 : len),
            text, rc);
    return 0;
  }
  if (strncmp(err, prefix, strlen(prefix)) != 0) {
    fprintf(stderr, "  parse of \"%.*s\": error \"%s\" does not start with \"%s\"\n",
            (int)(len > 80 ? 80 : len), text, err, prefix);
    return 0;
  }
  if (strlen(err) <= strlen(prefix)) {
    fprintf(stderr, "  error \"%s\" has no reason\n", err);
    return 0;
  }
  if (what && !strstr(err, what)) {
    fprintf(stderr, "  error \"%s\" does not mention \"%s\"\n", err, what);
    return 0;
  }
  return 1;
}

static int fails(const char *text, int line, const char *what)
{
  return fails_n(text, strlen(text), line, what);
}

static void test_defaults(void)
{
  cn_config_t c;

  memset(&c, 0xa5, sizeof c);
  cn_config_defaults(&c);
  CHECK_STR(c.listen, "127.0.0.1:8080");
  CHECK_EQ_INT(c.max_body, 262144);
  CHECK_EQ_INT(c.max_headers, 8192);
  CHECK_EQ_INT(c.timeout_s, 10);
  CHECK_EQ_INT(c.close_interval_ms, 200);
}

static void test_parse_valid(void)
{
  cn_config_t c, d;
  char err[256];
  const char *text =
    "# councild settings\n"
    "\n"
    "   \n"
    "\t \t\n"
    "   # indented comment with = and : in it\n"
    "listen=0.0.0.0:9000\n"
    "max_body   =   2048   # trailing comment\n"
    "\tmax_headers\t=\t4096\t\n"
    "timeout = 30\n"
    "#timeout = 31\n"
    "close_interval_ms = 500\n"
    "# last line without a newline";

  cn_config_defaults(&c);
  err[0] = 0;
  CHECK_EQ_INT(parse(&c, text, err, sizeof err), 0);
  CHECK_STR(c.listen, "0.0.0.0:9000");
  CHECK_EQ_INT(c.max_body, 2048);
  CHECK_EQ_INT(c.max_headers, 4096);
  CHECK_EQ_INT(c.timeout_s, 30);
  CHECK_EQ_INT(c.close_interval_ms, 500);

  /* Empty input, and input of only blank lines and comments, change nothing. */
  cn_config_defaults(&c);
  cn_config_defaults(&d);
  CHECK_EQ_INT(parse(&c, "", err, sizeof err), 0);
  CHECK(same_config(&c, &d));
  CHECK_EQ_INT(parse(&c, "\n\n\n", err, sizeof err), 0);
  CHECK_EQ_INT(parse(&c, "# a\n  # b\n#\n", err, sizeof err), 0);
  CHECK(same_config(&c, &d));

  /* Only the keys present change; the rest keep their earlier values. */
  cn_config_defaults(&c);
  c.max_body = 5000;
  CHECK_EQ_INT(parse(&c, "timeout = 7\n", err, sizeof err), 0);
  CHECK_EQ_INT(c.timeout_s, 7);
  CHECK_EQ_INT(c.max_body, 5000);
  CHECK_STR(c.listen, "127.0.0.1:8080");
  CHECK_EQ_INT(c.max_headers, 8192);
  CHECK_EQ_INT(c.close_interval_ms, 200);

  /* A repeated key: the last one wins. */
  cn_config_defaults(&c);
  CHECK_EQ_INT(parse(&c, "timeout = 5\ntimeout = 6\nlisten = a:1\nlisten = b:2\n", err,
                     sizeof err), 0);
  CHECK_EQ_INT(c.timeout_s, 6);
  CHECK_STR(c.listen, "b:2");

  /* A comment right after the value, without spaces. */
  cn_config_defaults(&c);
  CHECK_EQ_INT(parse(&c, "listen = host:80#comment\ntimeout=9#x\n", err, sizeof err), 0);
  CHECK_STR(c.listen, "host:80");
  CHECK_EQ_INT(c.timeout_s, 9);

  /* Only the first '=' separates key and value. */
  cn_config_defaults(&c);
  CHECK_EQ_INT(parse(&c, "listen = a=b:1\n", err, sizeof err), 0);
  CHECK_STR(c.listen, "a=b:1");

  /* IPv6 literal, and leading zeros are decimal (not octal). */
  cn_config_defaults(&c);
  CHECK_EQ_INT(parse(&c, "listen = [::1]:9443\ntimeout = 010\nclose_interval_ms = 0010\n", err,
                     sizeof err), 0);
  CHECK_STR(c.listen, "[::1]:9443");
  CHECK_EQ_INT(c.timeout_s, 10);
  CHECK_EQ_INT(c.close_interval_ms, 10);
}

/* CRLF line ends: the '\r' is trailing white space and is trimmed, so CRLF
 * files parse like LF files. A lone '\r' is not a line end. */
static void test_parse_crlf(void)
{
  cn_config_t c;
  char err[256];

  cn_config_defaults(&c);
  err[0] = 0;
  CHECK_EQ_INT(parse(&c,
                     "# windows file\r\n"
                     "\r\n"
                     "listen = 10.0.0.1:81\r\n"
                     "max_body = 4096 # note\r\n"
                     "max_headers = 1024\r\n"
                     "timeout = 42\r\n"
                     "close_interval_ms = 250\r\n",
                     err, sizeof err), 0);
  CHECK_STR(c.listen, "10.0.0.1:81");
  CHECK(strchr(c.listen, '\r') == NULL);
  CHECK_EQ_INT(c.max_body, 4096);
  CHECK_EQ_INT(c.max_headers, 1024);
  CHECK_EQ_INT(c.timeout_s, 42);
  CHECK_EQ_INT(c.close_interval_ms, 250);

  /* Line numbers count CRLF lines. */
  CHECK(fails("timeout = 1\r\n\r\nbogus = 1\r\n", 3, "bogus"));
  /* A lone CR does not end the line: the value is "5\rmax_body = 2048". */
  CHECK(fails("timeout = 5\rmax_body = 2048\n", 1, "timeout"));
}

static void test_parse_boundaries(void)
{
  static const struct {
    const char *text;
    unsigned long long want;
    int field;   /* 0 max_body, 1 max_headers, 2 timeout, 3 close_interval_ms */
  } ok[] = {
    { "max_body = 1024", 1024, 0 },
    { "max_body = 67108864", 67108864, 0 },
    { "max_headers = 512", 512, 1 },
    { "max_headers = 1048576", 1048576, 1 },
    { "timeout = 1", 1, 2 },
    { "timeout = 3600", 3600, 2 },
    { "close_interval_ms = 10", 10, 3 },
    { "close_interval_ms = 60000", 60000, 3 },
  };

  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    cn_config_t c;
    char err[256] = "";
    unsigned long long got = 0;

    cn_config_defaults(&c);
    CHECK_EQ_INT(parse(&c, ok[i].text, err, sizeof err), 0);
    switch (ok[i].field) {
    case 0: got = c.max_body; break;
    case 1: got = c.max_headers; break;
    case 2: got = (unsigned long long)c.timeout_s; break;
    default: got = c.close_interval_ms; break;
    }
    if (got != ok[i].want)
      fprintf(stderr, "  \"%s\" gave %llu\n", ok[i].text, got);
    CHECK(got == ok[i].want);
  }

  /* listen: 255 characters fit, 256 do not. */
  {
    char text[300], want[256];
    cn_config_t c;
    char err[256] = "";

    memset(want, 'h', 255);
    want[250] = ':';
    want[255] = 0;
    snprintf(text, sizeof text, "listen = %s\n", want);
    cn_config_defaults(&c);
    CHECK_EQ_INT(parse(&c, text, err, sizeof err), 0);
    CHECK_STR(c.listen, want);
    snprintf(text, sizeof text, "listen = %sh\n", want);
    CHECK(fails(text, 1, "listen"));
  }
}

static void test_parse_invalid(void)
{
  static const char *const keys[] = { "max_body", "max_headers", "timeout", "close_interval_ms" };
  static const char *const lows[] = { "1023", "511", "0", "9" };
  static const char *const highs[] = { "67108865", "1048577", "3601", "60001" };
  static const char *const junk[] = {
    "", "abc", "-1", "+5", "5x", "5 6", "0x10", "1e3", "5.0", " ", "\xd9\xa1",
    "18446744073709551616", "99999999999999999999999999", "4294967297",
  };
  char text[256];

  /* workers: 0 (one per CPU) to 64 */
  CHECK(fails("workers = 65\n", 1, "workers"));
  CHECK(fails("workers = -1\n", 1, "workers"));
  CHECK(fails("timeout = 5\nworkers = two\n", 2, "workers"));
  {
    cn_config_t c;
    char err[256];
    cn_config_defaults(&c);
    CHECK_EQ_INT(c.workers, 0);
    CHECK_EQ_INT(parse(&c, "workers = 3\n", err, sizeof err), 0);
    CHECK_EQ_INT(c.workers, 3);
  }

  /* Unknown keys, including a wrong case, an inner space and an empty key. */
  CHECK(fails("bogus = 1\n", 1, "bogus"));
  CHECK(fails("# c\n\nlisten = a:1\nTimeout = 5\n", 4, "Timeout"));
  CHECK(fails("max body = 2048\n", 1, "max body"));
  CHECK(fails("= 5\n", 1, NULL));
  CHECK(fails("timeout_s = 5\n", 1, "timeout_s"));
  /* A very long unknown key still gives a bounded message. */
  {
    char lk[900];
    memset(lk, 'k', 800);
    memcpy(lk + 800, " = 1\n", 6);
    CHECK(fails(lk, 1, "kkkk"));
  }

  /* Each numeric key: out of range below and above, and not numbers. */
  for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
    snprintf(text, sizeof text, "# x\n\n%s = %s\n", keys[k], lows[k]);
    CHECK(fails(text, 3, keys[k]));
    snprintf(text, sizeof text, "timeout = 5\n%s = %s\n", keys[k], highs[k]);
    CHECK(fails(text, 2, keys[k]));
    for (size_t j = 0; j < sizeof junk / sizeof junk[0]; j++) {
      int ok;
      snprintf(text, sizeof text, "\n\n\n\n%s = %s\n", keys[k], junk[j]);
      ok = fails(text, 5, keys[k]);
      if (!ok)
        fprintf(stderr, "  (key %s, value \"%s\")\n", keys[k], junk[j]);
      CHECK(ok);
    }
    snprintf(text, sizeof text, "%s =\n", keys[k]);
    CHECK(fails(text, 1, keys[k]));
  }

  /* Missing '='. */
  CHECK(fails("timeout 5\n", 1, NULL));
  CHECK(fails("listen = a:1\n\nlisten\n", 3, NULL));
  CHECK(fails("# c\n   x   # = in comment only\n", 2, NULL));

  /* listen: empty, without ':'. */
  CHECK(fails("listen =\n", 1, "listen"));
  CHECK(fails("listen =    # nothing\n", 1, "listen"));
  CHECK(fails("\nlisten = localhost\n", 2, "listen"));
  CHECK(fails("timeout = 5\nmax_body = 2048\nlisten = 8080\n", 3, "listen"));

  /* The first bad line is the one reported. */
  CHECK(fails("timeout = 5\nbogus = 1\nlisten = x\n", 2, "bogus"));
}

static void test_parse_line_length(void)
{
  char *buf = malloc(4096);
  cn_config_t c;
  char err[256];
  size_t n;

  REQUIRE(buf);
  /* 1023 bytes before the newline is the longest line accepted. */
  memset(buf, ' ', 4096);
  memcpy(buf, "timeout =", 9);
  buf[1022] = '5';
  buf[1023] = '\n';
  cn_config_defaults(&c);
  err[0] = 0;
  CHECK_EQ_INT(parse_n(&c, buf, 1024, err, sizeof err), 0);
  CHECK_EQ_INT(c.timeout_s, 5);
  /* Also as the last line, without a newline. */
  cn_config_defaults(&c);
  CHECK_EQ_INT(parse_n(&c, buf, 1023, err, sizeof err), 0);
  CHECK_EQ_INT(c.timeout_s, 5);

  /* 1024 bytes: too long, even if it is only a comment. */
  memset(buf, ' ', 4096);
  memcpy(buf, "timeout =", 9);
  buf[1023] = '5';
  buf[1024] = '\n';
  CHECK(fails_n(buf, 1025, 1, "long"));
  CHECK(fails_n(buf, 1024, 1, "long"));
  memset(buf, 'x', 4096);
  buf[0] = '#';
  buf[1024] = '\n';
  CHECK(fails_n(buf, 1025, 1, "long"));
  /* A comment of 1023 bytes is fine. */
  buf[1023] = '\n';
  cn_config_defaults(&c);
  CHECK_EQ_INT(parse_n(&c, buf, 1024, err, sizeof err), 0);

  /* On a later line the right number is reported. */
  n = (size_t)snprintf(buf, 4096, "timeout = 5\n\n# c\n");
  memset(buf + n, '#', 2000);
  buf[n + 2000] = '\n';
  CHECK(fails_n(buf, n + 2001, 4, "long"));
done:
  free(buf);
}

static void test_parse_nul(void)
{
  static const char a[] = "timeout = 5\n\0\n";
  static const char b[] = "# c\ntime\0out = 5\n";
  static const char c3[] = "\n\nlisten = a:1\0:2\n";
  static const char d[] = "# comment \0 with a NUL\n";

  CHECK(fails_n(a, sizeof a - 1, 2, "NUL"));
  CHECK(fails_n(b, sizeof b - 1, 2, "NUL"));
  CHECK(fails_n(c3, sizeof c3 - 1, 3, "NUL"));
  CHECK(fails_n(d, sizeof d - 1, 1, "NUL"));
}

/* LEN is honoured: bytes after it are never looked at. */
static void test_parse_len(void)
{
  cn_config_t c;
  char err[256] = "";
  const char *t1 = "timeout = 7\nbogus garbage without equals";
  const char *t2 = "timeout = 12345";
  const char *t3 = "listen = host:80XYZ";

  cn_config_defaults(&c);
  CHECK_EQ_INT(parse_n(&c, t1, 12, err, sizeof err), 0);
  CHECK_EQ_INT(c.timeout_s, 7);
  /* The same text in full fails at line 2. */
  CHECK(fails(t1, 2, NULL));

  cn_config_defaults(&c);
  CHECK_EQ_INT(parse_n(&c, t2, strlen("timeout = 12"), err, sizeof err), 0);
  CHECK_EQ_INT(c.timeout_s, 12);
  CHECK(fails(t2, 1, "timeout"));   /* 12345 > 3600 */

  cn_config_defaults(&c);
  CHECK_EQ_INT(parse_n(&c, t3, strlen("listen = host:80"), err, sizeof err), 0);
  CHECK_STR(c.listen, "host:80");

  /* A stack buffer with garbage (no NUL) straight after LEN. */
  {
    char buf[32];
    memset(buf, 'Z', sizeof buf);
    memcpy(buf, "timeout = 99", 12);
    cn_config_defaults(&c);
    CHECK_EQ_INT(cn_config_parse(&c, buf, 12, err, sizeof err), 0);
    CHECK_EQ_INT(c.timeout_s, 99);
  }
}

/* A small error buffer gets a truncated, NUL-terminated message. */
static void test_parse_small_err(void)
{
  cn_config_t c;
  char err[12];

  memset(err, 'q', sizeof err);
  cn_config_defaults(&c);
  CHECK_EQ_INT(parse(&c, "\n\n\nbogus_key_with_a_long_name = 1\n", err, sizeof err), -1);
  CHECK_EQ_INT(strlen(err), sizeof err - 1);
  CHECK(strncmp(err, "line 4: ", 8) == 0);
}

static int write_file(const char *path, const char *data, size_t len)
{
  FILE *f = fopen(path, "wb");
  if (!f)
    return -1;
  if (len && fwrite(data, 1, len, f) != len) {
    fclose(f);
    return -1;
  }
  return fclose(f) == 0 ? 0 : -1;
}

static void test_load_write(void)
{
  char dir[] = "/tmp/cn-config-XXXXXX";
  char path[128] = "", path2[128] = "", missing[128] = "", sub[128] = "", big[128] = "";
  char bad[128] = "", notdir[128] = "", empty[128] = "";
  char err[512];
  char *buf = NULL;
  cn_config_t c, d, want;
  int made = 0;

  REQUIRE(mkdtemp(dir) != NULL);
  made = 1;
  snprintf(path, sizeof path, "%s/councild.conf", dir);
  snprintf(path2, sizeof path2, "%s/min.conf", dir);
  snprintf(missing, sizeof missing, "%s/missing.conf", dir);
  snprintf(sub, sizeof sub, "%s/sub", dir);
  snprintf(big, sizeof big, "%s/big.conf", dir);
  snprintf(bad, sizeof bad, "%s/bad.conf", dir);
  snprintf(notdir, sizeof notdir, "%s/councild.conf/x", dir);
  snprintf(empty, sizeof empty, "%s/empty.conf", dir);

  /* Missing file: 0, values untouched (even non-default ones). */
  cn_config_defaults(&c);
  snprintf(c.listen, sizeof c.listen, "keep:1");
  c.max_body = 4321;
  c.max_headers = 1234;
  c.timeout_s = 77;
  c.close_interval_ms = 999;
  want = c;
  err[0] = 0;
  CHECK_EQ_INT(cn_config_load(&c, missing, err, sizeof err), 0);
  CHECK(same_config(&c, &want));
  {
    char deep[192];
    snprintf(deep, sizeof deep, "%s/no/such/dir/councild.conf", dir);
    CHECK_EQ_INT(cn_config_load(&c, deep, err, sizeof err), 0);
    CHECK(same_config(&c, &want));
  }

  /* A directory: a read error, -1. */
  REQUIRE(mkdir(sub, 0700) == 0);
  err[0] = 0;
  CHECK_EQ_INT(cn_config_load(&c, sub, err, sizeof err), -1);
  CHECK(strstr(err, sub) != NULL);
  CHECK(strstr(err, strerror(EISDIR)) != NULL);
  CHECK(same_config(&c, &want));

  /* Empty file: 0, nothing changes. */
  REQUIRE(write_file(empty, "", 0) == 0);
  CHECK_EQ_INT(cn_config_load(&c, empty, err, sizeof err), 0);
  CHECK(same_config(&c, &want));

  /* Write then load round-trips every field, into a zeroed struct too. */
  cn_config_defaults(&c);
  snprintf(c.listen, sizeof c.listen, "[::1]:9443");
  c.max_body = 1048576;
  c.max_headers = 65536;
  c.timeout_s = 3600;
  c.close_interval_ms = 60000;
  err[0] = 0;
  REQUIRE(cn_config_write(&c, path, err, sizeof err) == 0);
  memset(&d, 0, sizeof d);
  CHECK_EQ_INT(cn_config_load(&d, path, err, sizeof err), 0);
  CHECK(same_config(&c, &d));
  CHECK_STR(d.listen, "[::1]:9443");
  CHECK_EQ_INT(d.max_body, 1048576);
  CHECK_EQ_INT(d.max_headers, 65536);
  CHECK_EQ_INT(d.timeout_s, 3600);
  CHECK_EQ_INT(d.close_interval_ms, 60000);
  cn_config_defaults(&d);
  CHECK_EQ_INT(cn_config_load(&d, path, err, sizeof err), 0);
  CHECK(same_config(&c, &d));

  /* The lowest values and a shortest listen round-trip as well. */
  c.max_body = 1024;
  c.max_headers = 512;
  c.timeout_s = 1;
  c.close_interval_ms = 10;
  snprintf(c.listen, sizeof c.listen, ":1");
  REQUIRE(cn_config_write(&c, path2, err, sizeof err) == 0);
  cn_config_defaults(&d);
  CHECK_EQ_INT(cn_config_load(&d, path2, err, sizeof err), 0);
  CHECK(same_config(&c, &d));
  unlink(path2);
  /* And the defaults. */
  cn_config_defaults(&c);
  REQUIRE(cn_config_write(&c, path2, err, sizeof err) == 0);
  memset(&d, 0, sizeof d);
  CHECK_EQ_INT(cn_config_load(&d, path2, err, sizeof err), 0);
  CHECK(same_config(&c, &d));

  /* Write refuses to overwrite, and the file keeps its contents. */
  cn_config_defaults(&c);
  c.timeout_s = 5;
  err[0] = 0;
  CHECK_EQ_INT(cn_config_write(&c, path, err, sizeof err), -1);
  CHECK(strstr(err, path) != NULL);
  CHECK(strstr(err, strerror(EEXIST)) != NULL);
  cn_config_defaults(&d);
  CHECK_EQ_INT(cn_config_load(&d, path, err, sizeof err), 0);
  CHECK_STR(d.listen, "[::1]:9443");
  CHECK_EQ_INT(d.timeout_s, 3600);
  /* Not even over an empty file. */
  CHECK_EQ_INT(cn_config_write(&c, empty, err, sizeof err), -1);
  {
    struct stat st;
    CHECK(stat(empty, &st) == 0 && st.st_size == 0);
  }
  /* Nor into a missing directory. */
  {
    char nodir[192];
    snprintf(nodir, sizeof nodir, "%s/no/such/councild.conf", dir);
    err[0] = 0;
    CHECK_EQ_INT(cn_config_write(&c, nodir, err, sizeof err), -1);
    CHECK(strstr(err, strerror(ENOENT)) != NULL);
  }

  /* Only ENOENT counts as missing: a path through a regular file is an error. */
  cn_config_defaults(&c);
  err[0] = 0;
  CHECK_EQ_INT(cn_config_load(&c, notdir, err, sizeof err), -1);
  CHECK(strstr(err, strerror(ENOTDIR)) != NULL);

  /* A parse error names the file and the line. */
  {
    const char *t = "# ok\ntimeout = 5\nmax_body = 10\n";
    REQUIRE(write_file(bad, t, strlen(t)) == 0);
  }
  cn_config_defaults(&c);
  err[0] = 0;
  CHECK_EQ_INT(cn_config_load(&c, bad, err, sizeof err), -1);
  CHECK(strncmp(err, bad, strlen(bad)) == 0);
  CHECK(strncmp(err + strlen(bad), ": line 3: ", 10) == 0);
  CHECK(strstr(err, "max_body") != NULL);

  /* Exactly 64 KiB loads; one byte more is refused without parsing. */
  buf = malloc(64 * 1024 + 2);
  REQUIRE(buf);
  for (size_t i = 0; i < 1024; i++) {
    memset(buf + i * 64, 'x', 63);
    buf[i * 64] = '#';
    buf[i * 64 + 63] = '\n';
  }
  memset(buf + 1023 * 64, ' ', 63);
  memcpy(buf + 1023 * 64, "timeout = 9", 11);
  REQUIRE(write_file(big, buf, 64 * 1024) == 0);
  cn_config_defaults(&c);
  err[0] = 0;
  CHECK_EQ_INT(cn_config_load(&c, big, err, sizeof err), 0);
  CHECK_EQ_INT(c.timeout_s, 9);
  unlink(big);
  buf[64 * 1024] = '\n';
  REQUIRE(write_file(big, buf, 64 * 1024 + 1) == 0);
  cn_config_defaults(&c);
  cn_config_defaults(&want);
  err[0] = 0;
  CHECK_EQ_INT(cn_config_load(&c, big, err, sizeof err), -1);
  CHECK(strstr(err, big) != NULL);
  CHECK(strstr(err, "65536") != NULL);
  CHECK(same_config(&c, &want));
  /* Much larger too. */
  unlink(big);
  {
    FILE *f = fopen(big, "wb");
    REQUIRE(f);
    for (int i = 0; i < 4; i++)
      fwrite(buf, 1, 64 * 1024, f);
    fclose(f);
  }
  CHECK_EQ_INT(cn_config_load(&c, big, err, sizeof err), -1);
done:
  free(buf);
  if (made) {
    unlink(path);
    unlink(path2);
    unlink(big);
    unlink(bad);
    unlink(empty);
    rmdir(sub);
    CHECK_EQ_INT(rmdir(dir), 0);
  }
}

int main(void)
{
  if (cn_crypto_init() != 0) {
    fprintf(stderr, "cn_crypto_init failed\n");
    return 1;
  }
  test_defaults();
  test_parse_valid();
  test_parse_crlf();
  test_parse_boundaries();
  test_parse_invalid();
  test_parse_line_length();
  test_parse_nul();
  test_parse_len();
  test_parse_small_err();
  test_load_write();
  return test_finish("test_config");
}
