/* pbjson.c: one generic protobuf-c message -> JSON encoder. It walks the
 * message descriptor, so every message of every .proto is covered without
 * per-message code.
 *
 * Field order is descriptor order (ascending field number). Presence:
 *  - proto3 singular scalars, strings and bytes (PROTOBUF_C_LABEL_NONE) and
 *    proto2 required fields are always written;
 *  - proto2/proto3 `optional` fields are written when their has_ flag is set
 *    (strings: when the pointer is neither NULL nor the default);
 *  - oneof members are written only when the oneof's case names them;
 *  - a NULL sub-message is omitted.
 * Values: integers (64-bit too) and finite floats as JSON numbers, NaN and
 * infinities as the strings "NaN", "Infinity", "-Infinity" (as the proto3
 * JSON mapping does), bools as true/false, enums as their value names (the
 * number if the value is unknown), bytes as lower-case hex strings, strings
 * escaped per RFC 8259 with valid UTF-8 passed through and each byte of an
 * invalid sequence replaced by \ufffd, so the output is always valid JSON.
 * Numbers are formatted with snprintf in the C locale (nothing in Councilnet
 * calls setlocale). */
#include "councilnet/pbjson.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growable NUL-terminated text buffer. */
typedef struct pbjson_buf_t {
  char *data;
  size_t len;
  size_t cap;
} pbjson_buf_t;

/* Make room for MORE bytes plus the NUL. Return 0 or -1 on allocation failure. */
static int pbjson_buf_reserve(pbjson_buf_t *b, size_t more)
{
  size_t need, cap;
  char *p;

  if (more > SIZE_MAX - 1 - b->len)
    return -1;
  need = b->len + more + 1;
  if (need <= b->cap)
    return 0;
  cap = b->cap ? b->cap : 256;
  while (cap < need) {
    if (cap > SIZE_MAX / 2) {
      cap = need;
      break;
    }
    cap *= 2;
  }
  p = realloc(b->data, cap);
  if (!p)
    return -1;
  b->data = p;
  b->cap = cap;
  return 0;
}

/* Append N bytes of S. Return 0 or -1. */
static int pbjson_buf_append(pbjson_buf_t *b, const char *s, size_t n)
{
  if (pbjson_buf_reserve(b, n) < 0)
    return -1;
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

/* Append the NUL-terminated S. Return 0 or -1. */
static int pbjson_buf_puts(pbjson_buf_t *b, const char *s)
{
  return pbjson_buf_append(b, s, strlen(s));
}

/* In pretty mode, start a new line indented for nesting DEPTH. Return 0 or -1. */
static int pbjson_newline(pbjson_buf_t *b, int pretty, unsigned depth)
{
  unsigned i;

  if (!pretty)
    return 0;
  if (pbjson_buf_append(b, "\n", 1) < 0)
    return -1;
  for (i = 0; i < depth; i++)
    if (pbjson_buf_append(b, "  ", 2) < 0)
      return -1;
  return 0;
}

/* Return the length of the valid UTF-8 sequence starting at S (at most
 * AVAIL bytes, first byte >= 0x80), or 0 if it is not valid: no overlongs,
 * no surrogates, nothing above U+10FFFF. */
static size_t pbjson_utf8_len(const unsigned char *s, size_t avail)
{
  unsigned char lo = 0x80, hi = 0xbf;
  size_t n, i;

  if (s[0] >= 0xc2 && s[0] <= 0xdf) {
    n = 2;
  } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
    n = 3;
    if (s[0] == 0xe0)
      lo = 0xa0;
    else if (s[0] == 0xed)
      hi = 0x9f;
  } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
    n = 4;
    if (s[0] == 0xf0)
      lo = 0x90;
    else if (s[0] == 0xf4)
      hi = 0x8f;
  } else {
    return 0;
  }
  if (avail < n)
    return 0;
  if (s[1] < lo || s[1] > hi)
    return 0;
  for (i = 2; i < n; i++)
    if (s[i] < 0x80 || s[i] > 0xbf)
      return 0;
  return n;
}

