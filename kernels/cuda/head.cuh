// The detection head's rows on the device, as the end-to-end selection (topk.cu) and NMS (nms.cu)
// both read them: per anchor [4 box distances (l, t, r, b), nc class logits], FP16.
#pragma once

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace y26::kernels::cuda {
Y26_CUDA_VARIANT_BEGIN

__device__ __forceinline__ float sigmoid(float v) { return 1.0f / (1.0f + expf(-v)); }

// sigmoid of the largest class logit of an anchor's row.
__device__ __forceinline__ float best_class_score(const unsigned short* row, int nc) {
  float m = -INFINITY;
  for (int c = 0; c < nc; ++c) m = fmaxf(m, load_half(row + 4 + c));
  return sigmoid(m);
}

// Anchor a's centre in its level's grid cells (x + 0.5, y + 0.5) and the level's stride.
struct AnchorPoint {
  float x, y, stride;
};
__device__ __forceinline__ AnchorPoint anchor_point(const HeadLevels& lv, int a) {
  int l = 0;
  while (l + 1 < lv.count && a >= lv.anchor_offset[l + 1]) ++l;
  const int local = a - lv.anchor_offset[l];
  return {static_cast<float>(local % lv.w[l]) + 0.5f, static_cast<float>(local / lv.w[l]) + 0.5f, lv.stride[l]};
}

Y26_CUDA_VARIANT_END
}  // namespace y26::kernels::cuda
