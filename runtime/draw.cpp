// Annotated output images: segmentation masks (translucent), boxes (rotated ones corner to corner), pose
// skeletons and "name score" labels in a built-in bitmap font (runtime/font6x11.inc), colours from
// Ultralytics' palette.
#include <stb_image_write.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "loader/atomic_file.h"
#include "y26/y26.h"

namespace y26 {
namespace {

#include "runtime/font6x11.inc"

constexpr std::uint32_t kPalette[] = {0xFF3838, 0xFF9D97, 0xFF701F, 0xFFB21D, 0xCFD231, 0x48F90A, 0x92CC17,
                                      0x3DDB86, 0x1A9334, 0x00D4BB, 0x2C99A8, 0x00C2FF, 0x344593, 0x6473FF,
                                      0x0018EC, 0x8438FF, 0x520085, 0xCB38FF, 0xFF95C8, 0xFF37C7};

void fill_rect(Image& img, int x0, int y0, int x1, int y1, std::uint32_t rgb) {
  x0 = std::max(x0, 0), y0 = std::max(y0, 0), x1 = std::min(x1, img.width), y1 = std::min(y1, img.height);
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x < x1; ++x) {
      std::uint8_t* p = img.pixel(x, y);
      p[0] = static_cast<std::uint8_t>(rgb >> 16), p[1] = static_cast<std::uint8_t>(rgb >> 8), p[2] = static_cast<std::uint8_t>(rgb);
    }
  }
}

void draw_text(Image& img, int x0, int y0, const std::string& text, int scale, std::uint32_t rgb) {
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const unsigned char* glyph = kGlyphs[(c >= 32 && c < 127) ? c - 32 : '?' - 32];
    for (int gy = 0; gy < kGlyphH; ++gy) {
      for (int gx = 0; gx < kGlyphW; ++gx) {
        if (glyph[gy] & (1 << (kGlyphW - 1 - gx))) {
          const int px = x0 + (static_cast<int>(i) * kGlyphW + gx) * scale, py = y0 + gy * scale;
          fill_rect(img, px, py, px + scale, py + scale, rgb);
        }
      }
    }
  }
}

// A line `thick` pixels wide: a square brush stepped one pixel at a time along the longer axis.
void draw_line(Image& img, float x0, float y0, float x1, float y1, int thick, std::uint32_t rgb) {
  const float dx = x1 - x0, dy = y1 - y0;
  const int steps = std::max(1, static_cast<int>(std::ceil(std::max(std::fabs(dx), std::fabs(dy)))));
  if (steps > 4 * (img.width + img.height)) return;  // far outside the image (a box of absurd size): nothing to see
  const int lo = thick / 2;
  for (int i = 0; i <= steps; ++i) {
    const int x = static_cast<int>(std::lround(x0 + dx * static_cast<float>(i) / static_cast<float>(steps)));
    const int y = static_cast<int>(std::lround(y0 + dy * static_cast<float>(i) / static_cast<float>(steps)));
    fill_rect(img, x - lo, y - lo, x - lo + thick, y - lo + thick, rgb);
  }
}

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  if (s.size() < n) return false;
  for (size_t i = 0; i < n; ++i) {
    if (std::tolower(static_cast<unsigned char>(s[s.size() - n + i])) != suffix[i]) return false;
  }
  return true;
}

// stb's writers cannot report I/O errors; a short write leaves the stream's error flag set.
void write_to_file(void* context, void* data, int size) {
  std::fwrite(data, 1, static_cast<size_t>(size), static_cast<std::FILE*>(context));
}

}  // namespace

void fill_circle(Image& img, float cx, float cy, int r, std::uint32_t rgb) {
  for (int dy = -r; dy <= r; ++dy)
    for (int dx = -r; dx <= r; ++dx)
      if (dx * dx + dy * dy <= r * r) {
        const int x = static_cast<int>(std::lround(cx)) + dx, y = static_cast<int>(std::lround(cy)) + dy;
        fill_rect(img, x, y, x + 1, y + 1, rgb);
      }
}

