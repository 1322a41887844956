// The convolution epilogue as a kernel of its own (for the cuDNN baseline, whose
// convolution has no SiLU-then-residual epilogue): out = act(out + bias) [+ residual].
#include "kernels/cuda/check.cuh"
#include "kernels/cuda/conv2d_cudnn.h"

namespace y26::kernels::cuda {
Y26_CUDA_VARIANT_BEGIN
namespace {

__global__ void __launch_bounds__(256) epilogue_kernel(unsigned short* out, long long o_img, long long o_px, int h, int w, int c,
                                                        int batch, const float* bias, int silu_act, const unsigned short* res,
                                                        long long r_img, long long r_px) {
  pdl_prologue();
  NhwcIndex e;
  if (!vec_thread_index<1>(batch, h, w, c, e)) return;
  const auto [b, y, x, ch] = e;
  unsigned short* o = at(out, o_img, o_px, w, b, y, x) + ch;
  float v = load_half(o) + bias[ch];
  if (silu_act) v = silu(v);
  if (res) v += load_half(at(res, r_img, r_px, w, b, y, x) + ch);
  *o = to_half_bits(v);
}

}  // namespace

void conv_epilogue(const View<half_bits>& out, const float* bias, Activation act, const View<const half_bits>* residual,
                   void* stream) {
  const long long total = static_cast<long long>(out.n) * out.h * out.w * out.c;
  launch_kernel("epilogue_kernel", epilogue_kernel, blocks_for(total, 256), 256, static_cast<cudaStream_t>(stream),
                out.data, out.image_stride, out.pixel_stride, out.h, out.w, out.c, out.n, bias, act == Activation::SiLU,
                residual ? residual->data : nullptr, residual ? residual->image_stride : 0,
                residual ? residual->pixel_stride : 0);
}

Y26_CUDA_VARIANT_END
}  // namespace y26::kernels::cuda
