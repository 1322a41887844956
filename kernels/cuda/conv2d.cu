// Convolution on tensor cores as an implicit GEMM (FP16 in, FP32 accumulate):
//   C[M = batch*oh*ow pixels][N = cout] = A[M][K = kh*kw*cin] (im2col, gathered on the fly
//   from the NHWC input view) x B[K][N] (the weights, one K-row per output channel).
// One block computes a BM x BN tile of C with four warps (2x2, each (BM/2)x(BN/2) of WMMA
// 16x16x16 fragments); K advances 32 at a time through a three-stage shared-memory ring filled
// by cp.async (sm_80+), so the gathers of k-blocks kb+1 and kb+2 are in flight while the tensor
// cores work on kb. The epilogue reuses the ring's memory to stage C so that each thread writes
// consecutive channels: bias, SiLU, residual add, FP16 rounding, and a store into any strided
// view (a concat slice) - 16 bytes at a time when the views allow. Depthwise convolutions use a
// direct kernel.
#include <cuda_pipeline_primitives.h>
#include <mma.h>

#include <cstdint>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/device_memory.h"

namespace y26::kernels::cuda {
Y26_CUDA_VARIANT_BEGIN
namespace {

using namespace nvcuda;

constexpr int kBK = kConvK, kThreads = 128, kStages = 3;
constexpr int kRow = kBK + 8;  // halfs per shared A/B row: 80 bytes keeps rows 16-byte aligned and ldmatrix conflict-free
constexpr int kPadC = 4;       // floats of padding per shared C row

struct ConvArgs {
  const unsigned short* in;
  long long in_img, in_px;
  int in_h, in_w, cin;
  unsigned short* out;
  long long out_img, out_px;
  int out_h, out_w, cout;
  const unsigned short* res;  // null: no residual
  long long res_img, res_px;
  const unsigned short* w;
  const float* bias;
  int kh, kw, stride, pad, k_padded;
  int silu;
  int batch;
  int out_vec8;  // 1: cout, the output (and residual) strides and pointers allow 16-byte stores of 8 channels
  // split-K (conv_split): blockIdx.z takes k-blocks [z * per_split, (z + 1) * per_split)
  int splits, per_split;
  float* partial;      // [split][tile][BM * BN]
  unsigned* counters;  // [tile], zero on entry and on exit
};

// Shared memory of one block: the A/B ring during the main loop, then C for the epilogue.
template <int BM, int BN>
struct TileSmem {
  static constexpr int a_stage = BM * kRow, b_stage = BN * kRow;  // halfs per stage
  static constexpr int ring_bytes = kStages * (a_stage + b_stage) * 2;
  static constexpr int c_bytes = BM * (BN + kPadC) * 4;
  static constexpr int bytes = ring_bytes > c_bytes ? ring_bytes : c_bytes;
  static_assert(bytes <= 48 * 1024, "static shared memory limit");
};

// 16 bytes global -> shared without passing through registers: cp.async on sm_80+ (cached in L1, .ca,
// because a 3x3 convolution reads each input pixel up to nine times), a synchronous copy on older GPUs,
// both through CUDA's pipeline primitives; the pipeline's barriers make either correct. !valid fills the
// 16 bytes with zeros and reads nothing.
__device__ __forceinline__ void copy16_async(void* smem, const void* gmem, bool valid) {
  __pipeline_memcpy_async(smem, gmem, 16, valid ? 0 : 16);
}
__device__ __forceinline__ void async_commit() { __pipeline_commit(); }
// Waits until at most N of this thread's committed groups are still in flight.
template <int N>
__device__ __forceinline__ void async_wait() {
  __pipeline_wait_prior(N);
}

// One BM x BN tile of C per block. VEC8: cin, the input strides and pointer allow 16-byte gathers of
// 8 channels (every YOLO26 layer but the 3-channel stem); otherwise A is gathered one value at a time.
template <int BM, int BN, bool VEC8>
__global__ void __launch_bounds__(kThreads) conv_igemm_kernel(ConvArgs a) {
  pdl_prologue();
  using Smem = TileSmem<BM, BN>;
  constexpr int FM = BM / 32, FN = BN / 32;                 // fragments per warp
  constexpr int A_TPR = kThreads / BM, A_K = kBK / A_TPR;  // A: threads per row, k per thread
  constexpr int B_TPR = kThreads / BN, B_K = kBK / B_TPR;  // B: same for weight rows
  static_assert(A_K % 8 == 0 && B_K % 8 == 0, "16-byte copies");
  __shared__ __align__(128) unsigned char smem[Smem::bytes];
  __shared__ unsigned arrived;  // split-K: how many splits of this tile finished before this block
  __shared__ long long row_out[BM], row_res[BM];  // epilogue: each C row's output (residual) pixel, -1 past M
  __half* const As = reinterpret_cast<__half*>(smem);  // [kStages][BM][kRow]
  __half* const Bs = As + kStages * Smem::a_stage;      // [kStages][BN][kRow]
  float* const Cs = reinterpret_cast<float*>(smem);     // [BM][BN + kPadC], only after the main loop

  const int tid = threadIdx.x, warp = tid / 32;
  const long long M = static_cast<long long>(a.batch) * a.out_h * a.out_w;
  const long long m0 = static_cast<long long>(blockIdx.x) * BM;
  const int n0 = blockIdx.y * BN;

  // This thread gathers A_K consecutive k of one pixel row of A and B_K of one weight row of B.
  const int a_row = tid / A_TPR, a_col0 = (tid % A_TPR) * A_K;
  const int b_row = tid / B_TPR, b_col0 = (tid % B_TPR) * B_K;
  const long long m = m0 + a_row;
  const bool m_ok = m < M;
  int b = 0, oy = 0, ox = 0;
  if (m_ok) {
    ox = static_cast<int>(m % a.out_w);
    oy = static_cast<int>((m / a.out_w) % a.out_h);
    b = static_cast<int>(m / (static_cast<long long>(a.out_w) * a.out_h));
  }
  const int co_row = n0 + b_row;
  const bool co_ok = co_row < a.cout;
  const unsigned short* const w_row = a.w + static_cast<long long>(co_ok ? co_row : 0) * a.k_padded + b_col0;
  const unsigned short* const in_image = a.in + static_cast<long long>(b) * a.in_img;
  const int iy0 = oy * a.stride - a.pad, ix0 = ox * a.stride - a.pad;

  // This block's k-blocks: all, or its split's run of them.
  const int kb_begin = blockIdx.z * a.per_split;
  const int kb_end = min(a.k_padded / kBK, kb_begin + a.per_split);
  const int num_k = kb_end - kb_begin;

  // Where this thread's A gathers stand, k = (ky * kw + kx) * cin + ci: divided out once here, then only
  // advanced (load_stage is called for k-blocks in increasing order), because integer division is slow
  // on a GPU. ky == kh means k is in the zero padding of K.
  struct KPos {
    int ci, kx, ky;
  };
  const auto advance = [&](KPos& p, int delta) {
    p.ci += delta;
    while (p.ci >= a.cin) {
      p.ci -= a.cin;
      if (++p.kx == a.kw) p.kx = 0, ++p.ky;
    }
  };
  KPos next_a;
  {
    const int k = kb_begin * kBK + a_col0, tap = k / a.cin;
    next_a = {k % a.cin, tap % a.kw, tap / a.kw};
  }

  // Fills ring stage s with k-block kb: A gathered from the input pixels its k-range covers; B from the
  // weight rows, which are zero-padded to k_padded, so only the channel needs a bound.
  auto load_stage = [&](int s, int kb) {
    KPos p = next_a;
    __half* const a_dst = As + s * Smem::a_stage + a_row * kRow + a_col0;
    if constexpr (VEC8) {
      for (int j = 0; j < A_K; j += 8) {  // cin % 8 == 0: an aligned group of 8 k lies in one pixel
        const int iy = iy0 + p.ky, ix = ix0 + p.kx;
        const bool valid = m_ok && p.ky < a.kh && iy >= 0 && iy < a.in_h && ix >= 0 && ix < a.in_w;
        const unsigned short* src = valid ? in_image + (static_cast<long long>(iy) * a.in_w + ix) * a.in_px + p.ci : a.in;
        copy16_async(a_dst + j, src, valid);
        advance(p, 8);
      }
    } else {
      for (int j = 0; j < A_K; ++j) {
        const int iy = iy0 + p.ky, ix = ix0 + p.kx;
        const bool valid = m_ok && p.ky < a.kh && iy >= 0 && iy < a.in_h && ix >= 0 && ix < a.in_w;
        const float v = valid ? load_half(in_image + (static_cast<long long>(iy) * a.in_w + ix) * a.in_px + p.ci) : 0.0f;
        a_dst[j] = __float2half_rn(v);  // exact: v is an FP16 value or 0
        advance(p, 1);
      }
    }
    advance(p, kBK - A_K);  // the other threads' part of this k-block's row
    next_a = p;
    __half* const b_dst = Bs + s * Smem::b_stage + b_row * kRow + b_col0;
    for (int q = 0; q < B_K; q += 8) copy16_async(b_dst + q, co_ok ? w_row + kb * kBK + q : a.w, co_ok);
  };

  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[FM][FN];
  for (int i = 0; i < FM; ++i)
    for (int j = 0; j < FN; ++j) wmma::fill_fragment(acc[i][j], 0.0f);
  const int wm = warp / 2, wn = warp % 2;

  // The ring: the t-th k-block of this block lives in stage t % kStages. Each thread commits exactly
  // one copy group per k-block (empty past the end), so "at most kStages - 2 groups pending" means
  // block t has landed.
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < num_k) load_stage(s, kb_begin + s);
    async_commit();
  }
  for (int t = 0; t < num_k; ++t) {
    async_wait<kStages - 2>();
    // Everyone's copies of block t are visible, and everyone has finished computing on block t - 1,
    // whose stage the next load overwrites.
    __syncthreads();
    const int next = t + kStages - 1;
    if (next < num_k) load_stage(next % kStages, kb_begin + next);
    async_commit();
    const __half* const a_tile = As + (t % kStages) * Smem::a_stage;
    const __half* const b_tile = Bs + (t % kStages) * Smem::b_stage;
    for (int kk = 0; kk < kBK; kk += 16) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> fa[FM];
      wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> fb[FN];
      for (int i = 0; i < FM; ++i) wmma::load_matrix_sync(fa[i], a_tile + (wm * (BM / 2) + i * 16) * kRow + kk, kRow);
      for (int j = 0; j < FN; ++j) wmma::load_matrix_sync(fb[j], b_tile + (wn * (BN / 2) + j * 16) * kRow + kk, kRow);
      for (int i = 0; i < FM; ++i)
        for (int j = 0; j < FN; ++j) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
    }
  }
  async_wait<0>();
  __syncthreads();  // the ring is idle: C may overwrite it

  constexpr int ldc = BN + kPadC;
  if (tid % A_TPR == 0) {  // the row's pixel was decoded for the A gathers: no division in the epilogue
    const long long px = static_cast<long long>(oy) * a.out_w + ox;
    row_out[a_row] = m_ok ? b * a.out_img + px * a.out_px : -1;
    row_res[a_row] = m_ok ? b * a.res_img + px * a.res_px : -1;
  }
  for (int i = 0; i < FM; ++i)
    for (int j = 0; j < FN; ++j)
      wmma::store_matrix_sync(Cs + (wm * (BM / 2) + i * 16) * ldc + wn * (BN / 2) + j * 16, acc[i][j], ldc, wmma::mem_row_major);
  __syncthreads();

  if (a.splits > 1) {
    // Split-K: publish this split's partial tile; the last split of the tile to arrive sums all of them
    // in split order (the same sum whichever block is last) and goes on to the epilogue.
    const long long tiles = static_cast<long long>(gridDim.x) * gridDim.y;
    const long long tile = static_cast<long long>(blockIdx.y) * gridDim.x + blockIdx.x;
    float* const mine = a.partial + (blockIdx.z * tiles + tile) * (BM * BN);
    for (int e = tid; e < BM * BN; e += kThreads) mine[e] = Cs[e / BN * ldc + e % BN];
    __threadfence();  // the partial is visible to every SM before the counter says so
    __syncthreads();
    if (tid == 0) arrived = atomicAdd(a.counters + tile, 1u);
    __syncthreads();
    if (arrived != static_cast<unsigned>(a.splits - 1)) return;  // uniform across the block
    __threadfence();  // pairs with the other splits' fences before their counts
    for (int e = tid; e < BM * BN; e += kThreads) {
      float v = 0.0f;
      for (int sp = 0; sp < a.splits; ++sp) v += __ldcg(a.partial + (sp * tiles + tile) * (BM * BN) + e);  // L2, not a stale L1
      Cs[e / BN * ldc + e % BN] = v;
    }
    if (tid == 0) a.counters[tile] = 0;  // ready for the next convolution: kernels on one stream run in order
    __syncthreads();
  }

  // Epilogue: consecutive threads take consecutive output channels of a pixel, 8 at a time when aligned.
  if (a.out_vec8) {
    for (int e = tid; e < BM * BN / 8; e += kThreads) {
      const int r = e / (BN / 8), c = e % (BN / 8) * 8;
      const int co = n0 + c;
      if (row_out[r] < 0 || co >= a.cout) continue;  // cout % 8 == 0: all 8 channels exist
      unsigned short res[8] = {}, o[8];
      if (a.res) load8_bits(a.res + row_res[r] + co, res);
      for (int ch = 0; ch < 8; ++ch) {
        float v = Cs[r * ldc + c + ch] + a.bias[co + ch];
        if (a.silu) v = silu(v);
        if (a.res) v += __half2float(__ushort_as_half(res[ch]));
        o[ch] = to_half_bits(v);
      }
      store8_bits(a.out + row_out[r] + co, o);
    }
    return;
  }
  for (int e = tid; e < BM * BN; e += kThreads) {
    const int r = e / BN, c = e % BN;
    const int co = n0 + c;
    if (row_out[r] < 0 || co >= a.cout) continue;
    float v = Cs[r * ldc + c] + a.bias[co];
    if (a.silu) v = silu(v);
    if (a.res) v += load_half(a.res + row_res[r] + co);
    a.out[row_out[r] + co] = to_half_bits(v);
  }
}

