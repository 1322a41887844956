// Top-k selection and the end-to-end head's post-processing on the device.
//
// top_k_kernel, one block per image: keys become order-preserving unsigned ints;
// four radix passes find the k-th largest key T eight bits at a time (a 256-bin
// shared histogram of the next digit among the keys matching the digits so far,
// warp-aggregated atomics because scores crowd into few bins); every thread then owns
// a contiguous run of indices, and a block scan places the keys > T and the first
// (k - #greater) keys == T, in index order, into shared memory; a bitonic sort
// orders those by (key desc, index asc). Ties therefore resolve exactly as the CPU
// twin (runtime/postprocess.cpp top_k) resolves them.
#include "kernels/cuda/head.cuh"

namespace y26::kernels::cuda {
Y26_CUDA_VARIANT_BEGIN
namespace {

constexpr int kThreads = 1024;

__device__ __forceinline__ unsigned int orderable(float f) {
  if (f != f) return 0u;  // NaN ranks last
  // -0 and +0 compare equal on the CPU (runtime::top_k_indices orders them by index): one key for both
  const unsigned int b = f == 0.0f ? 0u : __float_as_uint(f);
  return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

__device__ int block_sum(int v, int* scratch) {
  // scratch: kThreads / 32 ints
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  if (threadIdx.x % 32 == 0) scratch[threadIdx.x / 32] = v;
  __syncthreads();
  int total = 0;
  for (int i = 0; i < kThreads / 32; ++i) total += scratch[i];
  __syncthreads();
  return total;
}

// Exclusive scan of one int per thread over the block.
__device__ int block_exclusive_scan(int v, int* buf) {
  buf[threadIdx.x] = v;
  __syncthreads();
  for (int o = 1; o < kThreads; o <<= 1) {
    const int add = static_cast<int>(threadIdx.x) >= o ? buf[threadIdx.x - o] : 0;
    __syncthreads();
    buf[threadIdx.x] += add;
    __syncthreads();
  }
  const int inclusive = buf[threadIdx.x];
  __syncthreads();
  return inclusive - v;
}

__global__ void __launch_bounds__(kThreads)
    top_k_kernel(const float* keys, long long n, int k, int* out_index, float* out_value) {
  pdl_prologue();
  __shared__ int warp_sums[kThreads / 32];
  __shared__ int scan[kThreads];
  __shared__ unsigned int sk[kTopKMax];
  __shared__ int si[kTopKMax];
  const float* x = keys + blockIdx.x * n;

  // 1. the k-th largest orderable key, one 8-bit digit per pass from the top
  __shared__ int hist[256];
  __shared__ unsigned int found_digit;
  __shared__ int found_above;
  unsigned int prefix = 0, mask = 0;
  int remaining = k;  // the answer is the remaining-th largest of the keys matching prefix under mask
  const long long rounds = (n + kThreads - 1) / kThreads;  // whole warps stay in the loop (for the warp votes)
  for (int shift = 24; shift >= 0; shift -= 8) {
    for (int i = threadIdx.x; i < 256; i += kThreads) hist[i] = 0;
    __syncthreads();
    for (long long r = 0; r < rounds; ++r) {
      const long long i = r * kThreads + threadIdx.x;
      const unsigned int u = i < n ? orderable(x[i]) : 0u;
      const bool take = i < n && (u & mask) == prefix;
      const unsigned int digit = (u >> shift) & 255u;
      const unsigned int takers = __ballot_sync(0xffffffffu, take);
      if (take) {
        const unsigned int peers = __match_any_sync(takers, digit);  // lanes with the same digit
        if ((threadIdx.x % 32) == static_cast<unsigned int>(__ffs(peers) - 1)) atomicAdd(&hist[digit], __popc(peers));
      }
    }
    __syncthreads();
    if (threadIdx.x < 32) {
      // lane l counts digits 255 - 8l down to 248 - 8l; a warp scan gives the keys above each lane's digits
      const int lane = static_cast<int>(threadIdx.x);
      int own = 0;
      for (int j = 0; j < 8; ++j) own += hist[255 - 8 * lane - j];
      int inclusive = own;
      for (int o = 1; o < 32; o <<= 1) {
        const int v = __shfl_up_sync(0xffffffffu, inclusive, o);
        if (lane >= o) inclusive += v;
      }
      int above = inclusive - own;
      if (above < remaining && remaining <= above + own) {  // exactly one lane holds the remaining-th key
        for (int j = 0; j < 8; ++j) {
          const int d = 255 - 8 * lane - j;
          if (remaining <= above + hist[d]) {
            found_digit = static_cast<unsigned int>(d), found_above = above;
            break;
          }
          above += hist[d];
        }
      }
    }
    __syncthreads();
    prefix |= found_digit << shift;
    mask |= 255u << shift;
    remaining -= found_above;
    __syncthreads();  // hist and found_* are rewritten by the next pass
  }
  const unsigned int t = prefix;
  // 2. order-preserving compaction: all keys > t, then the lowest-index keys == t
  const long long chunk = (n + kThreads - 1) / kThreads;
  const long long begin = threadIdx.x * chunk, end = min(n, begin + chunk);
  int gt = 0, eq = 0;
  for (long long i = begin; i < end; ++i) {
    const unsigned int u = orderable(x[i]);
    gt += u > t;
    eq += u == t;
  }
  const int gt_before = block_exclusive_scan(gt, scan);
  const int eq_before = block_exclusive_scan(eq, scan);
  const int total_gt = block_sum(gt, warp_sums);
  const int need_eq = k - total_gt;
  int g = gt_before, e = eq_before;
  for (long long i = begin; i < end; ++i) {
    const unsigned int u = orderable(x[i]);
    if (u > t) {
      sk[g] = u, si[g] = static_cast<int>(i), ++g;
    } else if (u == t) {
      if (e < need_eq) sk[total_gt + e] = u, si[total_gt + e] = static_cast<int>(i);
      ++e;
    }
  }
  // 3. bitonic sort of the k survivors (padded to a power of two with the lowest rank)
  int p = 1;
  while (p < k) p <<= 1;
  for (int i = k + threadIdx.x; i < p; i += kThreads) sk[i] = 0u, si[i] = 0x7fffffff;
  __syncthreads();
  for (int size = 2; size <= p; size <<= 1) {
    for (int stride = size / 2; stride > 0; stride >>= 1) {
      for (int i = threadIdx.x; i < p; i += kThreads) {
        const int j = i ^ stride;
        if (j > i) {
          // "a before b" = key a > key b, or equal keys and index a < index b
          const bool a_first = sk[i] > sk[j] || (sk[i] == sk[j] && si[i] < si[j]);
          const bool descending = (i & size) == 0;
          if (descending != a_first) {
            const unsigned int tk = sk[i];
            sk[i] = sk[j], sk[j] = tk;
            const int ti = si[i];
            si[i] = si[j], si[j] = ti;
          }
        }
      }
      __syncthreads();
    }
  }
  for (int i = threadIdx.x; i < k; i += kThreads) {
    out_index[blockIdx.x * k + i] = si[i];
    if (out_value) out_value[blockIdx.x * k + i] = x[si[i]];
  }
}

// best[image][anchor] = sigmoid(max class logit)
__global__ void best_score_kernel(const unsigned short* head, int batch, int anchors, int nc, int row, float* best) {
  pdl_prologue();
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<long long>(batch) * anchors) return;
  best[i] = best_class_score(head + i * row, nc);
}

// pairs[image][j * nc + c] = sigmoid(logit of anchor top_anchor[image][j], class c)
__global__ void gather_pairs_kernel(const unsigned short* head, int anchors, int nc, int row, int k, const int* top_anchor,
                                    float* pairs, long long total) {
  pdl_prologue();
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= total) return;
  const long long per_image = static_cast<long long>(k) * nc;
  const int b = static_cast<int>(i / per_image);
  const int j = static_cast<int>((i % per_image) / nc), c = static_cast<int>(i % nc);
  const int a = top_anchor[b * k + j];
  pairs[i] = sigmoid(load_half(head + (static_cast<long long>(b) * anchors + a) * row + 4 + c));
}

__global__ void decode_kernel(const unsigned short* head, int batch, int anchors, int nc, int row, HeadExtras e, int k,
                              HeadLevels lv, const int* top_anchor, const int* top_pair, const float* pair_score, float* out) {
  pdl_prologue();
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= batch * k) return;
  const int b = i / k;
  const int p = top_pair[i];
  const int a = top_anchor[b * k + p / nc];
  const auto [ax, ay, s] = anchor_point(lv, a);
  const unsigned short* r = head + (static_cast<long long>(b) * anchors + a) * row;
  float* o = out + static_cast<long long>(i) * e.row_floats();
  if (e.angle >= 0) {  // an OBB head: xywh and the angle
    const RotatedBoxD rb = decode_rotated_row(r, e.angle, ax, ay, s);
    o[0] = rb.cx, o[1] = rb.cy, o[2] = rb.w, o[3] = rb.h, o[6] = rb.angle;
  } else {
    o[0] = __fmul_rn(__fsub_rn(ax, load_half(r + 0)), s);
    o[1] = __fmul_rn(__fsub_rn(ay, load_half(r + 1)), s);
    o[2] = __fmul_rn(__fadd_rn(ax, load_half(r + 2)), s);
    o[3] = __fmul_rn(__fadd_rn(ay, load_half(r + 3)), s);
  }
  o[4] = pair_score[i];
  o[5] = static_cast<float>(p % nc);
  if (e.kpt_channel >= 0) decode_keypoints_row(r, e, ax, ay, s, o + 6, 0, 1);  // a pose head's keypoints
}

}  // namespace

