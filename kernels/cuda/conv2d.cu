// Convolution on tensor cores as an implicit GEMM (FP16 in, FP32 accumulate):
//   C[M = batch*oh*ow pixels][N = cout] = A[M][K = kh*kw*cin] (im2col, gathered on the fly
//   from the NHWC input view) x B[K][N] (the weights, one K-row per output channel).
// One block computes a 64x64 tile of C with four warps (2x2, 32x32 each, WMMA 16x16x16);
// K advances 32 at a time through shared memory. The epilogue goes through shared memory
// so each thread writes consecutive channels: bias, SiLU, residual add, FP16 rounding, and a
// store into any strided view (a concat slice). Depthwise convolutions use a direct kernel.
#include <mma.h>

#include <cstdint>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace y26::kernels::cuda {
namespace {

using namespace nvcuda;

constexpr int kBK = kConvK, kThreads = 128;
constexpr int kPadA = 8, kPadC = 4;  // shared-memory row padding against bank conflicts

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
  int kh, kw, stride, pad, k_total, k_padded;
  int silu;
  int batch;
  int vec8;  // 1: cin, the pixel stride and the data pointer allow 16-byte loads of 8 channels
};

// One BM x BN tile of C per block; four warps in a 2 x 2 grid, each (BM/2) x (BN/2) of 16x16 fragments.
template <int BM, int BN>
__global__ void __launch_bounds__(kThreads) conv_igemm_kernel(ConvArgs a) {
  constexpr int FM = BM / 32, FN = BN / 32;                           // fragments per warp
  constexpr int A_TPR = kThreads / BM, A_K = kBK / A_TPR;            // A: threads per row, k per thread
  constexpr int B_TPR = kThreads / BN, B_K = kBK / B_TPR;            // B: same for weight rows
  static_assert(A_K % 8 == 0 && B_K % 8 == 0, "16-byte weight loads");
  __shared__ __align__(128) __half As[BM][kBK + kPadA];
  __shared__ __align__(128) __half Bs[BN][kBK + kPadA];
  __shared__ __align__(128) float Cs[BM][BN + kPadC];

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

  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[FM][FN];
  for (int i = 0; i < FM; ++i)
    for (int j = 0; j < FN; ++j) wmma::fill_fragment(acc[i][j], 0.0f);
  const int wm = warp / 2, wn = warp % 2;

  for (int k0 = 0; k0 < a.k_padded; k0 += kBK) {
    // A: decode k -> (ky, kx, ci) once, then step ci with wrap-around.
    int k = k0 + a_col0;
    int ci = k % a.cin, tap = k / a.cin;
    if (a.vec8) {
      // cin % 8 == 0: every aligned group of 8 k lies in one pixel, one 16-byte load each
      for (int j = 0; j < A_K; j += 8, k += 8) {
        uint4 v = make_uint4(0, 0, 0, 0);
        if (m_ok && k < a.k_total) {
          const int ky = tap / a.kw, kx = tap % a.kw;
          const int iy = oy * a.stride - a.pad + ky, ix = ox * a.stride - a.pad + kx;
          if (iy >= 0 && iy < a.in_h && ix >= 0 && ix < a.in_w) {
            v = *reinterpret_cast<const uint4*>(at(a.in, a.in_img, a.in_px, a.in_w, b, iy, ix) + ci);
          }
        }
        *reinterpret_cast<uint4*>(&As[a_row][a_col0 + j]) = v;
        ci += 8;
        if (ci == a.cin) ci = 0, ++tap;
      }
    } else {
      for (int j = 0; j < A_K; ++j, ++k) {
        float v = 0.0f;
        if (m_ok && k < a.k_total) {
          const int ky = tap / a.kw, kx = tap % a.kw;
          const int iy = oy * a.stride - a.pad + ky, ix = ox * a.stride - a.pad + kx;
          if (iy >= 0 && iy < a.in_h && ix >= 0 && ix < a.in_w) v = load_half(at(a.in, a.in_img, a.in_px, a.in_w, b, iy, ix) + ci);
        }
        As[a_row][a_col0 + j] = __float2half_rn(v);  // exact: v is an FP16 value or 0
        if (++ci == a.cin) ci = 0, ++tap;
      }
    }
    // B: weight rows are zero-padded to k_padded, so only the channel needs a bound.
    if (co_row < a.cout) {
      const uint4* src = reinterpret_cast<const uint4*>(a.w + static_cast<long long>(co_row) * a.k_padded + k0 + b_col0);
      uint4* dst = reinterpret_cast<uint4*>(&Bs[b_row][b_col0]);
      for (int q = 0; q < B_K / 8; ++q) dst[q] = src[q];
    } else {
      for (int j = 0; j < B_K; ++j) Bs[b_row][b_col0 + j] = __float2half_rn(0.0f);
    }
    __syncthreads();
    for (int kk = 0; kk < kBK; kk += 16) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> fa[FM];
      wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> fb[FN];
      for (int i = 0; i < FM; ++i) wmma::load_matrix_sync(fa[i], &As[wm * (BM / 2) + i * 16][kk], kBK + kPadA);
      for (int j = 0; j < FN; ++j) wmma::load_matrix_sync(fb[j], &Bs[wn * (BN / 2) + j * 16][kk], kBK + kPadA);
      for (int i = 0; i < FM; ++i)
        for (int j = 0; j < FN; ++j) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
    }
    __syncthreads();
  }

  for (int i = 0; i < FM; ++i)
    for (int j = 0; j < FN; ++j)
      wmma::store_matrix_sync(&Cs[wm * (BM / 2) + i * 16][wn * (BN / 2) + j * 16], acc[i][j], BN + kPadC, wmma::mem_row_major);
  __syncthreads();

  // Epilogue: consecutive threads take consecutive output channels of a pixel.
  for (int e = tid; e < BM * BN; e += kThreads) {
    const int r = e / BN, c = e % BN;
    const long long mm = m0 + r;
    const int co = n0 + c;
    if (mm >= M || co >= a.cout) continue;
    const int x = static_cast<int>(mm % a.out_w), y = static_cast<int>((mm / a.out_w) % a.out_h);
    const int bb = static_cast<int>(mm / (static_cast<long long>(a.out_w) * a.out_h));
    float v = Cs[r][c] + a.bias[co];
    if (a.silu) v = silu(v);
    if (a.res) v += load_half(at(a.res, a.res_img, a.res_px, a.out_w, bb, y, x) + co);
    at(a.out, a.out_img, a.out_px, a.out_w, bb, y, x)[co] = to_half_bits(v);
  }
}

