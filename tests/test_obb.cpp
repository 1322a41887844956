// Oriented boxes (the OBB26 head) against Ultralytics 8.4.190: the fixture yolo26n-obb-rand
// (weights/make_task_goldens.py: 15 classes, seeded random weights conditioned like the detection
// fixtures, angles of tenths of a radian both ways). The graph builds the angle branch into the head
// rows; the CPU engine's raw heads match the goldens at 256; the decoding and selection of both heads
// match Ultralytics' on its own raw outputs; and Engine::detect matches `yolo predict` on both scenes
// at 640, both heads, conf 0.25 and 0.15.
//
// Tolerances: as the detection parity tests (1e-4 relative on raw outputs, FP32 sums in another order
// than PyTorch's; measured FP32-vs-FP64 conditioning of the fixture 8.6e-6 on scores, 1.1e-5 rad on
// angles), carried to pixels: corners within 0.05 px (boxes of 10-60 px, relative 1e-4 of 640 is
// 0.06), angles within 1e-4 rad, scores within 1e-4.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <map>

#include "graph/task.h"
#include "graph/yolo26.h"
#include "memory/planner.h"
#include "runtime/cpu_executor.h"
#include "runtime/obb.h"
#include "runtime/postprocess.h"
#include "tests/support/compare.h"
#include "tests/support/fixtures.h"
#include "tests/support/head_goldens.h"
#include "tests/support/predict_run.h"
#include "tests/support/obb_match.h"
#include "y26/y26.h"

using namespace y26;
using nlohmann::json;
using test::from_engine;
using test::match;
using test::golden_graph;
using test::rows_from_goldens;

namespace {

const char* kModel = "yolo26n-obb-rand";

std::vector<test::Obb> from_json(const json& dets) {
  std::vector<test::Obb> out;
  for (const auto& d : dets) {
    test::Obb o{d["cls"].get<int>(), d["score"].get<float>(), {}, {}};
    const auto b = d["xywhr"].get<std::vector<float>>();
    for (int j = 0; j < 5; ++j) o.xywhr[j] = b[static_cast<size_t>(j)];
    for (int k = 0; k < 4; ++k) o.corners[static_cast<size_t>(k)] = {d["corners"][k][0].get<float>(), d["corners"][k][1].get<float>()};
    out.push_back(o);
  }
  return out;
}

}  // namespace

TEST_CASE("the OBB fixture is an oriented-box model; its graph writes the angle after the class logits", "[obb]") {
  const WeightMap w = load_weights(test::fixture(std::string(kModel) + ".pt"));
  const graph::HeadKind k = graph::head_kind(w);
  CHECK(k.task == graph::Task::Obb);
  CHECK(k.module == "OBB26");
  CHECK(inspect_model(test::fixture(std::string(kModel) + ".pt")).task == "obb");
  for (const bool e2e : {true, false}) {
    INFO((e2e ? "one-to-one" : "one-to-many"));
    const graph::Graph g = graph::build_yolo26(w, {256, 256, e2e});
    CHECK(g.head.task == graph::Task::Obb);
    CHECK(g.head.nc == 15);
    CHECK(g.head.extra == 1);
    CHECK(g.head.row() == 20);
    CHECK(g.buffers[static_cast<size_t>(g.head.output)].c == 20);
    // each level's angle conv writes channel 19 of its anchors, and nothing else writes there
    int angle_writers = 0;
    for (const auto& n : g.nodes) {
      if (n.output.buffer != g.head.output || n.output.c0 + n.output.c <= 19) continue;
      CHECK(n.output.c0 == 19);
      CHECK(n.output.c == 1);
      CHECK(n.name.find(e2e ? "one2one_cv4." : ".cv4.") != std::string::npos);
      ++angle_writers;
    }
    CHECK(angle_writers == 3);
  }
  Options o;
  o.device = "cpu";
  CHECK(Engine::load(test::fixture(std::string(kModel) + ".pt"), o).task() == "obb");
  CHECK(Engine::load(test::fixture("yolo26n-rand.pt"), o).task() == "detect");
}

TEST_CASE("an OBB head whose angle branch is missing, or is no angle branch, is refused by name", "[obb]") {
  WeightMap w = load_weights(test::fixture(std::string(kModel) + ".pt"));
  WeightMap missing = w;
  missing.tensors.erase("model.23.one2one_cv4.1.2.weight");
  CHECK_THROWS_WITH(graph::build_yolo26(missing, {256, 256, true}),
                    Catch::Contains("tensor 'model.23.one2one_cv4.1.2.weight' is missing"));
  Tensor& t = w.tensors.at("model.23.cv4.0.2.weight");
  t.shape[0] = 2;
  t.bytes.resize(t.bytes.size() * 2);
  // what the tensors show wins over the yaml: a cv4 of two outputs is a (YOLOv8) pose head's, refused as such
  CHECK_THROWS_WITH(graph::build_yolo26(w, {256, 256, false}),
                    Catch::Contains("a pose model whose head 'model.23' is Pose (the yaml says OBB26)") &&
                        Catch::Contains("YOLOv8 layout"));
}

