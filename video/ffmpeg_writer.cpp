// VideoWriter: frames encoded by FFmpeg (H.264 by default) into a temporary file beside `path`, renamed
// into place by finish() (include/y26/y26.h).
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "video/ffmpeg_library.h"
#include "y26/y26.h"

namespace y26 {
namespace fs = std::filesystem;

struct VideoWriter::Impl {
  const video::FfmpegLibrary& av;
  std::string path, temp, encoder;
  int width = 0, height = 0;
  AVFormatContext* out = nullptr;
  AVCodecContext* codec = nullptr;
  AVStream* stream = nullptr;
  AVFrame* frame = nullptr;
  AVPacket* packet = nullptr;
  SwsContext* sws = nullptr;
  std::int64_t written = 0;
  bool finished = false, header = false;

  explicit Impl(const video::FfmpegLibrary& lib) : av(lib) {}
  ~Impl() {
    release();
    if (!finished && !temp.empty()) {
      std::error_code ec;
      fs::remove(temp, ec);
    }
  }

  void release() {
    av.sws_freeContext(sws);
    sws = nullptr;
    av.av_frame_free(&frame);
    av.av_packet_free(&packet);
    av.avcodec_free_context(&codec);
    if (out) {
      if (out->pb) av.avio_closep(&out->pb);
      av.avformat_free_context(out);
      out = nullptr;
    }
  }

  [[noreturn]] void fail(const std::string& what, int rc) const {
    throw Error(path + ": " + what + (rc < 0 ? ": " + av.error(rc) : std::string()));
  }

