// SPPF's max pooling, nearest 2x upsampling (with Proto26's residual) and the 2x2 depth-to-space of a
// transposed convolution on FP16 NHWC views: one thread per VEC channels of an output pixel, channels
// fastest so neighbouring threads touch neighbouring bytes; VEC 8 (16-byte accesses) when channels, strides
// and pointers allow, else 1. All are exact (values moved as bits) but the residual's addition, in FP32 and
// rounded once to FP16 as the CPU twin does.
// Classify's global average pooling: one thread per channel of an image, pixels summed in FP32 in
// row order as the CPU twin does (bit-exact with it); a warp reads 32 neighbouring channels of a pixel.
#include <cstdint>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace y26::kernels::cuda {
Y26_CUDA_VARIANT_BEGIN
namespace {

struct Views {
  const unsigned short* in;
  long long in_img, in_px;
  int in_h, in_w;
  unsigned short* out;
  long long out_img, out_px;
  int out_h, out_w, c, batch;
  const unsigned short* res = nullptr;  // upsample's residual, out-shaped (null: none)
  long long res_img = 0, res_px = 0;
};

// VEC FP16 values at p (16-byte aligned when VEC is 8), moved as bits: pooling and upsampling are exact.
template <int VEC>
struct Pack {
  unsigned short h[VEC];
  __device__ __forceinline__ void load(const unsigned short* p) {
    if constexpr (VEC == 8) {
      load8_bits(p, h);
    } else {
      h[0] = *p;
    }
  }
  __device__ __forceinline__ void store(unsigned short* p) const {
    if constexpr (VEC == 8) {
      store8_bits(p, h);
    } else {
      *p = h[0];
    }
  }
};

template <int VEC>
__global__ void __launch_bounds__(256) max_pool_kernel(Views v, int k, int stride, int pad) {
  pdl_prologue();
  NhwcIndex e;
  if (!vec_thread_index<VEC>(v.batch, v.out_h, v.out_w, v.c, e)) return;
  const auto [b, y, x, ch] = e;
  Pack<VEC> best;
  float best_f[VEC];
  for (int j = 0; j < VEC; ++j) best.h[j] = 0xFC00, best_f[j] = -INFINITY;  // -inf: padding never wins
  for (int ky = 0; ky < k; ++ky) {
    const int iy = y * stride - pad + ky;
    if (iy < 0 || iy >= v.in_h) continue;
    for (int kx = 0; kx < k; ++kx) {
      const int ix = x * stride - pad + kx;
      if (ix < 0 || ix >= v.in_w) continue;
      Pack<VEC> px;
      px.load(at(v.in, v.in_img, v.in_px, v.in_w, b, iy, ix) + ch);
      for (int j = 0; j < VEC; ++j) {
        const float f = __half2float(__ushort_as_half(px.h[j]));
        if (f > best_f[j]) best_f[j] = f, best.h[j] = px.h[j];
      }
    }
  }
  best.store(at(v.out, v.out_img, v.out_px, v.out_w, b, y, x) + ch);
}

template <int VEC>
__global__ void __launch_bounds__(256) upsample2x_kernel(Views v) {
  pdl_prologue();
  NhwcIndex e;
  if (!vec_thread_index<VEC>(v.batch, v.out_h, v.out_w, v.c, e)) return;
  const auto [b, y, x, ch] = e;
  Pack<VEC> px;
  px.load(at(v.in, v.in_img, v.in_px, v.in_w, b, y / 2, x / 2) + ch);
  if (v.res != nullptr) {
    Pack<VEC> r;
    r.load(at(v.res, v.res_img, v.res_px, v.out_w, b, y, x) + ch);
    for (int j = 0; j < VEC; ++j)
      px.h[j] = to_half_bits(__half2float(__ushort_as_half(px.h[j])) + __half2float(__ushort_as_half(r.h[j])));
  }
  px.store(at(v.out, v.out_img, v.out_px, v.out_w, b, y, x) + ch);
}

// out (h, w, c) from in (h / 2, w / 2, 4c): sub-pixel (y % 2, x % 2) is channel group (y % 2) * 2 + x % 2.
template <int VEC>
__global__ void __launch_bounds__(256) depth_to_space2x_kernel(Views v) {
  pdl_prologue();
  NhwcIndex e;
  if (!vec_thread_index<VEC>(v.batch, v.out_h, v.out_w, v.c, e)) return;
  const auto [b, y, x, ch] = e;
  Pack<VEC> px;
  px.load(at(v.in, v.in_img, v.in_px, v.in_w, b, y / 2, x / 2) + ((y % 2) * 2 + x % 2) * v.c + ch);
  px.store(at(v.out, v.out_img, v.out_px, v.out_w, b, y, x) + ch);
}

// out(b, 0, 0, ch) = mean over the pixels of in(b, ., ., ch); the input is 7x7 at 224 (a few dozen
// pixels), so a thread's serial sum is short and the grid (batch x 1280 channels) fills the GPU enough.
__global__ void __launch_bounds__(256) global_avg_pool_kernel(Views v) {
  pdl_prologue();
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<long long>(v.batch) * v.c) return;
  const int b = static_cast<int>(i / v.c), ch = static_cast<int>(i % v.c);
  float sum = 0.0f;
  for (int y = 0; y < v.in_h; ++y)
    for (int x = 0; x < v.in_w; ++x) sum += load_half(at(v.in, v.in_img, v.in_px, v.in_w, b, y, x) + ch);
  at(v.out, v.out_img, v.out_px, v.out_w, b, 0, 0)[ch] = to_half_bits(sum / static_cast<float>(v.in_h * v.in_w));
}

