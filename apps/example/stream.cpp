// Streaming detection with y26's pipeline: a video file, an rtsp:// or http(s):// stream or a camera
// (/dev/video0), decoded, detected and handed back frame by frame, memory constant whatever its length.
// Optionally writes the annotated frames to an mp4. No FFmpeg types: y26 loads FFmpeg at run time.
//   /tmp/embed/stream yolo26n.pt video.mp4 [annotated.mp4]
#include <y26/y26.h>

#include <cstdio>
#include <optional>

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: %s MODEL VIDEO|URL|/dev/videoN [OUT.mp4]\n", argv[0]);
    return 2;
  }
  try {
    y26::Engine engine = y26::Engine::load(argv[1]);
    y26::VideoSource source = y26::VideoSource::open(argv[2]);
    const y26::VideoInfo& info = source.info();
    std::optional<y26::VideoWriter> out;
    if (argc == 4) out.emplace(y26::VideoWriter::create(argv[3], info.width, info.height, info.fps > 0 ? info.fps : 30));
    y26::StreamOptions options;
    options.batch = 4;  // frames per engine call: throughput on a GPU
    // on_frame runs on a thread of its own, one frame at a time, in order, while the next frames decode and detect
    const y26::StreamResult r = y26::detect_stream(engine, source, options, [&](y26::StreamFrame& f) {
      std::printf("frame %lld %.3f s: %zu detections\n", static_cast<long long>(f.frame.index), f.frame.timestamp_s,
                  f.detections.size());
      if (out) {
        y26::draw_detections(f.frame.image, f.detections, engine.class_names());
        out->write(f.frame.image);
      }
    });
    if (out) out->finish();  // what was written is a finished file even when the source broke off
    if (!r.stopped.empty()) {
      std::fprintf(stderr, "stream: %s\n", r.stopped.c_str());
      return 1;
    }
  } catch (const y26::Error& e) {
    std::fprintf(stderr, "stream: %s\n", e.what());
    return 2;
  }
  return 0;
}
