/* url.h: the node URLs Councilnet speaks to: http://HOST[:PORT][/]. */
#ifndef COUNCILNET_URL_H
#define COUNCILNET_URL_H

#include <stddef.h>

/* Split URL into HOST (CAP bytes; an IPv6 literal in brackets is returned
 * without them) and *PORT (default 80). The scheme is http:// in any case;
 * the port is 1 to 65535; nothing may follow but one '/'. Return 0, or -1
 * if URL is not of that form. */
int cn_url_parse(const char *url, char *host, size_t cap, int *port);

#endif
