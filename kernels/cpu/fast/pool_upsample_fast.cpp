// Max pooling (SPPF) and nearest 2x upsampling for the fast kernel set: the same results
// as the reference (a max and a copy round nothing), without its per-row buffers (no
// allocation inside a run) and with the window's max taken a vector of channels at a time.
#include <algorithm>
#include <cstring>

#include "kernels/cpu/fast/isa.h"
#include "kernels/cpu/fast/vec_math.h"

namespace y26::kernels::cpu::fast {
namespace {

struct PoolJob {
  const View<const float>* in;
  const View<float>* out;
  const PoolParams* p;
};

template <typename V>
Y26_INLINE void pool_rows(const PoolJob& j, std::int64_t begin, std::int64_t end) {
  constexpr int L = lanes<V>;
  const View<const float>& in = *j.in;
  const View<float>& out = *j.out;
  const PoolParams& p = *j.p;
  const int c = out.c, full = c / L * L;
  for (std::int64_t row = begin; row < end; ++row) {
    const int b = static_cast<int>(row / out.h), oy = static_cast<int>(row % out.h);
    const int y0 = std::max(0, oy * p.stride - p.pad), y1 = std::min(in.h, oy * p.stride - p.pad + p.k);
    for (int ox = 0; ox < out.w; ++ox) {
      const int x0 = std::max(0, ox * p.stride - p.pad), x1 = std::min(in.w, ox * p.stride - p.pad + p.k);
      float* o = out.pixel(b, oy, ox);
      for (int c0 = 0; c0 < full; c0 += L) {
        V best = load<V>(in.pixel(b, y0, x0) + c0);  // the window always holds its centre pixel
        for (int iy = y0; iy < y1; ++iy) {
          for (int ix = x0; ix < x1; ++ix) best = vmax(best, load<V>(in.pixel(b, iy, ix) + c0));
        }
        store(o + c0, best);
      }
      for (int ch = full; ch < c; ++ch) {
        float best = in.pixel(b, y0, x0)[ch];
        for (int iy = y0; iy < y1; ++iy) {
          for (int ix = x0; ix < x1; ++ix) best = std::max(best, in.pixel(b, iy, ix)[ch]);
        }
        o[ch] = best;
      }
    }
  }
}

using PoolFn = void (*)(const PoolJob&, std::int64_t, std::int64_t);
Y26_TARGET_AVX512 void pool512(const PoolJob& j, std::int64_t b, std::int64_t e) { pool_rows<F16>(j, b, e); }
Y26_TARGET_AVX2 void pool256(const PoolJob& j, std::int64_t b, std::int64_t e) { pool_rows<F8>(j, b, e); }
void pool128(const PoolJob& j, std::int64_t b, std::int64_t e) { pool_rows<F4>(j, b, e); }

}  // namespace

void max_pool2d(const Context& ctx, const View<const float>& in, const View<float>& out, const PoolParams& p) {
  const Isa isa = detect_isa();
  const PoolFn fn = isa == Isa::Avx512 ? pool512 : isa == Isa::Avx2 ? pool256 : pool128;
  const PoolJob job{&in, &out, &p};
  ctx.pool->parallel_for(static_cast<std::int64_t>(out.n) * out.h, [&](std::int64_t b, std::int64_t e) { fn(job, b, e); });
}

void upsample_nearest2x(const Context& ctx, const View<const float>& in, const View<float>& out, const View<const float>* residual) {
  const int c = out.c;
  const std::size_t bytes = static_cast<std::size_t>(c) * sizeof(float);
  ctx.pool->parallel_for(static_cast<std::int64_t>(out.n) * out.h, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t row = begin; row < end; ++row) {
      const int b = static_cast<int>(row / out.h), oy = static_cast<int>(row % out.h);
      for (int ox = 0; ox < out.w; ++ox) {
        const float* __restrict src = in.pixel(b, oy / 2, ox / 2);
        float* __restrict o = out.pixel(b, oy, ox);
        if (residual == nullptr) {
          std::memcpy(o, src, bytes);
        } else {
          const float* __restrict r = residual->pixel(b, oy, ox);
          for (int ch = 0; ch < c; ++ch) o[ch] = src[ch] + r[ch];  // vectorised by the compiler
        }
      }
    }
  });
}

}  // namespace y26::kernels::cpu::fast
