// y26 info -w MODEL: format, tensor count, parameters, classes, metadata.
#include <cstdio>
#include <string>

#include "cli.h"
#include "commands.h"
#include "engine_flags.h"
#include "y26/y26.h"

namespace y26::app {

namespace {
std::string thousands(std::int64_t v) {
  const std::string digits = std::to_string(v);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0 && digits[i - 1] != '-') out += ',';
    out += digits[i];
  }
  return out;
}
}  // namespace

int run_info(int argc, char** argv) {
  const cli::Args args = cli::parse(argc, argv, 2, {{{"-w", "--weights"}}, {"--weights", "--imgsz"}, {"--layers"}});
  if (!args.positionals.empty()) throw Error("unexpected argument '" + args.positionals.front() + "'");
  const ModelInfo m = inspect_model(args.require("--weights"));

  std::printf("model:       %s\n", m.path.c_str());
  std::string fmt = m.format == "pt" ? "Ultralytics .pt checkpoint" : "safetensors";
  if (m.extra.count("version")) fmt += " (ultralytics " + m.extra.at("version") + ")";
  std::printf("format:      %s\n", fmt.c_str());
  std::printf("tensors:     %lld (%.2f MB stored)\n", static_cast<long long>(m.tensor_count), static_cast<double>(m.weight_bytes) / 1e6);
  std::printf("parameters:  %s\n", thousands(m.parameter_count).c_str());
  std::string classes = m.num_classes >= 0 ? std::to_string(m.num_classes) : "unknown";
  for (size_t i = 0; i < m.class_names.size() && i < 6; ++i) classes += (i ? ", " : " (") + m.class_names[i];
  if (!m.class_names.empty()) classes += m.class_names.size() > 6 ? ", ...)" : ")";
  std::printf("classes:     %s\n", classes.c_str());
  std::string strides;
  for (float s : m.strides) strides += (strides.empty() ? "" : " ") + std::to_string(static_cast<int>(s));
  std::printf("strides:     %s\n", strides.empty() ? "unknown" : strides.c_str());
  std::printf("scale:       %s\n", m.scale.empty() ? "unknown" : m.scale.c_str());
  std::printf("end2end:     %s\n", !m.end2end ? "unknown" : *m.end2end ? "yes (NMS-free one-to-one head)" : "no");
  std::printf("reg_max:     %s\n", m.reg_max ? std::to_string(*m.reg_max).c_str() : "unknown");
  if (m.batchnorm_eps) std::printf("bn eps:      %g\n", *m.batchnorm_eps);
  if (m.extra.count("date")) std::printf("saved:       %s\n", m.extra.at("date").c_str());
  std::printf("task:        %s%s\n", m.task.c_str(),
              m.head_module.empty() ? "" : (" (head " + m.head_layer + ": " + m.head_module + ")").c_str());
  // what a trained checkpoint says of its training and its last validation
  const auto extra = [&](const std::string& k) { return m.extra.count(k) ? m.extra.at(k) : std::string("?"); };
  if (m.extra.count("train_args.epochs"))
    std::printf("trained:     %s epochs at imgsz %s on %s\n", extra("train_args.epochs").c_str(),
                extra("train_args.imgsz").c_str(), extra("train_args.data").c_str());
  if (m.extra.count("train_metrics.metrics/mAP50-95(B)"))
    std::printf("val mAP:     %s (50-95), %s (50), at the end of training\n", extra("train_metrics.metrics/mAP50-95(B)").c_str(),
                extra("train_metrics.metrics/mAP50(B)").c_str());

  if (m.task == "unknown") {  // described, not built: Engine::load refuses it
    std::printf("graph:       none: y26 runs detection, segmentation, oriented-box, pose and classification models only\n");
    return 0;
  }
  // The graph y26 builds from it (BatchNorm folded, the one-to-one head).
  Options o;
  o.device = "cpu";
  if (args.has("--imgsz")) o.imgsz = parse_int("--imgsz", args.get("--imgsz"), 32, 8192);
  const Engine engine = Engine::load(m.path, o);
  const int size = engine.options().imgsz;
  const GraphSummary g = engine.summary(size, size);
  std::printf("graph:       %d ops, %s parameters after BatchNorm folding, %.2f GFLOPs at %dx%d\n", g.ops,
              thousands(g.parameters).c_str(), g.gflops, size, size);
  std::printf("\n  %5s  %-9s %5s %11s  %s\n", "layer", "type", "ops", "params", "output (HxWxC)");
  for (const auto& l : g.layers) {
    std::printf("  %5d  %-9s %5d %11s  %dx%dx%d\n", l.index, l.type.c_str(), l.ops, thousands(l.parameters).c_str(),
                l.height, l.width, l.channels);
  }
  return 0;
}

}  // namespace y26::app
