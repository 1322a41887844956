// Fast PSA attention: Q queries at a time, one per vector lane (16 with AVX-512, 8 with
// AVX2, 4 on the baseline), as the reference does with 8. Scores with FMA, the softmax's
// exponentials with the vector exp (the reference's scalar std::exp was most of its time),
// and P V as a small GEMM: for a block of L value channels, Q accumulators in registers
// sweep the keys once, instead of one pass over V per query.
#include <algorithm>
#include <stdexcept>

#include "kernels/cpu/fast/isa.h"
#include "kernels/cpu/fast/vec_math.h"

namespace y26::kernels::cpu::fast {
namespace {

struct AttnJob {
  const View<const float>* q;
  const View<const float>* k;
  const View<const float>* v;
  const View<float>* out;
  const AttentionParams* p;
};

Y26_INLINE const float* token(const View<const float>& t, int b, int n) { return t.pixel(b, n / t.w, n % t.w); }

template <typename V>
Y26_INLINE void attention_jobs(const AttnJob& j, std::int64_t begin, std::int64_t end, float* scratch) {
  constexpr int Q = lanes<V>;
  const AttentionParams& p = *j.p;
  const View<const float>& q = *j.q;
  const int tokens = q.h * q.w, blocks = (tokens + Q - 1) / Q;
  float* scores = scratch;                                     // [m][Q]
  float* qs_t = scratch + static_cast<std::int64_t>(tokens) * Q;  // [d][Q]
  for (std::int64_t job = begin; job < end; ++job) {
    const int n0 = static_cast<int>(job % blocks) * Q;
    const int h = static_cast<int>((job / blocks) % p.heads);
    const int b = static_cast<int>(job / (static_cast<std::int64_t>(blocks) * p.heads));
    const int count = std::min(Q, tokens - n0);
    for (int t = 0; t < Q; ++t) {
      const float* qrow = t < count ? token(q, b, n0 + t) + h * p.key_dim : nullptr;
      for (int d = 0; d < p.key_dim; ++d) qs_t[d * Q + t] = qrow ? qrow[d] * p.scale : 0.0f;
    }
    V best = splat<V>(-3.0e38f);
    // Four keys at a time: four independent FMA chains over key_dim (one chain stalls on FMA latency).
    int m = 0;
    for (; m + 4 <= tokens; m += 4) {
      const float* k0 = token(*j.k, b, m) + h * p.key_dim;
      const float* k1 = token(*j.k, b, m + 1) + h * p.key_dim;
      const float* k2 = token(*j.k, b, m + 2) + h * p.key_dim;
      const float* k3 = token(*j.k, b, m + 3) + h * p.key_dim;
      V s0 = {}, s1 = {}, s2 = {}, s3 = {};
      for (int d = 0; d < p.key_dim; ++d) {
        const V qd = load<V>(qs_t + d * Q);
        s0 += qd * k0[d];
        s1 += qd * k1[d];
        s2 += qd * k2[d];
        s3 += qd * k3[d];
      }
      float* sm = scores + static_cast<std::int64_t>(m) * Q;
      store(sm, s0);
      store(sm + Q, s1);
      store(sm + 2 * Q, s2);
      store(sm + 3 * Q, s3);
      best = vmax(vmax(best, s0), vmax(s1, vmax(s2, s3)));
    }
    for (; m < tokens; ++m) {
      const float* krow = token(*j.k, b, m) + h * p.key_dim;
      V s = {};
      for (int d = 0; d < p.key_dim; ++d) s += load<V>(qs_t + d * Q) * krow[d];
      store(scores + static_cast<std::int64_t>(m) * Q, s);
      best = vmax(best, s);
    }
    V sum = {};
    for (m = 0; m < tokens; ++m) {
      float* sm = scores + static_cast<std::int64_t>(m) * Q;
      const V e = exp_v(load<V>(sm) - best);
      store(sm, e);
      sum += e;
    }
    float inv[Q];
    store(inv, splat<V>(1.0f) / sum);
    const int hd = p.head_dim, full = hd / Q * Q;
    for (int d0 = 0; d0 < hd; d0 += Q) {
      V acc[Q];
      for (int t = 0; t < Q; ++t) acc[t] = V{};
      for (m = 0; m < tokens; ++m) {
        const float* vrow = token(*j.v, b, m) + h * hd + d0;
        V vv;
        if (d0 < full) {
          vv = load<V>(vrow);
        } else {
          float lane[Q] = {};
          for (int i = 0; d0 + i < hd; ++i) lane[i] = vrow[i];
          vv = load<V>(lane);
        }
        const float* e = scores + static_cast<std::int64_t>(m) * Q;
        for (int t = 0; t < Q; ++t) acc[t] += e[t] * vv;
      }
      for (int t = 0; t < count; ++t) {
        const int n = n0 + t;
        float* o = j.out->pixel(b, n / j.out->w, n % j.out->w) + h * hd + d0;
        const V r = acc[t] * inv[t];
        if (d0 < full) {
          store(o, r);
        } else {
          float lane[Q];
          store(lane, r);
          for (int i = 0; d0 + i < hd; ++i) o[i] = lane[i];
        }
      }
    }
  }
}

using JobsFn = void (*)(const AttnJob&, std::int64_t, std::int64_t, float*);
Y26_TARGET_AVX512 void attn512(const AttnJob& j, std::int64_t b, std::int64_t e, float* s) { attention_jobs<F16>(j, b, e, s); }
Y26_TARGET_AVX2 void attn256(const AttnJob& j, std::int64_t b, std::int64_t e, float* s) { attention_jobs<F8>(j, b, e, s); }
void attn128(const AttnJob& j, std::int64_t b, std::int64_t e, float* s) { attention_jobs<F4>(j, b, e, s); }

}  // namespace

std::int64_t attention_scratch_floats(const AttentionParams& p, int tokens) {
  return (static_cast<std::int64_t>(tokens) + p.key_dim) * 16;  // enough for the widest ISA
}

void attention(const Context& ctx, const View<const float>& q, const View<const float>& k, const View<const float>& v,
               const View<float>& out, const AttentionParams& p, float* scratch, std::int64_t per_worker,
               Isa isa) {
  const int tokens = q.h * q.w;
  if (per_worker < attention_scratch_floats(p, tokens)) throw std::logic_error("fast attention: scratch too small");
  const JobsFn fn = isa == Isa::Avx512 ? attn512 : isa == Isa::Avx2 ? attn256 : attn128;
  const int Q = lanes_of(isa)  /* queries per job: one per lane */, blocks = (tokens + Q - 1) / Q;
  const AttnJob job{&q, &k, &v, &out, &p};
  ctx.pool->parallel_for(static_cast<std::int64_t>(q.n) * p.heads * blocks, [&](std::int64_t b, std::int64_t e, unsigned worker) {
    fn(job, b, e, scratch + static_cast<std::int64_t>(worker) * per_worker);
  });
}

}  // namespace y26::kernels::cpu::fast
