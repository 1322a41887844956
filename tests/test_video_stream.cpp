// detect_stream's pipeline and raw frames: no FFmpeg needed, so these run in every build, and under
// ThreadSanitizer ([concurrency]: the decode, detect and deliver threads and their queues).
#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>

#include "tests/support/detections.h"
#include "tests/support/fixtures.h"
#include "tests/support/video_frames.h"
#include "y26/y26.h"

using namespace y26;

namespace {

VideoSourceOptions raw_options(int w, int h, double fps = 25) {
  VideoSourceOptions o;
  o.raw_width = w, o.raw_height = h, o.raw_fps = fps;
  return o;
}

Engine small_engine() {
  Options o;
  o.device = "cpu";
  o.imgsz = 160;
  o.conf = 0.05f;  // enough detections per frame to compare
  o.threads = 2;
  return Engine::load(test::fixture("yolo26n-rand.pt"), o);
}

}  // namespace

TEST_CASE("raw rgb24 frames: sizes, indices, timestamps; a partial frame stops with its index", "[video]") {
  test::TempDir dir;
  const auto frames = test::panning_frames(load_image(test::fixture("scene-640x456.png")), 5, 64, 48);
  test::write_file(dir.file("f.rgb"), test::raw_bytes(frames) + std::string(100, '\x7f'));  // then a partial frame
  VideoSource src = VideoSource::open(dir.file("f.rgb"), raw_options(64, 48, 25));
  CHECK(src.info().codec == "rawvideo");
  CHECK(src.info().width == 64);
  CHECK(src.info().fps == 25);
  VideoFrame f;
  for (int i = 0; i < 5; ++i) {
    REQUIRE(src.read(f));
    CHECK(f.index == i);
    CHECK(f.timestamp_s == Approx(i / 25.0).margin(1e-12));
    CHECK(f.image.rgb == frames[static_cast<size_t>(i)].rgb);
  }
  CHECK_THROWS_WITH(src.read(f), Catch::Contains("f.rgb: stopped at frame 5: a partial raw frame (100 of 9216 bytes"));

  test::write_file(dir.file("whole.rgb"), test::raw_bytes(frames));
  VideoSource whole = VideoSource::open(dir.file("whole.rgb"), raw_options(64, 48));
  int n = 0;
  while (whole.read(f)) ++n;
  CHECK(n == 5);
  CHECK_FALSE(whole.read(f));  // the end stays the end

  CHECK_THROWS_WITH(VideoSource::open(dir.file("whole.rgb"), raw_options(100000, 100000)), Catch::Contains("exceed the limit"));
  CHECK_THROWS_WITH(VideoSource::open(dir.file("nope.rgb"), raw_options(64, 48)), Catch::Contains("nope.rgb: cannot open"));
  CHECK_THROWS_WITH(VideoSource::open(dir.file("whole.rgb"), raw_options(64, 48, 0)), Catch::Contains("frame rate"));
}

TEST_CASE("detect_stream: every frame's detections are those of the frame detected as an image, in order, "
          "whatever the batch, stride and queue", "[video][concurrency]") {
  test::TempDir dir;
  const auto frames = test::panning_frames(load_image(test::fixture("scene-640x456.png")), 11, 224, 160);
  test::write_file(dir.file("f.rgb"), test::raw_bytes(frames));
  Engine engine = small_engine();
  std::vector<std::vector<Detection>> expected;
  size_t total = 0;
  for (const Image& f : frames) expected.push_back(engine.detect(f)), total += expected.back().size();
  REQUIRE(total >= 11);  // not a test on empty lists

  struct Case {
    int batch, stride, max_frames, queue;
  };
  for (const Case c : {Case{1, 1, 0, 0}, Case{3, 1, 0, 1}, Case{4, 2, 0, 0}, Case{2, 3, 2, 0}, Case{16, 1, 0, 0}}) {
    INFO("batch " << c.batch << ", vid_stride " << c.stride << ", max_frames " << c.max_frames << ", queue " << c.queue);
    VideoSource src = VideoSource::open(dir.file("f.rgb"), raw_options(224, 160, 10));
    StreamOptions o;
    o.batch = c.batch, o.vid_stride = c.stride, o.max_frames = c.max_frames, o.queue_frames = c.queue;
    std::vector<std::int64_t> seen;
    bool all_equal = true;
    const StreamResult r = detect_stream(engine, src, o, [&](StreamFrame& f) {
      seen.push_back(f.frame.index);
      const auto i = static_cast<size_t>(f.frame.index);
      CHECK(f.frame.timestamp_s == Approx(static_cast<double>(i) / 10).margin(1e-12));
      CHECK(f.frame.image.rgb == frames[i].rgb);
      all_equal = all_equal && test::identical(f.detections, expected[i]);
    });
    std::vector<std::int64_t> want;
    for (std::int64_t i = 0; i < 11 && (c.max_frames == 0 || static_cast<int>(want.size()) < c.max_frames); i += c.stride) want.push_back(i);
    CHECK(seen == want);
    CHECK(all_equal);
    CHECK(r.frames == static_cast<std::int64_t>(want.size()));
    CHECK(r.stopped.empty());
    // max_frames stops the decoder too: it reads no frame beyond the last one it keeps
    CHECK(r.decoded == (c.max_frames == 0 ? 11 : want.back() + 1));
  }
}

