// libFuzzer: JPEG through libjpeg-turbo (loader/jpeg_decode.cpp), EXIF orientation included.
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3 || data[0] != 0xFF || data[1] != 0xD8 || data[2] != 0xFF) return 0;  // decode_image's JPEG path only
  return fuzz_one([&] { (void)y26::decode_image(data, size, "fuzz.jpg"); });
}
