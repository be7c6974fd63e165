/* pabulib.c: the Pabulib .pb format (pabulib.org); see budget.h.
 *
 * What the parser accepts (strictly; any departure is an error naming the
 * line, "line N: ..."):
 *  - UTF-8 text, an optional byte order mark, lines ended by LF or CRLF
 *    (any carriage returns before the LF belong to the line end). Blank
 *    lines are skipped. No NUL bytes, and no carriage return inside a
 *    field (the writer could not carry it back).
 *  - Fields are separated by ';'. A field may be double-quoted as written
 *    by Python's csv module ("a;b", "say ""hi"""); a quoted field ends at
 *    its line. Spaces and tabs around fields are dropped. A '"' inside an
 *    unquoted field is an error.
 *  - Three sections, each once and in this order: a line META, PROJECTS or
 *    VOTES (any case), then a header line, then rows with as many fields as
 *    the header has columns. Column names are unique.
 *  - META: header key;value, rows of two fields, unique keys. Required:
 *    budget (a whole number: digits, optionally ".0..."; at most 2^53) and
 *    vote_type, which must be approval. Checked when present: num_projects
 *    and num_votes must equal the counts of PROJECTS and VOTES rows.
 *    description and rule are kept (empty, and rule unknown: none). Councilnet extension, optional:
 *    assemblies, a comma-separated list of assembly names, each optionally
 *    followed by ':' and its need weight (a finite number >= 0, default 1),
 *    naming groups 0, 1, ... in that order (names then contain no ',' or
 *    ':'). Other keys are ignored.
 *  - PROJECTS: columns project_id and cost required, name and proposer
 *    optional, others ignored. project_id: 1 to 63 bytes, no ',', ';', '"'
 *    or control characters, unique. cost: as budget. An empty name or
 *    proposer is none (NULL).
 *  - VOTES: columns voter_id (non-empty, unique) and vote required,
 *    assembly optional, others ignored. vote: comma-separated project ids
 *    (each known, none twice) or empty (the voter approves nothing, but
 *    still counts as a voter: MES gives them a share). assembly: a
 *    non-empty name; with META assemblies it must be one of those,
 *    otherwise groups are numbered by first appearance. Without an
 *    assembly column and META assemblies, every voter is in group 0 and
 *    n_groups is 0. Voters with the same approvals and group are merged
 *    into one set with a count; sets are in order of first appearance.
 *
 * The writer emits META (description, num_projects, num_votes, budget,
 * vote_type approval, rule (b->rule, "unknown" when NULL) and, when b->n_groups > 0, assemblies naming the groups "0", "1", ...
 * with their weights when b->group_weight is set), PROJECTS
 * (project_id;cost;name;proposer) and VOTES (voter_id;vote, plus
 * ;assembly with the group number when b->n_groups > 0), one line per
 * voter with ids v1, v2, ... Fields are quoted when needed. It refuses
 * (-1) what the parser would not read back the same: a bad or duplicate
 * project id, a newline in a text, a cost or budget above 2^53, a set
 * naming an unknown project, a group >= n_groups (or, when n_groups is 0,
 * a group other than 0), a negative or non-finite weight. So
 * parse(write(b)) gives b back, up to merging identical sets, names ""
 * becoming NULL and group names. */
#include "councilnet/budget.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PB_MAX_AMOUNT CN_BUDGET_MAX_AMOUNT

/* ---- Small helpers ---- */

static uint64_t fnv1a(const void *data, size_t n, uint64_t h)
{
  const unsigned char *p = data;
  size_t i;

  for (i = 0; i < n; i++) {
    h ^= p[i];
    h *= UINT64_C(0x100000001b3);
  }
  return h;
}

#define FNV_OFFSET UINT64_C(0xcbf29ce484222325)

/* A set of strings with a value each: open addressing, strings copied
 * into a pool. */
typedef struct strtab_t {
  char *pool;
  size_t pool_len, pool_cap;
  size_t *off;                  /* per slot: offset in pool + 1, 0 = empty */
  uint32_t *val;
  size_t cap, n;
} strtab_t;

static void strtab_free(strtab_t *t)
{
  free(t->pool);
  free(t->off);
  free(t->val);
  memset(t, 0, sizeof *t);
}

/* Return the slot of S (LEN bytes) or of the empty slot where it goes. */
static size_t strtab_slot(const strtab_t *t, const char *s, size_t len)
{
  size_t i = (size_t)fnv1a(s, len, FNV_OFFSET) & (t->cap - 1);

  while (t->off[i]) {
    const char *k = t->pool + t->off[i] - 1;
    if (strncmp(k, s, len) == 0 && k[len] == '\0')
      return i;
    i = (i + 1) & (t->cap - 1);
  }
  return i;
}

