// JPEG decoding with libjpeg-turbo: the decoder OpenCV (and so Ultralytics)
// uses, with its defaults (accurate integer IDCT, fancy upsampling), and a
// hardened one: stb_image's JPEG path in Debian 12 reads out of bounds on
// crafted Huffman data (found by tests/fuzz), libjpeg-turbo's does not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "y26/y26.h"

namespace y26::loader {

inline bool is_jpeg(const std::uint8_t* data, std::size_t size) {
  return size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF;
}

// Decodes to RGB, applying the EXIF orientation as cv2.imread does. `check_size(w, h)`
// runs after the header is read and before any pixel is decoded (it throws to refuse).
Image decode_jpeg(const std::uint8_t* data, std::size_t size, const std::string& name,
                  void (*check_size)(int w, int h, std::size_t file_size, const std::string& name));

}  // namespace y26::loader
