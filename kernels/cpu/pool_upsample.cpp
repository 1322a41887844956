// Max pooling (SPPF), global average pooling (Classify), nearest-neighbour upsampling (with Proto26's
// residual) and the 2x2 depth-to-space of a transposed convolution, NHWC.
#include <algorithm>
#include <limits>
#include <vector>

#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/store.h"
#include "kernels/cpu/thread_buffer.h"

namespace y26::kernels::cpu {

void max_pool2d(const Context& ctx, const View<const float>& in, const View<float>& out, const PoolParams& p) {
  const int c = out.c;
  for_each_row(ctx, out.n, out.h, [&](int b, int oy) {
    float* const best = thread_buffer<float, 8>(static_cast<size_t>(c));
    for (int ox = 0; ox < out.w; ++ox) {
      std::fill_n(best, c, -std::numeric_limits<float>::infinity());
      for (int ky = 0; ky < p.k; ++ky) {
        const int iy = oy * p.stride - p.pad + ky;
        if (iy < 0 || iy >= in.h) continue;
        for (int kx = 0; kx < p.k; ++kx) {
          const int ix = ox * p.stride - p.pad + kx;
          if (ix < 0 || ix >= in.w) continue;
          const float* src = in.pixel(b, iy, ix);
          for (int ch = 0; ch < c; ++ch) best[ch] = std::max(best[ch], src[ch]);
        }
      }
      float* o = out.pixel(b, oy, ox);
      for (int ch = 0; ch < c; ++ch) o[ch] = stored(best[ch], ctx.round_fp16);
    }
  });
}

void global_avg_pool(const Context& ctx, const View<const float>& in, const View<float>& out) {
  const float count = static_cast<float>(in.h * in.w);
  for_each_row(ctx, out.n, 1, [&](int b, int) {
    float* o = out.pixel(b, 0, 0);
    for (int ch = 0; ch < out.c; ++ch) {
      // FP32, pixels in row order: the CUDA kernel's order, so the two agree bit for bit
      float sum = 0.0f;
      for (int y = 0; y < in.h; ++y)
        for (int x = 0; x < in.w; ++x) sum += in.pixel(b, y, x)[ch];
      o[ch] = stored(sum / count, ctx.round_fp16);
    }
  });
}

void upsample_nearest2x(const Context& ctx, const View<const float>& in, const View<float>& out, const View<const float>* residual) {
  for_each_row(ctx, out.n, out.h, [&](int b, int oy) {
    for (int ox = 0; ox < out.w; ++ox) {
      const float* src = in.pixel(b, oy / 2, ox / 2);
      float* o = out.pixel(b, oy, ox);
      if (residual == nullptr) {
        for (int ch = 0; ch < out.c; ++ch) o[ch] = stored(src[ch], ctx.round_fp16);
      } else {
        const float* r = residual->pixel(b, oy, ox);
        for (int ch = 0; ch < out.c; ++ch) o[ch] = stored(src[ch] + r[ch], ctx.round_fp16);
      }
    }
  });
}

void depth_to_space2x(const Context& ctx, const View<const float>& in, const View<float>& out) {
  const int c = out.c;
  for_each_row(ctx, out.n, out.h, [&](int b, int oy) {
    for (int ox = 0; ox < out.w; ++ox) {
      const float* src = in.pixel(b, oy / 2, ox / 2) + ((oy % 2) * 2 + ox % 2) * c;
      float* o = out.pixel(b, oy, ox);
      for (int ch = 0; ch < c; ++ch) o[ch] = src[ch];  // a move: the conv already stored the values
    }
  });
}

}  // namespace y26::kernels::cpu