/* Append the N bytes at S as a quoted JSON string. Return 0 or -1. */
static int pbjson_write_string(pbjson_buf_t *b, const char *s, size_t n)
{
  static const char hex[] = "0123456789abcdef";
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0, run;
  char esc[8];

  if (pbjson_buf_append(b, "\"", 1) < 0)
    return -1;
  while (i < n) {
    /* Copy the longest run of bytes that need no escaping in one go. */
    run = 0;
    while (i + run < n && u[i + run] >= 0x20 && u[i + run] < 0x7f &&
           u[i + run] != '"' && u[i + run] != '\\')
      run++;
    if (run > 0) {
      if (pbjson_buf_append(b, s + i, run) < 0)
        return -1;
      i += run;
      continue;
    }
    if (u[i] >= 0x80) {
      run = pbjson_utf8_len(u + i, n - i);
      if (run == 2 && u[i] == 0xc2 && u[i + 1] <= 0x9f) {
        /* U+0080..U+009F, the C1 controls: escaped like the C0 ones, so
         * no JSON answer carries a byte that drives a terminal */
        memcpy(esc, "\\u00", 4);
        esc[4] = hex[u[i + 1] >> 4];
        esc[5] = hex[u[i + 1] & 0xf];
        esc[6] = '\0';
        if (pbjson_buf_puts(b, esc) < 0)
          return -1;
        i += 2;
        continue;
      }
      if (run > 0) {
        if (pbjson_buf_append(b, s + i, run) < 0)
          return -1;
        i += run;
      } else {
        if (pbjson_buf_puts(b, "\\ufffd") < 0)
          return -1;
        i++;
      }
      continue;
    }
    switch (u[i]) {
    case '"': memcpy(esc, "\\\"", 3); break;
    case '\\': memcpy(esc, "\\\\", 3); break;
    case '\b': memcpy(esc, "\\b", 3); break;
    case '\f': memcpy(esc, "\\f", 3); break;
    case '\n': memcpy(esc, "\\n", 3); break;
    case '\r': memcpy(esc, "\\r", 3); break;
    case '\t': memcpy(esc, "\\t", 3); break;
    default:
      memcpy(esc, "\\u00", 4);
      esc[4] = hex[u[i] >> 4];
      esc[5] = hex[u[i] & 0xf];
      esc[6] = '\0';
      break;
    }
    if (pbjson_buf_puts(b, esc) < 0)
      return -1;
    i++;
  }
  return pbjson_buf_append(b, "\"", 1);
}

/* Append the LEN bytes at DATA as a quoted lower-case hex string. Return 0 or -1. */
static int pbjson_write_hex(pbjson_buf_t *b, const uint8_t *data, size_t len)
{
  static const char hex[] = "0123456789abcdef";
  size_t i;
  char *p;

  if (len > (SIZE_MAX - 3) / 2 || pbjson_buf_reserve(b, 2 * len + 2) < 0)
    return -1;
  p = b->data + b->len;
  *p++ = '"';
  for (i = 0; i < len; i++) {
    *p++ = hex[data[i] >> 4];
    *p++ = hex[data[i] & 0xf];
  }
  *p++ = '"';
  *p = '\0';
  b->len += 2 * len + 2;
  return 0;
}

/* Append V (of float precision if IS_FLOAT) as the shortest decimal that
 * reads back to the same value; non-finite values as strings. Return 0 or -1. */