/* Return 1 and *VAL if S is in T, else 0. */
static int strtab_get(const strtab_t *t, const char *s, size_t len, uint32_t *val)
{
  size_t i;

  if (t->cap == 0)
    return 0;
  i = strtab_slot(t, s, len);
  if (!t->off[i])
    return 0;
  *val = t->val[i];
  return 1;
}

/* Add S (not in T) with VAL. Return 0 or -1. */
static int strtab_put(strtab_t *t, const char *s, size_t len, uint32_t val)
{
  size_t i;

  if ((t->n + 1) * 2 > t->cap) {
    strtab_t u = *t;
    size_t cap = t->cap ? t->cap * 2 : 64, j;
    u.cap = cap;
    u.off = calloc(cap, sizeof *u.off);
    u.val = calloc(cap, sizeof *u.val);
    if (!u.off || !u.val) {
      free(u.off);
      free(u.val);
      return -1;
    }
    for (j = 0; j < t->cap; j++) {
      const char *k;
      if (!t->off[j])
        continue;
      k = t->pool + t->off[j] - 1;
      i = strtab_slot(&u, k, strlen(k));
      u.off[i] = t->off[j];
      u.val[i] = t->val[j];
    }
    free(t->off);
    free(t->val);
    *t = u;
  }
  if (t->pool_len + len + 1 > t->pool_cap) {
    size_t cap = t->pool_cap ? t->pool_cap : 4096;
    char *p;
    while (cap < t->pool_len + len + 1)
      cap *= 2;
    p = realloc(t->pool, cap);
    if (!p)
      return -1;
    t->pool = p;
    t->pool_cap = cap;
  }
  i = strtab_slot(t, s, len);
  memcpy(t->pool + t->pool_len, s, len);
  t->pool[t->pool_len + len] = '\0';
  t->off[i] = t->pool_len + 1;
  t->val[i] = val;
  t->pool_len += len + 1;
  t->n++;
  return 0;
}

/* Parse a whole amount: digits, optionally '.' and zeros; at most 2^53.
 * Return 0 or -1. */
static int parse_amount(const char *s, uint64_t *out)
{
  uint64_t v = 0;
  const char *p = s;

  if (*p < '0' || *p > '9')
    return -1;
  for (; *p >= '0' && *p <= '9'; p++) {
    if (v > (PB_MAX_AMOUNT - (uint64_t)(*p - '0')) / 10)
      return -1;
    v = v * 10 + (uint64_t)(*p - '0');
  }
  if (*p == '.') {
    for (p++; *p == '0'; p++)
      ;
  }
  if (*p != '\0')
    return -1;
  *out = v;
  return 0;
}

/* A project id the format can carry? */
static int id_ok(const char *s, size_t len)
{
  size_t i;

  if (len == 0 || len >= sizeof ((cn_budget_project_t *)0)->id)
    return 0;
  if (s[0] == ' ' || s[0] == '\t' || s[len - 1] == ' ' || s[len - 1] == '\t')
    return 0;
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c == 0x7f || c == ',' || c == ';' || c == '"')
      return 0;
  }
  return 1;
}

/* ---- Parser ---- */

typedef struct fields_t {
  char *buf;                    /* unquoted fields, each NUL-terminated */
  size_t buf_cap;
  char **f;
  size_t n, cap;
} fields_t;

/* The set table: indices into out->sets, by hash of (group, projects). */
typedef struct settab_t {
  uint32_t *idx;                /* per slot: set index + 1, 0 = empty */
  uint64_t *hash;
  size_t cap, n;
} settab_t;

typedef struct parser_t {
  cn_budget_t *out;
  char *err;
  size_t errlen;
  size_t line;
  fields_t fl;
  strtab_t projects;            /* id -> project index */
  strtab_t voters;              /* voter ids seen */
  strtab_t groups;              /* assembly name -> group */
  int fixed_groups;             /* META assemblies given */
  settab_t sets;
  size_t sets_cap;
  uint32_t *vote;               /* scratch: one voter's projects */
  uint64_t n_voters;
} parser_t;

