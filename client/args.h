/* args.h: parsing of command-line values. Pure functions, no I/O, so the
 * fuzz harness for CLI arguments can drive them directly. */
#ifndef CN_CLIENT_ARGS_H
#define CN_CLIENT_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include "councilnet.pb-c.h"

/* A list of malloc'd strings. Zero-initialise before use. */
typedef struct cn_args_list_t {
  char **items;
  size_t n;
} cn_args_list_t;

/* Append the comma-separated items of CSV to L ("a,b" adds two). Empty
 * items are refused. Return 0, or -1 (L unchanged on a bad item, partly
 * grown only on allocation failure). */
int cn_args_list_add(cn_args_list_t *l, const char *csv);

/* Free the items of L and reset it. Accepts NULL. */
void cn_args_list_clear(cn_args_list_t *l);

/* Parse a decimal unsigned integer (digits only, no sign, no spaces). Return 0 or -1. */
int cn_args_parse_u64(const char *s, uint64_t *out);

/* Parse a time: "now" (= NOW) or seconds since the Unix epoch. Return 0 or -1. */
int cn_args_parse_time(const char *s, uint64_t now, uint64_t *out);

/* Parse a percentage "0".."100" with optional decimals and optional '%'
 * ("66.7", "50%") into thousandths, rounded half up. Return 0 or -1. */
int cn_args_parse_percent(const char *s, uint32_t *permille);

/* Parse "majority", "two-thirds" (or "two_thirds", "2/3"), "unanimity",
 * "plurality". Return 0 or -1. */
int cn_args_parse_threshold(const char *s, Councilnet__Threshold *out);

/* Return the command-line name of T ("two-thirds"), "?" if unknown. */
const char *cn_args_threshold_name(Councilnet__Threshold t);

/* Parse 64 hex digits into 32 bytes (a public key or a record id). Return 0 or -1. */
int cn_args_parse_hex32(const char *s, uint8_t out[32]);

/* Parse an options spec: "yes-no", "one-of:A,B,C" or "approval:A,B,C".
 * OUT_NAMES receives the option names (empty for yes-no; duplicates
 * refused). Return 0, or -1 with a reason in *WHY. */
int cn_args_parse_options(const char *spec, Councilnet__OptionKind *kind,
                          cn_args_list_t *out_names, const char **why);

/* Parse "GROUP:PERCENT" (split at the last ':'). OUT: *GROUP malloc'd,
 * caller frees. Return 0, or -1 with a reason in *WHY. */
int cn_args_parse_group_quorum(const char *s, char **group, uint32_t *permille,
                               const char **why);

/* Resolve CHOICE against the option NAMES (N of them): an exact name, else
 * a unique case-insensitive name, else a decimal index below N. Return 0 or -1. */
int cn_args_parse_choice(const char *choice, const char *const *names, size_t n,
                         uint32_t *out);

/* Parse "KEY[:NAME]": 64 hex digits, optionally followed by ':' and a
 * non-empty name. OUT: *NAME malloc'd (NULL if none), caller frees.
 * Return 0, or -1 with a reason in *WHY. */
int cn_args_parse_candidate(const char *s, uint8_t key[32], char **name, const char **why);

/* Parse "GROUP:N" (split at the last ':'), N a seat count from 1 to MAX.
 * OUT: *GROUP malloc'd, caller frees. Return 0, or -1 with a reason in *WHY. */
int cn_args_parse_quota(const char *s, uint32_t max, char **group, uint32_t *seats,
                        const char **why);

/* One mandate instruction from the command line. Zero-initialise before use. */
typedef struct cn_args_instruction_t {
  uint8_t decision[32];           /* proposal id of the local decision */
  uint8_t parent_proposal[32];    /* valid when has_parent_proposal */
  int has_parent_proposal;
  char *project;                  /* malloc'd budget project, or NULL */
  char *position;                 /* malloc'd free-text position, or NULL */
  int has_round;                  /* project proposed for a parent's budget round: */
  uint8_t round[32];              /*   round=ID */
  uint64_t cost;                  /*   cost=N */
  char *title;                    /*   title=TEXT (malloc'd, or NULL: the project id) */
  int binding;
  uint32_t *choices;              /* malloc'd, binding choices */
  size_t n_choices;
} cn_args_instruction_t;

/* Parse an instruction SPEC: a comma list of decision=PROPOSAL_ID, exactly
 * one of parent-proposal=ID, project=NAME or position=TEXT, then binding or
 * discretionary (default), and for binding choice=N (repeatable; at least
 * one with parent-proposal). With project=ID, round=ROUND_ID cost=N and an
 * optional title=TEXT propose the project for the parent's budget round.
 * A comma inside a value is written "\,".
 * Return 0, or -1 with a reason in *WHY (OUT then holds nothing to free). */
int cn_args_parse_instruction(const char *spec, cn_args_instruction_t *out, const char **why);

/* Free what cn_args_parse_instruction() allocated and reset IN. Accepts NULL. */
void cn_args_instruction_clear(cn_args_instruction_t *in);

#endif
