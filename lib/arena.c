/* arena.c: see arena.h. Blocks of at least 16 KiB, chained. */
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

#define ARENA_BLOCK 16384

struct block {
  struct block *next;
  size_t used, size;
  alignas(max_align_t) unsigned char data[];
};

struct cn_arena_t {
  struct block *head;
};

cn_arena_t *cn_arena_new(void)
{
  return calloc(1, sizeof(cn_arena_t));
}

void cn_arena_free(cn_arena_t *a)
{
  if (!a)
    return;
  while (a->head) {
    struct block *next = a->head->next;
    free(a->head);
    a->head = next;
  }
  free(a);
}

void *cn_arena_alloc(cn_arena_t *a, size_t n)
{
  const size_t align = alignof(max_align_t);
  struct block *b = a->head;
  void *p;

  if (n > SIZE_MAX / 2)
    return NULL;
  n = (n + align - 1) / align * align;
  if (n == 0)
    n = align;
  if (!b || b->size - b->used < n) {
    size_t size = n > ARENA_BLOCK ? n : ARENA_BLOCK;
    b = malloc(sizeof *b + size);
    if (!b)
      return NULL;
    b->used = 0;
    b->size = size;
    b->next = a->head;
    a->head = b;
  }
  p = b->data + b->used;
  b->used += n;
  memset(p, 0, n);
  return p;
}

void *cn_arena_memdup(cn_arena_t *a, const void *p, size_t n)
{
  void *c = cn_arena_alloc(a, n);
  if (c && n)
    memcpy(c, p, n);
  return c;
}

char *cn_arena_strdup(cn_arena_t *a, const char *s)
{
  return cn_arena_memdup(a, s ? s : "", strlen(s ? s : "") + 1);
}
