// The CPU reference implementation of every y26 op (FP32 arithmetic).
// With round_fp16 set, every stored activation is rounded to FP16 first, which
// reproduces what the GPU's FP16 activation storage holds (FP32 accumulation
// in both). These functions are the oracle for the CUDA kernels.
#pragma once

#include "kernels/cpu/thread_pool.h"
#include "kernels/ops.h"

namespace y26::kernels::cpu {

struct Context {
  ThreadPool* pool = nullptr;
  bool round_fp16 = false;
};

// Calls fn(b, y) for every output row (image b, row y) of an n x h output, rows spread over the pool.
template <typename F>
void for_each_row(const Context& ctx, int n, int h, F&& fn) {
  ctx.pool->parallel_for(static_cast<std::int64_t>(n) * h, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t r = begin; r < end; ++r) fn(static_cast<int>(r / h), static_cast<int>(r % h));
  });
}

// out = act(conv(in, w) + bias) [+ residual]. Dense (groups == 1) or depthwise
// (groups == cin == cout). residual may be null. in/out/residual may be strided views.
void conv2d(const Context& ctx, const View<const float>& in, const View<float>& out, const ConvWeights& w,
            const ConvParams& p, const View<const float>* residual);

// k x k max pooling, padding never wins (as PyTorch pads with -inf).
void max_pool2d(const Context& ctx, const View<const float>& in, const View<float>& out, const PoolParams& p);

// Nearest-neighbour 2x upsampling, out = up(in) [+ residual] (residual may be null: Proto26 adds P3).
void upsample_nearest2x(const Context& ctx, const View<const float>& in, const View<float>& out,
                        const View<const float>* residual = nullptr);
// out (h, w, c) from in (h / 2, w / 2, 4c): sub-pixel (dy, dx) of input pixel (y, x) is its channel group
// dy * 2 + dx (a ConvTranspose2d 2x2/2 run as a 1x1 conv to 4c channels: graph/ir.h).
void depth_to_space2x(const Context& ctx, const View<const float>& in, const View<float>& out);
// The mean of every channel over all pixels (AdaptiveAvgPool2d(1)): out is 1 x 1 x c per image.
void global_avg_pool(const Context& ctx, const View<const float>& in, const View<float>& out);

// PSA attention (see AttentionParams); softmax in FP32.
void attention(const Context& ctx, const View<const float>& q, const View<const float>& k, const View<const float>& v,
               const View<float>& out, const AttentionParams& p);

}  // namespace y26::kernels::cpu
