// FP16 conversions must round exactly like the GPU (__float2half_rn).
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "common/half.h"

using namespace y26;

TEST_CASE("every finite half survives a round trip through float", "[half]") {
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    const auto bits = static_cast<std::uint16_t>(h);
    const bool nan = (bits & 0x7c00) == 0x7c00 && (bits & 0x3ff) != 0;
    if (nan) {
      REQUIRE(std::isnan(half_to_float(bits)));
      continue;
    }
    REQUIRE(float_to_half(half_to_float(bits)) == bits);
  }
}

TEST_CASE("float to half rounds to nearest even", "[half]") {
  CHECK(half_to_float(0x3c00) == 1.0f);
  CHECK(float_to_half(1.0f + std::ldexp(1.0f, -11)) == 0x3c00);        // tie -> even (1.0)
  CHECK(float_to_half(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3c02);    // tie -> even (1 + 2^-9)
  CHECK(float_to_half(1.0f + std::ldexp(1.0f, -11) + 1e-7f) == 0x3c01); // above the tie
  CHECK(float_to_half(65504.0f) == 0x7bff);
  CHECK(float_to_half(65519.0f) == 0x7bff);
  CHECK(float_to_half(65520.0f) == 0x7c00);                            // rounds to +inf
  CHECK(float_to_half(-1e9f) == 0xfc00);
  CHECK(float_to_half(std::ldexp(1.0f, -24)) == 0x0001);               // smallest subnormal
  CHECK(float_to_half(std::ldexp(1.0f, -25)) == 0x0000);               // tie with zero -> even (0)
  CHECK(float_to_half(std::ldexp(1.5f, -25)) == 0x0001);
  CHECK(float_to_half(std::ldexp(1.0f, -14) * (1023.5f / 1024.0f)) == 0x0400);  // subnormal rounds up to normal
  CHECK(float_to_half(-0.0f) == 0x8000);
  CHECK(std::isnan(half_to_float(float_to_half(std::numeric_limits<float>::quiet_NaN()))));
  CHECK(round_to_half(0.1f) == half_to_float(0x2e66));
}
