/* test_url.c: the node URL parser (lib/url.c) that councild's link to its
 * parent and the council client share: host names, IPv4 and bracketed IPv6
 * literals, ports, and what is refused. */
#include <stdlib.h>

#include "councilnet/url.h"
#include "test.h"

static void ok(const char *url, const char *host, int port)
{
  char h[64];
  int p = -1;
  int rc = cn_url_parse(url, h, sizeof h, &p);
  CHECK_EQ_INT(rc, 0);
  if (rc == 0) {
    CHECK_STR(h, host);
    CHECK_EQ_INT(p, port);
  } else {
    fprintf(stderr, "  refused: %s\n", url);
  }
}

static void bad(const char *url)
{
  char h[16];
  int p = -1;
  if (cn_url_parse(url, h, sizeof h, &p) != -1) {
    fprintf(stderr, "  accepted: %s\n", url ? url : "(null)");
    CHECK(0);
  } else {
    CHECK(1);
  }
}

int main(void)
{
  ok("http://127.0.0.1:8080", "127.0.0.1", 8080);
  ok("http://127.0.0.1:8080/", "127.0.0.1", 8080);
  ok("http://region.example:9000", "region.example", 9000);
  ok("http://region.example", "region.example", 80);
  ok("http://[::1]:8080", "::1", 8080);
  ok("http://[2001:db8::7]/", "2001:db8::7", 80);
  ok("http://[fe80::1%25eth0]:1", "fe80::1%25eth0", 1);
  bad(NULL);
  bad("");
  bad("https://127.0.0.1:8080");
  bad("http://");
  bad("http://:8080");
  bad("http://127.0.0.1:");
  bad("http://127.0.0.1:0");
  bad("http://127.0.0.1:65536");
  bad("http://127.0.0.1:80x");
  bad("http://127.0.0.1:-1");
  bad("http://127.0.0.1:8080/v1/log");
  bad("http://[::1:8080");
  bad("http://[]:8080");
  bad("http://[::1]x:8080");
  bad("http://a-host-name-longer-than-the-buffer.example:80");
  return test_finish("test_url");
}
