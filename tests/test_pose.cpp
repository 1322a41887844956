// Pose (the Pose26 head) against Ultralytics 8.4.190: the fixture yolo26n-pose-rand (weights/
// make_task_goldens.py --task pose: one class, COCO's 17 keypoints of x, y and visibility, seeded random
// weights conditioned like the detection fixtures: FP32 vs FP64 moves its scores by 2.2e-7 and its raw
// keypoints by 4.6e-6 cells), and yolo26m-thin-pose-kpt5x2-rand (the m layout at width 0.25, two classes, 5
// keypoints of x and y without visibility: 2.0e-7 and 1.2e-6). The graph builds cv4 -> cv4_kpts into the head rows; the CPU engine's raw
// heads match the goldens at 256; keypoint decoding matches Ultralytics' on its own raw outputs; and
// Engine::detect matches `yolo predict` on both scenes at 640, both heads.
//
// Tolerances: raw outputs 1e-4 relative, as the detection parity tests; keypoints in pixels within 0.05
// (relative 1e-4 of 640 is 0.06; the issue asks 0.5), visibilities within 1e-4.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <tuple>

#include "graph/task.h"
#include "graph/yolo26.h"
#include "memory/planner.h"
#include "runtime/cpu_executor.h"
#include "runtime/pose.h"
#include "runtime/postprocess.h"
#include "tests/support/compare.h"
#include "tests/support/fixtures.h"
#include "tests/support/head_goldens.h"
#include "tests/support/predict_run.h"
#include "y26/y26.h"

using namespace y26;
using nlohmann::json;
using test::golden_graph;
using test::rows_from_goldens;

namespace {

const char* kModel = "yolo26n-pose-rand";
constexpr int kNk = 51;  // 17 keypoints x (x, y, visibility)

// The pose fixtures: yolo26n's COCO person model, and one at another scale with another keypoint shape.
struct PoseFixture {
  const char* name;
  int nc, kpt_n, kpt_dim;
};
constexpr PoseFixture kFixtures[] = {{"yolo26n-pose-rand", 1, 17, 3}, {"yolo26m-thin-pose-kpt5x2-rand", 2, 5, 2}};

struct Worst {
  int kpt_n = 17, kpt_dim = 3;
  float px = 0, visible = 0;
  void keypoints(const std::vector<Keypoint>& got, const float* want) {  // want: kpt_n x (x, y[, visibility])
    REQUIRE(got.size() == static_cast<size_t>(kpt_n));
    for (size_t k = 0; k < got.size(); ++k) {
      px = std::max({px, std::abs(got[k].x - want[kpt_dim * k]), std::abs(got[k].y - want[kpt_dim * k + 1])});
      visible = std::max(visible, std::abs(got[k].visible - (kpt_dim == 3 ? want[3 * k + 2] : 1.0f)));
    }
  }
};

}  // namespace

TEST_CASE("the pose fixture is a Pose26 model; its graph writes 17 x 3 keypoint channels after the logits", "[pose]") {
  const WeightMap w = load_weights(test::fixture(std::string(kModel) + ".pt"));
  const graph::HeadKind k = graph::head_kind(w);
  CHECK(k.task == graph::Task::Pose);
  CHECK(k.module == "Pose26");
  CHECK(graph::kpt_shape(w) == std::array<int, 2>{17, 3});
  for (const bool e2e : {true, false}) {
    INFO((e2e ? "one-to-one" : "one-to-many"));
    const graph::Graph g = graph::build_yolo26(w, {256, 256, e2e});
    CHECK(g.head.task == graph::Task::Pose);
    CHECK(g.head.nc == 1);
    CHECK((g.head.kpt_n == 17 && g.head.kpt_dim == 3 && g.head.extra == kNk));
    CHECK(g.head.row() == 4 + 1 + kNk);
    int writers = 0;
    for (const auto& n : g.nodes) {
      if (n.output.buffer != g.head.output || n.output.c0 < 5) continue;
      CHECK((n.output.c0 == 5 && n.output.c == kNk));
      CHECK(n.name.find(e2e ? "one2one_cv4_kpts." : ".cv4_kpts.") != std::string::npos);
      ++writers;
    }
    CHECK(writers == 3);
  }
  Options o;
  o.device = "cpu";
  const Engine e = Engine::load(test::fixture(std::string(kModel) + ".pt"), o);
  CHECK(e.task() == "pose");
  CHECK(e.keypoint_shape() == std::array<int, 2>{17, 3});
  CHECK(e.share().task() == "pose");  // a share is the same model
  CHECK(Engine::load(test::fixture("yolo26n-rand.pt"), o).keypoint_shape() == std::array<int, 2>{0, 0});
}

