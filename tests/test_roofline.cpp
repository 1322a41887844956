// The roofline bounds (Engine::roofline, `y26 bench --roofline`): FLOPs as Ultralytics counts them, the
// minimum bytes of an op worked by hand, and the bounds as the sums docs/gpu-check.md defines.
#include <catch2/catch.hpp>

#include <algorithm>

#include "tests/support/fixtures.h"
#include "y26/y26.h"

using namespace y26;

TEST_CASE("roofline of yolo26n at 640 on an H200", "[roofline]") {
  Options o;
  o.device = "cpu";
  const Engine e = Engine::load(test::fixture("yolo26n-rand.pt"), o);
  const GpuLimits h200 = gpu_limits("h200");
  CHECK(h200.bandwidth_gbs == 4800);
  CHECK(h200.tensor_tflops == Approx(989.4));
  const RooflineReport b1 = e.roofline(1, 640, 640, h200);
  REQUIRE(b1.ops.size() > 100);

  // Ultralytics publishes 5.4 GFLOPs for the fused YOLO26n at 640 (docs/macros/yolo-det-perf.md; thop
  // counts the convolutions' multiply-adds x 2, not attention's matrix products)
  double conv_flops = 0;
  for (const auto& op : b1.ops)
    if (op.kind == "Conv") conv_flops += op.flops;
  CHECK(conv_flops > 5.35e9);
  CHECK(conv_flops < 5.45e9);

  // model.0: 3x3/2 conv 3 -> 16 on 640x640: reads the FP16 input, writes 320x320x16 FP16, weights FP16 + bias FP32
  const auto stem = std::find_if(b1.ops.begin(), b1.ops.end(), [](const OpBound& op) { return op.name == "model.0"; });
  REQUIRE(stem != b1.ops.end());
  CHECK(stem->bytes == 640.0 * 640 * 3 * 2 + 320.0 * 320 * 16 * 2 + 16.0 * 9 * 3 * 2 + 16 * 4);
  CHECK(stem->flops == 2.0 * 320 * 320 * 16 * 9 * 3);
  CHECK(stem->memory_ms == Approx(stem->bytes / 4.8e12 * 1e3));
  CHECK(stem->memory_ms < h200.launch_us * 1e-3);  // 5.7 MB at 4.8 TB/s: 1.2 us, under one launch
  CHECK(stem->limit == "launch");

  // the batch-1 bound is the sum of each op's largest of compute, memory and one launch
  double sum = 0;
  for (const auto& op : b1.ops) {
    CHECK(op.bound_ms == Approx(std::max({op.compute_ms, op.memory_ms, h200.launch_us * 1e-3})));
    sum += op.bound_ms;
  }
  CHECK(b1.latency_bound_ms == Approx(sum));

  // batch 64: activations scale with the batch, weights do not; the throughput bound has no launch floor
  const RooflineReport b64 = e.roofline(64, 640, 640, h200);
  const auto stem64 = std::find_if(b64.ops.begin(), b64.ops.end(), [](const OpBound& op) { return op.name == "model.0"; });
  CHECK(stem64->bytes == 64 * (640.0 * 640 * 3 * 2 + 320.0 * 320 * 16 * 2) + 16.0 * 9 * 3 * 2 + 16 * 4);
  CHECK(stem64->limit == "memory");
  double no_floor = 0;
  for (const auto& op : b64.ops) no_floor += std::max(op.compute_ms, op.memory_ms);
  CHECK(b64.throughput_bound_img_s == Approx(64000.0 / no_floor));
  CHECK(b64.flops == Approx(64 * b1.flops));

  CHECK_THROWS_WITH(gpu_limits("a100"), Catch::Contains("expected h200 or h100"));
}
