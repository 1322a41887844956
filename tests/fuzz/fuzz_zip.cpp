// libFuzzer: torch.save's zip container (loader/zip_archive.cpp): the central directory, then every entry.
#include "loader/mapped_file.h"
#include "loader/zip_archive.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return fuzz_one([&] {
    const y26::loader::MappedFile file(data, size, "fuzz.zip");
    const y26::loader::ZipArchive zip(file);
    std::size_t sum = 0;
    for (const auto& e : zip.entries()) {
      const auto bytes = zip.read(e.name);
      if (!bytes.empty()) sum += static_cast<unsigned char>(bytes.front()) + static_cast<unsigned char>(bytes.back());
    }
    (void)sum;
  });
}
