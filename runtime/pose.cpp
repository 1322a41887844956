#include "runtime/pose.h"

#include <algorithm>
#include <cmath>

#include "runtime/letterbox.h"

namespace y26::runtime {

std::vector<Keypoint> decode_keypoints(const float* row, int anchor, const graph::Head& head) {
  // the anchor's level and cell: levels in order, each row-major
  const graph::HeadLevel* level = nullptr;
  for (const auto& l : head.levels)
    if (anchor >= l.anchor_offset && anchor < l.anchor_offset + l.h * l.w) level = &l;
  if (level == nullptr || head.kpt_n <= 0) return {};
  const int cell = anchor - level->anchor_offset;
  const float ax = static_cast<float>(cell % level->w) + 0.5f, ay = static_cast<float>(cell / level->w) + 0.5f;
  const float* k = row + head.extra_channel();
  std::vector<Keypoint> out(static_cast<size_t>(head.kpt_n));
  for (int i = 0; i < head.kpt_n; ++i, k += head.kpt_dim) {
    Keypoint& p = out[static_cast<size_t>(i)];
    p.x = (k[0] + ax) * level->stride;
    p.y = (k[1] + ay) * level->stride;
    p.visible = head.kpt_dim == 3 ? 1.0f / (1.0f + std::exp(-k[2])) : 1.0f;
  }
  return out;
}

void scale_keypoints_to_original(std::vector<Keypoint>& kpts, int lb_h, int lb_w, int src_h, int src_w) {
  const auto m = box_mapping(lb_h, lb_w, src_h, src_w);  // the gains and padding scale_boxes uses too
  for (Keypoint& p : kpts) {
    p.x = std::clamp((p.x - m.pad_x) / m.gain_x, 0.0f, m.max_x);
    p.y = std::clamp((p.y - m.pad_y) / m.gain_y, 0.0f, m.max_y);
  }
}

}  // namespace y26::runtime