// Both views allow 16-byte accesses of 8 channels.
bool vec8(const View<const half_bits>& in, const View<half_bits>& out) {
  return in.c % 8 == 0 && rows_aligned16(in) && rows_aligned16(out);
}

Views views(const View<const half_bits>& in, const View<half_bits>& out) {
  return {in.data, in.image_stride, in.pixel_stride, in.h, in.w, out.data, out.image_stride, out.pixel_stride,
          out.h, out.w, out.c, out.n};
}

}  // namespace

void max_pool2d(const View<const half_bits>& in, const View<half_bits>& out, const PoolParams& p, void* stream) {
  if (in.c != out.c) throw Error("CUDA max_pool2d: channel counts differ");
  const long long pixels = static_cast<long long>(out.n) * out.h * out.w;
  auto s = static_cast<cudaStream_t>(stream);
  if (vec8(in, out)) {
    launch_kernel("max_pool_kernel", max_pool_kernel<8>, blocks_for(pixels * (out.c / 8), 256), 256, s, views(in, out),
                  p.k, p.stride, p.pad);
  } else {
    launch_kernel("max_pool_kernel", max_pool_kernel<1>, blocks_for(pixels * out.c, 256), 256, s, views(in, out), p.k,
                  p.stride, p.pad);
  }
}

void upsample_nearest2x(const View<const half_bits>& in, const View<half_bits>& out, void* stream,
                        const View<const half_bits>* residual) {
  if (in.c != out.c || out.h != 2 * in.h || out.w != 2 * in.w) throw Error("CUDA upsample_nearest2x: shapes do not match");
  if (residual != nullptr && (residual->c != out.c || residual->h != out.h || residual->w != out.w || residual->n != out.n))
    throw Error("CUDA upsample_nearest2x: the residual's shape is not the output's");
  const long long pixels = static_cast<long long>(out.n) * out.h * out.w;
  auto s = static_cast<cudaStream_t>(stream);
  Views v = views(in, out);
  if (residual != nullptr) v.res = residual->data, v.res_img = residual->image_stride, v.res_px = residual->pixel_stride;
  if (vec8(in, out) && (residual == nullptr || rows_aligned16(*residual))) {
    launch_kernel("upsample2x_kernel", upsample2x_kernel<8>, blocks_for(pixels * (out.c / 8), 256), 256, s, v);
  } else {
    launch_kernel("upsample2x_kernel", upsample2x_kernel<1>, blocks_for(pixels * out.c, 256), 256, s, v);
  }
}

void depth_to_space2x(const View<const half_bits>& in, const View<half_bits>& out, void* stream) {
  if (in.c != 4 * out.c || out.h != 2 * in.h || out.w != 2 * in.w || in.n != out.n)
    throw Error("CUDA depth_to_space2x: shapes do not match");
  const long long pixels = static_cast<long long>(out.n) * out.h * out.w;
  auto s = static_cast<cudaStream_t>(stream);
  if (out.c % 8 == 0 && rows_aligned16(in) && rows_aligned16(out)) {
    launch_kernel("depth_to_space2x_kernel", depth_to_space2x_kernel<8>, blocks_for(pixels * (out.c / 8), 256), 256, s,
                  views(in, out));
  } else {
    launch_kernel("depth_to_space2x_kernel", depth_to_space2x_kernel<1>, blocks_for(pixels * out.c, 256), 256, s,
                  views(in, out));
  }
}

void global_avg_pool(const View<const half_bits>& in, const View<half_bits>& out, void* stream) {
  if (in.c != out.c || out.h != 1 || out.w != 1 || in.n != out.n) throw Error("CUDA global_avg_pool: shapes do not match");
  launch_kernel("global_avg_pool_kernel", global_avg_pool_kernel, blocks_for(static_cast<long long>(out.n) * out.c, 256), 256,
                static_cast<cudaStream_t>(stream), views(in, out));
}

Y26_CUDA_VARIANT_END
}  // namespace y26::kernels::cuda
