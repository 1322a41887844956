// Video files, URLs and cameras through FFmpeg (loaded at run time: video/ffmpeg_library.h): demuxed and
// decoded on the calling thread (the decoder's own frame and slice threads beside it), converted to rgb24
// by swscale.
#include <cerrno>
#include <cstdio>
#include <thread>

#include "video/ffmpeg_library.h"
#include "video/source_impl.h"

namespace y26::video {
namespace {

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

class FfmpegSource final : public VideoSource::Impl {
 public:
  FfmpegSource(const std::string& source, const VideoSourceOptions& o) : av_(ffmpeg()) {
    try {
      open(source, o);
    } catch (...) {
      release();
      throw;
    }
  }
  ~FfmpegSource() override { release(); }

  bool read(VideoFrame& f) override {
    for (;;) {
      const int rc = av_.avcodec_receive_frame(codec_, frame_);
      if (rc == 0) {
        convert(f);
        return true;
      }
      if (rc == AVERROR_EOF) {
        // A container that counts its frames and ends before them was cut off (a truncated file).
        if (frames_exact_ && next_ < info.frames)
          throw Error(stopped_at(info.source, next_, "the file ends before its " + std::to_string(info.frames) +
                                                         " frames (truncated?)"));
        // One that only says how long it is (Matroska, WebM): ending two frames or more short of that.
        if (!frames_exact_ && expected_end_ > 0 && info.fps > 0 && last_ts_ + 2.0 / info.fps < expected_end_) {
          char why[128];
          std::snprintf(why, sizeof why, "the file ends at %.3f s of its %.3f s (truncated?)", last_ts_ + 1.0 / info.fps,
                        expected_end_);
          throw Error(stopped_at(info.source, next_, why));
        }
        return false;
      }
      if (rc != AVERROR(EAGAIN)) throw Error(stopped_at(info.source, next_, "cannot decode: " + av_.error(rc)));
      feed();
    }
  }

