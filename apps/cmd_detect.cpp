// y26 detect -w MODEL -i IMAGE|VIDEO|URL|/dev/videoN|-|DIR... [-o OUTDIR] [--json FILE|-] [--no-draw] [--batch N] ...
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <fstream>

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
#include "detect_output.h"
#include "detect_video.h"
#include "engine_flags.h"

namespace y26::app {
namespace fs = std::filesystem;

namespace {

std::string lower_extension(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

bool is_image_name(const fs::path& p) {
  const std::string ext = lower_extension(p);
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp";
}

// Ultralytics' VID_FORMATS: what a folder contributes as videos.
bool is_video_name(const fs::path& p) {
  static const char* const kVideo[] = {".asf", ".avi", ".gif", ".m4v", ".mkv", ".mov", ".mp4", ".mpeg", ".mpg", ".ts", ".wmv", ".webm"};
  const std::string ext = lower_extension(p);
  return std::any_of(std::begin(kVideo), std::end(kVideo), [&](const char* v) { return ext == v; });
}

// A file named directly: an image when its extension or its first bytes say so (JPEG, PNG, BMP), else a
// video for FFmpeg to open.
bool is_image_file(const std::string& path) {
  if (is_image_name(path)) return true;
  if (is_video_name(path)) return false;
  std::ifstream f(path, std::ios::binary);
  unsigned char b[4] = {};
  f.read(reinterpret_cast<char*>(b), 4);
  if (f.gcount() < 2) return true;  // too short for either: the image decoder says what is wrong
  return (b[0] == 0xFF && b[1] == 0xD8) || (b[0] == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') ||
         (b[0] == 'B' && b[1] == 'M');
}

bool is_stream_name(const std::string& s) {
  return s == "-" || s.find("://") != std::string::npos || s.rfind("/dev/video", 0) == 0;
}

struct Inputs {
  std::vector<std::string> images, videos;  // videos: files, URLs, cameras and "-", in the order given
  bool any_dir = false;
};

// Files named directly are taken whatever their name; directories contribute their images and videos, sorted.
Inputs collect_inputs(const std::vector<std::string>& given) {
  Inputs in;
  for (const auto& g : given) {
    std::error_code ec;
    if (is_stream_name(g)) {
      in.videos.push_back(g);
    } else if (fs::is_directory(g, ec)) {
      in.any_dir = true;
      std::vector<std::string> here;
      for (const auto& e : fs::directory_iterator(g, ec)) {
        if (e.is_regular_file(ec) && (is_image_name(e.path()) || is_video_name(e.path()))) here.push_back(e.path().string());
      }
      if (ec) throw Error(g + ": cannot list directory: " + ec.message());
      std::sort(here.begin(), here.end());
      if (here.empty()) throw Error(g + ": directory holds no images (.jpg, .jpeg, .png, .bmp) or videos (.mp4, .mkv, ...)");
      for (auto& f : here) (is_image_name(f) ? in.images : in.videos).push_back(std::move(f));
    } else if (fs::exists(g, ec)) {
      (is_image_file(g) ? in.images : in.videos).push_back(g);
    } else {
      throw Error(g + ": no such file or directory");
    }
  }
  return in;
}

// "640x480" (or "640x480@25"): raw frames' size and rate.
void parse_raw(const std::string& text, VideoSourceOptions& o) {
  int w = 0, h = 0, n = 0;
  double fps = 30;
  const bool ok = std::sscanf(text.c_str(), "%dx%d%n", &w, &h, &n) == 2 &&
                  (text[static_cast<size_t>(n)] == '\0' ||
                   (text[static_cast<size_t>(n)] == '@' && std::sscanf(text.c_str() + n + 1, "%lf", &fps) == 1));
  if (!ok || w < 1 || h < 1 || w > 65536 || h > 65536 || !(fps > 0 && fps <= 1000))
    throw Error("--raw: '" + text + "' is not WIDTHxHEIGHT or WIDTHxHEIGHT@FPS (e.g. 640x480 or 640x480@25)");
  o.raw_width = w, o.raw_height = h, o.raw_fps = fps;
}

// Ctrl-C during a video: the stream ends at the next frame and its video is finished (a second one kills).
std::atomic<bool> g_interrupted{false};
extern "C" void on_interrupt(int) {
  g_interrupted.store(true);
  std::signal(SIGINT, SIG_DFL);
}

std::string output_name(const std::string& outdir, const std::string& input) {
  fs::path name = fs::path(input).filename();
  const std::string ext = lower_extension(name);
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

}  // namespace

int run_detect(int argc, char** argv) {
  cli::Spec spec = with_engine_flags({{{"-i", "--input"}, {"-o", "--output"}},
                                      {"--input", "--output", "--json", "--batch", "--vid-stride", "--max-frames", "--workers", "--raw"},
                                      {"--no-draw", "--retina-masks"}});
  const cli::Args args = cli::parse(argc, argv, 2, spec);
  std::vector<std::string> given = args.values.count("--input") ? args.values.at("--input") : std::vector<std::string>{};
  given.insert(given.end(), args.positionals.begin(), args.positionals.end());  // -i a.jpg b.jpg dir/
  if (given.empty()) throw Error("--input: required option is missing (an image, a video, a stream, - or a directory)");
  const int batch = args.has("--batch") ? parse_int("--batch", args.get("--batch"), 1, 4096) : 1;
  const bool draw = !args.has("--no-draw");
  const std::string outdir = args.get("--output", "runs/detect");
  const std::string json_path = args.get("--json");
  // With --json -, stdout carries only JSON; the human-readable lines go to stderr.
  std::FILE* log = json_path == "-" ? stderr : stdout;
  // decode threads: the images' decoders, and each video decoder's frame and slice threads
  const int workers = args.has("--workers") ? parse_int("--workers", args.get("--workers"), 1, 256)
                                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  const Inputs in = collect_inputs(given);
  const std::vector<std::string>& files = in.images;
  VideoRun run;
  run.stream.batch = batch;
  run.stream.vid_stride = args.has("--vid-stride") ? parse_int("--vid-stride", args.get("--vid-stride"), 1, 1000000) : 1;
  run.stream.max_frames = args.has("--max-frames") ? parse_int("--max-frames", args.get("--max-frames"), 1, 2147483647) : 0;
  run.stream.stop = &g_interrupted;
  run.source.threads = workers;
  const auto stdin_sources = std::count(in.videos.begin(), in.videos.end(), "-");
  if (stdin_sources > 1) throw Error("-: standard input can be read once");
  if (stdin_sources == 1 && !args.has("--raw")) throw Error("-: raw frames on standard input need --raw WIDTHxHEIGHT (rgb24)");
  if (args.has("--raw") && stdin_sources == 0) throw Error("--raw: is for raw frames on standard input (-i -)");
  if (stdin_sources == 1) parse_raw(args.get("--raw"), run.source);  // a bad size is said before the model loads
  for (const auto& v : in.videos) {  // before the model loads: a build or machine without video says so at once
    std::string why;
    if (v != "-" && !video_available(&why)) throw Error(v + ": " + why);
  }

  Options options = engine_options(args);
  options.retina_masks = args.has("--retina-masks");
  Engine engine = Engine::load(args.require("--weights"), options);
  if (!engine.device_note().empty()) std::fprintf(stderr, "y26: %s\n", engine.device_note().c_str());
  if (draw) {
    std::error_code ec;
    fs::create_directories(outdir, ec);
    if (ec) throw Error(outdir + ": cannot create output directory: " + ec.message());
  }
  const bool progress = in.any_dir && ::isatty(2);
  const auto& names = engine.class_names();
  const bool classifier = engine.task() == "classify";
  const int kpt_dim = engine.keypoint_shape()[1];
  const bool masks = engine.task() == "segment";
  nlohmann::json results = nlohmann::json::array();
  JsonLines lines(in.videos.empty() ? "" : json_path);
  const auto start = std::chrono::steady_clock::now();

  // Images are decoded (and annotated copies encoded) on several threads, and the next batch is decoded
  // while this one is detected: on a GPU, decoding is most of the time a directory takes.
  const unsigned image_workers = static_cast<unsigned>(workers);
  const size_t step = static_cast<size_t>(batch);
  auto decode = [&](size_t first) {
    return std::async(std::launch::async, decode_batch, std::cref(files), first, std::min(files.size(), first + step), image_workers);
  };
  std::future<std::vector<Image>> next;
  if (!files.empty()) next = decode(0);
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
      if (lines.enabled()) lines.write(entry);
      else results.push_back(std::move(entry));
      if (progress) std::fprintf(stderr, "\r\033[K");
      std::fprintf(log, "%s: %dx%d, %s, %.1f ms inference\n", file.c_str(), images[k].width, images[k].height, summary.c_str(),
                   t.inference_ms / static_cast<double>(images.size()));
    }
    if (draw) {
      for_each_parallel(images.size(), image_workers, [&](size_t k) {
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
  if (!files.empty())
    std::fprintf(log, "%zu images in %.2f s on %s%s%s\n", files.size(), secs, engine.device().c_str(),
                 draw ? ", annotated images in " : "", draw ? outdir.c_str() : "");
  if (!json_path.empty() && in.videos.empty()) write_text_file(json_path, results.dump(1) + "\n");

  // Videos, streams and cameras, one after another, each through the library's pipeline.
  bool all_whole = true;
  if (!in.videos.empty()) {
    run.outdir = outdir;
    run.draw = draw;
    run.jsonl = lines.enabled() ? &lines : nullptr;
    run.log = log;
    run.progress = ::isatty(2) != 0;
    std::signal(SIGINT, on_interrupt);
    for (const auto& v : in.videos) {
      if (g_interrupted.load()) break;
      all_whole = detect_video(engine, v, run) && all_whole;
    }
    std::signal(SIGINT, SIG_DFL);
    if (g_interrupted.load()) std::fprintf(stderr, "y26 detect: interrupted; what was processed is written\n");
    lines.close();
  }
  // 1: a source broke off midway (said above; what it gave is written); errors that stop everything are 2
  return all_whole ? 0 : 1;
}

}  // namespace y26::app
