// Raw rgb24 frames from a file or standard input (`y26 detect -i - --raw WxH`): no FFmpeg needed.
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "video/source_impl.h"

namespace y26::video {
namespace {

class RawSource final : public VideoSource::Impl {
 public:
  RawSource(const std::string& source, const VideoSourceOptions& o) : fps_(o.raw_fps) {
    if (o.raw_width <= 0 || o.raw_height <= 0)
      throw Error(source + ": raw frames need a size (--raw WIDTHxHEIGHT), got " + std::to_string(o.raw_width) + "x" +
                  std::to_string(o.raw_height));
    if (static_cast<std::int64_t>(o.raw_width) * o.raw_height > kMaxImagePixels)
      throw Error(source + ": raw frames of " + std::to_string(o.raw_width) + "x" + std::to_string(o.raw_height) +
                  " exceed the limit of " + std::to_string(kMaxImagePixels) + " pixels");
    if (!(o.raw_fps > 0 && o.raw_fps <= 1000)) throw Error(source + ": raw frame rate must be in (0, 1000], got " + std::to_string(o.raw_fps));
    if (source == "-") {
      file_ = stdin;
    } else {
      file_ = std::fopen(source.c_str(), "rb");
      if (!file_) throw Error(source + ": cannot open: " + std::strerror(errno));
      owned_ = true;
    }
    info.source = source;
    info.codec = "rawvideo";
    info.width = o.raw_width;
    info.height = o.raw_height;
    info.fps = o.raw_fps;
  }
  ~RawSource() override {
    if (owned_) std::fclose(file_);
  }

  bool read(VideoFrame& f) override {
    const size_t bytes = static_cast<size_t>(info.width) * static_cast<size_t>(info.height) * 3;
    f.image.width = info.width;
    f.image.height = info.height;
    f.image.rgb.resize(bytes);
    const size_t got = std::fread(f.image.rgb.data(), 1, bytes, file_);
    if (got == 0 && std::feof(file_)) return false;
    if (got != bytes) {
      const std::string why = std::ferror(file_) ? std::string("read error: ") + std::strerror(errno)
                                                 : "a partial raw frame (" + std::to_string(got) + " of " +
                                                       std::to_string(bytes) + " bytes: is the size right?)";
      throw Error(stopped_at(info.source, next_, why));
    }
    f.index = next_++;
    f.timestamp_s = static_cast<double>(f.index) / fps_;
    return true;
  }

 private:
  std::FILE* file_ = nullptr;
  bool owned_ = false;
  double fps_;
  std::int64_t next_ = 0;
};

}  // namespace

std::unique_ptr<VideoSource::Impl> open_raw_source(const std::string& source, const VideoSourceOptions& options) {
  return std::make_unique<RawSource>(source, options);
}

std::string stopped_at(const std::string& source, std::int64_t frame, const std::string& why) {
  return source + ": stopped at frame " + std::to_string(frame) + ": " + why;
}

}  // namespace y26::video
