#include "engine_flags.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace y26::app {

cli::Spec with_engine_flags(cli::Spec spec) {
  spec.aliases.insert({{"-w", "--weights"}});
  for (const char* f : {"--weights", "--imgsz", "--conf", "--iou", "--max-det", "--device", "--letterbox", "--precision",
                        "--threads", "--kernels"}) {
    spec.with_value.insert(f);
  }
  spec.switches.insert("--nms");
  return spec;
}

int parse_int(const std::string& flag, const std::string& text, int min, int max) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE) throw Error(flag + ": '" + text + "' is not an integer");
  if (v < min || v > max) throw Error(flag + ": " + text + " is out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  return static_cast<int>(v);
}

float parse_float(const std::string& flag, const std::string& text, float min, float max) {
  char* end = nullptr;
  const float v = std::strtof(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(v)) throw Error(flag + ": '" + text + "' is not a number");
  if (v < min || v > max) throw Error(flag + ": " + text + " is out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  return v;
}

std::int64_t parse_bytes(const std::string& flag, const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  const std::string unit = end ? end : "";
  double mult = 0;
  if (unit.empty() || unit == "B") mult = 1;
  if (unit == "KiB") mult = 1024.0;
  if (unit == "MiB") mult = 1024.0 * 1024;
  if (unit == "GiB") mult = 1024.0 * 1024 * 1024;
  if (unit == "KB" || unit == "kB") mult = 1e3;
  if (unit == "MB") mult = 1e6;
  if (unit == "GB") mult = 1e9;
  if (text.empty() || end == text.c_str() || mult == 0 || !(v > 0) || v * mult > 9e18) {
    throw Error(flag + ": '" + text + "' is not a size (examples: 2GiB, 512MiB, 1.5GB, 300000000)");
  }
  return static_cast<std::int64_t>(v * mult);
}

Options engine_options(const cli::Args& a) {
  Options o;
  if (a.has("--imgsz")) o.imgsz = parse_int("--imgsz", a.get("--imgsz"), 32, 8192);
  if (a.has("--conf")) o.conf = parse_float("--conf", a.get("--conf"), 0, 1);
  if (a.has("--iou")) o.iou = parse_float("--iou", a.get("--iou"), 0, 1);
  if (a.has("--max-det")) o.max_det = parse_int("--max-det", a.get("--max-det"), 1, 100000);
  if (a.has("--threads")) o.threads = parse_int("--threads", a.get("--threads"), 0, 1024);
  o.nms = a.has("--nms");
  o.device = a.get("--device", "auto");
  o.kernels = a.get("--kernels", "auto");
  const std::string lb = a.get("--letterbox", "auto");
  if (lb == "auto") o.letterbox = LetterboxMode::Auto;
  else if (lb == "square") o.letterbox = LetterboxMode::Square;
  else if (lb == "rect") o.letterbox = LetterboxMode::Rect;
  else throw Error("--letterbox: '" + lb + "' is not one of auto, square, rect");
  const std::string pr = a.get("--precision", "auto");  // auto: FP32 on the CPU, FP16 on the GPU
  if (pr == "auto") o.precision = Precision::Auto;
  else if (pr == "fp32") o.precision = Precision::FP32;
  else if (pr == "fp16") o.precision = Precision::FP16;
  else throw Error("--precision: '" + pr + "' is not one of auto, fp32, fp16");
  return o;
}

void write_text_file(const std::string& path, const std::string& text) {
  if (path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return;
  }
  const std::string tmp = path + ".tmp" + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) throw Error(path + ": cannot create: " + std::strerror(errno));
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if ((std::fclose(f) != 0) || !ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    throw Error(path + ": cannot write: " + std::strerror(err));
  }
}

}  // namespace y26::app