// Streaming multiprocessors of the current device, asked once.
int sm_count() {
  static const int n = [] {
    int dev = 0, count = 0;
    cudaGetDevice(&dev);
    cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, dev);
    return count > 0 ? count : 1;
  }();
  return n;
}

__global__ void __launch_bounds__(256) depthwise_kernel(ConvArgs a) {
  const long long total = static_cast<long long>(a.batch) * a.out_h * a.out_w * a.cout;
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= total) return;
  const auto [b, y, x, ch] = nhwc_index(i, a.out_h, a.out_w, a.cout);
  float acc = 0.0f;
  for (int ky = 0; ky < a.kh; ++ky) {
    const int iy = y * a.stride - a.pad + ky;
    if (iy < 0 || iy >= a.in_h) continue;
    for (int kx = 0; kx < a.kw; ++kx) {
      const int ix = x * a.stride - a.pad + kx;
      if (ix < 0 || ix >= a.in_w) continue;
      acc += load_half(at(a.in, a.in_img, a.in_px, a.in_w, b, iy, ix) + ch) * load_half(a.w + (ky * a.kw + kx) * a.cout + ch);
    }
  }
  float v = acc + a.bias[ch];
  if (a.silu) v = silu(v);
  if (a.res) v += load_half(at(a.res, a.res_img, a.res_px, a.out_w, b, y, x) + ch);
  at(a.out, a.out_img, a.out_px, a.out_w, b, y, x)[ch] = to_half_bits(v);
}

}  // namespace

void conv2d(const View<const half_bits>& in, const View<half_bits>& out, const DeviceConvWeights& w, const ConvParams& p,
            const View<const half_bits>* residual, void* stream, ConvTile tile) {
  const bool depthwise = w.groups > 1;
  if (w.cin != in.c || w.cout != out.c || (depthwise && (w.groups != w.cin || w.cin != w.cout))) {
    throw Error("CUDA conv2d: weights do not match the views' channels");
  }
  if (!depthwise && (w.k_padded != conv_k_padded(w.kh, w.kw, w.cin))) throw Error("CUDA conv2d: weight rows are not padded to 32");
  ConvArgs a{};
  a.in = in.data, a.in_img = in.image_stride, a.in_px = in.pixel_stride, a.in_h = in.h, a.in_w = in.w, a.cin = in.c;
  a.out = out.data, a.out_img = out.image_stride, a.out_px = out.pixel_stride, a.out_h = out.h, a.out_w = out.w, a.cout = out.c;
  if (residual) a.res = residual->data, a.res_img = residual->image_stride, a.res_px = residual->pixel_stride;
  a.w = w.w, a.bias = w.bias, a.kh = w.kh, a.kw = w.kw, a.stride = p.stride, a.pad = p.pad;
  a.k_total = w.kh * w.kw * w.cin, a.k_padded = w.k_padded;
  a.silu = p.act == Activation::SiLU;
  a.batch = out.n;
  a.vec8 = in.c % 8 == 0 && in.pixel_stride % 8 == 0 && in.image_stride % 8 == 0 &&
           reinterpret_cast<std::uintptr_t>(in.data) % 16 == 0;
  auto s = static_cast<cudaStream_t>(stream);
  if (depthwise) {
    const long long total = static_cast<long long>(out.n) * out.h * out.w * out.c;
    depthwise_kernel<<<blocks_for(total, 256), 256, 0, s>>>(a);
    check_launch("depthwise_kernel");
  } else {
    const long long M = static_cast<long long>(out.n) * out.h * out.w;
    if (tile == ConvTile::Auto) {
      // Tiles per layer shape: 64x64 while that still gives every SM two blocks, else 32x32,
      // so the small late layers at batch 1 (20x20 pixels, 256 channels) fill the GPU too.
      const long long big = static_cast<long long>(blocks_for(M, 64)) * ((out.c + 63) / 64);
      tile = big >= 2LL * sm_count() ? ConvTile::Tile64x64 : ConvTile::Tile32x32;
    }
    if (tile == ConvTile::Tile64x64) {
      conv_igemm_kernel<64, 64><<<dim3(blocks_for(M, 64), (out.c + 63) / 64), kThreads, 0, s>>>(a);
    } else {
      conv_igemm_kernel<32, 32><<<dim3(blocks_for(M, 32), (out.c + 31) / 32), kThreads, 0, s>>>(a);
    }
    check_launch("conv_igemm_kernel");
  }
}

}  // namespace y26::kernels::cuda