static int perr(parser_t *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int perr(parser_t *ps, const char *fmt, ...)
{
  va_list ap;
  int n = 0;

  if (ps->err && ps->errlen > 0) {
    n = snprintf(ps->err, ps->errlen, "line %zu: ", ps->line);
    if (n >= 0 && (size_t)n < ps->errlen) {
      va_start(ap, fmt);
      vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
      va_end(ap);
    }
  }
  return -1;
}

static int oom(parser_t *ps)
{
  return perr(ps, "out of memory");
}

/* Split the line S (N bytes, no line end) into ps->fl. Return 0 or -1. */
static int split_line(parser_t *ps, const char *s, size_t n)
{
  fields_t *fl = &ps->fl;
  size_t i = 0, o = 0;

  if (fl->buf_cap < 2 * n + 2) {
    char *b = realloc(fl->buf, 2 * n + 2);
    if (!b)
      return oom(ps);
    fl->buf = b;
    fl->buf_cap = 2 * n + 2;
  }
  fl->n = 0;
  for (;;) {
    size_t start;

    if (fl->n == fl->cap) {
      size_t cap = fl->cap ? fl->cap * 2 : 16;
      char **f = realloc(fl->f, cap * sizeof *f);
      if (!f)
        return oom(ps);
      fl->f = f;
      fl->cap = cap;
    }
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
      i++;
    start = o;
    if (i < n && s[i] == '"') {
      for (i++;; i++) {
        if (i >= n)
          return perr(ps, "unterminated quoted field");
        if (s[i] == '"') {
          if (i + 1 < n && s[i + 1] == '"')
            i++;
          else
            break;
        }
        if (s[i] == '\r')
          return perr(ps, "carriage return inside a field");
        fl->buf[o++] = s[i];
      }
      i++;
      while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
      if (i < n && s[i] != ';')
        return perr(ps, "text after a quoted field");
    } else {
      for (; i < n && s[i] != ';'; i++) {
        if (s[i] == '"')
          return perr(ps, "'\"' inside an unquoted field");
        if (s[i] == '\r')
          return perr(ps, "carriage return inside a field");
        fl->buf[o++] = s[i];
      }
      while (o > start && (fl->buf[o - 1] == ' ' || fl->buf[o - 1] == '\t'))
        o--;
    }
    fl->buf[o++] = '\0';
    fl->f[fl->n++] = fl->buf + start;
    if (i >= n)
      break;
    i++;                        /* the ';' */
  }
  return 0;
}

/* Column index of NAME in HDR (N columns), or -1. */
static int column(char **hdr, size_t n, const char *name)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (strcmp(hdr[i], name) == 0)
      return (int)i;
  return -1;
}

/* Keep a copy of the header line's fields in *HDR. Check unique names. */
static int take_header(parser_t *ps, char ***hdr, size_t *n_hdr)
{
  char **h;
  size_t i, j;

  *hdr = NULL;
  *n_hdr = 0;
  h = calloc(ps->fl.n, sizeof *h);
  if (!h)
    return oom(ps);
  for (i = 0; i < ps->fl.n; i++) {
    h[i] = strdup(ps->fl.f[i]);
    if (!h[i]) {
      *hdr = h;
      *n_hdr = i;
      return oom(ps);
    }
  }
  *hdr = h;
  *n_hdr = ps->fl.n;
  for (i = 0; i < ps->fl.n; i++) {
    if (h[i][0] == '\0')
      return perr(ps, "empty column name in header");
    for (j = 0; j < i; j++)
      if (strcmp(h[i], h[j]) == 0)
        return perr(ps, "column \"%s\" twice in header", h[i]);
  }
  return 0;
}

static void free_header(char **hdr, size_t n)
{
  size_t i;

  for (i = 0; hdr && i < n; i++)
    free(hdr[i]);
  free(hdr);
}

/* META assemblies: "name[:weight],...". */
static int parse_assemblies(parser_t *ps, const char *v)
{
  cn_budget_t *b = ps->out;
  const char *p = v;
  int any_weight = 0;
  size_t n = 0;
  double *w = NULL;

  for (;;) {
    const char *e = strchr(p, ','), *colon;
    size_t len = e ? (size_t)(e - p) : strlen(p), nlen;
    double weight = 1;
    uint32_t dummy;
    double *nw;

    while (len > 0 && (*p == ' ' || *p == '\t'))
      p++, len--;
    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
      len--;
    colon = memchr(p, ':', len);
    nlen = colon ? (size_t)(colon - p) : len;
    while (nlen > 0 && (p[nlen - 1] == ' ' || p[nlen - 1] == '\t'))
      nlen--;
    if (nlen == 0) {
      free(w);
      return perr(ps, "assemblies: empty assembly name");
    }
    if (colon) {
      char num[64], *end = NULL;
      size_t wl = len - (size_t)(colon + 1 - p);
      const char *ws = colon + 1;
      while (wl > 0 && (*ws == ' ' || *ws == '\t'))
        ws++, wl--;
      if (wl == 0 || wl >= sizeof num) {
        free(w);
        return perr(ps, "assemblies: bad need weight");
      }
      memcpy(num, ws, wl);
      num[wl] = '\0';
      errno = 0;
      weight = strtod(num, &end);
      if (errno != 0 || !end || *end != '\0' || !(weight >= 0) || isinf(weight)) {
        free(w);
        return perr(ps, "assemblies: bad need weight \"%s\"", num);
      }
      any_weight = 1;
    }
    if (strtab_get(&ps->groups, p, nlen, &dummy)) {
      free(w);
      return perr(ps, "assemblies: \"%.*s\" twice", (int)nlen, p);
    }
    if (n >= UINT32_MAX || strtab_put(&ps->groups, p, nlen, (uint32_t)n) != 0) {
      free(w);
      return oom(ps);
    }
    nw = realloc(w, (n + 1) * sizeof *w);
    if (!nw) {
      free(w);
      return oom(ps);
    }
    w = nw;
    w[n++] = weight;
    if (!e)
      break;
    p = e + 1;
  }
  b->n_groups = n;
  ps->fixed_groups = 1;
  if (any_weight)
    b->group_weight = w;
  else
    free(w);
  return 0;
}

