#include "runtime/postprocess.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "y26/y26.h"

namespace y26::runtime {
namespace {

constexpr int kMaxNms = 30000;    // Ultralytics: boxes considered by NMS
constexpr float kMaxWh = 7680.0f;  // Ultralytics: per-class coordinate offset for class-aware NMS

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

struct AnchorPoint {
  float x, y, stride;
};

std::vector<AnchorPoint> anchor_points(const graph::Head& head) {
  std::vector<AnchorPoint> a;
  a.reserve(static_cast<size_t>(head.anchors()));
  for (const auto& l : head.levels) {
    for (int y = 0; y < l.h; ++y) {
      for (int x = 0; x < l.w; ++x) a.push_back({static_cast<float>(x) + 0.5f, static_cast<float>(y) + 0.5f, l.stride});
    }
  }
  return a;
}

}  // namespace

std::vector<int> top_k_indices(const std::vector<float>& v, int k) {
  std::vector<int> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  k = std::min<int>(k, static_cast<int>(v.size()));
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int a, int b) { return v[a] != v[b] ? v[a] > v[b] : a < b; });
  idx.resize(static_cast<size_t>(k));
  return idx;
}

std::vector<RawDetection> select_end2end(const float* rows, std::int64_t row_stride, const graph::Head& head,
                                         const SelectOptions& opt) {
  const int anchors = head.anchors(), nc = head.nc;
  // The predictor runs the head's top-k with max(max_det, 300) candidates, then filters.
  const int k = std::min(std::max(opt.max_det, 300), anchors);
  std::vector<float> best(static_cast<size_t>(anchors));
  for (int a = 0; a < anchors; ++a) {
    const float* s = rows + a * row_stride + 4;
    best[static_cast<size_t>(a)] = sigmoid(*std::max_element(s, s + nc));  // sigmoid is monotonic
  }
  const std::vector<int> top_anchors = top_k_indices(best, k);
  std::vector<float> pairs(static_cast<size_t>(k) * nc);
  for (int i = 0; i < k; ++i) {
    const float* s = rows + top_anchors[static_cast<size_t>(i)] * row_stride + 4;
    for (int c = 0; c < nc; ++c) pairs[static_cast<size_t>(i) * nc + c] = sigmoid(s[c]);
  }
  const auto points = anchor_points(head);
  std::vector<RawDetection> out;
  for (int p : top_k_indices(pairs, k)) {
    const float score = pairs[static_cast<size_t>(p)];
    if (!(score > opt.conf)) continue;
    if (static_cast<int>(out.size()) >= opt.max_det) break;
    const int a = top_anchors[static_cast<size_t>(p / nc)];
    const float* r = rows + a * row_stride;
    const AnchorPoint& ap = points[static_cast<size_t>(a)];
    RawDetection d;
    d.box[0] = (ap.x - r[0]) * ap.stride;
    d.box[1] = (ap.y - r[1]) * ap.stride;
    d.box[2] = (ap.x + r[2]) * ap.stride;
    d.box[3] = (ap.y + r[3]) * ap.stride;
    d.score = score;
    d.cls = p % nc;
    out.push_back(d);
  }
  return out;
}

std::vector<int> nms_sorted(const std::vector<std::array<float, 4>>& b, float iou) {
  std::vector<int> keep;
  std::vector<char> removed(b.size(), 0);
  for (size_t i = 0; i < b.size(); ++i) {
    if (removed[i]) continue;
    keep.push_back(static_cast<int>(i));
    const float area_i = (b[i][2] - b[i][0]) * (b[i][3] - b[i][1]);
    for (size_t j = i + 1; j < b.size(); ++j) {
      if (removed[j]) continue;
      const float iw = std::max(0.0f, std::min(b[i][2], b[j][2]) - std::max(b[i][0], b[j][0]));
      const float ih = std::max(0.0f, std::min(b[i][3], b[j][3]) - std::max(b[i][1], b[j][1]));
      const float inter = iw * ih;
      const float area_j = (b[j][2] - b[j][0]) * (b[j][3] - b[j][1]);
      if (inter / (area_i + area_j - inter) > iou) removed[j] = 1;
    }
  }
  return keep;
}

std::vector<RawDetection> select_nms(const float* rows, std::int64_t row_stride, const graph::Head& head,
                                     const SelectOptions& opt) {
  // as the device's NMS (kernels/cuda/nms.cu), which marks what fails conf with -1
  if (!(opt.conf >= 0.0f)) throw Error("NMS: conf must not be negative");
  const int anchors = head.anchors(), nc = head.nc;
  const auto points = anchor_points(head);
  std::vector<RawDetection> cand;
  for (int a = 0; a < anchors; ++a) {
    const float* r = rows + a * row_stride;
    const float* s = r + 4;
    const int best = static_cast<int>(std::max_element(s, s + nc) - s);
    if (!(sigmoid(s[best]) > opt.conf)) continue;
    // dist2bbox in xywh, then xywh2xyxy, in the same float steps as Ultralytics
    const AnchorPoint& ap = points[static_cast<size_t>(a)];
    const float x1 = ap.x - r[0], y1 = ap.y - r[1], x2 = ap.x + r[2], y2 = ap.y + r[3];
    const float cx = (x1 + x2) / 2 * ap.stride, cy = (y1 + y2) / 2 * ap.stride;
    const float w = (x2 - x1) * ap.stride, h = (y2 - y1) * ap.stride;
    RawDetection d;
    d.box[0] = cx - w / 2;
    d.box[1] = cy - h / 2;
    d.box[2] = cx + w / 2;
    d.box[3] = cy + h / 2;
    // torch.where(cls > conf) in the multi-label case: anchor by anchor, classes ascending
    for (int c = opt.multi_label ? 0 : best; c < (opt.multi_label ? nc : best + 1); ++c) {
      d.score = sigmoid(s[c]);
      d.cls = c;
      if (d.score > opt.conf) cand.push_back(d);
    }
  }
  std::stable_sort(cand.begin(), cand.end(), [](const RawDetection& a, const RawDetection& b) { return a.score > b.score; });
  if (static_cast<int>(cand.size()) > kMaxNms) cand.resize(kMaxNms);
  std::vector<std::array<float, 4>> offset(cand.size());
  for (size_t i = 0; i < cand.size(); ++i) {
    const float o = static_cast<float>(cand[i].cls) * kMaxWh;
    offset[i] = {cand[i].box[0] + o, cand[i].box[1] + o, cand[i].box[2] + o, cand[i].box[3] + o};
  }
  std::vector<RawDetection> out;
  for (int i : nms_sorted(offset, opt.iou)) {
    if (static_cast<int>(out.size()) >= opt.max_det) break;
    out.push_back(cand[static_cast<size_t>(i)]);
  }
  return out;
}

}  // namespace y26::runtime
