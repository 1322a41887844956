// Ultralytics' detection metrics (runtime/det_metrics.h) on hand-made cases, each value worked out from
// utils/metrics.py's definitions: 101-point AP with its sentinels makes a perfect class 0.995, not 1.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>

#include "runtime/det_metrics.h"
#include "tests/support/fixtures.h"

using namespace y26::runtime;

namespace {

Target target(int cls, float x1, float y1, float x2, float y2) { return {{x1, y1, x2, y2}, cls}; }
Prediction pred(int cls, float conf, float x1, float y1, float x2, float y2) { return {{x1, y1, x2, y2}, conf, cls}; }

}  // namespace

TEST_CASE("IoU thresholds and IoU as Ultralytics computes them", "[metrics]") {
  const auto& t = iou_thresholds();
  CHECK(t[0] == 0.5f);
  CHECK(t[9] == 0.95f);
  CHECK(t[5] == Approx(0.75f));
  CHECK(box_iou({0, 0, 10, 10}, {0, 0, 10, 10}) == Approx(1.0f));
  CHECK(box_iou({0, 0, 10, 10}, {5, 0, 15, 10}) == Approx(50.0f / 150.0f));
  CHECK(box_iou({0, 0, 1, 1}, {2, 2, 3, 3}) == 0.0f);
}

TEST_CASE("perfect predictions give Ultralytics' 0.995", "[metrics]") {
  DetMetrics m(3);
  m.add_image({pred(0, 0.9f, 10, 10, 50, 50), pred(2, 0.8f, 60, 60, 90, 80)}, {target(0, 10, 10, 50, 50), target(2, 60, 60, 90, 80)});
  m.add_image({pred(0, 0.7f, 0, 0, 20, 30)}, {target(0, 0, 0, 20, 30)});
  const auto r = m.compute();
  CHECK(r.images == 2);
  CHECK(r.instances == 3);
  REQUIRE(r.classes.size() == 2);  // class 1 has no labels
  CHECK(r.map50 == Approx(0.995));
  CHECK(r.map50_95 == Approx(0.995));
  CHECK(r.precision == Approx(1.0));
  CHECK(r.recall == Approx(1.0));
  CHECK(r.classes[0].images == 2);
  CHECK(r.classes[0].instances == 2);
  CHECK(r.maps[1] == Approx(r.map50_95));  // no labels: the overall value, as DetMetrics.maps
}

TEST_CASE("a missed object halves recall: AP 0.495", "[metrics]") {
  DetMetrics m(1);
  m.add_image({pred(0, 0.9f, 0, 0, 10, 10)}, {target(0, 0, 0, 10, 10), target(0, 50, 50, 60, 60)});
  const auto r = m.compute();
  CHECK(r.map50 == Approx(0.495));
  CHECK(r.recall == Approx(0.5));
  CHECK(r.precision == Approx(1.0));
}

TEST_CASE("a duplicate at lower confidence costs no AP, one above a true positive does", "[metrics]") {
  DetMetrics below(1);
  below.add_image({pred(0, 0.9f, 0, 0, 10, 10), pred(0, 0.8f, 0, 0, 10, 10)}, {target(0, 0, 0, 10, 10)});
  CHECK(below.compute().map50 == Approx(0.995));
  // a false positive ranked first (on an image without labels): precision 0 then 0.5 -> envelope 0.5
  DetMetrics above(1);
  above.add_image({pred(0, 0.9f, 0, 0, 10, 10)}, {target(0, 0, 0, 10, 10)});
  above.add_image({pred(0, 0.95f, 30, 30, 40, 40)}, {});
  const auto r = above.compute();
  CHECK(r.images == 2);
  CHECK(r.map50 == Approx(0.4975));
}

TEST_CASE("a wrong class is no match; a class without labels does not count", "[metrics]") {
  DetMetrics m(3);
  m.add_image({pred(1, 0.9f, 0, 0, 10, 10)}, {target(0, 0, 0, 10, 10)});
  const auto r = m.compute();
  REQUIRE(r.classes.size() == 1);
  CHECK(r.classes[0].cls == 0);
  CHECK(r.map50 == 0.0);
  CHECK(r.precision == 0.0);
  CHECK(r.recall == 0.0);
}

