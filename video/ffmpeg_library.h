// FFmpeg's libraries, loaded at run time (dlopen), for video and streams only: the y26 program and
// liby26.a need no FFmpeg to start, link or run images, and a portable build (the GPU bundle's) stays free
// of shared libraries beyond glibc's and GCC's. The function types come from FFmpeg's headers at build
// time; the sonames loaded are the headers' major versions (libavformat.so.59 for FFmpeg 5.1), whose ABI
// FFmpeg keeps stable within a major version.
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavdevice/avdevice.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
}

#include <string>

namespace y26::video {

// Every FFmpeg entry point y26 calls, as X(name), by library.
#define Y26_AVUTIL_FUNCTIONS(X)                                                                                \
  X(av_frame_alloc) X(av_frame_free) X(av_frame_unref) X(av_frame_get_buffer) X(av_frame_make_writable) X(av_strerror)           \
  X(av_dict_set) X(av_dict_free) X(av_log_set_level) X(av_get_pix_fmt_name) X(av_d2q)
#define Y26_AVCODEC_FUNCTIONS(X)                                                                               \
  X(avcodec_find_encoder) X(avcodec_find_encoder_by_name) X(avcodec_alloc_context3)    \
  X(avcodec_free_context) X(avcodec_parameters_to_context) X(avcodec_parameters_from_context) X(avcodec_open2) \
  X(avcodec_send_packet) X(avcodec_receive_frame) X(avcodec_send_frame) X(avcodec_receive_packet)              \
  X(av_packet_alloc) X(av_packet_free) X(av_packet_unref) X(av_packet_rescale_ts)
#define Y26_AVFORMAT_FUNCTIONS(X)                                                                              \
  X(avformat_open_input) X(avformat_find_stream_info) X(av_find_best_stream) X(avformat_close_input)           \
  X(av_read_frame) X(avformat_alloc_output_context2) X(avformat_new_stream) X(avio_open) X(avio_closep)        \
  X(avformat_write_header) X(av_write_trailer) X(av_interleaved_write_frame) X(avformat_free_context)          \
  X(av_find_input_format) X(avformat_network_init) X(av_guess_format)
#define Y26_AVDEVICE_FUNCTIONS(X) X(avdevice_register_all)
#define Y26_SWSCALE_FUNCTIONS(X) X(sws_getContext) X(sws_scale) X(sws_freeContext) X(sws_isSupportedInput)

struct FfmpegLibrary {
#define Y26_AV_POINTER(name) decltype(&::name) name = nullptr;
  Y26_AVUTIL_FUNCTIONS(Y26_AV_POINTER)
  Y26_AVCODEC_FUNCTIONS(Y26_AV_POINTER)
  Y26_AVFORMAT_FUNCTIONS(Y26_AV_POINTER)
  Y26_AVDEVICE_FUNCTIONS(Y26_AV_POINTER)
  Y26_SWSCALE_FUNCTIONS(Y26_AV_POINTER)
#undef Y26_AV_POINTER
  std::string versions;  // "libavformat.so.59 libavcodec.so.59 ..." as loaded

  // FFmpeg's message for an error code: "Invalid data found when processing input".
  std::string error(int code) const;
};

// FFmpeg, loaded once per process; throws y26::Error saying which library could not be loaded (and that
// Debian's libavformat59, libavcodec59, libswscale6 and libavdevice59 packages provide them).
const FfmpegLibrary& ffmpeg();
// Whether ffmpeg() would load, and *why not where it would not; never throws.
bool ffmpeg_available(std::string* why);

}  // namespace y26::video
