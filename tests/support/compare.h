// Numerical comparison helpers for golden parity tests.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace y26::test {

// ||a - b|| / ||b|| over all elements; infinity if any value is NaN or b is all zero.
inline double relative_error(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) || std::isnan(b[i])) return INFINITY;
    const double d = static_cast<double>(a[i]) - b[i];
    num += d * d;
    den += static_cast<double>(b[i]) * b[i];
  }
  return den > 0 ? std::sqrt(num / den) : INFINITY;
}

}  // namespace y26::test
