/* fuzz_replay.c: main() for the corpus replay executables, linked with one
 * harness instead of libFuzzer: feeds every file under the paths given on
 * the command line (folders are read one level deep, in name order) to
 * LLVMFuzzerTestOneInput. So the normal build and `make test` run each
 * checked-in corpus, and a crash file found by the fuzzer reproduces with
 * any compiler:  fuzz_replay_<harness> crash-<sha1>
 *
 * Exit 0 after at least one input, 1 if no input was found or a file could
 * not be read; a finding crashes (abort, or a sanitizer report in a
 * sanitizer build). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int name_cmp(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Feed the file at PATH. Return 0 or -1. */
static int run_file(const char *path)
{
  FILE *f = fopen(path, "rb");
  uint8_t *buf = NULL;
  long len;
  int rc = -1;

  if (!f) {
    perror(path);
    return -1;
  }
  if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
    goto out;
  /* A copy of exactly LEN bytes, so ASan sees any read past the input. */
  buf = malloc(len ? (size_t)len : 1);
  if (!buf || (len && fread(buf, 1, (size_t)len, f) != (size_t)len))
    goto out;
  LLVMFuzzerTestOneInput(buf, (size_t)len);
  rc = 0;
out:
  if (rc != 0)
    fprintf(stderr, "%s: cannot read\n", path);
  free(buf);
  fclose(f);
  return rc;
}

/* Feed PATH, or every regular file in it if it is a folder. Return the
 * number of inputs run, or -1. */
static long run_path(const char *path)
{
  struct stat st;
  DIR *d;
  struct dirent *e;
  char **names = NULL;
  size_t n = 0, cap = 0;
  long done = 0;

  if (stat(path, &st) != 0) {
    perror(path);
    return -1;
  }
  if (!S_ISDIR(st.st_mode))
    return run_file(path) == 0 ? 1 : -1;
  d = opendir(path);
  if (!d) {
    perror(path);
    return -1;
  }
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    if (n == cap) {
      char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof *names);
      if (!nn)
        break;
      names = nn;
    }
    names[n] = malloc(strlen(path) + strlen(e->d_name) + 2);
    if (!names[n])
      break;
    sprintf(names[n], "%s/%s", path, e->d_name);
    n++;
  }
  closedir(d);
  if (n)
    qsort(names, n, sizeof *names, name_cmp);
  for (size_t i = 0; i < n; i++) {
    if (done >= 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
      done = run_file(names[i]) == 0 ? done + 1 : -1;
    free(names[i]);
  }
  free(names);
  return done;
}

int main(int argc, char **argv)
{
  long total = 0;

  if (argc < 2) {
    fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
    return 2;
  }
  for (int i = 1; i < argc; i++) {
    long n = run_path(argv[i]);
    if (n < 0)
      return 1;
    total += n;
  }
  printf("%s: %ld inputs replayed\n", argv[0], total);
  return total > 0 ? 0 : 1;
}