static int pbjson_write_double(pbjson_buf_t *b, double v, int is_float)
{
  char tmp[40];
  int prec, max = is_float ? 9 : 17;

  if (isnan(v))
    return pbjson_buf_puts(b, "\"NaN\"");
  if (isinf(v))
    return pbjson_buf_puts(b, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  for (prec = 1; prec <= max; prec++) {
    snprintf(tmp, sizeof tmp, "%.*g", prec, v);
    if (is_float ? (float)strtod(tmp, NULL) == (float)v : strtod(tmp, NULL) == v)
      break;
  }
  return pbjson_buf_puts(b, tmp);
}

/* Return the size of one element of a repeated field of TYPE in its C array. */
static size_t pbjson_elem_size(ProtobufCType type)
{
  switch (type) {
  case PROTOBUF_C_TYPE_INT32:
  case PROTOBUF_C_TYPE_SINT32:
  case PROTOBUF_C_TYPE_SFIXED32:
  case PROTOBUF_C_TYPE_UINT32:
  case PROTOBUF_C_TYPE_FIXED32:
  case PROTOBUF_C_TYPE_ENUM: return sizeof(int32_t);
  case PROTOBUF_C_TYPE_INT64:
  case PROTOBUF_C_TYPE_SINT64:
  case PROTOBUF_C_TYPE_SFIXED64:
  case PROTOBUF_C_TYPE_UINT64:
  case PROTOBUF_C_TYPE_FIXED64: return sizeof(uint64_t);
  case PROTOBUF_C_TYPE_FLOAT: return sizeof(float);
  case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
  case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
  case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
  case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
  case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
  default: return 0;
  }
}

static int pbjson_write_message(pbjson_buf_t *b, const ProtobufCMessage *m,
                                int pretty, unsigned depth);

/* Append the single value of field F stored at V. Return 0 or -1. */
static int pbjson_write_value(pbjson_buf_t *b, const ProtobufCFieldDescriptor *f,
                              const void *v, int pretty, unsigned depth)
{
  char tmp[32];
  int32_t i32;
  uint32_t u32;
  int64_t i64;
  uint64_t u64;
  float fl;
  double db;
  protobuf_c_boolean bo;
  const char *str;
  const ProtobufCMessage *sub;
  const ProtobufCEnumValue *ev;
  ProtobufCBinaryData bin;

  switch (f->type) {
  case PROTOBUF_C_TYPE_INT32:
  case PROTOBUF_C_TYPE_SINT32:
  case PROTOBUF_C_TYPE_SFIXED32:
    memcpy(&i32, v, sizeof i32);
    snprintf(tmp, sizeof tmp, "%" PRId32, i32);
    return pbjson_buf_puts(b, tmp);
  case PROTOBUF_C_TYPE_UINT32:
  case PROTOBUF_C_TYPE_FIXED32:
    memcpy(&u32, v, sizeof u32);
    snprintf(tmp, sizeof tmp, "%" PRIu32, u32);
    return pbjson_buf_puts(b, tmp);
  case PROTOBUF_C_TYPE_INT64:
  case PROTOBUF_C_TYPE_SINT64:
  case PROTOBUF_C_TYPE_SFIXED64:
    memcpy(&i64, v, sizeof i64);
    snprintf(tmp, sizeof tmp, "%" PRId64, i64);
    return pbjson_buf_puts(b, tmp);
  case PROTOBUF_C_TYPE_UINT64:
  case PROTOBUF_C_TYPE_FIXED64:
    memcpy(&u64, v, sizeof u64);
    snprintf(tmp, sizeof tmp, "%" PRIu64, u64);
    return pbjson_buf_puts(b, tmp);
  case PROTOBUF_C_TYPE_FLOAT:
    memcpy(&fl, v, sizeof fl);
    return pbjson_write_double(b, fl, 1);
  case PROTOBUF_C_TYPE_DOUBLE:
    memcpy(&db, v, sizeof db);
    return pbjson_write_double(b, db, 0);
  case PROTOBUF_C_TYPE_BOOL:
    memcpy(&bo, v, sizeof bo);
    return pbjson_buf_puts(b, bo ? "true" : "false");
  case PROTOBUF_C_TYPE_ENUM:
    memcpy(&i32, v, sizeof i32);
    ev = f->descriptor ? protobuf_c_enum_descriptor_get_value(f->descriptor, i32) : NULL;
    if (ev && ev->name)
      return pbjson_write_string(b, ev->name, strlen(ev->name));
    snprintf(tmp, sizeof tmp, "%" PRId32, i32);
    return pbjson_buf_puts(b, tmp);
  case PROTOBUF_C_TYPE_STRING:
    memcpy(&str, v, sizeof str);
    if (!str)
      str = "";
    return pbjson_write_string(b, str, strlen(str));
  case PROTOBUF_C_TYPE_BYTES:
    memcpy(&bin, v, sizeof bin);
    if (!bin.data)
      bin.len = 0;
    return pbjson_write_hex(b, bin.data, bin.len);
  case PROTOBUF_C_TYPE_MESSAGE:
    memcpy(&sub, v, sizeof sub);
    if (!sub)
      return pbjson_buf_puts(b, "null");
    return pbjson_write_message(b, sub, pretty, depth);
  default:
    return pbjson_buf_puts(b, "null");
  }
}

/* Return 1 if the singular (non-repeated) field F of M is to be written, 0 if not. */
static int pbjson_field_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
  const uint8_t *base = (const uint8_t *)m;
  const void *ptr;
  uint32_t which;
  protobuf_c_boolean has;

  if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
    memcpy(&which, base + f->quantifier_offset, sizeof which);
    if (which != f->id)
      return 0;
  }
  if (f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING) {
    memcpy(&ptr, base + f->offset, sizeof ptr);
    if (f->type == PROTOBUF_C_TYPE_MESSAGE)
      return ptr != NULL;
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL && !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
      return ptr != NULL && ptr != f->default_value;
    return 1;
  }
  if (f->label == PROTOBUF_C_LABEL_OPTIONAL && !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)) {
    memcpy(&has, base + f->quantifier_offset, sizeof has);
    return has != 0;
  }
  return 1;
}