// Depthwise: one thread per VEC consecutive channels of one output pixel. VEC 8 (channels, strides and
// pointers allow 16-byte accesses) reads input, weights and residual and writes the output 16 bytes at
// a time; VEC 1 takes any view.
template <int VEC>
__global__ void __launch_bounds__(256) depthwise_kernel(ConvArgs a) {
  pdl_prologue();
  NhwcIndex e;
  if (!vec_thread_index<VEC>(a.batch, a.out_h, a.out_w, a.cout, e)) return;
  const auto [b, y, x, ch] = e;
  float acc[VEC] = {};
  for (int ky = 0; ky < a.kh; ++ky) {
    const int iy = y * a.stride - a.pad + ky;
    if (iy < 0 || iy >= a.in_h) continue;
    for (int kx = 0; kx < a.kw; ++kx) {
      const int ix = x * a.stride - a.pad + kx;
      if (ix < 0 || ix >= a.in_w) continue;
      float v[VEC], w[VEC];
      load_floats<VEC>(at(a.in, a.in_img, a.in_px, a.in_w, b, iy, ix) + ch, v);
      load_floats<VEC>(a.w + (ky * a.kw + kx) * a.cout + ch, w);
      for (int j = 0; j < VEC; ++j) acc[j] += v[j] * w[j];
    }
  }
  float r[VEC] = {};
  if (a.res) load_floats<VEC>(at(a.res, a.res_img, a.res_px, a.out_w, b, y, x) + ch, r);
  unsigned short o[VEC];
  for (int j = 0; j < VEC; ++j) {
    float v = acc[j] + a.bias[ch + j];
    if (a.silu) v = silu(v);
    o[j] = to_half_bits(v + r[j]);  // + 0 without a residual: exact
  }
  unsigned short* dst = at(a.out, a.out_img, a.out_px, a.out_w, b, y, x) + ch;
  if constexpr (VEC == 8) {
    store8_bits(dst, o);
  } else {
    dst[0] = o[0];
  }
}

}  // namespace

