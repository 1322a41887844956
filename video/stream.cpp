// detect_stream: decode -> detect -> deliver, three threads joined by bounded queues (include/y26/y26.h).
// Memory is constant in the video's length: at most queue_frames frames wait in each queue, one batch is
// in the engine and one frame in on_frame; nothing is kept once delivered.
#include <chrono>
#include <exception>
#include <thread>

#include "common/bounded_queue.h"
#include "y26/y26.h"

#if Y26_WITH_CUDA
#include <nvtx3/nvToolsExt.h>
#endif

namespace y26 {
namespace {

// A named range in Nsight Systems' timeline (each stage on its own thread's row); nothing without CUDA.
struct StageRange {
#if Y26_WITH_CUDA
  explicit StageRange(const char* name) { nvtxRangePushA(name); }
  ~StageRange() { nvtxRangePop(); }
#else
  explicit StageRange(const char*) {}
#endif
};

}  // namespace

StreamResult detect_stream(Engine& engine, VideoSource& source, const StreamOptions& o,
                           const std::function<void(StreamFrame&)>& on_frame) {
  const std::string& name = source.info().source;
  if (o.batch < 1 || o.batch > 4096) throw Error(name + ": batch must be in [1, 4096], got " + std::to_string(o.batch));
  if (o.vid_stride < 1) throw Error(name + ": vid_stride must be at least 1, got " + std::to_string(o.vid_stride));
  if (o.max_frames < 0) throw Error(name + ": max_frames must not be negative");
  if (o.queue_frames < 0) throw Error(name + ": queue_frames must not be negative");
  const bool classify = engine.task() == "classify";
  const size_t capacity = o.queue_frames > 0 ? static_cast<size_t>(o.queue_frames) : 2 * static_cast<size_t>(o.batch);
  BoundedQueue<VideoFrame> decoded(capacity);
  BoundedQueue<StreamFrame> detected(capacity);
  const auto start = std::chrono::steady_clock::now();
  StreamResult r;
  std::exception_ptr decode_error, engine_error, deliver_error;

  std::thread decoder([&] {
    std::int64_t kept = 0;
    try {
      VideoFrame f;
      for (;;) {
        if ((o.stop && o.stop->load()) || (o.max_frames > 0 && kept >= o.max_frames)) break;
        {
          StageRange range("y26 decode");
          if (!source.read(f)) break;
        }
        ++r.decoded;
        if (f.index % o.vid_stride != 0) continue;
        ++kept;
        if (!decoded.push(std::move(f))) break;  // the engine stopped
      }
    } catch (const Error& e) {
      r.stopped = e.what();  // the frames before it go on through the pipeline
    } catch (...) {
      decode_error = std::current_exception();
    }
    decoded.close();
  });

  std::thread deliver([&] {
    try {
      while (std::optional<StreamFrame> f = detected.pop()) {
        StageRange range("y26 on_frame");
        on_frame(*f);
        ++r.frames;
      }
    } catch (...) {
      deliver_error = std::current_exception();
      detected.close();  // the engine's next push fails, and it stops the decoder
    }
  });

  try {
    std::vector<VideoFrame> frames;
    std::vector<Image> images;
    for (bool more = true; more;) {
      frames.clear();
      while (frames.size() < static_cast<size_t>(o.batch)) {
        std::optional<VideoFrame> f = decoded.pop();
        if (!f) {
          more = false;
          break;
        }
        frames.push_back(std::move(*f));
      }
      if (frames.empty()) break;
      images.clear();
      for (VideoFrame& f : frames) images.push_back(std::move(f.image));  // moved, not copied, and back below
      std::vector<std::vector<Detection>> dets;
      std::vector<Classification> classes;
      {
        StageRange range("y26 detect");
        if (classify) classes = engine.classify(images);
        else dets = engine.detect(images);
      }
      for (size_t k = 0; k < frames.size(); ++k) {
        StreamFrame out;
        out.frame = std::move(frames[k]);
        out.frame.image = std::move(images[k]);
        if (classify) out.classification = std::move(classes[k]);
        else out.detections = std::move(dets[k]);
        if (!detected.push(std::move(out))) {  // on_frame failed
          more = false;
          break;
        }
      }
    }
  } catch (...) {
    engine_error = std::current_exception();
  }
  decoded.close();   // a decoder still reading stops at its next frame
  detected.close();  // the deliverer hands out what is queued, then ends
  decoder.join();
  deliver.join();
  if (engine_error) std::rethrow_exception(engine_error);
  if (deliver_error) std::rethrow_exception(deliver_error);
  if (decode_error) std::rethrow_exception(decode_error);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace y26
