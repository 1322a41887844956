// y26::Engine end to end against what `yolo predict` returned at 640 on the
// bundled scene (weights/fixtures/<model>.detections.json), both heads, FP32 and
// FP16 as the CUDA backend stores it (weights and activations).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/detections.h"
#include "tests/support/fixtures.h"
#include "tests/support/predict_run.h"
#include "y26/y26.h"

using namespace y26;
using nlohmann::json;

namespace {

std::vector<test::Det> from_json(const json& dets) {
  std::vector<test::Det> out;
  for (const auto& d : dets) {
    const auto b = d["box"].get<std::vector<float>>();
    out.push_back({d["cls"].get<int>(), d["score"].get<float>(), {b[0], b[1], b[2], b[3]}});
  }
  return out;
}

std::vector<test::Det> from_engine(const std::vector<Detection>& dets) {
  std::vector<test::Det> out;
  for (const auto& d : dets) out.push_back({d.cls, d.score, {d.x1, d.y1, d.x2, d.y2}});
  return out;
}

}  // namespace

TEST_CASE("detections at 640 match yolo predict (FP32)", "[parity][e2e]") {
  const Image scene = load_image(test::fixture("scene-640x456.png"));
  for (const auto& model : test::fixture_models()) {
    const json ref = json::parse(test::read_file(test::fixture(model + ".detections.json")));
    for (const char* key : {"end2end", "end2end_conf0", "nms"}) {
      INFO(model << " " << key);
      const json& r = ref[key];
      const Options o = test::predict_run_options(r);
      Engine e = Engine::load(test::fixture(model + ".pt"), o);
      const auto got = from_engine(e.detect(scene));
      const auto want = from_json(r["detections"]);
      REQUIRE(!want.empty());
      CHECK(got.size() == want.size());
      const auto m = test::match_detections(got, want, {0.05f, 1e-4f});
      CHECK(m.matched == want.size());
    }
  }
}

TEST_CASE("FP16 as the CUDA backend stores it: measured deviation from the FP32 goldens", "[parity][fp16]") {
  // The CUDA backend stores activations and the folded weights in FP16, and the CPU's --precision fp16
  // rounds both at the same places (its oracle: tests/test_cuda_engine.cpp). This measures how far that
  // moves the results from yolo predict's FP32 ones and pins the numbers, so a change that makes them
  // worse fails here.
  struct Bound {
    const char* model;
    test::MatchTolerance tol;
    size_t min_matched;        // detections matching yolo predict within tol
    float max_box, max_score;  // worst differences among those matched
  };
  // Measured 2026-12-01 (x86-64, GCC 12). yolo26l-thin-nc5-rand: 31/31 within 1 px / 0.01, worst 0.045 px,
  // 0.0015. yolo26n-rand is a random network that amplifies rounding: its weights rounded to FP16 move
  // most detections - 4/30 within 1 px / 0.01, 17/30 within 4 px / 0.05 (worst 2.45 px, 0.035) - so it
  // is pinned at the looser tolerance, and the thin model carries the meaningful bound (about 35% slack).
  const Bound bounds[] = {{"yolo26n-rand", {4.0f, 0.05f}, 15, 4.0f, 0.05f},
                          {"yolo26l-thin-nc5-rand", {1.0f, 0.01f}, 31, 0.06f, 0.002f}};
  const Image scene = load_image(test::fixture("scene-640x456.png"));
  for (const Bound& b : bounds) {
    const json ref = json::parse(test::read_file(test::fixture(std::string(b.model) + ".detections.json")));
    Options o;
    o.device = "cpu";
    o.precision = Precision::FP16;
    Engine e = Engine::load(test::fixture(std::string(b.model) + ".pt"), o);
    const auto want = from_json(ref["end2end"]["detections"]);
    const auto got = from_engine(e.detect(scene));
    const auto m = test::match_detections(got, want, b.tol);
    INFO(b.model << ": FP16 matched " << m.matched << "/" << want.size() << ", max box diff " << m.max_box
                 << " px, max score diff " << m.max_score);
    CHECK(m.matched >= b.min_matched);
    CHECK(m.max_box <= b.max_box);
    CHECK(m.max_score <= b.max_score);
  }
}

TEST_CASE("a shared engine detects the same, on its own arena", "[parity][share]") {
  const Image scene = load_image(test::fixture("scene-640x456.png"));
  Options o;
  o.device = "cpu";
  Engine a = Engine::load(test::fixture("yolo26n-rand.pt"), o);
  Engine b = a.share();
  const auto da = a.detect(scene);
  const auto db = b.detect(scene);
  REQUIRE(da.size() == db.size());
  REQUIRE(!da.empty());
  for (size_t i = 0; i < da.size(); ++i) {
    CHECK(da[i].cls == db[i].cls);
    CHECK(da[i].score == db[i].score);
    CHECK(da[i].x1 == db[i].x1);
    CHECK(da[i].y2 == db[i].y2);
  }
  CHECK(b.class_names() == a.class_names());
}

// Engine::profile (`y26 bench --ops`) must time the ops on the images' data: the plan reuses the input's
// bytes after the first op, so a pass that does not fill the input again runs every later op on leftovers
// (measured 2026-12: the ops' sum 1.22x a whole run instead of 1.05x). profile() checks that its passes
// compute detect()'s head output bit for bit and throws otherwise; two different images, both precisions.
TEST_CASE("profile times every op on the images' own data, pass after pass", "[parity][profile]") {
  const Image scene = load_image(test::fixture("scene-640x456.png"));
  const Image mirrored = test::mirrored(scene);
  for (const Precision precision : {Precision::FP32, Precision::FP16}) {
    Options o;
    o.device = "cpu";
    o.imgsz = 320;
    o.precision = precision;
    Engine e = Engine::load(test::fixture("yolo26n-rand.pt"), o);
    std::vector<OpTiming> ops;
    REQUIRE_NOTHROW(ops = e.profile({scene, mirrored}, 3));
    REQUIRE(ops.size() > 100);  // every node of yolo26n, each once
    for (const auto& op : ops) CHECK(op.ms > 0);
  }
}