TEST_CASE("CPU FP32 raw OBB heads (boxes, scores, angles) match the Ultralytics goldens", "[obb][parity]") {
  const WeightMap w = load_weights(test::fixture(std::string(kModel) + ".pt"));
  const WeightMap goldens = load_weights(test::fixture(std::string(kModel) + ".goldens.safetensors"));
  test::check_raw_heads(w, goldens, "angle");
}

TEST_CASE("OBB decoding and selection match Ultralytics' on its own raw heads", "[obb][parity]") {
  const WeightMap w = load_weights(test::fixture(std::string(kModel) + ".pt"));
  const WeightMap goldens = load_weights(test::fixture(std::string(kModel) + ".goldens.safetensors"));
  SECTION("one-to-one: top-k of (cx cy w h score class angle), the angle unchanged") {
    const graph::Graph g = golden_graph(w, goldens, true);
    const int anchors = g.head.anchors(), nc = g.head.nc;
    const auto rows = rows_from_goldens(goldens, "head.one2one", nc, anchors, "angle", 1);
    const auto dets = runtime::select_end2end(rows.data(), g.head.row(), g.head, {0.0f, 0.7f, 300});
    const Tensor& ref_t = goldens.at("head.one2one.decoded");  // (1, 300, 7)
    REQUIRE(ref_t.shape == std::vector<std::int64_t>{1, 300, 7});
    const auto ref = ref_t.to_float();
    REQUIRE(dets.size() == 300);
    // The same inputs and float steps as PyTorch's: the same order, and values within a few ulps
    // (cos and sin come from another libm).
    float worst = 0;
    for (size_t i = 0; i < dets.size(); ++i) {
      const float* e = &ref[i * 7];
      INFO("row " << i);
      REQUIRE(dets[i].rotated);
      REQUIRE(dets[i].cls == static_cast<int>(e[5]));
      CHECK(dets[i].score == Approx(e[4]).epsilon(1e-6));
      CHECK(dets[i].angle == e[6]);
      for (int j = 0; j < 4; ++j) worst = std::max(worst, std::abs(dets[i].box[j] - e[j]));
    }
    CHECK(worst <= 1e-3f);  // pixels, on boxes up to 256
  }
  SECTION("one-to-many: every anchor's rotated box, then rotated NMS") {
    const graph::Graph g = golden_graph(w, goldens, false);
    const int anchors = g.head.anchors(), nc = g.head.nc;
    const auto rows = rows_from_goldens(goldens, "head.one2many", nc, anchors, "angle", 1);
    const auto ref = goldens.at("head.one2many.decoded").to_float();  // (1, 4 + nc + 1, anchors)
    int a = 0;
    float worst = 0;
    for (const auto& l : g.head.levels) {
      for (int y = 0; y < l.h; ++y) {
        for (int x = 0; x < l.w; ++x, ++a) {
          const float* r = &rows[static_cast<size_t>(a) * g.head.row()];
          const auto b = runtime::decode_rotated(r, static_cast<float>(x) + 0.5f, static_cast<float>(y) + 0.5f, l.stride, r[4 + nc]);
          const float got[5] = {b.cx, b.cy, b.w, b.h, b.angle};
          for (int j = 0; j < 5; ++j) {
            const float want = ref[static_cast<size_t>(j == 4 ? 4 + nc : j) * anchors + static_cast<size_t>(a)];
            worst = std::max(worst, std::abs(got[j] - want));
          }
        }
      }
    }
    CHECK(a == anchors);
    CHECK(worst <= 1e-3f);
  }
}