void top_k(const float* keys, std::int64_t n, int k, int batch, int* out_index, float* out_value, void* stream) {
  if (k <= 0 || k > kTopKMax || k > n) throw Error("CUDA top_k: k must be in [1, min(n, 2048)]");
  launch_kernel("top_k_kernel", top_k_kernel, batch, kThreads, static_cast<cudaStream_t>(stream), keys, n, k, out_index,
                out_value);
}

void select_end2end(const half_bits* head, int batch, int anchors, int nc, int row, const HeadExtras& extras, int k,
                    const HeadLevels& levels, void* workspace, float* out, void* stream) {
  check_head_extras("CUDA select_end2end", row, nc, extras);
  auto s = static_cast<cudaStream_t>(stream);
  char* ws = static_cast<char*>(workspace);
  const std::int64_t b = batch;
  auto* best = reinterpret_cast<float*>(ws);
  ws += align_device(b * anchors * 4);
  auto* top_anchor = reinterpret_cast<int*>(ws);
  ws += align_device(b * k * 4);
  auto* pairs = reinterpret_cast<float*>(ws);
  ws += align_device(b * k * nc * 4);
  auto* top_pair = reinterpret_cast<int*>(ws);
  ws += align_device(b * k * 4);
  auto* pair_score = reinterpret_cast<float*>(ws);
  launch_kernel("best_score_kernel", best_score_kernel, blocks_for(b * anchors, 256), 256, s, head, batch, anchors, nc, row, best);
  top_k(best, anchors, k, batch, top_anchor, nullptr, stream);
  launch_kernel("gather_pairs_kernel", gather_pairs_kernel, blocks_for(b * k * nc, 256), 256, s, head, anchors, nc, row, k,
                top_anchor, pairs, b * k * nc);
  top_k(pairs, static_cast<std::int64_t>(k) * nc, k, batch, top_pair, pair_score, stream);
  launch_kernel("decode_kernel", decode_kernel, blocks_for(b * k, 256), 256, s, head, batch, anchors, nc, row, extras, k,
                levels, top_anchor, top_pair, pair_score, out);
}

Y26_CUDA_VARIANT_END
}  // namespace y26::kernels::cuda
