// SPPF's max pooling and nearest 2x upsampling on FP16 NHWC views: one thread
// per output element, channels fastest so neighbouring threads touch
// neighbouring bytes. Both are exact (no arithmetic on the values).
#include "kernels/cuda/check.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace y26::kernels::cuda {
namespace {

struct Views {
  const unsigned short* in;
  long long in_img, in_px;
  int in_h, in_w;
  unsigned short* out;
  long long out_img, out_px;
  int out_h, out_w, c, batch;
};

__global__ void __launch_bounds__(256) max_pool_kernel(Views v, int k, int stride, int pad) {
  const long long total = static_cast<long long>(v.batch) * v.out_h * v.out_w * v.c;
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= total) return;
  const auto [b, y, x, ch] = nhwc_index(i, v.out_h, v.out_w, v.c);
  unsigned short best_bits = 0xFC00;  // -inf: padding never wins
  float best = -INFINITY;
  for (int ky = 0; ky < k; ++ky) {
    const int iy = y * stride - pad + ky;
    if (iy < 0 || iy >= v.in_h) continue;
    for (int kx = 0; kx < k; ++kx) {
      const int ix = x * stride - pad + kx;
      if (ix < 0 || ix >= v.in_w) continue;
      const unsigned short bits = at(v.in, v.in_img, v.in_px, v.in_w, b, iy, ix)[ch];
      const float f = __half2float(__ushort_as_half(bits));
      if (f > best) best = f, best_bits = bits;
    }
  }
  at(v.out, v.out_img, v.out_px, v.out_w, b, y, x)[ch] = best_bits;
}

__global__ void __launch_bounds__(256) upsample2x_kernel(Views v) {
  const long long total = static_cast<long long>(v.batch) * v.out_h * v.out_w * v.c;
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= total) return;
  const auto [b, y, x, ch] = nhwc_index(i, v.out_h, v.out_w, v.c);
  at(v.out, v.out_img, v.out_px, v.out_w, b, y, x)[ch] = at(v.in, v.in_img, v.in_px, v.in_w, b, y / 2, x / 2)[ch];
}

Views views(const View<const half_bits>& in, const View<half_bits>& out) {
  return {in.data, in.image_stride, in.pixel_stride, in.h, in.w, out.data, out.image_stride, out.pixel_stride,
          out.h, out.w, out.c, out.n};
}

}  // namespace

void max_pool2d(const View<const half_bits>& in, const View<half_bits>& out, const PoolParams& p, void* stream) {
  if (in.c != out.c) throw Error("CUDA max_pool2d: channel counts differ");
  const long long total = static_cast<long long>(out.n) * out.h * out.w * out.c;
  max_pool_kernel<<<blocks_for(total, 256), 256, 0, static_cast<cudaStream_t>(stream)>>>(views(in, out), p.k, p.stride, p.pad);
  check_launch("max_pool_kernel");
}

void upsample_nearest2x(const View<const half_bits>& in, const View<half_bits>& out, void* stream) {
  if (in.c != out.c || out.h != 2 * in.h || out.w != 2 * in.w) throw Error("CUDA upsample_nearest2x: shapes do not match");
  const long long total = static_cast<long long>(out.n) * out.h * out.w * out.c;
  upsample2x_kernel<<<blocks_for(total, 256), 256, 0, static_cast<cudaStream_t>(stream)>>>(views(in, out));
  check_launch("upsample2x_kernel");
}

}  // namespace y26::kernels::cuda
