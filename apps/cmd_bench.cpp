// y26 bench -w MODEL [--imgsz 640] [--batch N] [--iters N] [--warmup N] [--device ...] [--json FILE|-]
// (y26 bench --roofline: apps/bench_roofline.cpp)
// Times whole detect() (a classifier's classify()) calls (pre-processing, inference, post-processing) on a
// synthetic imgsz x imgsz image; reports median and p90 latency and throughput.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <nlohmann/json.hpp>

#include "bench_images.h"
#include "bench_roofline.h"
#include "bench_soak.h"
#include "commands.h"
#include "engine_flags.h"

namespace y26::app {
namespace {

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

}  // namespace

int run_bench(int argc, char** argv) {
  const cli::Spec spec = with_engine_flags({{},
                                            {"--batch", "--iters", "--warmup", "--json", "--engines", "--gpu", "--peak-tflops",
                                             "--vector-tflops", "--bandwidth-gbs", "--launch-us", "--soak"},
                                            {"--ops", "--roofline"}});
  const cli::Args args = cli::parse(argc, argv, 2, spec);
  if (!args.positionals.empty()) throw Error("unexpected argument '" + args.positionals.front() + "'");
  if (args.has("--roofline")) return run_roofline(args);  // bounds only: nothing runs
  if (args.has("--soak")) return run_soak(args);
  const int batch = args.has("--batch") ? parse_int("--batch", args.get("--batch"), 1, 4096) : 1;
  const int iters = args.has("--iters") ? parse_int("--iters", args.get("--iters"), 1, 1000000) : 20;
  const int warmup = args.has("--warmup") ? parse_int("--warmup", args.get("--warmup"), 0, 1000000) : 3;
  // --engines N: N engines sharing one copy of the weights (Engine::share), each on its own host thread and
  // (on the GPU) its own streams, all running at once: one engine's host copies and transfers overlap
  // another's kernels. Throughput counts every engine's images over the wall clock of the whole run.
  const int engines = args.has("--engines") ? parse_int("--engines", args.get("--engines"), 1, 64) : 1;
  const std::string json_path = args.get("--json");
  Engine engine = Engine::load(args.require("--weights"), engine_options(args));
  if (!engine.device_note().empty()) std::fprintf(stderr, "y26: %s\n", engine.device_note().c_str());
  const int size = engine.options().imgsz;
  const std::vector<Image> images(static_cast<size_t>(batch), test_pattern(size, size));

  std::vector<Engine> others;
  for (int k = 1; k < engines; ++k) others.push_back(engine.share());
  std::vector<Engine*> all{&engine};
  for (auto& o : others) all.push_back(&o);
  struct Samples {
    std::vector<double> total, infer, post, device;
  };
  std::vector<Samples> samples(all.size());
  std::vector<std::string> errors(all.size());
  // Each engine warms up (its sessions and CUDA graphs exist afterwards), then all start timing together.
  std::atomic<int> ready{0};
  auto work = [&](size_t k) {
    try {
      Engine& e = *all[k];
      const bool classifier = e.task() == "classify";  // a classifier's whole call is classify()
      const auto call = [&] { classifier ? static_cast<void>(e.classify(images)) : static_cast<void>(e.detect(images)); };
      for (int i = 0; i < warmup; ++i) call();
      ready.fetch_add(1);
      while (ready.load() < static_cast<int>(all.size())) std::this_thread::yield();
      for (int i = 0; i < iters; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        call();
        samples[k].total.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        samples[k].infer.push_back(e.last_timing().inference_ms);
        samples[k].post.push_back(e.last_timing().postprocess_ms);
        samples[k].device.push_back(e.last_timing().device_ms);
      }
    } catch (const std::exception& ex) {
      errors[k] = ex.what();
      ready.fetch_add(1);
    }
  };
  std::chrono::steady_clock::time_point start;
  double wall_ms = 0;
  if (all.size() == 1) {
    work(0);
  } else {
    std::vector<std::thread> threads;
    for (size_t k = 0; k < all.size(); ++k) threads.emplace_back(work, k);
    while (ready.load() < static_cast<int>(all.size())) std::this_thread::yield();
    start = std::chrono::steady_clock::now();
    for (auto& t : threads) t.join();
    wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  }
  for (const auto& err : errors)
    if (!err.empty()) throw Error(err);
  std::vector<double> total, infer, post, device;
  for (const auto& sm : samples) {
    total.insert(total.end(), sm.total.begin(), sm.total.end());
    infer.insert(infer.end(), sm.infer.begin(), sm.infer.end());
    post.insert(post.end(), sm.post.begin(), sm.post.end());
    device.insert(device.end(), sm.device.begin(), sm.device.end());
  }
  const MemoryReport mem = engine.memory_report(batch, size, size);
  const double median = percentile(total, 0.5);
  // one engine: images per median call; several: all their images over the wall clock of the timed part
  const double images_per_s =
      all.size() == 1 ? 1000.0 * batch / median
                      : 1000.0 * static_cast<double>(batch) * iters * static_cast<double>(all.size()) / wall_ms;
  nlohmann::json j = {{"model", args.get("--weights")},
                      {"device", engine.device()},
                      {"imgsz", size},
                      {"batch", batch},
                      {"iters", iters},
                      {"precision", engine.options().precision == Precision::FP16 ? "fp16" : "fp32"},
                      {"latency_ms_median", median},
                      {"latency_ms_p90", percentile(total, 0.9)},
                      {"inference_ms_median", percentile(infer, 0.5)},
                      {"postprocess_ms_median", percentile(post, 0.5)},
                      {"kernels", engine.options().kernels},
                      // CUDA: pixel upload -> letterbox -> network -> selection -> download, CUDA events (0 on the CPU)
                      {"device_ms_median", percentile(device, 0.5)},
                      {"device_ms_p90", percentile(device, 0.9)},
                      {"engines", engines},
                      {"images_per_s", images_per_s},
                      {"arena_bytes", mem.arena_bytes},
                      {"weights_bytes", mem.weights_bytes},
                      {"planned_bytes", mem.total_bytes()},
                      {"engine_device_bytes", engine.device_bytes()},
                      {"process_device_bytes", engine.device_memory_used()}};
  std::vector<OpTiming> ops;
  if (args.has("--ops")) {  // per-op times (no graph replay): where the time goes, layer by layer
    ops = engine.profile(images, std::max(3, std::min(iters, 20)));
    nlohmann::json jo = nlohmann::json::array();
    double conv = 0, all_ops = 0;
    for (const auto& o : ops) {
      jo.push_back({{"name", o.name}, {"kind", o.kind}, {"ms", o.ms}, {"detail", o.detail}});
      all_ops += o.ms;
      if (o.kind == "Conv") conv += o.ms;
    }
    j["ops"] = jo;
    j["ops_total_ms"] = all_ops;
    j["conv_total_ms"] = conv;
    // how far the op-by-op sum is from a whole run (CPU: the inference span; CUDA: the device span, which
    // also holds the upload and letterbox): launch gaps and the lost overlap of concurrent branches show here
    const double whole = percentile(device, 0.5) > 0 ? percentile(device, 0.5) : percentile(infer, 0.5);
    j["ops_total_over_run"] = whole > 0 ? all_ops / whole : 0.0;
  }
  if (!json_path.empty()) write_text_file(json_path, j.dump(1) + "\n");
  if (json_path != "-") {
    std::printf("bench: %s on %s, %dx%d, batch %d, %d iterations%s\n", args.get("--weights").c_str(), engine.device().c_str(),
                size, size, batch, iters, engines > 1 ? (", " + std::to_string(engines) + " engines at once").c_str() : "");
    std::printf("  latency   median %.2f ms, p90 %.2f ms (inference %.2f ms)\n", median, percentile(total, 0.9),
                percentile(infer, 0.5));
    if (percentile(device, 0.5) > 0) {
      std::printf("  on the device (upload to download) median %.3f ms, p90 %.3f ms: %.1f images/s\n", percentile(device, 0.5),
                  percentile(device, 0.9), 1000.0 * batch / percentile(device, 0.5));
    }
    std::printf("  throughput %.1f images/s%s\n", images_per_s, engines > 1 ? " (all engines, wall clock)" : "");
    std::printf("  memory    arena %.2f MiB, weights %.2f MiB\n", static_cast<double>(mem.arena_bytes) / 1048576.0,
                static_cast<double>(mem.weights_bytes) / 1048576.0);
    if (!ops.empty()) {
      std::vector<OpTiming> top = ops;
      std::sort(top.begin(), top.end(), [](const OpTiming& a, const OpTiming& b) { return a.ms > b.ms; });
      std::printf("  slowest ops (run one by one):\n");
      for (size_t i = 0; i < top.size() && i < 10; ++i) {
        std::printf("    %8.3f ms  %-10s %-28s %s\n", top[i].ms, top[i].kind.c_str(), top[i].name.c_str(), top[i].detail.c_str());
      }
    }
  }
  return 0;
}

}  // namespace y26::app
