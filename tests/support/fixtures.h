// Paths to the committed fixtures and small helpers shared by the tests.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "y26/y26.h"

namespace y26::test {

// weights/fixtures/<name>
std::string fixture(const std::string& name);
// The two fixture models, by base name ("yolo26n-rand", ...).
const std::vector<std::string>& fixture_models();

// A fresh empty directory under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::string read_file(const std::string& path);

// The image mirrored left to right: a second input of the same size unlike the first.
Image mirrored(const Image& image);
// 16 lowercase hex digits, as make_goldens.py writes FNV-1a 64 checksums.
std::string hex64(std::uint64_t v);
void write_file(const std::string& path, const std::string& bytes);

}  // namespace y26::test
