// A read-only view of a whole file (mmap), with bounds-checked access.
// Parsers never touch bytes outside [data(), data()+size()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace y26::loader {

class MappedFile {
 public:
  // Throws y26::Error "<path>: <reason>" if the file cannot be opened or mapped.
  explicit MappedFile(const std::string& path);
  // A non-owning view of bytes already in memory (fuzzers, embedded models); `name` labels errors.
  MappedFile(const std::uint8_t* data, std::size_t size, std::string name);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  const std::string& path() const { return path_; }

  // Bytes [offset, offset+length), or an Error naming the file and `what`.
  std::string_view bytes(std::uint64_t offset, std::uint64_t length, std::string_view what) const;

 private:
  std::string path_;
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  bool owned_ = false;  // true when data_ is our mmap
};

// Little-endian loads from unaligned memory.
inline std::uint16_t load_le16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
inline std::uint32_t load_le32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}
inline std::uint64_t load_le64(const std::uint8_t* p) {
  return static_cast<std::uint64_t>(load_le32(p)) | (static_cast<std::uint64_t>(load_le32(p + 4)) << 32);
}

}  // namespace y26::loader
