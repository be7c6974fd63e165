/* pbjson.h: one generic protobuf-c message -> JSON mapping, driven by the
 * message descriptors (no per-message code).
 *
 * Mapping: field names as in the .proto; bytes as lower-case hex strings;
 * enums as their names ("TWO_THIRDS"); 64-bit integers as JSON numbers;
 * repeated fields as arrays; unset optional sub-messages omitted; proto3
 * scalars always written (defaults included), so output is predictable. */
#ifndef COUNCILNET_PBJSON_H
#define COUNCILNET_PBJSON_H

#include <protobuf-c/protobuf-c.h>

/* Return M as JSON text (malloc'd, NUL-terminated, caller frees), or NULL on
 * allocation failure. PRETTY != 0 indents with two spaces and ends with a newline. */
char *cn_pbjson_encode(const ProtobufCMessage *m, int pretty);

/* Return the NUL-terminated text S (NULL: "") as a quoted JSON string,
 * escaped as message strings are (controls, DEL and C1 as \u00XX, invalid
 * UTF-8 as U+FFFD): malloc'd, caller frees; NULL on allocation failure. */
char *cn_pbjson_string(const char *s);

#endif