TEST_CASE("probiou and fast rotated NMS are Ultralytics' batch_probiou and TorchNMS.fast_nms", "[obb]") {
  // torch 2.x float32, ultralytics.utils.metrics.batch_probiou over these boxes (xywhr)
  const std::vector<runtime::RotatedBox> boxes = {{50, 50, 40, 20, 0.3f},  {52, 49, 38, 22, 0.35f},
                                                  {50, 50, 40, 20, 0.3f + 3.14159265f / 2}, {120, 60, 30, 30, -0.7f},
                                                  {50, 50, 20, 40, 0.3f + 3.14159265f / 2}, {70, 50, 40, 20, 0.3f}};
  const float want[6][6] = {
      {9.995318055e-01f, 8.804242611e-01f, 5.527862906e-01f, 1.017510891e-03f, 9.995318055e-01f, 3.859763741e-01f},
      {8.804242611e-01f, 9.995318055e-01f, 5.854067802e-01f, 9.558796883e-04f, 8.804242611e-01f, 4.388673306e-01f},
      {5.527862906e-01f, 5.854067802e-01f, 9.995318055e-01f, 5.245208740e-06f, 5.527862906e-01f, 2.510334849e-01f},
      {1.017510891e-03f, 9.558796883e-04f, 5.245208740e-06f, 9.995318055e-01f, 1.017510891e-03f, 2.037274837e-02f},
      {9.995318055e-01f, 8.804242611e-01f, 5.527862906e-01f, 1.017510891e-03f, 9.995318055e-01f, 3.859763741e-01f},
      {3.859763741e-01f, 4.388673306e-01f, 2.510334849e-01f, 2.037274837e-02f, 3.859763741e-01f, 9.995318055e-01f}};
  for (size_t i = 0; i < boxes.size(); ++i)
    for (size_t j = 0; j < boxes.size(); ++j) {
      INFO(i << ", " << j);
      CHECK(runtime::probiou(boxes[i], boxes[j]) == Approx(want[i][j]).margin(2e-6));
    }
  // TorchNMS.fast_nms(boxes, scores descending, thr, iou_func=batch_probiou)
  CHECK(runtime::fast_nms_rotated(boxes, 0.7f) == std::vector<int>{0, 2, 3, 5});
  CHECK(runtime::fast_nms_rotated(boxes, 0.3f) == std::vector<int>{0, 3});
  // Not greedy NMS: at 0.42 box 5 overlaps only box 1 (0.439), which box 0 dropped; fast NMS drops it still
  CHECK(runtime::fast_nms_rotated(boxes, 0.42f) == std::vector<int>{0, 3});
}

TEST_CASE("rotated corners are Ultralytics' xywhr2xyxyxyxy, and a plain box's corners its own", "[obb]") {
  Detection d;
  d.obb = true;
  d.cx = 100, d.cy = 50, d.w = 40, d.h = 20, d.angle = 0.5f;
  const auto c = d.corners();
  const float cs = std::cos(0.5f), sn = std::sin(0.5f);
  CHECK(c[0][0] == Approx(100 + 20 * cs - 10 * sn));
  CHECK(c[0][1] == Approx(50 + 20 * sn + 10 * cs));
  CHECK(c[2][0] == Approx(100 - 20 * cs + 10 * sn));
  CHECK(c[2][1] == Approx(50 - 20 * sn - 10 * cs));
  Detection p{1, 0.5f, 1, 2, 3, 4};
  const auto q = p.corners();
  CHECK(q[0] == std::array<float, 2>{1, 2});
  CHECK(q[2] == std::array<float, 2>{3, 4});
}

// [heavy]: the sanitizers leave it to the main build's ctest (87 s under ASan, CI's second longest case); the
// decoding, rotated NMS and mapping it runs are the 256 cases' above, and test_cli.sh runs OBB at 640 under ASan
TEST_CASE("OBB detections at 640 match yolo predict on both scenes, both heads (FP32)", "[obb][parity][e2e][heavy]") {
  const json ref = json::parse(test::read_file(test::fixture(std::string(kModel) + ".detections.json")));
  for (const char* scene : {"scene-640x456.png", "scene-500x375.png"}) {
    const Image image = load_image(test::fixture(scene));
    for (const char* key : {"end2end", "nms", "end2end_conf0.15", "nms_conf0.15"}) {
      INFO(scene << " " << key);
      const json& r = ref[scene][key];
      const Options o = test::predict_run_options(r);
      Engine e = Engine::load(test::fixture(std::string(kModel) + ".pt"), o);
      const auto got = from_engine(e.detect(image));
      const auto want = from_json(r["detections"]);
      REQUIRE(!want.empty());
      CHECK(got.size() == want.size());
      const test::ObbMatch m = match(got, want, 0.05f, 1e-4f, 1e-4f);
      INFO("worst " << m.worst_px << " px, " << m.worst_angle << " rad, score " << m.worst_score);
      CHECK(m.matched == want.size());
      // x1..y2 are the corners' bounds
      for (const Detection& d : e.detect(image)) {
        const auto c = d.corners();
        CHECK(d.x1 == std::min({c[0][0], c[1][0], c[2][0], c[3][0]}));
        CHECK(d.y2 == std::max({c[0][1], c[1][1], c[2][1], c[3][1]}));
      }
    }
  }
}

TEST_CASE("y26 val refuses an oriented-box model in one line", "[obb]") {
  Options o;
  o.device = "cpu";
  Engine e = Engine::load(test::fixture(std::string(kModel) + ".pt"), o);
  ValOptions v;
  v.data = test::fixture("shapes-val/data.yaml");
  CHECK_THROWS_WITH(validate(e, v), Catch::Contains("y26 val scores detection models only"));
}
