// Segment26's mask logits (kernels/cuda/cuda_ops.h): a block of 256 threads per 256 prototype pixels of one
// requested detection. The block first reads its detection's nm coefficients from the head row into shared
// memory; each thread then sums its pixel's nm prototypes (nm contiguous FP16 values: a warp reads 32
// neighbouring pixels' runs, every sector used) weighted by them, in FP32 with fmaf in k order, the CPU
// twin's order (runtime::mask_logits), so the two agree to the bit. A small op (160 x 160 x 32 prototypes
// at 640: 1.6 MB read per detection, 64 detections a launch): no tensor cores needed.
#include <cstdint>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace y26::kernels::cuda {
Y26_CUDA_VARIANT_BEGIN
namespace {

struct MaskArgs {
  const unsigned short* head;
  long long head_img, head_px;
  int coef_channel;
  const unsigned short* protos;
  long long protos_img, protos_px;
  int nm, pixels, anchors, batch;
  const MaskRequest* requests;
  float* out;
};

__global__ void __launch_bounds__(256) mask_logits_kernel(MaskArgs a) {
  pdl_prologue();
  __shared__ float coef[kMaxMasks];
  const MaskRequest r = a.requests[blockIdx.y];
  // a request outside the batch or the anchors is the caller's bug: its logits stay as they were (the host
  // checks requests before launching; this keeps a bad one from reading outside the arena)
  const bool valid = r.image >= 0 && r.image < a.batch && r.anchor >= 0 && r.anchor < a.anchors;
  for (int k = threadIdx.x; k < a.nm; k += blockDim.x)
    coef[k] = valid ? load_half(a.head + r.image * a.head_img + r.anchor * a.head_px + a.coef_channel + k) : 0.0f;
  __syncthreads();
  const int p = static_cast<int>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (!valid || p >= a.pixels) return;
  const unsigned short* proto = a.protos + r.image * a.protos_img + static_cast<long long>(p) * a.protos_px;
  float acc = 0.0f;
  for (int k = 0; k < a.nm; ++k) acc = fmaf(coef[k], load_half(proto + k), acc);
  a.out[static_cast<long long>(blockIdx.y) * a.pixels + p] = acc;
}

}  // namespace

void mask_logits(const View<const half_bits>& head, int coef_channel, const View<const half_bits>& protos,
                 const MaskRequest* requests, int n, float* out, void* stream) {
  if (n <= 0) return;
  if (n > kMaskChunk) throw Error("CUDA mask_logits: more than kMaskChunk requests in one launch");
  if (protos.c <= 0 || protos.c > kMaxMasks || coef_channel < 0 || coef_channel + protos.c > head.c || protos.n != head.n)
    throw Error("CUDA mask_logits: the head's coefficients and the prototypes do not match");
  const int pixels = protos.h * protos.w;
  MaskArgs a{head.data, head.image_stride, head.pixel_stride, coef_channel, protos.data, protos.image_stride,
             protos.pixel_stride, protos.c, pixels, head.h * head.w, head.n, requests, out};
  launch_kernel("mask_logits_kernel", mask_logits_kernel, dim3((pixels + 255) / 256, n), 256, stream, a);
}

Y26_CUDA_VARIANT_END
}  // namespace y26::kernels::cuda
