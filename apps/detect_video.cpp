// y26 detect on a video source (apps/detect_video.h).
#include "detect_video.h"

#include <chrono>
#include <filesystem>
#include <optional>
#include <thread>
#include <nlohmann/json.hpp>

#include "common/bounded_queue.h"
#include "detect_output.h"

namespace y26::app {
namespace fs = std::filesystem;

std::string video_output_name(const std::string& outdir, const std::string& source) {
  std::string base;
  if (source == "-") {
    base = "stdin";
  } else if (source.find("://") != std::string::npos) {
    std::string path = source.substr(source.find("://") + 3);
    path = path.substr(0, path.find_first_of("?#"));
    const size_t slash = path.find_last_of('/');
    base = slash == std::string::npos || slash + 1 == path.size() ? "stream" : fs::path(path.substr(slash + 1)).stem().string();
  } else {
    base = fs::path(source).stem().string();
  }
  if (base.empty()) base = "stream";
  return (fs::path(outdir) / (base + ".mp4")).string();
}

namespace {

std::string clock_text(double seconds) {
  char buf[32];
  const long s = static_cast<long>(seconds + 0.5);
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

// The annotated frames, encoded on a thread of their own behind a bounded queue.
class Encoder {
 public:
  Encoder(std::string path, double fps, size_t queue) : path_(std::move(path)), fps_(fps), queue_(queue) {}
  ~Encoder() { stop(); }

  // false when the encoder failed (its error is rethrown by finish())
  bool push(Image frame) {
    if (!thread_.joinable()) {  // the first frame sets the video's size
      writer_.emplace(VideoWriter::create(path_, frame.width, frame.height, fps_));
      thread_ = std::thread([this] { run(); });
    }
    return queue_.push(std::move(frame));
  }

  // Every queued frame encoded and the file finished; rethrows the encoder's error. Returns the frames.
  std::int64_t finish() {
    stop();
    if (error_) std::rethrow_exception(error_);
    if (!writer_) return 0;
    writer_->finish();
    return writer_->frames();
  }

  std::string codec() const { return writer_ ? writer_->codec() : ""; }

 private:
  void run() {
    try {
      while (std::optional<Image> f = queue_.pop()) writer_->write(*f);
    } catch (...) {
      error_ = std::current_exception();
      queue_.close();
    }
  }
  void stop() {
    queue_.close();
    if (thread_.joinable()) thread_.join();
  }

  std::string path_;
  double fps_;
  BoundedQueue<Image> queue_;
  std::optional<VideoWriter> writer_;
  std::thread thread_;
  std::exception_ptr error_;
};

}  // namespace

bool detect_video(Engine& engine, const std::string& source, const VideoRun& run) {
  VideoSource src = VideoSource::open(source, run.source);
  const VideoInfo info = src.info();
  const auto& names = engine.class_names();
  const bool classifier = engine.task() == "classify";
  const int kpt_dim = engine.keypoint_shape()[1];
  const bool masks = engine.task() == "segment";
  const int stride = run.stream.vid_stride;
  // the output keeps the source's duration: every stride-th frame at the rate divided by the stride
  const double fps = (info.fps > 0 ? info.fps : 30.0) / stride;
  const std::string out_path = video_output_name(run.outdir, source);
  std::int64_t expected = info.frames > 0 ? (info.frames + stride - 1) / stride : -1;
  if (run.stream.max_frames > 0 && (expected < 0 || expected > run.stream.max_frames)) expected = run.stream.max_frames;
  Encoder encoder(out_path, fps, 2 * static_cast<size_t>(run.stream.batch) + 2);
  const auto start = std::chrono::steady_clock::now();
  std::int64_t done = 0;

  const StreamResult r = detect_stream(engine, src, run.stream, [&](StreamFrame& f) {
    const Image& image = f.frame.image;
    std::string summary;
    nlohmann::json j = {{"source", source}, {"frame", f.frame.index}, {"timestamp", f.frame.timestamp_s},
                        {"width", image.width}, {"height", image.height}};
    if (classifier) j["top5"] = top5_json(f.classification, names, summary);
    else j["detections"] = detections_json(f.detections, names, kpt_dim, masks, image, summary);
    if (run.jsonl) run.jsonl->write(j);
    ++done;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (run.progress) {
      const double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
      std::string eta;
      if (expected > 0 && rate > 0) eta = ", ETA " + clock_text(static_cast<double>(expected - done) / rate);
      std::fprintf(stderr, "\r\033[K%s: frame %lld%s, %.1f fps%s", source.c_str(), static_cast<long long>(done),
                   expected > 0 ? ("/" + std::to_string(expected)).c_str() : "", rate, eta.c_str());
    } else {
      std::fprintf(run.log, "%s: frame %lld (%.3f s): %dx%d, %s\n", source.c_str(), static_cast<long long>(f.frame.index),
                   f.frame.timestamp_s, image.width, image.height, summary.c_str());
    }
    if (run.draw) {
      if (classifier) draw_classification(f.frame.image, f.classification, names);
      else draw_detections(f.frame.image, f.detections, names);
      if (!encoder.push(std::move(f.frame.image))) encoder.finish();  // rethrows the encoder's error
    }
  });
  if (run.progress) std::fprintf(stderr, "\r\033[K");
  // what was written is finished whether the source ended or broke off
  const std::int64_t encoded = run.draw ? encoder.finish() : 0;
  if (!r.stopped.empty() && r.frames == 0) throw Error(r.stopped);
  const double rate = r.seconds > 0 ? static_cast<double>(r.frames) / r.seconds : 0;
  std::fprintf(run.log, "%s: %lld frames in %.2f s (%.1f fps)%s%s%s\n", source.c_str(), static_cast<long long>(r.frames),
               r.seconds, rate, encoded > 0 ? ", annotated video (" : "", encoded > 0 ? encoder.codec().c_str() : "",
               encoded > 0 ? (") " + out_path).c_str() : "");
  if (!r.stopped.empty()) {
    std::fprintf(stderr, "y26 detect: %s (the %lld frames before it were processed)\n", r.stopped.c_str(),
                 static_cast<long long>(r.frames));
    return false;
  }
  return true;
}

}  // namespace y26::app
