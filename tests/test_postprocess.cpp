// The host selection against its definition, on heads made to tie: top_k_indices as a full sort by
// (value desc, index asc), and select_end2end (which filters by conf before ranking, for speed) as
// Ultralytics' predictor does it — rank every anchor by its best score, rank the top anchors' pairs,
// then drop what is not above conf — written out plainly here.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "runtime/postprocess.h"

using namespace y26;

namespace {

std::vector<int> sorted_top_k(const std::vector<float>& v, int k) {
  std::vector<int> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  const auto key = [&](int i) { return std::isnan(v[static_cast<size_t>(i)]) ? -INFINITY : v[static_cast<size_t>(i)]; };
  std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return key(a) > key(b); });
  idx.resize(static_cast<size_t>(std::clamp(k, 0, static_cast<int>(v.size()))));
  return idx;
}

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// Ultralytics' end-to-end selection, unfiltered until the end.
std::vector<runtime::RawDetection> plain_end2end(const std::vector<float>& rows, int stride, const graph::Head& head,
                                                 const runtime::SelectOptions& opt) {
  const int anchors = head.anchors(), nc = head.nc, k = std::min(std::max(opt.max_det, 300), anchors);
  std::vector<float> best(static_cast<size_t>(anchors));
  for (int a = 0; a < anchors; ++a) {
    float m = -INFINITY;
    for (int c = 0; c < nc; ++c) m = std::max(m, rows[static_cast<size_t>(a * stride + 4 + c)]);
    best[static_cast<size_t>(a)] = sigmoid(m);
  }
  const auto top = sorted_top_k(best, k);
  std::vector<float> pairs;
  for (int a : top)
    for (int c = 0; c < nc; ++c) pairs.push_back(sigmoid(rows[static_cast<size_t>(a * stride + 4 + c)]));
  std::vector<runtime::RawDetection> out;
  for (int p : sorted_top_k(pairs, k)) {
    if (!(pairs[static_cast<size_t>(p)] > opt.conf)) continue;
    if (static_cast<int>(out.size()) >= opt.max_det) break;
    runtime::RawDetection d{};
    d.score = pairs[static_cast<size_t>(p)];
    d.cls = p % nc;
    d.box[0] = static_cast<float>(top[static_cast<size_t>(p / nc)]);  // the anchor, to compare
    out.push_back(d);
  }
  return out;
}

}  // namespace

TEST_CASE("top_k_indices is the first k of a full sort by value desc, index asc (ties, NaN)", "[postprocess]") {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 200; ++trial) {
    const int n = 1 + static_cast<int>(rng() % 3000);
    std::vector<float> v(static_cast<size_t>(n));
    const int levels = 1 + static_cast<int>(rng() % 50);  // few distinct values: many ties
    for (auto& x : v) x = static_cast<float>(rng() % static_cast<unsigned>(levels)) / 7.0f;
    if (trial % 5 == 0) v[rng() % v.size()] = std::numeric_limits<float>::quiet_NaN();
    const int k = static_cast<int>(rng() % static_cast<unsigned>(n + 20));
    INFO("n " << n << ", k " << k << ", " << levels << " distinct values");
    REQUIRE(runtime::top_k_indices(v, k) == sorted_top_k(v, k));
  }
}

TEST_CASE("select_end2end filtering before ranking gives Ultralytics' detections in its order", "[postprocess]") {
  graph::Head head;
  head.nc = 7;
  int offset = 0;
  for (int s : {8, 16, 32}) {
    head.levels.push_back({64 / s * 2, 64 / s, static_cast<float>(s), offset});
    offset += 64 / s * 2 * (64 / s);
  }
  const int anchors = head.anchors(), stride = 4 + head.nc + 3;  // a row with spare channels, as a concat slice
  std::mt19937 rng(11);
  for (int trial = 0; trial < 60; ++trial) {
    std::vector<float> rows(static_cast<size_t>(anchors * stride));
    for (auto& x : rows) x = static_cast<float>(static_cast<int>(rng() % 13) - 9) * 0.5f;  // logits -4.5 .. 1.5: ties
    for (const float conf : {0.0f, 0.05f, 0.25f, 0.7f}) {
      for (const int max_det : {300, 20, 500}) {
        const runtime::SelectOptions opt{conf, 0.7f, max_det};
        INFO("trial " << trial << ", conf " << conf << ", max_det " << max_det);
        const auto got = runtime::select_end2end(rows.data(), stride, head, opt);
        const auto want = plain_end2end(rows, stride, head, opt);
        REQUIRE(got.size() == want.size());
        for (size_t i = 0; i < got.size(); ++i) {
          REQUIRE(got[i].cls == want[i].cls);
          REQUIRE(got[i].score == want[i].score);
          // the same anchor: its box decodes from the same row
          const int a = static_cast<int>(want[i].box[0]);
          const float* r = rows.data() + a * stride;
          int level = 0;
          while (level + 1 < 3 && a >= head.levels[static_cast<size_t>(level + 1)].anchor_offset) ++level;
          const auto& l = head.levels[static_cast<size_t>(level)];
          const int local = a - l.anchor_offset;
          const float ax = static_cast<float>(local % l.w) + 0.5f;
          REQUIRE(got[i].box[0] == (ax - r[0]) * l.stride);
        }
      }
    }
  }
}
