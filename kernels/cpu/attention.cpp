// PSA attention on the CPU: eight query rows at a time (one per vector lane), so the
// N x N score matrix is never stored (8 x N floats of scores). Softmax in FP32 with
// the max subtracted, as PyTorch does; every sum in the same order as a scalar loop.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/simd.h"
#include "kernels/cpu/store.h"
#include "kernels/cpu/thread_buffer.h"

namespace y26::kernels::cpu {

namespace {

constexpr int kQueries = 8;  // query rows scored together, one per lane of a Vec8
static_assert(sizeof(Vec8) == kQueries * sizeof(float));

// Scores of up to 8 consecutive queries against every key: lane t of scores[m] is
// sum_d (q_t[d] * scale) * k_m[d] in d order, exactly the scalar sum, for 8 queries at once.
// scores[m * 8 + t], peak[t]: plain floats.
Y26_CPU_CLONES void score_block(const float* qs_t, const View<const float>& k, int b, int h, int key_dim, int tokens,
                                float* scores, float* peak) {
  Vec8 best = {};
  for (int m = 0; m < tokens; ++m) {
    const float* krow = k.pixel(b, m / k.w, m % k.w) + h * key_dim;
    Vec8 s = {};
    for (int d = 0; d < key_dim; ++d) {
      Vec8 q;
      std::memcpy(&q, qs_t + static_cast<size_t>(d) * kQueries, sizeof q);
      s += q * krow[d];
    }
    std::memcpy(scores + static_cast<size_t>(m) * kQueries, &s, sizeof s);
    best = m == 0 ? s : (s > best ? s : best);
  }
  std::memcpy(peak, &best, sizeof best);
}

}  // namespace

void attention(const Context& ctx, const View<const float>& q, const View<const float>& k, const View<const float>& v,
               const View<float>& out, const AttentionParams& p) {
  const int tokens = q.h * q.w;
  const int blocks = (tokens + kQueries - 1) / kQueries;
  const std::int64_t jobs = static_cast<std::int64_t>(q.n) * p.heads * blocks;
  auto token = [](const View<const float>& t, int b, int n) { return t.pixel(b, n / t.w, n % t.w); };
  ctx.pool->parallel_for(jobs, [&](std::int64_t begin, std::int64_t end) {
    float* const scores = thread_buffer<float, 4>(static_cast<size_t>(tokens) * kQueries);
    float* const qs_t = thread_buffer<float, 5>(static_cast<size_t>(p.key_dim) * kQueries);  // [d][query]
    float* const row = thread_buffer<float, 6>(static_cast<size_t>(tokens));
    float* const acc = thread_buffer<float, 7>(static_cast<size_t>(p.head_dim));
    for (std::int64_t job = begin; job < end; ++job) {
      const int n0 = static_cast<int>(job % blocks) * kQueries;
      const int h = static_cast<int>((job / blocks) % p.heads);
      const int b = static_cast<int>(job / (static_cast<std::int64_t>(blocks) * p.heads));
      const int count = std::min(kQueries, tokens - n0);
      for (int t = 0; t < kQueries; ++t) {
        const float* qrow = t < count ? token(q, b, n0 + t) + h * p.key_dim : nullptr;
        for (int d = 0; d < p.key_dim; ++d) {
          qs_t[static_cast<size_t>(d) * kQueries + t] =
              qrow ? qrow[d] * p.scale : 0.0f;  // (q * scale)^T k, as Ultralytics orders it
        }
      }
      float peak[kQueries];
      score_block(qs_t, k, b, h, p.key_dim, tokens, scores, peak);
      for (int t = 0; t < count; ++t) {  // softmax and the weighted sum of values, per query
        float sum = 0.0f;
        for (int m = 0; m < tokens; ++m) {
          row[static_cast<size_t>(m)] = std::exp(scores[static_cast<size_t>(m) * kQueries + t] - peak[t]);
          sum += row[static_cast<size_t>(m)];
        }
        std::fill_n(acc, p.head_dim, 0.0f);
        for (int m = 0; m < tokens; ++m) {
          const float* vrow = token(v, b, m) + h * p.head_dim;
          const float wgt = row[static_cast<size_t>(m)];
          for (int d = 0; d < p.head_dim; ++d) acc[static_cast<size_t>(d)] += wgt * vrow[d];
        }
        const int n = n0 + t;
        float* o = out.pixel(b, n / out.w, n % out.w) + h * p.head_dim;
        const float inv = 1.0f / sum;
        for (int d = 0; d < p.head_dim; ++d) o[d] = stored(acc[static_cast<size_t>(d)] * inv, ctx.round_fp16);
      }
    }
  });
}

}  // namespace y26::kernels::cpu
