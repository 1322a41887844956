// libFuzzer: a .safetensors file (loader/safetensors.cpp): the JSON header, offsets, dtypes and shapes.
#include "loader/mapped_file.h"
#include "loader/safetensors.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return fuzz_one([&] {
    const y26::loader::MappedFile file(data, size, "fuzz.safetensors");
    const y26::WeightMap w = y26::loader::read_safetensors(file);
    for (const auto& [name, t] : w.tensors) (void)t.to_float();
  });
}
