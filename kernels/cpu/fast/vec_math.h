// Vector exp and SiLU for the fast CPU kernels, written once for any GCC vector of floats
// (4, 8 or 16 lanes) and inlined into each ISA's kernels, so one source serves AVX-512,
// AVX2 and the x86-64 baseline. A fixed number of operations per element, no table and
// no branch: Cody-Waite range reduction (x = n ln2 + r, |r| <= ln2/2) and Cephes' degree-6
// polynomial for e^r, scaled by 2^n through the exponent bits. Relative error <= 2 ulp
// over the clamped range (tested against std::exp), which is far inside what FP32
// convolution sums already differ by between summation orders.
#pragma once

#include <cstdint>
#include <cstring>

#define Y26_INLINE inline __attribute__((always_inline))

namespace y26::kernels::cpu::fast {

typedef float F4 __attribute__((vector_size(16)));
typedef float F8 __attribute__((vector_size(32)));
typedef float F16 __attribute__((vector_size(64)));

template <typename V>
constexpr int lanes = static_cast<int>(sizeof(V) / sizeof(float));

typedef std::int32_t I4 __attribute__((vector_size(16)));
typedef std::int32_t I8 __attribute__((vector_size(32)));
typedef std::int32_t I16 __attribute__((vector_size(64)));

// The integer vector of the same lanes (bit patterns of the floats). Spelled out: GCC drops a
// vector_size attribute on an alias template.
template <typename V>
struct IntVec;
template <>
struct IntVec<F4> {
  using type = I4;
};
template <>
struct IntVec<F8> {
  using type = I8;
};
template <>
struct IntVec<F16> {
  using type = I16;
};
template <typename V>
using IntOf = typename IntVec<V>::type;

template <typename V>
Y26_INLINE V splat(float s) {
  return V{} + s;
}

// Unaligned loads and stores (activations and packed weights carry no alignment promise).
template <typename V>
Y26_INLINE V load(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <typename V>
Y26_INLINE void store(float* p, V v) {
  std::memcpy(p, &v, sizeof v);
}

template <typename V>
Y26_INLINE V vmax(V a, V b) {
  return a > b ? a : b;
}
template <typename V>
Y26_INLINE V vmin(V a, V b) {
  return a < b ? a : b;
}

// e^x = 2^n e^r for x in [-87.33654, 88.72283]: returns p = e^r, and n + 127 (the biased exponent
// of 2^n) in `biased`.
template <typename V>
Y26_INLINE V exp_reduced(V x, IntOf<V>& biased) {
  using I = IntOf<V>;
  // n = round(x / ln2) by the 1.5 * 2^23 trick: the sum's low mantissa bits hold n as an integer.
  const V magic = splat<V>(12582912.0f);
  const V t = x * splat<V>(1.44269504088896341f) + magic;
  const V n = t - magic;
  I ti;
  std::memcpy(&ti, &t, sizeof ti);
  biased = ti - (I{} + (0x4B400000 - 127));  // 0x4B400000: the bit pattern of 1.5 * 2^23
  // r = x - n ln2 in two parts, so r keeps its low bits.
  V r = x - n * splat<V>(0.693359375f);
  r = r - n * splat<V>(-2.12194440e-4f);
  // e^r = 1 + r + r^2 P(r) (Cephes' P), as 1 + r (1 + r P): Horner to the end, one FMA a step.
  V p = splat<V>(1.9875691500e-4f);
  p = p * r + splat<V>(1.3981999507e-3f);
  p = p * r + splat<V>(8.3334519073e-3f);
  p = p * r + splat<V>(4.1665795894e-2f);
  p = p * r + splat<V>(1.6666665459e-1f);
  p = p * r + splat<V>(5.0000001201e-1f);
  p = p * r + splat<V>(1.0f);
  return p * r + splat<V>(1.0f);
}

// 2^(biased - 127) for biased in [1, 254]: the exponent field.
template <typename V>
Y26_INLINE V pow2_v(IntOf<V> biased) {
  const IntOf<V> bits = biased << 23;
  V scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return scale;
}

template <typename V>
Y26_INLINE V exp_v(V x) {
  using I = IntOf<V>;
  // e^88.72 is FP32's largest; below -87.3 the result is denormal (flushed here to e^-87.3, ~1e-38).
  x = vmin(vmax(x, splat<V>(-87.33654f)), splat<V>(88.72283f));
  I biased;
  const V p = exp_reduced(x, biased);
  // n is in [-126, 128]; 2^128 is split as 2 * 2^127.
  const I hi = biased > (I{} + 254);
  const V result = p * pow2_v<V>(biased + hi);  // hi is -1 where n = 128: n - 1 = 127
  V two;
  const I two_bits = I{} + 0x40000000;
  std::memcpy(&two, &two_bits, sizeof two);
  return hi != I{} ? result * two : result;
}

// x * sigmoid(x) = x / (1 + e^-x), as the reference computes it (one division). e^-x saturates at
// e^88 (n <= 127, no 2^128 case to mend): where -x > 88, SiLU is below 1e-36 either way.
template <typename V>
Y26_INLINE V silu_v(V x) {
  IntOf<V> biased;
  const V p = exp_reduced(vmin(vmax(-x, splat<V>(-87.33654f)), splat<V>(88.0f)), biased);
  return x / (splat<V>(1.0f) + p * pow2_v<V>(biased));
}

}  // namespace y26::kernels::cpu::fast