void conv2d(const View<const half_bits>& in, const View<half_bits>& out, const DeviceConvWeights& w, const ConvParams& p,
            const View<const half_bits>* residual, void* stream, ConvTile tile, const ConvScratch* scratch) {
  const bool depthwise = w.groups > 1;
  if (w.cin != in.c || w.cout != out.c || (depthwise && (w.groups != w.cin || w.cin != w.cout))) {
    throw Error("CUDA conv2d: weights do not match the views' channels");
  }
  if (!depthwise && (w.k_padded != conv_k_padded(w.kh, w.kw, w.cin)))
    throw Error("CUDA conv2d: weight rows are not padded to 32");
  ConvArgs a{};
  a.in = in.data, a.in_img = in.image_stride, a.in_px = in.pixel_stride, a.in_h = in.h, a.in_w = in.w, a.cin = in.c;
  a.out = out.data, a.out_img = out.image_stride, a.out_px = out.pixel_stride, a.out_h = out.h, a.out_w = out.w, a.cout = out.c;
  if (residual) a.res = residual->data, a.res_img = residual->image_stride, a.res_px = residual->pixel_stride;
  a.w = w.w, a.bias = w.bias, a.kh = w.kh, a.kw = w.kw, a.stride = p.stride, a.pad = p.pad;
  a.k_padded = w.k_padded;
  a.silu = p.act == Activation::SiLU;
  a.batch = out.n;
  const bool in_vec8 = in.c % 8 == 0 && rows_aligned16(in);
  a.out_vec8 = out.c % 8 == 0 && rows_aligned16(out) && (!residual || rows_aligned16(*residual));
  auto s = static_cast<cudaStream_t>(stream);
  if (depthwise) {
    const long long pixels = static_cast<long long>(out.n) * out.h * out.w;
    if (in_vec8 && a.out_vec8 && reinterpret_cast<std::uintptr_t>(w.w) % 16 == 0) {  // weight rows: cout % 8 == 0 halfs
      launch_kernel("depthwise_kernel", depthwise_kernel<8>, blocks_for(pixels * (out.c / 8), 256), 256, s, a);
    } else {
      launch_kernel("depthwise_kernel", depthwise_kernel<1>, blocks_for(pixels * out.c, 256), 256, s, a);
    }
    return;
  }
  const long long M = static_cast<long long>(out.n) * out.h * out.w;
  a.splits = 1, a.per_split = w.k_padded / kBK;
  if (tile == ConvTile::Auto) {
    const ConvLaunch how = choose_conv_launch(M, out.c, w.k_padded, scratch);
    tile = how.tile;
    if (how.splits > 1) {
      a.splits = how.splits;
      a.per_split = (w.k_padded / kBK + how.splits - 1) / how.splits;
      a.partial = scratch->partial, a.counters = scratch->counters;
    }
  }
  const auto launch = [&](auto kernel, int bm, int bn) {
    launch_kernel("conv_igemm_kernel", kernel, dim3(blocks_for(M, bm), (out.c + bn - 1) / bn, a.splits), kThreads, s, a);
  };
  switch (tile) {
    case ConvTile::Tile128x64:
      in_vec8 ? launch(conv_igemm_kernel<128, 64, true>, 128, 64) : launch(conv_igemm_kernel<128, 64, false>, 128, 64);
      break;
    case ConvTile::Tile64x64:
      in_vec8 ? launch(conv_igemm_kernel<64, 64, true>, 64, 64) : launch(conv_igemm_kernel<64, 64, false>, 64, 64);
      break;
    case ConvTile::Tile64x32:
      in_vec8 ? launch(conv_igemm_kernel<64, 32, true>, 64, 32) : launch(conv_igemm_kernel<64, 32, false>, 64, 32);
      break;
    default:
      in_vec8 ? launch(conv_igemm_kernel<32, 32, true>, 32, 32) : launch(conv_igemm_kernel<32, 32, false>, 32, 32);
      break;
  }
}

