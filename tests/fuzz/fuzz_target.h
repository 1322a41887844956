// What every libFuzzer target shares (tests/fuzz/): the one outcome besides success that a parser may
// have is a y26::Error naming the input; a crash, a sanitizer report, a leak, a hang or an allocation past
// -rss_limit_mb is a bug. scripts/test-fuzz.sh builds each with ASan + UBSan and runs it from its corpus.
#pragma once

#include <cstddef>
#include <cstdint>

#include "y26/y26.h"

template <class F>
int fuzz_one(F&& parse) {
  try {
    parse();
  } catch (const y26::Error&) {
  }
  return 0;
}