// Ultralytics' pose palette and the COCO skeleton it draws for 17-keypoint models (Annotator.kpts):
// limbs between keypoints both visible above 0.25, each keypoint a dot.
constexpr std::uint32_t kPosePalette[] = {0xFF8000, 0xFF9933, 0xFFB266, 0xE6E600, 0xFF99FF, 0x99CCFF, 0xFF66FF,
                                          0xFF33FF, 0x66B2FF, 0x3399FF, 0xFF9999, 0xFF6666, 0xFF3333, 0x99FF99,
                                          0x66FF66, 0x33FF33, 0x00FF00, 0x0000FF, 0xFF0000, 0xFFFFFF};
constexpr int kSkeleton[19][2] = {{16, 14}, {14, 12}, {17, 15}, {15, 13}, {12, 13}, {6, 12}, {7, 13}, {6, 7}, {6, 8}, {7, 9},
                                  {8, 10}, {9, 11}, {2, 3}, {1, 2}, {1, 3}, {2, 4}, {3, 5}, {4, 6}, {5, 7}};
constexpr int kLimbColour[19] = {9, 9, 9, 9, 7, 7, 7, 0, 0, 0, 0, 0, 16, 16, 16, 16, 16, 16, 16};
constexpr int kKeypointColour[17] = {16, 16, 16, 16, 16, 0, 0, 0, 0, 0, 0, 9, 9, 9, 9, 9, 9};
constexpr float kKeypointConf = 0.25f;

void draw_keypoints(Image& img, const std::vector<Keypoint>& k, int thick) {
  const bool coco = k.size() == 17;
  if (coco) {
    for (size_t i = 0; i < 19; ++i) {
      const Keypoint& a = k[static_cast<size_t>(kSkeleton[i][0] - 1)];
      const Keypoint& b = k[static_cast<size_t>(kSkeleton[i][1] - 1)];
      if (a.visible < kKeypointConf || b.visible < kKeypointConf) continue;
      draw_line(img, a.x, a.y, b.x, b.y, thick, kPosePalette[kLimbColour[i]]);
    }
  }
  const int r = std::max(2, thick + 2);
  for (size_t i = 0; i < k.size(); ++i) {
    if (k[i].visible < kKeypointConf) continue;
    fill_circle(img, k[i].x, k[i].y, r, coco ? kPosePalette[kKeypointColour[i]] : kPalette[i % std::size(kPalette)]);
  }
}

// A segmentation mask blended into the image in its class's colour, half and half (Ultralytics' alpha 0.5).
void blend_mask(Image& img, const Mask& m, std::uint32_t rgb) {
  const int c[3] = {static_cast<int>((rgb >> 16) & 0xff), static_cast<int>((rgb >> 8) & 0xff), static_cast<int>(rgb & 0xff)};
  for (int y = std::max(m.y, 0); y < std::min(m.y + m.height, img.height); ++y)
    for (int x = std::max(m.x, 0); x < std::min(m.x + m.width, img.width); ++x) {
      if (!m.pixels[static_cast<size_t>(y - m.y) * m.width + (x - m.x)]) continue;
      std::uint8_t* p = img.pixel(x, y);
      for (int k = 0; k < 3; ++k) p[k] = static_cast<std::uint8_t>((p[k] + c[k] + 1) / 2);
    }
}

