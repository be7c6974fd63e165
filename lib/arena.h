/* arena.h: a bump allocator for building one answer's message tree; all of
 * it is freed at once. */
#ifndef CN_ARENA_H
#define CN_ARENA_H

#include <stddef.h>

typedef struct cn_arena_t cn_arena_t;

cn_arena_t *cn_arena_new(void);
void cn_arena_free(cn_arena_t *a);                  /* accepts NULL */
/* Zeroed, max-aligned memory, or NULL. */
void *cn_arena_alloc(cn_arena_t *a, size_t n);
void *cn_arena_memdup(cn_arena_t *a, const void *p, size_t n);
char *cn_arena_strdup(cn_arena_t *a, const char *s);

#endif