  // Every packet the encoder has ready, into the file.
  void drain() {
    for (;;) {
      int rc = av.avcodec_receive_packet(codec, packet);
      if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return;
      if (rc < 0) fail("cannot encode", rc);
      av.av_packet_rescale_ts(packet, codec->time_base, stream->time_base);
      packet->stream_index = stream->index;
      rc = av.av_interleaved_write_frame(out, packet);  // takes the packet's reference
      if (rc < 0) fail("cannot write", rc);
    }
  }
};

namespace {

// H.264 by default; else what the container's default encoder is (MPEG-4 Part 2 for mp4).
const AVCodec* pick_encoder(const video::FfmpegLibrary& av, const std::string& name, const AVOutputFormat* format) {
  if (!name.empty()) return av.avcodec_find_encoder_by_name(name.c_str());
  if (const AVCodec* c = av.avcodec_find_encoder_by_name("libx264")) return c;
  if (const AVCodec* c = av.avcodec_find_encoder(AV_CODEC_ID_H264)) return c;
  return av.avcodec_find_encoder(format->video_codec);
}

AVPixelFormat pick_pixel_format(const AVCodec* c, int width, int height) {
  const bool even = width % 2 == 0 && height % 2 == 0;
  if (c->id == AV_CODEC_ID_H264) return even ? AV_PIX_FMT_YUV420P : AV_PIX_FMT_YUV444P;  // 4:2:0 needs even sizes
  if (c->pix_fmts) {
    for (const AVPixelFormat* f = c->pix_fmts; *f != AV_PIX_FMT_NONE; ++f)
      if (*f == AV_PIX_FMT_RGB24) return *f;  // lossless RGB codecs (png, ...) take the frames as they are
    return c->pix_fmts[0];
  }
  return AV_PIX_FMT_YUV420P;
}

}  // namespace

VideoWriter VideoWriter::create(const std::string& path, int width, int height, double fps, const std::string& codec_name) {
  if (width <= 0 || height <= 0 || static_cast<std::int64_t>(width) * height > kMaxImagePixels)
    throw Error(path + ": cannot write a video of " + std::to_string(width) + "x" + std::to_string(height));
  if (!(fps > 0 && fps <= 1000)) throw Error(path + ": frame rate must be in (0, 1000], got " + std::to_string(fps));
  auto impl = std::make_unique<Impl>(video::ffmpeg());
  Impl& w = *impl;
  const auto& av = w.av;
  w.path = path;
  w.width = width, w.height = height;
  const fs::path p(path);
  const AVOutputFormat* format = av.av_guess_format(nullptr, path.c_str(), nullptr);
  if (!format) throw Error(path + ": FFmpeg knows no container for the extension '" + p.extension().string() + "'");
  // a hidden name in the same folder (the rename stays on one file system), the extension kept last
  w.temp = (p.parent_path() / ("." + p.stem().string() + ".y26-partial-" + std::to_string(::getpid()) + p.extension().string())).string();
  int rc = av.avformat_alloc_output_context2(&w.out, format, nullptr, w.temp.c_str());
  if (rc < 0 || !w.out) w.fail("cannot create the container", rc);
  const AVCodec* enc = pick_encoder(av, codec_name, format);
  if (!enc) throw Error(path + ": FFmpeg has no encoder " + (codec_name.empty() ? std::string("for it") : "named '" + codec_name + "'"));
  w.encoder = enc->name;
  w.codec = av.avcodec_alloc_context3(enc);
  w.frame = av.av_frame_alloc();
  w.packet = av.av_packet_alloc();
  if (!w.codec || !w.frame || !w.packet) throw std::bad_alloc();
  const AVRational rate = av.av_d2q(fps, 100000);
  w.codec->width = width;
  w.codec->height = height;
  w.codec->time_base = AVRational{rate.den, rate.num};
  w.codec->framerate = rate;
  w.codec->pix_fmt = pick_pixel_format(enc, width, height);
  w.codec->thread_count = 0;  // FFmpeg's choice: one per core
  if (w.out->oformat->flags & AVFMT_GLOBALHEADER) w.codec->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  AVDictionary* opts = nullptr;
  if (std::string(enc->name) == "libx264") {
    av.av_dict_set(&opts, "preset", "veryfast", 0);  // an annotated copy: speed over the last few percent of size
    av.av_dict_set(&opts, "crf", "23", 0);
  }
  rc = av.avcodec_open2(w.codec, enc, &opts);
  av.av_dict_free(&opts);
  if (rc < 0) w.fail(std::string("cannot open the ") + enc->name + " encoder", rc);
  w.stream = av.avformat_new_stream(w.out, nullptr);
  if (!w.stream) throw std::bad_alloc();
  if ((rc = av.avcodec_parameters_from_context(w.stream->codecpar, w.codec)) < 0) w.fail("cannot set up the stream", rc);
  w.stream->time_base = w.codec->time_base;
  w.stream->avg_frame_rate = rate;
  if (!(w.out->oformat->flags & AVFMT_NOFILE) && (rc = av.avio_open(&w.out->pb, w.temp.c_str(), AVIO_FLAG_WRITE)) < 0)
    w.fail("cannot create " + w.temp, rc);
  AVDictionary* mux = nullptr;
  // mp4: the index (moov) before the frames, rewritten there by the trailer: the file plays while it
  // downloads, and a copy cut short still opens and reads up to the cut
  if (std::string(format->name).find("mp4") != std::string::npos) av.av_dict_set(&mux, "movflags", "+faststart", 0);
  rc = av.avformat_write_header(w.out, &mux);
  av.av_dict_free(&mux);
  if (rc < 0) w.fail("cannot write the header", rc);
  w.header = true;
  w.frame->format = w.codec->pix_fmt;
  w.frame->width = width;
  w.frame->height = height;
  if ((rc = av.av_frame_get_buffer(w.frame, 0)) < 0) w.fail("cannot allocate a frame", rc);
  w.sws = av.sws_getContext(width, height, AV_PIX_FMT_RGB24, width, height, w.codec->pix_fmt,
                            SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, nullptr, nullptr, nullptr);
  if (!w.sws) throw Error(path + ": cannot convert RGB frames for the encoder");
  return VideoWriter(std::move(impl));
}

VideoWriter::VideoWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VideoWriter::VideoWriter(VideoWriter&&) noexcept = default;
VideoWriter& VideoWriter::operator=(VideoWriter&&) noexcept = default;
VideoWriter::~VideoWriter() = default;

void VideoWriter::write(const Image& image) {
  Impl& w = *impl_;
  if (w.finished) throw Error(w.path + ": write after finish");
  if (image.width != w.width || image.height != w.height || image.rgb.size() != static_cast<size_t>(w.width) * w.height * 3)
    throw Error(w.path + ": a frame of " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                " in a video of " + std::to_string(w.width) + "x" + std::to_string(w.height));
  int rc = w.av.av_frame_make_writable(w.frame);  // the encoder may still hold the last one
  if (rc < 0) w.fail("cannot reuse the frame", rc);
  const std::uint8_t* src[4] = {image.rgb.data(), nullptr, nullptr, nullptr};
  const int src_stride[4] = {w.width * 3, 0, 0, 0};
  w.av.sws_scale(w.sws, src, src_stride, 0, w.height, w.frame->data, w.frame->linesize);
  w.frame->pts = w.written;
  if ((rc = w.av.avcodec_send_frame(w.codec, w.frame)) < 0) w.fail("cannot encode frame " + std::to_string(w.written), rc);
  w.drain();
  ++w.written;
}

void VideoWriter::finish() {
  Impl& w = *impl_;
  if (w.finished) return;
  int rc = w.av.avcodec_send_frame(w.codec, nullptr);  // the encoder's delayed frames
  if (rc < 0) w.fail("cannot flush the encoder", rc);
  w.drain();
  if ((rc = w.av.av_write_trailer(w.out)) < 0) w.fail("cannot write the trailer", rc);
  if (w.out->pb && (rc = w.av.avio_closep(&w.out->pb)) < 0) w.fail("cannot close", rc);
  std::error_code ec;
  fs::rename(w.temp, w.path, ec);
  if (ec) throw Error(w.path + ": cannot rename " + w.temp + " into place: " + ec.message());
  w.finished = true;
  w.release();
}

std::string VideoWriter::codec() const { return impl_->encoder; }
std::int64_t VideoWriter::frames() const { return impl_->written; }

}  // namespace y26
