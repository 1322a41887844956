#include "runtime/postprocess.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <numeric>

#include "runtime/obb.h"
#include "y26/y26.h"

namespace y26::runtime {
namespace {

constexpr int kMaxNms = 30000;    // Ultralytics: boxes considered by NMS
constexpr float kMaxWh = 7680.0f;  // Ultralytics: per-class coordinate offset for class-aware NMS

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// The largest of n >= 1 values, 8 lanes at a time: one chain of n dependent compares (80 classes x
// 8400 anchors) was 0.5 ms of a 20 ms CPU inference. The maximum is the same in any order (NaN
// aside, which no order makes meaningful).
float max_of(const float* s, int n) {
  typedef float F4 __attribute__((vector_size(16)));  // SSE on any x86-64: no runtime dispatch needed here
  int c = 0;
  float best = s[0];
  if (n >= 8) {
    F4 m0, m1;
    std::memcpy(&m0, s, sizeof m0);
    std::memcpy(&m1, s + 4, sizeof m1);
    for (c = 8; c + 8 <= n; c += 8) {
      F4 x0, x1;
      std::memcpy(&x0, s + c, sizeof x0);
      std::memcpy(&x1, s + c + 4, sizeof x1);
      m0 = x0 > m0 ? x0 : m0;
      m1 = x1 > m1 ? x1 : m1;
    }
    for (int j = 0; j < 4; ++j) best = std::max({best, m0[j], m1[j]});
  }
  for (; c < n; ++c) best = s[c] > best ? s[c] : best;
  return best;
}

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

RawDetection rotated(const float* r, const AnchorPoint& ap, float angle) {
  const RotatedBox b = decode_rotated(r, ap.x, ap.y, ap.stride, angle);
  RawDetection d{{b.cx, b.cy, b.w, b.h}, 0.0f, 0};
  d.rotated = true;
  d.angle = b.angle;
  return d;
}

}  // namespace

std::vector<int> top_k_indices(const std::vector<float>& v, int k) {
  const int n = static_cast<int>(v.size());
  k = std::clamp(k, 0, n);
  if (k == 0) return {};
  // The k-th largest value by selection (O(n)), then the k indices in order: all above it, and as many
  // of those equal to it as fit, lowest index first. The same indices and order as partial-sorting
  // all n by (value desc, index asc), at a fraction of the comparisons (24,000 class scores: 0.3 ms
  // -> 0.05 ms). NaN counts as -inf, so a broken score cannot break the ordering.
  const auto key = [&](int i) { return std::isnan(v[static_cast<size_t>(i)]) ? -INFINITY : v[static_cast<size_t>(i)]; };
  std::vector<float> keys(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) keys[static_cast<size_t>(i)] = key(i);
  std::vector<float> work(keys);
  std::nth_element(work.begin(), work.begin() + (k - 1), work.end(), std::greater<float>());
  const float kth = work[static_cast<size_t>(k - 1)];
  std::vector<int> idx;
  idx.reserve(static_cast<size_t>(k));
  for (int i = 0; i < n; ++i) {
    if (keys[static_cast<size_t>(i)] > kth) idx.push_back(i);
  }
  for (int i = 0; i < n && static_cast<int>(idx.size()) < k; ++i) {
    if (keys[static_cast<size_t>(i)] == kth) idx.push_back(i);
  }
  std::sort(idx.begin(), idx.end(), [&](int a, int b) {
    const float ka = keys[static_cast<size_t>(a)], kb = keys[static_cast<size_t>(b)];
    return ka != kb ? ka > kb : a < b;
  });
  return idx;
}

std::vector<RawDetection> select_end2end(const float* rows, std::int64_t row_stride, const graph::Head& head,
                                         const SelectOptions& opt) {
  const int anchors = head.anchors(), nc = head.nc;
  // The predictor runs the head's top-k with max(max_det, 300) candidates, then filters by conf.
  // Filtering first gives the same detections in the same order and skips most of the work: an
  // anchor whose best score is not above conf yields no detection, and it ranks below every anchor
  // that does, so dropping it moves no kept anchor's rank (nor a kept pair's index i * nc + c, the
  // tie-break); likewise the pairs. (24,000 pairs ranked: 0.6 ms; those above 0.25: tens.)
  const int k = std::min(std::max(opt.max_det, 300), anchors);
  std::vector<float> best;
  std::vector<int> best_anchor;
  for (int a = 0; a < anchors; ++a) {
    const float score = sigmoid(max_of(rows + a * row_stride + 4, nc));  // sigmoid is monotonic
    if (!(score > opt.conf)) continue;
    best.push_back(score);
    best_anchor.push_back(a);
  }
  const std::vector<int> top = top_k_indices(best, k);  // ties: lower anchor first, as unfiltered
  std::vector<float> pairs;
  std::vector<int> pair_of;  // (rank among the top anchors) * nc + class: increasing, the tie-break
  for (size_t i = 0; i < top.size(); ++i) {
    const float* s = rows + best_anchor[static_cast<size_t>(top[i])] * row_stride + 4;
    for (int c = 0; c < nc; ++c) {
      const float score = sigmoid(s[c]);
      if (!(score > opt.conf)) continue;
      pairs.push_back(score);
      pair_of.push_back(static_cast<int>(i) * nc + c);
    }
  }
  const auto points = anchor_points(head);
  std::vector<RawDetection> out;
  for (int q : top_k_indices(pairs, k)) {
    const float score = pairs[static_cast<size_t>(q)];
    if (static_cast<int>(out.size()) >= opt.max_det) break;
    const int p = pair_of[static_cast<size_t>(q)];
    const int a = best_anchor[static_cast<size_t>(top[static_cast<size_t>(p / nc)])];
    const float* r = rows + a * row_stride;
    const AnchorPoint& ap = points[static_cast<size_t>(a)];
    RawDetection d;
    if (head.task == graph::Task::Obb) {
      d = rotated(r, ap, r[head.extra_channel()]);
    } else {
      d.box[0] = (ap.x - r[0]) * ap.stride;
      d.box[1] = (ap.y - r[1]) * ap.stride;
      d.box[2] = (ap.x + r[2]) * ap.stride;
      d.box[3] = (ap.y + r[3]) * ap.stride;
    }
    d.score = score;
    d.cls = p % nc;
    d.anchor = a;
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
  const bool obb = head.task == graph::Task::Obb;
  const auto points = anchor_points(head);
  std::vector<RawDetection> cand;
  for (int a = 0; a < anchors; ++a) {
    const float* r = rows + a * row_stride;
    const float* s = r + 4;
    const int best = static_cast<int>(std::max_element(s, s + nc) - s);
    if (!(sigmoid(s[best]) > opt.conf)) continue;
    const AnchorPoint& ap = points[static_cast<size_t>(a)];
    RawDetection d;
    if (obb) {  // dist2rbox: xywh and the angle, kept so (rotated NMS takes xywhr)
      d = rotated(r, ap, r[head.extra_channel()]);
    } else {  // dist2bbox in xywh, then xywh2xyxy, in the same float steps as Ultralytics
      const float x1 = ap.x - r[0], y1 = ap.y - r[1], x2 = ap.x + r[2], y2 = ap.y + r[3];
      const float cx = (x1 + x2) / 2 * ap.stride, cy = (y1 + y2) / 2 * ap.stride;
      const float w = (x2 - x1) * ap.stride, h = (y2 - y1) * ap.stride;
      d.box[0] = cx - w / 2;
      d.box[1] = cy - h / 2;
      d.box[2] = cx + w / 2;
      d.box[3] = cy + h / 2;
    }
    d.anchor = a;
    // torch.where(cls > conf) in the multi-label case: anchor by anchor, classes ascending
    for (int c = opt.multi_label ? 0 : best; c < (opt.multi_label ? nc : best + 1); ++c) {
      d.score = sigmoid(s[c]);
      d.cls = c;
      if (d.score > opt.conf) cand.push_back(d);
    }
  }
  std::stable_sort(cand.begin(), cand.end(), [](const RawDetection& a, const RawDetection& b) { return a.score > b.score; });
  if (static_cast<int>(cand.size()) > kMaxNms) cand.resize(kMaxNms);
  std::vector<RawDetection> out;
  if (obb) {  // the centres offset by class, as Ultralytics', then fast NMS with the probabilistic IoU
    std::vector<RotatedBox> offset(cand.size());
    for (size_t i = 0; i < cand.size(); ++i) {
      const float o = static_cast<float>(cand[i].cls) * kMaxWh;
      offset[i] = {cand[i].box[0] + o, cand[i].box[1] + o, cand[i].box[2], cand[i].box[3], cand[i].angle};
    }
    for (int i : fast_nms_rotated(offset, opt.iou)) {
      if (static_cast<int>(out.size()) >= opt.max_det) break;
      out.push_back(cand[static_cast<size_t>(i)]);
    }
    return out;
  }
  std::vector<std::array<float, 4>> offset(cand.size());
  for (size_t i = 0; i < cand.size(); ++i) {
    const float o = static_cast<float>(cand[i].cls) * kMaxWh;
    offset[i] = {cand[i].box[0] + o, cand[i].box[1] + o, cand[i].box[2] + o, cand[i].box[3] + o};
  }
  for (int i : nms_sorted(offset, opt.iou)) {
    if (static_cast<int>(out.size()) >= opt.max_det) break;
    out.push_back(cand[static_cast<size_t>(i)]);
  }
  return out;
}

}  // namespace y26::runtime
