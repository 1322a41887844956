// Pose26's keypoints, as Ultralytics 8.4 decodes and maps them: per keypoint x = (raw_x + anchor_x) *
// stride, y likewise (anchor at the cell's centre, no x2 - 0.5 as the v8 Pose head has), visibility
// sigmoid(raw) when the model has it; then ops.scale_coords to original pixels (the letterbox's padding
// off, divided by the per-axis gain, clipped to the image), visibility untouched.
#pragma once

#include <vector>

#include "graph/ir.h"
#include "y26/y26.h"

namespace y26::runtime {

// The keypoints of the anchor `anchor` (its head row `row`), in letterboxed input pixels.
std::vector<Keypoint> decode_keypoints(const float* row, int anchor, const graph::Head& head);

// In place: letterboxed (lb_h x lb_w) input pixels -> the original image's, clipped to it.
void scale_keypoints_to_original(std::vector<Keypoint>& kpts, int lb_h, int lb_w, int src_h, int src_w);

}  // namespace y26::runtime
