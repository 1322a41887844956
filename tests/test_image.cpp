// Image decoding: exact pixels for lossless formats, clear errors for bad files.
#include <stb_image_write.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "loader/weight_map.h"
#include "tests/support/errors.h"
#include "tests/support/fixtures.h"
#include "y26/y26.h"

using namespace y26;

namespace {

// The message after "path: " with which load_image refuses `bytes` (tests/support/errors.h).
std::string image_error(const std::string& bytes, const std::string& name) {
  return test::refusal(bytes, name, [](const std::string& path) { load_image(path); });
}
}  // namespace

TEST_CASE("images decode to exactly the pixels Python wrote and OpenCV reads (EXIF orientation included)", "[image]") {
  const auto scenes = nlohmann::json::parse(test::read_file(test::fixture("scenes.json")));
  for (const auto& [name, s] : scenes.items()) {
    INFO(name);
    const Image img = load_image(test::fixture(name));
    CHECK(img.width == s["width"].get<int>());
    CHECK(img.height == s["height"].get<int>());
    CHECK(test::hex64(fnv1a64(img.rgb.data(), img.rgb.size())) == s["rgb_fnv1a64"].get<std::string>());
  }
}

TEST_CASE("BMP and JPEG decode", "[image]") {
  const Image png = load_image(test::fixture("scene-500x375.png"));
  test::TempDir dir;
  REQUIRE(stbi_write_bmp(dir.file("s.bmp").c_str(), png.width, png.height, 3, png.rgb.data()));
  const Image bmp = load_image(dir.file("s.bmp"));
  CHECK(bmp.rgb == png.rgb);

  REQUIRE(stbi_write_jpg(dir.file("s.jpg").c_str(), png.width, png.height, 3, png.rgb.data(), 95));
  const Image jpg = load_image(dir.file("s.jpg"));
  REQUIRE(jpg.width == png.width);
  REQUIRE(jpg.height == png.height);
  double abs_diff = 0;
  for (size_t i = 0; i < png.rgb.size(); ++i) abs_diff += std::abs(int(png.rgb[i]) - int(jpg.rgb[i]));
  CHECK(abs_diff / static_cast<double>(png.rgb.size()) < 3.0);  // lossy, but the same picture
}

TEST_CASE("bad image files give one clear error", "[image][bad]") {
  CHECK(image_error("", "empty.jpg").find("empty") != std::string::npos);
  CHECK(image_error("{\"not\": \"an image\"}", "text.png").find("not a readable JPEG, PNG or BMP") != std::string::npos);
  const std::string png = test::read_file(test::fixture("scene-640x456.png"));
  CHECK(image_error(png.substr(0, 2000), "truncated.png").find("PNG chunk 'IDAT' at byte 33 declares 65536 bytes") != std::string::npos);
  // an IDAT declaring 2^31 - 1 bytes in the file's first chunk after IHDR: refused before stb allocates for it
  // (libFuzzer found stb reallocating to the declared length; tests/fuzz/regressions/image/png-idat-length-oom)
  std::string forged = png.substr(0, 33) + std::string("\x7f\xff\xff\xffIDAT", 8) + png.substr(41, 64);
  CHECK(image_error(forged, "forged.png").find("declares 2147483647 bytes, past the end of the 105-byte file") !=
        std::string::npos);
  CHECK(image_error(test::read_file(Y26_SOURCE_DIR "/tests/fuzz/regressions/image/png-idat-length-oom"), "oom.png")
            .find("past the end") != std::string::npos);

  // A BMP header declaring 20000 x 20000 pixels (4e8 > 2^28): refused before any decoding.
  std::string bmp(54, '\0');
  auto le32 = [&](size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) bmp[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
  };
  bmp[0] = 'B';
  bmp[1] = 'M';
  le32(2, 54);
  le32(10, 54);
  le32(14, 40);
  le32(18, 20000);
  le32(22, 20000);
  bmp[26] = 1;
  bmp[28] = 24;
  CHECK(image_error(bmp, "huge.bmp").find("more than the limit") != std::string::npos);
  // 768 x 327936 (under the pixel limit) declared in an 89-byte file: found by libFuzzer, refused without decoding
  le32(18, 768);
  le32(22, 327936);
  CHECK(image_error(bmp + std::string(35, '\x12'), "forged.bmp").find("truncated or corrupt") != std::string::npos);

  try {
    load_image("/nonexistent/dir/image.jpg");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("/nonexistent/dir/image.jpg: cannot open") == 0);
  }
}
