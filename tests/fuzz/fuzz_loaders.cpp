// libFuzzer target for every parser that reads untrusted bytes: model files
// (zip + pickle, safetensors) and images. Any outcome but success or y26::Error
// (a crash, a sanitizer report, a hang) is a bug.
//   cmake -S . -B build-fuzz -DY26_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang -DY26_CUDA=OFF
//   build-fuzz/tests/fuzz_loaders -max_total_time=300 weights/fixtures
#include <cstddef>
#include <cstdint>

#include "loader/mapped_file.h"
#include "loader/weight_map.h"
#include "y26/y26.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const y26::loader::MappedFile file(data, size, "fuzz-input");
    const y26::WeightMap w = y26::load_weights(file);
    for (const auto& [name, t] : w.tensors) (void)t.to_float();
  } catch (const y26::Error&) {
  }
  try {
    (void)y26::decode_image(data, size, "fuzz-input");
  } catch (const y26::Error&) {
  }
  return 0;
}
