/* url.c: node URLs. See url.h. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "councilnet/url.h"

int cn_url_parse(const char *url, char *host, size_t cap, int *port)
{
  const char *h, *h_end, *p;
  size_t hlen;
  long n = 80;

  if (!url || strncasecmp(url, "http://", 7) != 0)
    return -1;
  h = url + 7;
  if (*h == '[') {               /* an IPv6 literal: http://[::1]:8080 */
    h++;
    h_end = strchr(h, ']');
    if (!h_end || memchr(h, '/', (size_t)(h_end - h)))
      return -1;
    p = h_end + 1;
  } else {
    h_end = h + strcspn(h, ":/");
    p = h_end;
  }
  hlen = (size_t)(h_end - h);
  if (hlen == 0 || hlen >= cap)
    return -1;
  if (*p == ':') {
    char *end = NULL;
    if (p[1] < '0' || p[1] > '9')
      return -1;
    n = strtol(p + 1, &end, 10);
    p = end;
  }
  if (*p == '/')
    p++;
  if (*p != '\0' || n <= 0 || n > 65535)
    return -1;
  memcpy(host, h, hlen);
  host[hlen] = 0;
  *port = (int)n;
  return 0;
}
