/* args.c: parsing of command-line values (see args.h). */
#include "args.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "councilnet/crypto.h"

static char *dup_range(const char *s, size_t n)
{
  char *p = malloc(n + 1);

  if (!p)
    return NULL;
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

int cn_args_list_add(cn_args_list_t *l, const char *csv)
{
  const char *p;
  size_t count = 1, i, n;
  char **items;

  if (!l || !csv)
    return -1;
  for (p = csv; *p; p++)
    if (*p == ',')
      count++;
  for (p = csv;; p += n + 1) {       /* refuse empty items before changing L */
    n = strcspn(p, ",");
    if (n == 0)
      return -1;
    if (p[n] == '\0')
      break;
  }
  if (count > ((size_t)-1) / sizeof *items - l->n)
    return -1;
  items = realloc(l->items, (l->n + count) * sizeof *items);
  if (!items)
    return -1;
  l->items = items;
  for (i = 0, p = csv; i < count; i++, p += n + 1) {
    n = strcspn(p, ",");
    l->items[l->n] = dup_range(p, n);
    if (!l->items[l->n])
      return -1;
    l->n++;
  }
  return 0;
}

void cn_args_list_clear(cn_args_list_t *l)
{
  size_t i;

  if (!l)
    return;
  for (i = 0; i < l->n; i++)
    free(l->items[i]);
  free(l->items);
  l->items = NULL;
  l->n = 0;
}

int cn_args_parse_u64(const char *s, uint64_t *out)
{
  uint64_t v = 0;
  unsigned d;

  if (!s || !*s)
    return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9')
      return -1;
    d = (unsigned)(*s - '0');
    if (v > (UINT64_MAX - d) / 10)
      return -1;
    v = v * 10 + d;
  }
  *out = v;
  return 0;
}

int cn_args_parse_time(const char *s, uint64_t now, uint64_t *out)
{
  if (s && strcmp(s, "now") == 0) {
    *out = now;
    return 0;
  }
  return cn_args_parse_u64(s, out);
}

int cn_args_parse_percent(const char *s, uint32_t *permille)
{
  uint32_t whole = 0, tenths = 0, round = 0;
  int digits = 0, frac = 0;

  if (!s)
    return -1;
  for (; *s >= '0' && *s <= '9'; s++) {
    whole = whole * 10 + (uint32_t)(*s - '0');
    if (++digits > 3 || whole > 100)
      return -1;
  }
  if (*s == '.') {
    for (s++; *s >= '0' && *s <= '9'; s++) {
      if (frac == 0)
        tenths = (uint32_t)(*s - '0');
      else if (frac == 1)
        round = *s >= '5';
      frac++;
    }
    if (frac == 0)
      return -1;
  }
  if (*s == '%')
    s++;
  if (*s != '\0' || digits == 0)
    return -1;
  whole = whole * 10 + tenths + round;
  if (whole > 1000)
    return -1;
  *permille = whole;
  return 0;
}

static const struct {
  const char *name;
  Councilnet__Threshold value;
} thresholds[] = {
  {"majority", COUNCILNET__THRESHOLD__MAJORITY},
  {"two-thirds", COUNCILNET__THRESHOLD__TWO_THIRDS},
  {"two_thirds", COUNCILNET__THRESHOLD__TWO_THIRDS},
  {"2/3", COUNCILNET__THRESHOLD__TWO_THIRDS},
  {"unanimity", COUNCILNET__THRESHOLD__UNANIMITY},
  {"plurality", COUNCILNET__THRESHOLD__PLURALITY},
};

int cn_args_parse_threshold(const char *s, Councilnet__Threshold *out)
{
  size_t i;

  for (i = 0; s && i < sizeof thresholds / sizeof thresholds[0]; i++) {
    if (strcasecmp(s, thresholds[i].name) == 0) {
      *out = thresholds[i].value;
      return 0;
    }
  }
  return -1;
}

const char *cn_args_threshold_name(Councilnet__Threshold t)
{
  switch (t) {
  case COUNCILNET__THRESHOLD__MAJORITY:
    return "majority";
  case COUNCILNET__THRESHOLD__TWO_THIRDS:
    return "two-thirds";
  case COUNCILNET__THRESHOLD__UNANIMITY:
    return "unanimity";
  case COUNCILNET__THRESHOLD__PLURALITY:
    return "plurality";
  default:
    return "?";
  }
}

int cn_args_parse_hex32(const char *s, uint8_t out[32])
{
  if (!s || strlen(s) != 64)
    return -1;
  return cn_hex_decode(out, 32, s);
}

