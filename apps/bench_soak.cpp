// y26 bench -w MODEL --soak N [--imgsz 640] [--device ...] [--json FILE|-]
// N detect() calls of mixed image sizes and batch sizes on one engine, then N more split over two engines
// sharing the weights on two threads. Every 1,000 calls it records the process's resident memory (and the
// device memory in use, on a GPU); it fails when memory grows by more than a fixed allowance after the
// warm-up (the first 1,000 calls: every shape's session exists by then) or when any call's detections
// differ from the first call's for the same input. A benchmark program, not a timed test
// (docs/benchmarks/soak.md has its figures).
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bench_images.h"
#include "bench_soak.h"
#include "engine_flags.h"

namespace y26::app {
namespace {

constexpr std::int64_t kAllowanceBytes = 16ll << 20;  // growth after warm-up that counts as a leak
constexpr int kEvery = 1000;

std::int64_t resident_bytes() {
  std::int64_t pages = 0, resident = 0;
  std::ifstream("/proc/self/statm") >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

bool same(const std::vector<std::vector<Detection>>& a, const std::vector<std::vector<Detection>>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].size() != b[i].size()) return false;
    for (size_t j = 0; j < a[i].size(); ++j) {
      const Detection &x = a[i][j], &y = b[i][j];
      if (x.cls != y.cls || x.score != y.score || x.x1 != y.x1 || x.y1 != y.y1 || x.x2 != y.x2 || x.y2 != y.y2) return false;
    }
  }
  return true;
}

}  // namespace

int run_soak(const cli::Args& args) {
  const int n = parse_int("--soak", args.get("--soak"), kEvery * 2, 100000000);
  Engine engine = Engine::load(args.require("--weights"), engine_options(args));
  if (!engine.device_note().empty()) std::fprintf(stderr, "y26: %s\n", engine.device_note().c_str());
  // The inputs: images of four sizes (two aspect ratios each way), in batches of 1, 2 and 3, mixed sizes in a
  // batch too (the engine then runs them one by one at their own shapes)
  const std::vector<Image> images = {test_pattern(640, 480, 0), test_pattern(500, 375, 1), test_pattern(300, 640, 2), test_pattern(1280, 720, 3)};
  std::vector<std::vector<Image>> inputs;
  for (int k = 0; k < 12; ++k) {
    std::vector<Image> batch;
    for (int b = 0; b < 1 + k % 3; ++b) batch.push_back(images[static_cast<size_t>((k + b * (k % 2 ? 1 : 0)) % 4)]);
    inputs.push_back(batch);
  }
  std::vector<std::vector<std::vector<Detection>>> first(inputs.size());
  for (size_t k = 0; k < inputs.size(); ++k) first[k] = engine.detect(inputs[k]);

  nlohmann::json phases = nlohmann::json::array();
  std::string failure;
  const auto phase = [&](const char* name, std::vector<Engine*> engines) {
    std::atomic<int> done{0}, mismatches{0};
    std::vector<std::string> errors(engines.size());
    nlohmann::json samples = nlohmann::json::array();
    std::int64_t after_warmup = 0, peak_growth = 0;
    const auto t0 = std::chrono::steady_clock::now();
    const auto sample = [&](int calls) {
      const std::int64_t rss = resident_bytes(), dev = engine.device_memory_used();
      if (calls == kEvery) after_warmup = rss;
      if (calls > kEvery) peak_growth = std::max(peak_growth, rss - after_warmup);
      samples.push_back({{"calls", calls}, {"rss_bytes", rss}, {"device_bytes", dev}});
      std::fprintf(stderr, "  %s: %d calls, RSS %.1f MiB%s\n", name, calls, static_cast<double>(rss) / 1048576.0,
                   dev ? (", device " + std::to_string(dev >> 20) + " MiB").c_str() : "");
    };
    std::vector<std::thread> threads;
    for (size_t t = 0; t < engines.size(); ++t) {
      threads.emplace_back([&, t] {
        try {
          for (int i = static_cast<int>(t); i < n; i += static_cast<int>(engines.size())) {
            const size_t k = static_cast<size_t>(i) % inputs.size();
            if (!same(engines[t]->detect(inputs[k]), first[k])) mismatches.fetch_add(1);
            const int calls = done.fetch_add(1) + 1;
            if (t == 0 && calls >= kEvery && samples.size() < static_cast<size_t>(calls / kEvery)) sample(calls / kEvery * kEvery);
          }
        } catch (const std::exception& e) {
          errors[t] = e.what();
        }
      });
    }
    for (auto& th : threads) th.join();
    sample(n);
    for (const auto& e : errors)
      if (!e.empty() && failure.empty()) failure = std::string(name) + ": " + e;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (mismatches.load() > 0 && failure.empty())
      failure = std::string(name) + ": " + std::to_string(mismatches.load()) + " calls detected otherwise than the first run";
    if (peak_growth > kAllowanceBytes && failure.empty())
      failure = std::string(name) + ": resident memory grew by " + std::to_string(peak_growth >> 20) + " MiB after warm-up";
    phases.push_back({{"phase", name}, {"engines", engines.size()}, {"calls", n}, {"seconds", s}, {"mismatches", mismatches.load()},
                      {"rss_growth_after_warmup_bytes", peak_growth}, {"samples", samples}});
  };
  phase("one engine", {&engine});
  Engine other = engine.share();
  phase("two engines sharing the weights", {&engine, &other});

  const nlohmann::json j = {{"model", args.get("--weights")}, {"device", engine.device()}, {"imgsz", engine.options().imgsz},
                            {"calls_per_phase", n}, {"allowance_bytes", kAllowanceBytes}, {"phases", phases},
                            {"passed", failure.empty()}, {"failure", failure}};
  const std::string json_path = args.get("--json");
  if (!json_path.empty()) write_text_file(json_path, j.dump(1) + "\n");
  if (json_path != "-") {
    for (const auto& p : phases)
      std::printf("soak: %s, %d calls in %.0f s: %d mismatches, resident memory +%.2f MiB after warm-up (allowance %lld MiB)\n",
                  p["phase"].get<std::string>().c_str(), n, p["seconds"].get<double>(), p["mismatches"].get<int>(),
                  static_cast<double>(p["rss_growth_after_warmup_bytes"].get<std::int64_t>()) / 1048576.0,
                  static_cast<long long>(kAllowanceBytes >> 20));
  }
  if (!failure.empty()) throw Error("soak: " + failure);
  return 0;
}

}  // namespace y26::app