ConvLaunch choose_conv_launch(long long pixels, int cout, int k_padded, const ConvScratch* scratch) {
  const ConvSplit split = conv_split(pixels, cout, k_padded);
  if (split.splits > 1 && scratch && scratch->partial_bytes >= split.partial_bytes() &&
      scratch->counter_bytes >= split.counter_bytes()) {
    return {ConvTile::Tile32x32, split.splits};
  }
  return {choose_conv_tile(pixels, cout, current_device_traits().sms), 1};
}

ConvTile choose_conv_tile(long long pixels, int cout, int sms) {
  // The largest tile that still gives every SM two blocks: big tiles reuse each gathered value across
  // more MMAs (batch 64), small ones fill the GPU when a layer is small (20x20 pixels at batch 1).
  // 64-channel tiles only when there are more than 32 output channels to fill them.
  struct Shape {
    ConvTile tile;
    int bm, bn;
  };
  constexpr Shape shapes[] = {{ConvTile::Tile128x64, 128, 64}, {ConvTile::Tile64x64, 64, 64}, {ConvTile::Tile64x32, 64, 32}};
  for (const auto& sh : shapes) {
    if (sh.bn == 64 && cout <= 32) continue;
    const long long blocks = (pixels + sh.bm - 1) / sh.bm * ((cout + sh.bn - 1) / sh.bn);
    if (blocks >= 2LL * sms) return sh.tile;
  }
  return ConvTile::Tile32x32;
}

Y26_CUDA_VARIANT_END
}  // namespace y26::kernels::cuda