typedef struct meta_t {
  int have_budget, have_vote_type;
  int have_num_projects, have_num_votes;
  uint64_t num_projects, num_votes;
  size_t num_projects_line, num_votes_line;
} meta_t;

static int meta_row(parser_t *ps, meta_t *m, strtab_t *keys)
{
  const char *k, *v;
  uint32_t dummy;

  k = ps->fl.f[0];                /* two fields: the header is key;value */
  v = ps->fl.f[1];
  if (k[0] == '\0')
    return perr(ps, "empty META key");
  if (strtab_get(keys, k, strlen(k), &dummy))
    return perr(ps, "META key \"%s\" twice", k);
  if (strtab_put(keys, k, strlen(k), 0) != 0)
    return oom(ps);
  if (strcmp(k, "budget") == 0) {
    if (parse_amount(v, &ps->out->total) != 0)
      return perr(ps, "bad budget \"%s\" (a whole number up to 2^53)", v);
    m->have_budget = 1;
  } else if (strcmp(k, "vote_type") == 0) {
    if (strcmp(v, "approval") != 0)
      return perr(ps, "vote_type \"%s\" is not supported (only approval)", v);
    m->have_vote_type = 1;
  } else if (strcmp(k, "description") == 0) {
    if (v[0] != '\0' && !(ps->out->description = strdup(v)))
      return oom(ps);
  } else if (strcmp(k, "rule") == 0) {
    if (v[0] != '\0' && strcmp(v, "unknown") != 0 && !(ps->out->rule = strdup(v)))
      return oom(ps);
  } else if (strcmp(k, "num_projects") == 0 || strcmp(k, "num_votes") == 0) {
    int proj = k[4] == 'p';
    uint64_t n;
    if (parse_amount(v, &n) != 0 || strchr(v, '.'))
      return perr(ps, "bad %s \"%s\"", k, v);
    if (proj) {
      m->have_num_projects = 1;
      m->num_projects = n;
      m->num_projects_line = ps->line;
    } else {
      m->have_num_votes = 1;
      m->num_votes = n;
      m->num_votes_line = ps->line;
    }
  } else if (strcmp(k, "assemblies") == 0) {
    return parse_assemblies(ps, v);
  }
  return 0;
}

typedef struct cols_t {
  int id, cost, name, proposer;        /* PROJECTS */
  int voter, vote, assembly;           /* VOTES */
} cols_t;

static int project_row(parser_t *ps, const cols_t *c)
{
  cn_budget_t *b = ps->out;
  cn_budget_project_t *p;
  const char *id = ps->fl.f[c->id], *cost = ps->fl.f[c->cost];
  size_t len = strlen(id);
  uint32_t prev;

  if (!id_ok(id, len))
    return perr(ps, "bad project_id \"%s\" (1 to 63 bytes, no ',', ';', '\"')", id);
  if (strtab_get(&ps->projects, id, len, &prev))
    return perr(ps, "duplicate project_id \"%s\"", id);
  if (b->n_projects >= UINT32_MAX - 1)
    return perr(ps, "too many projects");
  p = realloc(b->projects, (b->n_projects + 1) * sizeof *p);
  if (!p)
    return oom(ps);
  b->projects = p;
  p = &b->projects[b->n_projects];
  memset(p, 0, sizeof *p);
  b->n_projects++;
  memcpy(p->id, id, len + 1);
  if (parse_amount(cost, &p->cost) != 0)
    return perr(ps, "bad cost \"%s\" for project \"%s\" (a whole number up to 2^53)", cost, id);
  if (c->name >= 0 && ps->fl.f[c->name][0] && !(p->name = strdup(ps->fl.f[c->name])))
    return oom(ps);
  if (c->proposer >= 0 && ps->fl.f[c->proposer][0]
      && !(p->proposer = strdup(ps->fl.f[c->proposer])))
    return oom(ps);
  if (strtab_put(&ps->projects, id, len, (uint32_t)(b->n_projects - 1)) != 0)
    return oom(ps);
  return 0;
}

static uint64_t set_hash(uint32_t group, const uint32_t *p, size_t n)
{
  uint64_t h = fnv1a(&group, sizeof group, FNV_OFFSET);

  h = fnv1a(&n, sizeof n, h);
  return fnv1a(p, n * sizeof *p, h);
}

