// VideoSource: which implementation a source is (raw frames, else FFmpeg), and whether video works here.
#include "video/source_impl.h"

#if Y26_WITH_VIDEO
#include "video/ffmpeg_library.h"
#endif

namespace y26 {

bool video_available(std::string* why) {
#if Y26_WITH_VIDEO
  return video::ffmpeg_available(why);
#else
  if (why) *why = "y26 was built without video (FFmpeg's headers were not found: install libavformat-dev, libavcodec-dev, "
                  "libswscale-dev and libavdevice-dev, and build again)";
  return false;
#endif
}

VideoSource VideoSource::open(const std::string& source, const VideoSourceOptions& options) {
  if (options.raw_width > 0 || options.raw_height > 0) return VideoSource(video::open_raw_source(source, options));
  std::string why;
  if (!video_available(&why)) throw Error(source + ": " + why);
#if Y26_WITH_VIDEO
  return VideoSource(video::open_ffmpeg_source(source, options));
#else
  throw Error(source + ": " + why);
#endif
}

VideoSource::VideoSource(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VideoSource::VideoSource(VideoSource&&) noexcept = default;
VideoSource& VideoSource::operator=(VideoSource&&) noexcept = default;
VideoSource::~VideoSource() = default;
const VideoInfo& VideoSource::info() const { return impl_->info; }
bool VideoSource::read(VideoFrame& frame) { return impl_->read(frame); }

#if !Y26_WITH_VIDEO
// Without FFmpeg's headers there is no encoder: the writer says so.
struct VideoWriter::Impl {};
VideoWriter VideoWriter::create(const std::string& path, int, int, double, const std::string&) {
  std::string why;
  video_available(&why);
  throw Error(path + ": " + why);
}
VideoWriter::VideoWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VideoWriter::VideoWriter(VideoWriter&&) noexcept = default;
VideoWriter& VideoWriter::operator=(VideoWriter&&) noexcept = default;
VideoWriter::~VideoWriter() = default;
void VideoWriter::write(const Image&) {}
void VideoWriter::finish() {}
std::string VideoWriter::codec() const { return ""; }
std::int64_t VideoWriter::frames() const { return 0; }
#endif

}  // namespace y26