TEST_CASE("a pose head without its kpt_shape, with a mismatched one or in the YOLOv8 layout is refused by name", "[pose][bad]") {
  const WeightMap w = load_weights(test::fixture(std::string(kModel) + ".pt"));
  WeightMap no_yaml = w;
  no_yaml.meta.yaml_json.clear();
  CHECK_THROWS_WITH(graph::build_yolo26(no_yaml, {256, 256, true}), Catch::Contains("without a kpt_shape in its yaml"));
  WeightMap other = w;
  auto yaml = json::parse(other.meta.yaml_json);
  yaml["kpt_shape"] = {17, 2};
  other.meta.yaml_json = yaml.dump();
  CHECK_THROWS_WITH(graph::build_yolo26(other, {256, 256, true}),
                    Catch::Contains("'model.23.one2one_cv4_kpts.0.weight' has 51 outputs, but kpt_shape [17, 2] needs 34"));
  WeightMap missing = w;
  missing.tensors.erase("model.23.cv4_kpts.2.weight");
  CHECK_THROWS_WITH(graph::build_yolo26(missing, {256, 256, false}), Catch::Contains("tensor 'model.23.cv4_kpts.2.weight' is missing"));
  WeightMap v8 = w;  // keypoints in cv4.l.2, no cv4_kpts: the YOLOv8 Pose head
  for (const char* branch : {"cv4_kpts", "one2one_cv4_kpts"})
    for (int l = 0; l < 3; ++l)
      for (const char* t : {"weight", "bias"}) v8.tensors.erase("model.23." + std::string(branch) + "." + std::to_string(l) + "." + t);
  v8.meta.yaml_json.clear();
  v8.tensors["model.23.cv4.0.2.weight"] = w.at("model.23.cv4_kpts.0.weight");
  CHECK_THROWS_WITH(graph::build_yolo26(v8, {256, 256, false}), Catch::Contains("the YOLOv8 layout"));
}

TEST_CASE("CPU FP32 raw pose heads (boxes, scores, keypoints) match the Ultralytics goldens, both fixtures", "[pose][parity]") {
  for (const PoseFixture& fx : kFixtures) {
    INFO(fx.name);
    const WeightMap w = load_weights(test::fixture(std::string(fx.name) + ".pt"));
    const WeightMap goldens = load_weights(test::fixture(std::string(fx.name) + ".goldens.safetensors"));
    const graph::Graph g = golden_graph(w, goldens, true);
    CHECK((g.head.nc == fx.nc && g.head.kpt_n == fx.kpt_n && g.head.kpt_dim == fx.kpt_dim));
    test::check_raw_heads(w, goldens, "kpts");
  }
}

