// y26 bench -w MODEL --roofline [--gpu h200|h100] [--batch N] [--peak-tflops T] [--vector-tflops T]
//   [--bandwidth-gbs B] [--launch-us U] [--json FILE|-]
// The physical limit (Engine::roofline): the batch-1 latency bound and the batch-N throughput bound
// (N = --batch, default 64) of the model at --imgsz on a named GPU's datasheet figures, or on measured
// ones given by the flags (bench/gpu-check.sh passes its probes'). Runs nothing: no device needed.
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "bench_roofline.h"
#include "engine_flags.h"

namespace y26::app {
namespace {

nlohmann::json to_json(const RooflineReport& r) {
  nlohmann::json ops = nlohmann::json::array();
  for (const auto& o : r.ops)
    ops.push_back({{"name", o.name}, {"kind", o.kind}, {"flops", o.flops}, {"bytes", o.bytes}, {"compute_ms", o.compute_ms},
                   {"memory_ms", o.memory_ms}, {"bound_ms", o.bound_ms}, {"limit", o.limit}});
  return {{"batch", r.batch}, {"imgsz", {r.height, r.width}}, {"flops", r.flops}, {"bytes", r.bytes},
          {"latency_bound_ms", r.latency_bound_ms}, {"throughput_bound_img_s", r.throughput_bound_img_s}, {"ops", ops}};
}

}  // namespace

int run_roofline(const cli::Args& args) {
  GpuLimits gpu = gpu_limits(args.get("--gpu", "h200"));
  const auto rate = [&](const char* flag, double& field, float hi) {
    if (!args.has(flag)) return;
    field = parse_float(flag, args.get(flag), 1e-6f, hi);
    gpu.source = "measured (" + std::string(flag) + " and the others given), datasheet otherwise: " + gpu.source;
  };
  rate("--peak-tflops", gpu.tensor_tflops, 1e6f);
  rate("--vector-tflops", gpu.vector_tflops, 1e6f);
  rate("--bandwidth-gbs", gpu.bandwidth_gbs, 1e7f);
  rate("--launch-us", gpu.launch_us, 1e6f);
  Options o = engine_options(args);
  o.device = "cpu";  // a bound needs no device
  Engine engine = Engine::load(args.require("--weights"), o);
  const int size = engine.options().imgsz;
  const int batch = args.has("--batch") ? parse_int("--batch", args.get("--batch"), 1, 4096) : 64;
  const RooflineReport b1 = engine.roofline(1, size, size, gpu);
  const RooflineReport bn = engine.roofline(batch, size, size, gpu);
  const std::string json_path = args.get("--json");
  if (!json_path.empty()) {
    const nlohmann::json j = {{"model", args.get("--weights")},
                              {"gpu", {{"name", gpu.name}, {"tensor_tflops", gpu.tensor_tflops}, {"vector_tflops", gpu.vector_tflops},
                                       {"bandwidth_gbs", gpu.bandwidth_gbs}, {"launch_us", gpu.launch_us}, {"source", gpu.source}}},
                              {"latency_b1_bound_ms", b1.latency_bound_ms},
                              {"throughput_bound_img_s", bn.throughput_bound_img_s},
                              {"throughput_batch", batch},
                              {"batch1", to_json(b1)},
                              {"batchN", to_json(bn)}};
    write_text_file(json_path, j.dump(1) + "\n");
  }
  if (json_path == "-") return 0;
  std::printf("roofline: %s at %dx%d on %s (%.1f TFLOP/s FP16 tensor, %.1f off the tensor cores, %.0f GB/s, %.2f us a launch;\n"
              "  %s)\n",
              args.get("--weights").c_str(), size, size, gpu.name.c_str(), gpu.tensor_tflops, gpu.vector_tflops, gpu.bandwidth_gbs,
              gpu.launch_us, gpu.source.c_str());
  std::printf("  batch 1:  %.2f GFLOP, %.2f MB moved at least; latency bound %.4f ms (%zu ops; the launch floor sets %ld of them)\n",
              b1.flops / 1e9, b1.bytes / 1e6, b1.latency_bound_ms, b1.ops.size(),
              static_cast<long>(std::count_if(b1.ops.begin(), b1.ops.end(), [](const OpBound& op) { return op.limit == "launch"; })));
  std::printf("  batch %d: %.2f GFLOP, %.2f MB; throughput bound %.0f images/s (%.4f ms a batch, no launch floor)\n", batch, bn.flops / 1e9,
              bn.bytes / 1e6, bn.throughput_bound_img_s, 1000.0 * batch / bn.throughput_bound_img_s);
  std::vector<OpBound> top = bn.ops;
  std::sort(top.begin(), top.end(), [](const OpBound& a, const OpBound& b) { return a.bound_ms > b.bound_ms; });
  std::printf("  largest bounds at batch %d:\n", batch);
  for (size_t i = 0; i < top.size() && i < 8; ++i)
    std::printf("    %9.4f ms  %-9s %-24s %8.3f GFLOP %8.2f MB  %s-bound\n", top[i].bound_ms, top[i].kind.c_str(), top[i].name.c_str(),
                top[i].flops / 1e9, top[i].bytes / 1e6, top[i].limit.c_str());
  return 0;
}

}  // namespace y26::app
