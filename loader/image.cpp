// Image decoding for y26::Image (JPEG, PNG, BMP through stb_image).
#include <stb_image.h>

#include <algorithm>
#include <cstdint>

#include "loader/jpeg_decode.h"
#include "loader/mapped_file.h"
#include "y26/y26.h"

namespace y26 {

namespace {

constexpr std::int64_t kMaxDecodeRatio = 2000;

// Refuses absurd sizes before any pixel is decoded.
void check_size(int w, int h, size_t size, const std::string& name) {
  if (w <= 0 || h <= 0) throw Error(name + ": image has no pixels");
  if (static_cast<std::int64_t>(w) * h > kMaxImagePixels) {
    throw Error(name + ": image is " + std::to_string(w) + "x" + std::to_string(h) + ", more than the limit of " +
                std::to_string(kMaxImagePixels) + " pixels");
  }
  // No real image format packs more than ~1000 decoded bytes per file byte (deflate's
  // limit is 1032:1). A header promising far more is a truncated or forged file, and
  // decoding it would allocate and fill up to gigabytes from a few bytes.
  if (static_cast<std::int64_t>(w) * h * 3 > static_cast<std::int64_t>(size) * kMaxDecodeRatio) {
    throw Error(name + ": image header declares " + std::to_string(w) + "x" + std::to_string(h) + " pixels in a " +
                std::to_string(size) + "-byte file (truncated or corrupt)");
  }
}

// stb_image grows its IDAT buffer to each chunk's declared length before it reads the chunk, so a PNG whose
// chunk claims 2 GiB in a 100-byte file allocates 2 GiB (fuzz_image found it). Every chunk must fit in the
// file; stb's buffers then stay within twice the file's size.
void check_png_chunks(const std::uint8_t* data, size_t size, const std::string& name) {
  static const std::uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (size < 8 || !std::equal(kSignature, kSignature + 8, data)) return;
  size_t at = 8;
  while (at < size) {
    if (size - at < 12) throw Error(name + ": PNG chunk at byte " + std::to_string(at) + " is cut off (truncated file)");
    const std::uint64_t length = (std::uint64_t{data[at]} << 24) | (std::uint64_t{data[at + 1]} << 16) |
                                 (std::uint64_t{data[at + 2]} << 8) | data[at + 3];
    const std::string type(reinterpret_cast<const char*>(data + at + 4), 4);
    if (length > size - at - 12)
      throw Error(name + ": PNG chunk '" + type + "' at byte " + std::to_string(at) + " declares " + std::to_string(length) +
                  " bytes, past the end of the " + std::to_string(size) + "-byte file (truncated or corrupt)");
    at += 12 + static_cast<size_t>(length);
    if (type == "IEND") break;
  }
}

}  // namespace

Image decode_image(const std::uint8_t* data, size_t size, const std::string& name) {
  if (size == 0) throw Error(name + ": image file is empty");
  if (size > static_cast<size_t>(INT32_MAX)) throw Error(name + ": image file is larger than 2 GiB");
  const int len = static_cast<int>(size);
  if (loader::is_jpeg(data, size)) return loader::decode_jpeg(data, size, name, check_size);
  check_png_chunks(data, size, name);
  int w = 0, h = 0, channels = 0;
  if (!stbi_info_from_memory(data, len, &w, &h, &channels)) {
    throw Error(name + ": not a readable JPEG, PNG or BMP image (" + stbi_failure_reason() + ")");
  }
  check_size(w, h, size, name);
  stbi_uc* pixels = stbi_load_from_memory(data, len, &w, &h, &channels, 3);
  if (pixels == nullptr) throw Error(name + ": cannot decode image (" + stbi_failure_reason() + ")");
  Image img;
  img.width = w;
  img.height = h;
  img.rgb.assign(pixels, pixels + static_cast<size_t>(w) * h * 3);
  stbi_image_free(pixels);
  return img;
}

Image load_image(const std::string& path) {
  loader::MappedFile file(path);
  return decode_image(file.data(), file.size(), path);
}

}  // namespace y26
