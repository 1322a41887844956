// y26 detect -w MODEL -i IMAGE|DIR... [-o OUTDIR] [--json FILE|-] [--no-draw] [--batch N] ...
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <thread>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "engine_flags.h"

namespace y26::app {
namespace fs = std::filesystem;

namespace {

bool is_image_name(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp";
}

// Files named directly are taken whatever their name; directories contribute their images, sorted.
std::vector<std::string> collect_inputs(const std::vector<std::string>& given, bool& any_dir) {
  std::vector<std::string> files;
  any_dir = false;
  for (const auto& g : given) {
    std::error_code ec;
    if (fs::is_directory(g, ec)) {
      any_dir = true;
      std::vector<std::string> here;
      for (const auto& e : fs::directory_iterator(g, ec)) {
        if (e.is_regular_file(ec) && is_image_name(e.path())) here.push_back(e.path().string());
      }
      if (ec) throw Error(g + ": cannot list directory: " + ec.message());
      std::sort(here.begin(), here.end());
      if (here.empty()) throw Error(g + ": directory holds no .jpg, .jpeg, .png or .bmp images");
      files.insert(files.end(), here.begin(), here.end());
    } else if (fs::exists(g, ec)) {
      files.push_back(g);
    } else {
      throw Error(g + ": no such file or directory");
    }
  }
  return files;
}

std::string output_name(const std::string& outdir, const std::string& input) {
  fs::path name = fs::path(input).filename();
  std::string ext = name.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext != ".jpg" && ext != ".jpeg" && ext != ".png") name.replace_extension(".png");
  return (fs::path(outdir) / name).string();
}

// Runs fn(i) for i in [0, n) on up to `workers` threads (decoding and encoding images is independent per
// image); the first exception, by index, is rethrown after all have finished.
template <typename F>
void for_each_parallel(size_t n, unsigned workers, F&& fn) {
  std::vector<std::exception_ptr> errors(n);
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) {
      try {
        fn(i);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < std::min<size_t>(workers, n); ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
}

// The images of files[first, last), decoded in parallel.
std::vector<Image> decode_batch(const std::vector<std::string>& files, size_t first, size_t last, unsigned workers) {
  std::vector<Image> images(last - first);
  for_each_parallel(images.size(), workers, [&](size_t k) { images[k] = load_image(files[first + k]); });
  return images;
}

// A classifier's JSON "top5" (cls, name, prob, most probable first); `summary` gets "name 0.87, ...".
nlohmann::json top5_json(const Classification& c, const std::vector<std::string>& names, std::string& summary) {
  nlohmann::json top = nlohmann::json::array();
  for (int k : c.top(5)) {
    const std::string& name = names[static_cast<size_t>(k)];
    const float p = c.probs[static_cast<size_t>(k)];
    top.push_back({{"cls", k}, {"name", name}, {"prob", p}});
    char line[32];
    std::snprintf(line, sizeof line, " %.2f", static_cast<double>(p));
    summary += (summary.empty() ? "" : ", ") + name + line;
  }
  return top;
}

// One image's JSON "detections": class, name, score, box, and an OBB's rotated box, a pose model's
// keypoints (kpt_dim values each) or a segmentation model's mask (COCO RLE in the image's width x height);
// `summary` gets "N detections: 2 person, ...".
nlohmann::json detections_json(const std::vector<Detection>& dets, const std::vector<std::string>& names, int kpt_dim,
                               bool masks, const Image& image, std::string& summary) {
  nlohmann::json jd = nlohmann::json::array();
  std::map<std::string, int> counts;
  for (const auto& d : dets) {
    const std::string& name = names[static_cast<size_t>(d.cls)];
    nlohmann::json j = {{"cls", d.cls}, {"name", name}, {"score", d.score}, {"box", {d.x1, d.y1, d.x2, d.y2}}};
    if (d.obb) {  // Ultralytics' obb.xywhr and obb.xyxyxyxy; "box" holds the corners' bounds
      const auto c = d.corners();
      j["obb"] = {{"cx", d.cx}, {"cy", d.cy}, {"w", d.w}, {"h", d.h}, {"angle", d.angle},
                  {"corners", {{c[0][0], c[0][1]}, {c[1][0], c[1][1]}, {c[2][0], c[2][1]}, {c[3][0], c[3][1]}}}};
    }
    if (!d.keypoints.empty()) {  // Ultralytics' keypoints.data: x, y (original pixels) and visibility
      nlohmann::json kp = nlohmann::json::array();
      for (const Keypoint& p : d.keypoints) kp.push_back(kpt_dim == 3 ? nlohmann::json{p.x, p.y, p.visible} : nlohmann::json{p.x, p.y});
      j["keypoints"] = std::move(kp);
    }
    if (masks)  // pycocotools' RLE: {"size": [height, width], "counts": compressed string}
      j["mask"] = {{"size", {image.height, image.width}}, {"counts", coco_rle(d.mask, image.width, image.height)}};
    jd.push_back(std::move(j));
    ++counts[name];
  }
  std::string classes;
  for (const auto& [name, n] : counts) classes += (classes.empty() ? "" : ", ") + std::to_string(n) + " " + name;
  summary = std::to_string(dets.size()) + " detections" + (classes.empty() ? "" : ": ") + classes;
  return jd;
}

}  // namespace

int run_detect(int argc, char** argv) {
  cli::Spec spec = with_engine_flags({{{"-i", "--input"}, {"-o", "--output"}},
                                      {"--input", "--output", "--json", "--batch"},
                                      {"--no-draw", "--retina-masks"}});
  const cli::Args args = cli::parse(argc, argv, 2, spec);
  std::vector<std::string> given = args.values.count("--input") ? args.values.at("--input") : std::vector<std::string>{};
  given.insert(given.end(), args.positionals.begin(), args.positionals.end());  // -i a.jpg b.jpg dir/
  if (given.empty()) throw Error("--input: required option is missing (an image or a directory)");
  const int batch = args.has("--batch") ? parse_int("--batch", args.get("--batch"), 1, 4096) : 1;
  const bool draw = !args.has("--no-draw");
  const std::string outdir = args.get("--output", "runs/detect");
  const std::string json_path = args.get("--json");
  // With --json -, stdout carries only JSON; the human-readable lines go to stderr.
  std::FILE* log = json_path == "-" ? stderr : stdout;

  bool any_dir = false;
  const std::vector<std::string> files = collect_inputs(given, any_dir);
  Options options = engine_options(args);
  options.retina_masks = args.has("--retina-masks");
  Engine engine = Engine::load(args.require("--weights"), options);
  if (!engine.device_note().empty()) std::fprintf(stderr, "y26: %s\n", engine.device_note().c_str());
  if (draw) {
    std::error_code ec;
    fs::create_directories(outdir, ec);
    if (ec) throw Error(outdir + ": cannot create output directory: " + ec.message());
  }
  const bool progress = any_dir && ::isatty(2);
  const auto& names = engine.class_names();
  const bool classifier = engine.task() == "classify";
  const int kpt_dim = engine.keypoint_shape()[1];
  const bool masks = engine.task() == "segment";
  nlohmann::json results = nlohmann::json::array();
  const auto start = std::chrono::steady_clock::now();

  // Images are decoded (and annotated copies encoded) on several threads, and the next batch is decoded
  // while this one is detected: on a GPU, decoding is most of the time a directory takes.
  const unsigned workers = std::max(1u, std::thread::hardware_concurrency());
  const size_t step = static_cast<size_t>(batch);
  auto decode = [&](size_t first) {
    return std::async(std::launch::async, decode_batch, std::cref(files), first, std::min(files.size(), first + step), workers);
  };
  std::future<std::vector<Image>> next = decode(0);
  for (size_t first = 0; first < files.size(); first += step) {
    const size_t last = std::min(files.size(), first + step);
    std::vector<Image> images = next.get();  // a file that does not decode stops here, after the batches before it
    if (last < files.size()) next = decode(last);
    // y26 detect runs every task, as yolo predict: a classifier's top 5, else detections
    std::vector<Classification> classes;
    std::vector<std::vector<Detection>> dets;
    if (classifier) {
      classes = engine.classify(images);
    } else {
      dets = engine.detect(images);
    }
    const Timing t = engine.last_timing();
    for (size_t k = 0; k < images.size(); ++k) {
      const std::string& file = files[first + k];
      std::string summary;
      nlohmann::json entry = {{"file", file}, {"width", images[k].width}, {"height", images[k].height}};
      if (classifier) {
        entry["top5"] = top5_json(classes[k], names, summary);
      } else {
        entry["detections"] = detections_json(dets[k], names, kpt_dim, masks, images[k], summary);
      }
      results.push_back(std::move(entry));
      if (progress) std::fprintf(stderr, "\r\033[K");
      std::fprintf(log, "%s: %dx%d, %s, %.1f ms inference\n", file.c_str(), images[k].width, images[k].height, summary.c_str(),
                   t.inference_ms / static_cast<double>(images.size()));
    }
    if (draw) {
      for_each_parallel(images.size(), workers, [&](size_t k) {
        Image annotated = images[k];
        if (classifier) {
          draw_classification(annotated, classes[k], names);
        } else {
          draw_detections(annotated, dets[k], names);
        }
        save_image(annotated, output_name(outdir, files[first + k]));
      });
    }
    if (progress) std::fprintf(stderr, "\r[%zu/%zu] %s", last, files.size(), files[last - 1].c_str());
  }
  if (progress) std::fprintf(stderr, "\r\033[K");
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(log, "%zu images in %.2f s on %s%s%s\n", files.size(), secs, engine.device().c_str(),
               draw ? ", annotated images in " : "", draw ? outdir.c_str() : "");
  if (!json_path.empty()) write_text_file(json_path, results.dump(1) + "\n");
  return 0;
}

}  // namespace y26::app
