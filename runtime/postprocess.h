// Head decoding and detection selection, as Ultralytics does it:
//  - end-to-end (one-to-one head): sigmoid scores, top-k anchors by best class,
//    then top-k over those anchors' (anchor, class) pairs, then the confidence filter;
//  - classic (one-to-many head): confidence filter, best class per anchor,
//    class-aware NMS (boxes offset by class x 7680, as Ultralytics), max_det.
// Boxes come out in letterboxed input pixels, xyxy; an OBB head's rotated, as xywh + angle, suppressed
// with the probabilistic IoU (runtime/obb.h).
#pragma once

#include <array>
#include <cstdint>
#include <vector>


#include "graph/ir.h"
#include "y26/y26.h"

namespace y26::runtime {

// box: x1 y1 x2 y2, or for an oriented-box head (rotated) cx cy w h with `angle` in radians.
struct RawDetection {
  float box[4];
  float score;
  int cls;
  bool rotated = false;
  float angle = 0;
  int anchor = -1;  // the head row it came from (a pose head's keypoints are read from it); -1: unknown
  std::vector<Keypoint> keypoints = {};  // a pose head's, once decoded (runtime/pose.h)
};

struct SelectOptions {
  float conf = 0.25f;
  float iou = 0.7f;
  int max_det = 300;
  // NMS head: every class above conf is a candidate of its anchor's box (the validator's NMS), not only the best
  bool multi_label = false;
};

// `rows`: one image's head output, anchors x head.row() floats, `row_stride` apart.
std::vector<RawDetection> select_end2end(const float* rows, std::int64_t row_stride, const graph::Head& head,
                                         const SelectOptions& opt);
std::vector<RawDetection> select_nms(const float* rows, std::int64_t row_stride, const graph::Head& head,
                                     const SelectOptions& opt);

// Indices of the k largest values, descending; equal values in ascending index order.
std::vector<int> top_k_indices(const std::vector<float>& values, int k);

// Greedy IoU suppression over boxes sorted by descending score: indices kept (torchvision.ops.nms).
std::vector<int> nms_sorted(const std::vector<std::array<float, 4>>& boxes, float iou);

}  // namespace y26::runtime
