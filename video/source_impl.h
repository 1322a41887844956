// What a VideoSource is inside: one implementation per kind of source (video/raw_source.cpp,
// video/ffmpeg_source.cpp), behind VideoSource's pimpl.
#pragma once

#include <memory>
#include <string>

#include "y26/y26.h"

namespace y26 {

struct VideoSource::Impl {
  VideoInfo info;
  virtual ~Impl() = default;
  virtual bool read(VideoFrame& frame) = 0;
};

namespace video {

// rgb24 frames of options.raw_width x raw_height back to back, from a file or ("-") standard input.
std::unique_ptr<VideoSource::Impl> open_raw_source(const std::string& source, const VideoSourceOptions& options);
// Everything FFmpeg opens: files, URLs, /dev/videoN. Throws Error where y26 was built without FFmpeg.
std::unique_ptr<VideoSource::Impl> open_ffmpeg_source(const std::string& source, const VideoSourceOptions& options);

// "SOURCE: stopped at frame N: WHY", the message of a source that broke off.
std::string stopped_at(const std::string& source, std::int64_t frame, const std::string& why);

}  // namespace video
}  // namespace y26
