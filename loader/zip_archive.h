// Reader for the ZIP container PyTorch writes (torch.save's default since 1.6):
// stored (uncompressed) entries, ZIP64 where needed. Every offset and size is
// validated against the file; compressed or encrypted entries are refused.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "loader/mapped_file.h"

namespace y26::loader {

struct ZipEntry {
  std::string name;
  std::uint64_t data_offset = 0;  // first byte of the stored data in the file
  std::uint64_t size = 0;
};

class ZipArchive {
 public:
  // Parses the central directory. Throws y26::Error naming the file on any inconsistency.
  explicit ZipArchive(const MappedFile& file);

  const std::vector<ZipEntry>& entries() const { return entries_; }
  const ZipEntry* find(std::string_view name) const;
  // The entry's bytes; throws if it does not exist.
  std::string_view read(std::string_view name) const;

  static bool looks_like_zip(const MappedFile& file);

 private:
  const MappedFile& file_;
  std::vector<ZipEntry> entries_;
  std::unordered_map<std::string, std::size_t> index_;  // name -> position in entries_
};

}  // namespace y26::loader