static size_t settab_slot(const parser_t *ps, uint64_t h, uint32_t group, const uint32_t *p,
                          size_t n)
{
  const settab_t *t = &ps->sets;
  size_t i = (size_t)h & (t->cap - 1);

  while (t->idx[i]) {
    const cn_budget_set_t *s = &ps->out->sets[t->idx[i] - 1];
    if (t->hash[i] == h && s->group == group && s->n_projects == n
        && (n == 0 || memcmp(s->projects, p, n * sizeof *p) == 0))
      return i;
    i = (i + 1) & (t->cap - 1);
  }
  return i;
}

/* Add one voter approving P (N, sorted) in GROUP. */
static int add_voter(parser_t *ps, const uint32_t *p, size_t n, uint32_t group)
{
  cn_budget_t *b = ps->out;
  settab_t *t = &ps->sets;
  uint64_t h = set_hash(group, p, n);
  size_t i;

  if ((t->n + 1) * 2 > t->cap) {
    settab_t u;
    size_t j;
    u.cap = t->cap ? t->cap * 2 : 1024;
    u.n = t->n;
    u.idx = calloc(u.cap, sizeof *u.idx);
    u.hash = calloc(u.cap, sizeof *u.hash);
    if (!u.idx || !u.hash) {
      free(u.idx);
      free(u.hash);
      return oom(ps);
    }
    for (j = 0; j < t->cap; j++) {
      size_t k;
      if (!t->idx[j])
        continue;
      for (k = (size_t)t->hash[j] & (u.cap - 1); u.idx[k]; k = (k + 1) & (u.cap - 1))
        ;
      u.idx[k] = t->idx[j];
      u.hash[k] = t->hash[j];
    }
    free(t->idx);
    free(t->hash);
    *t = u;
  }
  i = settab_slot(ps, h, group, p, n);
  if (t->idx[i]) {
    b->sets[t->idx[i] - 1].count++;
    return 0;
  }
  if (b->n_sets >= UINT32_MAX - 1)
    return perr(ps, "too many distinct votes");
  if (b->n_sets == ps->sets_cap) {
    size_t cap = ps->sets_cap ? ps->sets_cap * 2 : 256;
    cn_budget_set_t *s = realloc(b->sets, cap * sizeof *s);
    if (!s)
      return oom(ps);
    b->sets = s;
    ps->sets_cap = cap;
  }
  b->sets[b->n_sets].projects = NULL;
  b->sets[b->n_sets].n_projects = n;
  b->sets[b->n_sets].count = 1;
  b->sets[b->n_sets].group = group;
  if (n > 0) {
    b->sets[b->n_sets].projects = malloc(n * sizeof *p);
    if (!b->sets[b->n_sets].projects)
      return oom(ps);
    memcpy(b->sets[b->n_sets].projects, p, n * sizeof *p);
  }
  b->n_sets++;
  t->idx[i] = (uint32_t)b->n_sets;
  t->hash[i] = h;
  t->n++;
  return 0;
}

static int u32_cmp(const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

  return x < y ? -1 : x > y;
}

static int vote_row(parser_t *ps, const cols_t *c)
{
  cn_budget_t *b = ps->out;
  const char *vid = ps->fl.f[c->voter];
  char *v = ps->fl.f[c->vote];
  uint32_t group = 0, dummy;
  size_t n = 0, i;

  if (vid[0] == '\0')
    return perr(ps, "empty voter_id");
  if (strtab_get(&ps->voters, vid, strlen(vid), &dummy))
    return perr(ps, "duplicate voter_id \"%s\"", vid);
  if (strtab_put(&ps->voters, vid, strlen(vid), 0) != 0)
    return oom(ps);
  if (c->assembly >= 0) {
    const char *a = ps->fl.f[c->assembly];
    size_t len = strlen(a);
    if (len == 0)
      return perr(ps, "empty assembly for voter \"%s\"", vid);
    if (!strtab_get(&ps->groups, a, len, &group)) {
      if (ps->fixed_groups)
        return perr(ps, "assembly \"%s\" is not in META assemblies", a);
      if (b->n_groups >= UINT32_MAX)
        return perr(ps, "too many assemblies");
      group = (uint32_t)b->n_groups;
      if (strtab_put(&ps->groups, a, len, group) != 0)
        return oom(ps);
      b->n_groups++;
    }
  }
  if (v[0] != '\0') {
    for (;;) {
      char *e = strchr(v, ','), *s = v;
      size_t len;
      uint32_t idx;
      if (e)
        *e = '\0';
      while (*s == ' ' || *s == '\t')
        s++;
      len = strlen(s);
      while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
      s[len] = '\0';
      if (len == 0)
        return perr(ps, "empty project id in the vote of \"%s\"", vid);
      if (!strtab_get(&ps->projects, s, len, &idx))
        return perr(ps, "unknown project \"%s\" in the vote of \"%s\"", s, vid);
      if (n >= b->n_projects)
        return perr(ps, "project \"%s\" twice in the vote of \"%s\"", s, vid);
      ps->vote[n++] = idx;
      if (!e)
        break;
      v = e + 1;
    }
  }
  qsort(ps->vote, n, sizeof *ps->vote, u32_cmp);
  for (i = 1; i < n; i++)
    if (ps->vote[i] == ps->vote[i - 1])
      return perr(ps, "project \"%s\" twice in the vote of \"%s\"",
                  b->projects[ps->vote[i]].id, vid);
  ps->n_voters++;
  return add_voter(ps, ps->vote, n, group);
}

