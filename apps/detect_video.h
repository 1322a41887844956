// y26 detect on a video file, stream, camera or raw frames: the library's pipeline (detect_stream), with
// JSON Lines, the annotated copy drawn on the pipeline's delivery thread and encoded on a thread of its own.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>

#include "detect_output.h"
#include "y26/y26.h"

namespace y26::app {

struct VideoRun {
  std::string outdir;
  bool draw = true;
  JsonLines* jsonl = nullptr;  // a JSON object per frame, flushed at once; null: none
  std::FILE* log = stdout;     // the human-readable lines
  bool progress = false;       // a progress line on stderr (a terminal) instead of a line per frame
  StreamOptions stream;
  VideoSourceOptions source;
};

// Runs one source. True when it ran to its end (or --max-frames, or Ctrl-C); false when it broke off midway
// (said on stderr; what was written is a finished video). Throws Error when nothing of it could be processed.
bool detect_video(Engine& engine, const std::string& source, const VideoRun& run);

// The annotated video's name for a source: its base name as .mp4 ("/dev/video0" -> video0.mp4, "-" ->
// stdin.mp4, a URL -> its last path element, else "stream").
std::string video_output_name(const std::string& outdir, const std::string& source);

}  // namespace y26::app
