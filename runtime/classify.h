// Classification's pre- and post-processing, as Ultralytics' ClassificationPredictor does them (8.4):
// classify_transforms(imgsz) = torchvision Resize(imgsz) (the shorter side to imgsz, bilinear, on a PIL
// image: Pillow's antialiased resampling) then CenterCrop(imgsz), /255; the head's logits through softmax.
#pragma once

#include <vector>

#include "y26/y26.h"

namespace y26::runtime {

// Pillow's Image.resize(BILINEAR) of an 8-bit RGB image, bit for bit: separable passes (horizontal, then
// vertical) with the triangle filter widened by the scale when shrinking, coefficients in 22-bit fixed point.
Image pil_resize_bilinear(const Image& im, int out_w, int out_h);

// torchvision's Resize(size) (shorter side to size, the longer int(size * long / short)) then
// CenterCrop(size) (offsets round((in - size) / 2), halves to even as Python rounds): size x size.
Image classify_transform(const Image& im, int size);

// softmax over n logits in FP32 (max subtracted first, as torch.softmax).
std::vector<float> softmax(const float* logits, int n);

}  // namespace y26::runtime
