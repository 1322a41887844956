// PSA attention on the CPU: one query row at a time, so the N x N score matrix
// is never stored (N floats of scores per row). Softmax in FP32 with the max
// subtracted, as PyTorch does.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/store.h"

namespace y26::kernels::cpu {

void attention(const Context& ctx, const View<const float>& q, const View<const float>& k, const View<const float>& v,
               const View<float>& out, const AttentionParams& p) {
  const int tokens = q.h * q.w;
  const std::int64_t rows = static_cast<std::int64_t>(q.n) * p.heads * tokens;
  auto token = [](const View<const float>& t, int b, int n) { return t.pixel(b, n / t.w, n % t.w); };
  ctx.pool->parallel_for(rows, [&](std::int64_t begin, std::int64_t end) {
    std::vector<float> scores(static_cast<size_t>(tokens));
    std::vector<float> qs(static_cast<size_t>(p.key_dim));
    std::vector<float> acc(static_cast<size_t>(p.head_dim));
    for (std::int64_t r = begin; r < end; ++r) {
      const int n = static_cast<int>(r % tokens);
      const int h = static_cast<int>((r / tokens) % p.heads);
      const int b = static_cast<int>(r / (static_cast<std::int64_t>(tokens) * p.heads));
      const float* qrow = token(q, b, n) + h * p.key_dim;
      for (int d = 0; d < p.key_dim; ++d) qs[d] = qrow[d] * p.scale;  // (q * scale)^T k, as Ultralytics orders it
      float peak = -std::numeric_limits<float>::infinity();
      for (int m = 0; m < tokens; ++m) {
        const float* krow = token(k, b, m) + h * p.key_dim;
        float s = 0.0f;
        for (int d = 0; d < p.key_dim; ++d) s += qs[d] * krow[d];
        scores[m] = s;
        peak = std::max(peak, s);
      }
      float sum = 0.0f;
      for (int m = 0; m < tokens; ++m) {
        scores[m] = std::exp(scores[m] - peak);
        sum += scores[m];
      }
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (int m = 0; m < tokens; ++m) {
        const float* vrow = token(v, b, m) + h * p.head_dim;
        const float wgt = scores[m];
        for (int d = 0; d < p.head_dim; ++d) acc[d] += wgt * vrow[d];
      }
      float* o = out.pixel(b, n / out.w, n % out.w) + h * p.head_dim;
      const float inv = 1.0f / sum;
      for (int d = 0; d < p.head_dim; ++d) o[d] = stored(acc[d] * inv, ctx.round_fp16);
    }
  });
}

}  // namespace y26::kernels::cpu
