// libFuzzer: every image format decode_image takes (loader/image.cpp): PNG, BMP and the others through
// stb_image, JPEG through libjpeg-turbo, and the size limits checked before pixels are decoded.
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return fuzz_one([&] { (void)y26::decode_image(data, size, "fuzz.img"); });
}
