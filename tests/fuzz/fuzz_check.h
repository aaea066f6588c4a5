#pragma once
// Shared by the fuzz targets: a broken invariant is a crash, with the condition that failed.
#include <cstdio>

#define FUZZ_CHECK(ok)                                                            \
  do {                                                                            \
    if (!(ok)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #ok); \
      __builtin_trap();                                                           \
    }                                                                             \
  } while (0)
