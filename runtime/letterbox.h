// Pre-processing exactly as Ultralytics' predictor does it: LetterBox (resize
// keeping the aspect ratio, centred padding of 114), RGB, /255. The resize is
// OpenCV's INTER_LINEAR on 8-bit images reproduced bit for bit (fixed-point
// coefficients), so y26 sees the same input tensor as `yolo predict`.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/cuda/cuda_ops.h"
#include "kernels/ops.h"
#include "y26/y26.h"

namespace y26::runtime {

struct Letterbox {
  int src_w = 0, src_h = 0;      // original image
  int unpad_w = 0, unpad_h = 0;  // resized image before padding
  int top = 0, bottom = 0, left = 0, right = 0;
  int out_w() const { return unpad_w + left + right; }
  int out_h() const { return unpad_h + top + bottom; }
};

// LetterBox.get_params: target (target_h x target_w); `minimal` pads only to a multiple of `stride` (auto=True);
// `scaleup` false shrinks but never enlarges (the validator's LetterBox).
Letterbox letterbox_params(int src_w, int src_h, int target_h, int target_w, bool minimal, int stride, bool scaleup = true);

// cv2.resize(src, (dw, dh), interpolation=INTER_LINEAR) for 3-channel uint8, bit-exact.
std::vector<std::uint8_t> resize_linear_u8(const std::uint8_t* src, int sw, int sh, int dw, int dh);

// Letterboxed uint8 RGB image (out_h x out_w x 3).
std::vector<std::uint8_t> letterbox_u8(const Image& img, const Letterbox& lb);

// Writes the letterboxed image as x / 255 (rounded to FP16 when asked) into one image of `dst`.
void to_input(const std::vector<std::uint8_t>& lb_rgb, const kernels::View<float>& dst, int batch_index, bool round_fp16);

// Ultralytics scale_boxes: letterboxed coordinates -> original image, clipped to it.
void scale_box_to_original(float box[4], int lb_h, int lb_w, int src_h, int src_w);
// The numbers scale_box_to_original uses, for the GPU's map_boxes (kernels/cuda/cuda_ops.h).
kernels::cuda::BoxMapping box_mapping(int lb_h, int lb_w, int src_h, int src_w);

}  // namespace y26::runtime