int cn_args_parse_options(const char *spec, Councilnet__OptionKind *kind,
                          cn_args_list_t *out_names, const char **why)
{
  cn_args_list_t names = {NULL, 0};
  const char *list;
  size_t i, j;
  int rc = -1;

  *why = "expected yes-no, one-of:A,B,... or approval:A,B,...";
  if (!spec)
    goto out;
  if (strcmp(spec, "yes-no") == 0 || strcmp(spec, "yes-no-abstain") == 0) {
    *kind = COUNCILNET__OPTION_KIND__YES_NO_ABSTAIN;
    rc = 0;
    goto out;
  }
  if (strncmp(spec, "one-of:", 7) == 0) {
    *kind = COUNCILNET__OPTION_KIND__ONE_OF_N;
    list = spec + 7;
  } else if (strncmp(spec, "approval:", 9) == 0) {
    *kind = COUNCILNET__OPTION_KIND__APPROVAL;
    list = spec + 9;
  } else {
    goto out;
  }
  if (cn_args_list_add(&names, list) < 0) {
    *why = "option names must be non-empty, separated by commas";
    goto out;
  }
  if (names.n < 2) {
    *why = "at least two options are needed";
    goto out;
  }
  for (i = 0; i < names.n; i++) {
    for (j = 0; j < i; j++) {
      if (strcmp(names.items[i], names.items[j]) == 0) {
        *why = "option names must differ";
        goto out;
      }
    }
  }
  cn_args_list_clear(out_names);
  *out_names = names;
  names.items = NULL;
  names.n = 0;
  rc = 0;
out:
  cn_args_list_clear(&names);
  if (rc == 0)
    *why = NULL;
  return rc;
}

int cn_args_parse_group_quorum(const char *s, char **group, uint32_t *permille,
                               const char **why)
{
  const char *colon = s ? strrchr(s, ':') : NULL;

  *why = "expected GROUP:PERCENT";
  if (!colon || colon == s)
    return -1;
  if (cn_args_parse_percent(colon + 1, permille) < 0) {
    *why = "the share must be a percentage from 0 to 100";
    return -1;
  }
  *group = dup_range(s, (size_t)(colon - s));
  if (!*group) {
    *why = "out of memory";
    return -1;
  }
  *why = NULL;
  return 0;
}

int cn_args_parse_choice(const char *choice, const char *const *names, size_t n,
                         uint32_t *out)
{
  size_t i, found = n;
  uint64_t idx;

  if (!choice)
    return -1;
  for (i = 0; i < n; i++) {
    if (names[i] && strcmp(choice, names[i]) == 0) {
      *out = (uint32_t)i;
      return 0;
    }
  }
  for (i = 0; i < n; i++) {
    if (names[i] && strcasecmp(choice, names[i]) == 0) {
      if (found != n)
        return -1;              /* ambiguous */
      found = i;
    }
  }
  if (found != n) {
    *out = (uint32_t)found;
    return 0;
  }
  if (cn_args_parse_u64(choice, &idx) == 0 && idx < n) {
    *out = (uint32_t)idx;
    return 0;
  }
  return -1;
}

int cn_args_parse_candidate(const char *s, uint8_t key[32], char **name, const char **why)
{
  char hex[65];

  *name = NULL;
  *why = "expected KEY or KEY:NAME (KEY: 64 hex digits)";
  if (!s || strlen(s) < 64 || (s[64] != '\0' && s[64] != ':'))
    return -1;
  memcpy(hex, s, 64);
  hex[64] = '\0';
  if (cn_args_parse_hex32(hex, key) < 0)
    return -1;
  if (s[64] == ':') {
    if (s[65] == '\0') {
      *why = "the name after ':' must be non-empty";
      return -1;
    }
    *name = dup_range(s + 65, strlen(s + 65));
    if (!*name) {
      *why = "out of memory";
      return -1;
    }
  }
  *why = NULL;
  return 0;
}

int cn_args_parse_quota(const char *s, uint32_t max, char **group, uint32_t *seats,
                        const char **why)
{
  const char *colon = s ? strrchr(s, ':') : NULL;
  uint64_t n = 0;

  *why = "expected GROUP:N";
  if (!colon || colon == s)
    return -1;
  if (cn_args_parse_u64(colon + 1, &n) < 0 || n == 0 || n > max) {
    *why = "N must be a seat count from 1 to the number of seats";
    return -1;
  }
  *group = dup_range(s, (size_t)(colon - s));
  if (!*group) {
    *why = "out of memory";
    return -1;
  }
  *seats = (uint32_t)n;
  *why = NULL;
  return 0;
}

void cn_args_instruction_clear(cn_args_instruction_t *in)
{
  if (!in)
    return;
  free(in->project);
  free(in->position);
  free(in->title);
  free(in->choices);
  memset(in, 0, sizeof *in);
}

/* Copy the next comma-separated item of *P into a malloc'd string, with
 * "\," read as a comma and "\\" as a backslash; advance *P past the comma.
 * Return the item, or NULL on allocation failure. */
static char *next_item(const char **p)
{
  const char *s = *p;
  char *out = malloc(strlen(s) + 1), *o = out;

  if (!out)
    return NULL;
  while (*s && *s != ',') {
    if (s[0] == '\\' && (s[1] == ',' || s[1] == '\\'))
      s++;
    *o++ = *s++;
  }
  *o = '\0';
  *p = *s == ',' ? s + 1 : s;
  return out;
}

