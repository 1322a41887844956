// A YOLO-format dataset's image lists and label files, read as Ultralytics 8.4.190 reads them
// (runtime/yolo_labels.h): which files a split holds, where each label file is, and what a label file
// may hold (a corrupt one ignores its image with a message, never a crash).
#include <catch2/catch.hpp>

#include <filesystem>

#include "runtime/yolo_labels.h"
#include "tests/support/fixtures.h"
#include "y26/y26.h"

using namespace y26;
using namespace y26::runtime;
namespace fs = std::filesystem;

TEST_CASE("a split's images: folders recursively, list files, sorted, images only", "[dataset]") {
  test::TempDir dir;
  fs::create_directories(dir.file("images/val/sub"));
  for (const char* f : {"images/val/b.png", "images/val/a.JPG", "images/val/sub/c.bmp", "images/val/notes.txt", "images/val/x.gif"})
    test::write_file(dir.file(f), "x");
  const auto imgs = split_images({dir.file("images/val")});
  REQUIRE(imgs.size() == 3);
  CHECK(imgs[0] == dir.file("images/val/a.JPG"));
  CHECK(imgs[1] == dir.file("images/val/b.png"));
  CHECK(imgs[2] == dir.file("images/val/sub/c.bmp"));
  // a list file: "./" relative to it, others as written, a byte-order mark tolerated
  test::write_file(dir.file("val.txt"), "\xEF\xBB\xBF./images/val/b.png\r\n\n" + dir.file("images/val/a.JPG") + "\n");
  const auto listed = split_images({dir.file("val.txt")});
  REQUIRE(listed.size() == 2);
  CHECK(listed[0] == dir.file("images/val/a.JPG"));
  CHECK(listed[1] == dir.file("images/val/b.png"));
  CHECK_THROWS_WITH(split_images({dir.file("nowhere")}), Catch::Contains("does not exist"));
  fs::create_directories(dir.file("empty"));
  CHECK_THROWS_WITH(split_images({dir.file("empty")}), Catch::Contains("no images found"));
}

TEST_CASE("label files sit where Ultralytics looks for them", "[dataset]") {
  CHECK(label_path("/d/images/val/a.png") == "/d/labels/val/a.txt");
  CHECK(label_path("/d/images/x/images/val/a.b.jpg") == "/d/images/x/labels/val/a.b.txt");  // the last /images/ only
  CHECK(label_path("/d/pics/a.png") == "/d/pics/a.txt");
}

TEST_CASE("label files: valid, missing, empty and corrupt ones", "[dataset]") {
  test::TempDir dir;
  const auto labels = [&](const std::string& text) {
    test::write_file(dir.file("l.txt"), text);
    return read_labels(dir.file("l.txt"), 3);
  };
  const auto ok = labels("0 0.5 0.5 0.2 0.4\n2 0.1 0.2 0.05 0.05\n\n");
  REQUIRE(ok.status == ImageLabels::Status::Found);
  REQUIRE(ok.rows.size() == 2);
  CHECK(ok.rows[1].cls == 2);
  CHECK(ok.rows[0].h == 0.4f);
  CHECK(read_labels(dir.file("none.txt"), 3).status == ImageLabels::Status::Missing);
  CHECK(labels(" \n\n").status == ImageLabels::Status::Empty);
  const auto check_corrupt = [&](const std::string& text, const std::string& why) {
    const auto r = labels(text);
    CHECK(r.status == ImageLabels::Status::Corrupt);
    CHECK(r.rows.empty());
    CHECK_THAT(r.message, Catch::Contains(why) && Catch::Contains("l.txt"));
  };
  check_corrupt("0 0.5 0.5 0.2\n", "labels require 5 columns, 4 columns detected");
  check_corrupt("0 0.5 0.5 0.2 0.4 0.9\n", "labels require 5 columns, 6 columns detected");
  check_corrupt("0 0.5 1.2 0.2 0.4\n", "out of bounds coordinates");
  check_corrupt("0 0.5 0.5 -0.2 0.4\n", "negative class labels or coordinate");
  check_corrupt("3 0.5 0.5 0.2 0.4\n", "Label class 3 exceeds dataset class count 3");
  check_corrupt("0 0.5 zero 0.2 0.4\n", "could not convert 'zero'");
  check_corrupt("0 0.5 nan 0.2 0.4\n", "out of bounds");
  // within Ultralytics' 1% tolerances
  CHECK(labels("0 1.005 0.5 0.2 0.4\n").status == ImageLabels::Status::Found);
  CHECK(labels("0 -0.005 0.5 0.2 0.4\n").status == ImageLabels::Status::Found);
}

TEST_CASE("duplicate label rows are removed with a warning, the rest sorted as np.unique leaves them", "[dataset]") {
  test::TempDir dir;
  test::write_file(dir.file("l.txt"), "2 0.5 0.5 0.2 0.4\n0 0.1 0.1 0.1 0.1\n2 0.5 0.5 0.2 0.4\n");
  const auto r = read_labels(dir.file("l.txt"), 3);
  REQUIRE(r.status == ImageLabels::Status::Found);
  REQUIRE(r.rows.size() == 2);
  CHECK(r.rows[0].cls == 0);
  CHECK(r.rows[1].cls == 2);
  CHECK_THAT(r.message, Catch::Contains("1 duplicate labels removed"));
}

TEST_CASE("polygon labels become their boxes", "[dataset]") {
  test::TempDir dir;
  // a triangle (0.2, 0.2) (0.6, 0.3) (0.4, 0.8): box x 0.2..0.6, y 0.2..0.8
  test::write_file(dir.file("l.txt"), "1 0.2 0.2 0.6 0.3 0.4 0.8\n");
  const auto r = read_labels(dir.file("l.txt"), 3);
  REQUIRE(r.rows.size() == 1);
  CHECK(r.rows[0].x == Approx(0.4f));
  CHECK(r.rows[0].y == Approx(0.5f));
  CHECK(r.rows[0].w == Approx(0.4f));
  CHECK(r.rows[0].h == Approx(0.6f));
  const auto t = to_targets(r.rows, 200, 100);
  CHECK(t[0].box.x1 == Approx(40));
  CHECK(t[0].box.y2 == Approx(80));
  CHECK(t[0].cls == 1);
}
