// Segment26's instance masks, assembled on the host as Ultralytics 8.4.190's SegmentationPredictor makes
// them (ultralytics/utils/ops.py: process_mask, process_mask_native, scale_masks, crop_mask), from each
// detection's mask logits at the prototypes' resolution (mask_logits here, or kernels::cuda::mask_logits
// on the device: bit-exact twins).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "y26/y26.h"

namespace y26::runtime {

// logit(p) = sum_k coeffs[k] * protos[p * pixel_stride + k] for the `pixels` prototype pixels, FP32 with
// fmaf in k order from 0 (the CUDA kernel's order).
void mask_logits(const float* coeffs, int nm, const float* protos, std::int64_t pixel_stride, std::int64_t pixels,
                 float* out);

// The frames one image's masks pass through.
struct MaskFrame {
  int proto_h = 0, proto_w = 0;  // the logits (a quarter of the input)
  int input_h = 0, input_w = 0;  // the letterboxed input
  int image_h = 0, image_w = 0;  // the original image
};

// One detection's mask in the original image, or nullopt when Ultralytics drops the detection (its mask
// has no pixel: `keep = masks.amax((-2, -1)) > 0`).
//  retina false (predict's default, process_mask(upsample=True)): the logits resized bilinearly
//    (align_corners=False) to the input's size, > 0, cropped to `input_box` (x1, y1, x2, y2 in input
//    pixels: columns x1 <= x < x2, rows likewise). Ultralytics keeps that mask in the input's frame; y26
//    samples it at each original pixel's centre (the letterbox's gain and padding, as scale_boxes has them).
//  retina true (process_mask_native): the logits upsampled bilinearly by the smallest factor f (1, 2 or 4)
//    that puts the letterbox's padding on whole pixels, the padding cropped, resized bilinearly to the
//    original image, > 0, cropped to `image_box` (in original pixels).
// The Mask is the tight bounds of its pixels (empty bounds when the mapped mask lost every pixel).
std::optional<Mask> assemble_mask(const float* logits, const MaskFrame& frame, const float input_box[4],
                                  const float image_box[4], bool retina);

// The mask in the frame it was computed in before any mapping: the input's (retina false) or the image's
// (retina true), as Ultralytics' Results.masks.data holds it, row-major, 0 or 1 (for the parity tests).
std::vector<std::uint8_t> mask_in_frame(const float* logits, const MaskFrame& frame, const float box[4], bool retina);

}  // namespace y26::runtime