 private:
  void open(const std::string& source, const VideoSourceOptions& o) {
    info.source = source;
    const AVInputFormat* input = nullptr;
    AVDictionary* opts = nullptr;
    if (starts_with(source, "/dev/video")) {
      input = av_.av_find_input_format("v4l2");
      if (!input) throw Error(source + ": this FFmpeg has no V4L2 input (libavdevice without v4l2)");
    }
    const bool network = source.find("://") != std::string::npos;
    if (network) {  // a dead server or a dropped stream fails after 10 s instead of hanging
      av_.av_dict_set(&opts, "rw_timeout", "10000000", 0);
      if (starts_with(source, "rtsp://")) av_.av_dict_set(&opts, "timeout", "10000000", 0);
    }
    int rc = av_.avformat_open_input(&fmt_, source.c_str(), input, &opts);
    av_.av_dict_free(&opts);
    if (rc < 0) throw Error(source + ": cannot open video: " + av_.error(rc));
    if ((rc = av_.avformat_find_stream_info(fmt_, nullptr)) < 0) throw Error(source + ": cannot read video: " + av_.error(rc));
    const AVCodec* decoder = nullptr;
    stream_ = av_.av_find_best_stream(fmt_, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
    if (stream_ < 0)
      throw Error(source + (stream_ == AVERROR_DECODER_NOT_FOUND ? ": no decoder for its video stream in this FFmpeg"
                                                                 : ": holds no video stream"));
    AVStream* st = fmt_->streams[stream_];
    codec_ = av_.avcodec_alloc_context3(decoder);
    if (!codec_) throw std::bad_alloc();
    if ((rc = av_.avcodec_parameters_to_context(codec_, st->codecpar)) < 0) throw Error(source + ": " + av_.error(rc));
    codec_->thread_count = o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    codec_->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    if ((rc = av_.avcodec_open2(codec_, decoder, nullptr)) < 0)
      throw Error(source + ": cannot open its " + decoder->name + " decoder: " + av_.error(rc));
    if (codec_->width <= 0 || codec_->height <= 0) throw Error(source + ": its video stream has no frame size");
    check_size(codec_->width, codec_->height);
    info.codec = decoder->name;
    info.width = codec_->width;
    info.height = codec_->height;
    AVRational rate = st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0 ? st->avg_frame_rate : st->r_frame_rate;
    if (rate.num > 0 && rate.den > 0) info.fps = av_q2d(rate);
    if (fmt_->duration != AV_NOPTS_VALUE && fmt_->duration > 0) info.duration_s = static_cast<double>(fmt_->duration) / AV_TIME_BASE;
    if (st->nb_frames > 0) {
      info.frames = st->nb_frames;
      frames_exact_ = true;
    } else if (info.duration_s > 0 && info.fps > 0) {
      info.frames = static_cast<std::int64_t>(info.duration_s * info.fps + 0.5);
    }
    time_base_ = st->time_base;
    // where the video should end: its stream's duration, else the file's where the video is all it holds
    // (a longer audio track would make the file's longer)
    if (st->duration != AV_NOPTS_VALUE && st->duration > 0 && time_base_.den > 0)
      expected_end_ = static_cast<double>(st->duration * time_base_.num) / time_base_.den;
    else if (fmt_->nb_streams == 1 && info.duration_s > 0)
      expected_end_ = info.duration_s;
    start_ = st->start_time;
    packet_ = av_.av_packet_alloc();
    frame_ = av_.av_frame_alloc();
    if (!packet_ || !frame_) throw std::bad_alloc();
  }

  void release() {
    av_.sws_freeContext(sws_);
    sws_ = nullptr;
    av_.av_frame_free(&frame_);
    av_.av_packet_free(&packet_);
    av_.avcodec_free_context(&codec_);
    if (fmt_) av_.avformat_close_input(&fmt_);
  }

  void check_size(int w, int h) const {
    if (static_cast<std::int64_t>(w) * h > kMaxImagePixels)
      throw Error(info.source + ": frames of " + std::to_string(w) + "x" + std::to_string(h) + " exceed the limit of " +
                  std::to_string(kMaxImagePixels) + " pixels");
  }

  // One packet of the video stream to the decoder, or the end of the stream (a flush) once there is none.
  void feed() {
    for (;;) {
      if (flushed_) throw Error(stopped_at(info.source, next_, "the decoder wants input after the end"));
      const int rc = av_.av_read_frame(fmt_, packet_);
      if (rc == AVERROR_EOF) {
        flushed_ = true;
        av_.avcodec_send_packet(codec_, nullptr);
        return;
      }
      if (rc < 0) throw Error(stopped_at(info.source, next_, av_.error(rc)));
      if (packet_->stream_index != stream_) {
        av_.av_packet_unref(packet_);
        continue;
      }
      const int sent = av_.avcodec_send_packet(codec_, packet_);
      av_.av_packet_unref(packet_);
      if (sent < 0 && sent != AVERROR(EAGAIN)) throw Error(stopped_at(info.source, next_, "cannot decode: " + av_.error(sent)));
      return;
    }
  }

  void convert(VideoFrame& f) {
    const int w = frame_->width, h = frame_->height;
    const auto format = static_cast<AVPixelFormat>(frame_->format);
    if (!sws_ || w != sws_w_ || h != sws_h_ || format != sws_format_) {  // the first frame, or a change mid-stream
      check_size(w, h);
      if (!av_.sws_isSupportedInput(format)) {
        const char* name = av_.av_get_pix_fmt_name(format);
        throw Error(stopped_at(info.source, next_, std::string("unsupported pixel format ") + (name ? name : "?")));
      }
      av_.sws_freeContext(sws_);
      // the same size: a colour conversion only; accurate rounding and full chroma interpolation
      sws_ = av_.sws_getContext(w, h, format, w, h, AV_PIX_FMT_RGB24, SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT,
                                nullptr, nullptr, nullptr);
      if (!sws_) throw Error(stopped_at(info.source, next_, "cannot convert its frames to RGB"));
      sws_w_ = w, sws_h_ = h, sws_format_ = format;
    }
    f.image.width = w;
    f.image.height = h;
    f.image.rgb.resize(static_cast<size_t>(w) * static_cast<size_t>(h) * 3);
    std::uint8_t* dst[4] = {f.image.rgb.data(), nullptr, nullptr, nullptr};
    int dst_stride[4] = {w * 3, 0, 0, 0};
    av_.sws_scale(sws_, frame_->data, frame_->linesize, 0, h, dst, dst_stride);
    const std::int64_t ts = frame_->best_effort_timestamp;
    if (ts != AV_NOPTS_VALUE && time_base_.num > 0 && time_base_.den > 0) {
      if (start_ == AV_NOPTS_VALUE) start_ = ts;
      // one rounding (ticks * num / den), so 0.3 s reads 0.3, not 0.30000000000000004
      f.timestamp_s = static_cast<double>((ts - start_) * time_base_.num) / time_base_.den;
    } else {
      f.timestamp_s = info.fps > 0 ? static_cast<double>(next_) / info.fps : 0;
    }
    last_ts_ = f.timestamp_s;
    f.index = next_++;
    av_.av_frame_unref(frame_);
  }

  const FfmpegLibrary& av_;
  AVFormatContext* fmt_ = nullptr;
  AVCodecContext* codec_ = nullptr;
  AVPacket* packet_ = nullptr;
  AVFrame* frame_ = nullptr;
  SwsContext* sws_ = nullptr;
  int sws_w_ = 0, sws_h_ = 0;
  AVPixelFormat sws_format_ = AV_PIX_FMT_NONE;
  int stream_ = -1;
  AVRational time_base_{0, 1};
  double expected_end_ = -1, last_ts_ = -1;
  std::int64_t start_ = AV_NOPTS_VALUE;
  std::int64_t next_ = 0;
  bool frames_exact_ = false, flushed_ = false;
};

}  // namespace

std::unique_ptr<VideoSource::Impl> open_ffmpeg_source(const std::string& source, const VideoSourceOptions& options) {
  return std::make_unique<FfmpegSource>(source, options);
}

}  // namespace y26::video
