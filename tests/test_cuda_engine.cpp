// The CUDA backend end to end ([cuda]; skips without a GPU): both fixtures at 640
// in FP16 against the goldens, held to twice the CPU FP16-storage deviation pinned
// in test_detect_e2e.cpp and to the 1 px / 0.01 on matched detections;
// no device allocation inside run(); device bytes as planned.
#include <catch2/catch.hpp>

#include "tests/support/cuda_variant.h"
#include <nlohmann/json.hpp>

#include "kernels/cuda/device_memory.h"
#include "tests/support/detections.h"
#include "tests/support/fixtures.h"
#include "y26/y26.h"

using namespace y26;

TEST_CASE(Y26_TEST_NAME("CUDA engine detections match the goldens at 640"), Y26_TEST_TAGS("[e2e]")) {
  std::string why;
  if (!kernels::cuda::device_available(&why)) {
    WARN("[cuda] test skipped: " << why);
    return;
  }
  struct Bound {
    const char* model;
    size_t min_matched;  // CPU FP16 storage: 24 of 30 and 30 of 31 matched within 1 px / 0.01
    float max_box, max_score;  // twice the CPU FP16-storage bounds
  };
  const Image scene = load_image(test::fixture("scene-640x456.png"));
  for (const Bound& b : {Bound{"yolo26n-rand", 22, 2.0f, 0.016f}, Bound{"yolo26l-thin-nc5-rand", 29, 0.1f, 0.0024f}}) {
    INFO(b.model);
    const auto ref = nlohmann::json::parse(test::read_file(test::fixture(std::string(b.model) + ".detections.json")));
    Options o;
    o.device = Y26_TEST_DEVICE;
    Engine e = Engine::load(test::fixture(std::string(b.model) + ".pt"), o);
    const auto dets = e.detect(scene);
    std::vector<test::Det> got, want;
    for (const auto& d : dets) got.push_back({d.cls, d.score, {d.x1, d.y1, d.x2, d.y2}});
    for (const auto& d : ref["end2end"]["detections"]) {
      const auto bx = d["box"].get<std::vector<float>>();
      want.push_back({d["cls"].get<int>(), d["score"].get<float>(), {bx[0], bx[1], bx[2], bx[3]}});
    }
    const auto m = test::match_detections(got, want, {1.0f, 0.01f});
    INFO("matched " << m.matched << "/" << want.size() << ", max box " << m.max_box << " px, max score " << m.max_score);
    CHECK(m.matched >= b.min_matched);
    CHECK(m.max_box <= b.max_box);
    CHECK(m.max_score <= b.max_score);

    // a second call replays the captured graph and allocates nothing
    const std::int64_t allocs = kernels::cuda::device_allocations();
    e.detect(scene);
    CHECK(kernels::cuda::device_allocations() == allocs);
    // the device time (CUDA events, upload to download) lies inside the call's wall-clock time
    const Timing t = e.last_timing();
    CHECK(t.device_ms > 0);
    CHECK(t.device_ms <= t.preprocess_ms + t.inference_ms + 0.05);
    const MemoryReport plan = e.memory_report(1, 480, 640);
    CHECK(e.device_bytes() == plan.arena_bytes + plan.weights_bytes + plan.workspace_bytes);

    // batch 6 runs in graph order with the sequential plan and no split-K (batch 1: concurrent branches,
    // split-K). The six images are the same and every output is computed the same way whichever tile or
    // image it falls in, so the six results are identical; against batch 1 only FP32 summation orders
    // differ (split-K), which FP16 storage can turn into differences as large as the golden bounds allow.
    const std::vector<Image> six(6, scene);
    const auto batch6 = e.detect(six);
    REQUIRE(batch6.size() == 6);
    for (size_t i = 1; i < 6; ++i) {
      REQUIRE(batch6[i].size() == batch6[0].size());
      for (size_t j = 0; j < batch6[0].size(); ++j) {
        const auto &x = batch6[0][j], &y = batch6[i][j];
        CHECK((x.cls == y.cls && x.score == y.score && x.x1 == y.x1 && x.y1 == y.y1 && x.x2 == y.x2 && x.y2 == y.y2));
      }
    }
    std::vector<test::Det> b6;
    for (const auto& d : batch6[0]) b6.push_back({d.cls, d.score, {d.x1, d.y1, d.x2, d.y2}});
    const auto m6 = test::match_detections(b6, got, {1.0f, 0.01f});
    INFO("batch 6 vs 1: matched " << m6.matched << "/" << got.size() << ", max box " << m6.max_box << " px");
    CHECK(m6.matched * 10 >= got.size() * 9);  // at least 90%: a few may sit at the confidence threshold

    // a share runs on its own stream and arena, with the same device weights (not a second copy)
    const std::int64_t held = kernels::cuda::device_bytes_held();
    Engine shared = e.share();
    const auto again = shared.detect(scene);
    CHECK(again.size() == dets.size());
    // (+ the device staging for the raw image's pixels, sized by the images a call brings)
    CHECK(kernels::cuda::device_bytes_held() - held ==
          plan.arena_bytes + plan.workspace_bytes + static_cast<std::int64_t>(scene.rgb.size()));
  }
}

TEST_CASE(Y26_TEST_NAME("CUDA engine: NMS beyond the device's candidates falls back to the host, exactly"), Y26_TEST_TAGS("[e2e]")) {
  std::string why;
  if (!kernels::cuda::device_available(&why)) {
    WARN("[cuda] test skipped: " << why);
    return;
  }
  // yolo val's settings: conf 0.001, up to 4000 boxes (the device NMS handles max_det <= 4096 but only 2048
  // candidates): the device flags the image and the engine runs NMS on the host on the device's own head.
  const Image scene = load_image(test::fixture("scene-640x456.png"));
  Options o;
  o.device = Y26_TEST_DEVICE;
  o.nms = true;
  o.conf = 0.001f;
  o.max_det = 4000;
  Engine gpu = Engine::load(test::fixture("yolo26n-rand.pt"), o);
  const auto dets = gpu.detect(scene);
  INFO(dets.size() << " detections");
  REQUIRE(dets.size() > 300);  // more than the default max_det: the long tail is there
  for (size_t i = 1; i < dets.size(); ++i) CHECK(dets[i - 1].score >= dets[i].score);
  for (const auto& d : dets) {
    CHECK(d.score > 0.001f);
    CHECK((d.x1 >= 0 && d.y1 >= 0 && d.x2 <= 640 && d.y2 <= 456 && d.x1 <= d.x2 && d.y1 <= d.y2));
  }
  // the best boxes agree with the CPU's FP16-storage run of the same settings (as the golden test bounds them)
  o.device = "cpu";
  o.precision = Precision::FP16;
  Engine cpu = Engine::load(test::fixture("yolo26n-rand.pt"), o);
  const auto ref = cpu.detect(scene);
  std::vector<test::Det> got, want;
  for (size_t i = 0; i < 20 && i < dets.size(); ++i)
    got.push_back({dets[i].cls, dets[i].score, {dets[i].x1, dets[i].y1, dets[i].x2, dets[i].y2}});
  for (size_t i = 0; i < 20 && i < ref.size(); ++i)
    want.push_back({ref[i].cls, ref[i].score, {ref[i].x1, ref[i].y1, ref[i].x2, ref[i].y2}});
  // bounds of the golden test (twice the CPU FP16-storage deviation); the CPU FP16 run matched 80% of the
  // goldens' detections, and both sides here carry FP16 rounding: 70%
  const auto m = test::match_detections(got, want, {2.0f, 0.016f});
  INFO("top 20 matched " << m.matched);
  CHECK(m.matched >= 14);
}

