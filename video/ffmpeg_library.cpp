// Loads FFmpeg's libraries with dlopen and resolves y26's entry points (video/ffmpeg_library.h).
#include "video/ffmpeg_library.h"

extern "C" {
#include <libavcodec/version.h>
#include <libavdevice/version.h>
#include <libavformat/version.h>
#include <libavutil/version.h>
#include <libswscale/version.h>
}

#include <dlfcn.h>

#include "y26/y26.h"

namespace y26::video {
namespace {

#define Y26_STR2(x) #x
#define Y26_STR(x) Y26_STR2(x)
// The sonames of the headers y26 was built with: another major version has another ABI.
constexpr const char* kAvutil = "libavutil.so." Y26_STR(LIBAVUTIL_VERSION_MAJOR);
constexpr const char* kSwscale = "libswscale.so." Y26_STR(LIBSWSCALE_VERSION_MAJOR);
constexpr const char* kAvcodec = "libavcodec.so." Y26_STR(LIBAVCODEC_VERSION_MAJOR);
constexpr const char* kAvformat = "libavformat.so." Y26_STR(LIBAVFORMAT_VERSION_MAJOR);
constexpr const char* kAvdevice = "libavdevice.so." Y26_STR(LIBAVDEVICE_VERSION_MAJOR);

struct Loaded {
  FfmpegLibrary lib;
  bool ok = false;
  std::string why;
};

Loaded load() {
  Loaded r;
  void* handles[5] = {};
  const char* names[5] = {kAvutil, kSwscale, kAvcodec, kAvformat, kAvdevice};
  for (int i = 0; i < 5; ++i) {
    handles[i] = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!handles[i]) {
      const char* e = dlerror();
      r.why = std::string("video needs FFmpeg's ") + names[i] + ", which could not be loaded (" + (e ? e : "?") +
              "); Debian's libavformat" Y26_STR(LIBAVFORMAT_VERSION_MAJOR) ", libavcodec" Y26_STR(LIBAVCODEC_VERSION_MAJOR)
              ", libswscale" Y26_STR(LIBSWSCALE_VERSION_MAJOR) " and libavdevice" Y26_STR(LIBAVDEVICE_VERSION_MAJOR)
              " packages provide them";
      return r;
    }
    r.lib.versions += (i ? " " : "") + std::string(names[i]);
  }
#define Y26_AV_RESOLVE(handle, name)                                                           \
  r.lib.name = reinterpret_cast<decltype(&::name)>(dlsym(handles[handle], #name));             \
  if (!r.lib.name) {                                                                           \
    r.why = std::string(names[handle]) + " lacks " #name;                                      \
    return r;                                                                                  \
  }
#define Y26_AV_UTIL(name) Y26_AV_RESOLVE(0, name)
#define Y26_AV_SWS(name) Y26_AV_RESOLVE(1, name)
#define Y26_AV_CODEC(name) Y26_AV_RESOLVE(2, name)
#define Y26_AV_FORMAT(name) Y26_AV_RESOLVE(3, name)
#define Y26_AV_DEVICE(name) Y26_AV_RESOLVE(4, name)
  Y26_AVUTIL_FUNCTIONS(Y26_AV_UTIL)
  Y26_SWSCALE_FUNCTIONS(Y26_AV_SWS)
  Y26_AVCODEC_FUNCTIONS(Y26_AV_CODEC)
  Y26_AVFORMAT_FUNCTIONS(Y26_AV_FORMAT)
  Y26_AVDEVICE_FUNCTIONS(Y26_AV_DEVICE)
#undef Y26_AV_UTIL
#undef Y26_AV_SWS
#undef Y26_AV_CODEC
#undef Y26_AV_FORMAT
#undef Y26_AV_DEVICE
#undef Y26_AV_RESOLVE
  // FFmpeg's own log lines would interleave with y26's; its errors reach the user through y26's messages.
  r.lib.av_log_set_level(AV_LOG_QUIET);
  r.lib.avdevice_register_all();  // V4L2 cameras (/dev/videoN)
  r.lib.avformat_network_init();  // rtsp:// and http(s):// streams
  r.ok = true;
  return r;
}

const Loaded& loaded() {
  static const Loaded l = load();  // thread-safe once; the libraries stay loaded for the process
  return l;
}

}  // namespace

std::string FfmpegLibrary::error(int code) const {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  if (av_strerror(code, buf, sizeof buf) < 0) return "FFmpeg error " + std::to_string(code);
  return buf;
}

const FfmpegLibrary& ffmpeg() {
  if (!loaded().ok) throw Error(loaded().why);
  return loaded().lib;
}

bool ffmpeg_available(std::string* why) {
  if (!loaded().ok && why) *why = loaded().why;
  return loaded().ok;
}

}  // namespace y26::video
