#include "loader/jpeg_decode.h"

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <memory>
#include <vector>

// jpeglib.h needs FILE and size_t declared first.
#include <jpeglib.h>

namespace y26::loader {
namespace {

// libjpeg reports fatal errors by calling error_exit, which must not return: jump
// back into decode_jpeg and turn the message into a y26::Error there.
struct ErrorManager {
  jpeg_error_mgr base;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void on_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

void on_message(j_common_ptr, int) {}  // warnings (e.g. premature end of data) are not printed

// EXIF orientation (tag 0x0112) from an APP1 "Exif" marker; 1 when absent or unreadable.
int exif_orientation(const jpeg_decompress_struct& cinfo) {
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m != nullptr; m = m->next) {
    if (m->marker != JPEG_APP0 + 1 || m->data_length < 14) continue;
    const JOCTET* d = m->data;
    if (d[0] != 'E' || d[1] != 'x' || d[2] != 'i' || d[3] != 'f' || d[4] != 0 || d[5] != 0) continue;
    const JOCTET* t = d + 6;
    const std::size_t n = m->data_length - 6;
    const bool le = t[0] == 'I' && t[1] == 'I';
    if (!le && !(t[0] == 'M' && t[1] == 'M')) return 1;
    auto u16 = [&](std::size_t o) -> unsigned { return o + 2 > n ? 0u : le ? (t[o] | (t[o + 1] << 8)) : ((t[o] << 8) | t[o + 1]); };
    auto u32 = [&](std::size_t o) -> std::size_t { return (static_cast<std::size_t>(u16(le ? o + 2 : o)) << 16) | u16(le ? o : o + 2); };
    const std::size_t ifd = u32(4);
    const unsigned count = u16(ifd);
    for (unsigned i = 0; i < count; ++i) {
      const std::size_t e = ifd + 2 + 12 * static_cast<std::size_t>(i);
      if (e + 12 > n) break;
      if (u16(e) == 0x0112) {
        const unsigned v = u16(e + 8);
        return v >= 1 && v <= 8 ? static_cast<int>(v) : 1;
      }
    }
  }
  return 1;
}

// Rotates/flips so that the image displays upright (EXIF orientation 2..8).
Image apply_orientation(const Image& in, int orientation) {
  if (orientation <= 1) return in;
  const bool transpose = orientation >= 5;
  Image out;
  out.width = transpose ? in.height : in.width;
  out.height = transpose ? in.width : in.height;
  out.rgb.resize(in.rgb.size());
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      int sx = 0, sy = 0;
      switch (orientation) {
        case 2: sx = in.width - 1 - x, sy = y; break;                       // mirror
        case 3: sx = in.width - 1 - x, sy = in.height - 1 - y; break;       // rotate 180
        case 4: sx = x, sy = in.height - 1 - y; break;                      // flip vertical
        case 5: sx = y, sy = x; break;                                      // transpose
        case 6: sx = y, sy = in.height - 1 - x; break;                      // rotate 90 clockwise
        case 7: sx = in.width - 1 - y, sy = in.height - 1 - x; break;       // transverse
        case 8: sx = in.width - 1 - y, sy = x; break;                       // rotate 90 counter-clockwise
      }
      const std::uint8_t* s = in.pixel(sx, sy);
      std::uint8_t* d = out.pixel(x, y);
      d[0] = s[0], d[1] = s[1], d[2] = s[2];
    }
  }
  return out;
}

}  // namespace

Image decode_jpeg(const std::uint8_t* data, std::size_t size, const std::string& name,
                  void (*check_size)(int w, int h, std::size_t file_size, const std::string& name)) {
  // State that must survive a longjmp lives on the heap behind pointers that are set
  // before setjmp and never changed after it (locals changed in between would be
  // indeterminate after the jump).
  struct State {
    jpeg_decompress_struct cinfo{};
    ErrorManager err{};
    Image img;
    std::vector<JSAMPLE> row;
    ~State() { jpeg_destroy_decompress(&cinfo); }  // safe on a never-created or destroyed struct
  };
  const auto st = std::make_unique<State>();
  jpeg_decompress_struct& cinfo = st->cinfo;
  cinfo.err = jpeg_std_error(&st->err.base);
  st->err.base.error_exit = on_error;
  st->err.base.emit_message = on_message;
  if (setjmp(st->err.jump)) throw Error(name + ": cannot decode JPEG (" + st->err.message + ")");
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
  jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xffff);
  jpeg_read_header(&cinfo, TRUE);
  check_size(static_cast<int>(cinfo.image_width), static_cast<int>(cinfo.image_height), size, name);
  const bool cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  Image& img = st->img;
  img.width = static_cast<int>(cinfo.output_width);
  img.height = static_cast<int>(cinfo.output_height);
  img.rgb.resize(static_cast<std::size_t>(img.width) * img.height * 3);
  st->row.resize(static_cast<std::size_t>(img.width) * static_cast<std::size_t>(cinfo.output_components));
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW rows[1] = {st->row.data()};
    const int y = static_cast<int>(cinfo.output_scanline);
    jpeg_read_scanlines(&cinfo, rows, 1);
    std::uint8_t* dst = img.pixel(0, y);
    const JSAMPLE* src = st->row.data();
    if (!cmyk) {
      std::copy(src, src + st->row.size(), dst);
      continue;
    }
    for (int x = 0; x < img.width; ++x) {  // Adobe (inverted) CMYK to RGB, as OpenCV converts it
      const int c = src[4 * x], m = src[4 * x + 1], ye = src[4 * x + 2], k = src[4 * x + 3];
      dst[3 * x + 0] = static_cast<std::uint8_t>(k - (((255 - c) * k) >> 8));
      dst[3 * x + 1] = static_cast<std::uint8_t>(k - (((255 - m) * k) >> 8));
      dst[3 * x + 2] = static_cast<std::uint8_t>(k - (((255 - ye) * k) >> 8));
    }
  }
  const int orientation = exif_orientation(cinfo);
  jpeg_finish_decompress(&cinfo);
  return apply_orientation(img, orientation);
}

}  // namespace y26::loader
