// PSA attention, fused: one warp per (image, head, query). The warp walks the
// keys once with an online softmax (running max and sum in FP32, as in
// flash-attention), so the N x N score matrix never exists; each lane holds up to
// four of the head's output dimensions.
#include "kernels/cuda/check.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace y26::kernels::cuda {
namespace {

constexpr int kWarps = 4, kMaxDimPerLane = 4;  // head_dim and key_dim up to 128

struct AttnArgs {
  const unsigned short *q, *k, *v;
  long long q_img, q_px, k_img, k_px, v_img, v_px;
  unsigned short* out;
  long long o_img, o_px;
  int h, w, tokens, heads, key_dim, head_dim, batch;
  float scale;
};

__device__ __forceinline__ float warp_sum(float x) {
  for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
  return x;
}

__global__ void __launch_bounds__(kWarps * 32) attention_kernel(AttnArgs a) {
  const int lane = threadIdx.x % 32;
  const long long row = static_cast<long long>(blockIdx.x) * kWarps + threadIdx.x / 32;
  const long long rows = static_cast<long long>(a.batch) * a.heads * a.tokens;
  if (row >= rows) return;  // whole warps exit together
  const int n = static_cast<int>(row % a.tokens);
  const int h = static_cast<int>((row / a.tokens) % a.heads);
  const int b = static_cast<int>(row / (static_cast<long long>(a.tokens) * a.heads));

  float q[kMaxDimPerLane], acc[kMaxDimPerLane];
  const unsigned short* qrow = at(a.q, a.q_img, a.q_px, a.w, b, n / a.w, n % a.w) + h * a.key_dim;
  for (int i = 0; i < kMaxDimPerLane; ++i) {
    const int d = lane + 32 * i;
    q[i] = d < a.key_dim ? load_half(qrow + d) * a.scale : 0.0f;  // (q * scale) . k, as Ultralytics orders it
    acc[i] = 0.0f;
  }
  float run_max = -INFINITY, run_sum = 0.0f;
  for (int m = 0; m < a.tokens; ++m) {
    const unsigned short* krow = at(a.k, a.k_img, a.k_px, a.w, b, m / a.w, m % a.w) + h * a.key_dim;
    float part = 0.0f;
    for (int i = 0; i < kMaxDimPerLane; ++i) {
      const int d = lane + 32 * i;
      if (d < a.key_dim) part += q[i] * load_half(krow + d);
    }
    const float s = warp_sum(part);
    const float new_max = fmaxf(run_max, s);
    const float corr = expf(run_max - new_max), p = expf(s - new_max);
    run_sum = run_sum * corr + p;
    const unsigned short* vrow = at(a.v, a.v_img, a.v_px, a.w, b, m / a.w, m % a.w) + h * a.head_dim;
    for (int i = 0; i < kMaxDimPerLane; ++i) {
      const int d = lane + 32 * i;
      if (d < a.head_dim) acc[i] = acc[i] * corr + p * load_half(vrow + d);
    }
    run_max = new_max;
  }
  unsigned short* orow = at(a.out, a.o_img, a.o_px, a.w, b, n / a.w, n % a.w) + h * a.head_dim;
  const float inv = 1.0f / run_sum;
  for (int i = 0; i < kMaxDimPerLane; ++i) {
    const int d = lane + 32 * i;
    if (d < a.head_dim) orow[d] = to_half_bits(acc[i] * inv);
  }
}

}  // namespace

void attention(const View<const half_bits>& q, const View<const half_bits>& k, const View<const half_bits>& v,
               const View<half_bits>& out, const AttentionParams& p, void* stream) {
  if (p.key_dim > 32 * kMaxDimPerLane || p.head_dim > 32 * kMaxDimPerLane) {
    throw Error("CUDA attention: key/head dims above 128 are not supported (got " + std::to_string(p.key_dim) + "/" +
                std::to_string(p.head_dim) + ")");
  }
  if (q.c != p.heads * p.key_dim || k.c != q.c || v.c != p.heads * p.head_dim || out.c != v.c) {
    throw Error("CUDA attention: views do not match heads x dims");
  }
  AttnArgs a{q.data, k.data, v.data, q.image_stride, q.pixel_stride, k.image_stride, k.pixel_stride, v.image_stride,
             v.pixel_stride, out.data, out.image_stride, out.pixel_stride, q.h, q.w, q.h * q.w, p.heads, p.key_dim,
             p.head_dim, q.n, p.scale};
  const long long rows = static_cast<long long>(q.n) * p.heads * q.h * q.w;
  attention_kernel<<<blocks_for(rows, kWarps), kWarps * 32, 0, static_cast<cudaStream_t>(stream)>>>(a);
  check_launch("attention_kernel");
}

}  // namespace y26::kernels::cuda