/* Append field F of M (an array for a repeated field) at nesting DEPTH.
 * Return 0 or -1. */
static int pbjson_write_field(pbjson_buf_t *b, const ProtobufCMessage *m,
                              const ProtobufCFieldDescriptor *f, int pretty, unsigned depth)
{
  const uint8_t *base = (const uint8_t *)m;
  const uint8_t *arr;
  size_t n, i, size;

  if (f->label != PROTOBUF_C_LABEL_REPEATED)
    return pbjson_write_value(b, f, base + f->offset, pretty, depth);

  memcpy(&n, base + f->quantifier_offset, sizeof n);
  memcpy(&arr, base + f->offset, sizeof arr);
  size = pbjson_elem_size(f->type);
  if (n == 0 || !arr || size == 0)
    return pbjson_buf_puts(b, "[]");
  if (pbjson_buf_append(b, "[", 1) < 0)
    return -1;
  for (i = 0; i < n; i++) {
    if (i > 0 && pbjson_buf_append(b, ",", 1) < 0)
      return -1;
    if (pbjson_newline(b, pretty, depth + 1) < 0)
      return -1;
    if (pbjson_write_value(b, f, arr + i * size, pretty, depth + 1) < 0)
      return -1;
  }
  if (pbjson_newline(b, pretty, depth) < 0)
    return -1;
  return pbjson_buf_append(b, "]", 1);
}

/* Append M as a JSON object whose closing brace sits at nesting DEPTH.
 * Return 0 or -1. */
static int pbjson_write_message(pbjson_buf_t *b, const ProtobufCMessage *m,
                                int pretty, unsigned depth)
{
  const ProtobufCMessageDescriptor *d = m->descriptor;
  const ProtobufCFieldDescriptor *f;
  unsigned i, written = 0;

  if (pbjson_buf_append(b, "{", 1) < 0)
    return -1;
  for (i = 0; d && i < d->n_fields; i++) {
    f = &d->fields[i];
    if (f->label != PROTOBUF_C_LABEL_REPEATED && !pbjson_field_present(m, f))
      continue;
    if (written > 0 && pbjson_buf_append(b, ",", 1) < 0)
      return -1;
    if (pbjson_newline(b, pretty, depth + 1) < 0)
      return -1;
    if (pbjson_write_string(b, f->name, strlen(f->name)) < 0)
      return -1;
    if (pbjson_buf_puts(b, pretty ? ": " : ":") < 0)
      return -1;
    if (pbjson_write_field(b, m, f, pretty, depth + 1) < 0)
      return -1;
    written++;
  }
  if (written > 0 && pbjson_newline(b, pretty, depth) < 0)
    return -1;
  return pbjson_buf_append(b, "}", 1);
}

char *cn_pbjson_encode(const ProtobufCMessage *m, int pretty)
{
  pbjson_buf_t b = { NULL, 0, 0 };
  char *result = NULL;

  if (!m || !m->descriptor)
    goto out;
  if (pbjson_write_message(&b, m, pretty, 0) < 0)
    goto out;
  if (pretty && pbjson_buf_append(&b, "\n", 1) < 0)
    goto out;
  result = b.data;
  b.data = NULL;
out:
  free(b.data);
  return result;
}

char *cn_pbjson_string(const char *s)
{
  pbjson_buf_t b = { NULL, 0, 0 };

  if (!s)
    s = "";
  if (pbjson_write_string(&b, s, strlen(s)) < 0) {
    free(b.data);
    return NULL;
  }
  return b.data;
}
