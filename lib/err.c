/* err.c: names and HTTP statuses of the API error codes. */
#include "councilnet/err.h"

static const char *const err_names[CN_ERR_COUNT] = {
  "OK", "BAD_ENCODING", "BAD_SIGNATURE", "UNKNOWN_SIGNER", "NOT_MEMBER",
  "WINDOW_CLOSED", "DUPLICATE", "ALREADY_VOTED", "CREDENTIAL_REVOKED",
  "MANDATE_VIOLATION", "WRONG_NODE", "TOO_LARGE", "RATE_LIMITED", "NOT_FOUND",
  "UNKNOWN_KIND", "FORBIDDEN", "INVALID", "INTERNAL", "TERM_LIMIT", "NOT_ADMITTED",
  "TOO_EARLY",
};

const char *cn_err_name(cn_err err)
{
  if ((unsigned)err >= CN_ERR_COUNT)
    return "UNKNOWN_ERROR";
  return err_names[err];
}

int cn_err_http_status(cn_err err)
{
  switch (err) {
  case CN_OK: return 200;
  case CN_ERR_BAD_ENCODING:
  case CN_ERR_BAD_SIGNATURE:
  case CN_ERR_WRONG_NODE:
  case CN_ERR_UNKNOWN_KIND:
  case CN_ERR_INVALID: return 400;
  case CN_ERR_UNKNOWN_SIGNER:
  case CN_ERR_NOT_MEMBER:
  case CN_ERR_CREDENTIAL_REVOKED:
  case CN_ERR_MANDATE_VIOLATION:
  case CN_ERR_FORBIDDEN:
  case CN_ERR_TERM_LIMIT:
  case CN_ERR_NOT_ADMITTED: return 403;
  case CN_ERR_NOT_FOUND: return 404;
  case CN_ERR_WINDOW_CLOSED:
  case CN_ERR_DUPLICATE:
  case CN_ERR_ALREADY_VOTED: return 409;
  case CN_ERR_TOO_LARGE: return 413;
  case CN_ERR_TOO_EARLY: return 425;
  case CN_ERR_RATE_LIMITED: return 429;
  case CN_ERR_INTERNAL:
  default: return 500;
  }
}