TEST_CASE("keypoint decoding matches Ultralytics' on its own raw heads, both heads, both fixtures", "[pose][parity]") {
  for (const PoseFixture& fx : kFixtures) {
    INFO(fx.name);
    const WeightMap w = load_weights(test::fixture(std::string(fx.name) + ".pt"));
    const WeightMap goldens = load_weights(test::fixture(std::string(fx.name) + ".goldens.safetensors"));
    const int nk = fx.kpt_n * fx.kpt_dim;
    {  // one-to-one: the top-k rows carry their anchor's keypoints
      const graph::Graph g = golden_graph(w, goldens, true);
      const auto rows = rows_from_goldens(goldens, "head.one2one", g.head.nc, g.head.anchors(), "kpts", nk);
      const auto dets = runtime::select_end2end(rows.data(), g.head.row(), g.head, {0.0f, 0.7f, 300});
      const Tensor& ref_t = goldens.at("head.one2one.decoded");  // (1, 300, 6 + nk)
      REQUIRE(ref_t.shape == std::vector<std::int64_t>{1, 300, 6 + nk});
      const auto ref = ref_t.to_float();
      REQUIRE(dets.size() == 300);
      Worst worst{fx.kpt_n, fx.kpt_dim};
      for (size_t i = 0; i < dets.size(); ++i) {
        INFO("row " << i);
        REQUIRE(dets[i].score == Approx(ref[i * (6 + nk) + 4]).epsilon(1e-6));
        worst.keypoints(runtime::decode_keypoints(rows.data() + dets[i].anchor * g.head.row(), dets[i].anchor, g.head),
                        &ref[i * (6 + nk) + 6]);
      }
      CHECK(worst.px <= 1e-4f);  // the same float steps: exact but for sigmoid's and the sums' last bits
      CHECK(worst.visible <= 1e-6f);
    }
    {  // one-to-many: every anchor's keypoints
      const graph::Graph g = golden_graph(w, goldens, false);
      const int anchors = g.head.anchors(), nc = g.head.nc;
      const auto rows = rows_from_goldens(goldens, "head.one2many", nc, anchors, "kpts", nk);
      const auto ref = goldens.at("head.one2many.decoded").to_float();  // (1, 4 + nc + nk, anchors)
      Worst worst{fx.kpt_n, fx.kpt_dim};
      std::vector<float> want(static_cast<size_t>(nk));
      for (int a = 0; a < anchors; ++a) {
        for (int k = 0; k < nk; ++k) want[static_cast<size_t>(k)] = ref[static_cast<size_t>(4 + nc + k) * anchors + static_cast<size_t>(a)];
        worst.keypoints(runtime::decode_keypoints(&rows[static_cast<size_t>(a) * g.head.row()], a, g.head), want.data());
      }
      CHECK(worst.px <= 1e-4f);
      CHECK(worst.visible <= 1e-6f);
    }
  }
}

namespace {

// A pose fixture's predictions on one scene, both heads, against yolo predict.
void check_predictions(const PoseFixture& fx, const char* scene) {
  const json all = json::parse(test::read_file(test::fixture(std::string(fx.name) + ".detections.json")));
  {
    const Image image = load_image(test::fixture(scene));
    for (const char* run : {"end2end", "nms"}) {
      INFO(scene << ", " << run);
      const json& r = all[scene][run];
      Engine e = Engine::load(test::fixture(std::string(fx.name) + ".pt"), test::predict_run_options(r));
      const auto got = e.detect(image);
      const auto& want = r["detections"];
      REQUIRE(got.size() == want.size());
      REQUIRE(got.size() >= 20);
      Worst worst{fx.kpt_n, fx.kpt_dim};
      float box = 0;
      for (const Detection& d : got) {  // each with the reference of its box (scores may tie: any order among them)
        const json* best = nullptr;
        float best_d = INFINITY;
        for (const auto& wd : want) {
          const auto b = wd["box"].get<std::vector<float>>();
          const float dist = std::max({std::abs(d.x1 - b[0]), std::abs(d.y1 - b[1]), std::abs(d.x2 - b[2]), std::abs(d.y2 - b[3])});
          if (wd["cls"].get<int>() == d.cls && dist < best_d) best_d = dist, best = &wd;
        }
        REQUIRE(best != nullptr);
        box = std::max(box, best_d);
        CHECK(std::abs(d.score - (*best)["score"].get<float>()) <= 1e-4f);
        std::vector<float> flat;
        for (const auto& kp : (*best)["keypoints"])
          for (int v = 0; v < fx.kpt_dim; ++v) flat.push_back(kp[static_cast<size_t>(v)].get<float>());
        worst.keypoints(d.keypoints, flat.data());
      }
      INFO("worst box " << box << " px, keypoint " << worst.px << " px, visibility " << worst.visible);
      CHECK(box <= 0.05f);
      CHECK(worst.px <= 0.05f);
      CHECK(worst.visible <= 1e-4f);
    }
  }
}

}  // namespace

TEST_CASE("pose detections match yolo predict at 640: the m-scale fixture (5 x 2 keypoints), wide scene, both heads",
          "[pose][parity]") {
  check_predictions(kFixtures[1], "scene-640x456.png");
}

// [heavy]: left to the main build's ctest by the sanitizers (33 s under ASan); the decoding and mapping it runs
// are the cases' above and test_cli.sh's pose run
TEST_CASE("pose detections match yolo predict at 640, both fixtures, both scenes, both heads: keypoints within 0.05 px",
          "[pose][parity][heavy]") {
  for (const char* scene : {"scene-640x456.png", "scene-500x375.png"}) check_predictions(kFixtures[0], scene);
  check_predictions(kFixtures[1], "scene-500x375.png");
}
