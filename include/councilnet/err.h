/* err.h: the error codes of the Councilnet API and their HTTP statuses. */
#ifndef COUNCILNET_ERR_H
#define COUNCILNET_ERR_H

/* Same numbers as councilnet.ErrorCode in proto/councilnet.proto. */
typedef enum cn_err {
  CN_OK = 0,
  CN_ERR_BAD_ENCODING = 1,       /* not a well-formed Envelope/body, or unknown fields */
  CN_ERR_BAD_SIGNATURE = 2,
  CN_ERR_UNKNOWN_SIGNER = 3,     /* key not known to this node at all */
  CN_ERR_NOT_MEMBER = 4,         /* key known but not a member (or removed) */
  CN_ERR_WINDOW_CLOSED = 5,      /* outside the proposal's voting window */
  CN_ERR_DUPLICATE = 6,          /* a conflicting act already exists (e.g. member added twice) */
  CN_ERR_ALREADY_VOTED = 7,
  CN_ERR_CREDENTIAL_REVOKED = 8,
  CN_ERR_MANDATE_VIOLATION = 9,
  CN_ERR_WRONG_NODE = 10,        /* body addressed to another node */
  CN_ERR_TOO_LARGE = 11,
  CN_ERR_RATE_LIMITED = 12,
  CN_ERR_NOT_FOUND = 13,
  CN_ERR_UNKNOWN_KIND = 14,
  CN_ERR_FORBIDDEN = 15,         /* signer lacks the role (convener, clerk) */
  CN_ERR_INVALID = 16,           /* well-formed but semantically wrong */
  CN_ERR_INTERNAL = 17,
  CN_ERR_TERM_LIMIT = 18,        /* a further consecutive term is not allowed */
  CN_ERR_NOT_ADMITTED = 19,      /* addressed to a node not (yet) admitted as a
                                  * child council here: a child retries */
  CN_ERR_TOO_EARLY = 20          /* created more than 600 s ahead of this node's
                                  * clock, or a child council's ballot on a
                                  * proposal not open yet: a child retries */
} cn_err;

#define CN_ERR_COUNT 21

/* Return the stable upper-case name of ERR ("BAD_SIGNATURE"). Never NULL. */
const char *cn_err_name(cn_err err);

/* Return the HTTP status for ERR: 200, 400, 403, 404, 409, 413, 429 or 500. */
int cn_err_http_status(cn_err err);

#endif
