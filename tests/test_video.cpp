// Video files through FFmpeg (video/): the writer and the reader round trip, the default H.264 output,
// what a failure leaves behind, and corrupt or truncated files. Videos are made here, from frames the
// test draws; without FFmpeg in the build, the one clear error instead.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "tests/support/fixtures.h"
#include "tests/support/video_frames.h"
#include "y26/y26.h"

using namespace y26;
namespace fs = std::filesystem;

namespace {

std::vector<Image> scene_frames(int count, int w, int h) {
  return test::panning_frames(load_image(test::fixture("scene-640x456.png")), count, w, h);
}

void write_video(const std::string& path, const std::vector<Image>& frames, double fps, const std::string& codec = "") {
  VideoWriter w = VideoWriter::create(path, frames[0].width, frames[0].height, fps, codec);
  for (const Image& f : frames) w.write(f);
  w.finish();
}

std::vector<VideoFrame> read_all(const std::string& path) {
  VideoSource src = VideoSource::open(path);
  std::vector<VideoFrame> out;
  VideoFrame f;
  while (src.read(f)) out.push_back(std::move(f));
  return out;
}

size_t entries(const fs::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

// A cut copy of a `whole`-frame video: some frames read, then an Error naming it and the frame it stopped at.
void check_cut(const std::string& path, int whole) {
  VideoSource src = VideoSource::open(path);
  VideoFrame f;
  int n = 0;
  try {
    while (src.read(f)) ++n;
    FAIL(path << " read to its end");
  } catch (const Error& e) {
    INFO(e.what());
    CHECK_THAT(e.what(), Catch::StartsWith(path + ": stopped at frame " + std::to_string(n) + ": "));
  }
  CHECK(n > 0);
  CHECK(n < whole);
}

}  // namespace

#if Y26_WITH_VIDEO

TEST_CASE("a lossless video round trips: every pixel, frame count, rate and timestamp", "[video]") {
  std::string why;
  REQUIRE(video_available(&why));
  test::TempDir dir;
  const auto frames = scene_frames(12, 96, 64);
  for (const char* name : {"png.avi", "png.mkv"}) {
    INFO(name);
    const std::string path = dir.file(name);
    write_video(path, frames, 12.5, "png");
    VideoSource src = VideoSource::open(path);
    CHECK(src.info().codec == "png");
    CHECK(src.info().width == 96);
    CHECK(src.info().height == 64);
    CHECK(src.info().fps == Approx(12.5));
    VideoFrame f;
    int n = 0;
    while (src.read(f)) {
      REQUIRE(n < 12);
      CHECK(f.index == n);
      CHECK(f.timestamp_s == Approx(n / 12.5).margin(1e-3));  // the container's clock: mkv counts milliseconds
      CHECK(f.image.rgb == frames[static_cast<size_t>(n)].rgb);
      ++n;
    }
    CHECK(n == 12);
  }
  CHECK(entries(dir.path()) == 2);  // no temporary file left beside them
}

TEST_CASE("the default output is an mp4 of H.264 at the given rate, odd sizes included", "[video]") {
  test::TempDir dir;
  for (const auto& [w, h] : {std::pair{96, 64}, std::pair{97, 65}}) {
    INFO(w << "x" << h);
    const auto frames = scene_frames(10, w, h);
    const std::string path = dir.file("out" + std::to_string(w) + ".mp4");
    VideoWriter vw = VideoWriter::create(path, w, h, 10);
    CHECK(vw.codec() == "libx264");  // Debian's libavcodec has it
    for (const Image& f : frames) vw.write(f);
    CHECK_FALSE(fs::exists(path));  // under its temporary name until finished
    vw.finish();
    CHECK(vw.frames() == 10);
    VideoSource src = VideoSource::open(path);
    CHECK(src.info().codec == "h264");
    CHECK(src.info().fps == Approx(10));
    CHECK(src.info().frames == 10);
    const auto got = read_all(path);
    REQUIRE(got.size() == 10);
    // lossy, but the same pictures: a mean difference of a few levels of 255
    double diff = 0;
    for (size_t i = 0; i < 10; ++i) {
      REQUIRE(got[i].image.width == w);
      REQUIRE(got[i].image.height == h);
      CHECK(got[i].timestamp_s == Approx(static_cast<double>(i) / 10).margin(1e-6));
      for (size_t k = 0; k < got[i].image.rgb.size(); ++k)
        diff += std::abs(int(got[i].image.rgb[k]) - int(frames[i].rgb[k]));
    }
    diff /= 10.0 * w * h * 3;
    INFO("mean absolute difference " << diff);
    CHECK(diff < 4);
  }
}

TEST_CASE("a writer that fails or is not finished leaves no file; bad frames and paths are refused by name", "[video][bad]") {
  test::TempDir dir;
  const auto frames = scene_frames(3, 64, 48);
  {
    VideoWriter w = VideoWriter::create(dir.file("unfinished.mp4"), 64, 48, 25);
    w.write(frames[0]);
    w.write(frames[1]);
  }
  CHECK(entries(dir.path()) == 0);
  {
    VideoWriter w = VideoWriter::create(dir.file("wrong.mp4"), 64, 48, 25);
    CHECK_THROWS_WITH(w.write(scene_frames(1, 32, 32)[0]), Catch::Contains("wrong.mp4: a frame of 32x32 in a video of 64x48"));
  }
  CHECK(entries(dir.path()) == 0);
  CHECK_THROWS_WITH(VideoWriter::create(dir.file("no/such/dir/x.mp4"), 64, 48, 25), Catch::Contains("x.mp4: cannot create"));
  CHECK_THROWS_WITH(VideoWriter::create(dir.file("x.mp4"), 64, 48, 0), Catch::Contains("frame rate"));
  CHECK_THROWS_WITH(VideoWriter::create(dir.file("x.unknownext"), 64, 48, 25), Catch::Contains("no container for the extension"));
  CHECK_THROWS_WITH(VideoWriter::create(dir.file("x.mp4"), 64, 48, 25, "nosuchcodec"), Catch::Contains("no encoder named 'nosuchcodec'"));
  CHECK(entries(dir.path()) == 0);
}

TEST_CASE("corrupt and truncated videos are refused, or cut cleanly at the frame where they stop", "[video][bad]") {
  test::TempDir dir;
  std::string junk(20000, '\0');
  for (size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>((i * 2654435761u) >> 13);
  test::write_file(dir.file("junk.mp4"), junk);
  CHECK_THROWS_WITH(VideoSource::open(dir.file("junk.mp4")), Catch::StartsWith(dir.file("junk.mp4") + ": cannot"));
  CHECK_THROWS_WITH(VideoSource::open(dir.file("missing.mp4")), Catch::Contains("missing.mp4: cannot open video: No such file"));
  CHECK_THROWS_WITH(VideoSource::open("/dev/video99"), Catch::Contains("/dev/video99: cannot open video"));
  test::write_file(dir.file("empty.mkv"), "");
  CHECK_THROWS_WITH(VideoSource::open(dir.file("empty.mkv")), Catch::Contains("empty.mkv: cannot"));

  // big enough that the first key frame is a small part of the file
  const auto frames = scene_frames(30, 320, 240);
  write_video(dir.file("whole.mp4"), frames, 25);
  write_video(dir.file("whole.mkv"), frames, 25);
  // whole files read to their end without a word
  CHECK(read_all(dir.file("whole.mkv")).size() == 30);
  CHECK(read_all(dir.file("whole.mp4")).size() == 30);
  const std::string mp4 = test::read_file(dir.file("whole.mp4")), mkv = test::read_file(dir.file("whole.mkv"));
  // y26's mp4s keep their index first (faststart): cut, one opens and reads up to the cut, then says
  // where it stopped (the index counts 30 frames)
  test::write_file(dir.file("cut.mp4"), mp4.substr(0, mp4.size() * 6 / 10));
  CHECK(VideoSource::open(dir.file("cut.mp4")).info().frames == 30);
  check_cut(dir.file("cut.mp4"), 30);
  // a Matroska file counts no frames but says how long it is: cut, it reads up to the cut and says so
  for (const size_t keep : {mkv.size() * 6 / 10, mkv.size() / 3}) {
    INFO("mkv cut to " << keep << " of " << mkv.size() << " bytes");
    test::write_file(dir.file("cut.mkv"), mkv.substr(0, keep));
    check_cut(dir.file("cut.mkv"), 30);
  }
}

#else

TEST_CASE("without FFmpeg in the build, a video source says so in one line", "[video]") {
  std::string why;
  CHECK_FALSE(video_available(&why));
  CHECK_THAT(why, Catch::Contains("built without video"));
  CHECK_THROWS_WITH(VideoSource::open("clip.mp4"), Catch::StartsWith("clip.mp4: y26 was built without video"));
  CHECK_THROWS_WITH(VideoWriter::create("out.mp4", 64, 48, 25), Catch::StartsWith("out.mp4: y26 was built without video"));
}

#endif
