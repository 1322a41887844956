// Matching oriented-box detection lists: same class, every corner, the angle and the score within
// tolerances, greedily one to one, in any order among equal scores.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "y26/y26.h"

namespace y26::test {

struct Obb {
  int cls;
  float score;
  float xywhr[5];
  std::array<std::array<float, 2>, 4> corners;
};

inline std::vector<Obb> from_engine(const std::vector<Detection>& dets) {
  std::vector<Obb> out;
  for (const auto& d : dets) {
    REQUIRE(d.obb);
    out.push_back({d.cls, d.score, {d.cx, d.cy, d.w, d.h, d.angle}, d.corners()});
  }
  return out;
}

struct ObbMatch {
  size_t matched = 0;
  float worst_px = 0, worst_angle = 0, worst_score = 0;
};

// Greedy one-to-one: same class, every corner within px, angle and score within theirs.
inline ObbMatch match(const std::vector<Obb>& got, const std::vector<Obb>& want, float px, float rad, float score) {
  ObbMatch m;
  std::vector<char> used(got.size(), 0);
  for (const Obb& w : want) {
    for (size_t i = 0; i < got.size(); ++i) {
      if (used[i] || got[i].cls != w.cls) continue;
      float dp = 0;
      for (size_t k = 0; k < 4; ++k)
        for (size_t j = 0; j < 2; ++j) dp = std::max(dp, std::abs(got[i].corners[k][j] - w.corners[k][j]));
      const float da = std::abs(got[i].xywhr[4] - w.xywhr[4]), ds = std::abs(got[i].score - w.score);
      if (dp <= px && da <= rad && ds <= score) {
        used[i] = 1;
        ++m.matched;
        m.worst_px = std::max(m.worst_px, dp), m.worst_angle = std::max(m.worst_angle, da), m.worst_score = std::max(m.worst_score, ds);
        break;
      }
    }
  }
  return m;
}

}  // namespace y26::test