enum { SEC_NONE, SEC_META, SEC_PROJECTS, SEC_VOTES };

static int section_of(const parser_t *ps)
{
  static const char *const names[] = {"meta", "projects", "votes"};
  size_t i;

  if (ps->fl.n != 1)
    return SEC_NONE;
  for (i = 0; i < 3; i++)
    if (strcasecmp(ps->fl.f[0], names[i]) == 0)
      return (int)i + SEC_META;
  return SEC_NONE;
}

static const char *section_name(int s)
{
  return s == SEC_META ? "META" : s == SEC_PROJECTS ? "PROJECTS" : "VOTES";
}

/* End of META: the required keys are there. */
static int meta_done(parser_t *ps, const meta_t *m)
{
  if (!m->have_budget)
    return perr(ps, "META has no budget");
  if (!m->have_vote_type)
    return perr(ps, "META has no vote_type");
  return 0;
}

static int parse(parser_t *ps, const char *text, size_t len)
{
  size_t pos = 0;
  int sec = SEC_NONE, want_header = 0, rc = -1;
  char **hdr = NULL;
  size_t n_hdr = 0;
  meta_t m;
  cols_t c;
  strtab_t keys;

  memset(&m, 0, sizeof m);
  memset(&keys, 0, sizeof keys);
  memset(&c, -1, sizeof c);
  if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
    pos = 3;
  if (memchr(text, '\0', len)) {
    const char *z = memchr(text, '\0', len);
    size_t i;
    ps->line = 1;
    for (i = 0; text + i < z; i++)
      if (text[i] == '\n')
        ps->line++;
    return perr(ps, "NUL byte");
  }
  while (pos < len) {
    const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - s) : len - pos, i;
    int ns;

    pos += n + (nl ? 1 : 0);
    ps->line++;
    while (n > 0 && s[n - 1] == '\r')
      n--;
    for (i = 0; i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'); i++)
      ;
    if (i == n)
      continue;
    if (split_line(ps, s, n) != 0)
      goto out;
    ns = want_header ? SEC_NONE : section_of(ps);
    if (ns != SEC_NONE) {
      if (ns != sec + 1) {
        if (ns <= sec)
          perr(ps, "section %s again", section_name(ns));
        else
          perr(ps, "section %s before %s", section_name(ns), section_name(sec + 1));
        goto out;
      }
      if (sec == SEC_META && meta_done(ps, &m) != 0)
        goto out;
      sec = ns;
      want_header = 1;
      continue;
    }
    if (sec == SEC_NONE) {
      perr(ps, "expected META");
      goto out;
    }
    if (want_header) {
      want_header = 0;
      free_header(hdr, n_hdr);
      if (take_header(ps, &hdr, &n_hdr) != 0)
        goto out;
      if (sec == SEC_META) {
        if (n_hdr != 2 || strcmp(hdr[0], "key") != 0 || strcmp(hdr[1], "value") != 0) {
          perr(ps, "META header must be key;value");
          goto out;
        }
      } else if (sec == SEC_PROJECTS) {
        c.id = column(hdr, n_hdr, "project_id");
        c.cost = column(hdr, n_hdr, "cost");
        c.name = column(hdr, n_hdr, "name");
        c.proposer = column(hdr, n_hdr, "proposer");
        if (c.id < 0 || c.cost < 0) {
          perr(ps, "PROJECTS header needs project_id and cost");
          goto out;
        }
      } else {
        c.voter = column(hdr, n_hdr, "voter_id");
        c.vote = column(hdr, n_hdr, "vote");
        c.assembly = column(hdr, n_hdr, "assembly");
        if (c.voter < 0 || c.vote < 0) {
          perr(ps, "VOTES header needs voter_id and vote");
          goto out;
        }
        ps->vote = malloc((ps->out->n_projects + 1) * sizeof *ps->vote);
        if (!ps->vote) {
          oom(ps);
          goto out;
        }
      }
      continue;
    }
    if (ps->fl.n != n_hdr) {
      perr(ps, "%zu fields, the %s header has %zu", ps->fl.n, section_name(sec), n_hdr);
      goto out;
    }
    if (sec == SEC_META ? meta_row(ps, &m, &keys)
        : sec == SEC_PROJECTS ? project_row(ps, &c) : vote_row(ps, &c))
      goto out;
  }
  ps->line++;                   /* errors at the end name the line after the last */
  if (sec < SEC_VOTES || want_header) {
    if (sec == SEC_META && !want_header && meta_done(ps, &m) != 0)
      goto out;
    if (want_header)
      perr(ps, "no header line for %s", section_name(sec));
    else
      perr(ps, "no %s section", section_name(sec + 1));
    goto out;
  }
  if (m.have_num_projects && m.num_projects != ps->out->n_projects) {
    ps->line = m.num_projects_line;
    perr(ps, "num_projects is %llu but PROJECTS has %zu", (unsigned long long)m.num_projects,
         ps->out->n_projects);
    goto out;
  }
  if (m.have_num_votes && m.num_votes != ps->n_voters) {
    ps->line = m.num_votes_line;
    perr(ps, "num_votes is %llu but VOTES has %llu", (unsigned long long)m.num_votes,
         (unsigned long long)ps->n_voters);
    goto out;
  }
  rc = 0;
out:
  free_header(hdr, n_hdr);
  strtab_free(&keys);
  return rc;
}

