// libFuzzer: an Ultralytics .pt checkpoint end to end (loader/torch_checkpoint.cpp over the zip container
// and the pickle reader, with its allow-list), every tensor converted to float as the engine does.
#include "loader/mapped_file.h"
#include "loader/torch_checkpoint.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return fuzz_one([&] {
    const y26::loader::MappedFile file(data, size, "fuzz.pt");
    const y26::WeightMap w = y26::loader::read_torch_checkpoint(file);
    for (const auto& [name, t] : w.tensors) (void)t.to_float();
  });
}
