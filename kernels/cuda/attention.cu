// PSA attention, fused: the N x N score matrix never exists (online softmax in FP32, as in
// flash-attention). Two kernels:
// - attention_tile_kernel, for the head sizes YOLO26 uses (key_dim <= 32, head_dim <= 64, multiples
//   of 8, 16-byte aligned rows): one block per 16 queries of one (image, head); each thread owns one
//   query and every 8th key, keeps q and its output row in registers, reads K and V rows 16 bytes at
//   a time (the 16 threads of a key group share each row), rescales its accumulator once per chunk of
//   8 keys, and the 8 key groups are merged through shared memory at the end. No shuffles in the key
//   loop and about 5 warp instructions per (query, key).
// - attention_warp_kernel, for any other size: one warp per query, lanes across the dimensions.
#include <cstdint>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace y26::kernels::cuda {
Y26_CUDA_VARIANT_BEGIN
namespace {

constexpr int kWarps = 4, kMaxDimPerLane = 4;  // head_dim and key_dim up to 128

struct AttnArgs {
  const unsigned short *q, *k, *v;
  long long q_img, q_px, k_img, k_px, v_img, v_px;
  unsigned short* out;
  long long o_img, o_px;
  int tokens, heads, key_dim, head_dim, batch;  // token t of an image is pixel index t of the views
  float scale;
};

// Token t of image b: pixel (t / w, t % w) of an NHWC view, which is pixel index t - no division needed.
template <typename T>
__device__ __forceinline__ T* token(T* data, long long image_stride, long long pixel_stride, int b, long long t) {
  return data + b * image_stride + t * pixel_stride;
}

__device__ __forceinline__ float warp_sum(float x) {
  for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
  return x;
}

constexpr int kTileQueries = 16, kKeyGroups = 8, kChunk = 8;  // 16 x 8 = 128 threads
constexpr int kTileKeyDim = 32, kTileHeadDim = 64;


__global__ void __launch_bounds__(kTileQueries * kKeyGroups) attention_tile_kernel(AttnArgs a) {
  pdl_prologue();
  constexpr int KD8 = kTileKeyDim / 8, HD8 = kTileHeadDim / 8;
  __shared__ float part_max[kKeyGroups][kTileQueries], part_sum[kKeyGroups][kTileQueries];
  __shared__ float part_acc[kKeyGroups * kTileQueries][kTileHeadDim + 1];  // +1: rows in different banks

  const int qi = threadIdx.x % kTileQueries, g = threadIdx.x / kTileQueries;
  const int h = blockIdx.y, b = blockIdx.z;
  const int n = blockIdx.x * kTileQueries + qi;
  const bool active = n < a.tokens;  // inactive threads still take part in the barriers
  const int kd8 = a.key_dim / 8, hd8 = a.head_dim / 8;

  float q[kTileKeyDim], acc[kTileHeadDim];
  for (int d = 0; d < kTileKeyDim; ++d) q[d] = 0.0f;
  for (int d = 0; d < kTileHeadDim; ++d) acc[d] = 0.0f;
  if (active) {
    const unsigned short* qrow = token(a.q, a.q_img, a.q_px, b, n) + h * a.key_dim;
    for (int j = 0; j < KD8; ++j)
      if (j < kd8) load_floats<8>(qrow + 8 * j, q + 8 * j);
    for (int d = 0; d < kTileKeyDim; ++d) q[d] *= a.scale;  // (q * scale) . k, as Ultralytics orders it
  }
  float run_max = -INFINITY, run_sum = 0.0f;
  // This thread's keys: g, g + 8, g + 16, ... taken 8 at a time.
  for (int m0 = g; active && m0 < a.tokens; m0 += kChunk * kKeyGroups) {
    float s[kChunk];
    float chunk_max = -INFINITY;
#pragma unroll
    for (int c = 0; c < kChunk; ++c) {
      const int m = m0 + c * kKeyGroups;
      s[c] = -INFINITY;
      if (m < a.tokens) {
        const unsigned short* krow = token(a.k, a.k_img, a.k_px, b, m) + h * a.key_dim;
        float dot = 0.0f;
        for (int j = 0; j < KD8; ++j) {
          if (j >= kd8) break;
          float kf[8];
          load_floats<8>(krow + 8 * j, kf);
          for (int i = 0; i < 8; ++i) dot += q[8 * j + i] * kf[i];
        }
        s[c] = dot;
        chunk_max = fmaxf(chunk_max, dot);
      }
    }
    const float new_max = fmaxf(run_max, chunk_max);  // finite: the chunk's first key always exists
    const float corr = expf(run_max - new_max);       // 0 on the first chunk (exp(-inf))
    run_sum *= corr;
    for (int d = 0; d < kTileHeadDim; ++d) acc[d] *= corr;
#pragma unroll
    for (int c = 0; c < kChunk; ++c) {  // unrolled, so s[] stays in registers
      const int m = m0 + c * kKeyGroups;
      if (m >= a.tokens) continue;
      const float p = expf(s[c] - new_max);
      run_sum += p;
      const unsigned short* vrow = token(a.v, a.v_img, a.v_px, b, m) + h * a.head_dim;
      for (int j = 0; j < HD8; ++j) {
        if (j >= hd8) break;
        float vf[8];
        load_floats<8>(vrow + 8 * j, vf);
        for (int i = 0; i < 8; ++i) acc[8 * j + i] += p * vf[i];
      }
    }
    run_max = new_max;
  }

  // Merge the key groups: rescale each group's partial sums to the query's overall maximum.
  part_max[g][qi] = run_max;  // -inf for a group with no keys (fewer tokens than groups) or an inactive query
  __syncthreads();
  float best = -INFINITY;
  for (int j = 0; j < kKeyGroups; ++j) best = fmaxf(best, part_max[j][qi]);
  const float f = run_max == -INFINITY ? 0.0f : expf(run_max - best);
  part_sum[g][qi] = run_sum * f;
  float* row = part_acc[g * kTileQueries + qi];
  for (int d = 0; d < kTileHeadDim; ++d) row[d] = acc[d] * f;
  __syncthreads();
  // 16 queries x head_dim outputs over 128 threads, consecutive threads on consecutive dimensions.
  const long long first = static_cast<long long>(blockIdx.x) * kTileQueries;
  for (int e = threadIdx.x; e < kTileQueries * a.head_dim; e += kTileQueries * kKeyGroups) {
    const int qq = e / a.head_dim, d = e % a.head_dim;
    const long long nn = first + qq;
    if (nn >= a.tokens) break;  // e grows with qq
    float sum = 0.0f, out = 0.0f;
    for (int j = 0; j < kKeyGroups; ++j) {
      sum += part_sum[j][qq];
      out += part_acc[j * kTileQueries + qq][d];
    }
    const int t = static_cast<int>(nn);
    token(a.out, a.o_img, a.o_px, b, t)[h * a.head_dim + d] = to_half_bits(out / sum);
  }
}

__global__ void __launch_bounds__(kWarps * 32) attention_warp_kernel(AttnArgs a) {
  pdl_prologue();
  const int lane = threadIdx.x % 32;
  const long long row = static_cast<long long>(blockIdx.x) * kWarps + threadIdx.x / 32;
  const long long rows = static_cast<long long>(a.batch) * a.heads * a.tokens;
  if (row >= rows) return;  // whole warps exit together
  const int n = static_cast<int>(row % a.tokens);
  const int h = static_cast<int>((row / a.tokens) % a.heads);
  const int b = static_cast<int>(row / (static_cast<long long>(a.tokens) * a.heads));

  float q[kMaxDimPerLane], acc[kMaxDimPerLane];
  const unsigned short* qrow = token(a.q, a.q_img, a.q_px, b, n) + h * a.key_dim;
  for (int i = 0; i < kMaxDimPerLane; ++i) {
    const int d = lane + 32 * i;
    q[i] = d < a.key_dim ? load_half(qrow + d) * a.scale : 0.0f;  // (q * scale) . k, as Ultralytics orders it
    acc[i] = 0.0f;
  }
  float run_max = -INFINITY, run_sum = 0.0f;
  for (int m = 0; m < a.tokens; ++m) {
    const unsigned short* krow = token(a.k, a.k_img, a.k_px, b, m) + h * a.key_dim;
    float part = 0.0f;
    for (int i = 0; i < kMaxDimPerLane; ++i) {
      const int d = lane + 32 * i;
      if (d < a.key_dim) part += q[i] * load_half(krow + d);
    }
    const float s = warp_sum(part);
    const float new_max = fmaxf(run_max, s);
    const float corr = expf(run_max - new_max), p = expf(s - new_max);
    run_sum = run_sum * corr + p;
    const unsigned short* vrow = token(a.v, a.v_img, a.v_px, b, m) + h * a.head_dim;
    for (int i = 0; i < kMaxDimPerLane; ++i) {
      const int d = lane + 32 * i;
      if (d < a.head_dim) acc[i] = acc[i] * corr + p * load_half(vrow + d);
    }
    run_max = new_max;
  }
  unsigned short* orow = token(a.out, a.o_img, a.o_px, b, n) + h * a.head_dim;
  const float inv = 1.0f / run_sum;
  for (int i = 0; i < kMaxDimPerLane; ++i) {
    const int d = lane + 32 * i;
    if (d < a.head_dim) orow[d] = to_half_bits(acc[i] * inv);
  }
}

}  // namespace