int cn_pabulib_parse(const char *text, size_t len, cn_budget_t *out, char *err, size_t errlen)
{
  parser_t ps;
  int rc;

  if (err && errlen > 0)
    err[0] = '\0';
  if (!out)
    return -1;
  memset(out, 0, sizeof *out);
  memset(&ps, 0, sizeof ps);
  ps.out = out;
  ps.err = err;
  ps.errlen = errlen;
  if (!text && len > 0)
    return perr(&ps, "no text");
  rc = parse(&ps, text ? text : "", len);
  free(ps.fl.buf);
  free(ps.fl.f);
  strtab_free(&ps.projects);
  strtab_free(&ps.voters);
  strtab_free(&ps.groups);
  free(ps.sets.idx);
  free(ps.sets.hash);
  free(ps.vote);
  if (rc != 0) {
    cn_budget_free(out);
    return -1;
  }
  if (out->n_sets > 0 && out->n_sets < ps.sets_cap) {
    cn_budget_set_t *s = realloc(out->sets, out->n_sets * sizeof *s);
    if (s)
      out->sets = s;
  }
  return 0;
}

/* ---- Writer ---- */

typedef struct sbuf_t {
  char *s;
  size_t len, cap;
  int failed;
} sbuf_t;

static void sb_put(sbuf_t *b, const char *s, size_t n)
{
  if (b->failed)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    char *p;
    while (cap < b->len + n + 1) {
      if (cap > SIZE_MAX / 2) {
        b->failed = 1;
        return;
      }
      cap *= 2;
    }
    p = realloc(b->s, cap);
    if (!p) {
      b->failed = 1;
      return;
    }
    b->s = p;
    b->cap = cap;
  }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

static void sb_str(sbuf_t *b, const char *s)
{
  sb_put(b, s, strlen(s));
}

static void sb_fmt(sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_fmt(sbuf_t *b, const char *fmt, ...)
{
  char tmp[128];
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof tmp)
    b->failed = 1;
  else
    sb_put(b, tmp, (size_t)n);
}

/* A text field: NULL -> empty; quoted when it holds ';' or '"' or starts
 * or ends with a space or tab. Return -1 for a line end or a NUL-free
 * text that cannot be carried. */