void draw_detections(Image& img, const std::vector<Detection>& dets, const std::vector<std::string>& names) {
  const int side = std::min(img.width, img.height);
  const int thick = std::max(1, static_cast<int>(std::lround(side / 300.0)));
  const int scale = std::max(1, side / 400);
  // Lowest score first, so the most confident boxes and labels end up on top.
  std::vector<const Detection*> order;
  for (const auto& d : dets) order.push_back(&d);
  std::sort(order.begin(), order.end(), [](const Detection* a, const Detection* b) { return a->score < b->score; });
  for (const Detection* d : order)  // masks under every box and label
    if (d->mask.width > 0) blend_mask(img, d->mask, kPalette[static_cast<size_t>(d->cls) % std::size(kPalette)]);
  for (const Detection* d : order) {
    const std::uint32_t colour = kPalette[static_cast<size_t>(d->cls) % std::size(kPalette)];
    const int x1 = static_cast<int>(std::lround(d->x1)), y1 = static_cast<int>(std::lround(d->y1));
    const int x2 = static_cast<int>(std::lround(d->x2)), y2 = static_cast<int>(std::lround(d->y2));
    if (d->obb) {  // the rotated rectangle, corner to corner
      const auto c = d->corners();
      for (size_t k = 0; k < 4; ++k) draw_line(img, c[k][0], c[k][1], c[(k + 1) % 4][0], c[(k + 1) % 4][1], thick, colour);
    } else {
      fill_rect(img, x1, y1, x2 + 1, y1 + thick, colour);
      fill_rect(img, x1, y2 - thick + 1, x2 + 1, y2 + 1, colour);
      fill_rect(img, x1, y1, x1 + thick, y2 + 1, colour);
      fill_rect(img, x2 - thick + 1, y1, x2 + 1, y2 + 1, colour);
    }
    char score[16];
    std::snprintf(score, sizeof score, " %.2f", static_cast<double>(d->score));
    const std::string name = d->cls >= 0 && static_cast<size_t>(d->cls) < names.size() ? names[static_cast<size_t>(d->cls)] : std::to_string(d->cls);
    const std::string label = name + score;
    const int lw = static_cast<int>(label.size()) * kGlyphW * scale + 2 * scale, lh = (kGlyphH + 2) * scale;
    const int ly = y1 - lh >= 0 ? y1 - lh : y1;  // above the box, or inside it at the top edge
    fill_rect(img, x1, ly, x1 + lw, ly + lh, colour);
    const bool light = ((colour >> 16) & 0xff) * 299 + ((colour >> 8) & 0xff) * 587 + (colour & 0xff) * 114 > 140000;
    draw_text(img, x1 + scale, ly + scale, label, scale, light ? 0x000000 : 0xFFFFFF);
    if (!d->keypoints.empty()) draw_keypoints(img, d->keypoints, thick);
  }
}

void draw_classification(Image& img, const Classification& c, const std::vector<std::string>& names, int top) {
  // As Ultralytics' Results.plot for probs: the top classes, "name 0.87" a line each, at 3% of the height
  // from the top-left corner, white on dark grey.
  const int scale = std::max(1, std::min(img.width, img.height) / 400);
  const int x0 = static_cast<int>(std::lround(img.height * 0.03));
  int y = x0;
  for (int k : c.top(top)) {
    char prob[16];
    std::snprintf(prob, sizeof prob, " %.2f", static_cast<double>(c.probs[static_cast<size_t>(k)]));
    const std::string label = (static_cast<size_t>(k) < names.size() ? names[static_cast<size_t>(k)] : std::to_string(k)) + prob;
    const int lw = static_cast<int>(label.size()) * kGlyphW * scale + 2 * scale, lh = (kGlyphH + 2) * scale;
    fill_rect(img, x0, y, x0 + lw, y + lh, 0x404040);
    draw_text(img, x0 + scale, y + scale, label, scale, 0xFFFFFF);
    y += lh;
  }
}

void save_image(const Image& img, const std::string& path) {
  if (img.width <= 0 || img.height <= 0 || img.rgb.size() != static_cast<size_t>(img.width) * img.height * 3) {
    throw Error(path + ": image to save has no pixels");
  }
  const bool jpg = ends_with(path, ".jpg") || ends_with(path, ".jpeg");
  const bool png = ends_with(path, ".png"), bmp = ends_with(path, ".bmp");
  if (!jpg && !png && !bmp) throw Error(path + ": output images must end in .jpg, .jpeg, .png or .bmp");
  loader::write_file_atomically(path, [&](std::FILE* f) {
    if (jpg) return stbi_write_jpg_to_func(write_to_file, f, img.width, img.height, 3, img.rgb.data(), 95) != 0;
    if (png) return stbi_write_png_to_func(write_to_file, f, img.width, img.height, 3, img.rgb.data(), img.width * 3) != 0;
    return stbi_write_bmp_to_func(write_to_file, f, img.width, img.height, 3, img.rgb.data()) != 0;
  });
}

}  // namespace y26
