// Direct convolution, NHWC. Dense convolutions take a tile of 8 output pixels and
// 8 output channels at a time, accumulating in registers (a GCC vector of 8 floats
// per pixel) over K = (ky, kx, ci) read straight from the input rows; every sum runs
// in k order without reassociation or FMA, so the result is the same with or without
// AVX2. Depthwise convolutions loop over channels innermost for the same reason.
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/simd.h"
#include "kernels/cpu/store.h"
#include "kernels/cpu/thread_buffer.h"

namespace y26::kernels::cpu {
namespace {

constexpr int kTile = 8;  // output pixels per weight sweep

float epilogue(float acc, Activation act) { return act == Activation::SiLU ? silu(acc) : acc; }

constexpr int kBlock = 8;  // output channels held in registers with the tile's pixels (one Vec8)
static_assert(sizeof(Vec8) == kBlock * sizeof(float));

Y26_CPU_CLONES void dense_row(const Context& ctx, const View<const float>& in, const View<float>& out, const ConvWeights& w,
               const ConvParams& p, const View<const float>* res, int b, int oy) {
  const int taps = w.kh * w.kw, cin = w.cin, cout = w.cout;
  // rows[tap * kTile + t]: where pixel t of the tile reads tap (ky, kx) - the input pixel, or zeros in
  // the padding and past the row's end (those pixels are computed, never stored). No copy of the input.
  float* const zeros = thread_buffer<float, 0>(static_cast<size_t>(cin));
  std::fill_n(zeros, cin, 0.0f);
  const float** const rows = thread_buffer<const float*, 1>(static_cast<size_t>(taps) * kTile);
  float* const acc = thread_buffer<float, 2>(static_cast<size_t>(kTile) * cout);
  for (int ox0 = 0; ox0 < out.w; ox0 += kTile) {
    const int tile = std::min(kTile, out.w - ox0);
    for (int ky = 0; ky < w.kh; ++ky) {
      const int iy = oy * p.stride - p.pad + ky;
      for (int kx = 0; kx < w.kw; ++kx) {
        for (int t = 0; t < kTile; ++t) {
          const int ix = (ox0 + t) * p.stride - p.pad + kx;
          const bool inside = t < tile && iy >= 0 && iy < in.h && ix >= 0 && ix < in.w;
          rows[static_cast<size_t>(ky * w.kw + kx) * kTile + t] = inside ? in.pixel(b, iy, ix) : zeros;
        }
      }
    }
    // Blocks of 8 output channels x the tile's 8 pixels accumulate in registers over all of K; each
    // sum is bias + v0 w0 + v1 w1 + ... in k = (ky, kx, ci) order, as the remainder loop does it.
    int co0 = 0;
    for (; co0 + kBlock <= cout; co0 += kBlock) {
      Vec8 a[kTile];
      Vec8 bias;
      std::memcpy(&bias, w.bias + co0, sizeof bias);
      for (int t = 0; t < kTile; ++t) a[t] = bias;
      const float* wk = w.w + co0;
      for (int tap = 0; tap < taps; ++tap) {
        const float* const* r = rows + static_cast<size_t>(tap) * kTile;
        for (int ci = 0; ci < cin; ++ci, wk += cout) {
          Vec8 wv;
          std::memcpy(&wv, wk, sizeof wv);
          for (int t = 0; t < kTile; ++t) a[t] += r[t][ci] * wv;  // per lane: acc + v * w, two roundings
        }
      }
      for (int t = 0; t < kTile; ++t) std::memcpy(acc + static_cast<size_t>(t) * cout + co0, &a[t], sizeof a[t]);
    }
    for (int co = co0; co < cout; ++co) {  // the channels past the last full block
      for (int t = 0; t < kTile; ++t) {
        float a = w.bias[co];
        const float* wk = w.w + co;
        for (int tap = 0; tap < taps; ++tap) {
          const float* r = rows[static_cast<size_t>(tap) * kTile + t];
          for (int ci = 0; ci < cin; ++ci, wk += cout) a += r[ci] * *wk;
        }
        acc[static_cast<size_t>(t) * cout + co] = a;
      }
    }
    for (int t = 0; t < tile; ++t) {
      float* o = out.pixel(b, oy, ox0 + t);
      const float* a = acc + static_cast<size_t>(t) * cout;
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
  float* const acc = thread_buffer<float, 3>(static_cast<size_t>(c));
  for (int ox = 0; ox < out.w; ++ox) {
    std::copy_n(w.bias, c, acc);
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