static int sb_field(sbuf_t *b, const char *s)
{
  size_t n, i;
  int quote;

  if (!s)
    return 0;
  n = strlen(s);
  if (strpbrk(s, "\r\n"))
    return -1;
  quote = strpbrk(s, ";\"") != NULL
          || (n > 0 && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t'));
  if (!quote) {
    sb_put(b, s, n);
    return 0;
  }
  sb_put(b, "\"", 1);
  for (i = 0; i < n; i++) {
    if (s[i] == '"')
      sb_put(b, "\"", 1);
    sb_put(b, &s[i], 1);
  }
  sb_put(b, "\"", 1);
  return 0;
}

static int id_ptr_cmp(const void *a, const void *b)
{
  const cn_budget_project_t *x = *(const cn_budget_project_t *const *)a;
  const cn_budget_project_t *y = *(const cn_budget_project_t *const *)b;

  return strcmp(x->id, y->id);
}

/* Check B can be written and read back. Return 0 or -1. */
static int write_check(const cn_budget_t *b, uint64_t *n_voters)
{
  const cn_budget_project_t **sorted;
  size_t i, j;
  uint64_t nv = 0;

  if (b->total > PB_MAX_AMOUNT || (b->n_projects > 0 && !b->projects)
      || (b->n_sets > 0 && !b->sets) || (b->group_weight && b->n_groups == 0))
    return -1;
  for (i = 0; i < b->n_projects; i++) {
    const cn_budget_project_t *p = &b->projects[i];
    if (!memchr(p->id, '\0', sizeof p->id) || !id_ok(p->id, strlen(p->id))
        || p->cost > PB_MAX_AMOUNT)
      return -1;
  }
  for (i = 0; i < b->n_groups && b->group_weight; i++)
    if (!(b->group_weight[i] >= 0) || isinf(b->group_weight[i]))
      return -1;
  for (i = 0; i < b->n_sets; i++) {
    const cn_budget_set_t *s = &b->sets[i];
    if ((s->n_projects > 0 && !s->projects) || s->n_projects > b->n_projects
        || (b->n_groups > 0 ? s->group >= b->n_groups : s->group != 0))
      return -1;
    for (j = 0; j < s->n_projects; j++)
      if (s->projects[j] >= b->n_projects || (j > 0 && s->projects[j] <= s->projects[j - 1]))
        return -1;
    if (nv > UINT64_MAX - s->count)
      return -1;
    nv += s->count;
  }
  if (b->n_projects > 1) {
    int dup = 0;
    sorted = malloc(b->n_projects * sizeof *sorted);
    if (!sorted)
      return -1;
    for (i = 0; i < b->n_projects; i++)
      sorted[i] = &b->projects[i];
    qsort(sorted, b->n_projects, sizeof *sorted, id_ptr_cmp);
    for (i = 1; i < b->n_projects; i++)
      if (strcmp(sorted[i]->id, sorted[i - 1]->id) == 0)
        dup = 1;
    free(sorted);
    if (dup)
      return -1;
  }
  *n_voters = nv;
  return 0;
}

int cn_pabulib_write(const cn_budget_t *b, char **out)
{
  sbuf_t sb;
  uint64_t nv = 0, voter = 0, k;
  size_t i, j;
  int bad = 0;

  if (!out)
    return -1;
  *out = NULL;
  if (!b || write_check(b, &nv) != 0)
    return -1;
  memset(&sb, 0, sizeof sb);
  sb_str(&sb, "META\nkey;value\ndescription;");
  bad |= sb_field(&sb, b->description);
  sb_fmt(&sb, "\nnum_projects;%zu\nnum_votes;%llu\nbudget;%llu\n", b->n_projects,
         (unsigned long long)nv, (unsigned long long)b->total);
  sb_str(&sb, "vote_type;approval\nrule;");
  bad |= sb_field(&sb, b->rule ? b->rule : "unknown");
  sb_str(&sb, "\n");
  if (b->n_groups > 0) {
    sb_str(&sb, "assemblies;");
    for (i = 0; i < b->n_groups; i++) {
      sb_fmt(&sb, "%s%zu", i ? "," : "", i);
      if (b->group_weight)
        sb_fmt(&sb, ":%.17g", b->group_weight[i]);
    }
    sb_str(&sb, "\n");
  }
  sb_str(&sb, "PROJECTS\nproject_id;cost;name;proposer\n");
  for (i = 0; i < b->n_projects; i++) {
    const cn_budget_project_t *p = &b->projects[i];
    sb_fmt(&sb, "%s;%llu;", p->id, (unsigned long long)p->cost);
    bad |= sb_field(&sb, p->name);
    sb_str(&sb, ";");
    bad |= sb_field(&sb, p->proposer);
    sb_str(&sb, "\n");
  }
  sb_str(&sb, b->n_groups > 0 ? "VOTES\nvoter_id;vote;assembly\n" : "VOTES\nvoter_id;vote\n");
  for (i = 0; i < b->n_sets && !bad && !sb.failed; i++) {
    const cn_budget_set_t *s = &b->sets[i];
    size_t start = sb.len, line_len;
    /* Write the line once, then copy it with the next voter id. */
    sb_str(&sb, ";");
    for (j = 0; j < s->n_projects; j++) {
      if (j)
        sb_str(&sb, ",");
      sb_str(&sb, b->projects[s->projects[j]].id);
    }
    if (b->n_groups > 0)
      sb_fmt(&sb, ";%u", (unsigned)s->group);
    sb_str(&sb, "\n");
    if (sb.failed)
      break;
    line_len = sb.len - start;
    {
      char *line = malloc(line_len);
      if (!line) {
        sb.failed = 1;
        break;
      }
      memcpy(line, sb.s + start, line_len);
      sb.len = start;
      for (k = 0; k < s->count && !sb.failed; k++) {
        sb_fmt(&sb, "v%llu", (unsigned long long)++voter);
        sb_put(&sb, line, line_len);
      }
      free(line);
    }
  }
  if (bad || sb.failed || !sb.s) {
    free(sb.s);
    return -1;
  }
  *out = sb.s;
  return 0;
}