/* Return the value of ITEM if it starts with NAME "=", else NULL. */
static const char *item_value(const char *item, const char *name)
{
  size_t n = strlen(name);

  return strncmp(item, name, n) == 0 && item[n] == '=' ? item + n + 1 : NULL;
}

int cn_args_parse_instruction(const char *spec, cn_args_instruction_t *out, const char **why)
{
  cn_args_instruction_t in;
  const char *p = spec, *v;
  char *item = NULL;
  uint64_t idx;
  uint32_t *choices;
  int have_decision = 0, targets = 0, modes = 0, rc = -1;
  size_t i;

  memset(&in, 0, sizeof in);
  *why = "empty instruction";
  if (!spec || !*spec)
    goto out;
  while (*p) {
    free(item);
    item = next_item(&p);
    if (!item) {
      *why = "out of memory";
      goto out;
    }
    if (!*item) {
      *why = "empty item (two commas in a row?)";
      goto out;
    }
    if ((v = item_value(item, "decision"))) {
      if (have_decision++) {
        *why = "decision= given twice";
        goto out;
      }
      if (cn_args_parse_hex32(v, in.decision) < 0) {
        *why = "decision=: expected a proposal id of 64 hex digits";
        goto out;
      }
    } else if ((v = item_value(item, "parent-proposal"))) {
      targets++;
      if (cn_args_parse_hex32(v, in.parent_proposal) < 0) {
        *why = "parent-proposal=: expected a proposal id of 64 hex digits";
        goto out;
      }
      in.has_parent_proposal = 1;
    } else if ((v = item_value(item, "project")) || (v = item_value(item, "position"))) {
      char **dst = item[1] == 'r' ? &in.project : &in.position;
      targets++;
      if (!*v) {
        *why = item[1] == 'r' ? "project=: the name must be non-empty"
                              : "position=: the text must be non-empty";
        goto out;
      }
      if (!*dst && !(*dst = dup_range(v, strlen(v)))) {
        *why = "out of memory";
        goto out;
      }
    } else if ((v = item_value(item, "round"))) {
      if (cn_args_parse_hex32(v, in.round) < 0) {
        *why = "round=: expected a budget round id of 64 hex digits";
        goto out;
      }
      in.has_round = 1;
    } else if ((v = item_value(item, "cost"))) {
      if (cn_args_parse_u64(v, &in.cost) < 0 || in.cost == 0) {
        *why = "cost=: expected a positive whole amount";
        goto out;
      }
    } else if ((v = item_value(item, "title"))) {
      if (!*v || in.title) {
        *why = "title=: give one non-empty title";
        goto out;
      }
      if (!(in.title = dup_range(v, strlen(v)))) {
        *why = "out of memory";
        goto out;
      }
    } else if (strcmp(item, "binding") == 0 || strcmp(item, "discretionary") == 0) {
      modes++;
      in.binding = item[0] == 'b';
    } else if ((v = item_value(item, "choice"))) {
      if (cn_args_parse_u64(v, &idx) < 0 || idx >= 64) {
        *why = "choice=: expected an option index from 0 to 63";
        goto out;
      }
      for (i = 0; i < in.n_choices; i++) {
        if (in.choices[i] == (uint32_t)idx) {
          *why = "choice= repeats an index";
          goto out;
        }
      }
      choices = realloc(in.choices, (in.n_choices + 1) * sizeof *choices);
      if (!choices) {
        *why = "out of memory";
        goto out;
      }
      in.choices = choices;
      in.choices[in.n_choices++] = (uint32_t)idx;
    } else {
      *why = "unknown item (expected decision=, parent-proposal=, project=, position=, round=, cost=, title=, "
             "binding, discretionary or choice=)";
      goto out;
    }
  }
  if (!have_decision) {
    *why = "decision=PROPOSAL_ID is required";
    goto out;
  }
  if (targets != 1) {
    *why = "give exactly one of parent-proposal=, project= or position=";
    goto out;
  }
  if ((in.has_round || in.cost || in.title) && !(in.project && in.has_round && in.cost)) {
    *why = "proposing a budget project takes project=ID, round=ROUND_ID and cost=N";
    goto out;
  }
  if (modes > 1) {
    *why = "give binding or discretionary, once";
    goto out;
  }
  if (in.n_choices && !in.binding) {
    *why = "choice= goes with binding";
    goto out;
  }
  if (in.binding && in.has_parent_proposal && in.n_choices == 0) {
    *why = "a binding instruction on a parent proposal needs choice=N";
    goto out;
  }
  *out = in;
  memset(&in, 0, sizeof in);
  *why = NULL;
  rc = 0;
out:
  free(item);
  cn_args_instruction_clear(&in);
  return rc;
}
