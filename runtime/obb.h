// Oriented boxes (the OBB26 head), as Ultralytics decodes, suppresses and maps them: rotated boxes
// are (cx, cy, w, h, angle) with the angle in radians, the head's raw output (YOLO26 applies no sigmoid).
#pragma once

#include <array>
#include <vector>

namespace y26::runtime {

struct RotatedBox {
  float cx = 0, cy = 0, w = 0, h = 0, angle = 0;
};

// ultralytics.utils.tal.dist2rbox, then x strides: the box distances (l, t, r, b) in grid cells around the
// anchor point (ax, ay), rotated by `angle` about it.
RotatedBox decode_rotated(const float ltrb[4], float ax, float ay, float stride, float angle);

// ultralytics.utils.metrics.batch_probiou for one pair: 1 - the Hellinger distance of the two boxes' Gaussians
// (covariance w^2/12, h^2/12 rotated), in float as torch computes it.
float probiou(const RotatedBox& a, const RotatedBox& b);

// TorchNMS.fast_nms with batch_probiou, over boxes sorted by descending score: box j is dropped when any
// earlier box, kept or not, overlaps it by more than `iou` (not greedy NMS: a dropped box still drops
// others). Indices kept, ascending.
std::vector<int> fast_nms_rotated(const std::vector<RotatedBox>& sorted, float iou);

// ops.xywhr2xyxyxyxy: the four corners (x, y), in Ultralytics' order.
std::array<std::array<float, 2>, 4> rotated_corners(const RotatedBox& b);

// ops.scale_boxes(xywh=True) on the centre, width and height: letterboxed -> original pixels, unclipped
// (Ultralytics does not clip oriented boxes).
void scale_rotated_to_original(RotatedBox& b, int lb_h, int lb_w, int src_h, int src_w);

}  // namespace y26::runtime
