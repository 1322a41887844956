// y26::validate (include/y26/y26.h): a split through the engine as Ultralytics' DetectionValidator runs it
// (runtime/val_dataset.h prepares the batches, runtime/det_metrics.h scores them).
#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "loader/atomic_file.h"
#include "runtime/dataset_yaml.h"
#include "runtime/det_metrics.h"
#include "runtime/val_dataset.h"
#include "runtime/yolo_labels.h"
#include "y26/y26.h"

namespace y26 {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

constexpr int kMinImageSide = 10;  // verify_image_label: "image size <10 pixels" is corrupt

struct Entry {
  std::string file;
  int width = 0, height = 0;
  std::vector<runtime::LabelRow> labels;
};

// COCO results: image_id the file's stem as a number when it is all digits (pred_to_json), category ids 1..nc
nlohmann::json image_id(const std::string& file) {
  const std::string stem = std::filesystem::path(file).stem().string();
  const bool digits = !stem.empty() && stem.size() < 18 &&
                      std::all_of(stem.begin(), stem.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
  if (digits) return std::stoll(stem);
  return stem;
}
double round_to(double v, double scale) { return std::nearbyint(v * scale) / scale; }

}  // namespace

ValResult validate(Engine& engine, const ValOptions& options) {
  // Oriented boxes are matched by their probabilistic IoU against rotated labels (Ultralytics' OBBValidator),
  // not by the axis-aligned IoU below: scoring their bounds would give a number that means nothing.
  if (engine.task() != "detect") {
    throw Error("the model's task is " + engine.task() + ": y26 val scores detection models only (" + engine.task() +
                " validation is not supported yet)");
  }
  const auto data = runtime::read_dataset_yaml(options.data);
  const auto split = data.splits.find(options.split);
  if (split == data.splits.end())
    throw Error(options.data + ": no '" + options.split + ":' split (the dataset has " + [&] {
      std::string have;
      for (const auto& [k, v] : data.splits) have += (have.empty() ? "" : ", ") + k;
      return have;
    }() + ")");
  const int nc = static_cast<int>(engine.class_names().size());
  if (static_cast<int>(data.names.size()) != nc)
    throw Error(options.data + ": " + std::to_string(data.names.size()) + " classes, the model has " + std::to_string(nc));
  if (options.batch <= 0) throw Error("--batch " + std::to_string(options.batch) + ": must be positive");

  ValResult res;
  res.split = options.split;
  const auto t_check = Clock::now();
  // The cache stage: every image opened and its label file checked; corrupt pairs left out, as Ultralytics does
  std::vector<Entry> entries;
  for (const auto& file : runtime::split_images(split->second)) {
    auto labels = runtime::read_labels(runtime::label_path(file), nc);
    Entry e;
    e.file = file;
    try {
      const Image im = load_image(file);
      e.width = im.width, e.height = im.height;
      if (im.width < kMinImageSide || im.height < kMinImageSide)
        throw Error(file + ": image size " + std::to_string(im.width) + "x" + std::to_string(im.height) + " <10 pixels");
    } catch (const Error& err) {
      ++res.corrupt;
      res.warnings.push_back(std::string("ignoring corrupt image/label: ") + err.what());
      continue;
    }
    using S = runtime::ImageLabels::Status;
    switch (labels.status) {
      case S::Corrupt:
        ++res.corrupt;
        res.warnings.push_back(file + ": ignoring corrupt image/label: " + labels.message);
        continue;
      case S::Missing: ++res.labels_missing; break;
      case S::Empty: ++res.labels_empty; break;
      case S::Found:
        ++res.labels_found;
        if (!labels.message.empty()) res.warnings.push_back(file + ": " + labels.message);
        break;
    }
    e.labels = std::move(labels.rows);
    entries.push_back(std::move(e));
  }
  if (entries.empty()) throw Error(options.data + ": the '" + options.split + "' split has no usable images");
  if (res.labels_found == 0) res.warnings.push_back(options.data + ": no labels found in the '" + options.split + "' split");
  double pre_ms = ms_since(t_check), inf_ms = 0, post_ms = 0;

  std::vector<std::array<int, 2>> hw;
  for (const auto& e : entries) hw.push_back({e.height, e.width});
  const int imgsz = engine.options().imgsz;
  const auto batches = runtime::rect_batches(hw, options.batch, imgsz, 32);
  runtime::DetMetrics metrics(nc);
  nlohmann::json json = nlohmann::json::array();
  const bool multi_label = engine.options().nms;
  const int total = static_cast<int>(entries.size());
  for (size_t b = 0; b < batches.shape.size(); ++b) {
    const auto t0 = Clock::now();
    const int first = static_cast<int>(b) * batches.batch_size, last = std::min(total, first + batches.batch_size);
    std::vector<Image> inputs;
    std::vector<runtime::ValGeometry> geo;
    for (int k = first; k < last; ++k) {
      const Entry& e = entries[static_cast<size_t>(batches.order[static_cast<size_t>(k)])];
      const Image src = load_image(e.file);
      if (src.width != e.width || src.height != e.height) throw Error(e.file + ": changed while it was validated");
      geo.push_back(runtime::val_geometry(src.width, src.height, imgsz, batches.shape[b]));
      inputs.push_back(runtime::val_input(src, geo.back()));
    }
    const auto t1 = Clock::now();
    const auto dets = engine.detect_letterboxed(inputs, multi_label);
    const auto t2 = Clock::now();
    for (int k = first; k < last; ++k) {
      const Entry& e = entries[static_cast<size_t>(batches.order[static_cast<size_t>(k)])];
      const auto& g = geo[static_cast<size_t>(k - first)];
      std::vector<runtime::Prediction> preds;
      for (const auto& d : dets[static_cast<size_t>(k - first)]) {
        preds.push_back({{d.x1, d.y1, d.x2, d.y2}, d.score, d.cls});
        if (!options.save_json.empty()) {
          const auto box = runtime::val_box_to_source({d.x1, d.y1, d.x2, d.y2}, g);
          json.push_back({{"image_id", image_id(e.file)},
                          {"file_name", std::filesystem::path(e.file).filename().string()},
                          {"category_id", d.cls + 1},
                          {"bbox", {round_to(box.x1, 1e3), round_to(box.y1, 1e3), round_to(box.x2 - box.x1, 1e3),
                                    round_to(box.y2 - box.y1, 1e3)}},
                          {"score", round_to(d.score, 1e5)}});
        }
      }
      metrics.add_image(std::move(preds), runtime::val_targets(e.labels, g));
      res.files.push_back(e.file);
    }
    pre_ms += std::chrono::duration<double, std::milli>(t1 - t0).count();
    inf_ms += std::chrono::duration<double, std::milli>(t2 - t1).count();
    post_ms += ms_since(t2);
    if (options.progress) options.progress(last, total);
  }

  const auto t3 = Clock::now();
  const auto m = metrics.compute();
  res.images = m.images, res.instances = m.instances;
  res.precision = m.precision, res.recall = m.recall, res.map50 = m.map50, res.map50_95 = m.map50_95;
  res.maps = m.maps;
  for (const auto& c : m.classes)
    res.classes.push_back({c.cls, engine.class_names()[static_cast<size_t>(c.cls)], c.images, c.instances, c.precision,
                           c.recall, c.ap50, c.ap50_95});
  if (!options.save_json.empty()) {
    const std::string text = json.dump() + "\n";
    loader::write_file_atomically(options.save_json, [&](std::FILE* f) {
      return std::fwrite(text.data(), 1, text.size(), f) == text.size();
    });
  }
  post_ms += ms_since(t3);
  res.preprocess_ms = pre_ms / total, res.inference_ms = inf_ms / total, res.postprocess_ms = post_ms / total;
  return res;
}

}  // namespace y26
