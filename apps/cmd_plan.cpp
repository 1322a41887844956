// y26 plan -w MODEL [--imgsz 640] [--batch N] [--budget BYTES|2GiB] [--tensors] [--json FILE|-]
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "engine_flags.h"

namespace y26::app {

int run_plan(int argc, char** argv) {
  const cli::Spec spec = with_engine_flags({{}, {"--batch", "--budget", "--json"}, {"--tensors"}});
  const cli::Args args = cli::parse(argc, argv, 2, spec);
  if (!args.positionals.empty()) throw Error("unexpected argument '" + args.positionals.front() + "'");
  Options opt = engine_options(args);
  if (!args.has("--precision")) opt.precision = Precision::FP16;  // plans are for the GPU's FP16 arena by default
  opt.device = "cpu";  // planning needs no device
  const int batch = args.has("--batch") ? parse_int("--batch", args.get("--batch"), 1, 1 << 20) : 1;
  Engine engine = Engine::load(args.require("--weights"), opt);
  const int size = engine.options().imgsz;
  const MemoryReport r = engine.memory_report(batch, size, size);
  const std::string json_path = args.get("--json");

  nlohmann::json j = {{"dtype", r.dtype},
                      {"imgsz", {r.height, r.width}},
                      {"batch", r.batch},
                      {"arena_bytes", r.arena_bytes},
                      {"lower_bound_bytes", r.lower_bound_bytes},
                      {"naive_bytes", r.naive_bytes},
                      {"weights_bytes", r.weights_bytes},
                      {"workspace_bytes", r.workspace_bytes},
                      {"execution", r.execution},
                      {"total_bytes", r.total_bytes()}};
  std::int64_t budget = 0;
  int max_batch = 0;
  if (args.has("--budget")) {
    budget = parse_bytes("--budget", args.get("--budget"));
    max_batch = engine.max_batch_for_budget(budget, size, size);
    j["budget_bytes"] = budget;
    j["max_batch_for_budget"] = max_batch;
  }
  if (args.has("--tensors") || !json_path.empty()) {
    nlohmann::json t = nlohmann::json::array();
    for (const auto& p : r.tensors) {
      t.push_back({{"name", p.name}, {"shape", {r.batch, p.height, p.width, p.channels}}, {"offset_bytes", p.offset_bytes},
                   {"size_bytes", p.size_bytes}, {"first_op", p.first_op}, {"last_op", p.last_op}});
    }
    j["tensors"] = t;
  }
  if (!json_path.empty()) write_text_file(json_path, j.dump(1) + "\n");
  if (json_path == "-") return 0;

  auto mb = [](std::int64_t b) { return static_cast<double>(b) / (1024.0 * 1024.0); };
  std::printf("plan: %s, batch %d at %dx%d, %s activations, %s execution\n", args.get("--weights").c_str(), r.batch, r.width,
              r.height, r.dtype.c_str(), r.execution.c_str());
  std::printf("  arena        %9.2f MiB  (%.3fx the lower bound, %.1f%% of naive)\n", mb(r.arena_bytes),
              static_cast<double>(r.arena_bytes) / static_cast<double>(r.lower_bound_bytes),
              100.0 * static_cast<double>(r.arena_bytes) / static_cast<double>(r.naive_bytes));
  std::printf("  lower bound  %9.2f MiB  (most bytes live at one op)\n", mb(r.lower_bound_bytes));
  std::printf("  naive        %9.2f MiB  (every tensor its own buffer)\n", mb(r.naive_bytes));
  std::printf("  weights      %9.2f MiB\n", mb(r.weights_bytes));
  std::printf("  workspace    %9.2f MiB\n", mb(r.workspace_bytes));
  std::printf("  total        %9.2f MiB\n", mb(r.total_bytes()));
  if (args.has("--budget")) std::printf("  budget %.2f MiB fits batch %d at most\n", mb(budget), max_batch);
  if (args.has("--tensors")) {
    std::printf("\n  %-34s %-18s %12s %12s %s\n", "tensor", "shape (NHWC)", "offset", "bytes", "live ops");
    for (const auto& p : r.tensors) {
      char shape[64];
      std::snprintf(shape, sizeof shape, "%dx%dx%dx%d", r.batch, p.height, p.width, p.channels);
      std::printf("  %-34s %-18s %12lld %12lld %d..%d\n", p.name.c_str(), shape, static_cast<long long>(p.offset_bytes),
                  static_cast<long long>(p.size_bytes), p.first_op, p.last_op);
    }
  }
  return 0;
}

}  // namespace y26::app
