#!/bin/sh
# Run councild under valgrind (for make check-valgrind): every error or
# leak makes councild exit 99, which the tests see when they stop it.
exec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
  --show-leak-kinds=definite,indirect "${CN_COUNCILD_REAL:?}" "$@"
