/* contrib.c: a decision's contributions, inline or in records of their
 * own (see contrib.h). */
#include "contrib.h"

#include <stdlib.h>
#include <string.h>

/* Equal byte fields. */
static int same_bytes(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b)
{
  return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* Why part K of decision D, P as fetched, is not the part D names; NULL
 * if it is. */
static const char *part_mismatch(const Councilnet__Decision *d, size_t k,
                                 const Councilnet__DecisionContributions *p)
{
  if (!same_bytes(&p->node, &d->node))
    return "names another node than the decision";
  if (!same_bytes(&p->proposal, &d->proposal))
    return "is about another proposal";
  if (p->created != d->created)
    return "was made at another time than the decision";
  if (p->part != k || p->parts != d->n_contribution_records)
    return "is another part than the one the decision names there";
  if (p->n_contributions == 0)
    return "holds no council ballot (the node makes no empty part)";
  return NULL;
}

int cn_contrib_gather(cn_cli_t *cli, const Councilnet__Decision *d, cn_contrib_t *out)
{
  size_t total = 0, k;
  int rc = -1;

  memset(out, 0, sizeof *out);
  out->records = d->n_contribution_records;
  if (out->records == 0) {
    out->items = (const Councilnet__Contribution *const *)d->contributions;
    out->n = d->n_contributions;
    out->complete = 1;
    return 0;
  }
  if (d->n_contributions) {
    /* older clients would show the inline list, newer ones the parts */
    snprintf(out->error, sizeof out->error, "the decision lists council ballots inline as well "
             "as in %zu parts (the node makes one or the other); none are shown", out->records);
    return -1;
  }
  out->parts_ = calloc(out->records, sizeof *out->parts_);
  if (!out->parts_) {
    snprintf(out->error, sizeof out->error, "out of memory");
    return -1;
  }
  for (k = 0; k < out->records; k++) {
    const ProtobufCBinaryData *id = &d->contribution_records[k];
    Councilnet__DecisionContributions *p = NULL;
    const char *why = NULL;
    char hex[2 * CN_HASH_BYTES + 1];

    cn_cli_hex(hex, sizeof hex, id, CN_HASH_BYTES);
    if (id->len != CN_HASH_BYTES)
      why = "is named by a malformed record id";
    else if (cn_cli_get_record(cli, id->data, "contributions",
                               &councilnet__decision_contributions__descriptor,
                               (ProtobufCMessage **)&p, NULL) != CN_EXIT_OK)
      why = "cannot be fetched, or is not a contributions record signed by the node";
    else
      why = part_mismatch(d, k, p);
    if (why) {
      snprintf(out->error, sizeof out->error, "part %zu of %zu (record %s) %s; only the "
               "ballots of the parts before it are shown", k + 1, out->records, hex, why);
      if (p)
        councilnet__decision_contributions__free_unpacked(p, NULL);
      goto gather;
    }
    out->parts_[out->n_parts_++] = p;
  }
  rc = 0;
gather:
  /* the parts that checked, in order, as one list */
  if (out->n_parts_ == 0)
    return rc;
  for (k = 0; k < out->n_parts_; k++)
    total += out->parts_[k]->n_contributions;
  out->all_ = calloc(total ? total : 1, sizeof *out->all_);
  if (!out->all_) {
    snprintf(out->error, sizeof out->error, "out of memory");
    return -1;
  }
  for (k = 0; k < out->n_parts_; k++)
    for (size_t i = 0; i < out->parts_[k]->n_contributions; i++)
      out->all_[out->n++] = out->parts_[k]->contributions[i];
  out->items = out->all_;
  out->complete = rc == 0;
  return rc;
}

void cn_contrib_clear(cn_contrib_t *c)
{
  if (!c)
    return;
  for (size_t k = 0; k < c->n_parts_; k++)
    councilnet__decision_contributions__free_unpacked(c->parts_[k], NULL);
  free(c->parts_);
  free(c->all_);
  memset(c, 0, sizeof *c);
}
