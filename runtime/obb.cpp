#include "runtime/obb.h"

#include <algorithm>
#include <cmath>

#include "runtime/letterbox.h"
#include "y26/y26.h"

namespace y26::runtime {

RotatedBox decode_rotated(const float d[4], float ax, float ay, float stride, float angle) {
  // lt, rb = split; xf, yf = (rb - lt) / 2; rotated; + anchor; wh = lt + rb; then * stride, all in float
  const float c = std::cos(angle), s = std::sin(angle);
  const float xf = (d[2] - d[0]) / 2, yf = (d[3] - d[1]) / 2;
  const float x = xf * c - yf * s, y = xf * s + yf * c;
  return {(x + ax) * stride, (y + ay) * stride, (d[0] + d[2]) * stride, (d[1] + d[3]) * stride, angle};
}

namespace {

struct Covariance {
  float a, b, c;
};

// _get_covariance_matrix: a = w^2 / 12, b = h^2 / 12, rotated by the angle
Covariance covariance(const RotatedBox& r) {
  const float a = r.w * r.w / 12, b = r.h * r.h / 12;
  const float cos = std::cos(r.angle), sin = std::sin(r.angle);
  const float cos2 = cos * cos, sin2 = sin * sin;
  return {a * cos2 + b * sin2, a * sin2 + b * cos2, (a - b) * cos * sin};
}

}  // namespace

float probiou(const RotatedBox& p, const RotatedBox& q) {
  constexpr float eps = 1e-7f;
  const Covariance m = covariance(p), n = covariance(q);
  const float a = m.a + n.a, b = m.b + n.b, c = m.c + n.c;
  const float dx = p.cx - q.cx, dy = p.cy - q.cy;
  const float denom = a * b - c * c + eps;
  const float t1 = ((a * (dy * dy) + b * (dx * dx)) / denom) * 0.25f;  // torch's order: pow(2) first
  const float t2 = ((c * (q.cx - p.cx) * dy) / denom) * 0.5f;
  const float det_p = std::max(m.a * m.b - m.c * m.c, 0.0f), det_q = std::max(n.a * n.b - n.c * n.c, 0.0f);
  const float t3 = std::log((a * b - c * c) / (4 * std::sqrt(det_p * det_q) + eps) + eps) * 0.5f;
  const float bd = std::clamp(t1 + t2 + t3, eps, 100.0f);
  const float hd = std::sqrt(1.0f - std::exp(-bd) + eps);
  return 1 - hd;
}

std::vector<int> fast_nms_rotated(const std::vector<RotatedBox>& b, float iou) {
  std::vector<int> keep;
  for (size_t j = 0; j < b.size(); ++j) {
    bool dropped = false;
    for (size_t i = 0; i < j && !dropped; ++i) dropped = probiou(b[i], b[j]) > iou;
    if (!dropped) keep.push_back(static_cast<int>(j));
  }
  return keep;
}

std::array<std::array<float, 2>, 4> rotated_corners(const RotatedBox& r) {
  const float c = std::cos(r.angle), s = std::sin(r.angle);
  const float v1x = r.w / 2 * c, v1y = r.w / 2 * s;
  const float v2x = -r.h / 2 * s, v2y = r.h / 2 * c;
  return {{{r.cx + v1x + v2x, r.cy + v1y + v2y},
           {r.cx + v1x - v2x, r.cy + v1y - v2y},
           {r.cx - v1x - v2x, r.cy - v1y - v2y},
           {r.cx - v1x + v2x, r.cy - v1y + v2y}}};
}

void scale_rotated_to_original(RotatedBox& r, int lb_h, int lb_w, int src_h, int src_w) {
  const auto m = box_mapping(lb_h, lb_w, src_h, src_w);
  r.cx = (r.cx - m.pad_x) / m.gain_x;
  r.cy = (r.cy - m.pad_y) / m.gain_y;
  r.w /= m.gain_x;
  r.h /= m.gain_y;
}

}  // namespace y26::runtime

namespace y26 {

std::array<std::array<float, 2>, 4> Detection::corners() const {
  if (obb) return runtime::rotated_corners({cx, cy, w, h, angle});
  return {{{x1, y1}, {x2, y1}, {x2, y2}, {x1, y2}}};
}

}  // namespace y26