TEST_CASE("a loose box counts at the low IoU thresholds only", "[metrics]") {
  // IoU 0.575 (a 10x10 box against one shifted by 2.7 px: 73 / 127): true at 0.50 and 0.55, false above
  DetMetrics m(1);
  m.add_image({pred(0, 0.9f, 2.7f, 0, 12.7f, 10)}, {target(0, 0, 0, 10, 10)});
  const auto tp = match_predictions({pred(0, 0.9f, 2.7f, 0, 12.7f, 10)}, {target(0, 0, 0, 10, 10)});
  CHECK(tp[0][0]);
  CHECK(tp[0][1]);
  CHECK_FALSE(tp[0][2]);
  const auto r = m.compute();
  CHECK(r.map50 == Approx(0.995));
  CHECK(r.map50_95 == Approx(0.995 * 2 / 10));
}

TEST_CASE("greedy matching: the most confident prediction claims the target first", "[metrics]") {
  // two predictions on one target: the first (more confident, IoU 0.575) takes it at 0.5 and 0.55; the
  // second (IoU 1) gets it at 0.60 and above, where the first did not match
  const auto tp = match_predictions({pred(0, 0.9f, 2.7f, 0, 12.7f, 10), pred(0, 0.8f, 0, 0, 10, 10)}, {target(0, 0, 0, 10, 10)});
  CHECK(tp[0][0]);
  CHECK_FALSE(tp[1][0]);
  CHECK_FALSE(tp[0][2]);
  CHECK(tp[1][2]);
  CHECK(tp[1][9]);
}

TEST_CASE("no labels anywhere: every figure is 0", "[metrics]") {
  DetMetrics m(2);
  m.add_image({pred(0, 0.9f, 0, 0, 10, 10)}, {});
  const auto r = m.compute();
  CHECK(r.classes.empty());
  CHECK(r.map50 == 0.0);
  CHECK(r.map50_95 == 0.0);
  CHECK(r.images == 1);
}

// Random detection problems (noisy boxes, wrong classes, duplicates, false positives, images without labels)
// scored by Ultralytics' own match_predictions and ap_per_class (weights/make_metric_goldens.py): the
// matches must be identical and every metric equal to FP64 rounding.
TEST_CASE("the metrics equal Ultralytics' on random detection problems", "[metrics]") {
  const auto j = nlohmann::json::parse(std::ifstream(y26::test::fixture("det-metrics-cases.json")));
  for (const auto& c : j["cases"]) {
    DetMetrics m(c["nc"].get<int>());
    for (const auto& im : c["images"]) {
      std::vector<Prediction> preds;
      std::vector<Target> targets;
      for (const auto& p : im["predictions"]) {
        const auto b = p["box"].get<std::vector<float>>();
        preds.push_back({{b[0], b[1], b[2], b[3]}, p["conf"].get<float>(), p["cls"].get<int>()});
      }
      for (const auto& t : im["targets"]) {
        const auto b = t["box"].get<std::vector<float>>();
        targets.push_back({{b[0], b[1], b[2], b[3]}, t["cls"].get<int>()});
      }
      const auto tp = match_predictions(preds, targets);
      const auto want = im["tp"].get<std::vector<std::vector<int>>>();
      REQUIRE(tp.size() == want.size());
      for (size_t i = 0; i < tp.size(); ++i)
        for (int k = 0; k < kIouThresholds; ++k) CHECK(tp[i][static_cast<size_t>(k)] == (want[i][static_cast<size_t>(k)] != 0));
      m.add_image(preds, targets);
    }
    const auto r = m.compute();
    INFO("case with nc " << c["nc"] << ", " << c["images"].size() << " images");
    CHECK(r.precision == Approx(c["precision"].get<double>()).margin(1e-9));
    CHECK(r.recall == Approx(c["recall"].get<double>()).margin(1e-9));
    CHECK(r.map50 == Approx(c["map50"].get<double>()).margin(1e-9));
    CHECK(r.map50_95 == Approx(c["map50_95"].get<double>()).margin(1e-9));
    REQUIRE(r.classes.size() == c["classes"].size());
    for (size_t i = 0; i < r.classes.size(); ++i) {
      const auto& w = c["classes"][i];
      CHECK(r.classes[i].cls == w["cls"].get<int>());
      CHECK(r.classes[i].ap50 == Approx(w["ap50"].get<double>()).margin(1e-9));
      CHECK(r.classes[i].ap50_95 == Approx(w["ap50_95"].get<double>()).margin(1e-9));
      CHECK(r.classes[i].precision == Approx(w["precision"].get<double>()).margin(1e-9));
      CHECK(r.classes[i].recall == Approx(w["recall"].get<double>()).margin(1e-9));
    }
  }
}
