// y26 val -w MODEL --data data.yaml [--split val] [--batch 16] [--save-json FILE] [--json FILE|-] ...
// Ultralytics' `yolo val` on the same engine `y26 detect` runs (y26::validate), and its table.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "engine_flags.h"

namespace y26::app {

int run_val(int argc, char** argv) {
  cli::Spec spec = with_engine_flags({});
  for (const char* f : {"--data", "--split", "--batch", "--save-json", "--json"}) spec.with_value.insert(f);
  const cli::Args args = cli::parse(argc, argv, 2, spec);
  if (!args.positionals.empty()) throw Error(args.positionals[0] + ": unexpected argument (the dataset is --data FILE)");
  Options o = engine_options(args);
  if (!args.has("--conf")) o.conf = 0.001f;  // the validator's default: every detection counts toward the curves
  ValOptions v;
  v.data = args.require("--data");
  v.split = args.get("--split", "val");
  v.batch = args.has("--batch") ? parse_int("--batch", args.get("--batch"), 1, 1024) : 16;
  v.save_json = args.get("--save-json");
  const std::string json_path = args.get("--json");
  std::FILE* log = json_path == "-" ? stderr : stdout;  // with --json -, stdout carries only JSON
  Engine engine = Engine::load(args.require("--weights"), o);
  const bool progress = ::isatty(2) != 0;
  if (progress)
    v.progress = [](int done, int total) { std::fprintf(stderr, "\r\033[Kval: %d/%d images", done, total); };
  const auto start = std::chrono::steady_clock::now();
  const ValResult r = validate(engine, v);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (progress) std::fprintf(stderr, "\r\033[K");
  // after the run: a dataset that cannot be read stays one line of error
  if (!engine.device_note().empty()) std::fprintf(stderr, "y26: %s\n", engine.device_note().c_str());
  for (const auto& w : r.warnings) std::fprintf(stderr, "y26 val: warning: %s\n", w.c_str());

  std::fprintf(log, "%s: %d images, labels %d found, %d missing, %d empty, %d corrupt\n", v.split.c_str(),
               static_cast<int>(r.files.size()), r.labels_found, r.labels_missing, r.labels_empty, r.corrupt);
  // DetectionValidator's table: "%22s" + "%11i" * 2 + "%11.3g" * 4
  std::fprintf(log, "%22s%11s%11s%11s%11s%11s%11s\n", "Class", "Images", "Instances", "Box(P", "R", "mAP50", "mAP50-95)");
  std::fprintf(log, "%22s%11d%11d%11.3g%11.3g%11.3g%11.3g\n", "all", r.images, r.instances, r.precision, r.recall, r.map50,
               r.map50_95);
  if (r.classes.size() > 1)
    for (const auto& c : r.classes)
      std::fprintf(log, "%22s%11d%11d%11.3g%11.3g%11.3g%11.3g\n", c.name.c_str(), c.images, c.instances, c.precision, c.recall,
                   c.map50, c.map50_95);
  std::fprintf(log, "Speed: %.1fms preprocess, %.1fms inference, %.1fms postprocess per image; %.2f s on %s\n",
               r.preprocess_ms, r.inference_ms, r.postprocess_ms, secs, engine.device().c_str());
  if (!v.save_json.empty()) std::fprintf(log, "detections (COCO results) in %s\n", v.save_json.c_str());
  if (!json_path.empty()) {
    nlohmann::json classes = nlohmann::json::array();
    for (const auto& c : r.classes)
      classes.push_back({{"cls", c.cls}, {"name", c.name}, {"images", c.images}, {"instances", c.instances},
                         {"precision", c.precision}, {"recall", c.recall}, {"map50", c.map50}, {"map50_95", c.map50_95}});
    const nlohmann::json j = {
        {"data", v.data}, {"split", r.split}, {"model", args.get("--weights")}, {"device", engine.device()},
        {"imgsz", engine.options().imgsz}, {"batch", v.batch}, {"conf", engine.options().conf},
        {"iou", engine.options().iou}, {"nms", engine.options().nms}, {"images", r.images}, {"instances", r.instances},
        {"precision", r.precision}, {"recall", r.recall}, {"map50", r.map50}, {"map50_95", r.map50_95},
        {"maps", r.maps}, {"classes", classes},
        {"labels", {{"found", r.labels_found}, {"missing", r.labels_missing}, {"empty", r.labels_empty}, {"corrupt", r.corrupt}}},
        {"warnings", r.warnings},
        {"speed_ms", {{"preprocess", r.preprocess_ms}, {"inference", r.inference_ms}, {"postprocess", r.postprocess_ms}}},
        {"files", r.files}};
    write_text_file(json_path, j.dump(1) + "\n");
  }
  return 0;
}

}  // namespace y26::app
