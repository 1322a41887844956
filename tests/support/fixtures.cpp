#include "tests/support/fixtures.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace y26::test {

// The source tree given at build time, or $Y26_SOURCE_DIR when the tests run from a
// carried build on another machine (bench/gpu-check.sh).
std::string fixture(const std::string& name) {
  const char* env = std::getenv("Y26_SOURCE_DIR");
  return std::string(env && *env ? env : Y26_SOURCE_DIR) + "/weights/fixtures/" + name;
}

const std::vector<std::string>& fixture_models() {
  static const std::vector<std::string> models = {"yolo26n-rand", "yolo26l-thin-nc5-rand"};
  return models;
}

TempDir::TempDir() {
  std::random_device rd;
  path_ = std::filesystem::temp_directory_path() / ("y26-test-" + std::to_string(rd()) + std::to_string(rd()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string hex64(std::uint64_t v) {
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
  return b;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!f) throw std::runtime_error("cannot write " + path);
}

Image mirrored(const Image& image) {
  Image out = image;
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x)
      for (int c = 0; c < 3; ++c) out.pixel(x, y)[c] = image.pixel(image.width - 1 - x, y)[c];
  return out;
}

}  // namespace y26::test