TEST_CASE("detect_stream: a source that breaks off delivers what came before; errors and stops end it cleanly",
          "[video][concurrency]") {
  test::TempDir dir;
  const auto frames = test::panning_frames(load_image(test::fixture("scene-640x456.png")), 6, 96, 64);
  test::write_file(dir.file("cut.rgb"), test::raw_bytes(frames) + std::string(500, '\x10'));
  Engine engine = small_engine();
  StreamOptions o;
  o.batch = 4;
  {
    VideoSource src = VideoSource::open(dir.file("cut.rgb"), raw_options(96, 64));
    std::int64_t n = 0;
    const StreamResult r = detect_stream(engine, src, o, [&](StreamFrame&) { ++n; });
    CHECK(n == 6);  // the last, partial batch of two is detected too
    CHECK(r.frames == 6);
    CHECK_THAT(r.stopped, Catch::Contains("cut.rgb: stopped at frame 6: a partial raw frame"));
  }
  {  // on_frame throws at the third frame: rethrown, the threads joined, nothing hangs
    VideoSource src = VideoSource::open(dir.file("cut.rgb"), raw_options(96, 64));
    int n = 0;
    CHECK_THROWS_WITH(detect_stream(engine, src, o, [&](StreamFrame&) {
                        if (++n == 3) throw std::runtime_error("consumer failed");
                      }),
                      "consumer failed");
    CHECK(n == 3);
  }
  {  // the stop flag: set by the consumer after two frames, the stream ends within the queued ones
    std::string twenty;
    for (int i = 0; i < 4; ++i) twenty += test::raw_bytes(frames);
    test::write_file(dir.file("long.rgb"), twenty);
    VideoSource src = VideoSource::open(dir.file("long.rgb"), raw_options(96, 64));
    std::atomic<bool> stop{false};
    o.stop = &stop;
    o.batch = 1;
    o.queue_frames = 1;
    int n = 0;
    const StreamResult r = detect_stream(engine, src, o, [&](StreamFrame&) {
      if (++n == 2) stop.store(true);
    });
    CHECK(r.stopped.empty());
    CHECK(r.frames >= 2);
    // beyond the two: one in each queue, one in the engine and one the decoder holds, at most
    CHECK(r.frames <= 6);
    CHECK(r.decoded <= 7);
  }
  VideoSource src = VideoSource::open(dir.file("cut.rgb"), raw_options(96, 64));
  StreamOptions bad;
  bad.batch = 0;
  CHECK_THROWS_WITH(detect_stream(engine, src, bad, [](StreamFrame&) {}), Catch::Contains("batch must be in [1, 4096]"));
  bad.batch = 1;
  bad.vid_stride = 0;
  CHECK_THROWS_WITH(detect_stream(engine, src, bad, [](StreamFrame&) {}), Catch::Contains("vid_stride must be at least 1"));
}

TEST_CASE("a classifier's stream carries each frame's probabilities", "[video][classify]") {
  test::TempDir dir;
  const auto frames = test::panning_frames(load_image(test::fixture("scene-640x456.png")), 3, 256, 224);
  test::write_file(dir.file("f.rgb"), test::raw_bytes(frames));
  Options opt;
  opt.device = "cpu";
  Engine engine = Engine::load(test::fixture("yolo26n-cls-rand.pt"), opt);
  VideoSource src = VideoSource::open(dir.file("f.rgb"), raw_options(256, 224));
  StreamOptions o;
  o.batch = 2;
  std::vector<Classification> want;  // before the stream: the engine is the pipeline's while it runs
  for (const Image& f : frames) want.push_back(engine.classify(f));
  int n = 0;
  detect_stream(engine, src, o, [&](StreamFrame& f) {
    CHECK(f.classification.probs == want[static_cast<size_t>(f.frame.index)].probs);
    CHECK(f.detections.empty());
    ++n;
  });
  CHECK(n == 3);
}
