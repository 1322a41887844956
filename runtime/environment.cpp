// y26::environment(): what this build can use here (include/y26/y26.h), for `y26 env` and the GPU check,
// which needs to know before it measures anything whether the driver, the GPU and cuDNN answer.
#include <thread>

#include "runtime/gpu_backend.h"
#include "y26/y26.h"
#if Y26_WITH_VIDEO
#include "video/ffmpeg_library.h"
#endif

namespace y26 {

std::vector<std::pair<std::string, std::string>> environment() {
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("y26", version());
  std::string backends = "cpu (" + std::to_string(std::thread::hardware_concurrency()) + " hardware threads)";
#ifdef Y26_CUDA_ARCHS
  backends += ", cuda (built for " Y26_CUDA_ARCHS ")";
#endif
  if (runtime::emulator_backend()) backends += ", emu";
  out.emplace_back("backends", backends);
  if (const runtime::GpuBackend* cuda = runtime::cuda_backend()) {
    std::string why;
    out.emplace_back("cuda", cuda->available(&why) ? cuda->device_name(0) : "unavailable: " + why);
    std::string cudnn;  // whether the baseline's library loads needs no GPU
    const bool ok = cuda->has_cudnn(&cudnn);
    out.emplace_back("cudnn", (ok ? "" : "unavailable: ") + cudnn);
  } else {
    out.emplace_back("cuda", "not built (configure with the CUDA Toolkit: -DY26_CUDA=ON)");
  }
  std::string why;
#if Y26_WITH_VIDEO
  out.emplace_back("video", video_available(&why) ? "FFmpeg (" + video::ffmpeg().versions + ")" : "unavailable: " + why);
#else
  video_available(&why);
  out.emplace_back("video", "unavailable: " + why);
#endif
  return out;
}

}  // namespace y26
