// Matching detection lists against goldens: same (class, box) set within
// tolerances, in any order among equal scores.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "y26/y26.h"

namespace y26::test {

// Bit-identical detection lists (same order, classes, scores, boxes, rotations and keypoints).
inline bool identical(const std::vector<Detection>& a, const std::vector<Detection>& b) {
  if (a.size() != b.size()) return false;
  for (size_t j = 0; j < a.size(); ++j) {
    const auto &x = a[j], &y = b[j];
    if (!(x.cls == y.cls && x.score == y.score && x.x1 == y.x1 && x.y1 == y.y1 && x.x2 == y.x2 && x.y2 == y.y2)) return false;
    if (!(x.obb == y.obb && x.cx == y.cx && x.cy == y.cy && x.w == y.w && x.h == y.h && x.angle == y.angle)) return false;
    if (x.keypoints.size() != y.keypoints.size()) return false;
    for (size_t k = 0; k < x.keypoints.size(); ++k) {
      const Keypoint &p = x.keypoints[k], &q = y.keypoints[k];
      if (!(p.x == q.x && p.y == q.y && p.visible == q.visible)) return false;
    }
  }
  return true;
}

// The detection of `got` of r's class whose box is nearest r's (largest corner difference), where that is
// within max_px: the partner of an oracle's detection when the two lists may differ by a near-tie at the
// threshold. nullptr where none is.
inline const Detection* nearest_same_class(const std::vector<Detection>& got, const Detection& r, float max_px) {
  const Detection* best = nullptr;
  float best_d = INFINITY;
  for (const Detection& g : got) {
    const float d = std::max({std::abs(g.x1 - r.x1), std::abs(g.y1 - r.y1), std::abs(g.x2 - r.x2), std::abs(g.y2 - r.y2)});
    if (g.cls == r.cls && d < best_d) best_d = d, best = &g;
  }
  return best_d <= max_px ? best : nullptr;
}

struct Det {
  int cls;
  float score;
  float box[4];
};

struct MatchTolerance {
  float box_px;
  float score;
};

// Greedy one-to-one matching; returns how many of `ref` found a partner in `got`,
// and the worst box / score differences among matched pairs.
struct MatchResult {
  size_t matched = 0;
  float max_box = 0, max_score = 0;
};

inline MatchResult match_detections(const std::vector<Det>& got, const std::vector<Det>& ref, MatchTolerance tol) {
  MatchResult r;
  std::vector<char> used(got.size(), 0);
  for (const Det& e : ref) {
    for (size_t i = 0; i < got.size(); ++i) {
      if (used[i] || got[i].cls != e.cls) continue;
      float db = 0;
      for (int j = 0; j < 4; ++j) db = std::max(db, std::abs(got[i].box[j] - e.box[j]));
      const float ds = std::abs(got[i].score - e.score);
      if (db <= tol.box_px && ds <= tol.score) {
        used[i] = 1;
        ++r.matched;
        r.max_box = std::max(r.max_box, db);
        r.max_score = std::max(r.max_score, ds);
        break;
      }
    }
  }
  return r;
}

}  // namespace y26::test
