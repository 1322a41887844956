// Which vector ISA the fast kernels use, and the vector math entry points for tests.
#include <cstdlib>
#include <cstring>

#include "kernels/cpu/fast/isa.h"
#include "kernels/cpu/fast/vec_math.h"

namespace y26::kernels::cpu::fast {
namespace {

template <typename V, bool Silu>
Y26_INLINE void map_n(const float* x, float* y, int n) {
  constexpr int L = lanes<V>;
  for (int i = 0; i < n; i += L) {
    float in[L] = {}, out[L];
    for (int l = 0; l < L && i + l < n; ++l) in[l] = x[i + l];
    const V v = load<V>(in);
    store(out, Silu ? silu_v(v) : exp_v(v));
    for (int l = 0; l < L && i + l < n; ++l) y[i + l] = out[l];
  }
}

template <bool Silu>
Y26_TARGET_AVX512 void map512(const float* x, float* y, int n) { map_n<F16, Silu>(x, y, n); }
template <bool Silu>
Y26_TARGET_AVX2 void map256(const float* x, float* y, int n) { map_n<F8, Silu>(x, y, n); }
template <bool Silu>
void map128(const float* x, float* y, int n) { map_n<F4, Silu>(x, y, n); }

template <bool Silu>
void map(const float* x, float* y, int n) {
  switch (detect_isa()) {
    case Isa::Avx512: map512<Silu>(x, y, n); break;
    case Isa::Avx2: map256<Silu>(x, y, n); break;
    case Isa::Baseline: map128<Silu>(x, y, n); break;
  }
}

Isa probe() {
  Isa best = Isa::Baseline;
#if Y26_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) best = Isa::Avx2;
  if (best == Isa::Avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
    best = Isa::Avx512;
  }
#endif
  // Y26_CPU_ISA=avx2|baseline caps it (to measure or test a narrower machine's code path here).
  if (const char* cap = std::getenv("Y26_CPU_ISA")) {
    if (std::strcmp(cap, "baseline") == 0) best = Isa::Baseline;
    if (std::strcmp(cap, "avx2") == 0 && best == Isa::Avx512) best = Isa::Avx2;
  }
  return best;
}

}  // namespace

Isa detect_isa() {
  static const Isa isa = probe();
  return isa;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    case Isa::Baseline: break;
  }
  return "baseline";
}

void exp_n(const float* x, float* y, int n) { map<false>(x, y, n); }
void silu_n(const float* x, float* y, int n) { map<true>(x, y, n); }

}  // namespace y26::kernels::cpu::fast