void attention(const View<const half_bits>& q, const View<const half_bits>& k, const View<const half_bits>& v,
               const View<half_bits>& out, const AttentionParams& p, void* stream, AttentionKernel kernel) {
  if (p.key_dim > 32 * kMaxDimPerLane || p.head_dim > 32 * kMaxDimPerLane) {
    throw Error("CUDA attention: key/head dims above 128 are not supported (got " + std::to_string(p.key_dim) + "/" +
                std::to_string(p.head_dim) + ")");
  }
  if (q.c != p.heads * p.key_dim || k.c != q.c || v.c != p.heads * p.head_dim || out.c != v.c) {
    throw Error("CUDA attention: views do not match heads x dims");
  }
  AttnArgs a{q.data, k.data, v.data, q.image_stride, q.pixel_stride, k.image_stride, k.pixel_stride, v.image_stride,
             v.pixel_stride, out.data, out.image_stride, out.pixel_stride, q.h * q.w, p.heads, p.key_dim,
             p.head_dim, q.n, p.scale};
  auto s = static_cast<cudaStream_t>(stream);
  const bool tiled = kernel != AttentionKernel::Warp && p.key_dim <= kTileKeyDim && p.head_dim <= kTileHeadDim &&
                     p.key_dim % 8 == 0 && p.head_dim % 8 == 0 && rows_aligned16(q) && rows_aligned16(k) && rows_aligned16(v);
  if (kernel == AttentionKernel::Tile && !tiled) throw Error("CUDA attention: the tile kernel cannot take these views");
  if (tiled) {
    const dim3 grid(static_cast<unsigned>((q.h * q.w + kTileQueries - 1) / kTileQueries), static_cast<unsigned>(p.heads),
                    static_cast<unsigned>(q.n));
    launch_kernel("attention_tile_kernel", attention_tile_kernel, grid, kTileQueries * kKeyGroups, s, a);
    return;
  }
  const long long rows = static_cast<long long>(q.n) * p.heads * q.h * q.w;
  launch_kernel("attention_warp_kernel", attention_warp_kernel, blocks_for(rows, kWarps), kWarps * 32, s, a);
}

Y26_CUDA_VARIANT_END
}  // namespace y26::kernels::cuda
