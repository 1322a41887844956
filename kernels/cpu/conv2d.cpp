// Direct convolution, NHWC. Dense convolutions gather a tile of output pixels'
// receptive fields into a K-long patch each and accumulate into Cout-wide rows,
// so the innermost loop runs over output channels with unit stride (vectorised
// by the compiler without reassociating any sum). Depthwise convolutions loop
// over channels innermost for the same reason.
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/store.h"

namespace y26::kernels::cpu {
namespace {

constexpr int kTile = 8;  // output pixels per weight sweep

float epilogue(float acc, Activation act) { return act == Activation::SiLU ? silu(acc) : acc; }

// AVX2 and baseline builds of the hot loops, picked at load time (GCC function multiversioning).
// The arithmetic is the same IEEE operations in the same order either way (no FMA contraction in
// ISO C++ mode), so both give bit-identical results; AVX2 just does eight output channels at once.
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define Y26_CPU_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define Y26_CPU_CLONES
#endif

constexpr int kBlock = 8;  // output channels held in registers with the tile's pixels (one AVX2 vector)
typedef float Vec8 __attribute__((vector_size(kBlock * sizeof(float))));  // GCC/Clang vector extension

Y26_CPU_CLONES void dense_row(const Context& ctx, const View<const float>& in, const View<float>& out, const ConvWeights& w,
               const ConvParams& p, const View<const float>* res, int b, int oy) {
  const int K = w.kh * w.kw * w.cin;
  const int cout = w.cout;
  // patch[k * kTile + t]: the tile's receptive fields, k-major so one k gives the tile's 8 pixels together
  std::vector<float> patch(static_cast<size_t>(kTile) * K);
  std::vector<float> acc(static_cast<size_t>(kTile) * cout);
  for (int ox0 = 0; ox0 < out.w; ox0 += kTile) {
    const int tile = std::min(kTile, out.w - ox0);
    for (int t = 0; t < kTile; ++t) {  // pixels past the row's end get zeros: computed, never stored
      const int ox = ox0 + t;
      int k = 0;
      for (int ky = 0; ky < w.kh; ++ky) {
        const int iy = oy * p.stride - p.pad + ky;
        for (int kx = 0; kx < w.kw; ++kx) {
          const int ix = ox * p.stride - p.pad + kx;
          const bool inside = t < tile && iy >= 0 && iy < in.h && ix >= 0 && ix < in.w;
          const float* src = inside ? in.pixel(b, iy, ix) : nullptr;
          for (int ci = 0; ci < w.cin; ++ci, ++k) patch[static_cast<size_t>(k) * kTile + t] = inside ? src[ci] : 0.0f;
        }
      }
    }
    // Blocks of 8 output channels x the tile's 8 pixels accumulate in registers over all of K; each
    // sum is bias + v0 w0 + v1 w1 + ... in k order, as the remainder loop below does it.
    int co0 = 0;
    for (; co0 + kBlock <= cout; co0 += kBlock) {
      Vec8 a[kTile];
      Vec8 bias;
      std::memcpy(&bias, w.bias + co0, sizeof bias);
      for (int t = 0; t < kTile; ++t) a[t] = bias;
      const float* pk = patch.data();
      const float* wk = w.w + co0;
      for (int k = 0; k < K; ++k, pk += kTile, wk += cout) {
        Vec8 wv;
        std::memcpy(&wv, wk, sizeof wv);
        for (int t = 0; t < kTile; ++t) a[t] += pk[t] * wv;  // per lane: acc + v * w, two roundings
      }
      for (int t = 0; t < kTile; ++t) std::memcpy(acc.data() + static_cast<size_t>(t) * cout + co0, &a[t], sizeof a[t]);
    }
    if (co0 < cout) {  // the channels past the last full block
      for (int t = 0; t < kTile; ++t) std::copy(w.bias + co0, w.bias + cout, acc.data() + static_cast<size_t>(t) * cout + co0);
      for (int k = 0; k < K; ++k) {
        const float* wk = w.w + static_cast<size_t>(k) * cout;
        for (int t = 0; t < kTile; ++t) {
          const float v = patch[static_cast<size_t>(k) * kTile + t];
          float* a = acc.data() + static_cast<size_t>(t) * cout;
          for (int co = co0; co < cout; ++co) a[co] += v * wk[co];
        }
      }
    }
    for (int t = 0; t < tile; ++t) {
      float* o = out.pixel(b, oy, ox0 + t);
      const float* a = acc.data() + static_cast<size_t>(t) * cout;
      const float* r = res ? res->pixel(b, oy, ox0 + t) : nullptr;
      for (int co = 0; co < cout; ++co) {
        float v = epilogue(a[co], p.act);
        if (r) v += r[co];
        o[co] = stored(v, ctx.round_fp16);
      }
    }
  }
}

Y26_CPU_CLONES void depthwise_row(const Context& ctx, const View<const float>& in, const View<float>& out, const ConvWeights& w,
                   const ConvParams& p, const View<const float>* res, int b, int oy) {
  const int c = w.cout;
  std::vector<float> acc(static_cast<size_t>(c));
  for (int ox = 0; ox < out.w; ++ox) {
    std::copy_n(w.bias, c, acc.data());
    for (int ky = 0; ky < w.kh; ++ky) {
      const int iy = oy * p.stride - p.pad + ky;
      if (iy < 0 || iy >= in.h) continue;
      for (int kx = 0; kx < w.kw; ++kx) {
        const int ix = ox * p.stride - p.pad + kx;
        if (ix < 0 || ix >= in.w) continue;
        const float* src = in.pixel(b, iy, ix);
        const float* wk = w.w + static_cast<size_t>(ky * w.kw + kx) * c;
        for (int ch = 0; ch < c; ++ch) acc[ch] += src[ch] * wk[ch];
      }
    }
    float* o = out.pixel(b, oy, ox);
    const float* r = res ? res->pixel(b, oy, ox) : nullptr;
    for (int ch = 0; ch < c; ++ch) {
      float v = epilogue(acc[ch], p.act);
      if (r) v += r[ch];
      o[ch] = stored(v, ctx.round_fp16);
    }
  }
}

}  // namespace

void conv2d(const Context& ctx, const View<const float>& in, const View<float>& out, const ConvWeights& w,
            const ConvParams& p, const View<const float>* residual) {
  const bool depthwise = w.groups > 1;
  for_each_row(ctx, out.n, out.h, [&](int b, int oy) {
    if (depthwise) {
      depthwise_row(ctx, in, out, w, p, residual, b, oy);
    } else {
      dense_row(ctx, in, out, w, p, residual, b, oy);
    }
  });
}

}  // namespace y26::kernels::cpu
