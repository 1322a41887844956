// libFuzzer: a data.yaml (runtime/dataset_yaml.cpp): libyaml's parser and the dataset keys read from it.
#include <string>

#include "runtime/dataset_yaml.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return fuzz_one([&] {
    const std::string text(reinterpret_cast<const char*>(data), size);
    (void)y26::runtime::parse_dataset_yaml(text, "/fuzz/data.yaml");
  });
}
